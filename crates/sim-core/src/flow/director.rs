//! The director in flow fidelity: which real server gets a new connection,
//! how its IPVS entry moves between ActiveConn and InActConn, and how busy
//! the director's forwarding is.
//!
//! Two paths give the same choices:
//!
//! - [`Path::Ipvs`] drives the director host's real [`Ipvs`] table packet by
//!   packet with [`PacketMeta`]s: the SYN is scheduled by `in_packet`, the
//!   later segments walk the kernel TCP state table, entries expire on the
//!   kernel timers, and `ipvsadm -Lnc` afterwards shows them. Every
//!   persistence, threshold and reuse rule applies. Slow: a `BTreeMap` entry
//!   and a scheduling `Decision` per connection, and an entry per
//!   connection for the whole FIN_WAIT/TIME_WAIT timeout.
//! - [`Path::Fast`] keeps only what a scheduling decision reads: copies of
//!   the service's [`Dest`]s (counters updated with the kernel's own
//!   `bind`/`unbind`/`set_active`), one kernel TCP state per live request
//!   (advanced by the kernel state table, [`tcp::next`], composed once per
//!   run for each [`Steps`] a connection goes through at one instant), and,
//!   for closed entries, only their expiry times in FIFO rings (one per
//!   timeout value: expiries enter in time order, so a ring is sorted). It
//!   calls the same scheduler code, except that `wlc` over weights whose
//!   least common multiple is small compares overheads scaled by
//!   `lcm / weight`, each kept with its dest's index in the low bits, so
//!   the pick is a minimum ([`sched::wlc_scales`]; a proptest holds it to
//!   the kernel's loop). Not covered: persistence templates,
//!   fwmark and one-packet services (the `auto` choice then takes the `ipvs`
//!   path), and 5-tuple reuse while an old entry lives (clients' ports cycle
//!   through 28 232 ephemeral ports; a run where some client went all the
//!   way round says so in its simplifications).

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use crate::ipvs::conn::tcp::{self, Dir};
use crate::ipvs::sched::{self, DestInfo, SchedInput, Scheduler};
use crate::ipvs::{
    Dest, FwdMethod, InVerdict, Ipvs, PacketMeta, Protocol, ServiceKey, SvcId, TcpFlags, TcpState,
};
use crate::rng::SimRng;
use crate::time::{NS_PER_S, SimTime};

/// Which way a segment crosses the director.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Way {
    /// Client → server.
    In,
    /// Server → client (seen by the director only for NAT/FULLNAT).
    Out,
}

/// The director's view of one connection, as stored in a request slot.
#[derive(Clone, Copy, Debug)]
pub struct ConnRef {
    /// Fast path: the entry's kernel TCP state (bits 0-3),
    /// `IP_VS_CONN_F_NOOUTPUT` (bit 4: no reply seen yet), counted in
    /// InActConn (bit 5). One byte, so that a run of [`Steps`] is one
    /// lookup in a 64-entry table.
    code: u8,
    /// Index of the dest in the service's list (kernel order).
    pub dest: u16,
}

const NOOUTPUT: u8 = 1 << 4;
const INACTIVE: u8 = 1 << 5;
/// In a [`Fast::moves`] entry: the entry moved between ActiveConn and
/// InActConn.
const RECOUNT: u8 = 1 << 6;

impl ConnRef {
    /// No entry yet.
    pub const NONE: ConnRef = ConnRef { code: 0, dest: 0 };

    fn code(state: TcpState, nooutput: bool, inactive: bool) -> u8 {
        state as u8 | if nooutput { NOOUTPUT } else { 0 } | if inactive { INACTIVE } else { 0 }
    }

    /// Fast path: the entry's kernel TCP state.
    #[must_use]
    pub fn state(&self) -> TcpState {
        TcpState::ALL
            .get(usize::from(self.code & 15))
            .copied()
            .unwrap_or(TcpState::None)
    }

    /// Fast path: counted in InActConn.
    #[must_use]
    pub fn inactive(&self) -> bool {
        self.code & INACTIVE != 0
    }

    /// Fast path: `IP_VS_CONN_F_NOOUTPUT` (no reply seen yet).
    #[must_use]
    pub fn nooutput(&self) -> bool {
        self.code & NOOUTPUT != 0
    }
}

