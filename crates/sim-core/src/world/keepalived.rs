//! Glue between the host stack and keepalived: starting and stopping the
//! daemon (`systemctl … keepalived`, `keepalived`), VRRP adverts in and out,
//! VIPs and gratuitous ARPs, timers, link changes and power-off. The
//! checkers' side is in `keepalived/checks.rs`.
//!
//! keepalived's log lines go to the trace as [`TraceKind::Keepalived`],
//! prefixed `Keepalived_vrrp:` or `Keepalived_healthcheckers:` as syslog
//! shows them (without the pid).

use std::net::Ipv4Addr;

use super::{Event, World};
use crate::host::netfilter::{Hook, Verdict};
use crate::host::{HostId, IfAddr};
use crate::keepalived::Timer;
use crate::keepalived::conf;
use crate::keepalived::daemon::{self, Daemon, Instance, Transition, VsRt};
use crate::keepalived::vrrp::{Out, State, Vrrp};
use crate::packet::{IpPayload, Ipv4Packet, VrrpAdvert};
use crate::shell::CmdOutput;
use crate::time::SimDuration;
use crate::trace::TraceKind;

mod checks;
mod cmd;
mod view;

pub use cmd::{keepalived_cmd, keepalived_systemctl, read_conf};
pub use view::VrrpView;

/// Where keepalived reads its configuration.
pub const CONF: &str = "/etc/keepalived/keepalived.conf";
/// The VRRP multicast group.
pub const VRRP_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
const VERSION: &str = "Keepalived v2.2.8 (lab model)";

impl World {
    /// A keepalived log line on `h` from the VRRP (`vrrp = true`) or checker process.
    pub(crate) fn ka_log(&mut self, h: HostId, vrrp: bool, text: &str) {
        let who = if vrrp {
            "Keepalived_vrrp"
        } else {
            "Keepalived_healthcheckers"
        };
        self.ka_log_as(h, who, text);
    }

    /// A log line of keepalived's parent process.
    fn ka_log_main(&mut self, h: HostId, text: &str) {
        self.ka_log_as(h, "Keepalived", text);
    }

    fn ka_log_as(&mut self, h: HostId, who: &str, text: &str) {
        self.tr(
            h,
            false,
            TraceKind::Keepalived {
                text: format!("{who}: {text}"),
            },
        );
    }

    pub(crate) fn ka_event(&mut self, h: HostId, text: String) {
        let now = self.now;
        self.hosts[h].keepalived.events.push((now, text));
    }

    pub(crate) fn ka_push(&mut self, h: HostId, at: crate::time::SimTime, timer: Timer) {
        let generation = self.hosts[h].keepalived.generation;
        self.queue.push(
            at,
            Event::Keepalived {
                host: h,
                generation,
                timer,
            },
        );
    }

    /// Starts keepalived on `h` from `file`.
    fn keepalived_start(&mut self, h: HostId, file: &str) -> CmdOutput {
        if self.hosts[h].keepalived.running.is_some() {
            return CmdOutput::ok();
        }
        let Some(parsed) = read_conf(self, h, file) else {
            self.ka_log_main(
                h,
                &format!("Configuration file '{file}' is not a regular file or does not exist"),
            );
            return CmdOutput::fail(
                1,
                "Job for keepalived.service failed because the control process exited with error code.\nSee \"systemctl status keepalived.service\" and \"journalctl -xe\" for details.",
            );
        };
        self.ka_log_main(h, &format!("Starting {VERSION}"));
        self.ka_log_main(h, &format!("Opening file '{file}'."));
        for d in &parsed.diagnostics {
            let line = d.to_string().replace('\n', " ");
            self.ka_log_main(h, &line);
        }
        let cfg = parsed.config;
        let name = self.hosts[h].name.clone();
        let k = &mut self.hosts[h].keepalived;
        k.generation += 1;
        let rng = crate::rng::stream(self.seed, &format!("keepalived/{name}/{}", k.generation));
        let mut d = Daemon {
            config: cfg.clone(),
            instances: Vec::new(),
            vs: Vec::new(),
            checkers: Vec::new(),
            rng,
        };
        let mut log = Vec::new();
        self.ipvs_sync_local(h);
        if cfg.global_defs.lvs_flush {
            self.hosts[h].ipvs.flush();
            log.push("Flushing LVS table (lvs_flush)".to_string());
        }
        for vs in &cfg.virtual_servers {
            match VsRt::build(&cfg, vs, d.vs.len(), &mut d.checkers) {
                Some(mut rt) => {
                    log.extend(daemon::start_vs(
                        &mut rt,
                        &mut self.hosts[h].ipvs,
                        &d.checkers,
                    ));
                    d.vs.push(rt);
                }
                None => log.push(format!(
                    "virtual_server at {}:{}: IPv6 virtual servers are not modelled in the lab",
                    vs.loc.file, vs.loc.line
                )),
            }
        }
        for l in log {
            self.ka_log(h, false, &l);
        }
        let mut vlog = Vec::new();
        for i in &cfg.vrrp_instances {
            if let Some(inst) = self.ka_instance(h, &cfg, i, &mut vlog) {
                d.instances.push(inst);
            }
        }
        daemon::link_sync_groups(&cfg, &mut d.instances);
        let n_inst = d.instances.len();
        let n_check = d.checkers.len();
        self.hosts[h].keepalived.running = Some(d);
        for l in vlog {
            self.ka_log(h, true, &l);
        }
        for k in 0..n_inst {
            self.retrack(h, k);
            let now = self.now;
            let Some(inst) = self.inst_mut(h, k) else {
                continue;
            };
            let outs = inst.vrrp.start(now);
            self.apply(h, k, outs);
            self.retrack(h, k);
        }
        for c in 0..n_check {
            self.check_schedule_first(h, c);
        }
        CmdOutput::ok()
    }

