//! The capacity model of one real server: `workers` identical workers, a
//! FIFO queue with a limit, a service-time distribution, crashes and
//! recoveries.
//!
//! A pure struct with no notion of packets: the flow-level engine
//! ([`crate::flow`]) calls it on arrivals and completions. Requests are
//! opaque `u32` ids chosen by the caller.
//!
//! ```text
//!   arrive ──► [ queue (FIFO, ≤ limit) ] ──► worker 1..workers ──► finish
//!      │ full → Full (the caller answers RST)      service time ~ Dist
//!      │ down → Down (nobody answers)
//! ```
//!
//! Modelled: a request occupies one worker for one service time; a free
//! worker takes the oldest queued request. Not modelled: CPU sharing between
//! workers, keep-alive, per-request service time depending on its size.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use crate::rng::SimRng;
use crate::workload::Dist;

/// What the scenario says about a real server.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerSpec {
    /// Name (the host name, or the address).
    pub name: String,
    /// The real server address (as in `ipvsadm -a -r`).
    pub addr: Ipv4Addr,
    /// Number of workers (requests served in parallel).
    pub workers: u32,
    /// Maximum number of queued (accepted, waiting) requests; `None` = no limit.
    pub queue_limit: Option<u32>,
    /// Service time of one request in ns.
    pub service: Dist,
    /// `(crash_ns, recover_ns)`: the server is down in `[crash, recover)`.
    pub outages: Vec<(u64, Option<u64>)>,
}

impl ServerSpec {
    /// A server with `workers` workers and exponential service of mean
    /// `mean_ns`, no queue limit, no outage.
    #[must_use]
    pub fn exponential(name: &str, addr: Ipv4Addr, workers: u32, mean_ns: f64) -> ServerSpec {
        ServerSpec {
            name: name.into(),
            addr,
            workers,
            queue_limit: None,
            service: Dist::Exponential { mean: mean_ns },
            outages: Vec::new(),
        }
    }

    /// Requests per second the server can serve at most.
    #[must_use]
    pub fn capacity_rps(&self) -> f64 {
        let m = self.service.mean();
        if m <= 0.0 {
            f64::INFINITY
        } else {
            f64::from(self.workers) * 1e9 / m
        }
    }
}

/// What happened to an arriving request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// A worker was free: service starts now and lasts this many ns.
    Start(u64),
    /// Waiting in the queue.
    Queued,
    /// The queue is full: refused (the caller answers with RST).
    Full,
    /// The server is down: no answer at all.
    Down,
}

/// The live state of one real server.
#[derive(Debug)]
pub struct ServerModel {
    /// The spec.
    pub spec: ServerSpec,
    rng: SimRng,
    busy: u32,
    queue: VecDeque<u32>,
    up: bool,
    /// The busy-worker time integral is `busy_ns + busy * now`: a worker
    /// that starts at `t` subtracts `t`, one that stops adds it (exact,
    /// in wrapping 128-bit arithmetic; no multiplication per event).
    busy_ns: u128,
    /// The same for queued requests: `queue_ns + queue.len() * now`.
    queue_ns: u128,
}

impl ServerModel {
    /// A server at time zero, up and idle, drawing service times from `rng`.
    #[must_use]
    pub fn new(spec: ServerSpec, rng: SimRng) -> ServerModel {
        ServerModel {
            spec,
            rng,
            busy: 0,
            queue: VecDeque::new(),
            up: true,
            busy_ns: 0,
            queue_ns: 0,
        }
    }

    /// Request `id` arrives at `now`.
    #[inline(always)]
    pub fn arrive(&mut self, now: u64, id: u32) -> Admit {
        if !self.up {
            return Admit::Down;
        }
        if self.busy < self.spec.workers {
            self.busy += 1;
            self.busy_ns = self.busy_ns.wrapping_sub(u128::from(now));
            return Admit::Start(self.spec.service.sample_u64(&mut self.rng));
        }
        if self
            .spec
            .queue_limit
            .is_some_and(|l| self.queue.len() >= l as usize)
        {
            return Admit::Full;
        }
        self.queue.push_back(id);
        self.queue_ns = self.queue_ns.wrapping_sub(u128::from(now));
        Admit::Queued
    }

    /// A request in service finished at `now`; returns the next request to
    /// start and its service time, if one was waiting.
    #[inline(always)]
    pub fn finish(&mut self, now: u64) -> Option<(u32, u64)> {
        match self.queue.pop_front() {
            // The worker goes on with the next request.
            Some(next) => {
                self.queue_ns = self.queue_ns.wrapping_add(u128::from(now));
                Some((next, self.spec.service.sample_u64(&mut self.rng)))
            }
            None => {
                debug_assert!(self.busy > 0);
                self.busy = self.busy.saturating_sub(1);
                self.busy_ns = self.busy_ns.wrapping_add(u128::from(now));
                None
            }
        }
    }