impl Default for ConnRef {
    fn default() -> Self {
        ConnRef::NONE
    }
}

/// The fast path's state.
#[derive(Debug)]
pub struct Fast {
    sched: Box<dyn Scheduler>,
    dests: Vec<Dest>,
    /// What the pick reads, kept in step with `dests`.
    reads: Reads,
    /// One ring per distinct TCP timeout that some entry waited for
    /// (made on first use, so that the scan sees only those): expiries
    /// `expiry_ns << (dbits + 1) | active << dbits | dest`.
    rings: Vec<ChunkFifo>,
    /// For each TCP state (16 for the 4 bits of a state): its timeout (ns)
    /// and its ring (`NO_RING` until an entry waits in that state).
    park_to: [(u64, usize); 16],
    /// Latest expiry a ring entry can hold.
    expiry_limit: u64,
    /// Bits for a dest index in a ring entry.
    dbits: u32,
    nooutput: bool,
    /// The [`ConnRef`] code of an entry the SYN leaves.
    syn: u8,
    /// `moves[steps][code]`: where each [`Steps`] leaves an entry of
    /// [`ConnRef`] code `code` (the kernel table applied segment by
    /// segment, once per run, with `set_state`'s re-count): the new code,
    /// and [`RECOUNT`] if the entry changed counters.
    moves: [[u8; 64]; 4],
    /// The earliest expiry at the front of a ring (`u64::MAX` when they
    /// are empty), and that ring.
    next_expiry: u64,
    next_ring: usize,
}

/// What the fast path's pick reads of the dests (a tag byte, not a niche
/// in a `Vec`: the hot path tests it twice per request).
#[derive(Debug)]
#[repr(u8)]
enum Reads {
    /// A scheduler other than `wlc`: its [`DestInfo`]s.
    Infos(Vec<DestInfo>),
    /// `wlc` by the kernel's comparisons: [`Dest::wlc_key`]s.
    Pairs(Vec<(u64, u64)>),
    /// `wlc` on scaled overheads, when the weights allow
    /// ([`sched::wlc_scales`]): the factors, and each dest's
    /// [`sched::wlc_scaled`] overhead, padded to eight entries with
    /// `u64::MAX` (never chosen).
    Scaled { scales: Vec<u64>, scaled: Vec<u64> },
}

/// One of the two paths.
#[derive(Debug)]
pub enum Path<'a> {
    /// Through the director's IPVS table.
    Ipvs {
        /// The table.
        ipvs: &'a mut Ipvs,
        /// The service.
        svc: SvcId,
        /// `(addr, port)` of each dest, kernel list order.
        dests: Vec<(Ipv4Addr, u16)>,
        /// The dests are NAT/FULLNAT (the director sees replies).
        nat: bool,
    },
    /// Scheduler and counters only. The service's own scheduler instance
    /// is borrowed for the run (so its state, e.g. the `rr`/`wrr` cursor,
    /// is exactly the kernel's) and given back by [`Path::finish`].
    Fast(Box<Fast>, &'a mut Ipvs, SvcId),
}

/// Where a connection is aimed.
#[derive(Clone, Copy, Debug)]
pub struct Tuple {
    /// Client address.
    pub caddr: Ipv4Addr,
    /// Client port.
    pub cport: u16,
    /// Virtual address.
    pub vaddr: Ipv4Addr,
    /// Virtual port.
    pub vport: u16,
}

/// The segments the director sees at one instant of a connection's life
/// (after the SYN). The fast path composes each run once per flow run into
/// one table lookup; the ipvs path feeds them one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Steps {
    /// The handshake completes: (NAT: the server's SYN-ACK), the client's ACK.
    Accept,
    /// The handshake completes and the server resets (its queue is full):
    /// (NAT: SYN-ACK), ACK, (NAT: the server's RST; DR/TUN: it bypasses the
    /// director).
    Refuse,
    /// The response is out: (NAT: the server's ACK), the client's FIN,
    /// (NAT: the server's FIN), the client's ACK.
    Close,
    /// The client resets.
    Abort,
}

impl Steps {
    const ALL: [Steps; 4] = [Steps::Accept, Steps::Refuse, Steps::Close, Steps::Abort];

