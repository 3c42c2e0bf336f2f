//! `vrrp_script`, `vrrp_sync_group`, `vrrp_instance` (keepalived `vrrp_parser.c`) and
//! the end-of-config checks of `vrrp_complete_instance` (`vrrp.c`).

use super::Severity;
use super::build::{Cx, US, joined};
use super::lexer::Node;
use super::model::*;
use crate::time::SimDuration;

/// `vrrp_script NAME { … }`.
pub(crate) fn script(cx: &mut Cx<'_>, n: &Node) -> Option<VrrpScript> {
    let name = cx.arg(n, 1)?.to_string();
    let mut s = VrrpScript {
        loc: cx.loc(n),
        name,
        script: None,
        interval: SimDuration::from_secs(1),
        timeout: SimDuration::ZERO,
        weight: 0,
        weight_reverse: false,
        rise: 1,
        fall: 1,
        user: None,
        init_fail: false,
    };
    let mut timeout = None;
    for c in cx.block(n) {
        cx.no_block(c);
        match c.words[0].text.as_str() {
            "script" => s.script = cx.value(c),
            "interval" => {
                if let Some(t) = cx.timer(c, 1, US, 0, true) {
                    s.interval = t;
                }
            }
            "timeout" => {
                if let Some(t) = cx.timer(c, 1, US, 0, true) {
                    timeout = Some(t);
                }
            }
            "weight" => {
                if let Some(w) = cx.int(c, 1, -253, 253, true) {
                    s.weight = w;
                }
                s.weight_reverse = c.words.get(2).is_some_and(|w| w.text == "reverse");
            }
            "rise" => {
                if let Some(v) = cx.unsigned(c, 1, 1, u32::MAX, true) {
                    s.rise = v;
                }
            }
            "fall" => {
                if let Some(v) = cx.unsigned(c, 1, 1, u32::MAX, true) {
                    s.fall = v;
                }
            }
            "user" => s.user = cx.value(c),
            "init_fail" => s.init_fail = true,
            _ => cx.unknown(c),
        }
    }
    s.timeout = timeout.unwrap_or(s.interval);
    if s.script.is_none() {
        cx.error(
            n,
            format!("No script set for vrrp_script {} - ignoring", s.name),
        );
        return None;
    }
    Some(s)
}

fn tracking(cx: &mut Cx<'_>, n: &Node, kind: TrackKind, out: &mut Vec<TrackEntry>) {
    for c in cx.block(n) {
        cx.no_block(c);
        let mut e = TrackEntry {
            loc: cx.loc(c),
            kind,
            name: c.words[0].text.clone(),
            weight: None,
            reverse: false,
        };
        let mut i = 1;
        while i < c.words.len() {
            match c.words[i].text.as_str() {
                "weight" => {
                    e.weight = cx.int(c, i + 1, -253, 253, true);
                    i += 2;
                }
                "reverse" => {
                    e.reverse = true;
                    i += 1;
                }
                other => {
                    cx.at(
                        c,
                        i,
                        Severity::Warning,
                        format!("Unknown parameter '{other}' for {} - ignoring", e.name),
                        None,
                    );
                    i += 1;
                }
            }
        }
        out.push(e);
    }
}

fn track_kind(kw: &str) -> Option<TrackKind> {
    Some(match kw {
        "track_interface" => TrackKind::Interface,
        "track_script" => TrackKind::Script,
        "track_file" => TrackKind::File,
        "track_process" => TrackKind::Process,
        "track_bfd" => TrackKind::Bfd,
        _ => return None,
    })
}

/// `vrrp_sync_group NAME { … }`.
pub(crate) fn sync_group(cx: &mut Cx<'_>, n: &Node) -> Option<VrrpSyncGroup> {
    let name = cx.arg(n, 1)?.to_string();
    let mut g = VrrpSyncGroup {
        loc: cx.loc(n),
        name,
        ..VrrpSyncGroup::default()
    };
    for c in cx.block(n) {
        let kw = c.words[0].text.as_str();
        if let Some(kind) = track_kind(kw) {
            tracking(cx, c, kind, &mut g.tracking);
            continue;
        }
        if kw == "group" {
            for m in cx.block(c) {
                cx.no_block(m);
                g.group.extend(m.words.iter().map(|w| w.text.clone()));
            }
            continue;
        }
        cx.no_block(c);
        match kw {
            "notify_master" => g.notify_master = cx.value(c),
            "notify_backup" => g.notify_backup = cx.value(c),
            "notify_fault" => g.notify_fault = cx.value(c),
            "notify_stop" => g.notify_stop = cx.value(c),
            "notify" => g.notify = cx.value(c),
            "smtp_alert" => g.smtp_alert = cx.flag(c, "sync group smtp_alert").unwrap_or(false),
            "global_tracking" | "sync_group_tracking_weight" | "notify_priority_changes" => {
                g.other.push(cx.raw(c));
            }
            _ => cx.unknown(c),
        }
    }
    Some(g)
}

