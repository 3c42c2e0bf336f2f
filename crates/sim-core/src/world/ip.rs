//! Layer 3: IPv4 input, routing, forwarding, local output, ICMP, and the
//! netfilter hook traversals around them.

use std::net::Ipv4Addr;

use super::World;
use crate::host::HostId;
use crate::host::netfilter::{Hook, PktInfo, Verdict};
use crate::packet::{
    AppData, Frame, FramePayload, IcmpMessage, IpPayload, Ipv4Packet, MacAddr, TcpFlags, TcpSegment,
};
use crate::trace::TraceKind;

/// A route decision for an outgoing packet.
#[derive(Clone, Debug)]
pub struct OutRoute {
    /// Output interface index.
    pub iface: usize,
    /// Next hop (the gateway, or the destination itself).
    pub nexthop: Ipv4Addr,
    /// Preferred source address.
    pub src: Option<Ipv4Addr>,
}

/// The fields netfilter rules match on.
fn pkt_info(p: &Ipv4Packet, in_if: Option<&str>, out_if: Option<&str>, mark: u32) -> PktInfo {
    let (sport, dport) = p.ports().map_or((None, None), |(s, d)| (Some(s), Some(d)));
    PktInfo {
        proto: p.proto().number(),
        src: Some(p.src),
        dst: Some(p.dst),
        sport,
        dport,
        in_if: in_if.map(str::to_string),
        out_if: out_if.map(str::to_string),
        mark,
        len: p.total_len(),
    }
}

impl World {
    /// Looks up the route for `dst` on host `h`.
    #[must_use]
    pub fn route_output(&self, h: HostId, dst: Ipv4Addr) -> Option<OutRoute> {
        let host = &self.hosts[h];
        if host.is_local(dst) {
            return Some(OutRoute {
                iface: 0,
                nexthop: dst,
                src: Some(dst),
            });
        }
        if dst.is_multicast() || dst == Ipv4Addr::BROADCAST {
            // Multicast goes out of the first up Ethernet NIC unless routed.
            let i = host
                .ifaces
                .iter()
                .position(|i| i.up && i.segment.is_some())?;
            return Some(OutRoute {
                iface: i,
                nexthop: dst,
                src: host.ifaces[i].source_for(dst),
            });
        }
        let r = host.routes.lookup(dst)?;
        let iface = host.iface_by_name(&r.dev)?;
        if !host.ifaces[iface].up {
            return None;
        }
        let src = r
            .src
            .or_else(|| host.ifaces[iface].source_for(r.via.unwrap_or(dst)));
        Some(OutRoute {
            iface,
            nexthop: r.via.unwrap_or(dst),
            src,
        })
    }

    /// Runs the user tables at `hook` and records the traversal.
    pub(crate) fn nf_hook(
        &mut self,
        h: HostId,
        hook: Hook,
        p: &Ipv4Packet,
        in_if: Option<usize>,
        out_if: Option<usize>,
        mark: &mut u32,
    ) -> Verdict {
        let host = &mut self.hosts[h];
        let verdict = if host.netfilter.is_empty() {
            host.netfilter.count_policies(hook, p.total_len());
            Verdict::Accept
        } else {
            let in_name = in_if.map(|i| host.ifaces[i].name.clone());
            let out_name = out_if.map(|i| host.ifaces[i].name.clone());
            let mut info = pkt_info(p, in_name.as_deref(), out_name.as_deref(), *mark);
            let r = host.netfilter.run(hook, &mut info);
            *mark = info.mark;
            for l in r.logs {
                self.tr(h, false, TraceKind::Log { text: l });
            }
            r.verdict
        };
        if self.trace.full() {
            let frame = Frame {
                src: MacAddr::ZERO,
                dst: MacAddr::ZERO,
                payload: FramePayload::Ipv4(p.clone()),
            };
            self.tr(
                h,
                true,
                TraceKind::Hook {
                    hook,
                    verdict,
                    frame,
                },
            );
        }
        verdict
    }

    /// An IPv4 packet arrives on `iface`.
    pub(crate) fn ip_rcv(
        &mut self,
        h: HostId,
        iface: usize,
        smac: MacAddr,
        dmac: MacAddr,
        p: Ipv4Packet,
    ) {
        let _ = dmac;
        let mut mark = 0;
        match self.nf_hook(h, Hook::PreRouting, &p, Some(iface), None, &mut mark) {
            Verdict::Accept => {}
            v => return self.nf_refused(h, Hook::PreRouting, v, &p),
        }
        let host = &self.hosts[h];
        let local = host.is_local(p.dst)
            || p.dst == Ipv4Addr::BROADCAST
            || p.dst.is_multicast()
            || host
                .ifaces
                .iter()
                .any(|i| i.addrs.iter().any(|a| a.brd == Some(p.dst)));
        if local {
            if self.trace.full() {
                self.tr(
                    h,
                    true,
                    TraceKind::Route {
                        text: format!("{} is local: deliver (INPUT)", p.dst),
                    },
                );
            }
            if let Some(tcp) = p.tcp()
                && tcp.flags.ack
            {
                self.neigh_confirm(h, iface, p.src, smac);
            }
            self.ip_local_deliver(h, iface, p, mark);
        } else if host.sysctl.ip_forward() {
            self.ip_forward(h, iface, p, mark);
        } else {
            self.drop_pkt(
                h,
                &format!(
                    "{} is not a local address and ip_forward=0: not forwarded",
                    p.dst
                ),
            );
        }
    }

