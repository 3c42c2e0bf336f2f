//! The IPVS control plane of one host (`ip_vs_ctl.c`): services, their
//! destination lists in kernel order, the dest trash, FULLNAT local address
//! pools, timeouts and sysctls.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;

use super::conn::ConnTable;
use super::dest::{Dest, DestId, TunCfg};
use super::sched::{self, DestChange, DestInfo, SchedFlags, Scheduler};
use super::stats::Stats;
use super::sysctl::{Timeouts, VsSysctls};
use super::types::{FwdMethod, ServiceKey};
use crate::time::{NS_PER_S, SimTime};

/// Index of a service in the service slab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SvcId(pub u32);

/// What `ipvsadm -A/-E` (or keepalived) asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Identity.
    pub key: ServiceKey,
    /// Scheduler name.
    pub sched: String,
    /// `-b` flags.
    pub flags: SchedFlags,
    /// `-p` timeout in seconds.
    pub persistent: Option<u32>,
    /// `-M` (255.255.255.255 by default).
    pub netmask: Ipv4Addr,
    /// `-o`.
    pub ops: bool,
    /// `--pe` (accepted, no behaviour: simplification).
    pub pe: Option<String>,
}

impl DestSpec {
    /// A dest with weight 1, no thresholds.
    #[must_use]
    pub fn new(addr: Ipv4Addr, port: u16, fwd: FwdMethod) -> DestSpec {
        DestSpec {
            addr,
            port,
            fwd,
            tun: TunCfg::default(),
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
        }
    }
}

impl ServiceSpec {
    /// A service with `sched`, no persistence.
    #[must_use]
    pub fn new(key: ServiceKey, sched: &str) -> ServiceSpec {
        ServiceSpec {
            key,
            sched: sched.to_string(),
            flags: SchedFlags::default(),
            persistent: None,
            netmask: Ipv4Addr::BROADCAST,
            ops: false,
            pe: None,
        }
    }
}

/// What `ipvsadm -a/-e` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DestSpec {
    /// Real server address.
    pub addr: Ipv4Addr,
    /// Real server port.
    pub port: u16,
    /// Forwarding method.
    pub fwd: FwdMethod,
    /// Tunnel settings (`-i` only).
    pub tun: TunCfg,
    /// Weight.
    pub weight: u32,
    /// `-x`.
    pub u_threshold: u32,
    /// `-y`.
    pub l_threshold: u32,
}

/// A virtual service.
#[derive(Debug)]
pub struct Service {
    /// Identity.
    pub key: ServiceKey,
    /// The bound scheduler.
    pub sched: Box<dyn Scheduler>,
    /// `-b` flags.
    pub flags: SchedFlags,
    /// Persistence timeout in seconds.
    pub persistent: Option<u32>,
    /// Persistence netmask.
    pub netmask: Ipv4Addr,
    /// One-packet scheduling.
    pub ops: bool,
    /// Persistence engine name.
    pub pe: Option<String>,
    /// Destinations in kernel list order (newest first).
    pub dests: Vec<DestId>,
    /// Counters.
    pub stats: Stats,
    /// FULLNAT local addresses in the order added.
    pub laddrs: Vec<Ipv4Addr>,
    pub(crate) laddr_next: usize,
    pub(crate) lport_next: Vec<u16>,
    pub(crate) seq: u64,
}

/// Control-plane failures, displayed with libipvs's `ipvs_strerror` texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpvsError {
    /// EEXIST on add-service.
    ServiceExists,
    /// ESRCH on edit/delete/zero/get service.
    NoSuchService,
    /// ENOENT on add/edit service.
    SchedulerNotFound,
    /// ESRCH on dest commands.
    ServiceNotDefined,
    /// EEXIST on add-dest.
    DestExists,
    /// ENOENT on edit/delete dest.
    NoSuchDest,
    /// ERANGE (lower threshold above upper threshold).
    Range,
    /// EINVAL.
    Invalid,
    /// FULLNAT: the local address is already in the pool.
    LaddrExists,
    /// FULLNAT: no such local address.
    NoSuchLaddr,
    /// Sync daemon already running.
    DaemonRunning,
    /// No sync daemon running.
    NoDaemon,
}

