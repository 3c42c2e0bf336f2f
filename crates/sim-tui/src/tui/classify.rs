//! What a record is about: packet kinds (for colours), filters, and which
//! records belong to the same packet on one host (for the inspector).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use sim_core::packet::{ArpOp, Frame, FramePayload, IpPayload, Ipv4Packet};
use sim_core::trace::{TraceKind, TraceRecord};
use sim_core::world::World;

/// The kind of a packet, as the topology colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketKind {
    /// ARP request or reply.
    Arp,
    /// Client towards a service (destination port below source port).
    Request,
    /// Service back to a client.
    Reply,
    /// VRRP advertisement.
    Vrrp,
    /// A health check between a director and a real server.
    Check,
    /// ICMP and anything else.
    Other,
}

/// The event filter (`f` cycles through these).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Filter {
    /// Everything.
    #[default]
    All,
    /// ARP packets and neighbour-cache changes.
    Arp,
    /// TCP packets, IPVS decisions and rewrites, application results.
    Tcp,
    /// VRRP packets and keepalived state changes.
    Vrrp,
    /// Health-check traffic and checker results.
    Checks,
    /// One connection: (client addr, client port) ↔ anything.
    Conn(Ipv4Addr, u16),
}

/// Facts about the lab used to classify packets.
#[derive(Clone, Debug, Default)]
pub struct Lab {
    /// Virtual addresses: IPVS service addresses and addresses held by more
    /// than one host.
    pub vips: BTreeSet<Ipv4Addr>,
    /// Non-VIP addresses of directors (hosts with IPVS services or a
    /// keepalived.conf): health checks come from these.
    pub director_addrs: BTreeSet<Ipv4Addr>,
    /// Hosts holding a VIP on lo or tunl0 (DR/TUN real servers).
    pub vip_hidden: BTreeSet<String>,
    /// FULLNAT local addresses: they carry client traffic, not checks.
    pub laddrs: BTreeSet<Ipv4Addr>,
    /// Hosts that ran httpd when the UI opened (web servers).
    pub web: BTreeSet<String>,
}

impl Lab {
    /// Learns the lab's VIPs and director addresses from a world.
    #[must_use]
    pub fn of(w: &World) -> Lab {
        let mut seen: std::collections::BTreeMap<Ipv4Addr, usize> = Default::default();
        let mut vips = BTreeSet::new();
        let mut laddrs = BTreeSet::new();
        for h in &w.hosts {
            for (_, a, _) in h.addresses() {
                *seen.entry(a).or_default() += 1;
            }
            for (_, s) in h.ipvs.services() {
                if let sim_core::ipvs::types::ServiceKey::Addr { addr, .. } = s.key {
                    vips.insert(addr);
                }
                laddrs.extend(s.laddrs.iter().copied());
            }
        }
        vips.extend(seen.iter().filter(|(_, n)| **n > 1).map(|(a, _)| *a));
        let mut director_addrs = BTreeSet::new();
        for h in &w.hosts {
            let director = h.ipvs.services().next().is_some()
                || h.files.contains_key("/etc/keepalived/keepalived.conf");
            if director {
                director_addrs.extend(
                    h.addresses()
                        .into_iter()
                        .map(|(_, a, _)| a)
                        .filter(|a| !vips.contains(a)),
                );
            }
        }
        let vip_hidden = w
            .hosts
            .iter()
            .filter(|h| {
                h.ifaces.iter().any(|i| {
                    i.kind != sim_core::host::IfKind::Ether
                        && i.addrs.iter().any(|a| vips.contains(&a.addr))
                })
            })
            .map(|h| h.name.clone())
            .collect();
        let web = w
            .hosts
            .iter()
            .filter(|h| h.services.httpd)
            .map(|h| h.name.clone())
            .collect();
        Lab {
            web,
            vips,
            director_addrs,
            vip_hidden,
            laddrs,
        }
    }