    /// The segments, in order, for a director that sees replies (`nat`) or not.
    #[must_use]
    pub fn segments(self, nat: bool) -> &'static [(Way, TcpFlags)] {
        use TcpFlags as F;
        use Way::{In, Out};
        match (self, nat) {
            (Steps::Accept, true) => &[(Out, F::SYN_ACK), (In, F::ACK)],
            (Steps::Accept | Steps::Refuse, false) => &[(In, F::ACK)],
            (Steps::Refuse, true) => &[(Out, F::SYN_ACK), (In, F::ACK), (Out, F::RST)],
            (Steps::Close, true) => &[
                (Out, F::ACK),
                (In, F::FIN_ACK),
                (Out, F::FIN_ACK),
                (In, F::ACK),
            ],
            (Steps::Close, false) => &[(In, F::FIN_ACK), (In, F::ACK)],
            (Steps::Abort, _) => &[(In, F::RST)],
        }
    }
}

/// Where a run of [`Steps`] leaves an entry: its state, its `NOOUTPUT`
/// flag, and whether the state changed on the way (only then does
/// `set_state` re-count it).
type Composed = (TcpState, bool, bool);

impl<'a> Path<'a> {
    /// The Ipvs path for `svc`.
    pub fn ipvs(ipvs: &'a mut Ipvs, svc: SvcId) -> Path<'a> {
        let dests = ipvs.service_dests(svc).map(|d| (d.addr, d.port)).collect();
        let nat = ipvs
            .service_dests(svc)
            .next()
            .is_some_and(|d| d.fwd.sees_replies());
        Path::Ipvs {
            ipvs,
            svc,
            dests,
            nat,
        }
    }

    /// Why the fast path cannot model `svc`, if it cannot.
    ///
    /// # Errors
    /// The service is persistent, fwmark-based or one-packet, or unknown.
    pub fn fast_check(ipvs: &Ipvs, svc: SvcId) -> Result<(), String> {
        let s = ipvs.service(svc).ok_or("no such service")?;
        if s.persistent.is_some() {
            return Err("the service is persistent (-p)".into());
        }
        if matches!(s.key, ServiceKey::Fwmark(_)) || s.ops {
            return Err("fwmark and one-packet services need the ipvs path".into());
        }
        Ok(())
    }

    /// The fast path for `svc`.
    ///
    /// # Errors
    /// See [`Path::fast_check`].
    pub fn fast(ipvs: &'a mut Ipvs, svc: SvcId) -> Result<Path<'a>, String> {
        Self::fast_check(ipvs, svc)?;
        let dests: Vec<Dest> = ipvs.service_dests(svc).cloned().collect();
        let dbits = dest_bits(dests.len());
        let s = ipvs.service_mut(svc).ok_or("no such service")?;
        let weights: Vec<u32> = dests.iter().map(|d| d.weight).collect();
        let reads = match sched::wlc_scales(&weights, dbits) {
            _ if s.sched.name() != "wlc" => Reads::Infos(dests.iter().map(Dest::info).collect()),
            None => Reads::Pairs(dests.iter().map(Dest::wlc_key).collect()),
            Some(scales) => {
                // Padded for the pick's tree of minimums.
                let scaled = dests
                    .iter()
                    .zip(&scales)
                    .enumerate()
                    .map(|(k, (d, &m))| {
                        let counts = (d.activeconns, d.inactconns);
                        sched::wlc_scaled(counts, m, d.overloaded, (k, dbits))
                    })
                    .chain(std::iter::repeat(u64::MAX))
                    .take(dests.len().max(8))
                    .collect();
                Reads::Scaled { scales, scaled }
            }
        };
        let stand_in = sched::create("rr", s.flags, &[]).ok_or("no rr scheduler")?;
        let sched = std::mem::replace(&mut s.sched, stand_in);
        let mut park_to = [(0, NO_RING); 16];
        for (st, t) in ipvs.timeouts.tcp.iter().enumerate() {
            park_to[st].0 = u64::from(*t) * NS_PER_S;
        }
        let nooutput = dests
            .first()
            .is_none_or(|d| !matches!(d.fwd, FwdMethod::Masq | FwdMethod::FullNat));
        // The SYN comes in (an input segment leaves NOOUTPUT as it is).
        let syn_state = tcp::next(
            Dir::of(&mut { nooutput }, false),
            TcpState::None,
            TcpFlags::SYN,
        );
        let mut moves = [[0; 64]; 4];
        for steps in Steps::ALL {
            for (code, out) in moves[steps as usize].iter_mut().enumerate() {
                #[expect(clippy::cast_possible_truncation, reason = "below 64")]
                let c = ConnRef {
                    code: code as u8,
                    dest: 0,
                };
                if usize::from(c.code & 15) < TcpState::ALL.len() {
                    *out = step_move(c, steps.segments(!nooutput));
                }
            }
        }
        Ok(Path::Fast(
            Box::new(Fast {
                sched,
                dests,
                reads,
                rings: Vec::new(),
                park_to,
                expiry_limit: (1u64 << (63 - dbits)) - 1,
                dbits,
                nooutput,
                syn: ConnRef::code(syn_state, nooutput, !tcp::is_active(syn_state)),
                moves,
                next_expiry: u64::MAX,
                next_ring: 0,
            }),
            ipvs,
            svc,
        ))
    }

    /// Ends the run: the fast path gives the scheduler back to the service.
    pub fn finish(self) {
        if let Path::Fast(f, ipvs, svc) = self
            && let Some(s) = ipvs.service_mut(svc)
        {
            s.sched = f.sched;
        }
    }

    /// `fast` or `ipvs`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Path::Ipvs { .. } => "ipvs",
            Path::Fast(..) => "fast",
        }
    }

