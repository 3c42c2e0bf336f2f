//! Flow fidelity: one arrival and one completion event per connection, no
//! packets, for runs of tens of millions of requests.
//!
//! ```text
//!  workloads ──arrival──► director ──────────────► real server model ──completion──► metrics
//!  (Poisson,              capacity queue            workers + FIFO queue             histograms,
//!   closed loop,          IPVS scheduler +          (crate::server_model)            time series
//!   curl loop)            connection entries
//!                         (flow::director)
//! ```
//!
//! What one connection is, at this fidelity:
//!
//! - **Arrival** (the client's SYN): the director's inbound capacity queue
//!   takes the connection's client→server packets; IPVS schedules the SYN on
//!   the director's own table and scheduler (the same [`crate::ipvs::Ipvs`]
//!   the `ipvsadm` setup commands built); the ACK that completes the
//!   handshake follows at the same instant (no round trips: there is no
//!   network latency at this fidelity), so the entry is ESTABLISHED and
//!   counted in ActiveConn while the request is in the real server.
//!   For NAT the SYN-ACK passes the director too.
//! - **Completion** (last byte of the response): for NAT the response goes
//!   back through the director's capacity queue; then the close the
//!   director sees is fed: client FIN, (NAT: server ACK and FIN), client ACK.
//!   The entry goes to FIN_WAIT (DR/TUN, input-only table) or TIME_WAIT
//!   (NAT), counted in InActConn until its kernel timeout (120 s by default).
//! - A request refused by a full queue is reset by the server after the
//!   handshake (NAT: the director sees the RST → CLOSE; DR: it does not,
//!   and the entry stays ESTABLISHED until its 900 s timeout, as on a real
//!   DR director). A server that is down never answers: the entry stays in
//!   SYN_RECV for 60 s (counted active, as `tcp_state_active` does since
//!   Linux 4.10). A client that gives up (`max_time`) resets.
//!
//! The response time of a request is completion − arrival, plus the
//! director's queueing delays in both directions.
//!
//! Events are kept in a `(time, seq)` queue (the engine's
//! [`crate::engine::SmallQueue`], a binary heap of 16-byte keys: only
//! requests in service and timers wait in it; a request's completion or
//! timeout is its slot number, and is stale once the request no longer
//! records that event's sequence number), except each open-loop source's
//! next arrival, held beside it (one push and pop fewer per request); at
//! equal times the queue's events run first. Model events
//! counted for speed are the popped ones (arrivals, completions, and the
//! rarer timeouts and outages). Memory does not grow with the number of
//! requests: only in-flight requests have a slot; latency statistics are
//! streaming histograms; closed entries on the fast path are 8 bytes each
//! until they expire.

use std::net::Ipv4Addr;

use crate::engine::SmallQueue;
use crate::ipvs::{Ipvs, Protocol, ServiceKey, SvcId};
use crate::metrics::{Outcomes, RunMetrics};
use crate::rng::{self, SimRng};
use crate::server_model::{Admit, ServerModel, ServerSpec};
use crate::time::SimTime;
use crate::workload::{Arrivals, ClientPool, Workload};

pub mod director;
mod handlers;
mod record;
pub mod spec;

pub use director::{ConnRef, Path, Steps, Tuple, Way};
use record::Recorder;

/// When the client's kernel gives up a connect without any answer
/// (`tcp_syn_retries = 6`: 1+2+4+8+16+32+64 s).
pub const CONNECT_TIMEOUT_NS: u64 = 127_000_000_000;

/// Director forwarding capacity.
#[derive(Clone, Debug, PartialEq)]
pub struct DirectorCapacity {
    /// Packets per second it can forward (`None`: unlimited).
    pub pps: Option<f64>,
    /// Bits per second (`None`: unlimited).
    pub bps: Option<f64>,
    /// Longest queueing delay before it drops (its backlog), ns.
    pub max_delay_ns: u64,
}

impl Default for DirectorCapacity {
    fn default() -> Self {
        DirectorCapacity {
            pps: None,
            bps: None,
            max_delay_ns: 10_000_000,
        }
    }
}

