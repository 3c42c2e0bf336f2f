//! The world: hosts, segments, the event queue, applications and the trace.
//!
//! ```text
//!  client ──seg lan── router ──seg dmz── director ── real servers
//!     │                                    │
//!     └─ events: frame deliveries, timers, app steps, timed commands
//! ```
//!
//! Everything that happens is an [`Event`] popped from the queue in
//! `(time, seq)` order; handling an event may push more events (a frame
//! crossing a link arrives `latency + size/bandwidth` later). Within a host,
//! processing is instantaneous: a frame's whole path through PREROUTING,
//! routing, INPUT/FORWARD, OUTPUT and POSTROUTING happens at one instant.

use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::engine::EventQueue;
use crate::host::{Host, HostId};
use crate::packet::{Frame, MacAddr};
use crate::rng::{self, SimRng};
use crate::time::{SimDuration, SimTime};
use crate::trace::{Trace, TraceKind, TraceLevel};

pub mod apps;
pub mod httpd_model;
pub mod ip;
pub mod keepalived;
pub mod link;
pub mod lvs;
pub mod summary;
pub mod tcp;

pub use apps::{ClientApp, CurlOutcome, CurlResult, CurlTally, LoopSpec};

/// An L2 broadcast domain (a switch with ideal MAC learning).
#[derive(Clone, Debug)]
pub struct Segment {
    /// Name in the scenario.
    pub name: String,
    /// One-way latency of each link.
    pub latency: SimDuration,
    /// Link speed in bits per second.
    pub bandwidth_bps: u64,
    /// Attached (host, interface index) pairs.
    pub ports: Vec<(HostId, usize)>,
}

/// A command scheduled at a time (faults such as `poweroff`).
#[derive(Clone, Debug)]
pub struct TimedAction {
    /// When.
    pub at: SimTime,
    /// Which host.
    pub host: HostId,
    /// The command line.
    pub command: String,
}

/// Something that happens at an instant.
#[derive(Clone, Debug)]
pub enum Event {
    /// A frame reaches interface `iface` of `host`.
    Deliver {
        /// Receiving host.
        host: HostId,
        /// Receiving interface.
        iface: usize,
        /// The frame.
        frame: Frame,
    },
    /// ARP retransmission / DELAY→PROBE timer.
    NeighTimer {
        /// Host.
        host: HostId,
        /// Interface.
        iface: usize,
        /// Neighbour address.
        ip: Ipv4Addr,
        /// Generation.
        epoch: u64,
    },
    /// TCP retransmission timer.
    TcpTimer {
        /// Host.
        host: HostId,
        /// Socket.
        key: crate::host::tcp::SockKey,
        /// Generation.
        epoch: u64,
    },
    /// A client app starts its next curl.
    AppStart {
        /// App index.
        app: usize,
    },
    /// A curl's `--max-time` expired.
    AppTimeout {
        /// App index.
        app: usize,
        /// Which invocation.
        run: u64,
    },
    /// A timed command runs.
    Action {
        /// Index into the world's actions.
        idx: usize,
    },
    /// An httpd worker finished a request (hosts with a `[[server]]` model).
    HttpdDone {
        /// Host.
        host: HostId,
        /// Request id within the host's model.
        id: u32,
    },
    /// A keepalived timer (VRRP, GARP, checker).
    Keepalived {
        /// Host.
        host: HostId,
        /// keepalived generation when armed (a restart makes it stale).
        generation: u64,
        /// Which timer.
        timer: crate::keepalived::Timer,
    },
}

/// Counters per host for the run summary.
#[derive(Clone, Debug, Default)]
pub struct HostCounters {
    /// Frames received.
    pub rx: u64,
    /// Frames sent.
    pub tx: u64,
}

/// The simulated world.
#[derive(Debug)]
pub struct World {
    /// Current virtual time.
    pub now: SimTime,
    /// Pending events.
    pub queue: EventQueue<Event>,
    /// Hosts.
    pub hosts: Vec<Host>,
    /// Host names as shared strings (for trace records).
    pub host_names: Vec<Arc<str>>,
    /// Segments.
    pub segments: Vec<Segment>,
    /// The trace.
    pub trace: Trace,
    /// Root seed.
    pub seed: u64,
    /// Per-host random streams (`host/<name>`).
    pub host_rng: Vec<SimRng>,
    /// Per-host IPVS random streams (`ipvs/<name>`, used by `twos`).
    pub ipvs_rng: Vec<SimRng>,
    /// Client applications (curl loops).
    pub apps: Vec<ClientApp>,
    /// Timed commands.
    pub actions: Vec<TimedAction>,
    /// Per-host counters.
    pub counters: Vec<HostCounters>,
    /// Drops by reason.
    pub drops: std::collections::BTreeMap<String, u64>,
    /// Events handled so far.
    pub events_handled: u64,
    /// Keep every finished curl in `ClientApp::results` (default). A
    /// benchmark turns this off: its million curls are only counted in
    /// `ClientApp::tally`.
    pub keep_curl_results: bool,
    /// httpd capacity models by host (`[[server]]` sections).
    pub httpd_models: std::collections::BTreeMap<HostId, httpd_model::HttpdModel>,
}

impl World {
    /// An empty world with `seed` and trace `level`.
    #[must_use]
    pub fn new(seed: u64, level: TraceLevel) -> Self {
        World {
            now: SimTime::ZERO,
            queue: EventQueue::new(),
            hosts: Vec::new(),
            host_names: Vec::new(),
            segments: Vec::new(),
            trace: Trace::new(level),
            seed,
            host_rng: Vec::new(),
            ipvs_rng: Vec::new(),
            apps: Vec::new(),
            actions: Vec::new(),
            counters: Vec::new(),
            drops: std::collections::BTreeMap::new(),
            events_handled: 0,
            keep_curl_results: true,
            httpd_models: std::collections::BTreeMap::new(),
        }
    }