    /// Number of dests.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Path::Ipvs { dests, .. } => dests.len(),
            Path::Fast(f, ..) => f.dests.len(),
        }
    }

    /// Whether the service has no dest.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The client's SYN at `now`: the dest chosen (list index) and the
    /// entry, or `None` when no dest is available (ICMP port unreachable).
    #[inline]
    pub fn syn(&mut self, now: u64, t: &Tuple, rng: &mut SimRng) -> Option<ConnRef> {
        match self {
            Path::Ipvs { ipvs, dests, .. } => ipvs_syn(ipvs, dests, now, t, rng),
            Path::Fast(f, ..) => f.syn(now, t, rng),
        }
    }

    /// The segments of `steps` on an existing connection to `t()`, at `now`
    /// (`rng`: the scheduler's stream, should the table schedule one of
    /// them anew). Only the ipvs path reads the addresses, so only it calls
    /// `t`.
    #[inline(always)]
    pub fn steps(
        &mut self,
        now: u64,
        t: impl FnOnce() -> Tuple,
        c: &mut ConnRef,
        steps: Steps,
        rng: &mut SimRng,
    ) {
        match self {
            Path::Ipvs {
                ipvs, dests, nat, ..
            } => {
                let t = t();
                for &(way, flags) in steps.segments(*nat) {
                    ipvs_segment(ipvs, dests, now, (&t, c), way, flags, rng);
                }
            }
            Path::Fast(f, ..) => f.steps(c, steps),
        }
    }

    /// The connection sent its last segment at `now`: from here on only
    /// the entry's timer matters.
    #[inline]
    pub fn last_segment(&mut self, now: u64, c: &ConnRef) {
        if let Path::Fast(f, ..) = self {
            f.park(now, c);
        }
    }

    /// Whether the director sees replies (NAT/FULLNAT).
    #[must_use]
    pub fn sees_replies(&self) -> bool {
        match self {
            Path::Ipvs { nat, .. } => *nat,
            Path::Fast(f, ..) => !f.nooutput,
        }
    }

    /// `(ActiveConn, InActConn, weight)` of each dest at `now`, kernel list order.
    pub fn counts(&mut self, now: u64) -> Vec<(u32, u32, u32)> {
        match self {
            Path::Ipvs { ipvs, svc, .. } => {
                ipvs.advance(SimTime(now));
                ipvs.service_dests(*svc)
                    .map(|d| (d.activeconns, d.inactconns, d.weight))
                    .collect()
            }
            Path::Fast(f, ..) => {
                f.expire(now);
                f.dests
                    .iter()
                    .map(|d| (d.activeconns, d.inactconns, d.weight))
                    .collect()
            }
        }
    }
}

