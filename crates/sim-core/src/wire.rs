//! The byte codec: typed packets ([`crate::packet`]) to wire bytes and back.
//!
//! The engine moves typed values; bytes exist only at the edge (pcap export
//! and the real-kernel backend). [`emit_frame`] writes real bytes with
//! correct lengths and checksums; [`parse_frame`] is its inverse and never
//! panics: every read is bounds-checked and every problem is a [`WireError`].
//!
//! Wire format choices, all matching what Linux puts on the wire:
//! - Ethernet II without FCS, padded with zeros to the 60-byte minimum; the
//!   parser strips the padding using the IPv4 total length.
//! - IPv4 headers are 20 bytes (IHL 5, no options); the parser skips options
//!   if a real kernel sends them. Fragments are reported as an error.
//! - TCP headers are 20 bytes; the parser skips options. URG/ECE/CWR are
//!   dropped, as [`TcpFlags`] does not model them.
//! - [`AppData::Opaque`]`(n)` goes out as `n` zero bytes and comes back as
//!   [`AppData::Bytes`]; an empty payload comes back as [`AppData::None`].
//! - An ICMP echo carries 56 data bytes (`ping`'s default, bytes 0x00…0x37);
//!   the parser accepts any length and keeps only id and sequence.
//! - ICMP errors quote the offending IP header and the first 8 bytes of its
//!   payload, so the parsed quote only holds what those bytes tell: see
//!   [`icmp_quote`], which the engine should use when building an error so
//!   that the typed value equals what the bytes carry.
//! - Destination unreachable carries `mtu` only for code 4 (RFC 1191); for
//!   other codes the field is zero on the wire.
//! - VRRP v2 (RFC 3768): the advert interval is one byte of seconds; the
//!   checksum covers the VRRP message only. VRRP v3 (RFC 5798): a 12-bit
//!   interval in centiseconds, no authentication data, and the checksum
//!   covers the IPv4 pseudo-header too (§5.2.8).
//! - An [`IpPayload::Other`]`{ len, .. }` goes out as `len` zero bytes.
//!
//! Values that cannot exist on the wire (a datagram longer than 65 535
//! bytes, a v2 interval above 255 s, more than 255 VRRP addresses) are
//! clamped on output and so do not round-trip.

use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;

use crate::packet::{
    AppData, ArpOp, ArpPacket, Frame, FramePayload, IcmpMessage, IpPayload, Ipv4Packet, MacAddr,
    TcpFlags, TcpSegment, UdpDatagram, VrrpAdvert, VrrpAuth,
};

pub mod pcap;
#[cfg(test)]
mod tests;

pub use pcap::{LinkType, PcapWriter, SllPacketType};

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;

/// How many IP-in-IP levels the parser follows before giving up.
const MAX_IPIP_DEPTH: usize = 8;
/// The data of an ICMP echo: 56 bytes, as `ping` sends by default.
const ECHO_DATA_LEN: usize = 56;

/// Why bytes could not be parsed into a [`Frame`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The bytes end before the `layer` header or payload does.
    Truncated {
        /// `ethernet`, `arp`, `ipv4`, `tcp`, `udp`, `icmp` or `vrrp`.
        layer: &'static str,
    },
    /// The `layer` checksum does not verify.
    BadChecksum {
        /// Which checksum.
        layer: &'static str,
    },
    /// An EtherType other than IPv4 and ARP.
    UnknownEtherType(u16),
    /// A field holds a value the lab does not model or that is invalid.
    Malformed {
        /// Which layer.
        layer: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { layer } => write!(f, "truncated {layer} packet"),
            WireError::BadChecksum { layer } => write!(f, "bad {layer} checksum"),
            WireError::UnknownEtherType(t) => write!(f, "unknown EtherType 0x{t:04x}"),
            WireError::Malformed { layer, reason } => {
                write!(f, "malformed {layer} packet: {reason}")
            }
        }
    }
}

impl std::error::Error for WireError {}

// ---------------------------------------------------------------------------
// Checksums and bounds-checked reads

