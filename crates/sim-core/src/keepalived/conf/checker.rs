//! Health checkers inside `real_server`: `TCP_CHECK`, `HTTP_GET`/`SSL_GET` (with `url`),
//! `MISC_CHECK`, `SMTP_CHECK` (with `host`), `UDP_CHECK`, `PING_CHECK`, `DNS_CHECK`,
//! `FILE_CHECK`, `BFD_CHECK` (keepalived `check_api.c`, `check_http.c`, `check_misc.c`,
//! `check_smtp.c`, …).

use super::Severity;
use super::build::Cx;
use super::lexer::Node;
use super::lvs::{Timing, timing_kw};
use super::model::*;
use crate::time::SimDuration;
use std::net::IpAddr;

/// Connection options as written.
#[derive(Debug, Clone, Default)]
pub(super) struct PendingConn {
    pub(super) connect_ip: Option<IpAddr>,
    pub(super) connect_port: Option<u16>,
    pub(super) bindto: Option<IpAddr>,
    pub(super) bind_port: Option<u16>,
    pub(super) bind_if: Option<String>,
    pub(super) fwmark: Option<u32>,
    pub(super) connect_timeout: Option<SimDuration>,
}

pub(super) struct PendingChecker {
    pub(super) node: Node,
    pub(super) checker: Checker,
    pub(super) timing: Timing,
    pub(super) conn: PendingConn,
    pub(super) hosts: Vec<PendingConn>,
}

fn port_arg(cx: &mut Cx<'_>, c: &Node, what: &str) -> Option<u16> {
    let s = cx.arg(c, 1)?;
    let r = super::numbers::read_unsigned(s, 1, 65_535, true);
    if let Some(pr) = &r.problem
        && r.value.is_some()
    {
        cx.at(c, 1, pr.severity, pr.message.clone(), None);
    }
    match r.value {
        Some(p) => u16::try_from(p).ok(),
        None => {
            cx.at(
                c,
                1,
                Severity::Error,
                format!("Invalid checker {what} '{s}'"),
                None,
            );
            None
        }
    }
}

/// Connection keywords; false if `kw` is not one.
fn conn_kw(cx: &mut Cx<'_>, c: &Node, kw: &str, co: &mut PendingConn) -> bool {
    match kw {
        "connect_ip" => {
            if let Some(a) = cx.ip(c, 1, "connect_ip") {
                co.connect_ip = Some(a);
            }
        }
        "connect_port" => {
            if let Some(p) = port_arg(cx, c, "connect_port") {
                co.connect_port = Some(p);
            }
        }
        "bindto" => {
            if let Some(a) = cx.ip(c, 1, "bindto") {
                co.bindto = Some(a);
            }
        }
        "bind_port" => {
            if let Some(p) = port_arg(cx, c, "bind_port") {
                co.bind_port = Some(p);
            }
        }
        "bind_if" => co.bind_if = cx.arg(c, 1).map(str::to_string),
        "fwmark" => co.fwmark = cx.unsigned(c, 1, 0, u32::MAX, true),
        "connect_timeout" => {
            if let Some(v) = cx.timer(c, 1, 1, u64::from(u32::MAX), true) {
                co.connect_timeout = Some(v);
            }
        }
        _ => return false,
    }
    true
}

/// Keywords recognised per checker and kept raw.
fn other_checker_kw(kind: CheckerKind, kw: &str) -> bool {
    match kind {
        CheckerKind::HttpGet | CheckerKind::SslGet => {
            matches!(kw, "enable_sni" | "fast_recovery" | "log_all_failures")
        }
        CheckerKind::Udp => matches!(
            kw,
            "payload"
                | "require_reply"
                | "min_reply_length"
                | "max_reply_length"
                | "log_all_failures"
        ),
        CheckerKind::Dns => matches!(kw, "type" | "name" | "log_all_failures"),
        CheckerKind::File => matches!(kw, "track_file" | "weight" | "log_all_failures"),
        CheckerKind::Bfd => matches!(kw, "name" | "weight" | "log_all_failures"),
        _ => kw == "log_all_failures",
    }
}

