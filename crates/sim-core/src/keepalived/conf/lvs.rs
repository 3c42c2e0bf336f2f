//! `virtual_server_group`, `virtual_server`, `real_server` and the checkers (keepalived
//! `check_parser.c`, `check_api.c`, `check_http.c`, …) and the end-of-config checks and
//! inheritance of `validate_check_config` (`check_data.c`).

use super::build::Cx;
use super::lexer::Node;
use super::model::*;
use super::{Severity, checker};
use crate::time::SimDuration;
use std::net::IpAddr;

const IPVS_WEIGHT_LIMIT: u32 = 65_535;
const LVS_MAX_TIMEOUT: u32 = 86_400 * 31;
const PERSISTENT_DEFAULT: u32 = 360;
const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos",
];

/// `virtual_server_group NAME { … }`.
pub(crate) fn group(cx: &mut Cx<'_>, n: &Node) -> Option<VirtualServerGroup> {
    let name = cx.arg(n, 1)?.to_string();
    let mut g = VirtualServerGroup {
        loc: cx.loc(n),
        name: name.clone(),
        entries: Vec::new(),
    };
    for c in cx.block(n) {
        cx.no_block(c);
        let first = c.words[0].text.as_str();
        if first == "fwmark" {
            if let Some(m) = cx.unsigned(c, 1, 1, u32::MAX, false) {
                g.entries.push(VsgEntry::Fwmark {
                    loc: cx.loc(c),
                    mark: m,
                });
            }
            continue;
        }
        let (addr_s, end_s) = match first.rsplit_once('-') {
            Some((a, e)) if !e.contains(':') && !e.contains('.') => (a, Some(e)),
            _ => (first, None),
        };
        let Ok(addr) = addr_s.parse::<IpAddr>() else {
            cx.error(
                c,
                format!("Invalid virtual server group IP address {first} - skipping"),
            );
            continue;
        };
        let range_end = match end_s {
            None => None,
            Some(e) => {
                let parsed = if addr.is_ipv4() {
                    e.parse::<u32>().ok().filter(|v| *v <= 255)
                } else {
                    u32::from_str_radix(e, 16).ok().filter(|v| *v <= 0xffff)
                };
                if parsed.is_none() {
                    cx.error(
                        c,
                        format!("Invalid virtual server group IP address range {first} - skipping"),
                    );
                    continue;
                }
                parsed
            }
        };
        let port = match c.words.get(1) {
            None => 0,
            Some(_) => match cx.unsigned(c, 1, 0, 65_535, false) {
                Some(p) => u16::try_from(p).unwrap_or(0),
                None => continue,
            },
        };
        g.entries.push(VsgEntry::Addr {
            loc: cx.loc(c),
            addr,
            range_end,
            port,
        });
    }
    if g.entries.is_empty() {
        cx.error(
            n,
            format!("virtual server group {name} has no entries - removing"),
        );
        return None;
    }
    Some(g)
}

/// Timing keywords shared by virtual_server, real_server and checkers, as written.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Timing {
    pub(super) retry: Option<u32>,
    pub(super) connect_timeout: Option<SimDuration>,
    pub(super) delay_before_retry: Option<SimDuration>,
    pub(super) delay_loop: Option<SimDuration>,
    pub(super) warmup: Option<SimDuration>,
    pub(super) alpha: Option<bool>,
}

struct PendingRs {
    node: Node,
    rs: RealServer,
    port: Option<u16>,
    weight: Option<u32>,
    method: Option<LvsMethod>,
    inhibit: Option<bool>,
    timing: Timing,
    checkers: Vec<checker::PendingChecker>,
}

/// A virtual server as parsed, before `validate`.
pub(crate) struct PendingVs {
    node: Node,
    vs: VirtualServer,
    sched: Option<String>,
    method: Option<LvsMethod>,
    timing: Timing,
    sorry: Option<(Node, IpAddr, Option<u16>)>,
    sorry_inhibit: bool,
    sorry_method: Option<LvsMethod>,
    rs: Vec<PendingRs>,
}