    /// Adds a segment; returns its index.
    pub fn add_segment(&mut self, name: &str, latency: SimDuration, bandwidth_bps: u64) -> usize {
        self.segments.push(Segment {
            name: name.into(),
            latency,
            bandwidth_bps,
            ports: vec![],
        });
        self.segments.len() - 1
    }

    /// Adds a host with only `lo`; returns its id.
    pub fn add_host(&mut self, name: &str) -> HostId {
        let id = self.hosts.len();
        self.hosts.push(Host::new(id, name));
        self.host_names.push(Arc::from(name));
        let mut r = rng::stream(self.seed, &format!("host/{name}"));
        self.hosts[id].tcp.next_port = 32768 + (rng::below(&mut r, 28232) as u16);
        self.host_rng.push(r);
        self.ipvs_rng
            .push(rng::stream(self.seed, &format!("ipvs/{name}")));
        self.counters.push(HostCounters::default());
        id
    }

    /// Cables a new NIC `ifname` of `host` to `segment`.
    pub fn add_nic(&mut self, host: HostId, ifname: &str, mac: MacAddr, segment: usize) -> usize {
        let i = self.hosts[host].add_ether(ifname, mac, segment);
        self.segments[segment].ports.push((host, i));
        i
    }

    /// Looks a host up by scenario name.
    #[must_use]
    pub fn host_id(&self, name: &str) -> Option<HostId> {
        self.hosts.iter().position(|h| h.name == name)
    }

    /// Records a trace entry if the level allows (`full` = needs Full).
    pub(crate) fn tr(&mut self, host: HostId, full: bool, kind: TraceKind) {
        let ok = if full {
            self.trace.full()
        } else {
            self.trace.events()
        };
        if ok {
            let name = Arc::clone(&self.host_names[host]);
            self.trace.push(self.now, &name, kind);
        }
    }

    /// Counts a drop and records it.
    pub(crate) fn drop_pkt(&mut self, host: HostId, reason: &str) {
        *self
            .drops
            .entry(format!("{}: {reason}", self.host_names[host]))
            .or_insert(0) += 1;
        self.tr(
            host,
            false,
            TraceKind::Drop {
                reason: reason.to_string(),
            },
        );
    }

    /// Processes the next event; returns its time, or `None` when idle.
    pub fn step(&mut self) -> Option<SimTime> {
        let (t, ev) = self.queue.pop()?;
        debug_assert!(t >= self.now, "time never goes backwards");
        self.now = t;
        self.events_handled += 1;
        self.handle(ev);
        Some(t)
    }

    /// Processes every event up to and including `deadline`, then sets the
    /// clock to `deadline`.
    pub fn step_until(&mut self, deadline: SimTime) {
        while self.queue.peek_time().is_some_and(|t| t <= deadline) {
            self.step();
        }
        if deadline > self.now {
            self.now = deadline;
        }
    }

    /// As [`World::step_until`], but hands the trace's records to `drain`
    /// whenever `batch` or more have piled up, and once more at the end,
    /// leaving the trace empty: a front end streams a long trace this way
    /// instead of holding all of it. The run itself is the same (the
    /// simulation never reads its trace back).
    ///
    /// # Errors
    /// The first error `drain` returns (the run stops there).
    pub fn step_until_draining<E>(
        &mut self,
        deadline: SimTime,
        batch: usize,
        mut drain: impl FnMut(&[crate::trace::TraceRecord]) -> Result<(), E>,
    ) -> Result<(), E> {
        while self.queue.peek_time().is_some_and(|t| t <= deadline) {
            self.step();
            if self.trace.records.len() >= batch {
                drain(&self.trace.records)?;
                self.trace.records.clear();
            }
        }
        // (No event is due any more: this only moves the clock.)
        self.step_until(deadline);
        drain(&self.trace.records)?;
        self.trace.records.clear();
        Ok(())
    }

    /// Runs until no event is left (beware: VRRP adverts never stop).
    pub fn run(&mut self) {
        while self.step().is_some() {}
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Deliver { host, iface, frame } => self.deliver(host, iface, frame),
            Event::NeighTimer {
                host,
                iface,
                ip,
                epoch,
            } => self.neigh_timer(host, iface, ip, epoch),
            Event::TcpTimer { host, key, epoch } => self.tcp_timer(host, key, epoch),
            Event::AppStart { app } => self.app_start(app),
            Event::AppTimeout { app, run } => self.app_timeout(app, run),
            Event::Action { idx } => self.run_action(idx),
            Event::HttpdDone { host, id } => self.httpd_done(host, id),
            Event::Keepalived {
                host,
                generation,
                timer,
            } => self.keepalived_timer(host, generation, timer),
        }
    }

    /// Schedules a timed command.
    pub fn schedule_action(&mut self, at: SimTime, host: HostId, command: &str) {
        let idx = self.actions.len();
        self.actions.push(TimedAction {
            at,
            host,
            command: command.to_string(),
        });
        self.queue.push(at, Event::Action { idx });
    }

    fn run_action(&mut self, idx: usize) {
        let Some(a) = self.actions.get(idx).cloned() else {
            return;
        };
        let out = crate::shell::run_line(self, a.host, &a.command);
        let note = match out {
            Ok(o) => o.note_or_output(),
            Err(e) => format!("error: {e}"),
        };
        self.tr(
            a.host,
            false,
            TraceKind::Command {
                cmd: a.command,
                note,
            },
        );
    }
}