/// Adds `data` as big-endian 16-bit words (odd byte padded) to `acc`.
fn sum_words(data: &[u8], mut acc: u64) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    acc
}

/// Folds a sum to 16 bits and complements it: the Internet checksum.
fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    // `acc` fits in 16 bits here.
    !u16::try_from(acc).unwrap_or(0xffff)
}

/// The Internet checksum (RFC 1071) of `data`.
#[must_use]
pub fn checksum(data: &[u8]) -> u16 {
    fold(sum_words(data, 0))
}

/// The sum of the IPv4 pseudo-header (RFC 793 §3.1).
fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u64 {
    let mut acc = sum_words(&src.octets(), 0);
    acc = sum_words(&dst.octets(), acc);
    acc += u64::from(proto);
    acc + u64::try_from(len).unwrap_or(u64::MAX >> 20)
}

/// The checksum of `data` behind an IPv4 pseudo-header.
fn pseudo_checksum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, data: &[u8]) -> u16 {
    fold(sum_words(data, pseudo_sum(src, dst, proto, data.len())))
}

fn slice<'a>(
    b: &'a [u8],
    from: usize,
    len: usize,
    layer: &'static str,
) -> Result<&'a [u8], WireError> {
    from.checked_add(len)
        .and_then(|end| b.get(from..end))
        .ok_or(WireError::Truncated { layer })
}

fn u8_at(b: &[u8], at: usize, layer: &'static str) -> Result<u8, WireError> {
    b.get(at).copied().ok_or(WireError::Truncated { layer })
}