impl fmt::Display for IpvsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IpvsError::ServiceExists => "Service already exists",
            IpvsError::NoSuchService => "No such service",
            IpvsError::SchedulerNotFound => "Scheduler or persistence engine not found",
            IpvsError::ServiceNotDefined => "Service not defined",
            IpvsError::DestExists => "Destination already exists",
            IpvsError::NoSuchDest => "No such destination",
            IpvsError::Range => "Numerical result out of range",
            IpvsError::Invalid => {
                "Invalid operation.  Possibly wrong module version, address not unicast, ..."
            }
            IpvsError::LaddrExists => "Local address already exists",
            IpvsError::NoSuchLaddr => "No such local address",
            IpvsError::DaemonRunning => "Daemon has already run",
            IpvsError::NoDaemon => "No daemon is running",
        })
    }
}

/// A connection sync daemon as recorded by `--start-daemon` (nothing syncs
/// in the lab; the record only feeds `ipvsadm -L --daemon`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncDaemon {
    /// `true` = master, `false` = backup.
    pub master: bool,
    /// `--mcast-interface`.
    pub ifname: String,
    /// `--syncid`.
    pub syncid: u32,
    /// `--sync-maxlen` (0 = the kernel's default).
    pub sync_maxlen: u16,
    /// `--mcast-group` (`None` = 224.0.0.81).
    pub mcast_group: Option<Ipv4Addr>,
    /// `--mcast-port` (0 = 8848).
    pub mcast_port: u16,
    /// `--mcast-ttl` (0 = 1).
    pub mcast_ttl: u8,
}

/// IPVS on one host.
#[derive(Debug)]
pub struct Ipvs {
    pub(crate) svcs: Vec<Option<Service>>,
    pub(crate) dests: Vec<Option<Dest>>,
    dest_free: Vec<u32>,
    /// Deleted dests still referenced by entries.
    pub(crate) trash: Vec<DestId>,
    next_uid: u64,
    svc_seq: u64,
    pub(crate) conns: ConnTable,
    /// `/proc/sys/net/ipv4/vs/*`.
    pub sysctls: VsSysctls,
    /// Protocol timeouts (`--set`).
    pub timeouts: Timeouts,
    /// Totals (`/proc/net/ip_vs_stats`).
    pub total: Stats,
    pub(crate) local: BTreeSet<Ipv4Addr>,
    pub(crate) next_tick: SimTime,
    pub(crate) now: SimTime,
    pub(crate) scratch: Vec<DestInfo>,
    /// Sync daemons (`--start-daemon`), master first.
    pub daemons: Vec<SyncDaemon>,
    /// Fill [`super::Decision`]s (scheduler name, `explain()` text, dest
    /// snapshot) for new connections; the world turns this off when no
    /// trace is kept, as nobody would read them.
    pub explain: bool,
}

impl Default for Ipvs {
    fn default() -> Self {
        Ipvs::new()
    }
}

impl Ipvs {
    /// An empty table at time zero.
    #[must_use]
    pub fn new() -> Ipvs {
        Ipvs {
            svcs: Vec::new(),
            dests: Vec::new(),
            dest_free: Vec::new(),
            trash: Vec::new(),
            next_uid: 1,
            svc_seq: 0,
            conns: ConnTable::default(),
            sysctls: VsSysctls::default(),
            timeouts: Timeouts::default(),
            total: Stats::default(),
            local: BTreeSet::new(),
            next_tick: SimTime(2 * NS_PER_S),
            now: SimTime::ZERO,
            scratch: Vec::new(),
            daemons: Vec::new(),
            explain: true,
        }
    }

    /// The addresses of this host (a dest on one of them becomes `Local`).
    pub fn set_local_addrs(&mut self, addrs: &[Ipv4Addr]) {
        self.local = addrs.iter().copied().collect();
    }

    /// The connection table.
    #[must_use]
    pub fn conns(&self) -> &ConnTable {
        &self.conns
    }

