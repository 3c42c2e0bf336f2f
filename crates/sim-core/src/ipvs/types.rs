//! Small shared types: packet metadata, verdicts, forwarding methods,
//! service keys.

use std::fmt;
use std::net::Ipv4Addr;

use super::Protocol;
use super::conn::ConnId;

/// The four TCP header flags IPVS looks at (`rst`, `syn`, `fin`, `ack`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// FIN.
    pub fin: bool,
    /// RST.
    pub rst: bool,
}

impl TcpFlags {
    /// No flag (also what UDP packets carry).
    pub const NONE: TcpFlags = TcpFlags {
        syn: false,
        ack: false,
        fin: false,
        rst: false,
    };
    /// A bare SYN.
    pub const SYN: TcpFlags = TcpFlags {
        syn: true,
        ack: false,
        fin: false,
        rst: false,
    };
    /// SYN+ACK.
    pub const SYN_ACK: TcpFlags = TcpFlags {
        syn: true,
        ack: true,
        fin: false,
        rst: false,
    };
    /// A bare ACK (also data segments).
    pub const ACK: TcpFlags = TcpFlags {
        syn: false,
        ack: true,
        fin: false,
        rst: false,
    };
    /// FIN+ACK.
    pub const FIN_ACK: TcpFlags = TcpFlags {
        syn: false,
        ack: true,
        fin: true,
        rst: false,
    };
    /// RST.
    pub const RST: TcpFlags = TcpFlags {
        syn: false,
        ack: false,
        fin: false,
        rst: true,
    };
}

/// What IPVS needs to know about one packet (no payload, no headers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketMeta {
    /// Transport protocol.
    pub proto: Protocol,
    /// IP source address.
    pub saddr: Ipv4Addr,
    /// Transport source port.
    pub sport: u16,
    /// IP destination address.
    pub daddr: Ipv4Addr,
    /// Transport destination port.
    pub dport: u16,
    /// TCP flags (ignored for UDP/SCTP).
    pub flags: TcpFlags,
    /// IP total length in bytes (what the kernel counts in `inbytes`).
    pub len: u32,
    /// The netfilter mark (`iptables -j MARK`), 0 if none.
    pub fwmark: u32,
}

impl PacketMeta {
    /// `(protocol, saddr, sport, daddr, dport)`: the connection-table key this
    /// packet looks up (the in-key for requests, the out-key for replies).
    #[must_use]
    pub fn key(&self) -> (u8, u32, u16, u32, u16) {
        (
            self.proto.number(),
            u32::from(self.saddr),
            self.sport,
            u32::from(self.daddr),
            self.dport,
        )
    }
}

/// A forwarding method (`-g`, `-i`, `-m`, local node, FULLNAT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FwdMethod {
    /// NAT (`-m`), shown `Masq`.
    Masq,
    /// Direct routing (`-g`), shown `Route`.
    Route,
    /// IP-in-IP (`-i`), shown `Tunnel`.
    Tunnel,
    /// The real server is an address of this host, shown `Local`.
    Local,
    /// FULLNAT (Alibaba LVS, not mainline), shown `FullNat`.
    FullNat,
}

impl FwdMethod {
    /// The name in `ipvsadm -Ln`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            FwdMethod::Masq => "Masq",
            FwdMethod::Route => "Route",
            FwdMethod::Tunnel => "Tunnel",
            FwdMethod::Local => "Local",
            FwdMethod::FullNat => "FullNat",
        }
    }
    /// Whether the director sees the replies (NAT and FULLNAT).
    #[must_use]
    pub fn sees_replies(self) -> bool {
        matches!(self, FwdMethod::Masq | FwdMethod::FullNat)
    }
}

impl fmt::Display for FwdMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a virtual service is identified.
///
/// The derived order is the order `ipvsadm -L` sorts services in
/// (`ipvs_cmp_services`: fwmark services after address services because
/// their fwmark is non-zero; then protocol number, address, port).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKey {
    /// `-t`/`-u`/`--sctp-service` `addr:port`.
    Addr {
        /// Protocol.
        proto: Protocol,
        /// Virtual address.
        addr: Ipv4Addr,
        /// Virtual port (0 = all ports, persistent services only).
        port: u16,
    },
    /// `-f N`.
    Fwmark(u32),
}