fn u16_at(b: &[u8], at: usize, layer: &'static str) -> Result<u16, WireError> {
    let s = slice(b, at, 2, layer)?;
    Ok(u16::from_be_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize, layer: &'static str) -> Result<u32, WireError> {
    let s = slice(b, at, 4, layer)?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn ip_at(b: &[u8], at: usize, layer: &'static str) -> Result<Ipv4Addr, WireError> {
    u32_at(b, at, layer).map(Ipv4Addr::from)
}

fn mac_at(b: &[u8], at: usize, layer: &'static str) -> Result<MacAddr, WireError> {
    let s = slice(b, at, 6, layer)?;
    let mut m = [0u8; 6];
    m.copy_from_slice(s);
    Ok(MacAddr(m))
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Writes a checksum into `buf[at..at + 2]` (no-op if out of range).
fn set16(buf: &mut [u8], at: usize, v: u16) {
    if let Some(s) = buf.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

fn len16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

// ---------------------------------------------------------------------------
// Emit

/// The frame's bytes: Ethernet II header and payload, zero-padded to 60
/// bytes, without FCS (as a capture shows it).
#[must_use]
pub fn emit_frame(f: &Frame) -> Vec<u8> {
    let mut out = emit_frame_unpadded(f);
    if out.len() < 60 {
        out.resize(60, 0);
    }
    out
}

/// The frame's bytes without the minimum-length padding (as an outgoing
/// packet looks to a `tcpdump -i any` capture).
#[must_use]
pub fn emit_frame_unpadded(f: &Frame) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&f.dst.0);
    out.extend_from_slice(&f.src.0);
    put16(&mut out, ethertype(f));
    match &f.payload {
        FramePayload::Arp(a) => emit_arp(a, &mut out),
        FramePayload::Ipv4(p) => emit_ipv4(p, &mut out),
    }
    out
}

/// The EtherType of the frame's payload.
#[must_use]
pub fn ethertype(f: &Frame) -> u16 {
    match f.payload {
        FramePayload::Arp(_) => ETHERTYPE_ARP,
        FramePayload::Ipv4(_) => ETHERTYPE_IPV4,
    }
}

fn emit_arp(a: &ArpPacket, out: &mut Vec<u8>) {
    put16(out, 1); // hardware: Ethernet
    put16(out, ETHERTYPE_IPV4);
    out.push(6);
    out.push(4);
    put16(
        out,
        match a.op {
            ArpOp::Request => 1,
            ArpOp::Reply => 2,
        },
    );
    out.extend_from_slice(&a.sha.0);
    out.extend_from_slice(&a.spa.octets());
    out.extend_from_slice(&a.tha.0);
    out.extend_from_slice(&a.tpa.octets());
}

/// Appends an IPv4 datagram (header with checksum, then payload) to `out`.
pub fn emit_ipv4(p: &Ipv4Packet, out: &mut Vec<u8>) {
    let payload = emit_ip_payload(p);
    let start = out.len();
    out.push(0x45);
    out.push(p.tos);
    put16(out, len16(20 + payload.len()));
    put16(out, p.id);
    put16(out, if p.df { 0x4000 } else { 0 });
    out.push(p.ttl);
    out.push(p.proto().number());
    put16(out, 0);
    out.extend_from_slice(&p.src.octets());
    out.extend_from_slice(&p.dst.octets());
    let sum = checksum(&out[start..start + 20]);
    set16(out, start + 10, sum);
    out.extend_from_slice(&payload);
}

fn emit_ip_payload(p: &Ipv4Packet) -> Vec<u8> {
    match &p.payload {
        IpPayload::Tcp(t) => emit_tcp(p.src, p.dst, t),
        IpPayload::Udp(u) => emit_udp(p.src, p.dst, u),
        IpPayload::Icmp(m) => emit_icmp(m),
        IpPayload::Ipip(inner) => {
            let mut v = Vec::new();
            emit_ipv4(inner, &mut v);
            v
        }
        IpPayload::Vrrp(v) => emit_vrrp(p.src, p.dst, v),
        IpPayload::Other { len, .. } => vec![0; usize::try_from(*len).unwrap_or(0)],
    }
}

fn emit_app(d: &AppData, out: &mut Vec<u8>) {
    match d {
        AppData::None => {}
        AppData::Bytes(b) => out.extend_from_slice(b),
        AppData::Opaque(n) => out.resize(out.len() + usize::try_from(*n).unwrap_or(0), 0),
    }
}

fn emit_tcp(src: Ipv4Addr, dst: Ipv4Addr, t: &TcpSegment) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + usize::try_from(t.data.len()).unwrap_or(0));
    put16(&mut out, t.sport);
    put16(&mut out, t.dport);
    put32(&mut out, t.seq);
    put32(&mut out, t.ack);
    out.push(5 << 4);
    out.push(t.flags.bits());
    put16(&mut out, t.window);
    put16(&mut out, 0); // checksum
    put16(&mut out, 0); // urgent pointer
    emit_app(&t.data, &mut out);
    let sum = pseudo_checksum(src, dst, 6, &out);
    set16(&mut out, 16, sum);
    out
}

fn emit_udp(src: Ipv4Addr, dst: Ipv4Addr, u: &UdpDatagram) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + usize::try_from(u.data.len()).unwrap_or(0));
    put16(&mut out, u.sport);
    put16(&mut out, u.dport);
    put16(&mut out, 0); // length, below
    put16(&mut out, 0); // checksum
    emit_app(&u.data, &mut out);
    let len = len16(out.len());
    set16(&mut out, 4, len);
    let sum = match pseudo_checksum(src, dst, 17, &out) {
        0 => 0xffff, // 0 means "no checksum" in UDP
        s => s,
    };
    set16(&mut out, 6, sum);
    out
}

fn emit_icmp(m: &IcmpMessage) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    match m {
        IcmpMessage::EchoRequest { id, seq } | IcmpMessage::EchoReply { id, seq } => {
            out.push(if matches!(m, IcmpMessage::EchoRequest { .. }) {
                8
            } else {
                0
            });
            out.push(0);
            put16(&mut out, 0);
            put16(&mut out, *id);
            put16(&mut out, *seq);
            out.extend((0..ECHO_DATA_LEN).map(|i| u8::try_from(i).unwrap_or(0)));
        }
        IcmpMessage::DestUnreachable { code, mtu, quoted } => {
            out.extend_from_slice(&[3, *code, 0, 0, 0, 0]);
            put16(&mut out, if *code == 4 { *mtu } else { 0 });
            emit_quote(quoted, &mut out);
        }
        IcmpMessage::TimeExceeded { quoted } => {
            out.extend_from_slice(&[11, 0, 0, 0, 0, 0, 0, 0]);
            emit_quote(quoted, &mut out);
        }
    }
    let sum = checksum(&out);
    set16(&mut out, 2, sum);
    out
}

