//! The listing functions of `ipvsadm.c` (`print_title`,
//! `print_service_entry`, `print_largenum`, `list_conn`, …), byte for byte.

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::names::{Names, port_to_service};
use crate::ipvs::dest::Dest;
use crate::ipvs::table::{Ipvs, Service, SvcId};
use crate::ipvs::types::{FwdMethod, ServiceKey};
use crate::time::{NS_PER_S, SimTime};

pub const NUMERIC: u32 = 0x0001;
pub const RULE: u32 = 0x0002;
pub const STATS: u32 = 0x0004;
pub const RATE: u32 = 0x0008;
pub const THRESHOLDS: u32 = 0x0010;
pub const PERSISTENTCONN: u32 = 0x0020;
pub const NOSORT: u32 = 0x0040;
pub const EXACT: u32 = 0x0080;
pub const TUN_INFO: u32 = 0x0100;

const TUNNAMES: [&str; 3] = ["ipip", "gue", "gre"];
const TUNFLAGS: [&str; 3] = ["-c", "+c", "r+c"];
const TUN_FLAGS_OPTS: [&str; 3] = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"];

/// `addrport_to_anyname`.
pub fn addrport(a: Ipv4Addr, port: u16, proto: u8, format: u32, names: &dyn Names) -> String {
    if format & NUMERIC != 0 {
        format!("{a}:{port}")
    } else {
        let h = names.host(a).unwrap_or_else(|| a.to_string());
        match port_to_service(port, proto) {
            Some(s) => format!("{h}:{s}"),
            None => format!("{h}:{port}"),
        }
    }
}

