//! The typed keepalived configuration. Values are as keepalived runs them: defaults
//! applied, inherited values resolved, invalid values dropped (see the diagnostics).

use crate::time::SimDuration;
use std::fmt;
use std::net::IpAddr;

/// Where an item was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loc {
    /// File name (the top file or an included one).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
}

/// A keyword line kept as words (for keywords the lab recognises but does not model).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawKeyword {
    /// Where it was written.
    pub loc: Loc,
    /// The keyword.
    pub keyword: String,
    /// Its arguments.
    pub args: Vec<String>,
}

/// A line of a value block kept as words (routes, rules, unmodelled entries).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRecord {
    /// Where it was written.
    pub loc: Loc,
    /// All words of the line.
    pub words: Vec<String>,
}

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeepalivedConfig {
    /// `global_defs { … }` (merged if given several times).
    pub global_defs: GlobalDefs,
    /// `net_namespace NAME` (top level).
    pub net_namespace: Option<String>,
    /// `vrrp_script NAME { … }`.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `vrrp_sync_group NAME { … }`.
    pub vrrp_sync_groups: Vec<VrrpSyncGroup>,
    /// `vrrp_instance NAME { … }` that keepalived accepts.
    pub vrrp_instances: Vec<VrrpInstance>,
    /// `virtual_server_group NAME { … }`.
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// `virtual_server … { … }` that keepalived accepts.
    pub virtual_servers: Vec<VirtualServer>,
    /// `static_ipaddress { … }`.
    pub static_ipaddress: Vec<IpAddressEntry>,
    /// `static_routes { … }`, as written.
    pub static_routes: Vec<RawRecord>,
    /// `static_rules { … }`, as written.
    pub static_rules: Vec<RawRecord>,
    /// Other recognised top-level keywords (`vrrp_track_file`, `garp_group`, `SSL`, …).
    pub other: Vec<RawKeyword>,
}

/// `global_defs`.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalDefs {
    /// Where the (first) block was written.
    pub loc: Option<Loc>,
    /// `router_id`.
    pub router_id: Option<String>,
    /// `notification_email { … }`.
    pub notification_email: Vec<String>,
    /// `notification_email_from`.
    pub notification_email_from: Option<String>,
    /// `smtp_server ADDR [PORT]`.
    pub smtp_server: Option<String>,
    /// `smtp_connect_timeout` (default 30 s).
    pub smtp_connect_timeout: SimDuration,
    /// `vrrp_strict`.
    pub vrrp_strict: bool,
    /// `vrrp_version` (default 2).
    pub vrrp_version: u8,
    /// `vrrp_garp_master_delay` (default 5 s).
    pub vrrp_garp_master_delay: SimDuration,
    /// `vrrp_garp_master_repeat` (default 5).
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh` (default 0 = off).
    pub vrrp_garp_master_refresh: SimDuration,
    /// `vrrp_garp_master_refresh_repeat` (default 1).
    pub vrrp_garp_master_refresh_repeat: u32,
    /// `vrrp_garp_interval` (default 0).
    pub vrrp_garp_interval: SimDuration,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<String>,
    /// `lvs_flush`.
    pub lvs_flush: bool,
    /// `lvs_sync_daemon IF [VRRP_INSTANCE] [id N] …`, as written.
    pub lvs_sync_daemon: Option<Vec<String>>,
    /// Other recognised global keywords, as written.
    pub other: Vec<RawKeyword>,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            loc: None,
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_connect_timeout: SimDuration::from_secs(30),
            vrrp_strict: false,
            vrrp_version: 2,
            vrrp_garp_master_delay: SimDuration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: SimDuration::ZERO,
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_interval: SimDuration::ZERO,
            enable_script_security: false,
            script_user: None,
            lvs_flush: false,
            lvs_sync_daemon: None,
            other: Vec::new(),
        }
    }
}

/// `vrrp_script NAME`.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpScript {
    /// Where it was written.
    pub loc: Loc,
    /// Its name.
    pub name: String,
    /// `script` (the command line, unsplit).
    pub script: Option<String>,
    /// `interval` (default 1 s).
    pub interval: SimDuration,
    /// `timeout` (default: the interval).
    pub timeout: SimDuration,
    /// `weight` (default 0: failure means FAULT).
    pub weight: i32,
    /// `weight N reverse`.
    pub weight_reverse: bool,
    /// `rise` (default 1).
    pub rise: u32,
    /// `fall` (default 1).
    pub fall: u32,
    /// `user`.
    pub user: Option<String>,
    /// `init_fail`.
    pub init_fail: bool,
}

/// `vrrp_sync_group NAME`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VrrpSyncGroup {
    /// Where it was written.
    pub loc: Loc,
    /// Its name.
    pub name: String,
    /// `group { … }` member instance names.
    pub group: Vec<String>,
    /// `notify_master`.
    pub notify_master: Option<String>,
    /// `notify_backup`.
    pub notify_backup: Option<String>,
    /// `notify_fault`.
    pub notify_fault: Option<String>,
    /// `notify_stop`.
    pub notify_stop: Option<String>,
    /// `notify`.
    pub notify: Option<String>,
    /// `smtp_alert`.
    pub smtp_alert: bool,
    /// `track_script`, `track_interface`, … of the group.
    pub tracking: Vec<TrackEntry>,
    /// Other recognised keywords.
    pub other: Vec<RawKeyword>,
}

/// VRRP state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VrrpState {
    /// `state MASTER`.
    Master,
    /// `state BACKUP`.
    Backup,
}

impl fmt::Display for VrrpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VrrpState::Master => "MASTER",
            VrrpState::Backup => "BACKUP",
        })
    }
}

/// VRRPv2 authentication type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AuthType {
    /// Clear-text password (first 8 characters).
    Pass,
    /// IPsec AH.
    Ah,
}

/// `authentication { auth_type …; auth_pass … }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    /// `auth_type`.
    pub auth_type: AuthType,
    /// `auth_pass`, truncated to 8 characters as keepalived does.
    pub auth_pass: String,
}