/// The SYN on the IPVS path (out of line: the fast path is the hot one).
#[inline(never)]
fn ipvs_syn(
    ipvs: &mut Ipvs,
    dests: &[(Ipv4Addr, u16)],
    now: u64,
    t: &Tuple,
    rng: &mut SimRng,
) -> Option<ConnRef> {
    let m = meta(t, TcpFlags::SYN, Way::In, (Ipv4Addr::UNSPECIFIED, 0));
    match ipvs.in_packet(SimTime(now), &m, rng) {
        InVerdict::Forward { daddr, dport, .. } => {
            let i = dests.iter().position(|d| *d == (daddr, dport))?;
            Some(ConnRef {
                dest: u16::try_from(i).unwrap_or(u16::MAX),
                ..ConnRef::default()
            })
        }
        _ => None,
    }
}

/// A later segment on the IPVS path.
#[inline(never)]
fn ipvs_segment(
    ipvs: &mut Ipvs,
    dests: &[(Ipv4Addr, u16)],
    now: u64,
    (t, c): (&Tuple, &ConnRef),
    way: Way,
    flags: TcpFlags,
    rng: &mut SimRng,
) {
    let d = dests
        .get(c.dest as usize)
        .copied()
        .unwrap_or((Ipv4Addr::UNSPECIFIED, 0));
    let m = meta(t, flags, way, d);
    match way {
        Way::In => {
            let _ = ipvs.in_packet(SimTime(now), &m, rng);
        }
        Way::Out => {
            let _ = ipvs.out_packet(SimTime(now), &m);
        }
    }
}

fn meta(t: &Tuple, flags: TcpFlags, way: Way, rs: (Ipv4Addr, u16)) -> PacketMeta {
    let (saddr, sport, daddr, dport) = match way {
        Way::In => (t.caddr, t.cport, t.vaddr, t.vport),
        Way::Out => (rs.0, rs.1, t.caddr, t.cport),
    };
    PacketMeta {
        proto: Protocol::Tcp,
        saddr,
        sport,
        daddr,
        dport,
        flags,
        len: 52,
        fwmark: 0,
    }
}

impl Fast {
    /// Takes out the entries whose timers ran out by `now`, one at a time
    /// in time order (the earliest of the rings' fronts: each ring is
    /// sorted).
    #[inline(always)]
    fn expire(&mut self, now: u64) {
        while self.next_expiry <= now {
            self.expire_next();
        }
    }

    /// Takes out the earliest entry (the front of `next_ring`).
    #[inline(never)]
    fn expire_next(&mut self) {
        let r = self.next_ring;
        if let Some(e) = self.rings.get_mut(r).and_then(ChunkFifo::pop_front) {
            let i = usize::try_from(e & ((1u64 << self.dbits) - 1)).unwrap_or(usize::MAX);
            let active = e & (1 << self.dbits) != 0;
            self.recount(i, |d| d.unbind(false, !active));
        }
        if self.rings.len() == 1 {
            self.next_expiry = self.front_of(r);
        } else {
            self.next_front();
        }
    }

    /// The expiry at the front of ring `r` (`u64::MAX` if it is empty).
    #[inline(always)]
    fn front_of(&self, r: usize) -> u64 {
        self.rings
            .get(r)
            .and_then(ChunkFifo::front)
            .map_or(u64::MAX, |e| e >> (self.dbits + 1))
    }

    /// Sets `next_expiry` and `next_ring` to the earliest ring front.
    fn next_front(&mut self) {
        let (mut ring, mut at) = (0, u64::MAX);
        for r in 0..self.rings.len() {
            let f = self.front_of(r);
            if f < at {
                (ring, at) = (r, f);
            }
        }
        self.next_ring = ring;
        self.next_expiry = at;
    }

