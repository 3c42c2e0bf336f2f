//! The trace: every hop, hook, decision and its reason, in time order.
//!
//! A record is `(time, host, kind)`. The text form is one line per record:
//! `t=1.000250000s lvs PREROUTING ACCEPT IP 192.168.59.133.41000 > …`.
//! Front ends (CLI, TUI, reports, pcap) read records; sim-core never prints.

use std::fmt;
use std::sync::Arc;

use crate::host::netfilter::{Hook, Verdict};
use crate::packet::Frame;
use crate::time::SimTime;

/// How much the world records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TraceLevel {
    /// Nothing (benchmarks, sweeps).
    Off,
    /// Application results, VRRP, IPVS decisions, drops, actions.
    Events,
    /// Everything, including each frame on each wire and every hook.
    Full,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TraceKind {
    /// A frame left an interface.
    Tx {
        /// Interface name.
        iface: Arc<str>,
        /// The frame.
        frame: Frame,
    },
    /// A frame arrived at an interface.
    Rx {
        /// Interface name.
        iface: Arc<str>,
        /// The frame.
        frame: Frame,
    },
    /// A netfilter hook was traversed.
    Hook {
        /// Which hook.
        hook: Hook,
        /// Its verdict.
        verdict: Verdict,
        /// The packet as it was at the hook.
        frame: Frame,
    },
    /// A routing decision.
    Route {
        /// In words: `local delivery`, `forward via 10.0.0.254 dev eth1`, …
        text: String,
    },
    /// IPVS decided something (schedule, persistence, no destination…).
    Ipvs {
        /// In words.
        text: String,
    },
    /// A header was rewritten (NAT, DR MAC change, IPIP encapsulation).
    Rewrite {
        /// What changed, in words.
        text: String,
        /// Before.
        before: Frame,
        /// After.
        after: Frame,
    },
    /// A packet was dropped.
    Drop {
        /// Why.
        reason: String,
    },
    /// ARP cache change.
    Neigh {
        /// In words.
        text: String,
    },
    /// An application event (curl result, httpd request).
    App {
        /// In words.
        text: String,
    },
    /// A command ran (setup or timed action) and what it printed.
    Command {
        /// The command line.
        cmd: String,
        /// A short note (`no effect in the lab: …`) or its output.
        note: String,
    },
    /// VRRP / keepalived / checker event.
    Keepalived {
        /// In words.
        text: String,
    },
    /// iptables LOG target.
    Log {
        /// The kernel log line.
        text: String,
    },
}

/// One trace record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    /// When.
    pub t: SimTime,
    /// Host name.
    pub host: Arc<str>,
    /// What.
    pub kind: TraceKind,
}

impl TraceKind {
    /// A short category name (`tx`, `rx`, `hook`, …) used by filters and JSON.
    #[must_use]
    pub fn category(&self) -> &'static str {
        match self {
            TraceKind::Tx { .. } => "tx",
            TraceKind::Rx { .. } => "rx",
            TraceKind::Hook { .. } => "hook",
            TraceKind::Route { .. } => "route",
            TraceKind::Ipvs { .. } => "ipvs",
            TraceKind::Rewrite { .. } => "rewrite",
            TraceKind::Drop { .. } => "drop",
            TraceKind::Neigh { .. } => "neigh",
            TraceKind::App { .. } => "app",
            TraceKind::Command { .. } => "cmd",
            TraceKind::Keepalived { .. } => "keepalived",
            TraceKind::Log { .. } => "log",
        }
    }

    /// The frame this record is about, if any.
    #[must_use]
    pub fn frame(&self) -> Option<&Frame> {
        match self {
            TraceKind::Tx { frame, .. }
            | TraceKind::Rx { frame, .. }
            | TraceKind::Hook { frame, .. } => Some(frame),
            TraceKind::Rewrite { after, .. } => Some(after),
            _ => None,
        }
    }
}

impl fmt::Display for TraceRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={} {} ", self.t, self.host)?;
        match &self.kind {
            TraceKind::Tx { iface, frame } => write!(f, "TX {iface} {frame}"),
            TraceKind::Rx { iface, frame } => write!(f, "RX {iface} {frame}"),
            TraceKind::Hook {
                hook,
                verdict,
                frame,
            } => {
                write!(f, "{} {} ", hook.name(), verdict.name())?;
                match frame.ipv4() {
                    Some(p) => write!(f, "{p}"),
                    None => write!(f, "{frame}"),
                }
            }
            TraceKind::Route { text } => write!(f, "ROUTE {text}"),
            TraceKind::Ipvs { text } => write!(f, "IPVS {text}"),
            TraceKind::Rewrite { text, after, .. } => match after.ipv4() {
                Some(p) => write!(f, "REWRITE {text}: {p}"),
                None => write!(f, "REWRITE {text}: {after}"),
            },
            TraceKind::Drop { reason } => write!(f, "DROP {reason}"),
            TraceKind::Neigh { text } => write!(f, "NEIGH {text}"),
            TraceKind::App { text } => write!(f, "APP {text}"),
            TraceKind::Command { cmd, note } => {
                if note.is_empty() {
                    write!(f, "CMD {cmd}")
                } else {
                    write!(f, "CMD {cmd} ({note})")
                }
            }
            TraceKind::Keepalived { text } => write!(f, "KEEPALIVED {text}"),
            TraceKind::Log { text } => write!(f, "LOG {text}"),
        }
    }
}

/// The recorded trace.
#[derive(Clone, Debug)]
pub struct Trace {
    /// Level of detail.
    pub level: TraceLevel,
    /// Records in order.
    pub records: Vec<TraceRecord>,
}

impl Trace {
    /// An empty trace at `level`.
    #[must_use]
    pub fn new(level: TraceLevel) -> Self {
        Trace {
            level,
            records: Vec::new(),
        }
    }

    /// Records full detail (frames, hooks)?
    #[must_use]
    pub fn full(&self) -> bool {
        self.level >= TraceLevel::Full
    }

    /// Records events?
    #[must_use]
    pub fn events(&self) -> bool {
        self.level >= TraceLevel::Events
    }

    /// Appends a record (the caller checks the level first).
    pub fn push(&mut self, t: SimTime, host: &Arc<str>, kind: TraceKind) {
        self.records.push(TraceRecord {
            t,
            host: Arc::clone(host),
            kind,
        });
    }

    /// The whole trace as text, one line per record.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for r in &self.records {
            s.push_str(&r.to_string());
            s.push('\n');
        }
        s
    }
}