impl ServiceKey {
    /// The virtual port (0 for fwmark services).
    #[must_use]
    pub fn port(&self) -> u16 {
        match self {
            ServiceKey::Addr { port, .. } => *port,
            ServiceKey::Fwmark(_) => 0,
        }
    }
    /// The fwmark (0 for address services).
    #[must_use]
    pub fn fwmark(&self) -> u32 {
        match self {
            ServiceKey::Addr { .. } => 0,
            ServiceKey::Fwmark(m) => *m,
        }
    }
    /// Sort key of `ipvs_cmp_services` (fwmark, protocol number, address, port).
    #[must_use]
    pub fn sort_key(&self) -> (u32, u8, u32, u16) {
        match self {
            ServiceKey::Addr { proto, addr, port } => (0, proto.number(), u32::from(*addr), *port),
            // ipvsadm sets the protocol of fwmark services to TCP.
            ServiceKey::Fwmark(m) => (*m, 6, 0, 0),
        }
    }
}

/// One destination as the scheduler saw it (for the classroom inspector).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestSnapshot {
    /// Real server address.
    pub addr: Ipv4Addr,
    /// Real server port.
    pub port: u16,
    /// Weight.
    pub weight: u32,
    /// ActiveConn.
    pub active: u32,
    /// InActConn.
    pub inactive: u32,
    /// OVERLOAD flag.
    pub overloaded: bool,
}

/// How a persistence template took part in a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TemplateUse {
    /// An existing template chose the dest; the scheduler was not consulted.
    Hit {
        /// The template entry.
        template: ConnId,
    },
    /// The scheduler chose and a new template was created.
    Created {
        /// The new template entry.
        template: ConnId,
    },
    /// A template existed but its dest is unavailable (or quiesced with
    /// `expire_quiescent_template=1`): it was invalidated and the scheduler chose.
    Invalidated {
        /// The new template entry.
        template: ConnId,
    },
}

/// Why a new connection went where it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Scheduler name (`rr`, `wlc`, …).
    pub scheduler: String,
    /// The scheduler's `explain()` text (empty when it was not consulted).
    pub explain: String,
    /// Persistence template involvement, if the service is persistent.
    pub template: Option<TemplateUse>,
    /// The dests in kernel list order as they were before the decision.
    pub dests: Vec<DestSnapshot>,
}

/// The outcome of [`super::Ipvs::in_packet`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InVerdict {
    /// No virtual service and no entry: deliver locally as usual.
    NotService,
    /// Send the packet to a real server (or up the local stack for `Local`).
    Forward {
        /// The connection entry.
        conn: ConnId,
        /// Forwarding method.
        method: FwdMethod,
        /// Real server address (new destination for NAT/FULLNAT, next hop
        /// for DR, tunnel endpoint for TUN).
        daddr: Ipv4Addr,
        /// Real server port.
        dport: u16,
        /// FULLNAT: the new source address (a local address, LIP).
        new_saddr: Option<Ipv4Addr>,
        /// FULLNAT: the new source port.
        new_sport: Option<u16>,
        /// Present when this packet created the entry.
        decision: Option<Decision>,
    },
    /// Drop silently.
    Drop {
        /// Why.
        reason: String,
    },
    /// No destination: the caller sends ICMP port unreachable (type 3 code 3)
    /// to the client and drops the packet.
    NoDestination {
        /// Why.
        reason: String,
    },
    /// Accept to the director's own stack (which answers TCP with RST).
    LocalStack {
        /// Why.
        reason: String,
    },
    /// `cache_bypass`: route the packet to its original destination.
    Bypass {
        /// Why.
        reason: String,
    },
}

/// The outcome of [`super::Ipvs::out_packet`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutVerdict {
    /// Not a reply of a NAT/FULLNAT entry: forward unchanged.
    NotOurs,
    /// Rewrite source (and for FULLNAT destination) and forward.
    Rewrite {
        /// The entry.
        conn: ConnId,
        /// New source address (the VIP).
        saddr: Ipv4Addr,
        /// New source port (the virtual port).
        sport: u16,
        /// New destination address (the client; unchanged for NAT).
        daddr: Ipv4Addr,
        /// New destination port (the client port; unchanged for NAT).
        dport: u16,
    },
}