/// What a `track_*` entry watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrackKind {
    /// `track_interface`.
    Interface,
    /// `track_script`.
    Script,
    /// `track_file`.
    File,
    /// `track_process`.
    Process,
    /// `track_bfd`.
    Bfd,
}

/// One line of a `track_*` block: `NAME [weight N [reverse]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackEntry {
    /// Where it was written.
    pub loc: Loc,
    /// Which block it came from.
    pub kind: TrackKind,
    /// Interface, script, file or process name.
    pub name: String,
    /// `weight N` (None = the object's own default; 0 = fault on failure).
    pub weight: Option<i32>,
    /// `reverse`.
    pub reverse: bool,
}

/// An address in `virtual_ipaddress` / `static_ipaddress`:
/// `ADDR[/PREFIX] [brd X] [dev IF] [scope S] [label L] …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpAddressEntry {
    /// Where it was written.
    pub loc: Loc,
    /// The address.
    pub address: IpAddr,
    /// Prefix length (keepalived default: /32 or /128).
    pub prefix: u8,
    /// `brd`.
    pub brd: Option<String>,
    /// `dev` (default: the instance interface).
    pub dev: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `label`.
    pub label: Option<String>,
    /// Other options, as written (`no_track`, `home`, `-nodad`, `peer X`, …).
    pub options: Vec<String>,
}