    /// A VRRP instance of the configuration bound to `h`'s interfaces
    /// (`None`, with a log line in `vlog`, when keepalived would skip it).
    fn ka_instance(
        &self,
        h: HostId,
        cfg: &conf::KeepalivedConfig,
        i: &conf::VrrpInstance,
        vlog: &mut Vec<String>,
    ) -> Option<Instance> {
        let host = &self.hosts[h];
        let Some(ifname) = i.interface.clone() else {
            vlog.push(format!("({}) no interface: instance ignored", i.name));
            return None;
        };
        let Some(iface) = host.iface_by_name(&ifname) else {
            vlog.push(format!("({}) interface {ifname} doesn't exist", i.name));
            return None;
        };
        let src = i.unicast_src_ip.or(i.mcast_src_ip).and_then(|a| match a {
            std::net::IpAddr::V4(x) => Some(x),
            std::net::IpAddr::V6(_) => None,
        });
        let first = host.ifaces[iface].addrs.first().map(|a| a.addr);
        let Some(primary) = src.or(first) else {
            vlog.push(format!("({}) no IPv4 address on {ifname}", i.name));
            return None;
        };
        let vips = i
            .virtual_ipaddress
            .iter()
            .filter_map(|e| match e.address {
                std::net::IpAddr::V4(a) => Some((
                    a,
                    e.prefix,
                    e.label
                        .clone()
                        .or_else(|| e.dev.clone())
                        .unwrap_or_else(|| ifname.clone()),
                )),
                std::net::IpAddr::V6(_) => None,
            })
            .collect();
        let vrrp = Vrrp::new(daemon::vrrp_params(cfg, i), primary);
        let peers = i
            .unicast_peer
            .iter()
            .filter_map(|a| match a {
                std::net::IpAddr::V4(x) => Some(*x),
                std::net::IpAddr::V6(_) => None,
            })
            .collect();
        let mut tracked = Vec::new();
        for t in &i.tracking {
            if t.kind != conf::TrackKind::Interface {
                vlog.push(format!(
                    "({}) tracking {} is not run in the lab (priority unchanged)",
                    i.name, t.name
                ));
                continue;
            }
            match host.iface_by_name(&t.name) {
                Some(x) => tracked.push((x, t.weight)),
                None => vlog.push(format!(
                    "({}) tracked interface {} doesn't exist",
                    i.name, t.name
                )),
            }
        }
        let base_priority = vrrp.p.priority;
        Some(Instance {
            vrrp,
            iface,
            vips,
            peers,
            master_term: 0,
            tracked,
            base_priority,
            sync: None,
        })
    }

