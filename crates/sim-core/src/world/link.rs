//! Layer 2: putting frames on segments, receiving them, and ARP (requests,
//! replies, gratuitous ARP, `arp_ignore`/`arp_announce`, the neighbour
//! state machine).

use std::net::Ipv4Addr;
use std::sync::Arc;

use super::{Event, World};
use crate::host::neigh::{NudState, UNRES_QLEN};
use crate::host::{HostId, IfKind};
use crate::packet::{ArpOp, ArpPacket, Frame, FramePayload, Ipv4Packet, MacAddr};
use crate::rng;
use crate::time::{NS_PER_S, SimDuration};
use crate::trace::TraceKind;

/// `retrans_time_ms` default.
/// `net.ipv4.neigh.*.locktime`: the ARP table default, `1 * HZ` = 1 s.
const ARP_LOCKTIME: SimDuration = SimDuration::from_secs(1);
const RETRANS: SimDuration = SimDuration::from_secs(1);
/// `delay_first_probe_time` default.
const DELAY_PROBE: SimDuration = SimDuration::from_secs(5);
/// `mcast_solicit` / `ucast_solicit` defaults.
const SOLICIT: u32 = 3;

impl World {
    /// Puts `frame` on the wire of `iface` (an Ethernet NIC).
    pub(crate) fn transmit(&mut self, h: HostId, iface: usize, frame: Frame) {
        let host = &mut self.hosts[h];
        let nic = &mut host.ifaces[iface];
        if !nic.up || !host.powered {
            return;
        }
        let Some(seg) = nic.segment else { return };
        let bits = u64::from(frame.wire_len()) * 8;
        let segment = &self.segments[seg];
        let ser = bits
            .saturating_mul(NS_PER_S)
            .checked_div(segment.bandwidth_bps)
            .unwrap_or(0);
        let start = nic.tx_busy_until.max(self.now);
        nic.tx_busy_until = start + SimDuration(ser);
        let arrive = nic.tx_busy_until + segment.latency;
        self.counters[h].tx += 1;
        if self.trace.full() {
            let name: Arc<str> = Arc::from(self.hosts[h].ifaces[iface].name.as_str());
            self.tr(
                h,
                true,
                TraceKind::Tx {
                    iface: name,
                    frame: frame.clone(),
                },
            );
        }
        let dst = frame.dst;
        let n = self.segments[seg].ports.len();
        for k in 0..n {
            let (oh, oi) = self.segments[seg].ports[k];
            if oh == h && oi == iface {
                continue;
            }
            let mac = self.hosts[oh].ifaces[oi].mac;
            if dst.is_group() || dst == mac {
                self.queue.push(
                    arrive,
                    Event::Deliver {
                        host: oh,
                        iface: oi,
                        frame: frame.clone(),
                    },
                );
            }
        }
    }

    /// A frame arrives at a NIC.
    pub(crate) fn deliver(&mut self, h: HostId, iface: usize, frame: Frame) {
        let host = &self.hosts[h];
        if !host.powered || !host.ifaces[iface].up {
            return;
        }
        let mac = host.ifaces[iface].mac;
        if !(frame.dst == mac || frame.dst.is_group() || host.ifaces[iface].kind != IfKind::Ether) {
            return;
        }
        self.counters[h].rx += 1;
        if self.trace.full() {
            let name: Arc<str> = Arc::from(self.hosts[h].ifaces[iface].name.as_str());
            self.tr(
                h,
                true,
                TraceKind::Rx {
                    iface: name,
                    frame: frame.clone(),
                },
            );
        }
        match frame.payload {
            FramePayload::Arp(a) => self.arp_rcv(h, iface, a),
            FramePayload::Ipv4(p) => self.ip_rcv(h, iface, frame.src, frame.dst, p),
        }
    }