/// An instance as parsed, before the end-of-config checks.
pub(crate) struct Pending {
    inst: VrrpInstance,
    node: Node,
    vrid: Option<u8>,
    auth_type: Option<AuthType>,
    auth_pass: Option<String>,
}

const OTHER_INSTANCE: &[&str] = &[
    "use_vmac_addr",
    "use_ipvlan",
    "unicast_fault_no_peer",
    "check_unicast_src",
    "old_unicast_checksum",
    "native_ipv6",
    "vrf",
    "track_src_ip",
    "mcast_dst_ip",
    "unicast_ttl",
    "no_virtual_ipaddress",
    "promote_secondaries",
    "linkbeat_use_polling",
    "v3_checksum_as_v2",
    "debug",
    "notify_deleted",
    "notify_master_rx_lower_pri",
    "notify_priority_changes",
    "down_timer_adverts",
    "timer_expired_backup",
    "garp_extra_if",
    "vmac_garp_intvl",
    "kernel_rx_buf_size",
];

/// `vrrp_instance NAME { … }`.
pub(crate) fn instance(cx: &mut Cx<'_>, n: &Node) -> Option<Pending> {
    let name = cx.arg(n, 1)?.to_string();
    let mut v = VrrpInstance {
        loc: cx.loc(n),
        name: name.clone(),
        configured_state: None,
        state: VrrpState::Backup,
        interface: None,
        virtual_router_id: 0,
        configured_priority: None,
        priority: 100,
        advert_int: SimDuration::from_secs(1),
        version: None,
        nopreempt: false,
        preempt_delay: SimDuration::ZERO,
        authentication: None,
        virtual_ipaddress: Vec::new(),
        virtual_ipaddress_excluded: Vec::new(),
        virtual_routes: Vec::new(),
        virtual_rules: Vec::new(),
        tracking: Vec::new(),
        unicast_src_ip: None,
        unicast_peer: Vec::new(),
        mcast_src_ip: None,
        garp_master_delay: None,
        garp_master_repeat: None,
        garp_master_refresh: None,
        garp_master_refresh_repeat: None,
        garp_lower_prio_delay: None,
        garp_lower_prio_repeat: None,
        notify_master: None,
        notify_backup: None,
        notify_fault: None,
        notify_stop: None,
        notify: None,
        smtp_alert: false,
        use_vmac: None,
        vmac_xmit_base: false,
        dont_track_primary: false,
        lvs_sync_daemon_interface: None,
        strict_mode: None,
        accept: None,
        skip_check_adv_addr: false,
        lower_prio_no_advert: None,
        higher_prio_send_advert: None,
        other: Vec::new(),
    };
    let mut p = Pending {
        inst: v.clone(),
        node: n.clone(),
        vrid: None,
        auth_type: None,
        auth_pass: None,
    };
    for c in cx.block(n) {
        let kw = c.words[0].text.as_str();
        if let Some(kind) = track_kind(kw) {
            tracking(cx, c, kind, &mut v.tracking);
            continue;
        }
        match kw {
            "virtual_ipaddress" | "virtual_ipaddress_excluded" => {
                for e in cx.block(c) {
                    if let Some(a) = cx.ip_entry(e) {
                        if kw == "virtual_ipaddress" {
                            v.virtual_ipaddress.push(a);
                        } else {
                            v.virtual_ipaddress_excluded.push(a);
                        }
                    }
                }
                continue;
            }
            "virtual_routes" => {
                v.virtual_routes.extend(cx.records(c));
                continue;
            }
            "virtual_rules" => {
                v.virtual_rules.extend(cx.records(c));
                continue;
            }
            "unicast_peer" => {
                for e in cx.block(c) {
                    cx.no_block(e);
                    if let Some(a) = cx.ip(e, 0, "unicast peer") {
                        v.unicast_peer.push(a);
                    }
                }
                continue;
            }
            "authentication" => {
                for e in cx.block(c) {
                    cx.no_block(e);
                    match e.words[0].text.as_str() {
                        "auth_type" => match cx.arg(e, 1) {
                            Some("PASS") => p.auth_type = Some(AuthType::Pass),
                            Some("AH") => p.auth_type = Some(AuthType::Ah),
                            Some(other) => cx.at(
                                e,
                                1,
                                Severity::Error,
                                format!("({name}) unknown authentication type '{other}'"),
                                None,
                            ),
                            None => {}
                        },
                        "auth_pass" => {
                            if let Some(pw) = cx.arg(e, 1) {
                                let mut pw = pw.to_string();
                                if pw.chars().count() > 8 {
                                    cx.at(
                                        e,
                                        1,
                                        Severity::Warning,
                                        format!("({name}) Truncating auth_pass to 8 characters"),
                                        None,
                                    );
                                    pw = pw.chars().take(8).collect();
                                }
                                p.auth_pass = Some(pw);
                            }
                        }
                        _ => cx.unknown(e),
                    }
                }
                continue;
            }
            _ => {}
        }
        cx.no_block(c);
        match kw {
            "state" => match cx.arg(c, 1) {
                Some("MASTER") => v.configured_state = Some(VrrpState::Master),
                Some("BACKUP") => v.configured_state = Some(VrrpState::Backup),
                Some(other) => {
                    cx.at(
                        c,
                        1,
                        Severity::Warning,
                        format!("({name}) unknown state '{other}', defaulting to BACKUP"),
                        None,
                    );
                    v.configured_state = Some(VrrpState::Backup);
                }
                None => {}
            },
            "interface" => v.interface = cx.arg(c, 1).map(str::to_string),
            "virtual_router_id" => {
                if let Some(s) = cx.arg(c, 1) {
                    let r = super::numbers::read_unsigned(s, 1, 255, false);
                    match r.value {
                        Some(id) if r.problem.is_none() => p.vrid = u8::try_from(id).ok(),
                        _ => cx.at(
                            c,
                            1,
                            Severity::Error,
                            format!("({name}): VRID '{s}' not valid - must be between 1 & 255"),
                            Some("VRRP virtual router ids are 1-255; 0 is reserved".to_string()),
                        ),
                    }
                }
            }
            "priority" => {
                if let Some(s) = cx.arg(c, 1) {
                    let r = super::numbers::read_unsigned(s, 1, 255, false);
                    match r.value {
                        Some(pr) if r.problem.is_none() => {
                            v.configured_priority = u8::try_from(pr).ok();
                        }
                        _ => {
                            cx.at(
                                c,
                                1,
                                Severity::Error,
                                format!("({name}) Priority not valid! must be between 1 & 255. Using default 100"),
                                None,
                            );
                            v.configured_priority = Some(100);
                        }
                    }
                }
            }
            "advert_int" => {
                if let Some(s) = cx.arg(c, 1) {
                    let r = super::numbers::read_timer(s, 10_000, 255 * US, true);
                    if let Some(pr) = &r.problem {
                        cx.at(c, 1, pr.severity, pr.message.clone(), None);
                    }
                    match r.value {
                        Some(t) if t > SimDuration::ZERO => v.advert_int = t,
                        _ => cx.at(
                            c,
                            1,
                            Severity::Error,
                            format!(
                                "({name}) Advert interval ({s}) not valid! Must be > 0 - ignoring"
                            ),
                            None,
                        ),
                    }
                }
            }
            "version" => {
                if let Some(s) = cx.arg(c, 1) {
                    let r = super::numbers::read_unsigned(s, 2, 3, false);
                    match r.value {
                        Some(ver) if r.problem.is_none() => v.version = u8::try_from(ver).ok(),
                        _ => cx.at(
                            c,
                            1,
                            Severity::Error,
                            format!("({name}): Version must be either 2 or 3"),
                            None,
                        ),
                    }
                }
            }
            "nopreempt" => v.nopreempt = true,
            "preempt" => v.nopreempt = false,
            "preempt_delay" => {
                if let Some(s) = cx.arg(c, 1) {
                    let r = super::numbers::read_timer(s, 0, 1000 * US, true);
                    match r.value {
                        Some(t) => v.preempt_delay = t,
                        None => cx.at(
                            c,
                            1,
                            Severity::Error,
                            format!("({name}) Preempt_delay not valid! must be between 0-1000"),
                            None,
                        ),
                    }
                }
            }
            "unicast_src_ip" | "mcast_src_ip" => {
                if let Some(s) = cx.arg(c, 1) {
                    match s.parse() {
                        Ok(a) => {
                            if kw == "unicast_src_ip" {
                                v.unicast_src_ip = Some(a);
                            } else {
                                v.mcast_src_ip = Some(a);
                            }
                        }
                        Err(_) => cx.at(
                            c,
                            1,
                            Severity::Error,
                            format!("Configuration error: VRRP instance[{name}] malformed src address[{s}]. Skipping..."),
                            None,
                        ),
                    }
                }
            }
            "garp_master_delay" => v.garp_master_delay = cx.timer(c, 1, 0, 255 * US, true),
            "garp_master_repeat" => v.garp_master_repeat = cx.unsigned(c, 1, 0, 255, true),
            "garp_master_refresh" => v.garp_master_refresh = cx.timer(c, 1, 0, 0, true),
            "garp_master_refresh_repeat" => {
                v.garp_master_refresh_repeat = cx.unsigned(c, 1, 0, 255, true);
            }
            "garp_lower_prio_delay" => v.garp_lower_prio_delay = cx.timer(c, 1, 0, 255 * US, true),
            "garp_lower_prio_repeat" => v.garp_lower_prio_repeat = cx.unsigned(c, 1, 0, 255, true),
            "notify_master" => v.notify_master = cx.value(c),
            "notify_backup" => v.notify_backup = cx.value(c),
            "notify_fault" => v.notify_fault = cx.value(c),
            "notify_stop" => v.notify_stop = cx.value(c),
            "notify" => v.notify = cx.value(c),
            "smtp_alert" => {
                v.smtp_alert = cx.flag(c, "vrrp_instance smtp_alert").unwrap_or(false);
            }
            "use_vmac" => v.use_vmac = Some(joined(c, 1)),
            "vmac_xmit_base" => v.vmac_xmit_base = true,
            "dont_track_primary" => v.dont_track_primary = true,
            "lvs_sync_daemon_interface" => {
                cx.at(
                    c,
                    0,
                    Severity::Warning,
                    format!("({name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated."),
                    Some("Please use global lvs_sync_daemon".to_string()),
                );
                v.lvs_sync_daemon_interface = cx.arg(c, 1).map(str::to_string);
            }
            "strict_mode" => v.strict_mode = cx.flag(c, "strict_mode"),
            "accept" => v.accept = Some(true),
            "no_accept" => v.accept = Some(false),
            "skip_check_adv_addr" => v.skip_check_adv_addr = true,
            "lower_prio_no_advert" => v.lower_prio_no_advert = cx.flag(c, "lower_prio_no_advert"),
            "higher_prio_send_advert" => {
                v.higher_prio_send_advert = cx.flag(c, "higher_prio_send_advert");
            }
            _ if OTHER_INSTANCE.contains(&kw) => v.other.push(cx.raw(c)),
            _ => cx.unknown(c),
        }
    }
    p.inst = v;
    Some(p)
}

