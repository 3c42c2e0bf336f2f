//! Typed packets: Ethernet, ARP, IPv4 (with IPIP), TCP, UDP, ICMP and VRRP.
//!
//! The engine moves these values, never bytes; the byte codec for pcap export
//! and the kernel backend lives in [`crate::wire`]. Every packet prints as one
//! tcpdump-like line (`tcpdump -n -e -S` style: absolute sequence numbers).
//!
//! Simplifications (named in the docs and the UI): no IP options, TCP
//! headers are 20 bytes (no MSS/SACK/timestamp options), no fragmentation.

use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;

pub mod display;

/// A 48-bit Ethernet address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// `00:00:00:00:00:00`.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// The IPv4 multicast MAC for `group` (01:00:5e + low 23 bits).
    #[must_use]
    pub fn ipv4_multicast(group: Ipv4Addr) -> MacAddr {
        let o = group.octets();
        MacAddr([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
    }
    /// Broadcast or multicast (the group bit is set).
    #[must_use]
    pub fn is_group(self) -> bool {
        self.0[0] & 1 == 1
    }
    /// Parses `00:0c:29:e6:67:b6`.
    ///
    /// # Errors
    /// When the text is not six hex octets separated by colons.
    pub fn parse(s: &str) -> Result<MacAddr, String> {
        let mut out = [0u8; 6];
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() != 6 {
            return Err(format!(
                "`{s}` is not a MAC address (write it like 00:0c:29:e6:67:b6)"
            ));
        }
        for (o, p) in out.iter_mut().zip(parts) {
            *o = u8::from_str_radix(p, 16)
                .map_err(|_| format!("`{s}` is not a MAC address (bad octet `{p}`)"))?;
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// An Ethernet frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Source MAC.
    pub src: MacAddr,
    /// Destination MAC.
    pub dst: MacAddr,
    /// What the frame carries.
    pub payload: FramePayload,
}

/// The EtherType-selected payload of a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FramePayload {
    /// EtherType 0x0806.
    Arp(ArpPacket),
    /// EtherType 0x0800.
    Ipv4(Ipv4Packet),
}

impl Frame {
    /// Bytes on the wire: 14-byte header plus payload, padded to the
    /// 60-byte minimum (no FCS, as a capture shows it).
    #[must_use]
    pub fn wire_len(&self) -> u32 {
        let l = 14
            + match &self.payload {
                FramePayload::Arp(_) => 28,
                FramePayload::Ipv4(p) => p.total_len(),
            };
        l.max(60)
    }
    /// The IPv4 packet, if any.
    #[must_use]
    pub fn ipv4(&self) -> Option<&Ipv4Packet> {
        match &self.payload {
            FramePayload::Ipv4(p) => Some(p),
            FramePayload::Arp(_) => None,
        }
    }
}

/// ARP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArpOp {
    /// who-has (1).
    Request,
    /// is-at (2).
    Reply,
}

/// An ARP packet for IPv4 over Ethernet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpPacket {
    /// Request or reply.
    pub op: ArpOp,
    /// Sender hardware address.
    pub sha: MacAddr,
    /// Sender protocol address.
    pub spa: Ipv4Addr,
    /// Target hardware address.
    pub tha: MacAddr,
    /// Target protocol address.
    pub tpa: Ipv4Addr,
}

impl ArpPacket {
    /// A gratuitous ARP: sender and target protocol address are equal.
    #[must_use]
    pub fn is_gratuitous(&self) -> bool {
        self.spa == self.tpa
    }
}

/// IP protocol numbers the lab knows, with room for the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpProto {
    /// 1
    Icmp,
    /// 4 (IP in IP)
    Ipip,
    /// 6
    Tcp,
    /// 17
    Udp,
    /// 112
    Vrrp,
    /// Anything else.
    Unknown(u8),
}

impl IpProto {
    /// The protocol number.
    #[must_use]
    pub fn number(self) -> u8 {
        match self {
            IpProto::Icmp => 1,
            IpProto::Ipip => 4,
            IpProto::Tcp => 6,
            IpProto::Udp => 17,
            IpProto::Vrrp => 112,
            IpProto::Unknown(n) => n,
        }
    }
    /// From a protocol number.
    #[must_use]
    pub fn from_number(n: u8) -> IpProto {
        match n {
            1 => IpProto::Icmp,
            4 => IpProto::Ipip,
            6 => IpProto::Tcp,
            17 => IpProto::Udp,
            112 => IpProto::Vrrp,
            n => IpProto::Unknown(n),
        }
    }
}

