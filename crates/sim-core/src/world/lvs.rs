//! Glue between the host stack and IPVS: the LOCAL_IN and FORWARD hooks,
//! IPVS's own transmit path, `ipvsadm` and the `net.ipv4.vs.*` sysctls.
//!
//! Where the kernel runs what (reference §3.1), and where this file does:
//!
//! | kernel hook | priority | here |
//! | --- | --- | --- |
//! | LOCAL_IN | 98 `ip_vs_out_hook` | [`World::ipvs_local_in`], replies to a local address (FULLNAT's LIP) |
//! | LOCAL_IN | 99 `ip_vs_in_hook` | [`World::ipvs_local_in`], requests: schedule + transmit |
//! | FORWARD | 100 `ip_vs_out_hook` | [`World::ipvs_forward`], NAT replies RS → client: source back to the VIP |
//!
//! Forwarded requests leave through OUTPUT and POSTROUTING (never FORWARD),
//! with the TTL decremented, as `ip_vs_*_xmit` + `NF_HOOK(LOCAL_OUT)` do.
//!
//! Simplifications (named in ARCHITECTURE.md): ICMP errors about IPVS
//! connections are not matched to their entries (`ip_vs_in_icmp`); requests
//! from the director itself (LOCAL_OUT hooks) are not scheduled; the TUN MTU
//! check (frag-needed) is not modelled.

use std::net::Ipv4Addr;

use super::World;
use crate::host::HostId;
use crate::host::netfilter::{Hook, Verdict};
use crate::ipvs::ipvsadm::Names;
use crate::ipvs::{self, Decision, FwdMethod, InVerdict, OutVerdict, PacketMeta, TemplateUse};
use crate::packet::{Frame, FramePayload, IpPayload, Ipv4Packet, MacAddr};
use crate::shell::CmdOutput;
use crate::trace::TraceKind;

/// The fields IPVS looks at, for TCP and UDP packets.
fn meta(p: &Ipv4Packet, fwmark: u32) -> Option<PacketMeta> {
    let (proto, sport, dport, flags) = match &p.payload {
        IpPayload::Tcp(t) => (
            ipvs::Protocol::Tcp,
            t.sport,
            t.dport,
            ipvs::TcpFlags {
                syn: t.flags.syn,
                ack: t.flags.ack,
                fin: t.flags.fin,
                rst: t.flags.rst,
            },
        ),
        IpPayload::Udp(u) => (ipvs::Protocol::Udp, u.sport, u.dport, ipvs::TcpFlags::NONE),
        _ => return None,
    };
    Some(PacketMeta {
        proto,
        saddr: p.src,
        sport,
        daddr: p.dst,
        dport,
        flags,
        len: p.total_len(),
        fwmark,
    })
}

/// Sets the transport ports of a TCP/UDP packet (`None` keeps one).
fn set_ports(p: &mut Ipv4Packet, sport: Option<u16>, dport: Option<u16>) {
    let (s, d) = match &mut p.payload {
        IpPayload::Tcp(t) => (&mut t.sport, &mut t.dport),
        IpPayload::Udp(u) => (&mut u.sport, &mut u.dport),
        _ => return,
    };
    if let Some(v) = sport {
        *s = v;
    }
    if let Some(v) = dport {
        *d = v;
    }
}

fn ip_frame(p: &Ipv4Packet) -> Frame {
    Frame {
        src: MacAddr::ZERO,
        dst: MacAddr::ZERO,
        payload: FramePayload::Ipv4(p.clone()),
    }
}

/// A rewrite's explanation, only formatted when the full trace keeps it.
fn lazy_text(full: bool, f: impl FnOnce() -> String) -> String {
    if full { f() } else { String::new() }
}

/// One line about a scheduling decision: which dest, and why.
fn decision_text(d: &Decision, m: &PacketMeta, rs: Ipv4Addr, rport: u16, fwd: FwdMethod) -> String {
    let mut s = format!(
        "{} {}:{} > {}:{} scheduled by {} → {rs}:{rport} ({})",
        m.proto.name(),
        m.saddr,
        m.sport,
        m.daddr,
        m.dport,
        d.scheduler,
        fwd.name()
    );
    match d.template {
        Some(TemplateUse::Hit { .. }) => {
            s.push_str("; persistence template hit, scheduler not consulted");
        }
        Some(TemplateUse::Created { .. }) => s.push_str("; new persistence template"),
        Some(TemplateUse::Invalidated { .. }) => {
            s.push_str("; old persistence template invalid (dest unavailable), new one");
        }
        None => {}
    }
    if !d.explain.is_empty() && !matches!(d.template, Some(TemplateUse::Hit { .. })) {
        s.push_str(": ");
        s.push_str(&d.explain);
    }
    s
}

