//! The data plane (`ip_vs_core.c`): scheduling the first packet of a flow,
//! following entries, state transitions, statistics, expiry and the rate
//! estimator.
//!
//! Simplifications: SCTP entries have a single state (shown `ESTABLISHED`,
//! TCP ESTABLISHED timeout, counted inactive like UDP); ICMP is not a
//! [`PacketMeta`] protocol, so the `ip_vs_leave` ICMP case (drop) belongs to
//! the caller; a `cache_bypass` verdict creates no bypass entry.

use std::net::Ipv4Addr;

use super::Protocol;
use super::conn::tcp::{self, Dir};
use super::conn::{Conn, ConnId, ConnState, TcpState};
use super::dest::DestId;
use super::sched::SchedInput;
use super::table::{Ipvs, SvcId};
use super::types::{
    Decision, FwdMethod, InVerdict, OutVerdict, PacketMeta, ServiceKey, TemplateUse,
};
use crate::rng::SimRng;
use crate::time::{NS_PER_S, SimDuration, SimTime};

const FTPPORT: u16 = 21;
const FTPDATA: u16 = 20;
const TICK: SimDuration = SimDuration(2 * NS_PER_S);

fn secs(s: u32) -> SimDuration {
    SimDuration::from_secs(u64::from(s))
}

/// Everything needed to create one entry.
struct NewConn {
    proto: Protocol,
    caddr: Ipv4Addr,
    cport: u16,
    vaddr: Ipv4Addr,
    vport: u16,
    dport: u16,
    template: bool,
    fwmark_tmpl: bool,
}

impl Ipvs {
    /// Runs every timer and estimator tick due at or before `now`.
    ///
    /// Time never goes backwards: an earlier `now` is ignored. Estimator
    /// ticks happen at every multiple of 2 s; a packet counted at exactly a
    /// tick instant is counted after that tick.
    pub fn advance(&mut self, now: SimTime) {
        if now < self.now {
            return;
        }
        self.now = now;
        while let Some((t, id)) = self.conns.due(now) {
            self.expire(id, t);
        }
        while self.next_tick <= now {
            if self.stats_idle() {
                // Nothing would change: jump to the first tick after `now`.
                let n = (now.0 - self.next_tick.0) / TICK.0 + 1;
                self.next_tick = SimTime(self.next_tick.0 + n * TICK.0);
                break;
            }
            self.est_tick();
            self.next_tick += TICK;
        }
    }