    /// Whether `arp_ignore` (max of all and the device) lets this host
    /// answer request `a` for one of its addresses; traces the refusal.
    fn arp_answer(&mut self, h: HostId, iface: usize, a: &ArpPacket) -> bool {
        let host = &self.hosts[h];
        let dev = host.ifaces[iface].name.clone();
        let ignore = host.sysctl.conf_max(&dev, "arp_ignore");
        let on_dev = host.ifaces[iface].addrs.iter().find(|x| x.addr == a.tpa);
        let reply = match ignore {
            0 | 4..=7 => true,
            1 => on_dev.is_some(),
            2 => on_dev.is_some_and(|x| crate::packet::in_subnet(a.spa, x.addr, x.prefix)),
            3 => host
                .ifaces
                .iter()
                .flat_map(|i| &i.addrs)
                .find(|x| x.addr == a.tpa)
                .is_some_and(|x| !x.host_scope),
            _ => false,
        };
        if !reply {
            let why = format!(
                "ARP request for {} not answered: arp_ignore={ignore} (max of all and {dev}) and {} is not on {dev}",
                a.tpa, a.tpa
            );
            self.tr(h, false, TraceKind::Neigh { text: why });
        }
        reply
    }

    /// Linux `arp_process`.
    fn arp_rcv(&mut self, h: HostId, iface: usize, a: ArpPacket) {
        let now = self.now;
        let host = &mut self.hosts[h];
        let dev = host.ifaces[iface].name.clone();
        // Update an existing entry for the sender (any ARP; a GARP included).
        let mut flushed: Vec<Ipv4Packet> = Vec::new();
        let mut note = None;
        let for_us = a.op == ArpOp::Request && host.is_local(a.tpa);
        // A request for a local address that arp_ignore says not to answer
        // is consumed without touching the neighbour table (arp_process
        // creates the sender's entry only when it replies).
        if for_us && !self.arp_answer(h, iface, &a) {
            return;
        }
        let host = &mut self.hosts[h];
        if let Some(e) = host.neigh.get_mut(iface, a.spa) {
            let changed = e.mac != Some(a.sha);
            // arp_process: "if several different ARP replies follow back-to-back,
            // use the FIRST one": no override within locktime (1 s) unless the
            // packet is a gratuitous ARP or a request for one of our addresses.
            let valid =
                e.mac.is_some() && !matches!(e.state, NudState::Incomplete | NudState::Failed);
            let locked =
                valid && changed && !for_us && !a.is_gratuitous() && now < e.updated + ARP_LOCKTIME;
            if locked {
                note = Some(format!(
                    "{} is-at {} ignored: the entry got {} less than locktime (1 s) ago; \
                     Linux keeps the first answer",
                    a.spa,
                    a.sha,
                    e.mac.map(|m| m.to_string()).unwrap_or_default()
                ));
            } else if e.state != NudState::Permanent {
                if changed {
                    e.updated = now;
                }
                let solicited = a.op == ArpOp::Reply
                    && matches!(
                        e.state,
                        NudState::Incomplete | NudState::Probe | NudState::Delay
                    );
                if solicited {
                    e.state = NudState::Reachable;
                    e.confirmed = now;
                    let base = 30 * NS_PER_S;
                    e.reachable_time =
                        SimDuration(base / 2 + rng::below(&mut self.host_rng[h], base));
                    e.epoch += 1;
                } else if changed || e.state == NudState::Failed {
                    e.state = NudState::Stale;
                }
                if changed || solicited {
                    note = Some(format!(
                        "{} dev {dev} lladdr {} {}{}",
                        a.spa,
                        a.sha,
                        e.state.name(),
                        if a.is_gratuitous() {
                            " (gratuitous ARP)"
                        } else {
                            ""
                        }
                    ));
                }
                e.mac = Some(a.sha);
                flushed = std::mem::take(&mut e.queue);
            }
        } else if for_us || (a.is_gratuitous() && host.sysctl.conf_max(&dev, "arp_accept") == 1) {
            // A request for one of our addresses creates a STALE entry for the sender.
            let e = host.neigh.incomplete(iface, a.spa);
            e.mac = Some(a.sha);
            e.updated = now;
            e.state = NudState::Stale;
            note = Some(format!(
                "{} dev {dev} lladdr {} STALE (learned from its request)",
                a.spa, a.sha
            ));
        }
        if let Some(t) = note {
            self.tr(h, false, TraceKind::Neigh { text: t });
        }
        for p in flushed {
            self.neigh_send(h, iface, a.spa, a.sha, p);
        }
        if a.op != ArpOp::Request || !for_us {
            return;
        }
        let host = &self.hosts[h];
        let mac = host.ifaces[iface].mac;
        let r = ArpPacket {
            op: ArpOp::Reply,
            sha: mac,
            spa: a.tpa,
            tha: a.sha,
            tpa: a.spa,
        };
        self.transmit(
            h,
            iface,
            Frame {
                src: mac,
                dst: a.sha,
                payload: FramePayload::Arp(r),
            },
        );
    }

