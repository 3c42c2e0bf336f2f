//! From keyword nodes to the typed model: shared helpers, the top level, `global_defs` and
//! the static address/route/rule blocks.

use super::lexer::Node;
use super::model::*;
use super::numbers::{self, Read};
use super::{Diags, Severity, lvs, vrrp};
use crate::time::SimDuration;
use std::net::IpAddr;

/// The build context: file names and the diagnostics sink.
pub(crate) struct Cx<'a> {
    pub(crate) files: &'a [String],
    pub(crate) diags: &'a mut Diags,
}

/// keepalived's `TIMER_HZ`: microseconds per second.
pub(crate) const US: u64 = 1_000_000;

impl Cx<'_> {
    pub(crate) fn file(&self, n: &Node) -> String {
        self.files.get(n.file).cloned().unwrap_or_default()
    }

    pub(crate) fn loc(&self, n: &Node) -> Loc {
        Loc {
            file: self.file(n),
            line: n.line,
        }
    }

    /// A diagnostic at word `w` of node `n` (the last word if `w` is past the end).
    pub(crate) fn at(
        &mut self,
        n: &Node,
        w: usize,
        sev: Severity,
        msg: impl Into<String>,
        hint: Option<String>,
    ) {
        let col = n.words.get(w).or(n.words.last()).map_or(1, |word| word.col);
        let file = self.file(n);
        self.diags.push(&file, n.line, col, sev, msg, hint);
    }

    pub(crate) fn warn(&mut self, n: &Node, msg: impl Into<String>) {
        self.at(n, 0, Severity::Warning, msg, None);
    }

    pub(crate) fn error(&mut self, n: &Node, msg: impl Into<String>) {
        self.at(n, 0, Severity::Error, msg, None);
    }

    pub(crate) fn unknown(&mut self, n: &Node) {
        let kw = n.words[0].text.clone();
        let hint = unknown_hint(&kw);
        self.at(
            n,
            0,
            Severity::Warning,
            format!("Unknown keyword '{kw}'"),
            hint,
        );
    }

    /// A keyword that takes no block but has one.
    pub(crate) fn no_block(&mut self, n: &Node) {
        if n.block.is_some() {
            self.warn(n, "Unexpected '{' - ignoring");
        }
    }

    /// The block of a keyword that needs one.
    pub(crate) fn block<'n>(&mut self, n: &'n Node) -> &'n [Node] {
        match &n.block {
            Some(b) => b,
            None => {
                self.warn(n, "Missing '{' at beginning of configuration block");
                &[]
            }
        }
    }

    /// Word `i`, or an error like keepalived's `null_strvec` (which makes it exit).
    pub(crate) fn arg<'n>(&mut self, n: &'n Node, i: usize) -> Option<&'n str> {
        if let Some(w) = n.words.get(i) {
            return Some(&w.text);
        }
        let first = &n.words[0].text;
        let msg = match n.words.get(i - 1) {
            Some(prev) => format!(
                "*** Configuration line starting `{first}` is missing a parameter after keyword `{}` at word position {}",
                prev.text,
                i + 1
            ),
            None => format!(
                "*** Configuration line starting `{first}` is missing a parameter at word position {}",
                i + 1
            ),
        };
        self.at(n, i, Severity::Error, msg, None);
        None
    }

    fn report<T>(&mut self, n: &Node, i: usize, r: Read<T>) -> Option<T> {
        if let Some(p) = r.problem {
            let hint = n.words.get(i).and_then(|w| odd_space_hint(&w.text));
            self.at(n, i, p.severity, p.message, hint);
        }
        r.value
    }

    /// keepalived `read_unsigned_strvec`.
    pub(crate) fn unsigned(
        &mut self,
        n: &Node,
        i: usize,
        min: u32,
        max: u32,
        ignore_error: bool,
    ) -> Option<u32> {
        let s = self.arg(n, i)?;
        let r = numbers::read_unsigned(s, min, max, ignore_error);
        self.report(n, i, r)
    }

    /// keepalived `read_int_strvec`.
    pub(crate) fn int(
        &mut self,
        n: &Node,
        i: usize,
        min: i32,
        max: i32,
        ignore_error: bool,
    ) -> Option<i32> {
        let s = self.arg(n, i)?;
        let r = numbers::read_int(s, min, max, ignore_error);
        self.report(n, i, r)
    }

    /// keepalived `read_timer` (bounds in microseconds, max 0 = none).
    pub(crate) fn timer(
        &mut self,
        n: &Node,
        i: usize,
        min_us: u64,
        max_us: u64,
        ignore_error: bool,
    ) -> Option<SimDuration> {
        let s = self.arg(n, i)?;
        let r = numbers::read_timer(s, min_us, max_us, ignore_error);
        self.report(n, i, r)
    }

    /// A keyword alone (true) or followed by on/off/yes/no/true/false.
    pub(crate) fn flag(&mut self, n: &Node, what: &str) -> Option<bool> {
        let Some(w) = n.words.get(1) else {
            return Some(true);
        };
        let v = numbers::true_false(&w.text);
        if v.is_none() {
            self.at(
                n,
                1,
                Severity::Error,
                format!("Invalid {what} parameter {}", w.text),
                None,
            );
        }
        v
    }

    /// keepalived `set_value`: the arguments joined by spaces.
    pub(crate) fn value(&mut self, n: &Node) -> Option<String> {
        self.arg(n, 1)?;
        Some(joined(n, 1))
    }

    pub(crate) fn raw(&self, n: &Node) -> RawKeyword {
        RawKeyword {
            loc: self.loc(n),
            keyword: n.words[0].text.clone(),
            args: n.words[1..].iter().map(|w| w.text.clone()).collect(),
        }
    }

    pub(crate) fn record(&self, n: &Node) -> RawRecord {
        RawRecord {
            loc: self.loc(n),
            words: n.words.iter().map(|w| w.text.clone()).collect(),
        }
    }

    /// Lines of a value block as raw records (nested blocks are refused).
    pub(crate) fn records(&mut self, n: &Node) -> Vec<RawRecord> {
        let mut out = Vec::new();
        for c in self.block(n) {
            self.no_block(c);
            out.push(self.record(c));
        }
        out
    }

    /// An IP address argument.
    pub(crate) fn ip(&mut self, n: &Node, i: usize, what: &str) -> Option<IpAddr> {
        let s = self.arg(n, i)?;
        match s.parse::<IpAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                self.at(
                    n,
                    i,
                    Severity::Error,
                    format!("Invalid {what} address {s} - ignoring"),
                    None,
                );
                None
            }
        }
    }

    /// One line of `virtual_ipaddress` / `static_ipaddress`.
    pub(crate) fn ip_entry(&mut self, n: &Node) -> Option<IpAddressEntry> {
        self.no_block(n);
        let first = &n.words[0].text;
        let (a, p) = match first.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (first.as_str(), None),
        };
        let Ok(address) = a.parse::<IpAddr>() else {
            self.error(n, format!("VRRP parsed invalid IP {first}. skipping IP..."));
            return None;
        };
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(v) if v <= max => v,
                _ => {
                    self.error(n, format!("VRRP parsed invalid IP {first}. skipping IP..."));
                    return None;
                }
            },
        };
        let mut e = IpAddressEntry {
            loc: self.loc(n),
            address,
            prefix,
            brd: None,
            dev: None,
            scope: None,
            label: None,
            options: Vec::new(),
        };
        let mut i = 1;
        while i < n.words.len() {
            let w = n.words[i].text.as_str();
            let takes_value = matches!(
                w,
                "dev"
                    | "scope"
                    | "brd"
                    | "broadcast"
                    | "label"
                    | "peer"
                    | "preferred_lft"
                    | "metric"
                    | "track_group"
            );
            if takes_value {
                let Some(v) = self.arg(n, i + 1).map(str::to_string) else {
                    break;
                };
                match w {
                    "dev" => e.dev = Some(v),
                    "scope" => e.scope = Some(v),
                    "brd" | "broadcast" => e.brd = Some(v),
                    "label" => e.label = Some(v),
                    _ => {
                        e.options.push(w.to_string());
                        e.options.push(v);
                    }
                }
                i += 2;
                continue;
            }
            if matches!(
                w,
                "home" | "-nodad" | "nodad" | "noprefixroute" | "autojoin" | "no_track" | "track"
            ) {
                e.options.push(w.to_string());
            } else {
                self.at(
                    n,
                    i,
                    Severity::Warning,
                    format!("Unknown configuration entry '{w}' for ip address - ignoring"),
                    None,
                );
            }
            i += 1;
        }
        Some(e)
    }
}

