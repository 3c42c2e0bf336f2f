//! The ARP (neighbour) cache with Linux's NUD states.
//!
//! States and timers follow `net/core/neighbour.c` with the defaults of
//! `net.ipv4.neigh.default.*`: an entry confirmed by an ARP reply is
//! REACHABLE for a random time in [base/2, 3·base/2] (base 30 s), then STALE.
//! Sending through a STALE entry moves it to DELAY; after 5 s without
//! confirmation it goes to PROBE (3 unicast requests, 1 s apart), then
//! FAILED. An unresolved address is INCOMPLETE while up to 3 broadcast
//! requests are sent 1 s apart; packets wait in a queue (at most 101, the
//! kernel's `unres_qlen`) and are dropped if resolution fails.
//!
//! Simplification: reachability confirmation by upper layers (TCP) is
//! modelled as "a TCP segment with ACK arrived from that neighbour's MAC".

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::packet::{Ipv4Packet, MacAddr};
use crate::time::{SimDuration, SimTime};

/// Linux neighbour (NUD) states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NudState {
    /// Resolution in progress.
    Incomplete,
    /// Recently confirmed.
    Reachable,
    /// Usable, not recently confirmed.
    Stale,
    /// Used while stale; waiting before probing.
    Delay,
    /// Probing with unicast requests.
    Probe,
    /// Resolution failed.
    Failed,
    /// Added by `ip neigh add … nud permanent` / `arp -s`.
    Permanent,
}

impl NudState {
    /// The name `ip neigh` prints.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            NudState::Incomplete => "INCOMPLETE",
            NudState::Reachable => "REACHABLE",
            NudState::Stale => "STALE",
            NudState::Delay => "DELAY",
            NudState::Probe => "PROBE",
            NudState::Failed => "FAILED",
            NudState::Permanent => "PERMANENT",
        }
    }
}

/// kernel `unres_qlen` default (packets queued per unresolved neighbour).
pub const UNRES_QLEN: usize = 101;

/// One cache entry.
#[derive(Clone, Debug)]
pub struct NeighEntry {
    /// Hardware address, when known.
    pub mac: Option<MacAddr>,
    /// State as last set (REACHABLE decays to STALE lazily, see [`Self::state_at`]).
    pub state: NudState,
    /// Last confirmation time.
    pub confirmed: SimTime,
    /// How long a confirmation keeps the entry REACHABLE.
    pub reachable_time: SimDuration,
    /// Probes sent in the current INCOMPLETE/PROBE phase.
    pub probes: u32,
    /// Packets waiting for resolution, with the source address to use.
    pub queue: Vec<Ipv4Packet>,
    /// Timer generation: a timer event carrying an older value is stale.
    pub epoch: u64,
    /// When the hardware address was last set (`n->updated`, for locktime).
    pub updated: SimTime,
}

impl NeighEntry {
    /// The state at `now` (REACHABLE turns STALE once reachable_time passed).
    #[must_use]
    pub fn state_at(&self, now: SimTime) -> NudState {
        if self.state == NudState::Reachable && now >= self.confirmed + self.reachable_time {
            NudState::Stale
        } else {
            self.state
        }
    }
}

/// The cache: entries keyed by (interface index in the host, address).
#[derive(Clone, Debug, Default)]
pub struct NeighTable {
    /// Entries in a stable order.
    pub entries: BTreeMap<(usize, Ipv4Addr), NeighEntry>,
}

impl NeighTable {
    /// The entry for `ip` on interface `iface`.
    #[must_use]
    pub fn get(&self, iface: usize, ip: Ipv4Addr) -> Option<&NeighEntry> {
        self.entries.get(&(iface, ip))
    }

    /// Mutable entry.
    pub fn get_mut(&mut self, iface: usize, ip: Ipv4Addr) -> Option<&mut NeighEntry> {
        self.entries.get_mut(&(iface, ip))
    }

    /// Creates an INCOMPLETE entry (or returns the existing one).
    pub fn incomplete(&mut self, iface: usize, ip: Ipv4Addr) -> &mut NeighEntry {
        self.entries
            .entry((iface, ip))
            .or_insert_with(|| NeighEntry {
                mac: None,
                state: NudState::Incomplete,
                confirmed: SimTime::ZERO,
                reachable_time: SimDuration::ZERO,
                probes: 0,
                queue: Vec::new(),
                epoch: 0,
                updated: SimTime::ZERO,
            })
    }

    /// Forgets every entry on an interface (link down flushes the cache).
    pub fn flush_iface(&mut self, iface: usize) {
        self.entries
            .retain(|(i, _), e| *i != iface || e.state == NudState::Permanent);
    }

    /// `ip neigh` lines (iproute2 layout) at `now`; `names` maps an
    /// interface index to its kernel name.
    #[must_use]
    pub fn render(&self, now: SimTime, names: &dyn Fn(usize) -> String) -> String {
        let mut out = String::new();
        for ((iface, ip), e) in &self.entries {
            let st = e.state_at(now);
            let _ = write!(out, "{ip} dev {}", names(*iface));
            match (e.mac, st) {
                (Some(m), s) if s != NudState::Incomplete && s != NudState::Failed => {
                    let _ = write!(out, " lladdr {m}");
                }
                _ => {}
            }
            let _ = writeln!(out, " {}", st.name());
        }
        out
    }
}