impl World {
    /// IPVS at LOCAL_IN (priorities 98 and 99). Returns the packet when IPVS
    /// lets it continue to the local stack; `None` when IPVS took it.
    pub(crate) fn ipvs_local_in(
        &mut self,
        h: HostId,
        _iface: usize,
        p: Ipv4Packet,
        mark: u32,
    ) -> Option<Ipv4Packet> {
        if self.hosts[h].ipvs.is_idle() {
            return Some(p);
        }
        let Some(m) = meta(&p, mark) else {
            return Some(p);
        };
        // Priority 98: a reply addressed to one of our addresses (FULLNAT LIP).
        let now = self.now;
        if let OutVerdict::Rewrite { .. } = self.hosts[h].ipvs.peek_out(&m) {
            let q = self.ipvs_reply(h, p, &m)?;
            self.ipvs_xmit(h, q, None, mark);
            return None;
        }
        // Decisions are only read for the trace.
        self.hosts[h].ipvs.explain = self.trace.events();
        let v = self.hosts[h].ipvs.in_packet(now, &m, &mut self.ipvs_rng[h]);
        match v {
            InVerdict::NotService => Some(p),
            InVerdict::LocalStack { reason } => {
                self.tr(h, false, TraceKind::Ipvs { text: reason });
                Some(p)
            }
            InVerdict::Drop { reason } => {
                self.drop_pkt(h, &format!("IPVS: {reason}"));
                None
            }
            InVerdict::NoDestination { reason } => {
                self.tr(h, false, TraceKind::Ipvs { text: reason });
                self.icmp_error(h, &p, 3, 3);
                self.drop_pkt(h, "IPVS: no destination available");
                None
            }
            InVerdict::Bypass { reason } => {
                self.tr(h, false, TraceKind::Ipvs { text: reason });
                let dst = p.dst;
                self.ipvs_xmit(h, p, Some(dst), mark);
                None
            }
            InVerdict::Forward {
                method,
                daddr,
                dport,
                new_saddr,
                new_sport,
                decision,
                ..
            } => {
                if let Some(d) = decision.as_ref().filter(|_| self.trace.events()) {
                    let text = decision_text(d, &m, daddr, dport, method);
                    self.tr(h, false, TraceKind::Ipvs { text });
                }
                let fw = Forwarding {
                    method,
                    daddr,
                    dport,
                    new_saddr,
                    new_sport,
                };
                self.ipvs_transmit(h, p, &fw, mark)
            }
        }
    }

    /// Rewrites and sends a request to its real server; `Some` only for a
    /// `Local` dest (the packet goes up this host's stack unchanged).
    fn ipvs_transmit(
        &mut self,
        h: HostId,
        mut p: Ipv4Packet,
        fw: &Forwarding,
        mark: u32,
    ) -> Option<Ipv4Packet> {
        if fw.method == FwdMethod::Local {
            return Some(p);
        }
        // decrement_ttl: every mode, before transmission.
        if p.ttl <= 1 {
            self.icmp_error(h, &p, 11, 0);
            self.drop_pkt(h, "IPVS: TTL exceeded");
            return None;
        }
        let before = self.trace.full().then(|| ip_frame(&p));
        let full = before.is_some();
        p.ttl -= 1;
        let (q, text, nexthop) = match fw.method {
            FwdMethod::Route => {
                let text = lazy_text(full, || {
                    format!(
                        "IPVS DR: IP header unchanged (TTL−1); sent to next hop {} — only the \
                     destination MAC changes",
                        fw.daddr
                    )
                });
                (p, text, Some(fw.daddr))
            }
            FwdMethod::Masq => {
                let text = lazy_text(full, || {
                    format!(
                        "IPVS NAT: destination {}:{} → {}:{}",
                        p.dst,
                        p.ports().map_or(0, |x| x.1),
                        fw.daddr,
                        fw.dport
                    )
                });
                p.dst = fw.daddr;
                set_ports(&mut p, None, Some(fw.dport));
                (p, text, None)
            }
            FwdMethod::FullNat => {
                let (ls, lp) = (fw.new_saddr.unwrap_or(p.src), fw.new_sport);
                let text = lazy_text(full, || {
                    format!(
                        "IPVS FULLNAT: source {}:{} → {ls}:{}, destination {}:{} → {}:{}",
                        p.src,
                        p.ports().map_or(0, |x| x.0),
                        lp.unwrap_or(0),
                        p.dst,
                        p.ports().map_or(0, |x| x.1),
                        fw.daddr,
                        fw.dport
                    )
                });
                p.src = ls;
                p.dst = fw.daddr;
                set_ports(&mut p, lp, Some(fw.dport));
                (p, text, None)
            }
            FwdMethod::Tunnel => {
                let Some(rt) = self.route_output(h, fw.daddr) else {
                    self.drop_pkt(h, &format!("IPVS TUN: no route to {}", fw.daddr));
                    return None;
                };
                let src = rt.src.unwrap_or(Ipv4Addr::UNSPECIFIED);
                let text = lazy_text(full, || {
                    format!(
                        "IPVS TUN: encapsulated in IPIP {src} > {} (inner packet unchanged, TTL−1)",
                        fw.daddr
                    )
                });
                let mut outer = Ipv4Packet::new(src, fw.daddr, IpPayload::Ipip(Box::new(p)));
                if let IpPayload::Ipip(inner) = &outer.payload {
                    outer.ttl = inner.ttl;
                    outer.tos = inner.tos;
                    outer.df = inner.df;
                }
                (outer, text, None)
            }
            FwdMethod::Local => return None,
        };
        self.tr_rewrite(h, before, text, &q);
        self.ipvs_xmit(h, q, nexthop, mark);
        None
    }

