//! `fo` — weighted failover (`net/netfilter/ipvs/ip_vs_fo.c`, kernel >= 4.2).
//!
//! Picks the non-overloaded destination with the highest weight (strict `>`
//! starting from 0, so the first among equals in list order, and weight 0
//! never). All new connections go to that one server.

use super::{DestChange, DestInfo, SchedInput, Scheduler, why};
use crate::rng::SimRng;

/// Weighted failover (stateless).
#[derive(Debug, Default)]
pub struct WeightedFailover {
    why: String,
}

impl Scheduler for WeightedFailover {
    fn name(&self) -> &'static str {
        "fo"
    }

    fn update(&mut self, _dests: &[DestInfo], _change: DestChange) {}

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        let mut hw = 0;
        let mut best = None;
        for (i, d) in dests.iter().enumerate() {
            if !d.overloaded && d.weight > hw {
                hw = d.weight;
                best = Some(i);
            }
        }
        if let Some(i) = best {
            why!(
                self,
                input,
                "fo: {} has the highest weight ({hw})",
                dests[i].addr
            );
        } else {
            self.why = "fo: no real server with weight > 0 and not overloaded".into();
        }
        best
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
    fn highest_weight_first_on_ties() {
        let mut d = dests(&[2, 5, 5]);
        let mut s = WeightedFailover::default();
        assert_eq!(sequence(&mut s, &d, 3), "BBB");
        d[1].activeconns = 1000; // connections do not matter
        assert_eq!(sequence(&mut s, &d, 1), "B");
        d[1].overloaded = true;
        assert_eq!(sequence(&mut s, &d, 1), "C");
        d[2].weight = 0;
        assert_eq!(sequence(&mut s, &d, 1), "A");
        d[0].weight = 0;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }
}