/// `vrrp_instance NAME`.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpInstance {
    /// Where it was written.
    pub loc: Loc,
    /// Its name.
    pub name: String,
    /// `state` as written (None if absent).
    pub configured_state: Option<VrrpState>,
    /// The initial state keepalived wants after its checks (derived from the priority when
    /// absent; AH authentication forces BACKUP).
    pub state: VrrpState,
    /// `interface`.
    pub interface: Option<String>,
    /// `virtual_router_id` (1…255).
    pub virtual_router_id: u8,
    /// `priority` as written (None if absent or invalid).
    pub configured_priority: Option<u8>,
    /// Effective base priority (absent: 255 with state MASTER, else 100).
    pub priority: u8,
    /// `advert_int` (default 1 s).
    pub advert_int: SimDuration,
    /// `version` (None: the global `vrrp_version`, 3 for IPv6).
    pub version: Option<u8>,
    /// `nopreempt` after keepalived's checks (cleared with state MASTER or priority 255).
    pub nopreempt: bool,
    /// `preempt_delay` after keepalived's checks (default 0).
    pub preempt_delay: SimDuration,
    /// `authentication` after keepalived's checks (dropped for v3, missing password…).
    pub authentication: Option<Authentication>,
    /// `virtual_ipaddress`.
    pub virtual_ipaddress: Vec<IpAddressEntry>,
    /// `virtual_ipaddress_excluded`.
    pub virtual_ipaddress_excluded: Vec<IpAddressEntry>,
    /// `virtual_routes`, as written.
    pub virtual_routes: Vec<RawRecord>,
    /// `virtual_rules`, as written.
    pub virtual_rules: Vec<RawRecord>,
    /// `track_interface`, `track_script`, `track_file`, `track_process`, `track_bfd`.
    pub tracking: Vec<TrackEntry>,
    /// `unicast_src_ip`.
    pub unicast_src_ip: Option<IpAddr>,
    /// `unicast_peer { … }`.
    pub unicast_peer: Vec<IpAddr>,
    /// `mcast_src_ip`.
    pub mcast_src_ip: Option<IpAddr>,
    /// `garp_master_delay` (None: the global default).
    pub garp_master_delay: Option<SimDuration>,
    /// `garp_master_repeat`.
    pub garp_master_repeat: Option<u32>,
    /// `garp_master_refresh`.
    pub garp_master_refresh: Option<SimDuration>,
    /// `garp_master_refresh_repeat`.
    pub garp_master_refresh_repeat: Option<u32>,
    /// `garp_lower_prio_delay`.
    pub garp_lower_prio_delay: Option<SimDuration>,
    /// `garp_lower_prio_repeat`.
    pub garp_lower_prio_repeat: Option<u32>,
    /// `notify_master`.
    pub notify_master: Option<String>,
    /// `notify_backup`.
    pub notify_backup: Option<String>,
    /// `notify_fault`.
    pub notify_fault: Option<String>,
    /// `notify_stop`.
    pub notify_stop: Option<String>,
    /// `notify`.
    pub notify: Option<String>,
    /// `smtp_alert`.
    pub smtp_alert: bool,
    /// `use_vmac [NAME]`: Some("") without a name.
    pub use_vmac: Option<String>,
    /// `vmac_xmit_base`.
    pub vmac_xmit_base: bool,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// `lvs_sync_daemon_interface` (deprecated).
    pub lvs_sync_daemon_interface: Option<String>,
    /// `strict_mode`.
    pub strict_mode: Option<bool>,
    /// `accept` (Some(true)) / `no_accept` (Some(false)).
    pub accept: Option<bool>,
    /// `skip_check_adv_addr`.
    pub skip_check_adv_addr: bool,
    /// `lower_prio_no_advert`.
    pub lower_prio_no_advert: Option<bool>,
    /// `higher_prio_send_advert`.
    pub higher_prio_send_advert: Option<bool>,
    /// Other recognised keywords, as written.
    pub other: Vec<RawKeyword>,
}

/// IPVS forwarding method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LvsMethod {
    /// Masquerading (`NAT`).
    Nat,
    /// Direct routing (`DR`).
    Dr,
    /// IP tunnelling (`TUN`).
    Tun,
}

impl fmt::Display for LvsMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LvsMethod::Nat => "NAT",
            LvsMethod::Dr => "DR",
            LvsMethod::Tun => "TUN",
        })
    }
}

/// Virtual service protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        })
    }
}

/// What a `virtual_server` line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VsTarget {
    /// `virtual_server IP [PORT]` (port 0 when omitted).
    Addr {
        /// Virtual IP.
        addr: IpAddr,
        /// Port (0 = any, persistent services only).
        port: u16,
    },
    /// `virtual_server fwmark N`.
    Fwmark(u32),
    /// `virtual_server group NAME`.
    Group(String),
}

/// One entry of a `virtual_server_group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VsgEntry {
    /// `IP[-LAST] [PORT]`: an address or a range on the last byte/group.
    Addr {
        /// Where it was written.
        loc: Loc,
        /// First address.
        addr: IpAddr,
        /// Last value of the final byte (IPv4) / 16-bit group (IPv6) for a range.
        range_end: Option<u32>,
        /// Port (0 when omitted).
        port: u16,
    },
    /// `fwmark N`.
    Fwmark {
        /// Where it was written.
        loc: Loc,
        /// The mark.
        mark: u32,
    },
}

/// `virtual_server_group NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServerGroup {
    /// Where it was written.
    pub loc: Loc,
    /// Its name.
    pub name: String,
    /// Its entries.
    pub entries: Vec<VsgEntry>,
}