/// `print_largenum`.
pub fn largenum(out: &mut String, i: u64, format: u32) {
    if format & EXACT != 0 {
        let len = i.to_string().len();
        let w = if len <= 8 { 9 } else { len + 1 };
        let _ = write!(out, "{i:>w$}");
        return;
    }
    let _ = if i < 100_000_000 {
        write!(out, "{i:>9}")
    } else if i < 1_000_000_000 {
        write!(out, "{:>8}K", i / 1000)
    } else if i < 100_000_000_000 {
        write!(out, "{:>8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        write!(out, "{:>8}G", i / 1_000_000_000)
    } else {
        write!(out, "{:>8}T", i / 1_000_000_000_000)
    };
}

/// `print_title`.
pub fn title(out: &mut String, format: u32) {
    let cols = |out: &mut String, a: [&str; 5]| {
        let _ = writeln!(
            out,
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", a[0], a[1], a[2], a[3], a[4]
        );
    };
    if format & STATS != 0 {
        cols(out, ["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"]);
    } else if format & RATE != 0 {
        cols(out, ["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"]);
    } else if format & THRESHOLDS != 0 {
        let _ = writeln!(
            out,
            "{:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        );
    } else if format & PERSISTENTCONN != 0 {
        let _ = writeln!(
            out,
            "{:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"
        );
    } else if format & TUN_INFO != 0 {
        out.push_str(
            "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward \
             TunnelInfo    Weight ActiveConn InActConn\n",
        );
    } else if format & RULE == 0 {
        out.push_str(
            "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward \
             Weight ActiveConn InActConn\n",
        );
    }
}

fn sched_flags_text(s: &Service) -> String {
    let f = s.flags;
    let name = s.sched.name();
    let mut v: Vec<&str> = Vec::new();
    if name == "sh" || name == "mh" {
        if f.flag1 {
            v.push(if name == "sh" {
                "sh-fallback"
            } else {
                "mh-fallback"
            });
        }
        if f.flag2 {
            v.push(if name == "sh" { "sh-port" } else { "mh-port" });
        }
    } else {
        if f.flag1 {
            v.push("flag-1");
        }
        if f.flag2 {
            v.push("flag-2");
        }
        if f.flag3 {
            v.push("flag-3");
        }
    }
    v.join(",")
}

fn any_flags(s: &Service) -> bool {
    s.flags.flag1 || s.flags.flag2 || s.flags.flag3
}

fn truncate(mut s: String, n: usize) -> String {
    if s.len() > n {
        let mut k = n;
        while !s.is_char_boundary(k) {
            k -= 1;
        }
        s.truncate(k);
    }
    s
}

fn fwd_switch(f: FwdMethod) -> &'static str {
    match f {
        FwdMethod::Masq => "-m",
        FwdMethod::Tunnel => "-i",
        FwdMethod::Local | FwdMethod::Route => "-g",
        FwdMethod::FullNat => "--fullnat",
    }
}

fn proto_of(key: &ServiceKey) -> u8 {
    match key {
        ServiceKey::Addr { proto, .. } => proto.number(),
        ServiceKey::Fwmark(_) => 6,
    }
}

/// `ipvs_cmp_dests` (wrapping subtraction read as a signed int, as the C).
fn cmp_dests(a: &Dest, b: &Dest) -> Ordering {
    let r = u32::from(a.addr)
        .wrapping_sub(u32::from(b.addr))
        .cast_signed();
    if r != 0 {
        return r.cmp(&0);
    }
    a.port.cmp(&b.port)
}

/// `ipvs_cmp_services`.
fn cmp_services(a: &Service, b: &Service) -> Ordering {
    let (fa, pa, aa, porta) = a.key.sort_key();
    let (fb, pb, ab, portb) = b.key.sort_key();
    let r = fa.wrapping_sub(fb).cast_signed();
    if r != 0 {
        return r.cmp(&0);
    }
    if pa != pb {
        return pa.cmp(&pb);
    }
    let r = aa.wrapping_sub(ab).cast_signed();
    if r != 0 {
        return r.cmp(&0);
    }
    porta.cmp(&portb)
}

/// A stable insertion sort that tolerates the C comparators' quirks.
fn stable_sort<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && cmp(&v[j - 1], &v[j]) == Ordering::Greater {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Services in the order `ipvsadm -L` prints them. With `--nosort` the
/// kernel dumps its address-hashed table before its fwmark table
/// (`ip_vs_genl_dump_services`); inside each table the order depends on a
/// per-netns hash, so the lab uses creation order there (simplification).
pub fn sorted_services(ipvs: &Ipvs, format: u32) -> Vec<SvcId> {
    let mut v: Vec<(SvcId, &Service)> = ipvs.services().collect();
    if format & NOSORT == 0 {
        stable_sort(&mut v, |a, b| cmp_services(a.1, b.1));
    } else {
        stable_sort(&mut v, |a, b| {
            let f = |s: &Service| matches!(s.key, ServiceKey::Fwmark(_));
            f(a.1).cmp(&f(b.1))
        });
    }
    v.into_iter().map(|(i, _)| i).collect()
}

/// `print_service_entry`.
#[expect(
    clippy::too_many_lines,
    reason = "one branch per output format, as in ipvsadm.c"
)]
pub fn service_entry(out: &mut String, ipvs: &Ipvs, id: SvcId, format: u32, names: &dyn Names) {
    let Some(s) = ipvs.service(id) else {
        return;
    };
    let proto = proto_of(&s.key);
    let svc_name = match s.key {
        ServiceKey::Fwmark(f) => {
            if format & RULE != 0 {
                format!("-f {f}")
            } else {
                format!("FWM  {f}")
            }
        }
        ServiceKey::Addr {
            proto: p,
            addr,
            port,
        } => {
            let v = addrport(addr, port, proto, format, names);
            if format & RULE != 0 {
                let o = match p {
                    crate::ipvs::Protocol::Tcp => "-t",
                    crate::ipvs::Protocol::Udp => "-u",
                    crate::ipvs::Protocol::Sctp => "--sctp-service",
                };
                format!("{o} {v}")
            } else {
                truncate(format!("{:<4} {v}", p.name()), 33)
            }
        }
    };
    let st = s.stats.counters();
    let rt = s.stats.rates();
    if format & RULE != 0 {
        let _ = write!(out, "-A {svc_name} -s {}", s.sched.name());
        if let Some(t) = s.persistent {
            let _ = write!(out, " -p {t}");
            if s.netmask != Ipv4Addr::BROADCAST {
                let _ = write!(out, " -M {}", s.netmask);
            }
        }
        if let Some(pe) = &s.pe {
            let _ = write!(out, " --pe {pe}");
        }
        if s.ops {
            out.push_str(" -o");
        }
        if any_flags(s) {
            let _ = write!(out, " -b {}", sched_flags_text(s));
        }
    } else if format & STATS != 0 {
        let _ = write!(out, "{svc_name:<33}");
        for n in [st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes] {
            largenum(out, n, format);
        }
    } else if format & RATE != 0 {
        let _ = write!(out, "{svc_name:<33}");
        for n in [rt.cps, rt.inpps, rt.outpps, rt.inbps, rt.outbps] {
            largenum(out, n, format);
        }
    } else {
        let _ = write!(out, "{svc_name} {}", s.sched.name());
        if any_flags(s) {
            let _ = write!(out, " ({})", sched_flags_text(s));
        }
        if let Some(t) = s.persistent {
            let _ = write!(out, " persistent {t}");
            if s.netmask != Ipv4Addr::BROADCAST {
                let _ = write!(out, " mask {}", s.netmask);
            }
            if let Some(pe) = &s.pe {
                let _ = write!(out, " pe {pe}");
            }
        }
        if s.ops {
            out.push_str(" ops");
        }
    }
    out.push('\n');

    let mut dests: Vec<&Dest> = ipvs.service_dests(id).collect();
    if format & NOSORT == 0 {
        stable_sort(&mut dests, |a, b| cmp_dests(a, b));
    }
    // The forwarding method shown is the one configured: kernels since 3.x
    // no longer turn a dest on a local address into LocalNode in
    // `__ip_vs_update_dest` (the transmitters detect the local route), so
    // `Local` never appears although the lab delivers such packets locally.
    for e in dests {
        let mut dname = addrport(e.addr, e.port, proto, format, names);
        if format & RULE == 0 {
            dname = truncate(dname, 28);
        }
        let ds = e.stats.counters();
        let dr = e.stats.rates();
        if format & RULE != 0 {
            let _ = write!(
                out,
                "-a {svc_name} -r {dname} {} -w {}",
                fwd_switch(e.fwd_requested),
                e.weight
            );
            if e.fwd == FwdMethod::Tunnel {
                let k = usize::from(e.tun.kind.min(2));
                let c = usize::from(e.tun.csum.min(2));
                let _ = match k {
                    1 => write!(
                        out,
                        " --tun-type {} --tun-port {} {}",
                        TUNNAMES[k], e.tun.port, TUN_FLAGS_OPTS[c]
                    ),
                    2 => write!(out, " --tun-type {} {}", TUNNAMES[k], TUN_FLAGS_OPTS[c]),
                    _ => write!(out, " --tun-type {}", TUNNAMES[k]),
                };
            }
            out.push('\n');
        } else if format & STATS != 0 {
            let _ = write!(out, "  -> {dname:<28}");
            for n in [ds.conns, ds.inpkts, ds.outpkts, ds.inbytes, ds.outbytes] {
                largenum(out, n, format);
            }
            out.push('\n');
        } else if format & RATE != 0 {
            let _ = write!(
                out,
                "  -> {dname:<28} {:>8} {:>8} {:>8}",
                dr.cps, dr.inpps, dr.outpps
            );
            largenum(out, dr.inbps, format);
            largenum(out, dr.outbps, format);
            out.push('\n');
        } else if format & THRESHOLDS != 0 {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<10} {:<10} {:<10} {:<10}",
                e.u_threshold, e.l_threshold, e.activeconns, e.inactconns
            );
        } else if format & PERSISTENTCONN != 0 {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<9} {:<11} {:<10} {:<10}",
                e.weight, e.persistconns, e.activeconns, e.inactconns
            );
        } else if format & TUN_INFO != 0 {
            let ti = if e.fwd == FwdMethod::Tunnel {
                let k = usize::from(e.tun.kind.min(2));
                let c = usize::from(e.tun.csum.min(2));
                match k {
                    1 => format!("{}:{}:{}", TUNNAMES[k], e.tun.port, TUNFLAGS[c]),
                    2 => format!("{}:{}", TUNNAMES[k], TUNFLAGS[c]),
                    _ => TUNNAMES[k].to_string(),
                }
            } else {
                "n/a".to_string()
            };
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {ti:<13} {:<6} {:<10} {:<10}",
                e.fwd_requested.name(),
                e.weight,
                e.activeconns,
                e.inactconns
            );
        } else {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {:<6} {:<10} {:<10}",
                e.fwd_requested.name(),
                e.weight,
                e.activeconns,
                e.inactconns
            );
        }
    }
    if format & RULE != 0 {
        for l in &s.laddrs {
            let _ = writeln!(out, "-P {svc_name} -z {l}");
        }
    }
}