    #[inline(always)]
    fn syn(&mut self, now: u64, t: &Tuple, rng: &mut SimRng) -> Option<ConnRef> {
        self.expire(now);
        // `wlc` (no explanation text) by the kernel's comparisons or the
        // same pick on scaled overheads; any other scheduler by its code.
        let pick = match &self.reads {
            Reads::Scaled { scaled, .. } => sched::least_scaled(scaled, self.dbits),
            Reads::Pairs(keys) => sched::weighted_least_by(keys.iter().copied()),
            Reads::Infos(infos) => {
                let input = SchedInput {
                    proto: Protocol::Tcp,
                    saddr: t.caddr,
                    sport: t.cport,
                    daddr: t.vaddr,
                    dport: t.vport,
                    now: SimTime(now),
                    explain: false,
                };
                self.sched.schedule(infos, &input, rng)
            }
        }?;
        // `bind` counts the new entry inactive and the SYN's `set_state`
        // moves it at once: the same as binding it where the SYN leaves it.
        let c = ConnRef {
            code: self.syn,
            dest: u16::try_from(pick).unwrap_or(u16::MAX),
        };
        if !self.recount(pick, |d| d.bind(false, c.inactive())) {
            return None;
        }
        Some(c)
    }

    /// `set_state` of `ip_vs_core.c` for TCP, on the copy, for each segment
    /// of `steps`: the entry ends where the last one leaves it, counted
    /// active or not by that state if any segment changed it (each change
    /// re-counts by the new state, so only the last one shows).
    #[inline(always)]
    fn steps(&mut self, c: &mut ConnRef, steps: Steps) {
        let m = self.moves[steps as usize][usize::from(c.code & 63)];
        c.code = m & 63;
        if m & RECOUNT != 0 {
            self.recount(c.dest as usize, |d| d.set_active(!c.inactive()));
        }
    }

    /// Changes dest `i`'s counters with `f`, and copies them to what the
    /// scheduler reads; false if there is no dest `i`.
    #[inline(always)]
    fn recount(&mut self, i: usize, f: impl FnOnce(&mut Dest)) -> bool {
        let Some(d) = self.dests.get_mut(i) else {
            return false;
        };
        f(d);
        match &mut self.reads {
            Reads::Scaled { scales, scaled } => {
                if let (Some(s), Some(&m)) = (scaled.get_mut(i), scales.get(i)) {
                    let counts = (d.activeconns, d.inactconns);
                    *s = sched::wlc_scaled(counts, m, d.overloaded, (i, self.dbits));
                }
            }
            Reads::Pairs(keys) => {
                if let Some(k) = keys.get_mut(i) {
                    *k = d.wlc_key();
                }
            }
            Reads::Infos(infos) => {
                if let Some(info) = infos.get_mut(i) {
                    info.activeconns = d.activeconns;
                    info.inactconns = d.inactconns;
                    info.overloaded = d.overloaded;
                }
            }
        }
        true
    }

    /// The entry now only waits for its timer (`timeout` of its state from
    /// now), counted where it is (an entry left ESTABLISHED, as a DR
    /// director's is when the real server resets, stays in ActiveConn).
    #[inline(always)]
    fn park(&mut self, now: u64, c: &ConnRef) {
        let state = usize::from(c.code & 15);
        let (to, mut ring) = self.park_to[state];
        if ring == NO_RING {
            ring = self.ring_for(state);
        }
        let at = (now + to).min(self.expiry_limit);
        let e =
            (at << (self.dbits + 1)) | (u64::from(!c.inactive()) << self.dbits) | u64::from(c.dest);
        if let Some(r) = self.rings.get_mut(ring) {
            r.push_back(e);
            // (Times only grow: behind a ring's front, `at` is never the
            // earliest.)
            if at < self.next_expiry {
                self.next_expiry = at;
                self.next_ring = ring;
            }
        }
    }
}

/// No ring yet (see [`Fast::park_to`]).
const NO_RING: usize = usize::MAX;

impl Fast {
    /// The ring of TCP state `state`'s timeout, made if no state with that
    /// timeout had one yet.
    #[cold]
    #[inline(never)]
    fn ring_for(&mut self, state: usize) -> usize {
        let to = self.park_to[state].0;
        let shared = self.park_to.iter().find(|(t, r)| *t == to && *r != NO_RING);
        let ring = match shared {
            Some(&(_, r)) => r,
            None => {
                self.rings.push(ChunkFifo::default());
                self.rings.len() - 1
            }
        };
        self.park_to[state].1 = ring;
        ring
    }
}

/// The kernel TCP table applied to `segments` from `state` (with `NOOUTPUT`
/// as `nooutput`), segment by segment.
fn compose(state: TcpState, nooutput: bool, segments: &[(Way, TcpFlags)]) -> Composed {
    let (mut st, mut no, mut changed) = (state, nooutput, false);
    for &(way, flags) in segments {
        let new = tcp::next(Dir::of(&mut no, way == Way::Out), st, flags);
        changed |= new != st;
        st = new;
    }
    (st, no, changed)
}