/// Which director path to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PathChoice {
    /// Fast when it can model the service, else ipvs.
    #[default]
    Auto,
    /// Always the IPVS table.
    Ipvs,
    /// Always the fast path (error if it cannot model the service).
    Fast,
}

/// Everything a flow run needs besides the director's IPVS table.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowConfig {
    /// Scenario name.
    pub name: String,
    /// Root seed.
    pub seed: u64,
    /// Workloads (all aimed at one virtual service).
    pub workloads: Vec<Workload>,
    /// Real servers (matched to dests by address; a dest without one gets
    /// [`default_server`]).
    pub servers: Vec<ServerSpec>,
    /// Director capacity.
    pub director: DirectorCapacity,
    /// Path choice.
    pub path: PathChoice,
    /// No arrival after this time (ns).
    pub until_ns: u64,
    /// Sample interval (ns).
    pub interval_ns: u64,
    /// Record the chosen real server of every connection (tests).
    pub record_choices: bool,
}

/// The capacity given to a real server the scenario says nothing about.
#[must_use]
pub fn default_server(name: &str, addr: Ipv4Addr) -> ServerSpec {
    ServerSpec {
        name: name.into(),
        addr,
        workers: 256,
        queue_limit: Some(511),
        service: crate::workload::Dist::Fixed(1_000_000.0),
        outages: Vec::new(),
    }
}

/// What a flow run returns.
#[derive(Debug)]
pub struct FlowOutput {
    /// Metrics.
    pub metrics: RunMetrics,
    /// Real server index chosen for each connection, if recorded.
    pub choices: Vec<u16>,
}

/// A flow run that could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowError(pub String);

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FlowError {}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Arrive {
        w: u32,
        user: u32,
    },
    /// A worker finishes request `slot`.
    Done {
        slot: u32,
    },
    /// The client of request `slot` gives up.
    GiveUp {
        slot: u32,
    },
    Crash {
        server: u32,
    },
    Recover {
        server: u32,
    },
}

/// The flow's event queue: a [`SmallQueue`] of 24-bit ids. A completion
/// or a client's timeout of request slot `n` (the common events) is the id
/// `n << 2 | kind`; any other event waits in a side table and its id is
/// its index there `<< 2 | 2`. An event of a request is stale when the
/// request no longer records its sequence number ([`Req::started`],
/// [`Req::give_up`]).
#[derive(Debug, Default)]
struct Events {
    q: SmallQueue,
    others: Vec<Option<Ev>>,
    free: Vec<u32>,
}

/// Kinds in the low bits of an event id.
const ID_DONE: u32 = 0;
const ID_GIVE_UP: u32 = 1;
const ID_OTHER: u32 = 2;
/// Request slots that fit an event id with its kind.
const ID_SLOTS: u32 = 1 << (crate::engine::ID_BITS - 2);

impl Events {
    /// Schedules `ev` at `at`; returns its sequence number.
    #[inline(always)]
    fn push(&mut self, at: u64, ev: Ev) -> u64 {
        let id = match ev {
            Ev::Done { slot } if slot < ID_SLOTS => slot << 2 | ID_DONE,
            Ev::GiveUp { slot } if slot < ID_SLOTS => slot << 2 | ID_GIVE_UP,
            _ => self.push_other(ev),
        };
        self.q.push(SimTime(at), id)
    }

    /// The time of the earliest event, `u64::MAX` if none.
    #[inline(always)]
    fn head_time(&self) -> u64 {
        self.q.peek_time().map_or(u64::MAX, |h| h.0)
    }

    /// A rarer event into the side table; its id.
    #[inline(never)]
    fn push_other(&mut self, ev: Ev) -> u32 {
        let i = match self.free.pop() {
            Some(i) => {
                self.others[i as usize] = Some(ev);
                i
            }
            None => {
                self.others.push(Some(ev));
                u32::try_from(self.others.len() - 1).unwrap_or(u32::MAX)
            }
        };
        assert!(i < ID_SLOTS, "fewer than 2^22 rare events pending");
        i << 2 | ID_OTHER
    }