fn method(cx: &mut Cx<'_>, n: &Node, s_type: &str) -> Option<LvsMethod> {
    let m = match cx.arg(n, 1)? {
        "NAT" => LvsMethod::Nat,
        "DR" => LvsMethod::Dr,
        "TUN" => LvsMethod::Tun,
        other => {
            cx.at(
                n,
                1,
                Severity::Error,
                format!("PARSER : unknown [{other}] routing method for {s_type} server."),
                None,
            );
            return None;
        }
    };
    Some(m)
}

fn addr_port(cx: &mut Cx<'_>, n: &Node, what: &str) -> Option<(IpAddr, Option<u16>)> {
    let s = cx.arg(n, 1)?;
    let Ok(addr) = s.parse::<IpAddr>() else {
        cx.at(
            n,
            1,
            Severity::Error,
            format!("Invalid {what} IP address {s} - skipping"),
            None,
        );
        return None;
    };
    let port = match n.words.get(2) {
        None => None,
        Some(_) => Some(u16::try_from(cx.unsigned(n, 2, 0, 65_535, false)?).unwrap_or(0)),
    };
    Some((addr, port))
}

/// Reads a timing keyword into `t`; false if `kw` is not one.
pub(super) fn timing_kw(cx: &mut Cx<'_>, c: &Node, kw: &str, t: &mut Timing, level: &str) -> bool {
    match kw {
        "retry" => {
            let r = if level == "checker" {
                cx.unsigned(c, 1, 0, u32::MAX, true)
            } else {
                cx.unsigned(c, 1, 1, u32::MAX, false)
            };
            if r.is_some() {
                t.retry = r;
            }
        }
        "connect_timeout" => {
            if let Some(v) = cx.timer(c, 1, 1, u64::from(u32::MAX), true) {
                t.connect_timeout = Some(v);
            }
        }
        "delay_before_retry" => {
            if let Some(v) = cx.timer(c, 1, 0, 0, true) {
                t.delay_before_retry = Some(v);
            }
        }
        "delay_loop" => {
            if let Some(v) = cx.timer(c, 1, 1, 0, true) {
                t.delay_loop = Some(v);
            }
        }
        "warmup" => {
            if let Some(v) = cx.timer(c, 1, 0, 0, true) {
                t.warmup = Some(v);
            }
        }
        "alpha" => {
            if let Some(b) = cx.flag(c, "alpha") {
                t.alpha = Some(b);
            }
        }
        _ => return false,
    }
    true
}

