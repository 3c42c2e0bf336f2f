//! Network commands: `ip`, `ifconfig`, `route`, `arp`, `iptables`.

use std::net::Ipv4Addr;

use super::CmdOutput;
use crate::host::netfilter::{Rule, Target, Verdict};
use crate::host::route::{Route, RouteProto};
use crate::host::{HostId, IfAddr};
use crate::packet::prefix_mask;
use crate::world::World;

fn parse_cidr(s: &str) -> Option<(Ipv4Addr, Option<u8>)> {
    match s.split_once('/') {
        Some((a, p)) => {
            let p: u8 = p.parse().ok()?;
            (p <= 32).then_some(())?;
            Some((a.parse().ok()?, Some(p)))
        }
        None => Some((s.parse().ok()?, None)),
    }
}

fn mask_to_prefix(m: Ipv4Addr) -> Option<u8> {
    let v = u32::from(m);
    let p = v.leading_ones();
    (v.checked_shl(p).unwrap_or(0) == 0).then_some(u8::try_from(p).unwrap_or(32))
}

/// The classful default prefix ifconfig uses when no netmask is given.
fn classful(a: Ipv4Addr) -> u8 {
    match a.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

impl World {
    /// Adds an address to an interface, with the connected route.
    pub fn addr_add(&mut self, h: HostId, label: &str, a: IfAddr) -> Result<(), String> {
        let host = &mut self.hosts[h];
        let Some(i) = host.iface_by_name(label) else {
            return Err(format!(
                "Cannot find device \"{}\"",
                label.split(':').next().unwrap_or(label)
            ));
        };
        let dev = host.ifaces[i].name.clone();
        let net = a.network();
        let (prefix, addr) = (a.prefix, a.addr);
        let secondary = host.ifaces[i]
            .addrs
            .iter()
            .any(|p| p.prefix == prefix && crate::packet::in_subnet(addr, p.addr, p.prefix));
        host.ifaces[i].add_addr(a)?;
        if prefix < 32
            && !secondary
            && host.ifaces[i].up
            && host.ifaces[i].kind != crate::host::IfKind::Loopback
        {
            let _ = host.routes.add(Route {
                dst: net,
                prefix,
                via: None,
                dev,
                src: Some(addr),
                metric: 0,
                proto: RouteProto::Kernel,
            });
        }
        Ok(())
    }

    /// Removes an address (and its connected route).
    pub fn addr_del(
        &mut self,
        h: HostId,
        dev: &str,
        addr: Ipv4Addr,
        prefix: Option<u8>,
    ) -> Result<(), String> {
        let host = &mut self.hosts[h];
        let Some(i) = host.iface_by_name(dev) else {
            return Err(format!("Cannot find device \"{dev}\""));
        };
        let Some(pos) = host.ifaces[i]
            .addrs
            .iter()
            .position(|x| x.addr == addr && prefix.is_none_or(|p| p == x.prefix))
        else {
            return Err("RTNETLINK answers: Cannot assign requested address".into());
        };
        let x = host.ifaces[i].addrs.remove(pos);
        let name = host.ifaces[i].name.clone();
        host.routes
            .remove_connected(&name, x.network(), x.prefix, x.addr);
        Ok(())
    }

    /// `ip link set DEV up|down`.
    pub fn link_set(&mut self, h: HostId, dev: &str, up: bool) -> Result<(), String> {
        let host = &mut self.hosts[h];
        let Some(i) = host.iface_by_name(dev) else {
            return Err(format!("Cannot find device \"{dev}\""));
        };
        if host.ifaces[i].up == up {
            return Ok(());
        }
        host.ifaces[i].up = up;
        let name = host.ifaces[i].name.clone();
        if up {
            let addrs = host.ifaces[i].addrs.clone();
            for (k, a) in addrs.iter().enumerate() {
                if a.prefix < 32
                    && !host.ifaces[i].is_secondary(k)
                    && host.ifaces[i].kind != crate::host::IfKind::Loopback
                {
                    let _ = host.routes.add(Route {
                        dst: a.network(),
                        prefix: a.prefix,
                        via: None,
                        dev: name.clone(),
                        src: Some(a.addr),
                        metric: 0,
                        proto: RouteProto::Kernel,
                    });
                }
            }
        } else {
            host.routes.remove_dev(&name);
            host.neigh.flush_iface(i);
        }
        self.keepalived_link_changed(h, i, up);
        Ok(())
    }
}

fn ok_or(r: Result<(), String>) -> CmdOutput {
    match r {
        Ok(()) => CmdOutput::ok(),
        Err(e) => CmdOutput::fail(2, e),
    }
}

/// `ip …`
pub fn ip(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    let args: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| *a != "-4" && *a != "-s")
        .collect();
    let Some((obj, rest)) = args.split_first() else {
        return CmdOutput::fail(255, "Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }");
    };
    match *obj {
        "a" | "addr" | "address" => ip_addr(w, h, rest),
        "l" | "link" => match rest {
            ["set", dev, st, ..] | ["set", "dev", dev, st, ..] if *st == "up" || *st == "down" => {
                ok_or(w.link_set(h, dev, *st == "up"))
            }
            [] | ["show", ..] | ["list", ..] => CmdOutput::out(w.hosts[h].render_ip_addr(None)),
            _ => CmdOutput::fail(255, "the lab models `ip link set DEV up|down`"),
        },
        "r" | "ro" | "route" => ip_route(w, h, rest),
        "n" | "neigh" | "neighbour" | "neighbor" => ip_neigh(w, h, rest),
        other => CmdOutput::fail(
            255,
            format!("Object \"{other}\" is unknown, try \"ip help\"."),
        ),
    }
}

