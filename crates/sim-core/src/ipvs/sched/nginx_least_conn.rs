//! `nginx-least_conn` — nginx's `least_conn`
//! (`src/http/modules/ngx_http_upstream_least_conn_module.c`).
//! **An nginx upstream method, not part of IPVS**: offered for comparison.
//!
//! Minimal `conns / weight` by cross-multiplication (`conns_a * w_b <
//! conns_b * w_a`, first in order wins); if several peers tie, the smooth-WRR
//! counters choose among the tied ones only (starting at the first tied
//! peer), and the winner's `current_weight -= total` of the tied effective
//! weights. `conns` = the destination's active connections. See
//! [`super::nginx_swrr`] for how destinations map onto nginx peers.

use super::nginx_swrr::{SwrrState, eligible, nginx_weight};
use super::{DestChange, DestInfo, SchedInput, Scheduler, why};
use crate::rng::SimRng;

/// nginx least_conn (comparison only).
#[derive(Debug, Default)]
pub struct NginxLeastConn {
    rr: SwrrState,
    why: String,
}

impl Scheduler for NginxLeastConn {
    fn name(&self) -> &'static str {
        "nginx-least_conn"
    }

    fn update(&mut self, dests: &[DestInfo], _change: DestChange) {
        self.rr.reset(dests);
    }

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        self.rr.sync(dests);
        let conns = |i: usize| i64::from(dests[i].activeconns);
        let w = |i: usize| nginx_weight(&dests[i]);
        let mut best: Option<usize> = None;
        let mut many = false;
        for (i, d) in dests.iter().enumerate() {
            if !eligible(d) {
                continue;
            }
            match best {
                Some(b) if conns(i) * w(b) < conns(b) * w(i) => {
                    best = Some(i);
                    many = false;
                }
                Some(b) if conns(i) * w(b) == conns(b) * w(i) => many = true,
                Some(_) => {}
                None => best = Some(i),
            }
        }
        let Some(first) = best else {
            self.why = "nginx-least_conn (not IPVS): no live upstreams".into();
            return None;
        };
        let mut b = first;
        let mut total = 0;
        if many {
            for (i, d) in dests.iter().enumerate().skip(first) {
                if !eligible(d) || conns(i) * w(b) != conns(b) * w(i) {
                    continue;
                }
                let p = &mut self.rr.peers[i];
                p.current += p.effective;
                total += p.effective;
                if p.effective < p.weight {
                    p.effective += 1;
                }
                if self.rr.peers[i].current > self.rr.peers[b].current {
                    b = i;
                }
            }
        }
        self.rr.peers[b].current -= total;
        why!(
            self,
            input,
            "nginx-least_conn (not IPVS): {} has the fewest conns/weight = {}/{}{}",
            dests[b].addr,
            dests[b].activeconns,
            self.rr.peers[b].weight,
            if many {
                " (tie broken by round robin)"
            } else {
                ""
            }
        );
        Some(b)
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
    fn least_then_smooth_rr_on_ties() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = NginxLeastConn::default();
        s.update(&d, DestChange::Init);
        // All tied at 0: smooth RR over the three.
        assert_eq!(sequence(&mut s, &d, 6), "ABCABC");
        d[0].activeconns = 1;
        d[1].activeconns = 2;
        d[2].activeconns = 1;
        // A and C tie at 1: round-robin between them.
        assert_eq!(sequence(&mut s, &d, 4), "ACAC");
        d[2].activeconns = 0;
        assert_eq!(sequence(&mut s, &d, 2), "CC");
    }

    #[test]
    fn weighted_and_skips() {
        let mut d = dests(&[1, 4, 1]);
        d[0].activeconns = 1;
        d[1].activeconns = 3; // 3/4 < 1/1
        d[2].weight = 0; // down
        let mut s = NginxLeastConn::default();
        s.update(&d, DestChange::Init);
        assert_eq!(sequence(&mut s, &d, 1), "B");
        d[1].overloaded = true;
        assert_eq!(sequence(&mut s, &d, 1), "A");
        d[0].overloaded = true;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }
}
