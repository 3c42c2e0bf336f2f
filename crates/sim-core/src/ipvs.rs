//! IPVS, the kernel's layer-4 load balancer, as the simulator models it.
//!
//! Reference: `shared/reference/lvs-semantics.md` §1–3 and §7. Every number,
//! formula and tie-break follows the Linux kernel (and ipvsadm 1.31 for the
//! command line and its output), not tutorials.

pub mod conn;
pub mod dest;
pub mod ipvsadm;
mod path;
pub mod sched;
pub mod stats;
pub mod sysctl;
pub mod table;
pub mod types;

#[cfg(test)]
mod tests;

pub use conn::{Conn, ConnId, ConnState, TcpState};
pub use dest::{Dest, DestId, TunCfg};
pub use stats::{Counters, Rates, Stats};
pub use sysctl::{Timeouts, VsSysctls};
pub use table::{DestSpec, Ipvs, IpvsError, Service, ServiceSpec, SvcId, SyncDaemon};
pub use types::{
    Decision, DestSnapshot, FwdMethod, InVerdict, OutVerdict, PacketMeta, ServiceKey, TcpFlags,
    TemplateUse,
};

use std::fmt;

/// The transport protocol of a virtual service or connection entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP (IP protocol 6).
    Tcp,
    /// UDP (IP protocol 17).
    Udp,
    /// SCTP (IP protocol 132).
    Sctp,
}

impl Protocol {
    /// The IP protocol number.
    #[must_use]
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }
    /// The name the kernel prints (`TCP`, `UDP`, `SCTP`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