/// The version line of `list_all`.
pub const VERSION_LINE: &str = "IP Virtual Server version 1.2.1 (size=4096)\n";

/// `list_all`.
pub fn list_all(out: &mut String, ipvs: &Ipvs, format: u32, names: &dyn Names) {
    if format & RULE == 0 {
        out.push_str(VERSION_LINE);
    }
    title(out, format);
    for id in sorted_services(ipvs, format) {
        service_entry(out, ipvs, id, format, names);
    }
}

/// `list_conn` (entries in creation order, see `conn.rs`).
pub fn list_conn(out: &mut String, ipvs: &Ipvs, now: SimTime, format: u32, names: &dyn Names) {
    out.push_str("IPVS connection entries\n");
    if format & PERSISTENTCONN != 0 {
        let _ = writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} pe_data",
            "state", "source", "virtual", "destination", "pe name"
        );
    } else {
        let _ = writeln!(
            out,
            "pro expire {:<11} {:<18} {:<18} destination",
            "state", "source", "virtual"
        );
    }
    for (_, c) in ipvs.conns().listing() {
        let proto = if c.fwmark_tmpl { 0 } else { c.proto.number() };
        let cname = addrport(c.caddr, c.cport, proto, format, names);
        let vname = addrport(c.vaddr, c.vport, proto, format, names);
        let dname = addrport(c.daddr, c.dport, proto, format, names);
        let expires = c.expires.0.saturating_sub(now.0) / NS_PER_S;
        let exp = format!("{:02}:{:02}", expires / 60, expires % 60);
        let _ = writeln!(
            out,
            "{:<3} {exp:<6} {:<11} {cname:<18} {vname:<18} {dname}",
            c.proto_name(),
            c.state_name()
        );
    }
}