/// The [`Fast::moves`] entry of entry `c` and `segments`: where they leave
/// it, counted active or not by that state if any segment changed it
/// (each `set_state` change re-counts by the new state, so only the last
/// one shows: `tcp_state_active`), and [`RECOUNT`] if that moved it
/// between the counters.
fn step_move(c: ConnRef, segments: &[(Way, TcpFlags)]) -> u8 {
    let (st, no, changed) = compose(c.state(), c.nooutput(), segments);
    let inactive = if changed {
        !tcp::is_active(st)
    } else {
        c.inactive()
    };
    ConnRef::code(st, no, inactive) | if inactive == c.inactive() { 0 } else { RECOUNT }
}

/// Bits needed for a dest index below `n` (at least 1).
fn dest_bits(n: usize) -> u32 {
    (usize::BITS - n.saturating_sub(1).leading_zeros()).max(1)
}

const CHUNK: usize = 4096;

/// A FIFO of `u64` in fixed 32 KiB chunks: memory follows the live length,
/// with no doubling spike when it grows (and no zeroing: a chunk is a
/// `Vec` filled by `push`). The chunk being read and the chunk being
/// written are kept apart from the full ones between them, so that both
/// ends are one load away.
#[derive(Debug, Default)]
pub struct ChunkFifo {
    /// The oldest chunk, read from `head`. It is used up only when the
    /// whole FIFO was empty at the last pop.
    front: Vec<u64>,
    /// Values already taken from `front`.
    head: usize,
    /// Full chunks, oldest first.
    full: VecDeque<Vec<u64>>,
    /// The newest chunk (at most `CHUNK` values; a full one joins `full`
    /// at the next push).
    tail: Vec<u64>,
    spare: Option<Vec<u64>>,
}

impl ChunkFifo {
    /// Appends `v`.
    #[inline]
    pub fn push_back(&mut self, v: u64) {
        if self.tail.len() < CHUNK {
            self.tail.push(v);
        } else {
            self.push_chunk(v);
        }
    }

    /// The tail is full: it joins the full chunks and `v` starts a new one.
    #[cold]
    fn push_chunk(&mut self, v: u64) {
        let c = self
            .spare
            .take()
            .unwrap_or_else(|| Vec::with_capacity(CHUNK));
        let full = std::mem::replace(&mut self.tail, c);
        self.full.push_back(full);
        self.tail.push(v);
    }

    /// The oldest value.
    #[inline]
    #[must_use]
    pub fn front(&self) -> Option<u64> {
        match self.front.get(self.head) {
            Some(v) => Some(*v),
            None => self.later_front(),
        }
    }

    /// The oldest value when `front` is used up.
    #[cold]
    fn later_front(&self) -> Option<u64> {
        self.full.front().unwrap_or(&self.tail).first().copied()
    }

    /// Removes the oldest value.
    #[inline]
    pub fn pop_front(&mut self) -> Option<u64> {
        if self.head == self.front.len() {
            self.next_chunk();
        }
        let v = self.front.get(self.head).copied()?;
        self.head += 1;
        if self.head == self.front.len() {
            self.next_chunk();
        }
        Some(v)
    }

    /// `front` is used up: the oldest full chunk, or else the tail, takes
    /// its place.
    #[cold]
    fn next_chunk(&mut self) {
        self.head = 0;
        self.front.clear();
        if let Some(next) = self.full.pop_front() {
            let used = std::mem::replace(&mut self.front, next);
            self.spare = Some(used);
        } else {
            std::mem::swap(&mut self.front, &mut self.tail);
        }
    }