/// The quoted IP header (as the datagram had it) and the first 8 bytes of
/// its payload, zero-padded if the payload is shorter.
fn emit_quote(q: &Ipv4Packet, out: &mut Vec<u8>) {
    let mut full = Vec::new();
    emit_ipv4(q, &mut full);
    full.resize(28, 0);
    out.extend_from_slice(&full[..28]);
}

fn emit_vrrp(src: Ipv4Addr, dst: Ipv4Addr, v: &VrrpAdvert) -> Vec<u8> {
    let addrs = &v.addrs[..v.addrs.len().min(255)];
    let mut out = Vec::with_capacity(16 + 4 * addrs.len());
    out.push(v.version << 4 | 1);
    out.push(v.vrid);
    out.push(v.priority);
    out.push(u8::try_from(addrs.len()).unwrap_or(u8::MAX));
    if v.version == 3 {
        put16(&mut out, v.interval & 0x0fff);
    } else {
        out.push(match v.auth {
            VrrpAuth::None => 0,
            VrrpAuth::Pass(_) => 1,
            VrrpAuth::Ah => 2,
        });
        out.push(u8::try_from(v.interval).unwrap_or(u8::MAX));
    }
    put16(&mut out, 0); // checksum
    for a in addrs {
        out.extend_from_slice(&a.octets());
    }
    if v.version != 3 {
        match &v.auth {
            VrrpAuth::Pass(p) => out.extend_from_slice(p),
            VrrpAuth::None | VrrpAuth::Ah => out.extend_from_slice(&[0; 8]),
        }
    }
    let sum = if v.version == 3 {
        pseudo_checksum(src, dst, 112, &out)
    } else {
        checksum(&out)
    };
    set16(&mut out, 6, sum);
    out
}

// ---------------------------------------------------------------------------
// ICMP quotes

fn opaque(n: u32) -> AppData {
    if n == 0 {
        AppData::None
    } else {
        AppData::Opaque(n)
    }
}

/// What survives of `p` when an ICMP error quotes it: the IP header and the
/// first 8 payload bytes. TCP keeps ports and sequence number, UDP its
/// ports, an echo its id and sequence; payload lengths stay (from the IP
/// total length) as [`AppData::Opaque`]; anything else becomes
/// [`IpPayload::Other`]. [`parse_frame`] returns exactly this for a quote.
#[must_use]
pub fn icmp_quote(p: &Ipv4Packet) -> Ipv4Packet {
    let payload = match &p.payload {
        IpPayload::Tcp(t) => IpPayload::Tcp(TcpSegment {
            sport: t.sport,
            dport: t.dport,
            seq: t.seq,
            ack: 0,
            flags: TcpFlags::default(),
            window: 0,
            data: opaque(t.data.len()),
        }),
        IpPayload::Udp(u) => IpPayload::Udp(UdpDatagram {
            sport: u.sport,
            dport: u.dport,
            data: opaque(u.data.len()),
        }),
        IpPayload::Icmp(m @ (IcmpMessage::EchoRequest { .. } | IcmpMessage::EchoReply { .. })) => {
            IpPayload::Icmp(m.clone())
        }
        _ => IpPayload::Other {
            proto: p.proto().number(),
            len: p.total_len().saturating_sub(20),
        },
    };
    Ipv4Packet {
        src: p.src,
        dst: p.dst,
        ttl: p.ttl,
        id: p.id,
        tos: p.tos,
        df: p.df,
        payload,
    }
}