/// `sorry_server IP [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SorryServer {
    /// Where it was written.
    pub loc: Loc,
    /// Address.
    pub addr: IpAddr,
    /// Port after keepalived's fix-ups.
    pub port: u16,
    /// `sorry_server_inhibit`.
    pub inhibit: bool,
    /// Forwarding method (`sorry_server_lvs_method`, else the virtual server's).
    pub lvs_method: LvsMethod,
}

/// `virtual_server`.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServer {
    /// Where it was written.
    pub loc: Loc,
    /// Address+port, fwmark or group.
    pub target: VsTarget,
    /// `delay_loop` (default 60 s).
    pub delay_loop: SimDuration,
    /// `lvs_sched` / `lb_algo` (default `wlc`).
    pub lvs_sched: String,
    /// `lvs_method` / `lb_kind` (default NAT).
    pub lvs_method: LvsMethod,
    /// `protocol` (None for fwmark services; UDP when absent otherwise).
    pub protocol: Option<Protocol>,
    /// `persistence_timeout` in seconds (keyword alone: 360).
    pub persistence_timeout: Option<u32>,
    /// `persistence_granularity`, as written.
    pub persistence_granularity: Option<String>,
    /// `persistence_engine`.
    pub persistence_engine: Option<String>,
    /// `quorum` (default 1, reduced to the total weight when higher).
    pub quorum: u32,
    /// `hysteresis` (default 0, below quorum).
    pub hysteresis: u32,
    /// `quorum_up` script.
    pub quorum_up: Option<String>,
    /// `quorum_down` script.
    pub quorum_down: Option<String>,
    /// `sorry_server`.
    pub sorry_server: Option<SorryServer>,
    /// `inhibit_on_failure` (default for the real servers).
    pub inhibit_on_failure: bool,
    /// `alpha`.
    pub alpha: bool,
    /// `omega`.
    pub omega: bool,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `virtualhost` (HTTP_GET/SSL_GET Host:).
    pub virtualhost: Option<String>,
    /// `ops`, `sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`, `flag-1..3`, `hashed`.
    pub flags: Vec<String>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `ip_family inet|inet6`.
    pub ip_family: Option<String>,
    /// `connect_timeout` (default for the checkers, 5 s).
    pub connect_timeout: SimDuration,
    /// `retry` as written (default for the checkers).
    pub retry: Option<u32>,
    /// `delay_before_retry` as written (default for the checkers).
    pub delay_before_retry: Option<SimDuration>,
    /// `warmup` as written (default for the checkers; otherwise the checker's delay_loop).
    pub warmup: Option<SimDuration>,
    /// `weight` (default real-server weight, 1).
    pub weight: u32,
    /// The real servers keepalived accepts.
    pub real_servers: Vec<RealServer>,
}

/// `real_server IP [PORT]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RealServer {
    /// Where it was written.
    pub loc: Loc,
    /// Address.
    pub addr: IpAddr,
    /// Port after keepalived's fix-ups (the virtual port unless NAT with its own port).
    pub port: u16,
    /// `weight` (default: the virtual server's, 1).
    pub weight: u32,
    /// `lvs_method` (default: the virtual server's).
    pub lvs_method: LvsMethod,
    /// `inhibit_on_failure` (default: the virtual server's).
    pub inhibit_on_failure: bool,
    /// `alpha` (default: the virtual server's).
    pub alpha: bool,
    /// `uthreshold`.
    pub uthreshold: Option<u32>,
    /// `lthreshold`.
    pub lthreshold: Option<u32>,
    /// `notify_up`.
    pub notify_up: Option<String>,
    /// `notify_down`.
    pub notify_down: Option<String>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// The health checkers.
    pub checkers: Vec<Checker>,
}

/// Which health checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckerKind {
    /// `TCP_CHECK`.
    Tcp,
    /// `HTTP_GET`.
    HttpGet,
    /// `SSL_GET`.
    SslGet,
    /// `MISC_CHECK`.
    Misc,
    /// `SMTP_CHECK`.
    Smtp,
    /// `UDP_CHECK`.
    Udp,
    /// `PING_CHECK`.
    Ping,
    /// `DNS_CHECK`.
    Dns,
    /// `FILE_CHECK`.
    File,
    /// `BFD_CHECK`.
    Bfd,
}