fn ip_addr(w: &mut World, h: HostId, rest: &[&str]) -> CmdOutput {
    match rest.first().copied() {
        None | Some("show" | "list" | "s" | "ls") => {
            let dev = rest
                .iter()
                .position(|a| *a == "dev")
                .and_then(|i| rest.get(i + 1))
                .copied()
                .or_else(|| rest.get(1).copied());
            if let Some(d) = dev
                && w.hosts[h].iface_by_name(d).is_none()
            {
                return CmdOutput::fail(1, format!("Device \"{d}\" does not exist."));
            }
            CmdOutput::out(w.hosts[h].render_ip_addr(dev))
        }
        Some(verb @ ("add" | "del" | "delete")) => {
            let Some((addr, prefix)) = rest.get(1).and_then(|s| parse_cidr(s)) else {
                return CmdOutput::fail(
                    1,
                    format!(
                        "Error: any valid prefix is expected rather than \"{}\".",
                        rest.get(1).unwrap_or(&"")
                    ),
                );
            };
            let mut dev = None;
            let mut label = None;
            let mut brd = None;
            let mut i = 2;
            while i < rest.len() {
                match rest[i] {
                    "dev" => dev = rest.get(i + 1).copied(),
                    "label" => label = rest.get(i + 1).copied(),
                    "brd" | "broadcast" => brd = rest.get(i + 1).copied(),
                    _ => {}
                }
                i += if matches!(rest[i], "dev" | "label" | "brd" | "broadcast" | "scope") {
                    2
                } else {
                    1
                };
            }
            let Some(dev) = dev else {
                return CmdOutput::fail(1, "Not enough information: \"dev\" argument is required.");
            };
            if verb == "add" {
                let p = prefix.unwrap_or(32);
                let brd = match brd {
                    Some("+") => Some(Ipv4Addr::from(u32::from(addr) | !prefix_mask(p))),
                    Some(b) => b.parse().ok(),
                    None => None,
                };
                let a = IfAddr {
                    addr,
                    prefix: p,
                    brd,
                    label: label.unwrap_or(dev).to_string(),
                    host_scope: false,
                };
                ok_or(w.addr_add(h, dev, a))
            } else {
                ok_or(w.addr_del(h, dev, addr, prefix))
            }
        }
        Some("flush") => {
            let Some(dev) = rest
                .iter()
                .position(|a| *a == "dev")
                .and_then(|i| rest.get(i + 1))
                .or(rest.get(1))
            else {
                return CmdOutput::fail(1, "Flush requires arguments.");
            };
            let Some(i) = w.hosts[h].iface_by_name(dev) else {
                return CmdOutput::fail(1, format!("Device \"{dev}\" does not exist."));
            };
            let addrs: Vec<Ipv4Addr> = w.hosts[h].ifaces[i].addrs.iter().map(|a| a.addr).collect();
            for a in addrs {
                let _ = w.addr_del(h, dev, a, None);
            }
            CmdOutput::ok()
        }
        Some(other) => CmdOutput::fail(
            255,
            format!("Command \"{other}\" is unknown, try \"ip address help\"."),
        ),
    }
}