/// keepalived's `vrrp_complete_instance` for every instance; drops refused ones.
pub(crate) fn complete(
    cx: &mut Cx<'_>,
    g: &GlobalDefs,
    pending: Vec<Pending>,
) -> Vec<VrrpInstance> {
    let mut out = Vec::new();
    for p in pending {
        let n = &p.node;
        let mut v = p.inst;
        let name = v.name.clone();
        let strict = v.strict_mode.unwrap_or(g.vrrp_strict);
        let ipv6 = v
            .virtual_ipaddress
            .first()
            .is_some_and(|a| a.address.is_ipv6());
        let version = if ipv6 {
            3
        } else {
            v.version.unwrap_or(g.vrrp_version)
        };
        if v.virtual_ipaddress.is_empty() && (version == 3 || ipv6 || strict) {
            cx.error(
                n,
                format!("({name}) No VIP specified; at least one is required"),
            );
            continue;
        }
        v.priority = match (v.configured_priority, v.configured_state) {
            (Some(pr), _) => pr,
            (None, Some(VrrpState::Master)) => 255,
            (None, _) => 100,
        };
        v.state = match v.configured_state {
            Some(s) => s,
            None if v.priority == 255 => VrrpState::Master,
            None => VrrpState::Backup,
        };
        if let Some(t) = p.auth_type {
            let name_n = &name;
            if strict {
                cx.warn(
                    n,
                    format!("({name_n}) Strict mode does not support authentication. Ignoring."),
                );
            } else if version == 3 {
                cx.warn(
                    n,
                    format!("({name_n}) VRRP version 3 does not support authentication. Ignoring."),
                );
            } else if p.auth_pass.as_deref().is_none_or(str::is_empty) {
                cx.warn(
                    n,
                    format!("({name_n}) Authentication specified but no password given. Ignoring"),
                );
            } else if ipv6 && t == AuthType::Ah {
                cx.warn(
                    n,
                    format!("({name_n}) Cannot use AH authentication with IPv6 - ignoring"),
                );
            } else {
                if t == AuthType::Ah && v.state == VrrpState::Master && v.priority != 255 {
                    cx.warn(
                        n,
                        format!("({name_n}) Initial state master is incompatible with AH authentication - clearing"),
                    );
                    v.state = VrrpState::Backup;
                }
                v.authentication = Some(Authentication {
                    auth_type: t,
                    auth_pass: p.auth_pass.clone().unwrap_or_default(),
                });
            }
        }
        match p.vrid {
            Some(id) => v.virtual_router_id = id,
            None => {
                cx.error(n, format!("({name}) the virtual router id must be set"));
                continue;
            }
        }
        if v.priority == 255 && v.nopreempt {
            cx.warn(
                n,
                format!(
                    "({name}) nopreempt is incompatible with priority 255 - resetting nopreempt"
                ),
            );
            v.nopreempt = false;
        }
        if v.state == VrrpState::Master {
            if v.nopreempt {
                cx.at(
                    n,
                    0,
                    Severity::Warning,
                    format!("({name}) Warning - nopreempt will not work with initial state MASTER - clearing"),
                    Some("nopreempt only works with `state BACKUP` on every node; this node will preempt".to_string()),
                );
                v.nopreempt = false;
            }
            if v.preempt_delay > SimDuration::ZERO {
                cx.warn(n, format!("({name}) Warning - preempt delay will not work with initial state MASTER - clearing"));
                v.preempt_delay = SimDuration::ZERO;
            }
        }
        if v.preempt_delay > SimDuration::ZERO {
            if strict {
                cx.warn(
                    n,
                    format!("({name}) preempt_delay is incompatible with strict mode - resetting"),
                );
                v.preempt_delay = SimDuration::ZERO;
            }
            if v.nopreempt {
                cx.warn(
                    n,
                    format!(
                        "({name}) preempt_delay is incompatible with nopreempt mode - resetting"
                    ),
                );
                v.preempt_delay = SimDuration::ZERO;
            }
        }
        if v.version.is_none() && ipv6 {
            v.version = Some(3);
        }
        out.push(v);
    }
    out
}