    fn nf_refused(&mut self, h: HostId, hook: Hook, v: Verdict, p: &Ipv4Packet) {
        self.drop_pkt(h, &format!("iptables {} {} {p}", hook.name(), v.name()));
        if v == Verdict::Reject {
            self.icmp_error(h, p, 3, 0);
        }
    }

    fn ip_local_deliver(&mut self, h: HostId, iface: usize, p: Ipv4Packet, mut mark: u32) {
        match self.nf_hook(h, Hook::Input, &p, Some(iface), None, &mut mark) {
            Verdict::Accept => {}
            v => return self.nf_refused(h, Hook::Input, v, &p),
        }
        // IPVS sits at LOCAL_IN priority 99, after the filter table.
        let Some(p) = self.ipvs_local_in(h, iface, p, mark) else {
            return;
        };
        match p.payload {
            IpPayload::Tcp(seg) => self.tcp_rcv(h, p.src, p.dst, seg),
            IpPayload::Udp(u) => {
                let q = Ipv4Packet {
                    payload: IpPayload::Udp(u),
                    ..p
                };
                self.icmp_error(h, &q, 3, 3);
            }
            IpPayload::Icmp(m) => self.icmp_rcv(h, p.src, p.dst, m),
            IpPayload::Ipip(inner) => self.ipip_rcv(h, iface, p.src, *inner),
            IpPayload::Vrrp(v) => self.vrrp_rcv(h, iface, p.src, p.ttl, v),
            IpPayload::Other { proto, .. } => {
                self.drop_pkt(h, &format!("no handler for IP protocol {proto}"));
            }
        }
    }

    fn ip_forward(&mut self, h: HostId, iface: usize, mut p: Ipv4Packet, mut mark: u32) {
        if p.ttl <= 1 {
            self.icmp_time_exceeded(h, &p);
            self.drop_pkt(h, "TTL exceeded while forwarding");
            return;
        }
        let Some(rt) = self.route_output(h, p.dst) else {
            self.icmp_error(h, &p, 3, 0);
            self.drop_pkt(h, &format!("no route to {} while forwarding", p.dst));
            return;
        };
        if self.trace.full() {
            let dev = self.hosts[h].ifaces[rt.iface].name.clone();
            self.tr(
                h,
                true,
                TraceKind::Route {
                    text: format!("forward to {} via {dev} (FORWARD)", rt.nexthop),
                },
            );
        }
        match self.nf_hook(h, Hook::Forward, &p, Some(iface), Some(rt.iface), &mut mark) {
            Verdict::Accept => {}
            v => return self.nf_refused(h, Hook::Forward, v, &p),
        }
        // IPVS FORWARD priority 100: NAT replies get their source rewritten.
        p = match self.ipvs_forward(h, p) {
            Some(q) => q,
            None => return,
        };
        p.ttl -= 1;
        let rt = self.route_output(h, p.dst).unwrap_or(rt);
        self.ip_postrouting(h, rt.iface, rt.nexthop, p, mark);
    }

    /// POSTROUTING, then neighbour output.
    pub(crate) fn ip_postrouting(
        &mut self,
        h: HostId,
        out: usize,
        nh: Ipv4Addr,
        p: Ipv4Packet,
        mut mark: u32,
    ) {
        match self.nf_hook(h, Hook::PostRouting, &p, None, Some(out), &mut mark) {
            Verdict::Accept => self.neigh_output(h, out, nh, p),
            v => self.nf_refused(h, Hook::PostRouting, v, &p),
        }
    }