fn ip_route(w: &mut World, h: HostId, rest: &[&str]) -> CmdOutput {
    match rest.first().copied() {
        None | Some("show" | "list" | "ls") => CmdOutput::out(w.hosts[h].routes.render_ip_route()),
        Some(verb @ ("add" | "del" | "delete" | "replace")) => {
            let Some(target) = rest.get(1) else {
                return CmdOutput::fail(1, "Error: \"to\" is expected");
            };
            let (dst, prefix) = if *target == "default" {
                (Ipv4Addr::UNSPECIFIED, 0)
            } else {
                match parse_cidr(target) {
                    Some((a, p)) => (a, p.unwrap_or(32)),
                    None => {
                        return CmdOutput::fail(
                            1,
                            format!("Error: inet prefix is expected rather than \"{target}\"."),
                        );
                    }
                }
            };
            let mut via = None;
            let mut dev = None;
            let mut src = None;
            let mut metric = 0;
            let mut i = 2;
            while i + 1 < rest.len() + 1 {
                match rest.get(i).copied() {
                    Some("via") => via = rest.get(i + 1).and_then(|v| v.parse().ok()),
                    Some("dev") => {
                        dev = rest
                            .get(i + 1)
                            .map(|d| d.split(':').next().unwrap_or(d).to_string())
                    }
                    Some("src") => src = rest.get(i + 1).and_then(|v| v.parse().ok()),
                    Some("metric") => {
                        metric = rest.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(0)
                    }
                    _ => {}
                }
                i += 2;
            }
            if verb.starts_with("del") {
                return ok_or(w.hosts[h].routes.del(dst, prefix, dev.as_deref()));
            }
            let dev = match (dev, via) {
                (Some(d), _) => d,
                (None, Some(g)) => match w.route_output(h, g).filter(|r| r.nexthop == g) {
                    Some(r) => w.hosts[h].ifaces[r.iface].name.clone(),
                    None => return CmdOutput::fail(2, "Error: Nexthop has invalid gateway."),
                },
                (None, None) => return CmdOutput::fail(2, "Error: Device for nexthop is not up."),
            };
            if w.hosts[h].iface_by_name(&dev).is_none() {
                return CmdOutput::fail(1, format!("Cannot find device \"{dev}\""));
            }
            let r = Route {
                dst: Ipv4Addr::from(u32::from(dst) & prefix_mask(prefix)),
                prefix,
                via,
                dev,
                src,
                metric,
                proto: RouteProto::Boot,
            };
            if verb == "replace" {
                let _ = w.hosts[h].routes.del(r.dst, prefix, None);
            }
            ok_or(w.hosts[h].routes.add(r))
        }
        Some(other) => CmdOutput::fail(
            255,
            format!("Command \"{other}\" is unknown, try \"ip route help\"."),
        ),
    }
}