    /// Sends `p` to next hop `nh` on `iface`, resolving its MAC first.
    pub(crate) fn neigh_output(&mut self, h: HostId, iface: usize, nh: Ipv4Addr, p: Ipv4Packet) {
        let now = self.now;
        let kind = self.hosts[h].ifaces[iface].kind;
        match kind {
            IfKind::Loopback => {
                self.queue.push(
                    now,
                    Event::Deliver {
                        host: h,
                        iface,
                        frame: Frame {
                            src: MacAddr::ZERO,
                            dst: MacAddr::ZERO,
                            payload: FramePayload::Ipv4(p),
                        },
                    },
                );
                return;
            }
            IfKind::Ipip => {
                self.drop_pkt(h, "sending through tunl0 is not modelled");
                return;
            }
            IfKind::Ether => {}
        }
        if nh.is_multicast() || nh == Ipv4Addr::BROADCAST {
            let dst = if nh.is_multicast() {
                MacAddr::ipv4_multicast(nh)
            } else {
                MacAddr::BROADCAST
            };
            self.neigh_send(h, iface, nh, dst, p);
            return;
        }
        let host = &mut self.hosts[h];
        let entry = host.neigh.incomplete(iface, nh);
        let st = entry.state_at(now);
        match (st, entry.mac) {
            (
                NudState::Reachable | NudState::Permanent | NudState::Delay | NudState::Probe,
                Some(m),
            ) => {
                self.neigh_send(h, iface, nh, m, p);
            }
            (NudState::Stale, Some(m)) => {
                entry.state = NudState::Delay;
                entry.epoch += 1;
                let epoch = entry.epoch;
                self.queue.push(
                    now + DELAY_PROBE,
                    Event::NeighTimer {
                        host: h,
                        iface,
                        ip: nh,
                        epoch,
                    },
                );
                self.neigh_send(h, iface, nh, m, p);
            }
            _ => {
                // INCOMPLETE or FAILED (a new resolution starts).
                let start = entry.state != NudState::Incomplete || entry.probes == 0;
                if entry.queue.len() >= UNRES_QLEN {
                    entry.queue.remove(0);
                }
                let src = p.src;
                entry.queue.push(p);
                if start {
                    entry.state = NudState::Incomplete;
                    entry.mac = None;
                    entry.probes = 1;
                    entry.epoch += 1;
                    let epoch = entry.epoch;
                    self.queue.push(
                        now + RETRANS,
                        Event::NeighTimer {
                            host: h,
                            iface,
                            ip: nh,
                            epoch,
                        },
                    );
                    self.send_arp_request(h, iface, nh, Some(src), None);
                }
            }
        }
    }

    /// Frames an IP packet to a known MAC and transmits it.
    fn neigh_send(&mut self, h: HostId, iface: usize, _nh: Ipv4Addr, dst: MacAddr, p: Ipv4Packet) {
        let src = self.hosts[h].ifaces[iface].mac;
        self.transmit(
            h,
            iface,
            Frame {
                src,
                dst,
                payload: FramePayload::Ipv4(p),
            },
        );
    }

