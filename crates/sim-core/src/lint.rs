//! `lvslab lint`: the classic LVS misconfigurations, found by looking at the
//! hosts as their setup left them (time zero), with why and how to fix.
//!
//! Rules (reference §3.7 requirement checklist, §4.3 ARP problem, §9.2):
//! - DR/TUN real server without the VIP → it drops the director's packets;
//! - DR (and TUN on the director's LAN) real server that answers ARP for the
//!   VIP (`arp_ignore` 0) or announces it (`arp_announce` < 2);
//! - TUN real server without `tunl0` up, or with `rp_filter` on for it;
//! - NAT director without `ip_forward`; NAT real server whose default
//!   gateway is not the director; a client inside the real servers' subnet;
//! - DR/TUN port mapping attempts (ipvsadm silently uses the virtual port);
//! - weight 0 (quiesced, also by a timed `ipvsadm … -w 0`), thresholds and
//!   persistence, as notes;
//! - what keepalived itself would warn about in each host's
//!   `/etc/keepalived/keepalived.conf` (e.g. `nopreempt` with `state MASTER`
//!   is cleared; a `virtual_server` without `protocol` is UDP).

use std::fmt;
use std::net::Ipv4Addr;

use crate::host::{Host, HostId};
use crate::ipvs::{FwdMethod, ServiceKey};
use crate::packet::in_subnet;
use crate::scenario::Scenario;
use crate::trace::TraceKind;
use crate::world::World;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Worth knowing; behaviour is as intended.
    Note,
    /// Traffic will break or bypass the director.
    Warning,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// The host it concerns.
    pub host: String,
    /// What is wrong and what follows from it.
    pub message: String,
    /// The command(s) that fix it.
    pub fix: String,
}

impl Finding {
    /// One line for logs.
    #[must_use]
    pub fn one_line(&self) -> String {
        format!("{}: {}: {}", self.severity, self.host, self.message)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
        })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.severity, self.host, self.message)?;
        if !self.fix.is_empty() {
            write!(f, "\n  fix: {}", self.fix)?;
        }
        Ok(())
    }
}

/// `TCP 192.168.59.135:80` or `FWM 1`.
fn svc_name(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { proto, addr, port } => format!("{proto} {addr}:{port}"),
        ServiceKey::Fwmark(m) => format!("FWM {m}"),
    }
}

fn owner(w: &World, a: Ipv4Addr, except: HostId) -> Option<HostId> {
    w.hosts.iter().position(|h| {
        h.id != except
            && h.ifaces
                .iter()
                .any(|i| i.kind == crate::host::IfKind::Ether && i.has_addr(a))
    })
}

/// The NIC of `h` facing the segment(s) `other` is on.
fn shared_nic(a: &Host, b: &Host) -> Option<usize> {
    a.ifaces.iter().position(|i| {
        i.segment
            .is_some_and(|s| b.ifaces.iter().any(|j| j.segment == Some(s)))
    })
}

fn warn(host: &str, message: String, fix: impl Into<String>) -> Finding {
    Finding {
        severity: Severity::Warning,
        host: host.to_string(),
        message,
        fix: fix.into(),
    }
}

fn note(host: &str, message: String) -> Finding {
    Finding {
        severity: Severity::Note,
        host: host.to_string(),
        message,
        fix: String::new(),
    }
}

/// Every finding for a loaded scenario (its world as setup left it).
#[must_use]
pub fn lint(sc: &Scenario) -> Vec<Finding> {
    let w = &sc.world;
    let mut out = Vec::new();
    for d in &w.hosts {
        for (sid, svc) in d.ipvs.services() {
            let vip = match svc.key {
                ServiceKey::Addr { addr, .. } => Some(addr),
                ServiceKey::Fwmark(_) => None,
            };
            if let Some(t) = svc.persistent {
                out.push(note(
                    &d.name,
                    format!(
                        "service {} is persistent ({t} s): each client address{} sticks to one \
                         real server while its template lives (refreshed by every new connection; \
                         it cannot expire while connections it made exist), so load looks unbalanced \
                         with few clients",
                        svc_name(&svc.key),
                        if svc.netmask == Ipv4Addr::BROADCAST {
                            String::new()
                        } else {
                            format!(" network (-M {})", svc.netmask)
                        }
                    ),
                ));
            }
            for dest in d.ipvs.service_dests(sid) {
                if dest.u_threshold != 0 {
                    out.push(note(
                        &d.name,
                        format!(
                            "real server {}:{} has -x {}: it is OVERLOAD (skipped by every \
                             scheduler) once ActiveConn + InActConn reaches {}; in DR and TUN \
                             closed connections stay in FIN_WAIT for 120 s and still count",
                            dest.addr, dest.port, dest.u_threshold, dest.u_threshold
                        ),
                    ));
                }
                if dest.weight == 0 {
                    out.push(note(
                        &d.name,
                        format!(
                            "real server {}:{} has weight 0: quiesced, it gets no new connections \
                             (but persistent clients' templates still send theirs)",
                            dest.addr, dest.port
                        ),
                    ));
                }
                let Some(rs) = owner(w, dest.addr, d.id) else {
                    continue;
                };
                let rs = &w.hosts[rs];
                match dest.fwd {
                    FwdMethod::Route | FwdMethod::Tunnel => {
                        if let Some(vip) = vip {
                            lint_direct(d, rs, vip, dest.fwd, &mut out);
                        }
                    }
                    FwdMethod::Masq => lint_nat(w, d, rs, &mut out),
                    _ => {}
                }
            }
        }
    }
    lint_port_mapping(w, &mut out);
    lint_keepalived(w, &mut out);
    lint_actions(w, &mut out);
    out
}

