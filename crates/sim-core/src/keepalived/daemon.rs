//! The keepalived process on one host: what it runs (VRRP instances,
//! virtual servers, checkers) and how it keeps the kernel's IPVS table in
//! step with the checkers (`ipwrapper.c`: `perform_svr_state`,
//! `update_quorum_state`). No I/O: the world drives it.

use std::net::{IpAddr, Ipv4Addr};

use super::check::{CheckState, Timing};
use super::conf::{AuthType, VrrpInstance, VrrpState};
use super::conf::{
    CheckerKind, KeepalivedConfig, LvsMethod, Protocol as ConfProto, Url, VirtualServer, VsTarget,
    VsgEntry,
};
use super::vrrp::{GarpPlan, Params, State, Vrrp};
use crate::host::tcp::SockKey;
use crate::ipvs::{DestSpec, FwdMethod, Ipvs, Protocol, ServiceKey, ServiceSpec};
use crate::packet::VrrpAuth;
use crate::rng::SimRng;
use crate::time::SimTime;
use crate::time::{NS_PER_S, SimDuration};

/// The VRRP parameters keepalived runs instance `i` with (v2 intervals in whole
/// seconds, v3 in centiseconds; GARP plans from the instance or `global_defs`).
#[must_use]
pub fn vrrp_params(cfg: &KeepalivedConfig, i: &VrrpInstance) -> Params {
    let g = &cfg.global_defs;
    let version = i.version.unwrap_or(g.vrrp_version);
    let ns = i.advert_int.as_nanos();
    let advert_int = if version == 3 {
        let cs = (ns + 5_000_000) / 10_000_000;
        SimDuration(cs.clamp(1, 4095) * 10_000_000)
    } else {
        let s = (ns + NS_PER_S / 2) / NS_PER_S;
        SimDuration::from_secs(s.clamp(1, 255))
    };
    let auth = match &i.authentication {
        Some(a) if a.auth_type == AuthType::Pass => {
            let mut b = [0u8; 8];
            for (d, s) in b.iter_mut().zip(a.auth_pass.bytes()) {
                *d = s;
            }
            VrrpAuth::Pass(b)
        }
        Some(_) => VrrpAuth::Ah,
        None => VrrpAuth::None,
    };
    let garp_master = GarpPlan {
        repeat: i.garp_master_repeat.unwrap_or(g.vrrp_garp_master_repeat),
        delay: i.garp_master_delay.unwrap_or(g.vrrp_garp_master_delay),
    };
    Params {
        name: i.name.clone(),
        vrid: i.virtual_router_id,
        version,
        priority: i.priority,
        advert_int,
        want_master: i.state == VrrpState::Master,
        nopreempt: i.nopreempt,
        preempt_delay: i.preempt_delay,
        auth,
        vips: i
            .virtual_ipaddress
            .iter()
            .filter_map(|e| match e.address {
                std::net::IpAddr::V4(a) => Some(a),
                std::net::IpAddr::V6(_) => None,
            })
            .collect(),
        lower_prio_no_advert: i.lower_prio_no_advert.unwrap_or(false),
        higher_prio_send_advert: i.higher_prio_send_advert.unwrap_or(false),
        skip_check_adv_addr: i.skip_check_adv_addr,
        garp_master,
        garp_lower: GarpPlan {
            repeat: i.garp_lower_prio_repeat.unwrap_or(garp_master.repeat),
            delay: i.garp_lower_prio_delay.unwrap_or(garp_master.delay),
        },
        down_timer_adverts: 3,
        garp_refresh: (
            i.garp_master_refresh.unwrap_or(g.vrrp_garp_master_refresh),
            i.garp_master_refresh_repeat
                .unwrap_or(g.vrrp_garp_master_refresh_repeat),
        ),
    }
}

/// keepalived's state on a host, kept across restarts (for the summary).
#[derive(Debug, Default)]
pub struct Keepalived {
    /// The running daemon, if any.
    pub running: Option<Daemon>,
    /// Generation: bumped on every start/stop so old timers go stale.
    pub generation: u64,
    /// VRRP transitions, in time order.
    pub transitions: Vec<Transition>,
    /// Other notable events (GARPs, VIPs, real servers up/down), in time order.
    pub events: Vec<(SimTime, String)>,
    /// VIPs added (`true`) or removed/lost with the host (`false`), in time order.
    pub vip_log: Vec<(SimTime, Ipv4Addr, bool)>,
}