    /// Stops keepalived on `h` as SIGTERM does.
    fn keepalived_stop(&mut self, h: HostId) {
        if self.hosts[h].keepalived.running.is_none() {
            return;
        }
        self.ka_log_main(h, "Stopping");
        self.checks_abort(h);
        let n = self.hosts[h]
            .keepalived
            .running
            .as_ref()
            .map_or(0, |d| d.instances.len());
        for k in 0..n {
            let outs = self.inst_mut(h, k).map(|i| i.vrrp.stop());
            self.apply(h, k, outs.unwrap_or_default());
        }
        let Some(d) = self.hosts[h].keepalived.running.take() else {
            return;
        };
        let mut log = Vec::new();
        for vs in &d.vs {
            log.extend(daemon::stop_vs(vs, &mut self.hosts[h].ipvs));
        }
        self.hosts[h].keepalived.generation += 1;
        for l in log {
            self.ka_log(h, false, &l);
        }
        self.ka_log_main(h, &format!("Stopped {VERSION}"));
    }

    pub(crate) fn inst_mut(&mut self, h: HostId, k: usize) -> Option<&mut Instance> {
        self.hosts[h]
            .keepalived
            .running
            .as_mut()?
            .instances
            .get_mut(k)
    }

    /// Carries out a VRRP instance's effects.
    fn apply(&mut self, h: HostId, k: usize, outs: Vec<Out>) {
        let Some(inst) = self.inst_mut(h, k) else {
            return;
        };
        let name = inst.vrrp.p.name.clone();
        let vips = inst.vips.clone();
        for o in outs {
            match o {
                Out::Advert(prio) => self.vrrp_send(h, k, prio),
                Out::AddVips => {
                    for (a, prefix, label) in &vips {
                        let ifa = IfAddr {
                            addr: *a,
                            prefix: *prefix,
                            brd: None,
                            label: label.clone(),
                            host_scope: false,
                        };
                        if self.addr_add(h, label, ifa).is_ok() {
                            let t = self.now;
                            self.hosts[h].keepalived.vip_log.push((t, *a, true));
                            self.ka_event(h, format!("{name}: VIP {a}/{prefix} added on {label}"));
                        }
                    }
                }
                Out::DelVips => {
                    for (a, prefix, label) in &vips {
                        let dev = label.split(':').next().unwrap_or(label);
                        if self.addr_del(h, dev, *a, Some(*prefix)).is_ok() {
                            let t = self.now;
                            self.hosts[h].keepalived.vip_log.push((t, *a, false));
                            self.ka_event(
                                h,
                                format!("{name}: VIP {a}/{prefix} removed from {dev}"),
                            );
                        }
                    }
                }
                Out::Garp { n, later } => {
                    self.garp_burst(h, k, n);
                    if later != SimDuration::ZERO && n > 0 {
                        let at = self.now + later;
                        self.ka_push(h, at, Timer::Garp { inst: k, n });
                    }
                }
                Out::Arm { at, epoch } => self.ka_push(h, at, Timer::Vrrp { inst: k, epoch }),
                Out::Transition { from, to, why } => {
                    if to == State::Master {
                        self.schedule_garp_refresh(h, k);
                    }
                    let t = self.now;
                    self.hosts[h].keepalived.transitions.push(Transition {
                        t,
                        instance: name.clone(),
                        from,
                        to,
                        why,
                    });
                    self.notify_note(h, &name, to);
                    self.sync_group_follow(h, k, to);
                }
                Out::Log(text) => self.ka_log(h, true, &format!("({name}) {text}")),
            }
        }
    }

    /// keepalived would run the instance's notify scripts now; the lab names them.
    fn notify_note(&mut self, h: HostId, name: &str, to: State) {
        let Some(i) = self.hosts[h]
            .keepalived
            .running
            .as_ref()
            .and_then(|d| d.config.vrrp_instances.iter().find(|i| i.name == name))
        else {
            return;
        };
        let specific = match to {
            State::Master => i.notify_master.as_ref().map(|s| ("notify_master", s)),
            State::Backup => i.notify_backup.as_ref().map(|s| ("notify_backup", s)),
            State::Fault => i.notify_fault.as_ref().map(|s| ("notify_fault", s)),
            State::Init => i.notify_stop.as_ref().map(|s| ("notify_stop", s)),
        };
        let scripts: Vec<String> = specific
            .into_iter()
            .map(|(k, s)| format!("{k} '{s}'"))
            .chain(
                i.notify
                    .as_ref()
                    .map(|s| format!("notify '{s} INSTANCE {name} {}'", to.name())),
            )
            .collect();
        for sc in scripts {
            self.ka_log(h, true, &format!("({name}) {sc} is not run in the lab"));
        }
    }

