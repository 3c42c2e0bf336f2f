//! `ovf` — weighted overflow (`net/netfilter/ipvs/ip_vs_ovf.c`, >= 4.3).
//!
//! Considers destinations that are not overloaded, have weight != 0 and
//! `activeconns <= weight`; picks the highest weight (first in list order on
//! ties). A destination keeps receiving until it has `weight + 1` active
//! connections, then traffic overflows to the next-highest weight. Only
//! active connections count (UDP connections are never active).

use super::{DestChange, DestInfo, SchedInput, Scheduler, why};
use crate::rng::SimRng;

/// Weighted overflow (stateless).
#[derive(Debug, Default)]
pub struct WeightedOverflow {
    why: String,
}

impl Scheduler for WeightedOverflow {
    fn name(&self) -> &'static str {
        "ovf"
    }

    fn update(&mut self, _dests: &[DestInfo], _change: DestChange) {}

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, d) in dests.iter().enumerate() {
            if d.overloaded || d.activeconns > d.weight || d.weight == 0 {
                continue;
            }
            if best.is_none_or(|b| d.weight > dests[b].weight) {
                best = Some(i);
            }
        }
        if let Some(i) = best {
            let d = &dests[i];
            why!(
                self,
                input,
                "ovf: {} has the highest weight ({}) with active {} <= weight",
                d.addr,
                d.weight,
                d.activeconns
            );
        } else {
            self.why =
                "ovf: every real server is full (active > weight), weight 0 or overloaded".into();
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
    fn overflows_after_weight_plus_one_active() {
        let mut d = dests(&[1, 2, 2]);
        let mut s = WeightedOverflow::default();
        assert_eq!(sequence(&mut s, &d, 1), "B");
        d[1].activeconns = 2; // still <= weight
        assert_eq!(sequence(&mut s, &d, 1), "B");
        d[1].activeconns = 3;
        assert_eq!(sequence(&mut s, &d, 1), "C");
        d[1].inactconns = 0;
        d[2].activeconns = 3;
        d[2].inactconns = 50; // inactive ignored
        assert_eq!(sequence(&mut s, &d, 1), "A");
        d[0].activeconns = 2;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }

    #[test]
    fn skips_weight_zero_and_overloaded() {
        let mut d = dests(&[0, 3, 1]);
        d[1].overloaded = true;
        let mut s = WeightedOverflow::default();
        assert_eq!(sequence(&mut s, &d, 1), "C");
    }
}