/// `virtual_server IP [PORT] | fwmark N | group NAME { … }`.
pub(crate) fn virtual_server(cx: &mut Cx<'_>, n: &Node) -> Option<PendingVs> {
    let first = cx.arg(n, 1)?;
    let target = match first {
        "group" => VsTarget::Group(cx.arg(n, 2)?.to_string()),
        "fwmark" => VsTarget::Fwmark(cx.unsigned(n, 2, 1, u32::MAX, false)?),
        _ => {
            let (addr, port) = addr_port(cx, n, "virtual server")?;
            VsTarget::Addr {
                addr,
                port: port.unwrap_or(0),
            }
        }
    };
    let mut p = PendingVs {
        node: n.clone(),
        vs: VirtualServer {
            loc: cx.loc(n),
            target,
            delay_loop: SimDuration::from_secs(60),
            lvs_sched: String::new(),
            lvs_method: LvsMethod::Nat,
            protocol: None,
            persistence_timeout: None,
            persistence_granularity: None,
            persistence_engine: None,
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            sorry_server: None,
            inhibit_on_failure: false,
            alpha: false,
            omega: false,
            ha_suspend: false,
            virtualhost: None,
            flags: Vec::new(),
            smtp_alert: None,
            ip_family: None,
            connect_timeout: SimDuration::from_secs(5),
            retry: None,
            delay_before_retry: None,
            warmup: None,
            weight: 1,
            real_servers: Vec::new(),
        },
        sched: None,
        method: None,
        timing: Timing::default(),
        sorry: None,
        sorry_inhibit: false,
        sorry_method: None,
        rs: Vec::new(),
    };
    for c in cx.block(n) {
        let kw = c.words[0].text.as_str();
        if kw == "real_server" {
            if let Some(rs) = real_server(cx, c) {
                p.rs.push(rs);
            }
            continue;
        }
        cx.no_block(c);
        if kw == "alpha" {
            p.vs.alpha = true;
            continue;
        }
        if timing_kw(cx, c, kw, &mut p.timing, "virtual server") {
            continue;
        }
        let v = &mut p.vs;
        match kw {
            "lb_algo" | "lvs_sched" => {
                if let Some(s) = cx.arg(c, 1) {
                    if SCHEDULERS.contains(&s) {
                        p.sched = Some(s.to_string());
                    } else {
                        cx.at(
                            c,
                            1,
                            Severity::Error,
                            format!("Invalid lvs_scheduler '{s}' - ignoring"),
                            None,
                        );
                    }
                }
            }
            "lb_kind" | "lvs_method" => {
                if let Some(m) = method(cx, c, "virtual") {
                    p.method = Some(m);
                }
            }
            "protocol" => {
                if let Some(s) = cx.arg(c, 1) {
                    match s.to_ascii_uppercase().as_str() {
                        "TCP" => v.protocol = Some(Protocol::Tcp),
                        "UDP" => v.protocol = Some(Protocol::Udp),
                        "SCTP" => v.protocol = Some(Protocol::Sctp),
                        _ => cx.at(
                            c,
                            1,
                            Severity::Error,
                            format!("Unknown protocol {s} - ignoring"),
                            None,
                        ),
                    }
                }
            }
            "persistence_timeout" => {
                if c.words.len() < 2 {
                    v.persistence_timeout = Some(PERSISTENT_DEFAULT);
                } else if let Some(s) = cx.arg(c, 1) {
                    let r = super::numbers::read_unsigned(s, 1, LVS_MAX_TIMEOUT, false);
                    match r.value {
                        Some(t) if r.problem.is_none() => v.persistence_timeout = Some(t),
                        _ => cx.at(c, 1, Severity::Error, "persistence_timeout invalid", None),
                    }
                }
            }
            "persistence_granularity" => {
                if let Some(s) = cx.arg(c, 1) {
                    v.persistence_granularity = Some(s.to_string());
                    if v.persistence_timeout.is_none() {
                        v.persistence_timeout = Some(PERSISTENT_DEFAULT);
                    }
                }
            }
            "persistence_engine" => v.persistence_engine = cx.arg(c, 1).map(str::to_string),
            "hashed" | "ops" | "flag-1" | "flag-2" | "flag-3" => v.flags.push(kw.to_string()),
            "sh-port" | "sh-fallback" | "mh-port" | "mh-fallback" => {
                let wants = &kw[..2];
                if p.sched.as_deref() == Some(wants) {
                    v.flags.push(kw.to_string());
                } else {
                    cx.warn(c, format!("{kw} only applies to sh scheduler - ignoring"));
                }
            }
            "ha_suspend" => v.ha_suspend = true,
            "smtp_alert" => v.smtp_alert = cx.flag(c, "virtual_server smtp_alert"),
            "virtualhost" => v.virtualhost = cx.value(c),
            "ip_family" => v.ip_family = cx.arg(c, 1).map(str::to_string),
            "inhibit_on_failure" => v.inhibit_on_failure = true,
            "omega" => v.omega = true,
            "quorum_up" => v.quorum_up = cx.value(c),
            "quorum_down" => v.quorum_down = cx.value(c),
            "quorum" => {
                v.quorum = match cx.arg(c, 1) {
                    Some(s) => {
                        let r = super::numbers::read_unsigned(s, 1, u32::MAX, true);
                        if let Some(pr) = &r.problem {
                            cx.at(c, 1, pr.severity, pr.message.clone(), None);
                        }
                        match r.value {
                            Some(q) => q,
                            None => {
                                cx.at(
                                    c,
                                    1,
                                    Severity::Error,
                                    format!(
                                        "Quorum {s} must be in [1, {}]. Setting to 1.",
                                        u32::MAX
                                    ),
                                    None,
                                );
                                1
                            }
                        }
                    }
                    None => 1,
                };
            }
            "hysteresis" => {
                if let Some(h) = cx.unsigned(c, 1, 0, u32::MAX, true) {
                    v.hysteresis = h;
                }
            }
            "weight" => {
                if let Some(w) = cx.unsigned(c, 1, 1, IPVS_WEIGHT_LIMIT, true) {
                    v.weight = w;
                }
            }
            "sorry_server" => {
                if let Some((a, port)) = addr_port(cx, c, "sorry server") {
                    p.sorry = Some((c.clone(), a, port));
                }
            }
            "sorry_server_inhibit" => {
                if p.sorry.is_some() {
                    p.sorry_inhibit = true;
                } else {
                    cx.warn(
                        c,
                        "Ignoring sorry_server inhibit used before or without sorry_server",
                    );
                }
            }
            "sorry_server_lvs_method" => {
                if p.sorry.is_some() {
                    p.sorry_method = method(cx, c, "sorry");
                } else {
                    cx.warn(c, "sorry_server forwarding used without sorry_server");
                }
            }
            "snmp_name" => {}
            _ => cx.unknown(c),
        }
    }
    Some(p)
}