/// Timed `ipvsadm … -w 0` actions: quiescing a real server later in the run.
fn lint_actions(w: &World, out: &mut Vec<Finding>) {
    for a in &w.actions {
        let words: Vec<&str> = a.command.split_whitespace().collect();
        let zero = words
            .windows(2)
            .any(|p| (p[0] == "-w" || p[0] == "--weight") && p[1] == "0");
        if words.first() == Some(&"ipvsadm") && zero {
            out.push(note(
                &w.hosts[a.host].name,
                format!(
                    "at {}: `{}` sets weight 0: quiesced, the real server gets no new \
                     connections (but persistent clients' templates still send theirs) and its \
                     existing entries live on until they expire",
                    a.at, a.command
                ),
            ));
        }
    }
}

/// keepalived's own warnings and errors for each host's keepalived.conf.
fn lint_keepalived(w: &World, out: &mut Vec<Finding>) {
    const CONF: &str = "/etc/keepalived/keepalived.conf";
    for h in &w.hosts {
        let Some(parsed) = crate::world::keepalived::read_conf(w, h.id, CONF) else {
            continue;
        };
        for d in &parsed.diagnostics {
            out.push(Finding {
                severity: Severity::Warning,
                host: h.name.clone(),
                message: format!("keepalived.conf:{}:{}: {}", d.line, d.column, d.message),
                fix: d.hint.clone().unwrap_or_default(),
            });
        }
    }
}

fn lint_direct(d: &Host, rs: &Host, vip: Ipv4Addr, fwd: FwdMethod, out: &mut Vec<Finding>) {
    let mode = if fwd == FwdMethod::Route { "DR" } else { "TUN" };
    let holder = rs.ifaces.iter().find(|i| i.has_addr(vip));
    let Some(holder) = holder else {
        let fix = if fwd == FwdMethod::Route {
            format!("ifconfig lo:0 {vip} broadcast {vip} netmask 255.255.255.255 up")
        } else {
            format!(
                "modprobe ipip; ifconfig tunl0 {vip} broadcast {vip} netmask 255.255.255.255 up"
            )
        };
        out.push(warn(
            &rs.name,
            format!(
                "{mode} real server does not hold the VIP {vip}: it drops the packets the director \
                 forwards (they are addressed to the VIP)"
            ),
            fix,
        ));
        return;
    };
    if fwd == FwdMethod::Tunnel {
        let tunl = rs.ifaces.iter().find(|i| i.name == "tunl0");
        if !tunl.is_some_and(|t| t.up) {
            out.push(warn(
                &rs.name,
                "TUN real server has no tunl0 up: IPIP packets cannot be decapsulated".into(),
                format!("modprobe ipip; ifconfig tunl0 {vip} netmask 255.255.255.255 up"),
            ));
        }
        if rs.sysctl.conf_max("tunl0", "rp_filter") == 1 {
            out.push(warn(
                &rs.name,
                "rp_filter=1 on tunl0 (max of all and tunl0): decapsulated packets come in on \
                 tunl0 but their source routes out another device, so they are dropped"
                    .into(),
                "echo 0 >/proc/sys/net/ipv4/conf/tunl0/rp_filter; echo 0 >/proc/sys/net/ipv4/conf/all/rp_filter",
            ));
        }
    }
    // The ARP problem only exists when the RS shares the director's LAN.
    let Some(nic) = shared_nic(rs, d) else {
        return;
    };
    if holder.kind == crate::host::IfKind::Ether && holder.segment.is_some() {
        out.push(warn(
            &rs.name,
            format!(
                "the VIP {vip} is on {}, a NIC on the director's LAN: the real server answers ARP \
                 for it and clients may bypass the director",
                holder.name
            ),
            format!("put the VIP on lo instead: ifconfig lo:0 {vip} netmask 255.255.255.255 up"),
        ));
        return;
    }
    let dev = rs.ifaces[nic].name.as_str();
    let ignore = rs.sysctl.conf_max(dev, "arp_ignore");
    if !(1..=3).contains(&ignore) && ignore != 8 {
        out.push(warn(
            &rs.name,
            format!(
                "arp_ignore={ignore} (max of all and {dev}): the real server answers ARP requests \
                 for the VIP {vip} it holds on {}, so the client's or router's ARP cache may point \
                 the VIP at this server and bypass the director (the DR ARP problem)",
                holder.name
            ),
            "echo 1 >/proc/sys/net/ipv4/conf/all/arp_ignore",
        ));
    }
    if rs.sysctl.conf_max(dev, "arp_announce") < 2 {
        out.push(warn(
            &rs.name,
            format!(
                "arp_announce<2 on {dev}: ARP requests sent while replying from the VIP carry the \
                 VIP as sender address and update neighbours' caches to this server"
            ),
            "echo 2 >/proc/sys/net/ipv4/conf/all/arp_announce",
        ));
    }
}