// ---------------------------------------------------------------------------
// Parse

/// Parses an Ethernet II frame (with or without padding, without FCS).
///
/// # Errors
/// A [`WireError`] for truncated input, a bad checksum, an EtherType other
/// than IPv4/ARP, or a field the lab does not model (fragments, ARP for
/// other hardware). Unknown IP protocols parse as [`IpPayload::Other`].
pub fn parse_frame(bytes: &[u8]) -> Result<Frame, WireError> {
    const L: &str = "ethernet";
    let dst = mac_at(bytes, 0, L)?;
    let src = mac_at(bytes, 6, L)?;
    let et = u16_at(bytes, 12, L)?;
    let body = bytes.get(14..).unwrap_or(&[]);
    let payload = match et {
        ETHERTYPE_ARP => FramePayload::Arp(parse_arp(body)?),
        ETHERTYPE_IPV4 => FramePayload::Ipv4(parse_ipv4(body)?),
        other => return Err(WireError::UnknownEtherType(other)),
    };
    Ok(Frame { src, dst, payload })
}

fn parse_arp(b: &[u8]) -> Result<ArpPacket, WireError> {
    const L: &str = "arp";
    slice(b, 0, 28, L)?;
    let bad = |reason| WireError::Malformed { layer: L, reason };
    if u16_at(b, 0, L)? != 1 {
        return Err(bad("hardware type is not Ethernet"));
    }
    if u16_at(b, 2, L)? != ETHERTYPE_IPV4 {
        return Err(bad("protocol type is not IPv4"));
    }
    if u8_at(b, 4, L)? != 6 || u8_at(b, 5, L)? != 4 {
        return Err(bad("address lengths are not 6 and 4"));
    }
    let op = match u16_at(b, 6, L)? {
        1 => ArpOp::Request,
        2 => ArpOp::Reply,
        _ => return Err(bad("operation is neither request nor reply")),
    };
    Ok(ArpPacket {
        op,
        sha: mac_at(b, 8, L)?,
        spa: ip_at(b, 14, L)?,
        tha: mac_at(b, 18, L)?,
        tpa: ip_at(b, 24, L)?,
    })
}

/// Parses an IPv4 datagram; bytes past its total length are ignored.
///
/// # Errors
/// As [`parse_frame`].
pub fn parse_ipv4(b: &[u8]) -> Result<Ipv4Packet, WireError> {
    parse_ipv4_at(b, 0)
}

/// The header of an IPv4 datagram: fields, header length, total length.
struct IpHeader {
    hdr: Ipv4Packet,
    proto: u8,
    ihl: usize,
    total: usize,
}

fn parse_ip_header(b: &[u8]) -> Result<IpHeader, WireError> {
    const L: &str = "ipv4";
    let bad = |reason| WireError::Malformed { layer: L, reason };
    let vihl = u8_at(b, 0, L)?;
    if vihl >> 4 != 4 {
        return Err(bad("version is not 4"));
    }
    let ihl = usize::from(vihl & 0x0f) * 4;
    if ihl < 20 {
        return Err(bad("header length below 20"));
    }
    slice(b, 0, ihl, L)?;
    let total = usize::from(u16_at(b, 2, L)?);
    if total < ihl {
        return Err(bad("total length below header length"));
    }
    let frag = u16_at(b, 6, L)?;
    let hdr = Ipv4Packet {
        src: ip_at(b, 12, L)?,
        dst: ip_at(b, 16, L)?,
        ttl: u8_at(b, 8, L)?,
        id: u16_at(b, 4, L)?,
        tos: u8_at(b, 1, L)?,
        df: frag & 0x4000 != 0,
        payload: IpPayload::Other { proto: 0, len: 0 },
    };
    if frag & 0x3fff != 0 {
        return Err(bad("fragments are not modelled"));
    }
    Ok(IpHeader {
        hdr,
        proto: u8_at(b, 9, L)?,
        ihl,
        total,
    })
}

