//! `nq` — never queue (`net/netfilter/ipvs/ip_vs_nq.c`).
//!
//! Walks non-overloaded destinations with weight != 0 in list order: the
//! first one with `activeconns == 0` is returned immediately (regardless of
//! weight or inactive connections); otherwise the `sed` minimum of
//! `(activeconns + 1) / weight` (cross-multiplied, strict `>`) is kept.

use super::sed::sed_overhead;
use super::{DestChange, DestInfo, SchedInput, Scheduler, mul64, why};
use crate::rng::SimRng;

/// Never-queue (stateless).
#[derive(Debug, Default)]
pub struct NeverQueue {
    why: String,
}

impl Scheduler for NeverQueue {
    fn name(&self) -> &'static str {
        "nq"
    }

    fn update(&mut self, _dests: &[DestInfo], _change: DestChange) {}

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        let mut least: Option<(usize, u64)> = None;
        for (i, d) in dests.iter().enumerate() {
            if d.overloaded || d.weight == 0 {
                continue;
            }
            let doh = sed_overhead(d);
            if d.activeconns == 0 {
                why!(
                    self,
                    input,
                    "nq: {} is the first idle real server (0 active)",
                    d.addr
                );
                return Some(i);
            }
            let better = match least {
                None => true,
                Some((b, loh)) => mul64(loh, d.weight) > mul64(doh, dests[b].weight),
            };
            if better {
                least = Some((i, doh));
            }
        }
        if let Some((i, oh)) = least {
            why!(
                self,
                input,
                "nq: nobody idle; {} has the lowest (active+1)/weight = {oh}/{}",
                dests[i].addr,
                dests[i].weight
            );
            Some(i)
        } else {
            self.why = "nq: no real server with weight > 0 and not overloaded".into();
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
    fn first_idle_wins_then_sed() {
        let mut d = dests(&[1, 10, 1]);
        let mut s = NeverQueue::default();
        assert_eq!(sequence(&mut s, &d, 1), "A");
        d[0].activeconns = 1;
        d[1].activeconns = 5;
        d[2].inactconns = 99;
        // C is idle (inactive ignored) even though B is "faster".
        assert_eq!(sequence(&mut s, &d, 1), "C");
        d[2].activeconns = 1;
        // 2/1, 6/10, 2/1 -> B.
        assert_eq!(sequence(&mut s, &d, 1), "B");
        d[1].activeconns = 19; // 2/1 vs 20/10: tie -> A
        assert_eq!(sequence(&mut s, &d, 1), "A");
    }

    #[test]
    fn skips_weight_zero_and_overloaded() {
        let mut d = dests(&[0, 1, 1]);
        d[1].overloaded = true;
        d[2].activeconns = 3;
        let mut s = NeverQueue::default();
        assert_eq!(sequence(&mut s, &d, 1), "C");
        d[2].overloaded = true;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }
}