pub(super) fn checker(cx: &mut Cx<'_>, n: &Node, kind: CheckerKind) -> Option<PendingChecker> {
    let mut p = PendingChecker {
        node: n.clone(),
        checker: Checker {
            loc: cx.loc(n),
            kind,
            conn: None,
            retry: 0,
            delay_before_retry: SimDuration::ZERO,
            delay_loop: SimDuration::ZERO,
            warmup: SimDuration::ZERO,
            alpha: false,
            urls: Vec::new(),
            virtualhost: None,
            http_protocol: None,
            misc_path: None,
            misc_timeout: None,
            misc_dynamic: false,
            user: None,
            helo_name: None,
            hosts: Vec::new(),
            other: Vec::new(),
        },
        timing: Timing::default(),
        conn: PendingConn::default(),
        hosts: Vec::new(),
    };
    let http = matches!(kind, CheckerKind::HttpGet | CheckerKind::SslGet);
    for c in cx.block(n) {
        let kw = c.words[0].text.as_str();
        if http && kw == "url" {
            if let Some(u) = url(cx, c) {
                p.checker.urls.push(u);
            }
            continue;
        }
        if kind == CheckerKind::Smtp && kw == "host" {
            let mut co = PendingConn::default();
            for h in cx.block(c) {
                cx.no_block(h);
                let hk = h.words[0].text.as_str();
                if !conn_kw(cx, h, hk, &mut co) {
                    cx.unknown(h);
                }
            }
            p.hosts.push(co);
            continue;
        }
        cx.no_block(c);
        if kind.connects() && conn_kw(cx, c, kw, &mut p.conn) {
            continue;
        }
        if timing_kw(cx, c, kw, &mut p.timing, "checker") {
            continue;
        }
        match (kind, kw) {
            (CheckerKind::HttpGet | CheckerKind::SslGet, "nb_get_retry") => {
                cx.warn(c, "nb_get_retry is deprecated - please use 'retry'");
                if let Some(r) = cx.unsigned(c, 1, 0, u32::MAX, true) {
                    p.timing.retry = Some(r);
                }
            }
            (CheckerKind::HttpGet | CheckerKind::SslGet, "virtualhost") => {
                p.checker.virtualhost = cx.value(c);
            }
            (CheckerKind::HttpGet | CheckerKind::SslGet, "http_protocol") => match cx.arg(c, 1) {
                Some(s @ ("1.0" | "1.0C" | "1.0c" | "1.1")) => {
                    p.checker.http_protocol = Some(s.to_ascii_uppercase());
                }
                Some(s) => cx.at(
                    c,
                    1,
                    Severity::Error,
                    format!("Invalid http_protocol {s} - ignoring"),
                    None,
                ),
                None => {}
            },
            (CheckerKind::Misc, "misc_path") => p.checker.misc_path = cx.value(c),
            (CheckerKind::Misc, "misc_timeout") => {
                p.checker.misc_timeout = cx.timer(c, 1, 0, 0, true);
            }
            (CheckerKind::Misc, "misc_dynamic") => p.checker.misc_dynamic = true,
            (CheckerKind::Misc, "user") => p.checker.user = cx.value(c),
            (CheckerKind::Smtp, "helo_name") => p.checker.helo_name = cx.value(c),
            _ if other_checker_kw(kind, kw) => p.checker.other.push(cx.raw(c)),
            _ => cx.unknown(c),
        }
    }
    if http && p.checker.urls.is_empty() {
        cx.error(n, "HTTP/SSL_GET checker has no urls specified - ignoring");
        return None;
    }
    if kind == CheckerKind::Misc && p.checker.misc_path.is_none() {
        cx.error(n, "MISC_CHECK has no misc_path specified - ignoring");
        return None;
    }
    Some(p)
}

fn url(cx: &mut Cx<'_>, n: &Node) -> Option<Url> {
    let mut u = Url {
        loc: cx.loc(n),
        path: String::new(),
        digest: None,
        status_codes: Vec::new(),
        virtualhost: None,
        other: Vec::new(),
    };
    let mut have_path = false;
    for c in cx.block(n) {
        cx.no_block(c);
        match c.words[0].text.as_str() {
            "path" => {
                if let Some(v) = cx.value(c) {
                    u.path = v;
                    have_path = true;
                }
            }
            "digest" => {
                let Some(d) = cx.arg(c, 1) else { continue };
                if u.digest.is_some() {
                    cx.at(
                        c,
                        1,
                        Severity::Error,
                        format!("Digest '{d}' is a duplicate"),
                        None,
                    );
                } else if d.len() != 32 {
                    cx.at(
                        c,
                        1,
                        Severity::Error,
                        format!(
                            "digest '{d}' character length should be 32 rather than {}",
                            d.len()
                        ),
                        None,
                    );
                } else if let Some(bad) = d.bytes().position(|b| !b.is_ascii_hexdigit()) {
                    let off = bad - bad % 2;
                    cx.at(
                        c,
                        1,
                        Severity::Error,
                        format!(
                            "Unable to interpret hex digit in '{d}' at offset {off}/{}",
                            off + 1
                        ),
                        None,
                    );
                } else {
                    u.digest = Some(d.to_ascii_lowercase());
                }
            }
            "status_code" => {
                for i in 1..c.words.len() {
                    let s = c.words[i].text.as_str();
                    let (lo, hi) = match s.split_once('-') {
                        Some((a, b)) => (a.parse::<u16>().ok(), b.parse::<u16>().ok()),
                        None => (s.parse::<u16>().ok(), s.parse::<u16>().ok()),
                    };
                    match (lo, hi) {
                        (Some(lo), Some(hi))
                            if (100..=599).contains(&lo)
                                && (100..=599).contains(&hi)
                                && lo <= hi =>
                        {
                            u.status_codes.push((lo, hi));
                        }
                        _ => cx.at(
                            c,
                            i,
                            Severity::Error,
                            format!("Invalid HTTP_GET status code '{s}'"),
                            None,
                        ),
                    }
                }
            }
            "virtualhost" => u.virtualhost = cx.value(c),
            "regex" | "regex_no_match" | "regex_min_offset" | "regex_max_offset"
            | "regex_stack" | "regex_options" => u.other.push(cx.raw(c)),
            _ => cx.unknown(c),
        }
    }
    if !have_path {
        cx.error(n, "HTTP/SSL_GET checker url has no path - ignoring");
        return None;
    }
    if u.status_codes.is_empty() {
        u.status_codes.push((200, 299));
    }
    Some(u)
}

pub(super) fn resolve_conn(
    co: &PendingConn,
    rs_addr: IpAddr,
    rs_port: u16,
    timeout: SimDuration,
) -> ConnOpts {
    ConnOpts {
        connect_ip: co.connect_ip.unwrap_or(rs_addr),
        connect_port: co.connect_port.unwrap_or(rs_port),
        bindto: co.bindto,
        bind_port: co.bind_port,
        bind_if: co.bind_if.clone(),
        fwmark: co.fwmark,
        connect_timeout: co.connect_timeout.unwrap_or(timeout),
    }
}