/// `list_timeout`.
pub fn list_timeout(out: &mut String, ipvs: &Ipvs) {
    let (t, f, u) = ipvs.timeouts.get();
    let _ = writeln!(out, "Timeout (tcp tcpfin udp): {t} {f} {u}");
}

/// `list_daemon` (the kernel reports maxlen, group, port and TTL since 4.3).
pub fn list_daemon(out: &mut String, ipvs: &Ipvs) {
    for d in &ipvs.daemons {
        let _ = write!(
            out,
            "{} sync daemon (mcast={}, syncid={}",
            if d.master { "master" } else { "backup" },
            d.ifname,
            d.syncid
        );
        if d.sync_maxlen != 0 {
            let _ = write!(out, ", maxlen={}", d.sync_maxlen);
        }
        if let Some(g) = d.mcast_group {
            let _ = write!(out, ", group={g}");
        }
        if d.mcast_port != 0 {
            let _ = write!(out, ", port={}", d.mcast_port);
        }
        if d.mcast_ttl != 0 {
            let _ = write!(out, ", ttl={}", d.mcast_ttl);
        }
        out.push_str(")\n");
    }
}

/// FULLNAT `-G`: local address pools (layout of the lab's own choosing).
pub fn list_laddrs(
    out: &mut String,
    ipvs: &Ipvs,
    only: Option<SvcId>,
    format: u32,
    names: &dyn Names,
) {
    out.push_str(VERSION_LINE);
    out.push_str("Prot LocalAddress:Port\n  -> LocalAddress                  Conns\n");
    let ids = match only {
        Some(i) => vec![i],
        None => sorted_services(ipvs, format),
    };
    for id in ids {
        let Some(s) = ipvs.service(id) else {
            continue;
        };
        let head = match s.key {
            ServiceKey::Fwmark(f) => format!("FWM  {f}"),
            ServiceKey::Addr { proto, addr, port } => {
                format!(
                    "{:<4} {}",
                    proto.name(),
                    addrport(addr, port, proto.number(), format, names)
                )
            }
        };
        let _ = writeln!(out, "{head}");
        for l in &s.laddrs {
            let n = ipvs
                .conns()
                .listing()
                .iter()
                .filter(|(_, c)| c.laddr == Some(*l) && c.svc == Some(id))
                .count();
            let _ = writeln!(out, "  -> {:<28} {n}", l.to_string());
        }
    }
}