    /// `NF_HOOK(LOCAL_OUT, …, dst_output)`: route, OUTPUT, POSTROUTING,
    /// neighbour output. `nexthop` forces the next hop (DR's known next hop,
    /// bypass's original destination).
    fn ipvs_xmit(&mut self, h: HostId, mut p: Ipv4Packet, nexthop: Option<Ipv4Addr>, mark: u32) {
        let Some(rt) = self.route_output(h, nexthop.unwrap_or(p.dst)) else {
            self.drop_pkt(h, &format!("IPVS: no route to {}", p.dst));
            return;
        };
        if p.id == 0 {
            p.id = self.hosts[h].next_ip_id();
        }
        let mut mark = mark;
        match self.nf_hook(h, Hook::Output, &p, None, Some(rt.iface), &mut mark) {
            Verdict::Accept => {}
            v => {
                self.drop_pkt(h, &format!("iptables OUTPUT {} {p}", v.name()));
                return;
            }
        }
        let nh = nexthop.unwrap_or(rt.nexthop);
        self.ip_postrouting(h, rt.iface, nh, p, mark);
    }

    /// Applies a NAT/FULLNAT reply rewrite (source back to VIP:vport).
    fn ipvs_reply(&mut self, h: HostId, mut p: Ipv4Packet, m: &PacketMeta) -> Option<Ipv4Packet> {
        let now = self.now;
        let OutVerdict::Rewrite {
            saddr,
            sport,
            daddr,
            dport,
            ..
        } = self.hosts[h].ipvs.out_packet(now, m)
        else {
            return Some(p);
        };
        let before = self.trace.full().then(|| ip_frame(&p));
        let text = if before.is_none() {
            String::new()
        } else if daddr == p.dst {
            format!(
                "IPVS NAT reply: source {}:{} → {saddr}:{sport}",
                p.src, m.sport
            )
        } else {
            format!(
                "IPVS FULLNAT reply: source {}:{} → {saddr}:{sport}, destination {}:{} → {daddr}:{dport}",
                p.src, m.sport, p.dst, m.dport
            )
        };
        p.src = saddr;
        p.dst = daddr;
        set_ports(&mut p, Some(sport), Some(dport));
        self.tr_rewrite(h, before, text, &p);
        Some(p)
    }

    /// IPVS at FORWARD (priority 100): NAT replies get their source
    /// rewritten back to the virtual service.
    pub(crate) fn ipvs_forward(&mut self, h: HostId, p: Ipv4Packet) -> Option<Ipv4Packet> {
        if self.hosts[h].ipvs.is_idle() {
            return Some(p);
        }
        let Some(m) = meta(&p, 0) else {
            return Some(p);
        };
        self.ipvs_reply(h, p, &m)
    }

    /// Tells IPVS which addresses are local (a dest there is `Local`; the
    /// bypass rule skips local destinations).
    pub(crate) fn ipvs_sync_local(&mut self, h: HostId) {
        let addrs: Vec<Ipv4Addr> = self.hosts[h]
            .ifaces
            .iter()
            .flat_map(|i| i.addrs.iter().map(|a| a.addr))
            .collect();
        self.hosts[h].ipvs.set_local_addrs(&addrs);
    }
}