    /// Sends a locally generated packet: route, OUTPUT, POSTROUTING, ARP.
    /// A zero source address is filled from the route.
    pub fn ip_output(&mut self, h: HostId, mut p: Ipv4Packet) {
        let Some(rt) = self.route_output(h, p.dst) else {
            self.drop_pkt(
                h,
                &format!("no route to host {} (network unreachable)", p.dst),
            );
            self.tcp_unreachable(h, p.dst);
            return;
        };
        if p.src.is_unspecified() {
            match rt.src {
                Some(s) => p.src = s,
                None => {
                    self.drop_pkt(h, "no source address for output");
                    return;
                }
            }
        }
        if p.id == 0 {
            p.id = self.hosts[h].next_ip_id();
        }
        let mut mark = 0;
        match self.nf_hook(h, Hook::Output, &p, None, Some(rt.iface), &mut mark) {
            Verdict::Accept => {}
            v => return self.nf_refused(h, Hook::Output, v, &p),
        }
        self.ip_postrouting(h, rt.iface, rt.nexthop, p, mark);
    }

    /// Sends ICMP destination unreachable `code` about `about`.
    pub(crate) fn icmp_error(&mut self, h: HostId, about: &Ipv4Packet, typ: u8, code: u8) {
        if matches!(about.payload, IpPayload::Icmp(_)) || about.src.is_unspecified() {
            return;
        }
        let msg = match typ {
            11 => IcmpMessage::TimeExceeded {
                quoted: Box::new(about.clone()),
            },
            _ => IcmpMessage::DestUnreachable {
                code,
                mtu: 0,
                quoted: Box::new(about.clone()),
            },
        };
        // The error comes from the address the packet was sent to when local.
        let src = if self.hosts[h].is_local(about.dst) {
            about.dst
        } else {
            Ipv4Addr::UNSPECIFIED
        };
        let q = Ipv4Packet::new(src, about.src, IpPayload::Icmp(msg));
        let q = Ipv4Packet { df: false, ..q };
        self.ip_output(h, q);
    }

    fn icmp_time_exceeded(&mut self, h: HostId, about: &Ipv4Packet) {
        self.icmp_error(h, about, 11, 0);
    }

    fn icmp_rcv(&mut self, h: HostId, src: Ipv4Addr, dst: Ipv4Addr, m: IcmpMessage) {
        match m {
            IcmpMessage::EchoRequest { id, seq } => {
                let r = Ipv4Packet::new(
                    dst,
                    src,
                    IpPayload::Icmp(IcmpMessage::EchoReply { id, seq }),
                );
                self.ip_output(h, r);
            }
            IcmpMessage::DestUnreachable { code, quoted, .. } => {
                if let Some(t) = quoted.tcp() {
                    let key = (quoted.src, t.sport, quoted.dst, t.dport);
                    let err = if code == 3 {
                        "Connection refused"
                    } else {
                        "No route to host"
                    };
                    self.tcp_error(h, key, err);
                }
            }
            _ => {}
        }
    }

    fn ipip_rcv(&mut self, h: HostId, iface: usize, outer_src: Ipv4Addr, inner: Ipv4Packet) {
        let _ = iface;
        let Some(t) = self.hosts[h]
            .iface_by_name("tunl0")
            .filter(|&i| self.hosts[h].ifaces[i].up)
        else {
            self.drop_pkt(h, &format!("IPIP packet from {outer_src} but tunl0 is not up (modprobe ipip; ip link set tunl0 up)"));
            return;
        };
        // rp_filter: the inner source arrives on tunl0 but routes back via
        // another device; strict mode (1) drops it.
        let host = &self.hosts[h];
        let rp = host.sysctl.conf_max("tunl0", "rp_filter");
        if rp == 1 {
            let back = host.routes.lookup(inner.src).map(|r| r.dev.clone());
            if back.as_deref() != Some("tunl0") {
                self.drop_pkt(
                    h,
                    "rp_filter=1 on tunl0: decapsulated packet's source routes via another device",
                );
                return;
            }
        }
        if self.trace.full() {
            self.tr(
                h,
                true,
                TraceKind::Route {
                    text: format!("IPIP decapsulated on tunl0 (outer source {outer_src})"),
                },
            );
        }
        self.ip_rcv(h, t, MacAddr::ZERO, MacAddr::ZERO, inner);
    }

    /// Sends a TCP RST in answer to `seg` (nothing listens, or no socket).
    pub(crate) fn tcp_send_rst(
        &mut self,
        h: HostId,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        seg: &TcpSegment,
    ) {
        if seg.flags.rst {
            return;
        }
        let (seq, ack, flags) = if seg.flags.ack {
            (seg.ack, 0, TcpFlags::RST)
        } else {
            let len = seg.data.len() + u32::from(seg.flags.syn) + u32::from(seg.flags.fin);
            (0, seg.seq.wrapping_add(len), TcpFlags::RST_ACK)
        };
        let r = TcpSegment {
            sport: seg.dport,
            dport: seg.sport,
            seq,
            ack,
            flags,
            window: 0,
            data: AppData::None,
        };
        self.ip_output(h, Ipv4Packet::new(dst, src, IpPayload::Tcp(r)));
    }
}