    /// The earliest connection timer (the engine may schedule a wake-up
    /// then; estimator ticks need no wake-up, they are computed lazily).
    #[must_use]
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.conns.next_deadline()
    }

    fn stats_idle(&self) -> bool {
        self.total.idle()
            && self.svcs.iter().flatten().all(|s| s.stats.idle())
            && self
                .dests
                .iter()
                .flatten()
                .all(|d| !d.available || d.stats.idle())
    }

    fn est_tick(&mut self) {
        self.total.tick();
        for s in self.svcs.iter_mut().flatten() {
            s.stats.tick();
        }
        for d in self.dests.iter_mut().flatten() {
            if d.available {
                d.stats.tick();
            }
        }
    }

    /// The timer of `id` fired at `at` (`ip_vs_conn_expire`).
    fn expire(&mut self, id: ConnId, at: SimTime) {
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        if c.n_control > 0 {
            // Still controls live entries: try again in 60 s (and the
            // template keeps this 60 s timeout for later restarts).
            c.timeout_s = 60;
            self.conns.rearm(id, at + secs(60));
            return;
        }
        self.free_conn(id);
    }

    /// Unlinks and unbinds `id` now (`ip_vs_conn_expire` after its timer
    /// fired). The controlling template only loses one `n_control`: the
    /// kernel drops a non-ASSURED template early only when the connection
    /// was *deleted* with `timeout = 0` (`ip_vs_conn_del`: flush, drop_entry
    /// defense), never on expiry, so the template lives out its own timer.
    pub(super) fn free_conn(&mut self, id: ConnId) {
        let Some(c) = self.conns.remove(id) else {
            return;
        };
        if let Some(ct) = c.control
            && let Some(t) = self.conns.get_mut(ct)
        {
            t.n_control = t.n_control.saturating_sub(1);
        }
        if let Some(did) = c.dest {
            let gone = match self.dest_mut(did) {
                Some(d) => {
                    d.unbind(c.template, c.inactive);
                    !d.available && d.refs() == 0
                }
                None => false,
            };
            if gone {
                self.free_dest(did);
            }
        }
    }

    /// `ip_vs_expire_nodest_conn_flush` (kernels >= 5.9), queued by
    /// `__ip_vs_del_dest` when `expire_nodest_conn=1`: every entry bound to
    /// a dest that is gone is deleted, and so is its template once it
    /// controls nothing more (ASSURED or not). The kernel runs it one jiffy
    /// after the deletion; the lab runs it at once.
    pub(super) fn expire_nodest_flush(&mut self) {
        for id in self.conns.ids() {
            let Some(c) = self.conns.get(id) else {
                continue;
            };
            let gone = c
                .dest
                .and_then(|d| self.dest(d))
                .is_some_and(|d| !d.available);
            if !gone || c.n_control > 0 {
                continue;
            }
            let ct = c.control;
            self.free_conn(id);
            if let Some(ct) = ct
                && self.conns.get(ct).is_some_and(|t| t.n_control == 0)
            {
                self.free_conn(ct);
            }
        }
    }

    /// Finds the service for a packet (`ip_vs_service_find`): fwmark first,
    /// then proto/addr/port, then an FTP service for data ports, then the
    /// port-0 service.
    fn lookup_service(&self, m: &PacketMeta) -> Option<SvcId> {
        if m.fwmark != 0
            && let Some(s) = self.find_service(&ServiceKey::Fwmark(m.fwmark))
        {
            return Some(s);
        }
        let k = |port| ServiceKey::Addr {
            proto: m.proto,
            addr: m.daddr,
            port,
        };
        if let Some(s) = self.find_service(&k(m.dport)) {
            return Some(s);
        }
        if m.proto == Protocol::Tcp
            && (m.dport == 20 || m.dport >= 1024)
            && let Some(s) = self.find_service(&k(FTPPORT))
        {
            return Some(s);
        }
        self.find_service(&k(0))
    }

    /// `LOCAL_IN` priority 99 (`ip_vs_in_hook`) for a packet addressed to
    /// this host.
    pub fn in_packet(&mut self, now: SimTime, m: &PacketMeta, rng: &mut SimRng) -> InVerdict {
        self.advance(now);
        let key = m.key();
        let mut cp = self
            .conns
            .lookup_in(&key)
            .filter(|id| self.conns.get(*id).is_some_and(|c| !c.template));
        let is_syn = m.proto == Protocol::Tcp && m.flags.syn;
        if let Some(id) = cp
            && is_syn
            && self.sysctls.conn_reuse_mode != 0
        {
            let (resched, n_control) = match self.conns.get(id) {
                Some(c) => {
                    let w0 = c
                        .dest
                        .and_then(|d| self.dest(d))
                        .is_some_and(|d| d.weight == 0);
                    let r =
                        (self.sysctls.expire_nodest_conn != 0 && w0) || self.new_conn_expected(c);
                    (r, c.n_control)
                }
                None => (false, 0),
            };
            if resched {
                if n_control == 0 {
                    self.free_conn(id);
                }
                cp = None;
            }
        }
        let mut decision = None;
        let id = if let Some(id) = cp {
            id
        } else {
            let Some(svc) = self.lookup_service(m) else {
                return InVerdict::NotService;
            };
            if m.proto == Protocol::Tcp
                && (m.flags.rst || !(m.flags.syn || self.sysctls.sloppy_tcp != 0))
            {
                return InVerdict::LocalStack {
                    reason: "TCP segment without SYN and no connection entry → local stack \
                             (answers RST)"
                        .into(),
                };
            }
            match self.schedule(now, svc, m, rng) {
                Ok((id, d)) => {
                    decision = Some(d);
                    id
                }
                Err(v) => return v,
            }
        };
        let Some(c) = self.conns.get(id) else {
            return InVerdict::Drop {
                reason: "entry vanished".into(),
            };
        };
        let dest = c.dest;
        let available = dest.and_then(|d| self.dest(d)).is_some_and(|d| d.available);
        if !available {
            if self.sysctls.expire_nodest_conn != 0 {
                let n_control = c.n_control;
                self.free_conn(id);
                if n_control == 0 {
                    // The entry is gone: the packet is looked at again as new.
                    return self.in_packet(now, m, rng);
                }
            }
            return InVerdict::Drop {
                reason: "dest unavailable → drop (expire_nodest_conn=0)".into(),
            };
        }
        self.count(id, m.len, true);
        self.set_state(id, false, m);
        let Some(c) = self.conns.get_mut(id) else {
            return InVerdict::Drop {
                reason: "entry vanished".into(),
            };
        };
        c.in_pkts += 1;
        let (method, daddr, dport, laddr, lport, to, ops) = (
            c.fwd,
            c.daddr,
            c.dport,
            c.laddr,
            c.lport,
            c.timeout_s,
            c.ops,
        );
        self.conns.rearm(id, now + secs(to));
        if ops {
            self.free_conn(id);
        }
        InVerdict::Forward {
            conn: id,
            method,
            daddr,
            dport,
            new_saddr: laddr,
            new_sport: laddr.map(|_| lport),
            decision,
        }
    }

    /// Whether nothing can match: no service and no connection entry (the
    /// hooks then pass every packet through untouched).
    #[must_use]
    pub fn is_idle(&self) -> bool {
        self.conns.is_empty() && self.svcs.iter().all(Option::is_none)
    }

    /// What [`Ipvs::out_packet`] would answer, without counting or state
    /// changes (the LOCAL_IN priority-98 test for replies to a local address).
    #[must_use]
    pub fn peek_out(&self, m: &PacketMeta) -> OutVerdict {
        let key = m.key();
        match self
            .conns
            .lookup_out(&key)
            .and_then(|id| Some((id, self.conns.get(id)?)))
        {
            Some((conn, c)) => OutVerdict::Rewrite {
                conn,
                saddr: c.vaddr,
                sport: c.vport,
                daddr: c.caddr,
                dport: c.cport,
            },
            None => OutVerdict::NotOurs,
        }
    }

    /// `FORWARD` priority 100 (`ip_vs_out_hook`) for a reply real server →
    /// client of a NAT or FULLNAT entry.
    pub fn out_packet(&mut self, now: SimTime, m: &PacketMeta) -> OutVerdict {
        self.advance(now);
        let key = m.key();
        let Some(id) = self.conns.lookup_out(&key) else {
            return OutVerdict::NotOurs;
        };
        self.count(id, m.len, false);
        self.set_state(id, true, m);
        let Some(c) = self.conns.get(id) else {
            return OutVerdict::NotOurs;
        };
        let v = OutVerdict::Rewrite {
            conn: id,
            saddr: c.vaddr,
            sport: c.vport,
            daddr: c.caddr,
            dport: c.cport,
        };
        let to = c.timeout_s;
        self.conns.rearm(id, now + secs(to));
        v
    }

    /// `is_new_conn_expected`.
    fn new_conn_expected(&self, c: &Conn) -> bool {
        if c.control.is_some() {
            return false;
        }
        match c.state {
            ConnState::Tcp(s) => {
                s == TcpState::TimeWait
                    || s == TcpState::Close
                    || (self.sysctls.conn_reuse_mode & 2 != 0
                        && s == TcpState::FinWait
                        && c.nooutput)
            }
            _ => false,
        }
    }

    /// Packet counters on the entry's dest, its service and the totals
    /// (only while the dest is available, as `ip_vs_in_stats`).
    fn count(&mut self, id: ConnId, len: u32, inbound: bool) {
        let Some(did) = self.conns.get(id).and_then(|c| c.dest) else {
            return;
        };
        let Some(d) = self.dest_mut(did) else {
            return;
        };
        if !d.available {
            return;
        }
        let svc = d.svc;
        let add = |s: &mut super::stats::Stats| {
            if inbound {
                s.add_in(len)
            } else {
                s.add_out(len)
            }
        };
        add(&mut d.stats);
        if let Some(s) = svc.and_then(|s| self.service_mut(s)) {
            add(&mut s.stats);
        }
        add(&mut self.total);
    }

    /// The protocol state machine for one packet.
    fn set_state(&mut self, id: ConnId, output: bool, m: &PacketMeta) {
        let tcp_to = self.timeouts.tcp;
        let udp_to = self.timeouts.udp;
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        let mut assure = false;
        let mut flip: Option<bool> = None;
        match c.state {
            ConnState::Tcp(cur) => {
                let dir = Dir::of(&mut c.nooutput, output);
                let new = tcp::next(dir, cur, m.flags);
                if new != cur {
                    // `tcp_state_active` (kernel >= 4.10): SYN_SENT,
                    // SYN_RECV, SYNACK and ESTABLISHED count as active.
                    let active = tcp::is_active(new);
                    if c.dest.is_some() && c.inactive == active {
                        c.inactive = !active;
                        flip = Some(active);
                    }
                    assure = new == TcpState::Established;
                }
                c.state = ConnState::Tcp(new);
                c.timeout_s = tcp_to[new as usize];
            }
            ConnState::Udp => {
                c.timeout_s = udp_to;
                assure = output;
            }
            ConnState::Sctp => {
                c.timeout_s = tcp_to[TcpState::Established as usize];
            }
        }
        let (ct, dest) = (c.control, c.dest);
        if let (Some(a), Some(d)) = (flip, dest)
            && let Some(d) = self.dest_mut(d)
        {
            d.set_active(a);
        }
        if assure
            && let Some(ct) = ct
            && let Some(t) = self.conns.get_mut(ct)
            && t.template
        {
            t.assured = true;
        }
    }

    /// Creates and binds an entry to `did` (timer: 3 s, state NONE).
    fn new_conn(
        &mut self,
        now: SimTime,
        svc: SvcId,
        did: DestId,
        n: &NewConn,
    ) -> Result<ConnId, InVerdict> {
        let (fwd, daddr) = match self.dest(did) {
            Some(d) => (d.fwd, d.addr),
            None => {
                return Err(InVerdict::Drop {
                    reason: "dest vanished".into(),
                });
            }
        };
        let mut c = Conn::new(
            n.proto, n.caddr, n.cport, n.vaddr, n.vport, daddr, n.dport, fwd,
        );
        c.template = n.template;
        c.fwmark_tmpl = n.fwmark_tmpl;
        c.dest = Some(did);
        c.svc = Some(svc);
        c.expires = now + secs(3);
        if !n.template {
            c.ops = n.proto == Protocol::Udp && self.service(svc).is_some_and(|s| s.ops);
            if fwd == FwdMethod::FullNat {
                let Some((l, p)) = self.alloc_lport(svc, n.proto, daddr, n.dport) else {
                    return Err(InVerdict::Drop {
                        reason: "FULLNAT: no free local address/port (add one with \
                                 ipvsadm -P -t VIP:port -z LIP)"
                            .into(),
                    });
                };
                c.laddr = Some(l);
                c.lport = p;
            }
        }
        if let Some(d) = self.dest_mut(did) {
            d.bind(n.template, true);
        }
        Ok(self.conns.insert(c))
    }

    /// FULLNAT: the next (LIP, lport), round robin over the pool, ports
    /// counting up from 1024 and skipping ones in use towards this RS.
    fn alloc_lport(
        &mut self,
        svc: SvcId,
        proto: Protocol,
        daddr: Ipv4Addr,
        dport: u16,
    ) -> Option<(Ipv4Addr, u16)> {
        let conns = &self.conns;
        let s = self.svcs.get_mut(svc.0 as usize)?.as_mut()?;
        let n = s.laddrs.len();
        for k in 0..n {
            let li = (s.laddr_next + k) % n;
            let lip = s.laddrs[li];
            let mut port = s.lport_next[li];
            for _ in 0..(65536 - 1024) {
                let cand = port;
                port = if port == u16::MAX { 1024 } else { port + 1 };
                let key = (
                    proto.number(),
                    u32::from(daddr),
                    dport,
                    u32::from(lip),
                    cand,
                );
                if conns.lookup_out(&key).is_none() {
                    s.laddr_next = (li + 1) % n;
                    s.lport_next[li] = port;
                    return Some((lip, cand));
                }
            }
        }
        None
    }

    fn conn_stats(&mut self, did: DestId, svc: SvcId) {
        if let Some(d) = self.dest_mut(did) {
            d.stats.add_conn();
        }
        if let Some(s) = self.service_mut(svc) {
            s.stats.add_conn();
        }
        self.total.add_conn();
    }

    /// `ip_vs_schedule` / `ip_vs_sched_persist`.
    fn schedule(
        &mut self,
        now: SimTime,
        svc: SvcId,
        m: &PacketMeta,
        rng: &mut SimRng,
    ) -> Result<(ConnId, Decision), InVerdict> {
        let Some(s) = self.service(svc) else {
            return Err(InVerdict::NotService);
        };
        let (skey, persistent, netmask) = (s.key, s.persistent, s.netmask);
        let mut decision = if self.explain {
            Decision {
                scheduler: s.sched.name().to_string(),
                explain: String::new(),
                template: None,
                dests: self
                    .service_dests(svc)
                    .map(super::dest::Dest::snapshot)
                    .collect(),
            }
        } else {
            Decision {
                scheduler: String::new(),
                explain: String::new(),
                template: None,
                dests: Vec::new(),
            }
        };
        let input = SchedInput {
            proto: m.proto,
            saddr: m.saddr,
            sport: m.sport,
            daddr: m.daddr,
            dport: m.dport,
            now,
            explain: self.explain,
        };
        let svc_port = skey.port();
        if m.sport == FTPDATA {
            // `ip_vs_schedule`: never schedule active FTP data (*ignored = 1).
            return Err(InVerdict::LocalStack {
                reason: "source port 20 (FTP data) is never scheduled → local stack".into(),
            });
        }
        let Some(ptimeout) = persistent else {
            if !matches!(skey, ServiceKey::Fwmark(_)) && m.dport != svc_port {
                // A port-0 or FTP (data port) service found for a packet to
                // another port: only persistent services schedule these.
                return Err(self.leave(svc, &input));
            }
            let did = self.run_scheduler(svc, &input, rng, &mut decision)?;
            let dport = match self.dest(did) {
                Some(d) if d.port != 0 => d.port,
                _ => m.dport,
            };
            let nc = NewConn {
                proto: m.proto,
                caddr: m.saddr,
                cport: m.sport,
                vaddr: m.daddr,
                vport: m.dport,
                dport,
                template: false,
                fwmark_tmpl: false,
            };
            let id = self.new_conn(now, svc, did, &nc)?;
            self.conn_stats(did, svc);
            return Ok((id, decision));
        };
        // Persistence template key.
        let snet = Ipv4Addr::from(u32::from(m.saddr) & u32::from(netmask));
        let (tvaddr, tvport, fwmark_tmpl) = if m.dport == svc_port {
            (
                m.daddr,
                if svc_port == FTPPORT { 0 } else { m.dport },
                false,
            )
        } else if let ServiceKey::Fwmark(f) = skey {
            (Ipv4Addr::from(f), 0, true)
        } else {
            (m.daddr, 0, false)
        };
        let tproto = if fwmark_tmpl { 0 } else { m.proto.number() };
        let tkey = (tproto, u32::from(snet), 0, u32::from(tvaddr), tvport);
        let found = self
            .conns
            .lookup_in(&tkey)
            .filter(|id| self.conns.get(*id).is_some_and(|c| c.template));
        let valid = found.and_then(|ct| {
            let did = self.conns.get(ct)?.dest?;
            let d = self.dest(did)?;
            let quiesced = self.sysctls.expire_quiescent_template != 0 && d.weight == 0;
            (d.available && !quiesced).then_some((ct, did))
        });
        let (ct, did) = if let Some((ct, did)) = valid {
            decision.template = Some(TemplateUse::Hit { template: ct });
            if self.explain {
                decision.explain = "persistence template hit (scheduler not consulted)".to_string();
            }
            (ct, did)
        } else {
            if let Some(old) = found {
                // Invalidate: unhash, ports to 0xffff, client port 0.
                self.conns.unhash_in(old);
                if let Some(c) = self.conns.get_mut(old) {
                    c.vport = 0xffff;
                    c.dport = 0xffff;
                    c.cport = 0;
                }
            }
            let did = self.run_scheduler(svc, &input, rng, &mut decision)?;
            let tdport = if m.dport == svc_port && svc_port != FTPPORT {
                self.dest(did).map_or(0, |d| d.port)
            } else {
                0
            };
            let nc = NewConn {
                proto: m.proto,
                caddr: snet,
                cport: 0,
                vaddr: tvaddr,
                vport: tvport,
                dport: tdport,
                template: true,
                fwmark_tmpl,
            };
            let ct = self.new_conn(now, svc, did, &nc)?;
            if let Some(c) = self.conns.get_mut(ct) {
                c.timeout_s = ptimeout;
            }
            decision.template = Some(if found.is_some() {
                TemplateUse::Invalidated { template: ct }
            } else {
                TemplateUse::Created { template: ct }
            });
            (ct, did)
        };
        let dport = match self.dest(did) {
            Some(d) if m.dport == svc_port && d.port != 0 => d.port,
            _ => m.dport,
        };
        let nc = NewConn {
            proto: m.proto,
            caddr: m.saddr,
            cport: m.sport,
            vaddr: m.daddr,
            vport: m.dport,
            dport,
            template: false,
            fwmark_tmpl: false,
        };
        let id = self.new_conn(now, svc, did, &nc)?;
        if let Some(c) = self.conns.get_mut(id) {
            c.control = Some(ct);
        }
        let tto = match self.conns.get_mut(ct) {
            Some(t) => {
                t.n_control += 1;
                t.timeout_s
            }
            None => 0,
        };
        self.conns.rearm(ct, now + secs(tto));
        self.conn_stats(did, svc);
        Ok((id, decision))
    }

    /// Asks the service's scheduler; `Err` is `ip_vs_leave`'s verdict.
    fn run_scheduler(
        &mut self,
        svc: SvcId,
        input: &SchedInput,
        rng: &mut SimRng,
        decision: &mut Decision,
    ) -> Result<DestId, InVerdict> {
        self.fill_scratch(svc);
        let infos = std::mem::take(&mut self.scratch);
        let explain = self.explain;
        let picked = self
            .svcs
            .get_mut(svc.0 as usize)
            .and_then(Option::as_mut)
            .and_then(|s| {
                let i = s.sched.schedule(&infos, input, rng);
                if explain {
                    decision.explain = s.sched.explain();
                }
                i.and_then(|i| s.dests.get(i).copied())
            });
        self.scratch = infos;
        match picked {
            Some(d) => Ok(d),
            None => Err(self.leave(svc, input)),
        }
    }

    /// `ip_vs_leave`: what happens when no destination is available.
    fn leave(&self, svc: SvcId, input: &SchedInput) -> InVerdict {
        let Some(s) = self.service(svc) else {
            return InVerdict::NotService;
        };
        let what = match s.key {
            ServiceKey::Addr { proto, addr, port } => format!("{proto} {addr}:{port}"),
            ServiceKey::Fwmark(f) => format!("fwm {f}"),
        };
        let base = format!(
            "IPVS: {}: {what} - no destination available",
            s.sched.name()
        );
        if matches!(s.key, ServiceKey::Fwmark(_))
            && self.sysctls.cache_bypass != 0
            && !self.local.contains(&input.daddr)
            && !input.daddr.is_multicast()
            && !input.daddr.is_broadcast()
        {
            return InVerdict::Bypass {
                reason: format!("{base}; cache_bypass=1 → routed to the original destination"),
            };
        }
        if s.key.port() == FTPPORT && input.dport != FTPPORT {
            return InVerdict::LocalStack {
                reason: format!("{base}; FTP service and dport ≠ 21 → accepted locally"),
            };
        }
        InVerdict::NoDestination {
            reason: format!("{base} → ICMP port unreachable"),
        }
    }
}
