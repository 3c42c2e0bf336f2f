//! `lc` — least connection (`net/netfilter/ipvs/ip_vs_lc.c`).
//!
//! Skips overloaded destinations and weight 0; picks the minimal
//! `overhead = activeconns * 256 + inactconns` with strict `<`, so the first
//! minimal one in list order wins. The weight's magnitude is ignored.

use super::{DestChange, DestInfo, SchedInput, Scheduler, why};
use crate::rng::SimRng;

/// Least-connection (stateless).
#[derive(Debug, Default)]
pub struct LeastConnection {
    why: String,
}

impl Scheduler for LeastConnection {
    fn name(&self) -> &'static str {
        "lc"
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
            let doh = d.overhead();
            if least.is_none_or(|(_, loh)| doh < loh) {
                least = Some((i, doh));
            }
        }
        match least {
            Some((i, oh)) => {
                why!(
                    self,
                    input,
                    "lc: {} has the lowest 256*active+inactive = {oh}",
                    dests[i].addr
                );
                Some(i)
            }
            None => {
                self.why = "lc: no real server with weight > 0 and not overloaded".into();
                None
            }
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
    fn picks_least_overhead_first_on_ties() {
        let mut d = dests(&[1, 5, 1]);
        let mut s = LeastConnection::default();
        assert_eq!(sequence(&mut s, &d, 2), "AA");
        d[0].activeconns = 1;
        d[1].activeconns = 1;
        assert_eq!(sequence(&mut s, &d, 1), "C");
        d[2].activeconns = 1;
        d[1].inactconns = 3;
        d[0].inactconns = 4;
        // 260 vs 259 vs 256: C.
        assert_eq!(sequence(&mut s, &d, 1), "C");
        d[2].inactconns = 3;
        // B and C tie at 259: B (earlier) wins; weights ignored.
        assert_eq!(sequence(&mut s, &d, 1), "B");
        // 256 active-weighting: one active beats 255 inactive.
        let mut d = dests(&[1, 1]);
        d[0].inactconns = 255;
        d[1].activeconns = 1;
        assert_eq!(sequence(&mut s, &d, 1), "A");
    }

    #[test]
    fn skips_weight_zero_and_overloaded() {
        let mut d = dests(&[0, 1, 1]);
        d[1].overloaded = true;
        d[2].activeconns = 100;
        let mut s = LeastConnection::default();
        assert_eq!(sequence(&mut s, &d, 1), "C");
        d[2].weight = 0;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }
}