impl World {
    /// Records a header rewrite (full trace only: `before` is `Some` then).
    fn tr_rewrite(&mut self, h: HostId, before: Option<Frame>, text: String, after: &Ipv4Packet) {
        if let Some(before) = before {
            let after = ip_frame(after);
            self.tr(
                h,
                true,
                TraceKind::Rewrite {
                    text,
                    before,
                    after,
                },
            );
        }
    }
}

/// Where and how one request is forwarded.
struct Forwarding {
    method: FwdMethod,
    daddr: Ipv4Addr,
    dport: u16,
    new_saddr: Option<Ipv4Addr>,
    new_sport: Option<u16>,
}

/// Host names as glibc resolves them on the lab's CentOS-like hosts
/// (`hosts: files dns myhostname`): `/etc/hosts` first; the lab has no DNS;
/// then nss-myhostname, which names every local address after the host
/// (`hostnamectl set-hostname`). That is why the tutorial's `ipvsadm` shows
/// `TCP  lvs:http rr` for the VIP while the real servers stay numeric.
struct Resolver<'a> {
    etc_hosts: Option<&'a str>,
    local: Vec<Ipv4Addr>,
    hostname: &'a str,
}

impl Resolver<'_> {
    fn entries(&self) -> impl Iterator<Item = (Ipv4Addr, &str)> {
        self.etc_hosts
            .into_iter()
            .flat_map(str::lines)
            .filter_map(|l| {
                let l = l.split('#').next().unwrap_or("");
                let mut it = l.split_whitespace();
                let a = it.next()?.parse().ok()?;
                Some((a, it.next()?))
            })
    }
}

impl Names for Resolver<'_> {
    fn host(&self, a: Ipv4Addr) -> Option<String> {
        self.entries()
            .find(|(x, _)| *x == a)
            .map(|(_, n)| n.to_string())
            .or_else(|| self.local.contains(&a).then(|| self.hostname.to_string()))
    }
    fn addr(&self, name: &str) -> Option<Ipv4Addr> {
        self.entries()
            .find(|(_, n)| *n == name)
            .map(|(a, _)| a)
            .or_else(|| {
                (name == self.hostname)
                    .then(|| self.local.first().copied())
                    .flatten()
            })
    }
}

/// `ipvsadm …` on host `h`.
pub fn ipvsadm(w: &mut World, h: HostId, args: &[&str], stdin: Option<&str>) -> CmdOutput {
    w.ipvs_sync_local(h);
    let now = w.now;
    let host = &mut w.hosts[h];
    let names = Resolver {
        etc_hosts: host.files.get("/etc/hosts").map(String::as_str),
        local: host
            .ifaces
            .iter()
            .flat_map(|i| i.addrs.iter().map(|a| a.addr))
            .filter(|a| !a.is_loopback())
            .collect(),
        hostname: &host.hostname,
    };
    let o = ipvs::ipvsadm::run_with(&mut host.ipvs, now, args, stdin, &names);
    CmdOutput {
        stdout: o.stdout,
        stderr: o.stderr,
        status: o.status,
        note: None,
    }
}

/// `echo V > /proc/sys/net/ipv4/vs/KEY` (`key` is the path below /proc/sys).
pub fn vs_sysctl_set(w: &mut World, h: HostId, key: &str, v: &str) -> CmdOutput {
    let name = key.rsplit('/').next().unwrap_or(key);
    match w.hosts[h].ipvs.sysctls.set(name, v.trim()) {
        Ok(()) => CmdOutput::ok(),
        Err(e) if e.contains("No such") => CmdOutput::fail(
            1,
            format!("bash: /proc/sys/{key}: No such file or directory"),
        ),
        Err(e) => CmdOutput::fail(1, format!("bash: echo: write error: {e}")),
    }
}

/// `sysctl net.ipv4.vs.KEY` (`key` may use dots or slashes).
pub fn vs_sysctl_get(w: &World, h: HostId, key: &str) -> Option<String> {
    let name = key.rsplit(['/', '.']).next().unwrap_or(key);
    w.hosts[h].ipvs.sysctls.get(name)
}

impl World {
    /// `poweroff`: the host stops at once (no goodbye adverts).
    pub fn power_off(&mut self, h: HostId) {
        self.hosts[h].powered = false;
        self.hosts[h].services.httpd = false;
    }
}
