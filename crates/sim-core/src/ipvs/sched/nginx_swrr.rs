//! `nginx-rr` — nginx's smooth weighted round robin
//! (`src/http/ngx_http_upstream_round_robin.c`, `ngx_http_upstream_get_peer`).
//! **An nginx upstream method, not part of IPVS**: offered for comparison.
//!
//! Each peer has `weight`, `effective_weight` (starts = weight) and
//! `current_weight` (starts 0). Per selection, over eligible peers:
//! `current += effective; total += effective; if effective < weight:
//! effective++`; the peer with the largest `current` wins (first in order on
//! ties); then `best.current -= total`. Weights 5,1,1 give `a a b a c a a`
//! (interleaved, where IPVS `wrr` bursts `A A A A A B C`).
//!
//! Mapping onto the lab's destinations: peer order = the list order given to
//! the scheduler; `conns` = `activeconns`; weight 0 = `down` (its nginx
//! weight is its last non-zero weight, at least 1, so hash mappings of the
//! others do not move); overloaded = `max_conns` reached. nginx balances per
//! request; here one call = one request. There are no passive failures, so
//! `effective_weight` stays equal to `weight`. Any change of the server list
//! resets the counters (as an nginx reload does).

use super::{DestChange, DestInfo, SchedInput, Scheduler, why};
use crate::rng::SimRng;

/// One nginx peer's round-robin counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Peer {
    pub id: u64,
    pub weight: i64,
    pub effective: i64,
    pub current: i64,
}

/// nginx's weight for a destination (never 0; weight 0 means `down`).
pub(crate) fn nginx_weight(d: &DestInfo) -> i64 {
    i64::from(if d.weight > 0 {
        d.weight
    } else {
        d.last_weight.max(1)
    })
}

/// Whether nginx may use a peer: not `down` (weight 0), not at `max_conns`.
pub(crate) fn eligible(d: &DestInfo) -> bool {
    d.weight > 0 && !d.overloaded && d.available
}

/// The smooth-WRR counters of an upstream group.
#[derive(Debug, Default)]
pub(crate) struct SwrrState {
    pub peers: Vec<Peer>,
}

impl SwrrState {
    /// Resets the counters to match `dests` (a reload).
    pub fn reset(&mut self, dests: &[DestInfo]) {
        self.peers = dests
            .iter()
            .map(|d| Peer {
                id: d.id,
                weight: nginx_weight(d),
                effective: nginx_weight(d),
                current: 0,
            })
            .collect();
    }

    /// Resets if the peers no longer match `dests`.
    pub fn sync(&mut self, dests: &[DestInfo]) {
        let same = self.peers.len() == dests.len()
            && self
                .peers
                .iter()
                .zip(dests)
                .all(|(p, d)| p.id == d.id && p.weight == nginx_weight(d));
        if !same {
            self.reset(dests);
        }
    }

    /// `ngx_http_upstream_get_peer` over the peers for which `ok(i)` holds.
    pub fn pick(&mut self, ok: impl Fn(usize) -> bool) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut total = 0;
        for i in 0..self.peers.len() {
            if !ok(i) {
                continue;
            }
            let p = &mut self.peers[i];
            p.current += p.effective;
            total += p.effective;
            if p.effective < p.weight {
                p.effective += 1;
            }
            if best.is_none_or(|b| self.peers[i].current > self.peers[b].current) {
                best = Some(i);
            }
        }
        let b = best?;
        self.peers[b].current -= total;
        Some(b)
    }
}

/// nginx smooth weighted round robin (comparison only).
#[derive(Debug, Default)]
pub struct NginxSmoothWrr {
    state: SwrrState,
    why: String,
}

impl Scheduler for NginxSmoothWrr {
    fn name(&self) -> &'static str {
        "nginx-rr"
    }

    fn update(&mut self, dests: &[DestInfo], _change: DestChange) {
        self.state.reset(dests);
    }

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        self.state.sync(dests);
        if let Some(i) = self.state.pick(|i| eligible(&dests[i])) {
            why!(
                self,
                input,
                "nginx-rr (not IPVS): {} had the highest current_weight (now {})",
                dests[i].addr,
                self.state.peers[i].current
            );
            Some(i)
        } else {
            self.why = "nginx-rr (not IPVS): no live upstreams".into();
            None
        }
    }

    fn explain(&self) -> String {
        self.why.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{dests, sequence};
    use super::*;

    fn fresh(w: &[u32]) -> (NginxSmoothWrr, Vec<DestInfo>) {
        let d = dests(w);
        let mut s = NginxSmoothWrr::default();
        s.update(&d, DestChange::Init);
        (s, d)
    }

    #[test]
    fn reference_sequences() {
        let (mut s, d) = fresh(&[5, 1, 1]);
        assert_eq!(sequence(&mut s, &d, 14), "AABACAAAABACAA");
        let (mut s, d) = fresh(&[4, 3, 2]);
        assert_eq!(sequence(&mut s, &d, 9), "ABCABACBA");
    }

    #[test]
    fn down_and_max_conns_are_skipped() {
        let (mut s, mut d) = fresh(&[1, 1, 1]);
        d[1].weight = 0;
        d[2].overloaded = true;
        assert_eq!(sequence(&mut s, &d, 3), "AAA");
        d[0].weight = 0;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }
}
