//! `nginx-random-two` — nginx's `random two`
//! (`src/http/modules/ngx_http_upstream_random_module.c`,
//! `ngx_http_upstream_get_random2_peer`).
//! **An nginx upstream method, not part of IPVS**: offered for comparison.
//!
//! Draws peers with `random % total_weight` over cumulative weight ranges
//! (all peers, `down` included); a draw that hits the previous pick or an
//! unusable peer counts as a try. With two distinct usable peers the one with
//! fewer `conns / weight` wins, the **second** draw on ties
//! (`conns2 * w1 > conns1 * w2` keeps the first). More than 20 tries, or
//! fewer than two peers, falls back to smooth round robin. Draws use
//! `rng.next_u32()` from the service's seeded stream. See
//! [`super::nginx_swrr`] for how destinations map onto nginx peers.

use super::nginx_swrr::{SwrrState, eligible, nginx_weight};
use super::{DestChange, DestInfo, SchedInput, Scheduler, why};
use crate::rng::{RngCore, SimRng};

/// nginx random two (comparison only).
#[derive(Debug, Default)]
pub struct NginxRandomTwo {
    rr: SwrrState,
    why: String,
}

impl NginxRandomTwo {
    fn peek(dests: &[DestInfo], total: i64, rng: &mut SimRng) -> usize {
        let mut x = i64::from(rng.next_u32()) % total;
        for (i, d) in dests.iter().enumerate() {
            x -= nginx_weight(d);
            if x < 0 {
                return i;
            }
        }
        dests.len() - 1
    }

    fn two(&mut self, dests: &[DestInfo], input: &SchedInput, rng: &mut SimRng) -> Option<usize> {
        if dests.len() < 2 {
            return None;
        }
        let total: i64 = dests.iter().map(nginx_weight).sum();
        let mut prev: Option<usize> = None;
        let mut tries = 0;
        loop {
            let i = Self::peek(dests, total, rng);
            if prev != Some(i) && eligible(&dests[i]) {
                if let Some(p) = prev {
                    let (c1, w1) = (i64::from(dests[p].activeconns), nginx_weight(&dests[p]));
                    let (c2, w2) = (i64::from(dests[i].activeconns), nginx_weight(&dests[i]));
                    let win = if c2 * w1 > c1 * w2 { p } else { i };
                    why!(
                        self,
                        input,
                        "nginx-random-two (not IPVS): drew {} and {}; {} has fewer conns/weight",
                        dests[p].addr,
                        dests[i].addr,
                        dests[win].addr
                    );
                    return Some(win);
                }
                prev = Some(i);
            }
            tries += 1;
            if tries > 20 {
                return None;
            }
        }
    }
}

impl Scheduler for NginxRandomTwo {
    fn name(&self) -> &'static str {
        "nginx-random-two"
    }

    fn update(&mut self, dests: &[DestInfo], _change: DestChange) {
        self.rr.reset(dests);
    }

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        rng: &mut SimRng,
    ) -> Option<usize> {
        self.rr.sync(dests);
        if let Some(i) = self.two(dests, input, rng) {
            return Some(i);
        }
        if let Some(i) = self.rr.pick(|i| eligible(&dests[i])) {
            why!(
                self,
                input,
                "nginx-random-two (not IPVS): no two usable draws in 20 tries; round robin -> {}",
                dests[i].addr
            );
            Some(i)
        } else {
            self.why = "nginx-random-two (not IPVS): no live upstreams".into();
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

    #[test]
    fn prefers_less_loaded_and_skips_down() {
        let mut d = dests(&[1, 1, 1]);
        d[2].weight = 0;
        let mut s = NginxRandomTwo::default();
        s.update(&d, DestChange::Init);
        d[0].activeconns = 5;
        // Two usable peers: every successful pair is {A, B} -> B.
        assert_eq!(sequence(&mut s, &d, 20), "B".repeat(20));
        d[1].overloaded = true;
        // Only A usable: falls back to round robin -> A.
        assert_eq!(sequence(&mut s, &d, 3), "AAA");
        d[0].weight = 0;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }

    #[test]
    fn ties_go_to_the_second_draw() {
        let d = dests(&[1, 1]);
        let mut s = NginxRandomTwo::default();
        s.update(&d, DestChange::Init);
        let seq = sequence(&mut s, &d, 100);
        assert!(seq.contains('A') && seq.contains('B'));
    }
}