fn parse_ipv4_at(b: &[u8], depth: usize) -> Result<Ipv4Packet, WireError> {
    const L: &str = "ipv4";
    let h = parse_ip_header(b)?;
    let header = slice(b, 0, h.ihl, L)?;
    if checksum(header) != 0 {
        return Err(WireError::BadChecksum { layer: L });
    }
    let body = slice(b, h.ihl, h.total - h.ihl, L)?;
    let (src, dst) = (h.hdr.src, h.hdr.dst);
    let payload = match h.proto {
        1 => parse_icmp(body)?,
        4 => {
            if depth >= MAX_IPIP_DEPTH {
                return Err(WireError::Malformed {
                    layer: L,
                    reason: "IP-in-IP nested too deep",
                });
            }
            IpPayload::Ipip(Box::new(parse_ipv4_at(body, depth + 1)?))
        }
        6 => IpPayload::Tcp(parse_tcp(src, dst, body)?),
        17 => IpPayload::Udp(parse_udp(src, dst, body)?),
        112 => parse_vrrp(src, dst, body)?,
        proto => IpPayload::Other {
            proto,
            len: u32::try_from(body.len()).unwrap_or(u32::MAX),
        },
    };
    Ok(Ipv4Packet { payload, ..h.hdr })
}

fn app(b: &[u8]) -> AppData {
    if b.is_empty() {
        AppData::None
    } else {
        AppData::Bytes(Arc::from(b))
    }
}

fn parse_tcp(src: Ipv4Addr, dst: Ipv4Addr, b: &[u8]) -> Result<TcpSegment, WireError> {
    const L: &str = "tcp";
    slice(b, 0, 20, L)?;
    let doff = usize::from(u8_at(b, 12, L)? >> 4) * 4;
    if doff < 20 {
        return Err(WireError::Malformed {
            layer: L,
            reason: "data offset below 5",
        });
    }
    let data = b.get(doff..).ok_or(WireError::Truncated { layer: L })?;
    if pseudo_checksum(src, dst, 6, b) != 0 {
        return Err(WireError::BadChecksum { layer: L });
    }
    Ok(TcpSegment {
        sport: u16_at(b, 0, L)?,
        dport: u16_at(b, 2, L)?,
        seq: u32_at(b, 4, L)?,
        ack: u32_at(b, 8, L)?,
        flags: TcpFlags::from_bits(u8_at(b, 13, L)?),
        window: u16_at(b, 14, L)?,
        data: app(data),
    })
}

fn parse_udp(src: Ipv4Addr, dst: Ipv4Addr, b: &[u8]) -> Result<UdpDatagram, WireError> {
    const L: &str = "udp";
    let ulen = usize::from(u16_at(b, 4, L)?);
    if ulen < 8 {
        return Err(WireError::Malformed {
            layer: L,
            reason: "length below 8",
        });
    }
    let d = slice(b, 0, ulen, L)?;
    if u16_at(d, 6, L)? != 0 && pseudo_checksum(src, dst, 17, d) != 0 {
        return Err(WireError::BadChecksum { layer: L });
    }
    Ok(UdpDatagram {
        sport: u16_at(d, 0, L)?,
        dport: u16_at(d, 2, L)?,
        data: app(d.get(8..).unwrap_or(&[])),
    })
}

fn parse_icmp(b: &[u8]) -> Result<IpPayload, WireError> {
    const L: &str = "icmp";
    slice(b, 0, 8, L)?;
    if checksum(b) != 0 {
        return Err(WireError::BadChecksum { layer: L });
    }
    let id = u16_at(b, 4, L)?;
    let seq = u16_at(b, 6, L)?;
    let quote = || parse_quote(b.get(8..).unwrap_or(&[])).map(Box::new);
    let m = match (u8_at(b, 0, L)?, u8_at(b, 1, L)?) {
        (0, 0) => IcmpMessage::EchoReply { id, seq },
        (8, 0) => IcmpMessage::EchoRequest { id, seq },
        (3, code) => IcmpMessage::DestUnreachable {
            code,
            mtu: if code == 4 { seq } else { 0 },
            quoted: quote()?,
        },
        (11, 0) => IcmpMessage::TimeExceeded { quoted: quote()? },
        _ => {
            return Ok(IpPayload::Other {
                proto: 1,
                len: u32::try_from(b.len()).unwrap_or(u32::MAX),
            });
        }
    };
    Ok(IpPayload::Icmp(m))
}