/// Sync group members must exist; empty groups are removed.
pub(crate) fn check_sync_groups(cx: &mut Cx<'_>, cfg: &mut KeepalivedConfig) {
    let names: Vec<String> = cfg.vrrp_instances.iter().map(|i| i.name.clone()).collect();
    let mut kept = Vec::new();
    for mut g in std::mem::take(&mut cfg.vrrp_sync_groups) {
        let file = g.loc.file.clone();
        let line = g.loc.line;
        let mut members = Vec::new();
        for m in std::mem::take(&mut g.group) {
            if names.contains(&m) {
                members.push(m);
            } else {
                cx.diags.push(
                    &file,
                    line,
                    1,
                    Severity::Warning,
                    format!(
                        "Virtual router {m} specified in sync group {} doesn't exist - ignoring",
                        g.name
                    ),
                    None,
                );
            }
        }
        g.group = members;
        match g.group.len() {
            0 => cx.diags.push(
                &file,
                line,
                1,
                Severity::Warning,
                format!("Sync group {} has no virtual router(s) - removing", g.name),
                None,
            ),
            1 => {
                cx.diags.push(
                    &file,
                    line,
                    1,
                    Severity::Warning,
                    format!("Sync group {} has only 1 virtual router(s) - this probably isn't what you want", g.name),
                    None,
                );
                kept.push(g);
            }
            _ => kept.push(g),
        }
    }
    cfg.vrrp_sync_groups = kept;
}