fn ip_neigh(w: &mut World, h: HostId, rest: &[&str]) -> CmdOutput {
    match rest.first().copied() {
        None | Some("show" | "list" | "ls") => CmdOutput::out(w.hosts[h].render_ip_neigh(w.now)),
        Some("flush") => {
            let dev = rest
                .iter()
                .position(|a| *a == "dev")
                .and_then(|i| rest.get(i + 1));
            let host = &mut w.hosts[h];
            match dev {
                Some(d) => match host.iface_by_name(d) {
                    Some(i) => host.neigh.flush_iface(i),
                    None => return CmdOutput::fail(1, format!("Cannot find device \"{d}\"")),
                },
                None => host
                    .neigh
                    .entries
                    .retain(|_, e| e.state == crate::host::neigh::NudState::Permanent),
            }
            CmdOutput::ok()
        }
        Some("add" | "replace") => {
            let ip: Option<Ipv4Addr> = rest.get(1).and_then(|s| s.parse().ok());
            let mac = rest
                .iter()
                .position(|a| *a == "lladdr")
                .and_then(|i| rest.get(i + 1))
                .and_then(|m| crate::packet::MacAddr::parse(m).ok());
            let dev = rest
                .iter()
                .position(|a| *a == "dev")
                .and_then(|i| rest.get(i + 1));
            let (Some(ip), Some(mac), Some(dev)) = (ip, mac, dev) else {
                return CmdOutput::fail(
                    1,
                    "usage: ip neigh add ADDR lladdr MAC dev DEV [nud permanent]",
                );
            };
            let Some(i) = w.hosts[h].iface_by_name(dev) else {
                return CmdOutput::fail(1, format!("Cannot find device \"{dev}\""));
            };
            let e = w.hosts[h].neigh.incomplete(i, ip);
            e.mac = Some(mac);
            e.state = crate::host::neigh::NudState::Permanent;
            CmdOutput::ok()
        }
        Some(other) => CmdOutput::fail(
            255,
            format!("Command \"{other}\" is unknown, try \"ip neigh help\"."),
        ),
    }
}

/// `ifconfig`.
pub fn ifconfig(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    let Some((label, rest)) = args.split_first() else {
        return CmdOutput::out(w.hosts[h].render_ip_addr(None));
    };
    if label.starts_with("tunl") {
        w.hosts[h].ensure_tunl0();
    }
    let Some(i) = w.hosts[h].iface_by_name(label) else {
        return CmdOutput::fail(
            1,
            format!("{label}: ERROR while getting interface flags: No such device"),
        );
    };
    let dev = w.hosts[h].ifaces[i].name.clone();
    let mut addr: Option<Ipv4Addr> = None;
    let mut prefix: Option<u8> = None;
    let mut brd: Option<Ipv4Addr> = None;
    let mut updown: Option<bool> = None;
    let mut k = 0;
    while k < rest.len() {
        match rest[k] {
            "netmask" => {
                prefix = rest
                    .get(k + 1)
                    .and_then(|m| m.parse().ok())
                    .and_then(mask_to_prefix);
                if prefix.is_none() {
                    return CmdOutput::fail(
                        1,
                        format!("{}: Unknown host", rest.get(k + 1).unwrap_or(&"")),
                    );
                }
                k += 1;
            }
            "broadcast" => {
                brd = rest.get(k + 1).and_then(|b| b.parse().ok());
                k += 1;
            }
            "up" => updown = Some(true),
            "down" => updown = Some(false),
            "mtu" => k += 1,
            a => match parse_cidr(a) {
                Some((ad, p)) => {
                    addr = Some(ad);
                    if p.is_some() {
                        prefix = p;
                    }
                }
                None => {
                    return CmdOutput::fail(
                        1,
                        format!("{a}: Unknown host\nifconfig: `--help' gives usage information."),
                    );
                }
            },
        }
        k += 1;
    }
    let is_alias = label.contains(':');
    if let Some(a) = addr {
        // ifconfig replaces the address carried by this label.
        let old: Vec<(Ipv4Addr, u8)> = w.hosts[h].ifaces[i]
            .addrs
            .iter()
            .filter(|x| x.label == *label)
            .map(|x| (x.addr, x.prefix))
            .collect();
        for (oa, op) in old {
            let _ = w.addr_del(h, &dev, oa, Some(op));
        }
        let p = prefix.unwrap_or_else(|| classful(a));
        let brd = brd.or_else(|| (p < 31).then(|| Ipv4Addr::from(u32::from(a) | !prefix_mask(p))));
        if let Err(e) = w.addr_add(
            h,
            label,
            IfAddr {
                addr: a,
                prefix: p,
                brd,
                label: (*label).to_string(),
                host_scope: false,
            },
        ) {
            return CmdOutput::fail(
                1,
                format!(
                    "SIOCSIFADDR: {}",
                    e.trim_start_matches("RTNETLINK answers: ")
                ),
            );
        }
        if updown != Some(false) && !is_alias {
            let _ = w.link_set(h, &dev, true);
        }
    } else if let Some(p) = prefix
        && let Some(x) = w.hosts[h].ifaces[i]
            .addrs
            .iter_mut()
            .find(|x| x.label == *label)
    {
        x.prefix = p;
    }
    match updown {
        Some(false) if is_alias => {
            let old: Vec<Ipv4Addr> = w.hosts[h].ifaces[i]
                .addrs
                .iter()
                .filter(|x| x.label == *label)
                .map(|x| x.addr)
                .collect();
            for a in old {
                let _ = w.addr_del(h, &dev, a, None);
            }
        }
        Some(up) if !is_alias => {
            let _ = w.link_set(h, &dev, up);
        }
        _ => {}
    }
    CmdOutput::ok()
}