/// An IPv4 datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv4Packet {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub id: u16,
    /// Type of service / DSCP+ECN.
    pub tos: u8,
    /// Don't-fragment flag.
    pub df: bool,
    /// The transport payload.
    pub payload: IpPayload,
}

/// What an IPv4 datagram carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IpPayload {
    /// TCP segment.
    Tcp(TcpSegment),
    /// UDP datagram.
    Udp(UdpDatagram),
    /// ICMP message.
    Icmp(IcmpMessage),
    /// IP-in-IP (LVS-TUN): a whole inner datagram.
    Ipip(Box<Ipv4Packet>),
    /// VRRP advertisement.
    Vrrp(VrrpAdvert),
    /// An unmodelled protocol carrying `len` bytes.
    Other {
        /// Protocol number.
        proto: u8,
        /// Payload length in bytes.
        len: u32,
    },
}

impl Ipv4Packet {
    /// A packet with TTL 64, DF set, TOS 0 and ID 0.
    #[must_use]
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, payload: IpPayload) -> Self {
        Ipv4Packet {
            src,
            dst,
            ttl: 64,
            id: 0,
            tos: 0,
            df: true,
            payload,
        }
    }
    /// The protocol field.
    #[must_use]
    pub fn proto(&self) -> IpProto {
        match &self.payload {
            IpPayload::Tcp(_) => IpProto::Tcp,
            IpPayload::Udp(_) => IpProto::Udp,
            IpPayload::Icmp(_) => IpProto::Icmp,
            IpPayload::Ipip(_) => IpProto::Ipip,
            IpPayload::Vrrp(_) => IpProto::Vrrp,
            IpPayload::Other { proto, .. } => IpProto::from_number(*proto),
        }
    }
    /// The IP total length (header + payload), as IPVS counts bytes.
    #[must_use]
    pub fn total_len(&self) -> u32 {
        20 + match &self.payload {
            IpPayload::Tcp(t) => 20 + t.data.len(),
            IpPayload::Udp(u) => 8 + u.data.len(),
            IpPayload::Icmp(i) => i.len(),
            IpPayload::Ipip(inner) => inner.total_len(),
            IpPayload::Vrrp(v) => v.len(),
            IpPayload::Other { len, .. } => *len,
        }
    }
    /// The TCP segment, if this is TCP.
    #[must_use]
    pub fn tcp(&self) -> Option<&TcpSegment> {
        match &self.payload {
            IpPayload::Tcp(t) => Some(t),
            _ => None,
        }
    }
    /// Source and destination ports for TCP and UDP.
    #[must_use]
    pub fn ports(&self) -> Option<(u16, u16)> {
        match &self.payload {
            IpPayload::Tcp(t) => Some((t.sport, t.dport)),
            IpPayload::Udp(u) => Some((u.sport, u.dport)),
            _ => None,
        }
    }
}

/// TCP header flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags {
    /// FIN
    pub fin: bool,
    /// SYN
    pub syn: bool,
    /// RST
    pub rst: bool,
    /// PSH
    pub psh: bool,
    /// ACK
    pub ack: bool,
}

impl TcpFlags {
    /// SYN alone.
    pub const SYN: TcpFlags = TcpFlags {
        fin: false,
        syn: true,
        rst: false,
        psh: false,
        ack: false,
    };
    /// SYN+ACK.
    pub const SYN_ACK: TcpFlags = TcpFlags {
        fin: false,
        syn: true,
        rst: false,
        psh: false,
        ack: true,
    };
    /// ACK alone.
    pub const ACK: TcpFlags = TcpFlags {
        fin: false,
        syn: false,
        rst: false,
        psh: false,
        ack: true,
    };
    /// PSH+ACK (data).
    pub const PSH_ACK: TcpFlags = TcpFlags {
        fin: false,
        syn: false,
        rst: false,
        psh: true,
        ack: true,
    };
    /// FIN+ACK.
    pub const FIN_ACK: TcpFlags = TcpFlags {
        fin: true,
        syn: false,
        rst: false,
        psh: false,
        ack: true,
    };
    /// RST+ACK.
    pub const RST_ACK: TcpFlags = TcpFlags {
        fin: false,
        syn: false,
        rst: true,
        psh: false,
        ack: true,
    };
    /// RST alone.
    pub const RST: TcpFlags = TcpFlags {
        fin: false,
        syn: false,
        rst: true,
        psh: false,
        ack: false,
    };

