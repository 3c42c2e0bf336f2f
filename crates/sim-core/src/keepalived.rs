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
//! * [`report`] says what keepalived would configure from a file (golden corpus results).
//!
//! The glue with the host stack (packets, timers, shell commands) is
//! `world/keepalived.rs`; `World::keepalived_summary` is the part of
//! `lvslab run`'s summary that lists VRRP transitions, VIP moves, GARPs and
//! real servers going down/up, and `World::vrrp_view` the current states.
//!
//! # What is modelled
//!
//! `systemctl start|stop|restart|reload|status keepalived`, `keepalived [-f FILE] [-t] [-v]`;
//! VRRP v2/v3 adverts as real packets (224.0.0.18, protocol 112, TTL 255, or
//! `unicast_peer`), INIT/BACKUP/MASTER/FAULT with keepalived's timers, skew,
//! master-down interval (v3 learns the master's interval), priority 0 and 255,
//! preempt / `nopreempt` / `preempt_delay`, PASS/AH authentication, the
//! equal-priority address tie-break, advert checks (TTL, version, auth, v2
//! interval, VIP list); VIPs added/removed as `ip a` shows them; GARP bursts on
//! becoming MASTER and again after `garp_master_delay`, and on lower-priority
//! adverts, and every `garp_master_refresh`; FAULT on `ip link set DEV down`
//! (own or tracked interface); `vrrp_sync_group` members follow each other to
//! MASTER, BACKUP and FAULT; power-off without goodbye. The IPVS table is built from `virtual_server` (address, fwmark, group) at start
//! and removed at stop; TCP_CHECK, HTTP_GET (status code, MD5 digest) and
//! MISC_CHECK with delay_loop, connect_timeout, retry, delay_before_retry,
//! warmup, alpha; inhibit_on_failure, quorum, hysteresis, sorry_server.
//!
//! # Simplifications (named)
//!
//! * `track_interface` is followed (weight 0: FAULT while down; ±weight: priority), but
//!   `track_script`, `track_file`, `track_process` and `track_bfd` are not run (their
//!   weights never apply). `use_vmac` is ignored (the real MAC is used, as without it).
//! * `vrrp_strict` installs no firewall rules (no `no_accept`); notify scripts
//!   (`notify_master`, `quorum_up`, …) are not run (the trace names the VRRP ones when
//!   keepalived would run them); `vrrp_garp_interval` is
//!   ignored (each burst goes out at once).
//! * SSL_GET is checked as HTTP_GET without TLS; SMTP/UDP/DNS/PING/FILE/BFD checks are
//!   not run (treated as always up, and the trace says so). A MISC_CHECK script is not
//!   executed: its outcome is the last `exit N` of the script file on the director
//!   (written with `cat > … <<EOF` or `echo`), 0 without one, 127 if missing; it takes
//!   no time.
//! * `reload` is a restart (VRRP state is not kept). IPv6 instances and virtual servers
//!   are not modelled. `lvs_sync_daemon` does not sync connections.

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
    /// `garp_master_refresh`: periodic GARPs while MASTER.
    GarpRefresh {
        /// Instance index.
        inst: usize,
        /// The MASTER term it belongs to.
        term: u64,
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