/// A VRRP state change, for `lvslab run`'s summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// When.
    pub t: SimTime,
    /// Instance name.
    pub instance: String,
    /// From.
    pub from: State,
    /// To.
    pub to: State,
    /// Why.
    pub why: String,
}

/// A running keepalived.
#[derive(Debug)]
pub struct Daemon {
    /// The configuration it read.
    pub config: KeepalivedConfig,
    /// VRRP instances.
    pub instances: Vec<Instance>,
    /// Virtual servers it manages.
    pub vs: Vec<VsRt>,
    /// Health checkers (indices used by checker sockets).
    pub checkers: Vec<CheckerRt>,
    /// Its random stream (checker warm-up).
    pub rng: SimRng,
}

/// A VRRP instance bound to an interface.
#[derive(Debug)]
pub struct Instance {
    /// The state machine.
    pub vrrp: Vrrp,
    /// Interface index.
    pub iface: usize,
    /// VIPs with prefix and the device/label they go on.
    pub vips: Vec<(Ipv4Addr, u8, String)>,
    /// `unicast_peer` addresses (empty: multicast to 224.0.0.18).
    pub peers: Vec<Ipv4Addr>,
    /// Counts entries into MASTER (a refresh timer of an older term is stale).
    pub master_term: u64,
    /// `track_interface` entries: interface index and weight (None/0: FAULT when down).
    pub tracked: Vec<(usize, Option<i32>)>,
    /// The configured priority (before tracking weights).
    pub base_priority: u8,
    /// Its `vrrp_sync_group`: name and the other members' indices.
    pub sync: Option<(String, Vec<usize>)>,
}

impl Instance {
    /// FAULT (own or a weight-0 tracked interface down) and the effective
    /// priority (base ± tracking weights, clamped to 1…254; 255 stays 255),
    /// given which interfaces are up.
    #[must_use]
    pub fn tracking(&self, up: impl Fn(usize) -> bool) -> (bool, u8) {
        let mut fault = !up(self.iface);
        let mut prio = i32::from(self.base_priority);
        for (i, w) in &self.tracked {
            match w {
                None | Some(0) => fault |= !up(*i),
                Some(w) if *w > 0 && up(*i) => prio += w,
                Some(w) if *w < 0 && !up(*i) => prio += w,
                Some(_) => {}
            }
        }
        let prio = if self.base_priority == 255 {
            255
        } else {
            u8::try_from(prio.clamp(1, 254)).unwrap_or(1)
        };
        (fault, prio)
    }
}

/// Fills each instance's [`Instance::sync`] from the `vrrp_sync_group`s.
pub fn link_sync_groups(cfg: &KeepalivedConfig, instances: &mut [Instance]) {
    for g in &cfg.vrrp_sync_groups {
        let members: Vec<usize> = g
            .group
            .iter()
            .filter_map(|n| instances.iter().position(|i| &i.vrrp.p.name == n))
            .collect();
        for &m in &members {
            let others = members.iter().copied().filter(|o| *o != m).collect();
            instances[m].sync = Some((g.name.clone(), others));
        }
    }
}

/// A virtual server at run time.
#[derive(Debug)]
pub struct VsRt {
    /// keepalived's name for it (`[192.168.59.135]:tcp:80`, `FWM 1`).
    pub name: String,
    /// The IPVS services it stands for (several for a group).
    pub specs: Vec<ServiceSpec>,
    /// Real servers.
    pub rs: Vec<RsRt>,
    /// `quorum`.
    pub quorum: u32,
    /// `hysteresis`.
    pub hysteresis: u32,
    /// Quorum currently reached.
    pub quorum_up: bool,
    /// Sorry server.
    pub sorry: Option<DestSpec>,
}

/// A real server at run time.
#[derive(Debug)]
pub struct RsRt {
    /// keepalived's name (`[192.168.59.131]:tcp:80`).
    pub name: String,
    /// What goes into IPVS when alive (configured weight).
    pub spec: DestSpec,
    /// Its checkers (indices into [`Daemon::checkers`]).
    pub checkers: Vec<usize>,
    /// `inhibit_on_failure`.
    pub inhibit: bool,
    /// Weight set by a `misc_dynamic` MISC_CHECK.
    pub dyn_weight: Option<u32>,
}