fn real_server(cx: &mut Cx<'_>, n: &Node) -> Option<PendingRs> {
    let (addr, port) = addr_port(cx, n, "real server")?;
    let mut p = PendingRs {
        node: n.clone(),
        rs: RealServer {
            loc: cx.loc(n),
            addr,
            port: port.unwrap_or(0),
            weight: 1,
            lvs_method: LvsMethod::Nat,
            inhibit_on_failure: false,
            alpha: false,
            uthreshold: None,
            lthreshold: None,
            notify_up: None,
            notify_down: None,
            virtualhost: None,
            smtp_alert: None,
            checkers: Vec::new(),
        },
        port,
        weight: None,
        method: None,
        inhibit: None,
        timing: Timing::default(),
        checkers: Vec::new(),
    };
    for c in cx.block(n) {
        let kw = c.words[0].text.as_str();
        if let Some(kind) = CheckerKind::from_keyword(kw) {
            if let Some(ch) = checker::checker(cx, c, kind) {
                p.checkers.push(ch);
            }
            continue;
        }
        cx.no_block(c);
        if timing_kw(cx, c, kw, &mut p.timing, "real server") {
            continue;
        }
        match kw {
            "weight" => {
                if let Some(s) = cx.arg(c, 1) {
                    let r = super::numbers::read_unsigned(s, 0, IPVS_WEIGHT_LIMIT, true);
                    if let Some(pr) = &r.problem
                        && r.value.is_some()
                    {
                        cx.at(c, 1, pr.severity, pr.message.clone(), None);
                    }
                    match r.value {
                        Some(w) => p.weight = Some(w),
                        None => cx.at(
                            c,
                            1,
                            Severity::Error,
                            format!(
                                "Real server weight {s} is outside range 0-{IPVS_WEIGHT_LIMIT}"
                            ),
                            None,
                        ),
                    }
                }
            }
            "lvs_method" => p.method = method(cx, c, "real"),
            "uthreshold" => p.rs.uthreshold = cx.unsigned(c, 1, 0, u32::MAX, true),
            "lthreshold" => p.rs.lthreshold = cx.unsigned(c, 1, 0, u32::MAX, true),
            "inhibit_on_failure" => p.inhibit = cx.flag(c, "inhibit_on_failure"),
            "notify_up" => p.rs.notify_up = cx.value(c),
            "notify_down" => p.rs.notify_down = cx.value(c),
            "smtp_alert" => p.rs.smtp_alert = cx.flag(c, "real_server smtp_alert"),
            "virtualhost" => p.rs.virtualhost = cx.value(c),
            "snmp_name" => {}
            _ => cx.unknown(c),
        }
    }
    Some(p)
}

