//! keepalived 2.x in the lab: its configuration language, VRRP and checkers.
//!
//! Reference: `shared/reference/lvs-semantics.md` §4–6.
//!
//! * [`conf`] reads keepalived.conf as keepalived does.
//! * [`vrrp`] is one VRRP instance's state machine (timers, election, preemption).
//! * [`check`] is the checkers' timing and verdicts.
//! * [`daemon`] is the process on a host: instances, virtual servers, checkers,
//!   and how checker results change the IPVS table.
//!
//! The glue with the host stack (packets, timers, shell commands) is
//! `world/keepalived.rs`.

pub mod check;
pub mod conf;
pub mod daemon;
pub mod md5;
pub mod report;
pub mod vrrp;

pub use daemon::{Daemon, Keepalived, Transition};

/// A keepalived timer (carried by [`crate::world::Event::Keepalived`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// A VRRP instance's advert or master-down timer.
    Vrrp {
        /// Instance index.
        inst: usize,
        /// Its epoch when armed.
        epoch: u64,
    },
    /// The delayed gratuitous-ARP burst.
    Garp {
        /// Instance index.
        inst: usize,
        /// GARPs per VIP.
        n: u32,
    },
    /// A checker's next attempt.
    Check {
        /// Checker index.
        checker: usize,
    },
    /// A checker's connect timeout.
    CheckTimeout {
        /// Checker index.
        checker: usize,
        /// The attempt's epoch.
        epoch: u64,
    },
}