    /// The earliest event: its time, sequence number, and what it is.
    #[inline(always)]
    fn pop(&mut self) -> Option<(u64, u64, Ev)> {
        let (t, seq, id) = self.q.pop()?;
        let ev = match id & 3 {
            ID_DONE => Ev::Done { slot: id >> 2 },
            ID_GIVE_UP => Ev::GiveUp { slot: id >> 2 },
            _ => {
                self.free.push(id >> 2);
                self.others.get_mut((id >> 2) as usize)?.take()?
            }
        };
        Some((t.0, seq, ev))
    }
}

/// [`Req::started`] of a request no worker serves.
const NOT_STARTED: u64 = u64::MAX;

impl Req {
    /// A slot with no request.
    const FREE: Req = Req {
        t0: 0,
        d_in: 0,
        tuple_c: 0,
        cport: 0,
        server: 0,
        user: 0,
        w: 0,
        resp_bytes: 0,
        started: NOT_STARTED,
        give_up: NOT_STARTED,
        conn: ConnRef::NONE,
        ended: false,
        released: false,
    };
}

#[derive(Clone, Copy, Debug)]
struct Req {
    t0: u64,
    d_in: u64,
    tuple_c: u32,
    cport: u16,
    server: u16,
    user: u32,
    w: u32,
    resp_bytes: u32,
    /// While a worker serves it: the sequence number of its completion
    /// event (so the order service started in); `NOT_STARTED` otherwise.
    started: u64,
    /// While the client's `max_time` timer runs: its event's sequence
    /// number; `NOT_STARTED` otherwise.
    give_up: u64,
    conn: ConnRef,
    /// The client no longer waits (outcome recorded).
    ended: bool,
    /// The server no longer holds it.
    released: bool,
}

impl Req {
    /// The request's connection, to virtual service `vaddr:vport`.
    fn tuple(&self, vaddr: Ipv4Addr, vport: u16) -> Tuple {
        Tuple {
            caddr: Ipv4Addr::from(self.tuple_c),
            cport: self.cport,
            vaddr,
            vport,
        }
    }
}

struct Src {
    w: Workload,
    /// Request and response sizes when fixed (no draw, no float rounding
    /// per request).
    fixed_sizes: (Option<u64>, Option<u64>),
    /// The mean gap of a constant Poisson rate
    /// ([`crate::workload::RateSchedule::constant_gap_ns`], computed once).
    gap: Option<f64>,
    /// [`handlers::inbound`] of the fixed sizes, if both are.
    fixed_in: Option<(u64, u64)>,
    rng: SimRng,
    pool: ClientPool,
    sent: u64,
    done: bool,
}

/// The running simulation.
struct Sim<'a> {
    q: Events,
    /// Next arrival of each open-loop source, `u64::MAX` for none (kept
    /// out of the queue: one push and pop fewer per request).
    open: Vec<u64>,
    /// Sources still sending.
    live_srcs: usize,
    now: u64,
    srcs: Vec<Src>,
    servers: Vec<ServerModel>,
    dest_server: Vec<u16>,
    path: Path<'a>,
    sched_rng: SimRng,
    slots: Vec<Req>,
    free: Vec<u32>,
    in_flight: u64,
    dir: DirQueue,
    rec: Recorder,
    choices: Option<Vec<u16>>,
    vip: Ipv4Addr,
    vport: u16,
    nat: bool,
    tun: bool,
    until: u64,
    events: u64,
}

/// The director as one FIFO forwarding resource.
#[derive(Debug, Default)]
struct DirQueue {
    cap: Option<(f64, f64)>,
    max_delay: u64,
    free_at: u64,
    busy_ns: u128,
}

impl DirQueue {
    /// A batch of `pkts` packets and `bytes` bytes at `now`: its delay, or
    /// `None` if the backlog is full (dropped).
    fn offer(&mut self, now: u64, pkts: u64, bytes: u64) -> Option<u64> {
        let Some((pps, bps)) = self.cap else {
            return Some(0);
        };
        #[expect(clippy::cast_precision_loss, reason = "work in ns")]
        let work = (pkts as f64 * 1e9 / pps).max(bytes as f64 * 8e9 / bps);
        let start = self.free_at.max(now);
        if start - now > self.max_delay {
            return None;
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "non-negative ns"
        )]
        let w = work.ceil() as u64;
        self.free_at = start + w;
        self.busy_ns += u128::from(w);
        Some(self.free_at - now)
    }
}