/// A checker at run time.
#[derive(Debug)]
pub struct CheckerRt {
    /// Virtual server index.
    pub vs: usize,
    /// Real server index.
    pub rs: usize,
    /// Which checker.
    pub kind: CheckerKind,
    /// Timing.
    pub timing: Timing,
    /// Warm-up bound for the first attempt.
    pub warmup: crate::time::SimDuration,
    /// State.
    pub st: CheckState,
    /// Attempt generation (stale timeouts/results are ignored).
    pub epoch: u64,
    /// An attempt is in flight.
    pub pending: bool,
    /// Where it connects.
    pub target: (Ipv4Addr, u16),
    /// HTTP_GET/SSL_GET URLs and the one being fetched.
    pub urls: Vec<Url>,
    /// Index of the URL being fetched.
    pub url_idx: usize,
    /// `virtualhost`.
    pub vhost: Option<String>,
    /// MISC_CHECK command line.
    pub misc: Option<String>,
    /// `misc_dynamic`.
    pub misc_dynamic: bool,
    /// The socket of the attempt in flight.
    pub sock: Option<SockKey>,
}

impl CheckerRt {
    /// keepalived's name of the checked service.
    #[must_use]
    pub fn target_name(&self) -> String {
        format!("[{}]:tcp:{}", self.target.0, self.target.1)
    }
}

fn v4(a: IpAddr) -> Option<Ipv4Addr> {
    match a {
        IpAddr::V4(x) => Some(x),
        IpAddr::V6(_) => None,
    }
}

fn proto(p: Option<ConfProto>) -> Protocol {
    match p {
        Some(ConfProto::Tcp) => Protocol::Tcp,
        Some(ConfProto::Sctp) => Protocol::Sctp,
        Some(ConfProto::Udp) | None => Protocol::Udp,
    }
}

/// The IPVS forwarding method of keepalived's `lvs_method`.
#[must_use]
pub fn fwd(m: LvsMethod) -> FwdMethod {
    match m {
        LvsMethod::Nat => FwdMethod::Masq,
        LvsMethod::Dr => FwdMethod::Route,
        LvsMethod::Tun => FwdMethod::Tunnel,
    }
}

fn proto_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

/// keepalived's `FMT_VS` name of an IPVS service.
#[must_use]
pub fn key_name(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { proto, addr, port } => {
            format!("[{addr}]:{}:{port}", proto_name(*proto))
        }
        ServiceKey::Fwmark(m) => format!("FWM {m}"),
    }
}

/// The IPVS service keys a virtual_server stands for (`None`: not IPv4).
fn keys(cfg: &KeepalivedConfig, vs: &VirtualServer) -> Option<Vec<ServiceKey>> {
    let p = proto(vs.protocol);
    match &vs.target {
        VsTarget::Addr { addr, port } => Some(vec![ServiceKey::Addr {
            proto: p,
            addr: v4(*addr)?,
            port: *port,
        }]),
        VsTarget::Fwmark(m) => Some(vec![ServiceKey::Fwmark(*m)]),
        VsTarget::Group(name) => {
            let g = cfg.virtual_server_groups.iter().find(|g| &g.name == name)?;
            let mut out = Vec::new();
            for e in &g.entries {
                match e {
                    VsgEntry::Addr {
                        addr,
                        range_end,
                        port,
                        ..
                    } => {
                        let a = v4(*addr)?;
                        let o = a.octets();
                        let last = range_end.map_or(u32::from(o[3]), |e| e.min(255));
                        for b in u32::from(o[3])..=last {
                            let b = u8::try_from(b).unwrap_or(255);
                            out.push(ServiceKey::Addr {
                                proto: p,
                                addr: Ipv4Addr::new(o[0], o[1], o[2], b),
                                port: *port,
                            });
                        }
                    }
                    VsgEntry::Fwmark { mark, .. } => out.push(ServiceKey::Fwmark(*mark)),
                }
            }
            Some(out)
        }
    }
}

fn netmask(g: Option<&str>) -> Ipv4Addr {
    g.and_then(|s| s.parse().ok())
        .unwrap_or(Ipv4Addr::BROADCAST)
}

