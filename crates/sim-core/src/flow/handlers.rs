//! What happens at each event of a flow run: an arrival, a completion, a
//! client giving up, a real server crashing.

use super::{
    Admit, CONNECT_TIMEOUT_NS, Ev, HDR, NOT_STARTED, Outcome, Req, Sim, Steps, Tuple, segs,
};
use crate::workload::Arrivals;

/// Client → server packets through the director and their bytes, for a
/// request of `req` bytes answered with `resp` bytes: SYN, ACK, request
/// segments, FIN, ACK, and an ACK per two response segments (each with an
/// IPIP header too when tunnelled).
#[inline]
pub(super) fn inbound(req: u64, resp: u64, tun: bool) -> (u64, u64) {
    let pkts = 4 + segs(req) + segs(resp).div_ceil(2);
    (pkts, pkts * (HDR + if tun { 20 } else { 0 }) + req)
}

impl Sim<'_> {
    /// A client sends a request (`user`: `u32::MAX` for an open-loop
    /// arrival). `PLAIN`: the run is [`Sim::plain`], so `user` is
    /// `u32::MAX`, sizes are fixed, and there is no director limit nor
    /// client timeout.
    #[inline(always)]
    pub(super) fn arrive<const PLAIN: bool>(&mut self, w: u32, user: u32) {
        let now = self.now;
        let wi = w as usize;
        let Some(src) = self.srcs.get_mut(wi) else {
            return;
        };
        if !PLAIN && src.done {
            return;
        }
        if now >= self.until || src.w.requests.is_some_and(|n| src.sent >= n) {
            src.done = true;
            self.live_srcs -= 1;
            return;
        }
        src.sent += 1;
        let client = if PLAIN || user == u32::MAX {
            src.pool.pick(&mut src.rng)
        } else {
            user % u32::try_from(src.pool.len()).unwrap_or(1)
        };
        let caddr = src.pool.addr(client);
        let cport = src.pool.next_port(client);
        let req_bytes = match src.fixed_sizes.0 {
            Some(b) => b,
            None => src.w.request_size.sample_u64(&mut src.rng),
        };
        let resp_bytes = match src.fixed_sizes.1 {
            Some(b) => b,
            None => src.w.response_size.sample_u64(&mut src.rng),
        };
        let max_time = if PLAIN { None } else { src.w.max_time_ns };
        let fixed_in = src.fixed_in;
        // Open loop: the next arrival is independent of this one.
        if PLAIN || user == u32::MAX {
            match &src.w.arrivals {
                Arrivals::Poisson { schedule, .. } => {
                    match schedule.next_arrival_gap(src.gap, now, &mut src.rng) {
                        Some(t) => self.open[wi] = t,
                        None => {
                            src.done = true;
                            self.live_srcs -= 1;
                        }
                    }
                }
                Arrivals::Closed { .. } => {}
            }
        }
        self.rec.arrival();
        let (in_pkts, in_bytes) = match fixed_in {
            Some(x) => x,
            None => inbound(req_bytes, resp_bytes, self.tun),
        };
        let Some(d_in) = self.dir_offer::<PLAIN>(now, in_pkts, in_bytes) else {
            self.director_dropped(w, user, max_time);
            return;
        };
        self.rec.director_in(in_pkts, in_bytes);
        let t = Tuple {
            caddr,
            cport,
            vaddr: self.vip,
            vport: self.vport,
        };
        let Some(mut conn) = self.path.syn(now, &t, &mut self.sched_rng) else {
            self.no_dest(w, user);
            return;
        };
        let server = self
            .dest_server
            .get(conn.dest as usize)
            .copied()
            .unwrap_or(0);
        if !PLAIN && let Some(c) = &mut self.choices {
            c.push(server);
        }
        self.rec.assigned(server, req_bytes);
        let slot = self.take_slot();
        let started = match self.servers[server as usize].arrive(now, slot) {
            admit @ (Admit::Down | Admit::Full) => {
                self.not_admitted(admit, slot, server, &t, conn, (w, user, max_time));
                return;
            }
            Admit::Start(service) => {
                self.path
                    .steps(now, || t, &mut conn, Steps::Accept, &mut self.sched_rng);
                self.q.push(now + service, Ev::Done { slot })
            }
            Admit::Queued => {
                self.path
                    .steps(now, || t, &mut conn, Steps::Accept, &mut self.sched_rng);
                NOT_STARTED
            }
        };
        let give_up = match max_time {
            Some(m) => self.q.push(now + m, Ev::GiveUp { slot }),
            None => NOT_STARTED,
        };
        self.slots[slot as usize] = Req {
            t0: now,
            d_in,
            tuple_c: u32::from(caddr),
            cport,
            server,
            user,
            w,
            resp_bytes: u32::try_from(resp_bytes).unwrap_or(u32::MAX),
            started,
            give_up,
            conn,
            ended: false,
            released: false,
        };
    }

    /// `DirQueue::offer` of a batch through the
    /// director; a plain run has no limit, so no delay.
    #[inline(always)]
    fn dir_offer<const PLAIN: bool>(&mut self, now: u64, pkts: u64, bytes: u64) -> Option<u64> {
        if PLAIN {
            Some(0)
        } else {
            self.dir.offer(now, pkts, bytes)
        }
    }

    /// The director's backlog is full: the request is dropped.
    #[cold]
    #[inline(never)]
    fn director_dropped(&mut self, w: u32, user: u32, max_time: Option<u64>) {
        // No entry: the client waits for its max_time or its connect timeout.
        self.rec.director_drop();
        self.rec.outcome(None, Outcome::TimedOut);
        self.next_user(w, user, max_time.unwrap_or(CONNECT_TIMEOUT_NS));
    }

    /// No real server available: ICMP port unreachable (curl says
    /// "Connection refused").
    #[cold]
    #[inline(never)]
    fn no_dest(&mut self, w: u32, user: u32) {
        self.rec.outcome(None, Outcome::Refused);
        self.next_user(w, user, 0);
    }

    /// The chosen real server is down or its queue is full.
    #[cold]
    #[inline(never)]
    fn not_admitted(
        &mut self,
        admit: Admit,
        slot: u32,
        server: u16,
        t: &Tuple,
        mut conn: crate::flow::ConnRef,
        (w, user, max_time): (u32, u32, Option<u64>),
    ) {
        let now = self.now;
        self.release(slot);
        if admit == Admit::Down {
            // Nobody answers the SYN: the entry stays in SYN_RECV.
            self.path.last_segment(now, &conn);
            self.rec.outcome(Some(server), Outcome::TimedOut);
            self.next_user(w, user, max_time.unwrap_or(CONNECT_TIMEOUT_NS));
        } else {
            // Handshake done, then the server resets (tcp_abort_on_overflow).
            self.path
                .steps(now, || *t, &mut conn, Steps::Refuse, &mut self.sched_rng);
            self.path.last_segment(now, &conn);
            self.rec.outcome(Some(server), Outcome::Reset);
            self.next_user(w, user, 0);
        }
    }

    /// A closed-loop user whose request ended `after` ns from now thinks,
    /// then sends the next one.
    #[inline(always)]
    fn next_user(&mut self, w: u32, user: u32, after: u64) {
        if user != u32::MAX {
            self.think(w, user, after);
        }
    }

    /// Closed loop: user `user` of workload `w` thinks, then sends its
    /// next request (out of line: open-loop arrivals are the hot case).
    #[inline(never)]
    fn think(&mut self, w: u32, user: u32, after: u64) {
        let Some(src) = self.srcs.get_mut(w as usize) else {
            return;
        };
        if let Arrivals::Closed { think, .. } = &src.w.arrivals {
            let t = think.sample_u64(&mut src.rng);
            self.q.push(self.now + after + t, Ev::Arrive { w, user });
        }
    }

    /// A real server finished request `slot` (a live one: `run` checks).
    /// `PLAIN`: as for [`Sim::arrive`] (no request ends before its
    /// completion, and the director forwards without delay).
    pub(super) fn done<const PLAIN: bool>(&mut self, slot: u32) {
        let now = self.now;
        // (Only what a completion reads: a whole copy of the request costs
        // a load and a store a field.)
        let r = &self.slots[slot as usize];
        let (t0, d_in, server, resp, mut conn, ended) =
            (r.t0, r.d_in, r.server, r.resp_bytes, r.conn, r.ended);
        if let Some((next, service)) = self.servers[server as usize].finish(now) {
            self.slots[next as usize].started = self.q.push(now + service, Ev::Done { slot: next });
        }
        self.rec.completed(server);
        debug_assert!(!PLAIN || !ended);
        if !PLAIN && ended {
            // The client gave up earlier; the work was done for nothing.
            self.release(slot);
            return;
        }
        let resp = u64::from(resp);
        let mut d_out = 0;
        let mut lost = false;
        if self.nat {
            let pkts = 3 + segs(resp);
            let bytes = pkts * HDR + resp;
            match self.dir_offer::<PLAIN>(now, pkts, bytes) {
                Some(d) => {
                    self.rec.director_out(pkts, bytes);
                    d_out = d;
                }
                None => {
                    self.rec.director_drop();
                    lost = true;
                }
            }
        }
        // (The addresses are built only if the path reads them.)
        let (slots, vip, vport) = (&self.slots, self.vip, self.vport);
        let t = || slots[slot as usize].tuple(vip, vport);
        self.path
            .steps(now, t, &mut conn, Steps::Close, &mut self.sched_rng);
        self.path.last_segment(now, &conn);
        if lost {
            self.rec.outcome(Some(server), Outcome::TimedOut);
        } else {
            let latency = now - t0 + d_in + d_out;
            self.rec.ok(server, latency, resp);
        }
        self.release(slot);
        if !PLAIN {
            let r = &self.slots[slot as usize];
            self.next_user(r.w, r.user, d_out);
        }
    }

    /// The client's `max_time` expired.
    pub(super) fn give_up(&mut self, slot: u32) {
        let r = self.slots[slot as usize];
        if r.ended {
            return;
        }
        let t = self.tuple(&r);
        let mut conn = r.conn;
        self.path
            .steps(self.now, || t, &mut conn, Steps::Abort, &mut self.sched_rng);
        self.path.last_segment(self.now, &conn);
        self.rec.outcome(Some(r.server), Outcome::TimedOut);
        self.next_user(r.w, r.user, 0);
        let s = &mut self.slots[slot as usize];
        s.ended = true;
        s.conn = conn;
        if s.released {
            self.release(slot);
        }
    }

    /// A real server crashes: what it held is lost.
    pub(super) fn crash(&mut self, server: u32) {
        let now = self.now;
        let Some(s) = self.servers.get_mut(server as usize) else {
            return;
        };
        let queued = s.crash(now);
        // Lost: the requests in service, in the order they started, then
        // the queue.
        let mut lost: Vec<(u64, u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                u32::from(r.server) == server && r.started != NOT_STARTED && !r.released
            })
            .map(|(i, r)| (r.started, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        lost.sort_unstable();
        let lost: Vec<u32> = lost
            .into_iter()
            .map(|(_, slot)| slot)
            .chain(queued)
            .collect();
        for slot in lost {
            let r = self.slots[slot as usize];
            self.slots[slot as usize].released = true;
            if r.ended {
                self.release(slot);
                continue;
            }
            let has_timer = self
                .srcs
                .get(r.w as usize)
                .is_some_and(|s| s.w.max_time_ns.is_some());
            if !has_timer {
                // Without --max-time the client gives up now (simplified).
                let t = self.tuple(&r);
                let mut conn = r.conn;
                self.path
                    .steps(now, || t, &mut conn, Steps::Abort, &mut self.sched_rng);
                self.path.last_segment(now, &conn);
                self.rec.outcome(Some(r.server), Outcome::TimedOut);
                self.slots[slot as usize].ended = true;
                self.release(slot);
                self.next_user(r.w, r.user, 0);
            }
        }
    }
}