impl CheckerKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            CheckerKind::Tcp => "TCP_CHECK",
            CheckerKind::HttpGet => "HTTP_GET",
            CheckerKind::SslGet => "SSL_GET",
            CheckerKind::Misc => "MISC_CHECK",
            CheckerKind::Smtp => "SMTP_CHECK",
            CheckerKind::Udp => "UDP_CHECK",
            CheckerKind::Ping => "PING_CHECK",
            CheckerKind::Dns => "DNS_CHECK",
            CheckerKind::File => "FILE_CHECK",
            CheckerKind::Bfd => "BFD_CHECK",
        }
    }

    /// From the keyword.
    pub fn from_keyword(kw: &str) -> Option<Self> {
        Some(match kw {
            "TCP_CHECK" => CheckerKind::Tcp,
            "HTTP_GET" => CheckerKind::HttpGet,
            "SSL_GET" => CheckerKind::SslGet,
            "MISC_CHECK" => CheckerKind::Misc,
            "SMTP_CHECK" => CheckerKind::Smtp,
            "UDP_CHECK" => CheckerKind::Udp,
            "PING_CHECK" => CheckerKind::Ping,
            "DNS_CHECK" => CheckerKind::Dns,
            "FILE_CHECK" => CheckerKind::File,
            "BFD_CHECK" => CheckerKind::Bfd,
            _ => return None,
        })
    }

    /// Whether the checker opens a connection (has connect_ip/port/timeout).
    pub fn connects(self) -> bool {
        !matches!(
            self,
            CheckerKind::Misc | CheckerKind::File | CheckerKind::Bfd
        )
    }
}

/// Connection options of a checker (or of an SMTP_CHECK `host` block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnOpts {
    /// `connect_ip` (default: the real server).
    pub connect_ip: IpAddr,
    /// `connect_port` (default: the real server port).
    pub connect_port: u16,
    /// `bindto`.
    pub bindto: Option<IpAddr>,
    /// `bind_port`.
    pub bind_port: Option<u16>,
    /// `bind_if`.
    pub bind_if: Option<String>,
    /// `fwmark`.
    pub fwmark: Option<u32>,
    /// `connect_timeout` after inheritance (default 5 s).
    pub connect_timeout: SimDuration,
}

/// `url { … }` of HTTP_GET / SSL_GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Where it was written.
    pub loc: Loc,
    /// `path`.
    pub path: String,
    /// `digest` (32 hex characters, lower-cased).
    pub digest: Option<String>,
    /// `status_code` ranges (default 200-299).
    pub status_codes: Vec<(u16, u16)>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// Other url keywords (`regex`, …), as written.
    pub other: Vec<RawKeyword>,
}

/// A health checker with its timing resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Checker {
    /// Where it was written.
    pub loc: Loc,
    /// Which checker.
    pub kind: CheckerKind,
    /// Connection options (None for MISC_CHECK, FILE_CHECK, BFD_CHECK).
    pub conn: Option<ConnOpts>,
    /// `retry` / `nb_get_retry` after inheritance (default 1; MISC_CHECK 0, DNS_CHECK 3).
    pub retry: u32,
    /// `delay_before_retry` after inheritance (default 1 s; HTTP/SSL 3 s; DNS the delay_loop).
    pub delay_before_retry: SimDuration,
    /// `delay_loop` after inheritance (default: the virtual server's, 60 s).
    pub delay_loop: SimDuration,
    /// `warmup` after inheritance (default: the delay_loop).
    pub warmup: SimDuration,
    /// `alpha` after inheritance.
    pub alpha: bool,
    /// HTTP_GET / SSL_GET `url` blocks.
    pub urls: Vec<Url>,
    /// HTTP_GET / SSL_GET `virtualhost`.
    pub virtualhost: Option<String>,
    /// HTTP_GET / SSL_GET `http_protocol`.
    pub http_protocol: Option<String>,
    /// MISC_CHECK `misc_path` (the whole command line).
    pub misc_path: Option<String>,
    /// MISC_CHECK `misc_timeout`.
    pub misc_timeout: Option<SimDuration>,
    /// MISC_CHECK `misc_dynamic`.
    pub misc_dynamic: bool,
    /// MISC_CHECK `user`.
    pub user: Option<String>,
    /// SMTP_CHECK `helo_name`.
    pub helo_name: Option<String>,
    /// SMTP_CHECK `host { … }` blocks.
    pub hosts: Vec<ConnOpts>,
    /// Recognised keywords the lab does not model (UDP/DNS/FILE/PING options, `regex`…).
    pub other: Vec<RawKeyword>,
}