/// The arguments from word `from` on, joined by single spaces.
pub(crate) fn joined(n: &Node, from: usize) -> String {
    n.words
        .iter()
        .skip(from)
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A hint when a value contains non-ASCII white space (the tutorial's U+3000).
fn odd_space_hint(s: &str) -> Option<String> {
    let odd: Vec<String> = s
        .chars()
        .filter(|c| c.is_whitespace() && !c.is_ascii())
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .collect();
    if odd.is_empty() {
        return None;
    }
    let mut uniq = odd;
    uniq.dedup();
    Some(format!(
        "the value contains {} (non-ASCII white space, e.g. a full-width space); keepalived splits words only on ASCII blanks, so it is part of the word - the number before it is used",
        uniq.join(", ")
    ))
}

fn unknown_hint(kw: &str) -> Option<String> {
    let s = match kw {
        "nb_get_retry" => {
            "keepalived 2.x accepts nb_get_retry only inside HTTP_GET/SSL_GET; write `retry`"
        }
        "lb_algo" | "lb_kind" => "lb_algo/lb_kind are only valid inside virtual_server",
        _ if kw.starts_with("VI_") || kw.starts_with("vi_") => {
            "vrrp_sync_group members go inside a `group { … }` block"
        }
        _ => return None,
    };
    Some(s.to_string())
}

/// Top-level keywords the lab recognises but keeps only as raw keywords.
const OTHER_TOP: &[&str] = &[
    "vrrp_track_file",
    "track_file",
    "vrrp_track_process",
    "garp_group",
    "linkbeat_interfaces",
    "track_group",
    "interface_up_down_delays",
    "SSL",
    "bfd_instance",
    "instance",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "use_pid_dir",
];

/// Builds the configuration from the top-level nodes.
pub(crate) fn build(files: &[String], nodes: &[Node], diags: &mut Diags) -> KeepalivedConfig {
    let mut cx = Cx { files, diags };
    let mut cfg = KeepalivedConfig::default();
    let mut instances = Vec::new();
    let mut servers = Vec::new();
    for n in nodes {
        let kw = n.words[0].text.as_str();
        match kw {
            "global_defs" => global_defs(&mut cx, n, &mut cfg.global_defs),
            "net_namespace" => {
                cx.no_block(n);
                cfg.net_namespace = cx.arg(n, 1).map(str::to_string);
            }
            "vrrp_script" => {
                if let Some(s) = vrrp::script(&mut cx, n) {
                    cfg.vrrp_scripts.push(s);
                }
            }
            "vrrp_sync_group" => {
                if let Some(g) = vrrp::sync_group(&mut cx, n) {
                    cfg.vrrp_sync_groups.push(g);
                }
            }
            "vrrp_instance" => {
                if let Some(i) = vrrp::instance(&mut cx, n) {
                    instances.push(i);
                }
            }
            "virtual_server_group" => {
                if let Some(g) = lvs::group(&mut cx, n) {
                    cfg.virtual_server_groups.push(g);
                }
            }
            "virtual_server" => {
                if let Some(v) = lvs::virtual_server(&mut cx, n) {
                    servers.push(v);
                }
            }
            "static_ipaddress" => {
                for c in cx.block(n) {
                    if let Some(e) = cx.ip_entry(c) {
                        cfg.static_ipaddress.push(e);
                    }
                }
            }
            "static_routes" => cfg.static_routes.extend(cx.records(n)),
            "static_rules" => cfg.static_rules.extend(cx.records(n)),
            _ if OTHER_TOP.contains(&kw) => cfg.other.push(cx.raw(n)),
            _ => cx.unknown(n),
        }
    }
    cfg.vrrp_instances = vrrp::complete(&mut cx, &cfg.global_defs, instances);
    vrrp::check_sync_groups(&mut cx, &mut cfg);
    cfg.virtual_servers = lvs::validate(&mut cx, &cfg, servers);
    cfg
}

/// Global keywords kept as raw keywords.
const OTHER_GLOBAL: &[&str] = &[
    "smtp_helo_name",
    "smtp_alert",
    "smtp_alert_vrrp",
    "smtp_alert_checker",
    "checker_log_all_failures",
    "default_interface",
    "lvs_timeouts",
    "lvs_flush_onstop",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_gna_interval",
    "vrrp_min_garp",
    "vrrp_lower_prio_no_advert",
    "vrrp_higher_prio_send_advert",
    "vrrp_iptables",
    "vrrp_ipsets",
    "vrrp_nftables",
    "vrrp_nftables_priority",
    "vrrp_nftables_ifindex",
    "vrrp_nftables_counters",
    "vrrp_check_unicast_src",
    "vrrp_skip_check_adv_addr",
    "vrrp_priority",
    "checker_priority",
    "bfd_priority",
    "vrrp_no_swap",
    "checker_no_swap",
    "bfd_no_swap",
    "vrrp_rt_priority",
    "checker_rt_priority",
    "bfd_rt_priority",
    "vrrp_rlimit_rttime",
    "checker_rlimit_rttime",
    "bfd_rlimit_rttime",
    "snmp_socket",
    "enable_snmp_vrrp",
    "enable_snmp_keepalived",
    "enable_snmp_checker",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_traps",
    "notify_fifo",
    "notify_fifo_script",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "vrrp_notify_priority_changes",
    "process_names",
    "process_name",
    "vrrp_process_name",
    "checker_process_name",
    "bfd_process_name",
    "dynamic_interfaces",
    "no_email_faults",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "vrrp_rx_bufs_policy",
    "vrrp_rx_bufs_multiplier",
    "vrrp_startup_delay",
    "log_unknown_vrids",
    "enable_dbus",
    "dbus_service_name",
    "random_seed",
    "umask",
    "max_auto_priority",
    "min_auto_priority_delay",
    "reload_check_config",
    "reload_time_file",
    "reload_repeat",
    "reload_file",
    "config_save_dir",
    "instance",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "fifo_write_vrrp_states_on_reload",
    "vrrp_owner_ignore_adverts",
    "vrrp_garp_extra_if",
    "vrrp_down_timer_adverts",
    "linkbeat_use_polling",
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "use_pid_dir",
    "data_use_instance",
    "tmp_config_directory",
    "vrrp_cpu_affinity",
    "checker_cpu_affinity",
    "bfd_cpu_affinity",
    "vrrp_rt_priority",
    "vrrp_track_process",
    "vrrp_version_3_checksum_as_v2",
    "script_security",
];

fn global_defs(cx: &mut Cx<'_>, n: &Node, g: &mut GlobalDefs) {
    if g.loc.is_none() {
        g.loc = Some(cx.loc(n));
    }
    for c in cx.block(n) {
        let kw = c.words[0].text.as_str();
        if kw != "notification_email" {
            cx.no_block(c);
        }
        match kw {
            "router_id" => g.router_id = cx.arg(c, 1).map(str::to_string),
            "notification_email" => {
                for e in cx.block(c) {
                    cx.no_block(e);
                    g.notification_email.push(joined(e, 0));
                }
            }
            "notification_email_from" => g.notification_email_from = cx.value(c),
            "smtp_server" => g.smtp_server = cx.value(c),
            "smtp_connect_timeout" => {
                if let Some(t) = cx.timer(c, 1, US, 0, true) {
                    g.smtp_connect_timeout = t;
                }
            }
            "vrrp_strict" => g.vrrp_strict = true,
            "vrrp_version" => {
                if let Some(v) = cx.unsigned(c, 1, 2, 3, false) {
                    g.vrrp_version = u8::try_from(v).unwrap_or(2);
                }
            }
            "vrrp_garp_master_delay" => {
                if let Some(t) = cx.timer(c, 1, 0, 255 * US, true) {
                    g.vrrp_garp_master_delay = t;
                }
            }
            "vrrp_garp_master_repeat" => {
                if let Some(v) = cx.unsigned(c, 1, 0, 255, true) {
                    g.vrrp_garp_master_repeat = v;
                }
            }
            "vrrp_garp_master_refresh" => {
                if let Some(t) = cx.timer(c, 1, 0, 0, true) {
                    g.vrrp_garp_master_refresh = t;
                }
            }
            "vrrp_garp_master_refresh_repeat" => {
                if let Some(v) = cx.unsigned(c, 1, 0, 255, true) {
                    g.vrrp_garp_master_refresh_repeat = v;
                }
            }
            "vrrp_garp_interval" => {
                if let Some(t) = cx.timer(c, 1, 0, 0, true) {
                    g.vrrp_garp_interval = t;
                }
            }
            "enable_script_security" => g.enable_script_security = true,
            "script_user" => g.script_user = cx.value(c),
            "lvs_flush" => g.lvs_flush = true,
            "lvs_sync_daemon" => {
                if cx.arg(c, 1).is_some() {
                    g.lvs_sync_daemon = Some(c.words[1..].iter().map(|w| w.text.clone()).collect());
                }
            }
            _ if OTHER_GLOBAL.contains(&kw) => g.other.push(cx.raw(c)),
            _ => cx.unknown(c),
        }
    }
}