const MSS: u64 = 1448;
const HDR: u64 = 40;

fn segs(bytes: u64) -> u64 {
    bytes.div_ceil(MSS)
}

/// Runs a flow-fidelity simulation on the director's `ipvs` table.
///
/// # Errors
/// No workload, workloads aimed at different or unknown services, or a
/// forced fast path that cannot model the service.
pub fn run(cfg: &FlowConfig, ipvs: &mut Ipvs) -> Result<FlowOutput, FlowError> {
    let mut sim = build(cfg, ipvs)?;
    sim.run();
    Ok(sim.finish())
}

/// The simulation of [`run`], ready to start.
fn build<'a>(cfg: &FlowConfig, ipvs: &'a mut Ipvs) -> Result<Sim<'a>, FlowError> {
    let (vip, vport) = match cfg.workloads.first() {
        Some(w) => (w.vip, w.vport),
        None => {
            return Err(FlowError(
                "flow fidelity needs a [workload] or [[client]]".into(),
            ));
        }
    };
    if let Some(w) = cfg
        .workloads
        .iter()
        .find(|w| (w.vip, w.vport) != (vip, vport))
    {
        return Err(FlowError(format!(
            "workload `{}` targets {}:{} but `{}` targets {vip}:{vport}: flow fidelity models one virtual service",
            w.name, w.vip, w.vport, cfg.workloads[0].name
        )));
    }
    let key = ServiceKey::Addr {
        proto: Protocol::Tcp,
        addr: vip,
        port: vport,
    };
    let svc: SvcId = ipvs.find_service(&key).ok_or_else(|| {
        FlowError(format!(
            "no virtual service TCP {vip}:{vport} on the director (add it with ipvsadm -A -t {vip}:{vport} in the director's setup)"
        ))
    })?;
    ipvs.advance(SimTime::ZERO);
    let (sched_name, method) = {
        let s = ipvs.service(svc).map(|s| s.sched.name()).unwrap_or("?");
        let m = ipvs
            .service_dests(svc)
            .next()
            .map_or(crate::ipvs::FwdMethod::Route, |d| d.fwd);
        (s, m)
    };
    let mut servers = Vec::new();
    let mut dest_server = Vec::new();
    for d in ipvs.service_dests(svc) {
        let spec = cfg
            .servers
            .iter()
            .find(|s| s.addr == d.addr)
            .cloned()
            .unwrap_or_else(|| default_server(&d.addr.to_string(), d.addr));
        let idx = match servers
            .iter()
            .position(|m: &ServerModel| m.spec.addr == d.addr)
        {
            Some(i) => i,
            None => {
                let r = rng::stream(cfg.seed, &format!("flow/server/{}", spec.name));
                servers.push(ServerModel::new(spec, r));
                servers.len() - 1
            }
        };
        dest_server.push(u16::try_from(idx).unwrap_or(u16::MAX));
    }
    let path = match cfg.path {
        PathChoice::Ipvs => Path::ipvs(ipvs, svc),
        PathChoice::Fast => Path::fast(ipvs, svc).map_err(|e| {
            FlowError(format!(
                "director path \"fast\" cannot model this service: {e}"
            ))
        })?,
        PathChoice::Auto => {
            if Path::fast_check(ipvs, svc).is_ok() {
                Path::fast(ipvs, svc).map_err(FlowError)?
            } else {
                Path::ipvs(ipvs, svc)
            }
        }
    };
    let mut sim = Sim::new(cfg, path, servers, dest_server, vip, vport, method);
    sim.rec.init(&sim.servers, cfg, sched_name, method);
    Ok(sim)
}