impl VsRt {
    /// Builds the run-time virtual server and its checkers (appended to `checkers`).
    /// `None` when the lab cannot model it (IPv6).
    #[must_use]
    pub fn build(
        cfg: &KeepalivedConfig,
        vs: &VirtualServer,
        index: usize,
        checkers: &mut Vec<CheckerRt>,
    ) -> Option<VsRt> {
        let keys = keys(cfg, vs)?;
        let first = *keys.first()?;
        let specs = keys
            .iter()
            .map(|k| {
                let mut s = ServiceSpec::new(*k, &vs.lvs_sched);
                s.persistent = vs.persistence_timeout;
                s.netmask = netmask(vs.persistence_granularity.as_deref());
                s.ops = vs.flags.iter().any(|f| f == "ops");
                s.flags.flag1 = vs
                    .flags
                    .iter()
                    .any(|f| matches!(f.as_str(), "flag-1" | "sh-fallback" | "mh-fallback"));
                s.flags.flag2 = vs
                    .flags
                    .iter()
                    .any(|f| matches!(f.as_str(), "flag-2" | "sh-port" | "mh-port"));
                s.flags.flag3 = vs.flags.iter().any(|f| f == "flag-3");
                s
            })
            .collect();
        let pname = match first {
            ServiceKey::Addr { proto, .. } => proto_name(proto),
            ServiceKey::Fwmark(_) => "tcp",
        };
        let mut rs = Vec::new();
        for r in &vs.real_servers {
            let Some(addr) = v4(r.addr) else { continue };
            let mut spec = DestSpec::new(addr, r.port, fwd(r.lvs_method));
            spec.weight = r.weight;
            spec.u_threshold = r.uthreshold.unwrap_or(0);
            spec.l_threshold = r.lthreshold.unwrap_or(0);
            let ri = rs.len();
            let mut ids = Vec::new();
            for c in &r.checkers {
                let target = c.conn.as_ref().map_or((addr, r.port), |o| {
                    (v4(o.connect_ip).unwrap_or(addr), o.connect_port)
                });
                ids.push(checkers.len());
                checkers.push(CheckerRt {
                    vs: index,
                    rs: ri,
                    kind: c.kind,
                    timing: Timing {
                        delay_loop: c.delay_loop,
                        connect_timeout: c
                            .conn
                            .as_ref()
                            .map_or(c.misc_timeout.unwrap_or(c.delay_loop), |o| {
                                o.connect_timeout
                            }),
                        retry: c.retry,
                        delay_before_retry: c.delay_before_retry,
                    },
                    warmup: c.warmup,
                    st: CheckState::new(c.alpha),
                    epoch: 0,
                    pending: false,
                    target,
                    urls: c.urls.clone(),
                    url_idx: 0,
                    vhost: c.virtualhost.clone().or_else(|| r.virtualhost.clone()),
                    misc: c.misc_path.clone(),
                    misc_dynamic: c.misc_dynamic,
                    sock: None,
                });
            }
            rs.push(RsRt {
                name: format!("[{addr}]:{pname}:{}", r.port),
                spec,
                checkers: ids,
                inhibit: r.inhibit_on_failure,
                dyn_weight: None,
            });
        }
        let sorry = vs.sorry_server.as_ref().and_then(|s| {
            let mut d = DestSpec::new(v4(s.addr)?, s.port, fwd(s.lvs_method));
            d.weight = 1;
            Some(d)
        });
        Some(VsRt {
            name: key_name(&first),
            specs,
            rs,
            quorum: vs.quorum,
            hysteresis: vs.hysteresis,
            quorum_up: true,
            sorry,
        })
    }

    /// Is real server `i` alive (all its checkers UP)?
    #[must_use]
    pub fn alive(&self, i: usize, checkers: &[CheckerRt]) -> bool {
        self.rs[i].checkers.iter().all(|c| checkers[*c].st.up)
    }

    fn weight(&self, i: usize) -> u32 {
        self.rs[i].dyn_weight.unwrap_or(self.rs[i].spec.weight)
    }