    /// Live services in creation order.
    pub fn services(&self) -> impl Iterator<Item = (SvcId, &Service)> {
        let mut v: Vec<(SvcId, &Service)> = self
            .svcs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (SvcId(idx32(i)), s)))
            .collect();
        v.sort_by_key(|(_, s)| s.seq);
        v.into_iter()
    }

    /// The service `id`.
    #[must_use]
    pub fn service(&self, id: SvcId) -> Option<&Service> {
        self.svcs.get(id.0 as usize).and_then(Option::as_ref)
    }

    pub(crate) fn service_mut(&mut self, id: SvcId) -> Option<&mut Service> {
        self.svcs.get_mut(id.0 as usize).and_then(Option::as_mut)
    }

    /// The dest `id` (live or in the trash).
    #[must_use]
    pub fn dest(&self, id: DestId) -> Option<&Dest> {
        self.dests.get(id.0 as usize).and_then(Option::as_ref)
    }

    pub(crate) fn dest_mut(&mut self, id: DestId) -> Option<&mut Dest> {
        self.dests.get_mut(id.0 as usize).and_then(Option::as_mut)
    }

    /// Finds a service by key.
    #[must_use]
    pub fn find_service(&self, key: &ServiceKey) -> Option<SvcId> {
        self.svcs
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s.key == *key))
            .map(|i| SvcId(idx32(i)))
    }

    /// Dests of `svc` in kernel list order.
    pub fn service_dests(&self, svc: SvcId) -> impl Iterator<Item = &Dest> {
        self.service(svc)
            .map(|s| s.dests.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|d| self.dest(*d))
    }

    pub(crate) fn fill_scratch(&mut self, svc: SvcId) {
        let mut v = std::mem::take(&mut self.scratch);
        v.clear();
        if let Some(s) = self.service(svc) {
            v.extend(s.dests.iter().filter_map(|d| self.dest(*d)).map(Dest::info));
        }
        self.scratch = v;
    }

    fn sched_update(&mut self, svc: SvcId, change: DestChange) {
        self.fill_scratch(svc);
        let infos = std::mem::take(&mut self.scratch);
        if let Some(s) = self.service_mut(svc) {
            s.sched.update(&infos, change);
        }
        self.scratch = infos;
    }

    /// `-A`.
    ///
    /// # Errors
    /// `ServiceExists`, `SchedulerNotFound`.
    pub fn add_service(&mut self, spec: &ServiceSpec) -> Result<SvcId, IpvsError> {
        if self.find_service(&spec.key).is_some() {
            return Err(IpvsError::ServiceExists);
        }
        if spec.pe.as_deref().is_some_and(|p| p != "sip") {
            return Err(IpvsError::SchedulerNotFound);
        }
        let sched =
            sched::create(&spec.sched, spec.flags, &[]).ok_or(IpvsError::SchedulerNotFound)?;
        self.svc_seq += 1;
        let s = Service {
            key: spec.key,
            sched,
            flags: spec.flags,
            persistent: spec.persistent,
            netmask: spec.netmask,
            ops: spec.ops,
            pe: spec.pe.clone(),
            dests: Vec::new(),
            stats: Stats::default(),
            laddrs: Vec::new(),
            laddr_next: 0,
            lport_next: Vec::new(),
            seq: self.svc_seq,
        };
        let i = match self.svcs.iter().position(Option::is_none) {
            Some(i) => {
                self.svcs[i] = Some(s);
                i
            }
            None => {
                self.svcs.push(Some(s));
                self.svcs.len() - 1
            }
        };
        Ok(SvcId(idx32(i)))
    }

    /// `-E`: every field is replaced (ipvsadm sends the whole structure, so
    /// an omitted `-s` means wlc and an omitted `-p` removes persistence).
    ///
    /// # Errors
    /// `NoSuchService`, `SchedulerNotFound`.
    pub fn edit_service(&mut self, spec: &ServiceSpec) -> Result<(), IpvsError> {
        let id = self
            .find_service(&spec.key)
            .ok_or(IpvsError::NoSuchService)?;
        if spec.pe.as_deref().is_some_and(|p| p != "sip") {
            return Err(IpvsError::SchedulerNotFound);
        }
        let same = self
            .service(id)
            .is_some_and(|s| s.sched.name() == spec.sched);
        let new_sched = if same {
            None
        } else {
            self.fill_scratch(id);
            Some(
                sched::create(&spec.sched, spec.flags, &self.scratch)
                    .ok_or(IpvsError::SchedulerNotFound)?,
            )
        };
        let s = self.service_mut(id).ok_or(IpvsError::NoSuchService)?;
        match new_sched {
            Some(n) => s.sched = n,
            None => s.sched.set_flags(spec.flags),
        }
        s.flags = spec.flags;
        s.persistent = spec.persistent;
        s.netmask = spec.netmask;
        s.ops = spec.ops;
        s.pe.clone_from(&spec.pe);
        Ok(())
    }

    /// `-D`.
    ///
    /// # Errors
    /// `NoSuchService`.
    pub fn del_service(&mut self, key: &ServiceKey) -> Result<(), IpvsError> {
        let id = self.find_service(key).ok_or(IpvsError::NoSuchService)?;
        let dests = self
            .service(id)
            .map(|s| s.dests.clone())
            .unwrap_or_default();
        for d in dests {
            self.unlink_dest(d);
        }
        self.svcs[id.0 as usize] = None;
        Ok(())
    }

    /// `-C`.
    pub fn flush(&mut self) {
        let keys: Vec<ServiceKey> = self.services().map(|(_, s)| s.key).collect();
        for k in keys {
            let _ = self.del_service(&k);
        }
    }

    /// `-Z` for one service (`Some`) or everything (`None`).
    ///
    /// # Errors
    /// `NoSuchService`.
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), IpvsError> {
        let ids: Vec<SvcId> = match key {
            Some(k) => vec![self.find_service(k).ok_or(IpvsError::NoSuchService)?],
            None => {
                self.total.zero();
                self.services().map(|(i, _)| i).collect()
            }
        };
        for id in ids {
            let dests = self
                .service(id)
                .map(|s| s.dests.clone())
                .unwrap_or_default();
            for d in dests {
                if let Some(d) = self.dest_mut(d) {
                    d.stats.zero();
                }
            }
            if let Some(s) = self.service_mut(id) {
                s.stats.zero();
            }
        }
        Ok(())
    }

    fn effective_fwd(&self, spec: &DestSpec) -> FwdMethod {
        if spec.fwd != FwdMethod::FullNat && self.local.contains(&spec.addr) {
            FwdMethod::Local
        } else {
            spec.fwd
        }
    }

    /// `-a`: the new dest goes to the head of the list (or comes back from
    /// the trash with its counters).
    ///
    /// # Errors
    /// `ServiceNotDefined`, `DestExists`, `Range`, `Invalid` (not a unicast
    /// address).
    pub fn add_dest(&mut self, key: &ServiceKey, spec: &DestSpec) -> Result<DestId, IpvsError> {
        let svc = self.find_service(key).ok_or(IpvsError::ServiceNotDefined)?;
        if spec.l_threshold > spec.u_threshold {
            return Err(IpvsError::Range);
        }
        if self.find_dest(svc, spec.addr, spec.port).is_some() {
            return Err(IpvsError::DestExists);
        }
        let fwd = self.effective_fwd(spec);
        let trashed = self.trash.iter().position(|t| {
            self.dest(*t)
                .is_some_and(|d| d.svc_key == *key && d.addr == spec.addr && d.port == spec.port)
        });
        // ip_vs_new_dest: `inet_addr_type` must be RTN_LOCAL or RTN_UNICAST
        // (0.0.0.0/8 and 255.255.255.255 are RTN_BROADCAST, 224/4 multicast).
        let a = spec.addr;
        if trashed.is_none() && (a.octets()[0] == 0 || a.is_broadcast() || a.is_multicast()) {
            return Err(IpvsError::Invalid);
        }
        let uid = self.next_uid;
        self.next_uid += 1;
        let seq = self.service(svc).map_or(0, |s| s.seq);
        let id = if let Some(pos) = trashed {
            let id = self.trash.remove(pos);
            if let Some(d) = self.dest_mut(id) {
                d.available = true;
                d.uid = uid;
                d.svc = Some(svc);
                // Back into a re-created service (keepalived restarting
                // deletes and re-adds it): the kernel zeroes the counters
                // (like `-Z`: to their value at the last estimator tick).
                if d.svc_seq != seq {
                    d.stats.zero();
                    d.svc_seq = seq;
                }
            }
            id
        } else {
            let d = Dest {
                uid,
                svc_key: *key,
                svc: Some(svc),
                svc_seq: seq,
                addr: spec.addr,
                port: spec.port,
                fwd,
                fwd_requested: spec.fwd,
                tun: spec.tun,
                weight: 0,
                last_weight: 0,
                u_threshold: 0,
                l_threshold: 0,
                overloaded: false,
                available: true,
                activeconns: 0,
                inactconns: 0,
                persistconns: 0,
                stats: Stats::default(),
            };
            match self.dest_free.pop() {
                Some(i) => {
                    self.dests[i as usize] = Some(d);
                    DestId(i)
                }
                None => {
                    self.dests.push(Some(d));
                    DestId(idx32(self.dests.len() - 1))
                }
            }
        };
        self.update_dest(id, spec, fwd, true);
        if let Some(s) = self.service_mut(svc) {
            s.dests.insert(0, id);
        }
        self.sched_update(svc, DestChange::Added { id: uid });
        Ok(id)
    }

    /// `__ip_vs_update_dest`.
    fn update_dest(&mut self, id: DestId, spec: &DestSpec, fwd: FwdMethod, add: bool) {
        if let Some(d) = self.dest_mut(id) {
            d.fwd = fwd;
            d.fwd_requested = spec.fwd;
            d.tun = spec.tun;
            d.weight = spec.weight;
            // "keep the last_weight with latest non-0 weight"
            if add || spec.weight > 0 {
                d.last_weight = spec.weight;
            }
            d.available = true;
            if spec.u_threshold == 0 || spec.u_threshold > d.u_threshold {
                d.overloaded = false;
            }
            d.u_threshold = spec.u_threshold;
            d.l_threshold = spec.l_threshold;
        }
    }

    /// `-e`: position kept; every field replaced.
    ///
    /// # Errors
    /// `ServiceNotDefined`, `NoSuchDest`, `Range`.
    pub fn edit_dest(&mut self, key: &ServiceKey, spec: &DestSpec) -> Result<(), IpvsError> {
        let svc = self.find_service(key).ok_or(IpvsError::ServiceNotDefined)?;
        if spec.l_threshold > spec.u_threshold {
            return Err(IpvsError::Range);
        }
        let id = self
            .find_dest(svc, spec.addr, spec.port)
            .ok_or(IpvsError::NoSuchDest)?;
        let fwd = self.effective_fwd(spec);
        self.update_dest(id, spec, fwd, false);
        let uid = self.dest(id).map_or(0, |d| d.uid);
        self.sched_update(svc, DestChange::Edited { id: uid });
        Ok(())
    }

    /// `-d`.
    ///
    /// # Errors
    /// `ServiceNotDefined`, `NoSuchDest`.
    pub fn del_dest(
        &mut self,
        key: &ServiceKey,
        addr: Ipv4Addr,
        port: u16,
    ) -> Result<(), IpvsError> {
        let svc = self.find_service(key).ok_or(IpvsError::ServiceNotDefined)?;
        let id = self
            .find_dest(svc, addr, port)
            .ok_or(IpvsError::NoSuchDest)?;
        self.unlink_dest(id);
        Ok(())
    }

    /// Takes `id` out of its service's list, tells the scheduler, and frees
    /// it or moves it to the trash.
    fn unlink_dest(&mut self, id: DestId) {
        let Some(key) = self.dest(id).map(|d| d.svc_key) else {
            return;
        };
        if let Some(svc) = self.find_service(&key) {
            let index = self
                .service(svc)
                .and_then(|s| s.dests.iter().position(|d| *d == id));
            if let Some(index) = index {
                if let Some(s) = self.service_mut(svc) {
                    s.dests.remove(index);
                }
                let uid = self.dest(id).map_or(0, |d| d.uid);
                self.sched_update(svc, DestChange::Deleted { id: uid, index });
            }
        }
        let refs = match self.dest_mut(id) {
            Some(d) => {
                d.available = false;
                d.svc = None;
                d.refs()
            }
            None => return,
        };
        if refs == 0 {
            self.free_dest(id);
        } else {
            self.trash.push(id);
            if self.sysctls.expire_nodest_conn != 0 {
                self.expire_nodest_flush();
            }
        }
    }

    pub(crate) fn free_dest(&mut self, id: DestId) {
        if let Some(slot) = self.dests.get_mut(id.0 as usize)
            && slot.take().is_some()
        {
            self.dest_free.push(id.0);
        }
        self.trash.retain(|t| *t != id);
    }

    /// The dest `addr:port` of `svc`.
    #[must_use]
    pub fn find_dest(&self, svc: SvcId, addr: Ipv4Addr, port: u16) -> Option<DestId> {
        self.service(svc)?.dests.iter().copied().find(|d| {
            self.dest(*d)
                .is_some_and(|d| d.addr == addr && d.port == port)
        })
    }

    /// Dests in the trash.
    #[must_use]
    pub fn trash(&self) -> &[DestId] {
        &self.trash
    }

    /// FULLNAT `-P`: adds a local address to the service's pool.
    ///
    /// # Errors
    /// `ServiceNotDefined`, `LaddrExists`.
    pub fn add_laddr(&mut self, key: &ServiceKey, laddr: Ipv4Addr) -> Result<(), IpvsError> {
        let svc = self.find_service(key).ok_or(IpvsError::ServiceNotDefined)?;
        let s = self.service_mut(svc).ok_or(IpvsError::ServiceNotDefined)?;
        if s.laddrs.contains(&laddr) {
            return Err(IpvsError::LaddrExists);
        }
        s.laddrs.push(laddr);
        s.lport_next.push(1024);
        Ok(())
    }

    /// FULLNAT `-Q`.
    ///
    /// # Errors
    /// `ServiceNotDefined`, `NoSuchLaddr`.
    pub fn del_laddr(&mut self, key: &ServiceKey, laddr: Ipv4Addr) -> Result<(), IpvsError> {
        let svc = self.find_service(key).ok_or(IpvsError::ServiceNotDefined)?;
        let s = self.service_mut(svc).ok_or(IpvsError::ServiceNotDefined)?;
        let i = s
            .laddrs
            .iter()
            .position(|l| *l == laddr)
            .ok_or(IpvsError::NoSuchLaddr)?;
        s.laddrs.remove(i);
        s.lport_next.remove(i);
        if s.laddr_next >= s.laddrs.len() {
            s.laddr_next = 0;
        }
        Ok(())
    }

    /// `--start-daemon`.
    ///
    /// # Errors
    /// `DaemonRunning`.
    /// The defaults of `start_sync_thread` are filled in: group 224.0.0.81,
    /// port 8848, TTL 1, and the message size from a 1500-byte MTU less the
    /// IP and UDP headers (1472), or the asked size clamped to
    /// `[1 (master) | 1024 (backup), 65507]`.
    pub fn start_daemon(&mut self, mut d: SyncDaemon) -> Result<(), IpvsError> {
        if self.daemons.iter().any(|x| x.master == d.master) {
            return Err(IpvsError::DaemonRunning);
        }
        const HLEN: u16 = 20 + 8;
        d.mcast_group.get_or_insert(Ipv4Addr::new(224, 0, 0, 81));
        if d.mcast_port == 0 {
            d.mcast_port = 8848;
        }
        if d.mcast_ttl == 0 {
            d.mcast_ttl = 1;
        }
        let min = if d.master { 1 } else { 1024 };
        d.sync_maxlen = if d.sync_maxlen == 0 {
            1500 - HLEN
        } else {
            d.sync_maxlen.clamp(min, u16::MAX - HLEN)
        };
        self.daemons.push(d);
        self.daemons.sort_by_key(|d| !d.master);
        Ok(())
    }

    /// `--stop-daemon`.
    ///
    /// # Errors
    /// `NoDaemon`.
    pub fn stop_daemon(&mut self, master: bool) -> Result<(), IpvsError> {
        let i = self
            .daemons
            .iter()
            .position(|x| x.master == master)
            .ok_or(IpvsError::NoDaemon)?;
        self.daemons.remove(i);
        Ok(())
    }

    /// The current virtual time as last seen by [`Ipvs::advance`].
    #[must_use]
    pub fn now(&self) -> SimTime {
        self.now
    }
}

pub(crate) fn idx32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}