/// `route` (net-tools).
pub fn route(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    let args: Vec<&str> = args.to_vec();
    match args.first().copied() {
        None | Some("-n" | "-e" | "-ne") => CmdOutput::out(w.hosts[h].routes.render_route_n()),
        Some(verb @ ("add" | "del")) => {
            let mut dst = None;
            let mut prefix = 32u8;
            let mut gw = None;
            let mut dev = None;
            let mut metric = 0;
            let mut k = 1;
            while k < args.len() {
                match args[k] {
                    "-host" => {
                        dst = args.get(k + 1).and_then(|a| a.parse().ok());
                        prefix = 32;
                        k += 1;
                    }
                    "-net" => {
                        if let Some((a, p)) = args.get(k + 1).and_then(|a| parse_cidr(a)) {
                            dst = Some(a);
                            prefix = p.unwrap_or_else(|| classful(a));
                        }
                        k += 1;
                    }
                    "default" => {
                        dst = Some(Ipv4Addr::UNSPECIFIED);
                        prefix = 0;
                    }
                    "netmask" => {
                        prefix = args
                            .get(k + 1)
                            .and_then(|m| m.parse().ok())
                            .and_then(mask_to_prefix)
                            .unwrap_or(prefix);
                        k += 1;
                    }
                    "gw" => {
                        gw = args.get(k + 1).and_then(|a| a.parse().ok());
                        k += 1;
                    }
                    "dev" => {
                        dev = args
                            .get(k + 1)
                            .map(|d| d.split(':').next().unwrap_or(d).to_string());
                        k += 1;
                    }
                    "metric" => {
                        metric = args.get(k + 1).and_then(|m| m.parse().ok()).unwrap_or(0);
                        k += 1;
                    }
                    other => {
                        if dst.is_none() {
                            if let Some((a, p)) = parse_cidr(other) {
                                dst = Some(a);
                                prefix = p.unwrap_or(32);
                            } else if w.hosts[h].iface_by_name(other).is_some() {
                                dev = Some(other.split(':').next().unwrap_or(other).to_string());
                            }
                        } else if w.hosts[h].iface_by_name(other).is_some() {
                            dev = Some(other.split(':').next().unwrap_or(other).to_string());
                        }
                    }
                }
                k += 1;
            }
            let Some(dst) = dst else {
                return CmdOutput::fail(
                    4,
                    "Usage: route add [-net|-host] target [netmask Nm] [gw Gw] [metric M] [[dev] If]",
                );
            };
            if verb == "del" {
                return match w.hosts[h].routes.del(dst, prefix, dev.as_deref()) {
                    Ok(()) => CmdOutput::ok(),
                    Err(_) => CmdOutput::fail(7, "SIOCDELRT: No such process"),
                };
            }
            let dev = match (dev, gw) {
                (Some(d), _) => d,
                (None, Some(g)) => match w.route_output(h, g) {
                    Some(r) => w.hosts[h].ifaces[r.iface].name.clone(),
                    None => return CmdOutput::fail(7, "SIOCADDRT: Network is unreachable"),
                },
                (None, None) => return CmdOutput::fail(7, "SIOCADDRT: No such device"),
            };
            let r = Route {
                dst: Ipv4Addr::from(u32::from(dst) & prefix_mask(prefix)),
                prefix,
                via: gw,
                dev,
                src: None,
                metric,
                proto: RouteProto::Boot,
            };
            match w.hosts[h].routes.add(r) {
                Ok(()) => CmdOutput::ok(),
                Err(_) => CmdOutput::fail(7, "SIOCADDRT: File exists"),
            }
        }
        Some(other) => CmdOutput::fail(4, format!("route: unknown option `{other}'")),
    }
}