    /// The other members of instance `k`'s sync group follow it to `to`.
    fn sync_group_follow(&mut self, h: HostId, k: usize, to: State) {
        let Some((group, others)) = self.inst_mut(h, k).and_then(|i| i.sync.clone()) else {
            return;
        };
        let now = self.now;
        for o in others {
            let outs = self
                .inst_mut(h, o)
                .filter(|i| i.vrrp.state != to)
                .map(|i| i.vrrp.follow(now, to, &group))
                .unwrap_or_default();
            self.apply(h, o, outs);
        }
    }

    /// A new MASTER term: arm `garp_master_refresh` if configured.
    fn schedule_garp_refresh(&mut self, h: HostId, k: usize) {
        let Some(inst) = self.inst_mut(h, k) else {
            return;
        };
        inst.master_term += 1;
        let term = inst.master_term;
        self.schedule_garp_refresh_term(h, k, term);
    }

    fn schedule_garp_refresh_term(&mut self, h: HostId, k: usize, term: u64) {
        let Some(inst) = self.inst_mut(h, k) else {
            return;
        };
        let period = inst.vrrp.p.garp_refresh.0;
        if period != SimDuration::ZERO {
            let at = self.now + period;
            self.ka_push(h, at, Timer::GarpRefresh { inst: k, term });
        }
    }

    fn garp_burst(&mut self, h: HostId, k: usize, n: u32) {
        let Some(inst) = self.inst_mut(h, k) else {
            return;
        };
        let name = inst.vrrp.p.name.clone();
        let vips = inst.vips.clone();
        for (a, _, label) in &vips {
            let dev = label.split(':').next().unwrap_or(label).to_string();
            let Some(i) = self.hosts[h].iface_by_name(&dev) else {
                continue;
            };
            self.ka_log(
                h,
                true,
                &format!("({name}) Sending/queueing gratuitous ARPs on {dev} for {a}"),
            );
            for _ in 0..n {
                self.ka_log(h, true, &format!("Sending gratuitous ARP on {dev} for {a}"));
                self.send_garp(h, i, *a);
            }
            self.ka_event(h, format!("{name}: {n} gratuitous ARPs for {a} on {dev}"));
        }
    }

    /// Sends an advert of instance `k` with `prio`: to 224.0.0.18 out of
    /// its interface (TTL 255), or to each `unicast_peer` through the
    /// routing table.
    fn vrrp_send(&mut self, h: HostId, k: usize, prio: u8) {
        let Some(inst) = self.inst_mut(h, k) else {
            return;
        };
        let adv: VrrpAdvert = inst.vrrp.advert(prio);
        let (iface, src, peers) = (inst.iface, inst.vrrp.primary, inst.peers.clone());
        if !self.hosts[h].ifaces[iface].up {
            return;
        }
        let make = |dst: Ipv4Addr| {
            let mut p = Ipv4Packet::new(src, dst, IpPayload::Vrrp(adv.clone()));
            p.ttl = 255;
            p.tos = 0xc0;
            p
        };
        if !peers.is_empty() {
            for peer in peers {
                self.ip_output(h, make(peer));
            }
            return;
        }
        let mut p = make(VRRP_GROUP);
        p.id = self.hosts[h].next_ip_id();
        let mut mark = 0;
        match self.nf_hook(h, Hook::Output, &p, None, Some(iface), &mut mark) {
            Verdict::Accept => self.ip_postrouting(h, iface, VRRP_GROUP, p, mark),
            v => self.drop_pkt(h, &format!("iptables OUTPUT {} {p}", v.name())),
        }
    }

    /// A VRRP advertisement arrived.
    pub(crate) fn vrrp_rcv(
        &mut self,
        h: HostId,
        iface: usize,
        src: Ipv4Addr,
        ttl: u8,
        v: VrrpAdvert,
    ) {
        let Some(d) = self.hosts[h].keepalived.running.as_ref() else {
            return;
        };
        let Some(k) = d
            .instances
            .iter()
            .position(|i| i.iface == iface && i.vrrp.p.vrid == v.vrid)
        else {
            return;
        };
        let inst = &d.instances[k];
        if let Some(why) = inst.vrrp.check(ttl, &v) {
            let name = inst.vrrp.p.name.clone();
            self.ka_log(
                h,
                true,
                &format!("({name}) {why} (advert from {src} dropped)"),
            );
            return;
        }
        let now = self.now;
        let outs = self
            .inst_mut(h, k)
            .map(|i| i.vrrp.receive(now, src, &v))
            .unwrap_or_default();
        self.apply(h, k, outs);
    }