    /// The server crashes at `now`: every request in service or queued is
    /// lost. Returns the queued ones in queue order (which requests are in
    /// service, the caller knows: those it was told to start and has not
    /// finished; the model keeps only their number).
    pub fn crash(&mut self, now: u64) -> Vec<u32> {
        let (busy, queue) = self.integrals(now);
        (self.busy_ns, self.queue_ns) = (busy, queue);
        self.up = false;
        self.busy = 0;
        self.queue.drain(..).collect()
    }

    /// The server is back (idle).
    pub fn recover(&mut self) {
        self.up = true;
    }

    /// Whether the server is up.
    #[must_use]
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Busy workers now.
    #[must_use]
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Queued requests now.
    #[must_use]
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Integrals up to `now`: (busy-worker·ns, queued-request·ns).
    #[must_use]
    pub fn integrals(&self, now: u64) -> (u128, u128) {
        let now = u128::from(now);
        (
            self.busy_ns.wrapping_add(u128::from(self.busy) * now),
            self.queue_ns.wrapping_add(self.queue.len() as u128 * now),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng;

    fn model(workers: u32, limit: Option<u32>) -> ServerModel {
        let mut s = ServerSpec::exponential("rs", Ipv4Addr::new(10, 0, 0, 1), workers, 1e6);
        s.service = Dist::Fixed(1000.0);
        s.queue_limit = limit;
        ServerModel::new(s, rng::stream(1, "t"))
    }

    #[test]
    fn workers_then_fifo_queue_then_full() {
        let mut m = model(2, Some(1));
        assert_eq!(m.arrive(0, 1), Admit::Start(1000));
        assert_eq!(m.arrive(0, 2), Admit::Start(1000));
        assert_eq!(m.arrive(0, 3), Admit::Queued);
        assert_eq!(m.arrive(0, 4), Admit::Full);
        assert_eq!(m.finish(1000), Some((3, 1000)));
        assert_eq!(m.busy(), 2);
        assert_eq!(m.finish(2000), None);
        assert_eq!(m.finish(2000), None);
        assert_eq!(m.busy(), 0);
        // 2 workers busy for 2000 ns (3 took over from 2); 1 queued for 1000 ns.
        assert_eq!(m.integrals(2000), (4000, 1000));
    }

    #[test]
    fn crash_loses_everything_and_refuses_until_recovery() {
        let mut m = model(1, None);
        assert_eq!(m.arrive(0, 7), Admit::Start(1000));
        assert_eq!(m.arrive(0, 8), Admit::Queued);
        assert_eq!(m.busy(), 1);
        assert_eq!(m.crash(10), vec![8]);
        assert_eq!(m.busy(), 0);
        // One worker busy and one request queued for 10 ns; nothing after.
        assert_eq!(m.integrals(10), (10, 10));
        assert_eq!(m.integrals(25), (10, 10));
        assert_eq!(m.arrive(20, 9), Admit::Down);
        m.recover();
        assert!(m.is_up());
        assert_eq!(m.arrive(40, 10), Admit::Start(1000));
        assert_eq!(m.integrals(45), (15, 10));
    }

    proptest::proptest! {
        /// The integrals kept without a multiplication per event equal
        /// the step-by-step sums of busy workers and queued requests.
        #[test]
        fn integrals_are_the_step_sums(ops in proptest::collection::vec((0u8..4, 0u64..5_000), 0..300)) {
            let mut m = model(3, Some(4));
            let (mut t, mut busy_ns, mut queue_ns) = (0u64, 0u128, 0u128);
            for (i, (op, dt)) in ops.into_iter().enumerate() {
                busy_ns += u128::from(m.busy()) * u128::from(dt);
                queue_ns += m.queue_len() as u128 * u128::from(dt);
                t += dt;
                match op {
                    0 | 1 => {
                        let _ = m.arrive(t, u32::try_from(i).unwrap());
                    }
                    2 if m.busy() > 0 => {
                        let _ = m.finish(t);
                    }
                    3 if m.is_up() && i % 7 == 0 => {
                        let _ = m.crash(t);
                    }
                    _ => m.recover(),
                }
                proptest::prop_assert_eq!(m.integrals(t), (busy_ns, queue_ns));
            }
        }
    }

    #[test]
    fn capacity_follows_the_spec() {
        let s = ServerSpec::exponential("rs", Ipv4Addr::LOCALHOST, 4, 10e6);
        assert!((s.capacity_rps() - 400.0).abs() < 1e-9);
    }
}