    /// The header byte (CWR/ECE/URG never set).
    #[must_use]
    pub fn bits(self) -> u8 {
        u8::from(self.fin)
            | u8::from(self.syn) << 1
            | u8::from(self.rst) << 2
            | u8::from(self.psh) << 3
            | u8::from(self.ack) << 4
    }
    /// From the header byte.
    #[must_use]
    pub fn from_bits(b: u8) -> TcpFlags {
        TcpFlags {
            fin: b & 1 != 0,
            syn: b & 2 != 0,
            rst: b & 4 != 0,
            psh: b & 8 != 0,
            ack: b & 16 != 0,
        }
    }
}

/// A TCP segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSegment {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number (meaningful with ACK).
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Advertised window.
    pub window: u16,
    /// Application bytes carried.
    pub data: AppData,
}

/// A UDP datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpDatagram {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Application bytes carried.
    pub data: AppData,
}

/// Application payload. HTTP messages are kept as text so traces and the
/// inspector can show them; bulk data is only a length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AppData {
    /// No payload.
    #[default]
    None,
    /// Real bytes (HTTP request or response, as text on the wire).
    Bytes(Arc<[u8]>),
    /// `n` bytes whose content does not matter (load tests).
    Opaque(u32),
}

impl AppData {
    /// Payload length in bytes.
    #[must_use]
    pub fn len(&self) -> u32 {
        match self {
            AppData::None => 0,
            AppData::Bytes(b) => u32::try_from(b.len()).unwrap_or(u32::MAX),
            AppData::Opaque(n) => *n,
        }
    }
    /// No payload bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// From text.
    #[must_use]
    pub fn text(s: &str) -> AppData {
        AppData::Bytes(Arc::from(s.as_bytes()))
    }
    /// The bytes, if real.
    #[must_use]
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            AppData::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// ICMP messages the lab sends and understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IcmpMessage {
    /// Echo request (type 8).
    EchoRequest {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// Echo reply (type 0).
    EchoReply {
        /// Identifier.
        id: u16,
        /// Sequence number.
        seq: u16,
    },
    /// Destination unreachable (type 3) quoting the offending datagram.
    DestUnreachable {
        /// 0 net, 1 host, 3 port, 4 fragmentation needed, …
        code: u8,
        /// Next-hop MTU for code 4.
        mtu: u16,
        /// The IP header and the first 8 payload bytes of the datagram.
        quoted: Box<Ipv4Packet>,
    },
    /// Time exceeded (type 11).
    TimeExceeded {
        /// The quoted datagram.
        quoted: Box<Ipv4Packet>,
    },
}

impl IcmpMessage {
    /// Length of the ICMP message (header + data).
    #[must_use]
    pub fn len(&self) -> u32 {
        match self {
            IcmpMessage::EchoRequest { .. } | IcmpMessage::EchoReply { .. } => 8 + 56,
            // 8-byte header + quoted IP header (20) + 8 bytes of its payload.
            IcmpMessage::DestUnreachable { .. } | IcmpMessage::TimeExceeded { .. } => 8 + 28,
        }
    }
    /// Never empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// VRRP authentication (v2 only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VrrpAuth {
    /// Type 0.
    None,
    /// Type 1: up to 8 characters in clear text.
    Pass([u8; 8]),
    /// Type 2: IPsec AH (only the type is modelled).
    Ah,
}

/// A VRRP advertisement (v2 or v3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrrpAdvert {
    /// 2 or 3.
    pub version: u8,
    /// Virtual router id 1…255.
    pub vrid: u8,
    /// Priority (0 = master leaving, 255 = address owner).
    pub priority: u8,
    /// v2: seconds; v3: centiseconds.
    pub interval: u16,
    /// The virtual addresses.
    pub addrs: Vec<Ipv4Addr>,
    /// Authentication (v2).
    pub auth: VrrpAuth,
}

impl VrrpAdvert {
    /// Length of the VRRP message.
    #[must_use]
    pub fn len(&self) -> u32 {
        let n = u32::try_from(self.addrs.len()).unwrap_or(255);
        8 + 4 * n + if self.version == 2 { 8 } else { 0 }
    }
    /// Never empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Routes: `addr` is in `net/prefix`.
#[must_use]
pub fn in_subnet(addr: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    let mask = prefix_mask(prefix);
    u32::from(addr) & mask == u32::from(net) & mask
}

/// The netmask of a prefix length (0…32).
#[must_use]
pub fn prefix_mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}