/// `arp -n` (net-tools) and `arp -d`.
pub fn arp(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    if let Some(pos) = args.iter().position(|a| *a == "-d") {
        let Some(ip) = args.get(pos + 1).and_then(|a| a.parse::<Ipv4Addr>().ok()) else {
            return CmdOutput::fail(1, "arp: need host name");
        };
        w.hosts[h].neigh.entries.retain(|(_, a), _| *a != ip);
        return CmdOutput::ok();
    }
    let now = w.now;
    let host = &w.hosts[h];
    let mut out = String::from(
        "Address                  HWtype  HWaddress           Flags Mask            Iface\n",
    );
    for ((i, ip), e) in &host.neigh.entries {
        let dev = &host.ifaces[*i].name;
        match e.mac {
            Some(m)
                if e.state_at(now) != crate::host::neigh::NudState::Failed
                    && e.state_at(now) != crate::host::neigh::NudState::Incomplete =>
            {
                let flags = if e.state == crate::host::neigh::NudState::Permanent {
                    "CM"
                } else {
                    "C"
                };
                out.push_str(&format!(
                    "{:<24} {:<7} {:<19} {:<5} {:<15} {dev}\n",
                    ip.to_string(),
                    "ether",
                    m.to_string(),
                    flags,
                    ""
                ));
            }
            _ => out.push_str(&format!(
                "{:<24} {:<27} {:<5} {:<15} {dev}\n",
                ip.to_string(),
                "(incomplete)",
                "",
                ""
            )),
        }
    }
    CmdOutput::out(out)
}

fn parse_addr_mask(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (a, p) = parse_cidr(s)?;
    Some((a, p.unwrap_or(32)))
}

fn parse_port(s: &str) -> Option<(u16, u16)> {
    match s.split_once(':') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => {
            let p = s.parse().ok()?;
            Some((p, p))
        }
    }
}