/// Parses a quote in an ICMP error into the form [`icmp_quote`] gives.
fn parse_quote(b: &[u8]) -> Result<Ipv4Packet, WireError> {
    let h = parse_ip_header(b)?;
    let rest = b.get(h.ihl..).unwrap_or(&[]);
    let plen = h.total - h.ihl;
    let n = |hdr: usize| u32::try_from(plen.saturating_sub(hdr)).unwrap_or(u32::MAX);
    let w16 = |at| u16_at(rest, at, "icmp");
    let payload = match h.proto {
        6 if rest.len() >= 8 && plen >= 20 => IpPayload::Tcp(TcpSegment {
            sport: w16(0)?,
            dport: w16(2)?,
            seq: u32_at(rest, 4, "icmp")?,
            ack: 0,
            flags: TcpFlags::default(),
            window: 0,
            data: opaque(n(20)),
        }),
        17 if rest.len() >= 8 && plen >= 8 => IpPayload::Udp(UdpDatagram {
            sport: w16(0)?,
            dport: w16(2)?,
            data: opaque(n(8)),
        }),
        1 if rest.len() >= 8 && plen >= 8 && matches!(rest.get(..2), Some([0 | 8, 0])) => {
            let (id, seq) = (w16(4)?, w16(6)?);
            IpPayload::Icmp(if rest.first() == Some(&8) {
                IcmpMessage::EchoRequest { id, seq }
            } else {
                IcmpMessage::EchoReply { id, seq }
            })
        }
        proto => IpPayload::Other { proto, len: n(0) },
    };
    Ok(Ipv4Packet { payload, ..h.hdr })
}

fn parse_vrrp(src: Ipv4Addr, dst: Ipv4Addr, b: &[u8]) -> Result<IpPayload, WireError> {
    const L: &str = "vrrp";
    let vt = u8_at(b, 0, L)?;
    let version = vt >> 4;
    if vt & 0x0f != 1 || !(version == 2 || version == 3) {
        return Ok(IpPayload::Other {
            proto: 112,
            len: u32::try_from(b.len()).unwrap_or(u32::MAX),
        });
    }
    let count = usize::from(u8_at(b, 3, L)?);
    let msg_len = 8 + 4 * count + if version == 2 { 8 } else { 0 };
    let msg = slice(b, 0, msg_len, L)?;
    let sum = if version == 3 {
        pseudo_checksum(src, dst, 112, msg)
    } else {
        checksum(msg)
    };
    if sum != 0 {
        return Err(WireError::BadChecksum { layer: L });
    }
    let addrs = (0..count)
        .map(|i| ip_at(msg, 8 + 4 * i, L))
        .collect::<Result<Vec<_>, _>>()?;
    let (interval, auth) = if version == 3 {
        (u16_at(msg, 4, L)? & 0x0fff, VrrpAuth::None)
    } else {
        let auth = match u8_at(msg, 4, L)? {
            0 => VrrpAuth::None,
            1 => {
                let mut p = [0u8; 8];
                p.copy_from_slice(slice(msg, 8 + 4 * count, 8, L)?);
                VrrpAuth::Pass(p)
            }
            2 => VrrpAuth::Ah,
            _ => {
                return Err(WireError::Malformed {
                    layer: L,
                    reason: "unknown authentication type",
                });
            }
        };
        (u16::from(u8_at(msg, 5, L)?), auth)
    };
    Ok(IpPayload::Vrrp(VrrpAdvert {
        version,
        vrid: u8_at(msg, 1, L)?,
        priority: u8_at(msg, 2, L)?,
        interval,
        addrs,
        auth,
    }))
}