    /// Number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        self.front.len() - self.head
            + self.full.iter().map(Vec::len).sum::<usize>()
            + self.tail.len()
    }

    /// Whether it is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.front().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        #[test]
        // (Three pushes to a pop, so that runs go through several chunks.)
        fn chunk_fifo_is_a_fifo(ops in proptest::collection::vec(proptest::option::weighted(0.75, 0u64..1000), 0..20_000)) {
            let mut f = ChunkFifo::default();
            let mut m = VecDeque::new();
            for op in ops {
                match op {
                    Some(v) => { f.push_back(v); m.push_back(v); }
                    None => { proptest::prop_assert_eq!(f.pop_front(), m.pop_front()); }
                }
                proptest::prop_assert_eq!(f.len(), m.len());
                proptest::prop_assert_eq!(f.front(), m.front().copied());
            }
            // Emptied, then used again.
            while let Some(v) = m.pop_front() {
                proptest::prop_assert_eq!(f.pop_front(), Some(v));
            }
            proptest::prop_assert!(f.is_empty());
            // (More than two chunks before the first pop.)
            let n = 2 * CHUNK as u64 + 3;
            for v in 0..n {
                f.push_back(v);
            }
            proptest::prop_assert_eq!(f.front(), Some(0));
            proptest::prop_assert_eq!(f.len(), 2 * CHUNK + 3);
            for v in 0..n {
                proptest::prop_assert_eq!(f.pop_front(), Some(v));
            }
            proptest::prop_assert_eq!(f.pop_front(), None);
        }
    }

    /// Where each run of segments leaves an entry, as the kernel's tables
    /// say: a DR director sees only the client's side of a close and sits
    /// in FIN_WAIT, a NAT one sees both and ends in TIME_WAIT; a reset
    /// from a full server reaches only the NAT director.
    #[test]
    fn composed_steps_end_where_the_kernel_tables_do() {
        use TcpState::{Close, Established, FinWait, SynRecv, TimeWait};
        let run = |st, nat: bool, steps: Steps| compose(st, !nat, steps.segments(nat));
        assert_eq!(
            run(SynRecv, false, Steps::Accept),
            (Established, true, true)
        );
        assert_eq!(
            run(SynRecv, true, Steps::Accept),
            (Established, false, true)
        );
        assert_eq!(run(Established, false, Steps::Close), (FinWait, true, true));
        assert_eq!(
            run(Established, true, Steps::Close),
            (TimeWait, false, true)
        );
        assert_eq!(
            run(SynRecv, false, Steps::Refuse),
            (Established, true, true)
        );
        assert_eq!(run(SynRecv, true, Steps::Refuse), (Close, false, true));
        assert_eq!(run(Established, false, Steps::Abort), (Close, true, true));
        // A segment that changes nothing is not a change.
        assert_eq!(run(Close, false, Steps::Abort), (Close, true, false));
    }

    /// The one-byte moves count an entry as `set_state` does: by the state
    /// the last change left, and only when a segment changed it.
    #[test]
    fn moves_recount_only_on_a_change_of_counter() {
        use TcpState::{Close, Established, FinWait, SynRecv, TimeWait};
        let conn = |st, no, inactive| ConnRef {
            code: ConnRef::code(st, no, inactive),
            dest: 0,
        };
        let mv = |c, nat: bool, steps: Steps| step_move(c, steps.segments(nat));
        // DR close: ESTABLISHED (active) → FIN_WAIT (inactive).
        let m = mv(conn(Established, true, false), false, Steps::Close);
        assert_eq!(m, ConnRef::code(FinWait, true, true) | RECOUNT);
        // NAT close: → TIME_WAIT, inactive.
        let m = mv(conn(Established, false, false), true, Steps::Close);
        assert_eq!(m, ConnRef::code(TimeWait, false, true) | RECOUNT);
        // The handshake: SYN_RECV is counted active since Linux 4.10, so
        // ESTABLISHED changes the state but not the counter.
        let m = mv(conn(SynRecv, true, false), false, Steps::Accept);
        assert_eq!(m, ConnRef::code(Established, true, false));
        // A reset on a closed entry changes nothing.
        let m = mv(conn(Close, true, true), false, Steps::Abort);
        assert_eq!(m, ConnRef::code(Close, true, true));
        // The code keeps what it packs.
        let c = conn(TimeWait, false, true);
        assert_eq!(
            (c.state(), c.nooutput(), c.inactive()),
            (TimeWait, false, true)
        );
    }

    #[test]
    fn dest_bits_cover_the_index() {
        assert_eq!(dest_bits(1), 1);
        assert_eq!(dest_bits(2), 1);
        assert_eq!(dest_bits(8), 3);
        assert_eq!(dest_bits(9), 4);
    }
}