    /// A keepalived timer fired.
    pub(crate) fn keepalived_timer(&mut self, h: HostId, generation: u64, timer: Timer) {
        let k = &self.hosts[h].keepalived;
        if !self.hosts[h].powered || k.generation != generation || k.running.is_none() {
            return;
        }
        let now = self.now;
        match timer {
            Timer::Vrrp { inst, epoch } => {
                let outs = self
                    .inst_mut(h, inst)
                    .map(|i| i.vrrp.timer(now, epoch))
                    .unwrap_or_default();
                self.apply(h, inst, outs);
            }
            Timer::Garp { inst, n } => {
                if self
                    .inst_mut(h, inst)
                    .is_some_and(|i| i.vrrp.state == State::Master)
                {
                    self.garp_burst(h, inst, n);
                }
            }
            Timer::GarpRefresh { inst, term } => {
                let current = self
                    .inst_mut(h, inst)
                    .is_some_and(|i| i.vrrp.state == State::Master && i.master_term == term);
                if current {
                    let n = self
                        .inst_mut(h, inst)
                        .map_or(1, |i| i.vrrp.p.garp_refresh.1);
                    self.garp_burst(h, inst, n);
                    self.schedule_garp_refresh_term(h, inst, term);
                }
            }
            Timer::Check { checker } => self.check_attempt(h, checker),
            Timer::CheckTimeout { checker, epoch } => self.check_timeout(h, checker, epoch),
        }
    }

    /// An interface changed state (`ip link set DEV up|down`): instances on
    /// it go to FAULT or back to BACKUP.
    pub(crate) fn keepalived_link_changed(&mut self, h: HostId, iface: usize, up: bool) {
        let n = self.hosts[h]
            .keepalived
            .running
            .as_ref()
            .map_or(0, |d| d.instances.len());
        let dev = self.hosts[h].ifaces[iface].name.clone();
        for k in 0..n {
            let concerned = self
                .inst_mut(h, k)
                .is_some_and(|i| i.iface == iface || i.tracked.iter().any(|t| t.0 == iface));
            if concerned {
                let st = if up { "up" } else { "down" };
                self.ka_log(h, true, &format!("Netlink reports {dev} {st}"));
                self.retrack(h, k);
            }
        }
    }

    /// Re-evaluates instance `k`'s interfaces: FAULT or not, effective priority.
    fn retrack(&mut self, h: HostId, k: usize) {
        let host = &self.hosts[h];
        let Some(inst) = host
            .keepalived
            .running
            .as_ref()
            .and_then(|d| d.instances.get(k))
        else {
            return;
        };
        let (fault, prio) = inst.tracking(|i| host.ifaces[i].up);
        let now = self.now;
        let Some(inst) = self.inst_mut(h, k) else {
            return;
        };
        let old = inst.vrrp.p.priority;
        inst.vrrp.p.priority = prio;
        let state = inst.vrrp.state;
        let outs = if fault && !matches!(state, State::Fault | State::Init) {
            inst.vrrp.link_down()
        } else if !fault && state == State::Fault {
            inst.vrrp.link_up(now)
        } else {
            Vec::new()
        };
        let name = inst.vrrp.p.name.clone();
        if old != prio {
            let text = format!("({name}) Changing effective priority from {old} to {prio}");
            self.ka_log(h, true, &text);
        }
        self.apply(h, k, outs);
    }

    /// The host lost power: keepalived dies without a word.
    pub(crate) fn keepalived_power_off(&mut self, h: HostId) {
        let t = self.now;
        let k = &mut self.hosts[h].keepalived;
        let Some(d) = k.running.take() else { return };
        k.generation += 1;
        for i in &d.instances {
            if i.vrrp.state == State::Master {
                for (a, _, _) in &i.vips {
                    k.vip_log.push((t, *a, false));
                }
            }
            if i.vrrp.state != State::Init {
                k.transitions.push(Transition {
                    t,
                    instance: i.vrrp.p.name.clone(),
                    from: i.vrrp.state,
                    to: State::Init,
                    why: "host powered off (no priority-0 advert)".into(),
                });
            }
        }
    }
}