    /// An ARP request for `target`; source chosen by `arp_announce`.
    /// `unicast` = the MAC to probe (PROBE state), else broadcast.
    pub(crate) fn send_arp_request(
        &mut self,
        h: HostId,
        iface: usize,
        target: Ipv4Addr,
        pkt_src: Option<Ipv4Addr>,
        unicast: Option<MacAddr>,
    ) {
        let host = &self.hosts[h];
        let nic = &host.ifaces[iface];
        let announce = host.sysctl.conf_max(&nic.name, "arp_announce");
        let on_subnet = |a: Ipv4Addr| {
            nic.addrs
                .iter()
                .any(|x| x.addr == a && crate::packet::in_subnet(target, x.addr, x.prefix))
        };
        let spa = match (announce, pkt_src) {
            (0, Some(s)) if host.is_local(s) => Some(s),
            (1, Some(s)) if on_subnet(s) => Some(s),
            _ => nic.source_for(target).or_else(|| {
                host.ifaces
                    .iter()
                    .flat_map(|i| &i.addrs)
                    .find(|a| !a.host_scope)
                    .map(|a| a.addr)
            }),
        };
        let Some(spa) = spa else {
            self.drop_pkt(h, "no source address for ARP request");
            return;
        };
        let mac = nic.mac;
        let a = ArpPacket {
            op: ArpOp::Request,
            sha: mac,
            spa,
            tha: MacAddr::ZERO,
            tpa: target,
        };
        let dst = unicast.unwrap_or(MacAddr::BROADCAST);
        self.transmit(
            h,
            iface,
            Frame {
                src: mac,
                dst,
                payload: FramePayload::Arp(a),
            },
        );
    }

    /// Sends a gratuitous ARP for `ip` out of `iface`.
    pub fn send_garp(&mut self, h: HostId, iface: usize, ip: Ipv4Addr) {
        let mac = self.hosts[h].ifaces[iface].mac;
        let a = ArpPacket {
            op: ArpOp::Request,
            sha: mac,
            spa: ip,
            tha: MacAddr::BROADCAST,
            tpa: ip,
        };
        self.transmit(
            h,
            iface,
            Frame {
                src: mac,
                dst: MacAddr::BROADCAST,
                payload: FramePayload::Arp(a),
            },
        );
    }

    pub(crate) fn neigh_timer(&mut self, h: HostId, iface: usize, ip: Ipv4Addr, epoch: u64) {
        let now = self.now;
        let Some(e) = self.hosts[h].neigh.get_mut(iface, ip) else {
            return;
        };
        if e.epoch != epoch {
            return;
        }
        match e.state {
            NudState::Incomplete | NudState::Probe => {
                if e.probes >= SOLICIT {
                    e.state = NudState::Failed;
                    e.mac = None;
                    let lost = e.queue.len();
                    e.queue.clear();
                    e.probes = 0;
                    let dev = self.hosts[h].ifaces[iface].name.clone();
                    self.tr(
                        h,
                        false,
                        TraceKind::Neigh {
                            text: format!(
                                "{ip} dev {dev} FAILED (no ARP reply after {SOLICIT} requests)"
                            ),
                        },
                    );
                    for _ in 0..lost {
                        self.drop_pkt(h, &format!("ARP resolution of {ip} failed"));
                    }
                    self.tcp_unreachable(h, ip);
                    return;
                }
                e.probes += 1;
                e.epoch += 1;
                let epoch = e.epoch;
                let unicast = if e.state == NudState::Probe {
                    e.mac
                } else {
                    None
                };
                let src = e.queue.first().map(|p| p.src);
                self.queue.push(
                    now + RETRANS,
                    Event::NeighTimer {
                        host: h,
                        iface,
                        ip,
                        epoch,
                    },
                );
                self.send_arp_request(h, iface, ip, src, unicast);
            }
            NudState::Delay => {
                if now < e.confirmed + DELAY_PROBE {
                    e.state = NudState::Reachable;
                } else {
                    e.state = NudState::Probe;
                    e.probes = 1;
                    e.epoch += 1;
                    let epoch = e.epoch;
                    let m = e.mac;
                    self.queue.push(
                        now + RETRANS,
                        Event::NeighTimer {
                            host: h,
                            iface,
                            ip,
                            epoch,
                        },
                    );
                    self.send_arp_request(h, iface, ip, None, m);
                }
            }
            _ => {}
        }
    }

    /// Upper-layer confirmation: traffic from `mac` proves the neighbour alive.
    pub(crate) fn neigh_confirm(&mut self, h: HostId, iface: usize, ip: Ipv4Addr, mac: MacAddr) {
        let now = self.now;
        if let Some(e) = self.hosts[h].neigh.get_mut(iface, ip)
            && e.mac == Some(mac)
            && matches!(
                e.state,
                NudState::Reachable | NudState::Delay | NudState::Probe
            )
        {
            e.confirmed = now;
            if e.reachable_time == SimDuration::ZERO {
                e.reachable_time = SimDuration::from_secs(30);
            }
        }
    }
}