    /// Recomputes the quorum state (`update_quorum_state`); returns a log line on change.
    pub fn update_quorum(&mut self, checkers: &[CheckerRt]) -> Option<String> {
        let sum: u32 = (0..self.rs.len())
            .filter(|i| self.alive(*i, checkers))
            .map(|i| self.weight(i))
            .sum();
        if self.quorum_up {
            let thr = self.quorum.saturating_sub(self.hysteresis);
            if sum == 0 || sum < thr {
                self.quorum_up = false;
                return Some(format!(
                    "Lost quorum {}-{}={thr} > {sum} for VS {}",
                    self.quorum, self.hysteresis, self.name
                ));
            }
        } else {
            let thr = self.quorum + self.hysteresis;
            if sum >= thr && sum > 0 {
                self.quorum_up = true;
                return Some(format!(
                    "Gained quorum {}+{}={thr} <= {sum} for VS {}",
                    self.quorum, self.hysteresis, self.name
                ));
            }
        }
        None
    }

    /// The destinations IPVS should hold now, with whether each is the sorry server.
    #[must_use]
    pub fn desired(&self, checkers: &[CheckerRt]) -> Vec<(DestSpec, bool)> {
        let sorry_mode = !self.quorum_up && self.sorry.is_some();
        let mut out = Vec::new();
        for i in 0..self.rs.len() {
            let mut d = self.rs[i].spec;
            if self.alive(i, checkers) {
                if sorry_mode {
                    continue;
                }
                d.weight = self.weight(i);
            } else if self.rs[i].inhibit {
                d.weight = 0;
            } else {
                continue;
            }
            out.push((d, false));
        }
        if let (true, Some(s)) = (sorry_mode, self.sorry) {
            out.push((s, true));
        }
        out
    }

    /// Makes IPVS hold [`VsRt::desired`]; returns keepalived's log lines.
    pub fn sync(&self, ipvs: &mut Ipvs, checkers: &[CheckerRt]) -> Vec<String> {
        let want = self.desired(checkers);
        let mut log = Vec::new();
        let managed: Vec<(Ipv4Addr, u16)> = self
            .rs
            .iter()
            .map(|r| (r.spec.addr, r.spec.port))
            .chain(self.sorry.map(|s| (s.addr, s.port)))
            .collect();
        for spec in &self.specs {
            let key = spec.key;
            let Some(svc) = ipvs.find_service(&key) else {
                continue;
            };
            let vsn = key_name(&key);
            for (d, sorry) in &want {
                let what = if *sorry { "sorry server" } else { "service" };
                let rsn = self.dest_name(d);
                match ipvs
                    .find_dest(svc, d.addr, d.port)
                    .and_then(|id| ipvs.dest(id))
                {
                    None => {
                        if ipvs.add_dest(&key, d).is_ok() {
                            log.push(format!("Adding {what} {rsn} to VS {vsn}"));
                        }
                    }
                    Some(cur) if cur.weight != d.weight => {
                        let old = cur.weight;
                        if ipvs.edit_dest(&key, d).is_ok() {
                            log.push(if d.weight == 0 {
                                format!("Disabling service {rsn} from VS {vsn}")
                            } else if old == 0 {
                                format!("Enabling service {rsn} to VS {vsn}")
                            } else {
                                format!("Changing weight of {rsn} in VS {vsn} to {}", d.weight)
                            });
                        }
                    }
                    Some(_) => {}
                }
            }
            for (addr, port) in &managed {
                let wanted = want.iter().any(|(d, _)| d.addr == *addr && d.port == *port);
                if !wanted && ipvs.find_dest(svc, *addr, *port).is_some() {
                    let is_sorry = self
                        .sorry
                        .is_some_and(|s| s.addr == *addr && s.port == *port);
                    if ipvs.del_dest(&key, *addr, *port).is_ok() {
                        let what = if is_sorry { "sorry server" } else { "service" };
                        log.push(format!(
                            "Removing {what} [{addr}]:{}:{port} from VS {vsn}",
                            self.pname()
                        ));
                    }
                }
            }
        }
        log
    }

    fn pname(&self) -> &'static str {
        match self.specs.first().map(|s| s.key) {
            Some(ServiceKey::Addr { proto, .. }) => proto_name(proto),
            _ => "tcp",
        }
    }

    fn dest_name(&self, d: &DestSpec) -> String {
        format!("[{}]:{}:{}", d.addr, self.pname(), d.port)
    }
}