fn lint_nat(w: &World, d: &Host, rs: &Host, out: &mut Vec<Finding>) {
    if !d.sysctl.ip_forward() {
        out.push(warn(
            &d.name,
            "NAT director with ip_forward=0: replies from the real servers are not forwarded \
             back to clients"
                .into(),
            "echo 1 >/proc/sys/net/ipv4/ip_forward",
        ));
    }
    let gw = rs
        .routes
        .lookup(Ipv4Addr::new(203, 0, 113, 1))
        .and_then(|r| r.via);
    let is_director = |a: Ipv4Addr| d.ifaces.iter().any(|i| i.has_addr(a));
    match gw {
        Some(g) if is_director(g) => {}
        other => out.push(warn(
            &rs.name,
            format!(
                "NAT real server's default gateway is {}, not the director: replies leave from \
                 the RIP and bypass the director, so the client (expecting the VIP) resets them",
                other.map_or("missing".to_string(), |g| g.to_string())
            ),
            format!(
                "route add default gw {}",
                shared_nic(d, rs)
                    .and_then(|i| d.ifaces[i].addrs.first())
                    .map_or("<DIP>".into(), |a| a.addr.to_string())
            ),
        )),
    }
    // Clients inside the real servers' own subnet get replies straight from the RIP.
    for app in &w.apps {
        let c = &w.hosts[app.host];
        let Some(caddr) = c
            .ifaces
            .iter()
            .flat_map(|i| i.addrs.iter())
            .find(|a| !a.addr.is_loopback())
        else {
            continue;
        };
        let same = rs
            .ifaces
            .iter()
            .flat_map(|i| i.addrs.iter())
            .any(|a| !a.addr.is_loopback() && in_subnet(caddr.addr, a.addr, a.prefix));
        if same {
            out.push(warn(
                &c.name,
                format!(
                    "client {} is in the subnet of NAT real server {}: the server answers it \
                     directly from its RIP and the client drops the reply",
                    caddr.addr, rs.name
                ),
                "put clients outside the real servers' network (or use DR)",
            ));
        }
    }
}

/// `ipvsadm -a … -r RIP:PORT -g|-i` with PORT ≠ the virtual port: ipvsadm
/// uses the virtual port for DR and TUN (no port mapping).
fn lint_port_mapping(w: &World, out: &mut Vec<Finding>) {
    for r in &w.trace.records {
        let TraceKind::Command { cmd, .. } = &r.kind else {
            continue;
        };
        let words: Vec<&str> = cmd.split_whitespace().collect();
        if words.first() != Some(&"ipvsadm")
            || !words.iter().any(|x| *x == "-a" || *x == "--add-server")
        {
            continue;
        }
        let after = |flag: &[&str]| {
            words
                .windows(2)
                .find(|p| flag.contains(&p[0]))
                .map(|p| p[1])
        };
        let port = |s: &str| s.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
        let vport = after(&["-t", "-u", "--tcp-service", "--udp-service"]).and_then(port);
        let rport = after(&["-r", "--real-server"]).and_then(port);
        let masq = words.iter().any(|x| *x == "-m" || *x == "--masquerading");
        if let (Some(v), Some(rp)) = (vport, rport)
            && v != rp
            && !masq
        {
            out.push(warn(
                &r.host,
                format!(
                    "`{cmd}`: DR and TUN cannot map ports; ipvsadm uses the virtual port {v}, not \
                     {rp}, so the real server must listen on {v}"
                ),
                "use NAT (-m) for port mapping, or make the real server listen on the virtual port",
            ));
        }
    }
}