/// keepalived's `FMT_VS`.
fn fmt_vs(vs: &VirtualServer) -> String {
    match &vs.target {
        VsTarget::Group(g) => format!("[{g}]:0"),
        VsTarget::Fwmark(m) => format!("FWM {m}"),
        VsTarget::Addr { addr, port } => trio(*addr, vs.protocol, *port),
    }
}

fn trio(addr: IpAddr, proto: Option<Protocol>, port: u16) -> String {
    let p = match proto {
        Some(Protocol::Tcp) => "tcp",
        Some(Protocol::Udp) => "udp",
        Some(Protocol::Sctp) => "sctp",
        None => "0",
    };
    format!("[{addr}]:{p}:{port}")
}

/// keepalived's `validate_check_config`: defaults, inheritance, fix-ups.
pub(crate) fn validate(
    cx: &mut Cx<'_>,
    cfg: &KeepalivedConfig,
    pending: Vec<PendingVs>,
) -> Vec<VirtualServer> {
    let mut out = Vec::new();
    for p in pending {
        let n = &p.node;
        let mut vs = p.vs;
        if p.rs.is_empty() {
            cx.error(
                n,
                format!(
                    "Virtual server {} has no real servers - ignoring",
                    fmt_vs(&vs)
                ),
            );
            continue;
        }
        let group = match &vs.target {
            VsTarget::Group(g) => Some(cfg.virtual_server_groups.iter().find(|x| &x.name == g)),
            _ => None,
        };
        if let Some(None) = group {
            if let VsTarget::Group(g) = &vs.target {
                cx.error(n, format!("Virtual server group {g} specified but not configured - ignoring virtual server"));
            }
            continue;
        }
        let group = group.flatten();
        let g_addrs =
            group.is_some_and(|g| g.entries.iter().any(|e| matches!(e, VsgEntry::Addr { .. })));
        let g_fwmarks = group.is_some_and(|g| {
            g.entries
                .iter()
                .any(|e| matches!(e, VsgEntry::Fwmark { .. }))
        });
        let is_fwmark = matches!(vs.target, VsTarget::Fwmark(_));
        let vs_port = match vs.target {
            VsTarget::Addr { port, .. } => port,
            _ => 0,
        };
        if vs.ha_suspend && (is_fwmark || g_fwmarks) {
            cx.warn(
                n,
                format!(
                    "Virtual server {}: cannot use ha_suspend with fwmarks - clearing ha_suspend",
                    fmt_vs(&vs)
                ),
            );
            vs.ha_suspend = false;
        }
        if g_addrs || (group.is_none() && !is_fwmark) {
            if vs.protocol.is_none() {
                cx.at(
                    n,
                    0,
                    Severity::Warning,
                    format!(
                        "Virtual server {}: no protocol set - defaulting to UDP",
                        fmt_vs(&vs)
                    ),
                    Some("add `protocol TCP` for a TCP service".to_string()),
                );
                vs.protocol = Some(Protocol::Udp);
            }
            if vs.flags.iter().any(|f| f == "ops") && vs.protocol != Some(Protocol::Udp) {
                cx.warn(
                    n,
                    format!(
                        "Virtual server {}: one packet scheduling requires UDP - resetting",
                        fmt_vs(&vs)
                    ),
                );
                vs.flags.retain(|f| f != "ops");
            }
            if vs.persistence_timeout.is_none() && group.is_none() && !is_fwmark && vs_port == 0 {
                cx.warn(
                    n,
                    format!(
                        "Virtual server {}: zero port only valid for persistent services - setting",
                        fmt_vs(&vs)
                    ),
                );
                vs.persistence_timeout = Some(PERSISTENT_DEFAULT);
            }
        }
        if vs.persistence_timeout.is_none()
            && let Some(g) = group
            && g.entries
                .iter()
                .any(|e| matches!(e, VsgEntry::Addr { port: 0, .. }))
        {
            cx.warn(
                n,
                format!(
                    "Virtual server {}: zero port only valid for persistent services - setting",
                    fmt_vs(&vs)
                ),
            );
            vs.persistence_timeout = Some(PERSISTENT_DEFAULT);
        }
        if vs.protocol.is_some()
            && ((group.is_some() && !g_addrs && g_fwmarks) || (group.is_none() && is_fwmark))
        {
            cx.warn(n, format!("Warning: Virtual server {}: protocol specified for fwmark - protocol will be ignored", fmt_vs(&vs)));
            vs.protocol = None;
        }
        vs.lvs_sched = match p.sched {
            Some(s) => s,
            None => {
                cx.warn(
                    n,
                    format!(
                        "Virtual server {}: no scheduler set, setting default 'wlc'",
                        fmt_vs(&vs)
                    ),
                );
                "wlc".to_string()
            }
        };
        let mut vs_method = p.method;
        vs.delay_loop = p.timing.delay_loop.unwrap_or(vs.delay_loop);
        vs.connect_timeout = p.timing.connect_timeout.unwrap_or(vs.connect_timeout);
        vs.retry = p.timing.retry;
        vs.delay_before_retry = p.timing.delay_before_retry;
        vs.warmup = p.timing.warmup;

        let mut weight_sum: u64 = 0;
        let mut seen: Vec<(IpAddr, Option<u16>)> = Vec::new();
        for prs in p.rs {
            let rn = &prs.node;
            let mut rs = prs.rs;
            if seen.contains(&(rs.addr, prs.port)) {
                cx.warn(
                    rn,
                    format!(
                        "VS {}: real server {} is duplicated - removing second rs",
                        fmt_vs(&vs),
                        trio(rs.addr, vs.protocol, rs.port)
                    ),
                );
                continue;
            }
            seen.push((rs.addr, prs.port));
            rs.lvs_method = match prs.method {
                Some(m) => m,
                None => {
                    if vs_method.is_none() {
                        cx.warn(
                            n,
                            format!(
                                "Virtual server {}: no forwarding method set, setting default NAT",
                                fmt_vs(&vs)
                            ),
                        );
                        vs_method = Some(LvsMethod::Nat);
                    }
                    vs_method.unwrap_or(LvsMethod::Nat)
                }
            };
            rs.alpha = prs.timing.alpha.unwrap_or(vs.alpha);
            rs.inhibit_on_failure = prs.inhibit.unwrap_or(vs.inhibit_on_failure);
            rs.weight = prs.weight.unwrap_or(vs.weight);
            weight_sum += u64::from(rs.weight);
            // Ports (only corrected for plain virtual servers).
            if group.is_none() {
                if rs.lvs_method == LvsMethod::Nat {
                    if !is_fwmark && prs.port.unwrap_or(0) == 0 {
                        rs.port = vs_port;
                    }
                } else if is_fwmark {
                    if prs.port.unwrap_or(0) != 0 {
                        cx.warn(rn, format!("WARNING - fwmark virtual server {}, real server {} has port specified - clearing", fmt_vs(&vs), trio(rs.addr, vs.protocol, rs.port)));
                        rs.port = 0;
                    }
                } else if prs.port.unwrap_or(0) == 0 {
                    rs.port = vs_port;
                } else if rs.port != vs_port {
                    cx.warn(rn, format!("WARNING - virtual server {} and real server {} ports don't match - resetting", fmt_vs(&vs), trio(rs.addr, vs.protocol, rs.port)));
                    rs.port = vs_port;
                }
            }
            // Checker inheritance: checker → real server → virtual server → default.
            let rs_retry = prs.timing.retry.or(vs.retry);
            let rs_timeout = prs.timing.connect_timeout.unwrap_or(vs.connect_timeout);
            let rs_delay_loop = prs.timing.delay_loop.unwrap_or(vs.delay_loop);
            let rs_warmup = prs.timing.warmup.or(vs.warmup);
            let rs_dbr = prs.timing.delay_before_retry.or(vs.delay_before_retry);
            for pc in prs.checkers {
                let mut ch = pc.checker;
                let (default_retry, default_dbr) = match ch.kind {
                    CheckerKind::HttpGet | CheckerKind::SslGet => (1, SimDuration::from_secs(3)),
                    CheckerKind::Misc => (0, SimDuration::from_secs(1)),
                    CheckerKind::Dns => (3, SimDuration::ZERO),
                    _ => (1, SimDuration::from_secs(1)),
                };
                ch.alpha = pc.timing.alpha.unwrap_or(rs.alpha);
                ch.retry = pc.timing.retry.or(rs_retry).unwrap_or(default_retry);
                ch.delay_loop = pc.timing.delay_loop.unwrap_or(rs_delay_loop);
                ch.warmup = pc.timing.warmup.or(rs_warmup).unwrap_or(ch.delay_loop);
                ch.delay_before_retry = pc.timing.delay_before_retry.or(rs_dbr).unwrap_or(
                    if default_dbr > SimDuration::ZERO {
                        default_dbr
                    } else {
                        ch.delay_loop
                    },
                );
                let timeout = pc
                    .conn
                    .connect_timeout
                    .or(pc.timing.connect_timeout)
                    .unwrap_or(rs_timeout);
                if ch.kind.connects() {
                    let mut co = pc.conn.clone();
                    if co.connect_timeout.is_none() {
                        co.connect_timeout = Some(timeout);
                    }
                    ch.conn = Some(checker::resolve_conn(&co, rs.addr, rs.port, timeout));
                }
                ch.hosts = pc
                    .hosts
                    .iter()
                    .map(|h| checker::resolve_conn(h, rs.addr, rs.port, timeout))
                    .collect();
                let _ = &pc.node;
                rs.checkers.push(ch);
            }
            let _ = rn;
            vs.real_servers.push(rs);
        }
        vs.lvs_method = vs_method.unwrap_or(LvsMethod::Nat);
        if let Some((sn, addr, port)) = p.sorry {
            let m = p.sorry_method.unwrap_or(vs.lvs_method);
            let mut sport = port.unwrap_or(0);
            if group.is_none() && m != LvsMethod::Nat {
                if is_fwmark {
                    if sport != 0 {
                        cx.warn(&sn, format!("WARNING - virtual server {}, sorry server has port specified - clearing", fmt_vs(&vs)));
                        sport = 0;
                    }
                } else if sport == 0 {
                    sport = vs_port;
                } else if sport != vs_port {
                    cx.warn(&sn, format!("WARNING - virtual server {} and sorry server ports don't match - resetting", fmt_vs(&vs)));
                    sport = vs_port;
                }
            } else if group.is_none() && !is_fwmark && sport == 0 {
                sport = vs_port;
            }
            vs.sorry_server = Some(SorryServer {
                loc: cx.loc(&sn),
                addr,
                port: sport,
                inhibit: p.sorry_inhibit,
                lvs_method: m,
            });
        }
        let ws = u32::try_from(weight_sum).unwrap_or(u32::MAX);
        if vs.quorum > ws {
            cx.warn(n, format!("Warning - quorum {} for {} exceeds total weight of real servers {ws}, reducing quorum to {ws}", vs.quorum, fmt_vs(&vs)));
            vs.quorum = ws;
        }
        if vs.hysteresis >= vs.quorum && !(vs.hysteresis == 0 && vs.quorum == 0) {
            let h = vs.quorum.saturating_sub(1);
            cx.warn(
                n,
                format!(
                    "Virtual server {}: hysteresis {} >= quorum {}; setting hysteresis to {h}",
                    fmt_vs(&vs),
                    vs.hysteresis,
                    vs.quorum
                ),
            );
            vs.hysteresis = h;
        }
        out.push(vs);
    }
    out
}