/// Runs a scenario loaded with `fidelity = "flow"` on its director (the
/// host whose IPVS table has the workloads' virtual service).
///
/// # Errors
/// The scenario is not a flow scenario, or [`run`] refuses it.
pub fn run_scenario(sc: &mut crate::scenario::Scenario) -> Result<FlowOutput, FlowError> {
    let cfg = sc
        .flow
        .as_ref()
        .ok_or_else(|| FlowError("not a flow-fidelity scenario".into()))?;
    let Some(w) = cfg.workloads.first() else {
        return Err(FlowError(
            "flow fidelity needs a [workload] or a [[client]] curl loop".into(),
        ));
    };
    let key = ServiceKey::Addr {
        proto: Protocol::Tcp,
        addr: w.vip,
        port: w.vport,
    };
    let h = sc
        .world
        .hosts
        .iter()
        .position(|h| h.ipvs.find_service(&key).is_some())
        .ok_or_else(|| {
            FlowError(format!(
                "no host has the virtual service TCP {}:{} (add it with ipvsadm -A -t {}:{} in the director's setup)",
                w.vip, w.vport, w.vip, w.vport
            ))
        })?;
    // Real servers without a [[server]] section keep their host's name.
    let mut cfg = cfg.clone();
    for host in &sc.world.hosts {
        for a in host
            .ifaces
            .iter()
            .filter(|i| i.kind == crate::host::IfKind::Ether)
            .flat_map(|i| i.addrs.iter())
        {
            if !cfg.servers.iter().any(|s| s.addr == a.addr) {
                cfg.servers.push(default_server(&host.name, a.addr));
            }
        }
    }
    run(&cfg, &mut sc.world.hosts[h].ipvs)
}