    /// The kind of a frame.
    #[must_use]
    pub fn kind(&self, f: &Frame) -> PacketKind {
        let ip = match &f.payload {
            FramePayload::Arp(_) => return PacketKind::Arp,
            FramePayload::Ipv4(p) => innermost(p),
        };
        match &ip.payload {
            IpPayload::Vrrp(_) => PacketKind::Vrrp,
            IpPayload::Tcp(_) | IpPayload::Udp(_) => {
                let d = &self.director_addrs;
                let client = |a| self.vips.contains(a) || self.laddrs.contains(a);
                let vip = client(&ip.src) || client(&ip.dst);
                if !vip && (d.contains(&ip.src) || d.contains(&ip.dst)) {
                    return PacketKind::Check;
                }
                match ip.ports() {
                    Some((s, d)) if d < s => PacketKind::Request,
                    Some(_) => PacketKind::Reply,
                    None => PacketKind::Other,
                }
            }
            _ => PacketKind::Other,
        }
    }

    /// Does the record pass the filter?
    #[must_use]
    pub fn matches(&self, filter: &Filter, r: &TraceRecord) -> bool {
        let frame = r.kind.frame();
        let kind = frame.map(|f| self.kind(f));
        match filter {
            Filter::All => true,
            Filter::Arp => {
                kind == Some(PacketKind::Arp) || matches!(r.kind, TraceKind::Neigh { .. })
            }
            Filter::Tcp => {
                frame.is_some_and(|f| f.ipv4().is_some_and(|p| innermost(p).tcp().is_some()))
                    || matches!(r.kind, TraceKind::Ipvs { .. } | TraceKind::App { .. })
            }
            Filter::Vrrp => {
                kind == Some(PacketKind::Vrrp)
                    || matches!(&r.kind, TraceKind::Keepalived { text } if !is_check_text(text))
            }
            Filter::Checks => {
                kind == Some(PacketKind::Check)
                    || matches!(&r.kind, TraceKind::Keepalived { text } if is_check_text(text))
            }
            Filter::Conn(a, p) => frame
                .and_then(conn_of)
                .is_some_and(|(x, y)| x == (*a, *p) || y == (*a, *p)),
        }
    }
}

fn is_check_text(t: &str) -> bool {
    let l = t.to_ascii_lowercase();
    l.contains("check") || l.contains("http_get") || l.contains("misc")
}

/// The innermost IP packet (through IPIP).
#[must_use]
pub fn innermost(p: &Ipv4Packet) -> &Ipv4Packet {
    match &p.payload {
        IpPayload::Ipip(inner) => innermost(inner),
        _ => p,
    }
}

/// Both endpoints of a TCP/UDP packet, innermost header.
#[must_use]
pub fn conn_of(f: &Frame) -> Option<((Ipv4Addr, u16), (Ipv4Addr, u16))> {
    let ip = innermost(f.ipv4()?);
    let (s, d) = ip.ports()?;
    Some(((ip.src, s), (ip.dst, d)))
}

/// The client end of a connection (the side with the higher port).
#[must_use]
pub fn client_end(f: &Frame) -> Option<(Ipv4Addr, u16)> {
    let (a, b) = conn_of(f)?;
    Some(if a.1 >= b.1 { a } else { b })
}

/// What stays the same for one packet while a host forwards, NATs or
/// tunnels it: IP id and protocol, TCP sequence/ack/flags and length of
/// the innermost header; ARP op and addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketKey {
    /// ARP.
    Arp(ArpOp, Ipv4Addr, Ipv4Addr),
    /// IPv4.
    Ip(u16, u8, u32, u32, u8, u32),
}

/// The identity of the packet in a frame.
#[must_use]
pub fn packet_key(f: &Frame) -> PacketKey {
    match &f.payload {
        FramePayload::Arp(a) => PacketKey::Arp(a.op, a.spa, a.tpa),
        FramePayload::Ipv4(p) => {
            let ip = innermost(p);
            let (seq, ack, flags) = ip
                .tcp()
                .map_or((0, 0, 0), |t| (t.seq, t.ack, t.flags.bits()));
            PacketKey::Ip(ip.id, ip.proto().number(), seq, ack, flags, ip.total_len())
        }
    }
}
