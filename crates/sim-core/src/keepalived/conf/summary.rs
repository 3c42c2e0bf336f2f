//! A stable, hand-written, line-oriented rendering of a [`Parsed`] (no `Debug`): one
//! line per item with its key values and `@line`, then the diagnostics.

use super::Parsed;
use super::model::*;
use std::fmt::Write;

fn q(s: &str) -> String {
    format!("{s:?}")
}

fn opt<T: std::fmt::Display>(out: &mut String, key: &str, v: &Option<T>) {
    if let Some(v) = v {
        let _ = write!(out, " {key}={v}");
    }
}

fn opt_q(out: &mut String, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        let _ = write!(out, " {key}={}", q(v));
    }
}

fn at(loc: &Loc) -> String {
    format!("@{}", loc.line)
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn ip_entry(out: &mut String, indent: &str, what: &str, e: &IpAddressEntry) {
    let _ = write!(
        out,
        "{indent}{what} {}/{} {}",
        e.address,
        e.prefix,
        at(&e.loc)
    );
    opt(out, "dev", &e.dev);
    opt(out, "brd", &e.brd);
    opt(out, "scope", &e.scope);
    opt(out, "label", &e.label);
    if !e.options.is_empty() {
        let _ = write!(out, " options={}", e.options.join(","));
    }
    out.push('\n');
}

fn raws(out: &mut String, indent: &str, list: &[RawKeyword]) {
    for r in list {
        let _ = writeln!(
            out,
            "{indent}other {} {} {}",
            r.keyword,
            at(&r.loc),
            q(&r.args.join(" "))
        );
    }
}

fn records(out: &mut String, indent: &str, what: &str, list: &[RawRecord]) {
    for r in list {
        let _ = writeln!(
            out,
            "{indent}{what} {} {}",
            at(&r.loc),
            q(&r.words.join(" "))
        );
    }
}

fn track(out: &mut String, indent: &str, list: &[TrackEntry]) {
    for t in list {
        let kind = match t.kind {
            TrackKind::Interface => "interface",
            TrackKind::Script => "script",
            TrackKind::File => "file",
            TrackKind::Process => "process",
            TrackKind::Bfd => "bfd",
        };
        let _ = write!(out, "{indent}track_{kind} {} {}", t.name, at(&t.loc));
        opt(out, "weight", &t.weight);
        if t.reverse {
            out.push_str(" reverse");
        }
        out.push('\n');
    }
}

fn conn(out: &mut String, c: &ConnOpts) {
    let _ = write!(
        out,
        " connect={} connect_timeout={}",
        sock(c.connect_ip, c.connect_port),
        c.connect_timeout
    );
    opt(out, "bindto", &c.bindto);
    opt(out, "bind_port", &c.bind_port);
    opt(out, "bind_if", &c.bind_if);
    opt(out, "fwmark", &c.fwmark);
}

fn sock(a: std::net::IpAddr, port: u16) -> String {
    if a.is_ipv6() {
        format!("[{a}]:{port}")
    } else {
        format!("{a}:{port}")
    }
}

/// Renders the summary.
pub(crate) fn render(p: &Parsed) -> String {
    let c = &p.config;
    let mut o = String::new();
    let g = &c.global_defs;
    if let Some(loc) = &g.loc {
        let _ = write!(o, "global_defs {}", at(loc));
        opt(&mut o, "router_id", &g.router_id);
        if !g.notification_email.is_empty() {
            let _ = write!(o, " notification_email={}", g.notification_email.join(","));
        }
        opt(
            &mut o,
            "notification_email_from",
            &g.notification_email_from,
        );
        opt(&mut o, "smtp_server", &g.smtp_server);
        let _ = write!(
            o,
            " smtp_connect_timeout={} vrrp_version={} vrrp_strict={} garp_master_delay={} garp_master_repeat={}",
            g.smtp_connect_timeout,
            g.vrrp_version,
            yes(g.vrrp_strict),
            g.vrrp_garp_master_delay,
            g.vrrp_garp_master_repeat
        );
        o.push('\n');
        raws(&mut o, "  ", &g.other);
    }
    if let Some(ns) = &c.net_namespace {
        let _ = writeln!(o, "net_namespace {ns}");
    }
    for e in &c.static_ipaddress {
        ip_entry(&mut o, "", "static_ipaddress", e);
    }
    records(&mut o, "", "static_route", &c.static_routes);
    records(&mut o, "", "static_rule", &c.static_rules);
    for s in &c.vrrp_scripts {
        let _ = write!(o, "vrrp_script {} {}", s.name, at(&s.loc));
        opt_q(&mut o, "script", &s.script);
        let _ = write!(
            o,
            " interval={} timeout={} weight={}{} rise={} fall={}",
            s.interval,
            s.timeout,
            s.weight,
            if s.weight_reverse { " reverse" } else { "" },
            s.rise,
            s.fall
        );
        opt(&mut o, "user", &s.user);
        if s.init_fail {
            o.push_str(" init_fail");
        }
        o.push('\n');
    }
    for sg in &c.vrrp_sync_groups {
        let _ = write!(
            o,
            "vrrp_sync_group {} {} members={}",
            sg.name,
            at(&sg.loc),
            sg.group.join(",")
        );
        opt_q(&mut o, "notify_master", &sg.notify_master);
        opt_q(&mut o, "notify_backup", &sg.notify_backup);
        opt_q(&mut o, "notify_fault", &sg.notify_fault);
        opt_q(&mut o, "notify_stop", &sg.notify_stop);
        opt_q(&mut o, "notify", &sg.notify);
        if sg.smtp_alert {
            o.push_str(" smtp_alert");
        }
        o.push('\n');
        track(&mut o, "  ", &sg.tracking);
        raws(&mut o, "  ", &sg.other);
    }
    for v in &c.vrrp_instances {
        let _ = write!(
            o,
            "vrrp_instance {} {} state={}{}",
            v.name,
            at(&v.loc),
            v.state,
            match v.configured_state {
                Some(s) if s == v.state => String::new(),
                Some(s) => format!("(configured {s})"),
                None => "(derived)".to_string(),
            }
        );
        opt(&mut o, "interface", &v.interface);
        let _ = write!(
            o,
            " vrid={} priority={}{} advert_int={}",
            v.virtual_router_id,
            v.priority,
            if v.configured_priority.is_none() {
                "(derived)"
            } else {
                ""
            },
            v.advert_int
        );
        opt(&mut o, "version", &v.version);
        let _ = write!(
            o,
            " nopreempt={} preempt_delay={}",
            yes(v.nopreempt),
            v.preempt_delay
        );
        if let Some(a) = &v.authentication {
            let t = match a.auth_type {
                AuthType::Pass => "PASS",
                AuthType::Ah => "AH",
            };
            let _ = write!(o, " auth={t}:{}", q(&a.auth_pass));
        }
        opt(&mut o, "unicast_src_ip", &v.unicast_src_ip);
        opt(&mut o, "mcast_src_ip", &v.mcast_src_ip);
        opt(&mut o, "garp_master_delay", &v.garp_master_delay);
        opt(&mut o, "garp_master_repeat", &v.garp_master_repeat);
        opt(&mut o, "garp_master_refresh", &v.garp_master_refresh);
        opt(
            &mut o,
            "garp_master_refresh_repeat",
            &v.garp_master_refresh_repeat,
        );
        opt(&mut o, "garp_lower_prio_delay", &v.garp_lower_prio_delay);
        opt(&mut o, "garp_lower_prio_repeat", &v.garp_lower_prio_repeat);
        opt_q(&mut o, "notify_master", &v.notify_master);
        opt_q(&mut o, "notify_backup", &v.notify_backup);
        opt_q(&mut o, "notify_fault", &v.notify_fault);
        opt_q(&mut o, "notify_stop", &v.notify_stop);
        opt_q(&mut o, "notify", &v.notify);
        if v.smtp_alert {
            o.push_str(" smtp_alert");
        }
        if let Some(m) = &v.use_vmac {
            let _ = write!(o, " use_vmac={}", q(m));
        }
        if v.vmac_xmit_base {
            o.push_str(" vmac_xmit_base");
        }
        if v.dont_track_primary {
            o.push_str(" dont_track_primary");
        }
        opt(
            &mut o,
            "lvs_sync_daemon_interface",
            &v.lvs_sync_daemon_interface,
        );
        opt(&mut o, "strict_mode", &v.strict_mode);
        opt(&mut o, "accept", &v.accept);
        if v.skip_check_adv_addr {
            o.push_str(" skip_check_adv_addr");
        }
        opt(&mut o, "lower_prio_no_advert", &v.lower_prio_no_advert);
        opt(
            &mut o,
            "higher_prio_send_advert",
            &v.higher_prio_send_advert,
        );
        o.push('\n');
        for e in &v.virtual_ipaddress {
            ip_entry(&mut o, "  ", "vip", e);
        }
        for e in &v.virtual_ipaddress_excluded {
            ip_entry(&mut o, "  ", "vip_excluded", e);
        }
        records(&mut o, "  ", "virtual_route", &v.virtual_routes);
        records(&mut o, "  ", "virtual_rule", &v.virtual_rules);
        track(&mut o, "  ", &v.tracking);
        for pe in &v.unicast_peer {
            let _ = writeln!(o, "  unicast_peer {pe}");
        }
        raws(&mut o, "  ", &v.other);
    }
    for g in &c.virtual_server_groups {
        let _ = writeln!(o, "virtual_server_group {} {}", g.name, at(&g.loc));
        for e in &g.entries {
            match e {
                VsgEntry::Addr {
                    loc,
                    addr,
                    range_end,
                    port,
                } => {
                    let range = range_end.map(|r| format!("-{r}")).unwrap_or_default();
                    let _ = writeln!(o, "  entry {addr}{range} port={port} {}", at(loc));
                }
                VsgEntry::Fwmark { loc, mark } => {
                    let _ = writeln!(o, "  entry fwmark={mark} {}", at(loc));
                }
            }
        }
    }
    for vs in &c.virtual_servers {
        let target = match &vs.target {
            VsTarget::Addr { addr, port } => sock(*addr, *port),
            VsTarget::Fwmark(m) => format!("fwmark {m}"),
            VsTarget::Group(g) => format!("group {g}"),
        };
        let _ = write!(o, "virtual_server {target} {}", at(&vs.loc));
        match vs.protocol {
            Some(p) => {
                let _ = write!(o, " protocol={p}");
            }
            None => o.push_str(" protocol=-"),
        }
        let _ = write!(
            o,
            " sched={} method={} delay_loop={}",
            vs.lvs_sched, vs.lvs_method, vs.delay_loop
        );
        match vs.persistence_timeout {
            Some(t) => {
                let _ = write!(o, " persistence_timeout={t}s");
            }
            None => o.push_str(" persistence_timeout=off"),
        }
        opt(
            &mut o,
            "persistence_granularity",
            &vs.persistence_granularity,
        );
        opt(&mut o, "persistence_engine", &vs.persistence_engine);
        let _ = write!(o, " quorum={} hysteresis={}", vs.quorum, vs.hysteresis);
        opt_q(&mut o, "quorum_up", &vs.quorum_up);
        opt_q(&mut o, "quorum_down", &vs.quorum_down);
        for (flag, on) in [
            ("inhibit_on_failure", vs.inhibit_on_failure),
            ("alpha", vs.alpha),
            ("omega", vs.omega),
            ("ha_suspend", vs.ha_suspend),
        ] {
            if on {
                let _ = write!(o, " {flag}");
            }
        }
        opt(&mut o, "virtualhost", &vs.virtualhost);
        if !vs.flags.is_empty() {
            let _ = write!(o, " flags={}", vs.flags.join(","));
        }
        opt(&mut o, "ip_family", &vs.ip_family);
        o.push('\n');
        if let Some(s) = &vs.sorry_server {
            let _ = writeln!(
                o,
                "  sorry_server {} {} method={} inhibit={}",
                sock(s.addr, s.port),
                at(&s.loc),
                s.lvs_method,
                yes(s.inhibit)
            );
        }
        for rs in &vs.real_servers {
            let _ = write!(
                o,
                "  real_server {} {} weight={} method={} inhibit_on_failure={} alpha={}",
                sock(rs.addr, rs.port),
                at(&rs.loc),
                rs.weight,
                rs.lvs_method,
                yes(rs.inhibit_on_failure),
                yes(rs.alpha)
            );
            opt(&mut o, "uthreshold", &rs.uthreshold);
            opt(&mut o, "lthreshold", &rs.lthreshold);
            opt_q(&mut o, "notify_up", &rs.notify_up);
            opt_q(&mut o, "notify_down", &rs.notify_down);
            opt(&mut o, "virtualhost", &rs.virtualhost);
            o.push('\n');
            for ch in &rs.checkers {
                let _ = write!(o, "    {} {}", ch.kind.keyword(), at(&ch.loc));
                if let Some(cn) = &ch.conn {
                    conn(&mut o, cn);
                }
                let _ = write!(
                    o,
                    " retry={} delay_before_retry={} delay_loop={} warmup={} alpha={}",
                    ch.retry,
                    ch.delay_before_retry,
                    ch.delay_loop,
                    ch.warmup,
                    yes(ch.alpha)
                );
                opt(&mut o, "virtualhost", &ch.virtualhost);
                opt(&mut o, "http_protocol", &ch.http_protocol);
                opt_q(&mut o, "misc_path", &ch.misc_path);
                opt(&mut o, "misc_timeout", &ch.misc_timeout);
                if ch.misc_dynamic {
                    o.push_str(" misc_dynamic");
                }
                opt(&mut o, "user", &ch.user);
                opt(&mut o, "helo_name", &ch.helo_name);
                o.push('\n');
                for u in &ch.urls {
                    let _ = write!(o, "      url path={} {}", q(&u.path), at(&u.loc));
                    opt(&mut o, "digest", &u.digest);
                    let codes: Vec<String> = u
                        .status_codes
                        .iter()
                        .map(|(a, b)| {
                            if a == b {
                                a.to_string()
                            } else {
                                format!("{a}-{b}")
                            }
                        })
                        .collect();
                    let _ = write!(o, " status_code={}", codes.join(","));
                    opt(&mut o, "virtualhost", &u.virtualhost);
                    o.push('\n');
                    raws(&mut o, "        ", &u.other);
                }
                for h in &ch.hosts {
                    o.push_str("      host");
                    conn(&mut o, h);
                    o.push('\n');
                }
                raws(&mut o, "      ", &ch.other);
            }
        }
    }
    raws(&mut o, "", &c.other);
    o.push_str("diagnostics:\n");
    for d in &p.diagnostics {
        let _ = writeln!(o, "{d}");
    }
    o
}