impl<'a> Sim<'a> {
    fn new(
        cfg: &FlowConfig,
        path: Path<'a>,
        servers: Vec<ServerModel>,
        dest_server: Vec<u16>,
        vip: Ipv4Addr,
        vport: u16,
        method: crate::ipvs::FwdMethod,
    ) -> Sim<'a> {
        let mut q = Events::default();
        let mut srcs = Vec::new();
        let mut open = vec![u64::MAX; cfg.workloads.len()];
        let tun = method == crate::ipvs::FwdMethod::Tunnel;
        for (i, w) in cfg.workloads.iter().enumerate() {
            let mut r = rng::stream(cfg.seed, &format!("flow/workload/{i}/{}", w.name));
            let (first, clients) = match &w.arrivals {
                Arrivals::Poisson { first, clients, .. }
                | Arrivals::Closed { first, clients, .. } => (*first, *clients),
            };
            let pool = ClientPool::new(first, clients, &mut r);
            let wi = u32::try_from(i).unwrap_or(u32::MAX);
            match &w.arrivals {
                Arrivals::Poisson { schedule, .. } => {
                    open[i] = schedule
                        .next_arrival(w.start_ns.saturating_sub(1), &mut r)
                        .unwrap_or(u64::MAX);
                }
                Arrivals::Closed { users, .. } => {
                    for u in 0..*users {
                        q.push(w.start_ns, Ev::Arrive { w: wi, user: u });
                    }
                }
            }
            let fixed_sizes = (w.request_size.fixed_u64(), w.response_size.fixed_u64());
            srcs.push(Src {
                fixed_sizes,
                fixed_in: match fixed_sizes {
                    (Some(req), Some(resp)) => Some(handlers::inbound(req, resp, tun)),
                    _ => None,
                },
                gap: match &w.arrivals {
                    Arrivals::Poisson { schedule, .. } => schedule.constant_gap_ns(),
                    Arrivals::Closed { .. } => None,
                },
                w: w.clone(),
                rng: r,
                pool,
                sent: 0,
                done: false,
            });
        }
        for (i, s) in servers.iter().enumerate() {
            let server = u32::try_from(i).unwrap_or(u32::MAX);
            for (down, up) in &s.spec.outages {
                q.push(*down, Ev::Crash { server });
                if let Some(up) = up {
                    q.push(*up, Ev::Recover { server });
                }
            }
        }
        let nat = path.sees_replies();
        Sim {
            q,
            now: 0,
            live_srcs: srcs.len(),
            open,
            srcs,
            rec: Recorder::new(servers.len(), cfg.interval_ns),
            servers,
            dest_server,
            path,
            sched_rng: rng::stream(cfg.seed, "flow/sched"),
            slots: Vec::new(),
            free: Vec::new(),
            in_flight: 0,
            dir: DirQueue {
                cap: match (cfg.director.pps, cfg.director.bps) {
                    (None, None) => None,
                    (p, b) => Some((p.unwrap_or(f64::INFINITY), b.unwrap_or(f64::INFINITY))),
                },
                max_delay: cfg.director.max_delay_ns,
                free_at: 0,
                busy_ns: 0,
            },
            choices: cfg.record_choices.then(Vec::new),
            vip,
            vport,
            nat,
            tun,
            until: cfg.until_ns,
            events: 0,
        }
    }

    /// The open-loop source whose next arrival comes before the queue's
    /// head (at equal times the queue goes first), and that time.
    #[inline]
    fn next_open<const PLAIN: bool>(&self) -> Option<(usize, u64)> {
        let (i, t) = match self.open.as_slice() {
            // (A plain run has one source.)
            s if PLAIN => (0, s.first().copied().unwrap_or(u64::MAX)),
            [t] => (0, *t),
            many => many
                .iter()
                .copied()
                .enumerate()
                .min_by_key(|(_, t)| *t)
                .unwrap_or((0, u64::MAX)),
        };
        // (No arrival is `u64::MAX`, never below the head, nor below an
        // empty queue's `u64::MAX`.)
        (t < self.q.head_time()).then_some((i, t))
    }

    /// Moves the clock to `t` (sampling the intervals it closes).
    #[inline(always)]
    fn advance(&mut self, t: u64) {
        self.now = t;
        if t > self.rec.next_sample {
            self.sample_until(t);
        }
    }

    /// Whether the run is plain: one open-loop source at a constant
    /// Poisson rate with fixed request and response sizes, no client
    /// timeout (`max_time`), no director capacity limit, no recorded
    /// choices, on the fast director path. Such a run takes the same code
    /// with those branches compiled out ([`Sim::run_loop`]`::<true>`).
    fn plain(&self) -> bool {
        matches!(self.path, Path::Fast(..))
            && self.dir.cap.is_none()
            && self.choices.is_none()
            && match self.srcs.as_slice() {
                [s] => {
                    matches!(s.w.arrivals, Arrivals::Poisson { .. })
                        && s.gap.is_some()
                        && s.fixed_in.is_some()
                        && s.w.max_time_ns.is_none()
                }
                _ => false,
            }
    }

    fn run(&mut self) {
        if self.plain() {
            self.run_loop::<true>();
        } else {
            self.run_loop::<false>();
        }
    }

    /// The event loop; `PLAIN`: [`Sim::plain`] holds.
    fn run_loop<const PLAIN: bool>(&mut self) {
        loop {
            // One branch decides between an open-loop arrival and the
            // queue; the queue's events are then mostly completions.
            if let Some((i, t)) = self.next_open::<PLAIN>() {
                // A source that stopped has no next arrival.
                debug_assert!(self.live_srcs > 0);
                self.open[i] = u64::MAX;
                self.advance(t);
                self.events += 1;
                self.arrive::<PLAIN>(u32::try_from(i).unwrap_or(u32::MAX), u32::MAX);
                continue;
            }
            let Some((t, seq, ev)) = self.q.pop() else {
                break;
            };
            if self.live_srcs == 0 && self.in_flight == 0 {
                break;
            }
            self.advance(t);
            // Stale events (a completion of a request lost in a crash, the
            // timeout of a request already answered) are not counted.
            if let Ev::Done { slot } = ev {
                if self
                    .slots
                    .get(slot as usize)
                    .is_some_and(|r| r.started == seq && !r.released)
                {
                    self.events += 1;
                    self.done::<PLAIN>(slot);
                }
            } else {
                self.other_event(seq, ev);
            }
        }
        // Close the last partial interval.
        let end = self.now;
        self.sample_until(end);
        if end > self.rec.last_sample {
            self.rec.next_sample = end;
            self.sample_now();
        }
    }

    /// An event other than a completion (out of line: completions and
    /// open-loop arrivals are the hot ones).
    #[inline(never)]
    fn other_event(&mut self, seq: u64, ev: Ev) {
        match ev {
            Ev::Done { .. } => {} // `run` handles completions
            Ev::GiveUp { slot } => {
                if let Some(r) = self.slots.get(slot as usize)
                    && r.give_up == seq
                {
                    // Counted only while the server holds the request; a
                    // request lost in a crash still times out here.
                    self.events += u64::from(!r.released);
                    self.give_up(slot);
                }
            }
            Ev::Arrive { w, user } => {
                self.events += 1;
                self.arrive::<false>(w, user);
            }
            Ev::Crash { server } => {
                self.events += 1;
                self.crash(server);
            }
            Ev::Recover { server } => {
                self.events += 1;
                if let Some(s) = self.servers.get_mut(server as usize) {
                    s.recover();
                }
            }
        }
    }

    #[cold]
    fn sample_until(&mut self, t: u64) {
        while self.rec.next_sample < t {
            self.sample_now();
            self.rec.next_sample += self.rec.interval;
        }
    }

    fn sample_now(&mut self) {
        let at = self.rec.next_sample;
        let counts = self.path.counts(at);
        let mut per_server = vec![(0u64, 0u64); self.servers.len()];
        for (i, (a, ina, _)) in counts.iter().enumerate() {
            if let Some(s) = self
                .dest_server
                .get(i)
                .and_then(|s| per_server.get_mut(*s as usize))
            {
                s.0 += u64::from(*a);
                s.1 += u64::from(*ina);
            }
        }
        let dir_busy = self.dir.busy_ns;
        self.rec.sample(at, &self.servers, &per_server, dir_busy);
    }

    /// A free request slot (its caller writes the request in).
    #[inline]
    fn take_slot(&mut self) -> u32 {
        self.in_flight += 1;
        if let Some(i) = self.free.pop() {
            i
        } else {
            self.slots.push(Req::FREE);
            u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
        }
    }

    /// Frees `slot`; events still pending for it become stale (it no
    /// longer records their sequence numbers).
    fn release(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        s.started = NOT_STARTED;
        s.give_up = NOT_STARTED;
        self.in_flight -= 1;
        self.free.push(slot);
    }

    fn tuple(&self, r: &Req) -> Tuple {
        r.tuple(self.vip, self.vport)
    }

    fn finish(mut self) -> FlowOutput {
        let counts = self.path.counts(self.now);
        let weights: Vec<u32> = {
            let mut w = vec![0; self.servers.len()];
            for (i, (_, _, wt)) in counts.iter().enumerate() {
                if let Some(s) = self.dest_server.get(i) {
                    w[*s as usize] = *wt;
                }
            }
            w
        };
        let fast = matches!(self.path, Path::Fast(..));
        let mut metrics = self.rec.finish(
            &self.servers,
            &weights,
            self.now,
            self.events,
            self.dir.busy_ns,
            self.path.name(),
        );
        self.path.finish();
        // Clients count their ports up through 28 232 ephemeral ports: a
        // client that went round may have met its own old entry, which the
        // fast path does not model (the table would reuse it).
        let cycled = self.srcs.iter().any(|s| {
            s.sent / (s.pool.len().max(1) as u64) >= u64::from(crate::workload::PORT_SPAN)
        });
        if fast && cycled {
            metrics.run.simplifications.push(
                "some client went through all 28232 ephemeral ports: a new connection may have \
                 reused a 5-tuple whose old entry still lived, which the fast path does not model \
                 (set path = \"ipvs\" under [director] for the table's behaviour)"
                    .into(),
            );
        }
        FlowOutput {
            metrics,
            choices: self.choices.unwrap_or_default(),
        }
    }
}

/// How one request ended (for the recorder).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Refused,
    Reset,
    TimedOut,
}

impl Outcome {
    fn add_to(self, o: &mut Outcomes) {
        match self {
            Outcome::Refused => o.refused += 1,
            Outcome::Reset => o.reset += 1,
            Outcome::TimedOut => o.timed_out += 1,
        }
    }
}

#[cfg(test)]
mod tests;