/// `iptables [-t filter|mangle] -A|-I|-D|-F|-X|-Z|-N|-P|-S|-L …`
pub fn iptables(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    let mut table = "filter";
    let mut cmd: Option<(&str, Option<&str>)> = None;
    let mut pos_arg: Option<&str> = None;
    let mut rule = Rule::default();
    let mut neg = false;
    let (mut numeric, mut verbose, mut line_numbers) = (false, false, false);
    let mut k = 0;
    while k < args.len() {
        let a = args[k];
        let next = args.get(k + 1).copied();
        let mut take = || {
            k += 1;
            next
        };
        match a {
            "-t" | "--table" => table = take().unwrap_or("filter"),
            "-A" | "-I" | "-D" | "-N" | "-X" | "-F" | "-Z" | "-P" | "-S" | "-L" | "--append"
            | "--insert" | "--delete" | "--flush" | "--list" => {
                let chain = next.filter(|n| !n.starts_with('-'));
                if chain.is_some() {
                    k += 1;
                }
                cmd = Some((a, chain));
                if matches!(a, "-I" | "-D" | "-P")
                    && let Some(n) = args.get(k + 1).filter(|n| !n.starts_with('-'))
                {
                    pos_arg = Some(n);
                    k += 1;
                }
            }
            "!" => neg = true,
            "-p" | "--protocol" => {
                let p = take().unwrap_or("");
                let n = match p {
                    "tcp" => 6,
                    "udp" => 17,
                    "icmp" => 1,
                    "vrrp" => 112,
                    "all" => 0,
                    other => match other.parse() {
                        Ok(n) => n,
                        Err(_) => {
                            return CmdOutput::fail(
                                2,
                                format!(
                                    "iptables v1.8.9 (legacy): unknown protocol \"{other}\" specified"
                                ),
                            );
                        }
                    },
                };
                if n != 0 {
                    rule.proto = Some((std::mem::take(&mut neg), n));
                }
            }
            "-s" | "--source" | "-d" | "--destination" => {
                let v = take().unwrap_or("");
                let Some((ad, p)) = parse_addr_mask(v) else {
                    return CmdOutput::fail(
                        2,
                        format!("iptables v1.8.9 (legacy): host/network `{v}' not found"),
                    );
                };
                let m = Some((
                    std::mem::take(&mut neg),
                    Ipv4Addr::from(u32::from(ad) & prefix_mask(p)),
                    p,
                ));
                if a.starts_with("-s") || a == "--source" {
                    rule.src = m
                } else {
                    rule.dst = m
                }
            }
            "--sport" | "--source-port" | "--dport" | "--destination-port" => {
                let v = take().unwrap_or("");
                let Some(r) = parse_port(v) else {
                    return CmdOutput::fail(
                        2,
                        format!("iptables v1.8.9 (legacy): invalid port/service `{v}' specified"),
                    );
                };
                if a.contains("dport") || a.contains("destination") {
                    rule.dport = Some(r)
                } else {
                    rule.sport = Some(r)
                }
            }
            "-i" | "--in-interface" => rule.in_if = take().map(str::to_string),
            "-o" | "--out-interface" => rule.out_if = take().map(str::to_string),
            "-m" | "--match" => {
                take();
            }
            "-j" | "--jump" => {
                let t = take().unwrap_or("");
                rule.target = Some(match t {
                    "ACCEPT" => Target::Accept,
                    "DROP" => Target::Drop,
                    "REJECT" => Target::Reject,
                    "MARK" => Target::Mark(0),
                    "LOG" => Target::Log(String::new()),
                    other => Target::Jump(other.to_string()),
                });
            }
            "--set-mark" | "--set-xmark" => {
                let v = take().unwrap_or("0");
                let v = v.split('/').next().unwrap_or(v);
                let n = if let Some(x) = v.strip_prefix("0x") {
                    u32::from_str_radix(x, 16).ok()
                } else {
                    v.parse().ok()
                };
                let Some(n) = n else {
                    return CmdOutput::fail(
                        2,
                        format!("iptables v1.8.9 (legacy): Bad MARK value \"{v}\""),
                    );
                };
                rule.target = Some(Target::Mark(n));
            }
            "--log-prefix" => rule.target = Some(Target::Log(take().unwrap_or("").to_string())),
            "--reject-with" | "-w" | "--wait" => {
                take();
            }
            "-n" | "--numeric" => numeric = true,
            "-v" | "--verbose" => verbose = true,
            "--line-numbers" => line_numbers = true,
            "-x" | "--exact" => {}
            // Combined short options such as `-nL`, `-Ln`, `-nvL`.
            o if o.len() > 2
                && o.starts_with('-')
                && !o.starts_with("--")
                && o[1..].chars().all(|c| "nvLSx".contains(c)) =>
            {
                numeric |= o.contains('n');
                verbose |= o.contains('v');
                let listing = if o.contains('L') {
                    "-L"
                } else if o.contains('S') {
                    "-S"
                } else {
                    ""
                };
                if !listing.is_empty() {
                    let chain = next.filter(|n| !n.starts_with('-'));
                    if chain.is_some() {
                        k += 1;
                    }
                    cmd = Some((listing, chain));
                }
            }
            other => {
                return CmdOutput::fail(
                    2,
                    format!(
                        "iptables v1.8.9 (legacy): unknown option \"{other}\"\nTry `iptables -h' or 'iptables --help' for more information."
                    ),
                );
            }
        }
        k += 1;
    }
    let nf = &mut w.hosts[h].netfilter;
    let t = match table {
        "filter" => &mut nf.filter,
        "mangle" => &mut nf.mangle,
        "nat" | "raw" | "security" => {
            return CmdOutput::noted(format!(
                "the {table} table is not modelled (filter and mangle are)"
            ));
        }
        other => {
            return CmdOutput::fail(
                3,
                format!(
                    "iptables v1.8.9 (legacy): can't initialize iptables table `{other}': Table does not exist (do you need to insmod?)"
                ),
            );
        }
    };
    let Some((c, chain)) = cmd else {
        return CmdOutput::fail(2, "iptables v1.8.9 (legacy): no command specified");
    };
    let no_chain = || CmdOutput::fail(1, "iptables: No chain/target/match by that name.");
    match c {
        "-A" | "--append" | "-I" | "--insert" => {
            let Some(ch) = chain.and_then(|n| t.chain_mut(n)) else {
                return no_chain();
            };
            if c.starts_with("-A") || c == "--append" {
                ch.rules.push(rule);
            } else {
                let n: usize = pos_arg.and_then(|p| p.parse().ok()).unwrap_or(1);
                if n == 0 || n > ch.rules.len() + 1 {
                    return CmdOutput::fail(1, "iptables: Index of insertion too big.");
                }
                ch.rules.insert(n - 1, rule);
            }
            CmdOutput::ok()
        }
        "-D" | "--delete" => {
            let Some(ch) = chain.and_then(|n| t.chain_mut(n)) else {
                return no_chain();
            };
            let idx = match pos_arg.and_then(|p| p.parse::<usize>().ok()) {
                Some(n) if n >= 1 && n <= ch.rules.len() => Some(n - 1),
                Some(_) => return CmdOutput::fail(1, "iptables: Index of deletion too big."),
                None => ch.rules.iter().position(|r| r.spec() == rule.spec()),
            };
            match idx {
                Some(i) => {
                    ch.rules.remove(i);
                    CmdOutput::ok()
                }
                None => CmdOutput::fail(
                    1,
                    "iptables: Bad rule (does a matching rule exist in that chain?).",
                ),
            }
        }
        "-F" | "--flush" => {
            for ch in t
                .chains
                .iter_mut()
                .filter(|x| chain.is_none_or(|n| n == x.name))
            {
                ch.rules.clear();
            }
            CmdOutput::ok()
        }
        "-Z" => {
            for ch in t
                .chains
                .iter_mut()
                .filter(|x| chain.is_none_or(|n| n == x.name))
            {
                for r in &mut ch.rules {
                    r.pkts = 0;
                    r.bytes = 0;
                }
            }
            CmdOutput::ok()
        }
        "-X" => {
            t.chains
                .retain(|x| x.policy.is_some() || chain.is_some_and(|n| n != x.name));
            CmdOutput::ok()
        }
        "-N" => {
            let Some(n) = chain else { return no_chain() };
            if t.chain(n).is_some() {
                return CmdOutput::fail(1, "iptables: Chain already exists.");
            }
            t.chains.push(crate::host::netfilter::Chain {
                name: n.to_string(),
                policy: None,
                rules: vec![],
                policy_counts: (0, 0),
            });
            CmdOutput::ok()
        }
        "-P" => {
            let Some(ch) = chain.and_then(|n| t.chain_mut(n)) else {
                return no_chain();
            };
            ch.policy = Some(match pos_arg {
                Some("DROP") => Verdict::Drop,
                Some("ACCEPT") => Verdict::Accept,
                _ => return CmdOutput::fail(2, "iptables: Bad policy name."),
            });
            CmdOutput::ok()
        }
        "-L" | "--list" => {
            if chain.is_some_and(|n| t.chain(n).is_none()) {
                return CmdOutput::fail(1, "iptables: No chain/target/match by that name.");
            }
            CmdOutput::out(t.list(chain, numeric, verbose, line_numbers))
        }
        _ => {
            let mut out = String::new();
            for ch in t
                .chains
                .iter()
                .filter(|x| chain.is_none_or(|n| n == x.name))
            {
                match ch.policy {
                    Some(p) => out.push_str(&format!("-P {} {}\n", ch.name, p.name())),
                    None => out.push_str(&format!("-N {}\n", ch.name)),
                }
            }
            for ch in t
                .chains
                .iter()
                .filter(|x| chain.is_none_or(|n| n == x.name))
            {
                for r in &ch.rules {
                    out.push_str(&format!("-A {}{}\n", ch.name, r.spec()));
                }
            }
            CmdOutput::out(out)
        }
    }
}
