//! The application state. Only `update` mutates it; the view reads it.

use std::net::Ipv4Addr;

use sim_core::host::HostId;
use sim_core::world::World;

use super::classify::{Filter, Lab};
use super::explain::Lang;
use super::timeline::{Pos, Timeline};

/// Which pane has the keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Focus {
    /// The event log.
    #[default]
    Log,
    /// The packet inspector.
    Inspector,
    /// The host view.
    Host,
}

impl Focus {
    /// The next pane (`tab`).
    #[must_use]
    pub fn next(self) -> Focus {
        match self {
            Focus::Log => Focus::Inspector,
            Focus::Inspector => Focus::Host,
            Focus::Host => Focus::Log,
        }
    }
    /// The previous pane (`shift-tab`).
    #[must_use]
    pub fn prev(self) -> Focus {
        self.next().next()
    }
}

/// A modal overlay.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Popup {
    /// None.
    #[default]
    None,
    /// Key help.
    Help,
    /// The fault menu, with the highlighted row.
    Faults(usize),
    /// "Jump to time" with the text typed so far and an error, if any.
    Goto(String, Option<String>),
}

/// An address on a host box.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddrSnap {
    /// Label (`ens33`, `ens33:0`, `lo:0`).
    pub label: String,
    /// Address.
    pub addr: Ipv4Addr,
    /// Prefix length.
    pub prefix: u8,
    /// Is a VIP.
    pub vip: bool,
    /// Is on a NIC that is up (not lo): the host answers ARP for it.
    pub on_nic: bool,
}

/// A host as the topology shows it at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSnap {
    /// Name.
    pub name: String,
    /// Powered on.
    pub powered: bool,
    /// Its addresses (127/8 left out).
    pub addrs: Vec<AddrSnap>,
    /// NICs that are down.
    pub down: Vec<String>,
    /// httpd is running.
    pub httpd: bool,
}

impl HostSnap {
    /// Holds a VIP on a NIC (answers for it now).
    #[must_use]
    pub fn holds_vip(&self) -> bool {
        self.powered && self.addrs.iter().any(|a| a.vip && a.on_nic)
    }
}

/// A host's segments (static: cabling does not change).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cabling {
    /// Segment names.
    pub segments: Vec<String>,
    /// Per host: the segments it has a NIC on (sorted, deduplicated).
    pub host_segments: Vec<Vec<usize>>,
    /// Per host: it runs client apps.
    pub is_client: Vec<bool>,
    /// Per host: it is a director (IPVS services or keepalived.conf).
    pub is_director: Vec<bool>,
}

/// The fault menu entries: (host, command).
pub type FaultMenu = Vec<(HostId, String)>;

/// What the view needs from the world at the cursor.
#[derive(Clone, Debug, Default)]
pub struct Snap {
    /// The world position it was taken at.
    pub pos: Option<Pos>,
    /// Per host.
    pub hosts: Vec<HostSnap>,
    /// The host view: host and the commands' output.
    pub host_view: Option<(HostId, String)>,
    /// Faults that can be injected now.
    pub faults: FaultMenu,
}

/// Wall-clock pacing of "play".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Play {
    /// Playing.
    pub on: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// Fraction of the way to the next event, for animation (0..1).
    pub phase: f64,
}

/// Events per second at each speed step.
pub const SPEEDS: [u32; 10] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/// The whole state of the TUI.
#[derive(Debug)]
pub struct App {
    /// The run.
    pub tl: Timeline,
    /// Lab facts for colours and filters.
    pub lab: Lab,
    /// Cabling for the topology.
    pub cabling: Cabling,
    /// Selected record.
    pub cursor: usize,
    /// Play state.
    pub play: Play,
    /// Event filter.
    pub filter: Filter,
    /// Keyboard focus.
    pub focus: Focus,
    /// Language.
    pub lang: Lang,
    /// Overlay.
    pub popup: Popup,
    /// Host shown in the host view.
    pub host: HostId,
    /// Scroll offsets of the inspector and the host view.
    pub scroll: [u16; 2],
    /// The log's highlighted row (a record index), when it differs from
    /// the cursor (moved with ↑/↓, jumped to with Enter).
    pub log_sel: Option<usize>,
    /// Terminal size, for mouse hit-testing.
    pub size: (u16, u16),
    /// World facts at the cursor.
    pub snap: Snap,
    /// A message for the status line.
    pub status: Option<String>,
    /// Background work (checkpoint rebuilding) remains.
    pub busy: bool,
    /// Set by `q` / Ctrl-C.
    pub quit: bool,
}

fn cabling(w: &World) -> Cabling {
    let host_segments = w
        .hosts
        .iter()
        .map(|h| {
            let mut s: Vec<usize> = h.ifaces.iter().filter_map(|i| i.segment).collect();
            s.sort_unstable();
            s.dedup();
            s
        })
        .collect();
    let is_client = (0..w.hosts.len())
        .map(|h| w.apps.iter().any(|a| a.host == h))
        .collect();
    let is_director = w
        .hosts
        .iter()
        .map(|h| {
            h.ipvs.services().next().is_some()
                || h.files.contains_key("/etc/keepalived/keepalived.conf")
        })
        .collect();
    Cabling {
        segments: w.segments.iter().map(|s| s.name.clone()).collect(),
        host_segments,
        is_client,
        is_director,
    }
}

impl App {
    /// A new app on a timeline, at its first record.
    #[must_use]
    pub fn new(tl: Timeline, lang: Lang) -> App {
        let w = tl.frontier();
        let lab = Lab::of(w);
        let cabling = cabling(w);
        let host = cabling.is_client.iter().position(|c| *c).unwrap_or(0);
        let mut app = App {
            tl,
            lab,
            cabling,
            cursor: 0,
            play: Play {
                on: false,
                speed: 2,
                phase: 0.0,
            },
            filter: Filter::All,
            focus: Focus::Log,
            lang,
            popup: Popup::None,
            host,
            scroll: [0, 0],
            log_sel: None,
            size: (80, 24),
            snap: Snap::default(),
            status: None,
            busy: true,
            quit: false,
        };
        app.tl.ensure(0);
        super::update::refresh(&mut app);
        app
    }
}