/// What keepalived would configure from `cfg` alone (no checker has run yet):
/// the IPVS table it builds at start-up, as `ipvsadm -Ln` prints it.
#[must_use]
pub fn initial_ipvs(cfg: &KeepalivedConfig) -> (Ipvs, Vec<String>) {
    let mut ipvs = Ipvs::new();
    let mut checkers = Vec::new();
    let mut log = Vec::new();
    for (i, vs) in cfg.virtual_servers.iter().enumerate() {
        let Some(mut rt) = VsRt::build(cfg, vs, i, &mut checkers) else {
            log.push(format!(
                "virtual_server at line {}: IPv6 is not modelled in the lab",
                vs.loc.line
            ));
            continue;
        };
        log.extend(start_vs(&mut rt, &mut ipvs, &checkers));
    }
    (ipvs, log)
}

/// Adds a virtual server's services and its initial destinations.
pub fn start_vs(rt: &mut VsRt, ipvs: &mut Ipvs, checkers: &[CheckerRt]) -> Vec<String> {
    let mut log = Vec::new();
    for s in &rt.specs {
        match ipvs.add_service(s) {
            Ok(_) => {}
            Err(e) => log.push(format!(
                "Failed to add virtual server {}: {e}",
                key_name(&s.key)
            )),
        }
    }
    rt.quorum_up = true;
    if let Some(l) = rt.update_quorum(checkers) {
        log.push(l);
    }
    log.extend(rt.sync(ipvs, checkers));
    log
}

/// Removes a virtual server's services (keepalived's shutdown).
pub fn stop_vs(rt: &VsRt, ipvs: &mut Ipvs) -> Vec<String> {
    let mut log = Vec::new();
    for s in &rt.specs {
        if ipvs.del_service(&s.key).is_ok() {
            log.push(format!("Removing Virtual Server {}", key_name(&s.key)));
        }
    }
    log
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs(quorum: u32, hysteresis: u32, n: usize) -> (VsRt, Vec<CheckerRt>) {
        let mut checkers = Vec::new();
        let mut rs = Vec::new();
        for i in 0..n {
            let addr = Ipv4Addr::new(10, 0, 0, u8::try_from(i + 1).unwrap_or(1));
            checkers.push(CheckerRt {
                vs: 0,
                rs: i,
                kind: CheckerKind::Tcp,
                timing: Timing {
                    delay_loop: SimDuration::from_secs(1),
                    connect_timeout: SimDuration::from_secs(1),
                    retry: 0,
                    delay_before_retry: SimDuration::from_secs(1),
                },
                warmup: SimDuration::ZERO,
                st: CheckState::new(false),
                epoch: 0,
                pending: false,
                target: (addr, 80),
                urls: vec![],
                url_idx: 0,
                vhost: None,
                misc: None,
                misc_dynamic: false,
                sock: None,
            });
            rs.push(RsRt {
                name: format!("[{addr}]:tcp:80"),
                spec: DestSpec::new(addr, 80, FwdMethod::Route),
                checkers: vec![i],
                inhibit: false,
                dyn_weight: None,
            });
        }
        let key = ServiceKey::Addr {
            proto: Protocol::Tcp,
            addr: Ipv4Addr::new(10, 0, 1, 1),
            port: 80,
        };
        let v = VsRt {
            name: key_name(&key),
            specs: vec![ServiceSpec::new(key, "rr")],
            rs,
            quorum,
            hysteresis,
            quorum_up: true,
            sorry: None,
        };
        (v, checkers)
    }

    #[test]
    fn hysteresis_damps_quorum_flaps() {
        // quorum 7, hysteresis 2, ten servers: lost below 5, regained at 9.
        let (mut v, mut c) = vs(7, 2, 10);
        let alive = |c: &mut [CheckerRt], n: usize| {
            for (i, x) in c.iter_mut().enumerate() {
                x.st.up = i < n;
            }
        };
        for (n, up) in [
            (6, true),
            (5, true),
            (4, false),
            (7, false),
            (8, false),
            (9, true),
            (5, true),
        ] {
            alive(&mut c, n);
            v.update_quorum(&c);
            assert_eq!(v.quorum_up, up, "with {n} alive");
        }
    }
}
