//! `sed` — shortest expected delay (`net/netfilter/ipvs/ip_vs_sed.c`).
//!
//! Like `wlc` but the overhead is `activeconns + 1` (inactive connections
//! are ignored): minimise `(activeconns + 1) / weight` by
//! cross-multiplication. The first candidate is the first non-overloaded
//! destination with weight > 0; later ones replace it only on strict `>`.

use super::{DestChange, DestInfo, SchedInput, Scheduler, mul64, why};
use crate::rng::SimRng;

/// Shortest-expected-delay (stateless).
#[derive(Debug, Default)]
pub struct ShortestExpectedDelay {
    why: String,
}

/// `ip_vs_sed_dest_overhead`: `activeconns + 1`.
pub(crate) fn sed_overhead(d: &DestInfo) -> u64 {
    u64::from(d.activeconns) + 1
}

impl Scheduler for ShortestExpectedDelay {
    fn name(&self) -> &'static str {
        "sed"
    }

    fn update(&mut self, _dests: &[DestInfo], _change: DestChange) {}

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        let mut best: Option<(usize, u64)> = None;
        for (i, d) in dests.iter().enumerate() {
            if d.overloaded {
                continue;
            }
            match best {
                None if d.weight > 0 => best = Some((i, sed_overhead(d))),
                None => {}
                Some((b, loh)) => {
                    let doh = sed_overhead(d);
                    if mul64(loh, d.weight) > mul64(doh, dests[b].weight) {
                        best = Some((i, doh));
                    }
                }
            }
        }
        if let Some((i, oh)) = best {
            why!(
                self,
                input,
                "sed: {} has the lowest (active+1)/weight = {oh}/{}",
                dests[i].addr,
                dests[i].weight
            );
            Some(i)
        } else {
            self.why = "sed: no real server with weight > 0 and not overloaded".into();
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
    fn prefers_heavier_weight_when_idle() {
        let mut d = dests(&[1, 3]);
        let mut s = ShortestExpectedDelay::default();
        // 1/1 vs 1/3 -> B.
        assert_eq!(sequence(&mut s, &d, 1), "B");
        d[1].activeconns = 2; // 1/1 vs 3/3: tie -> A
        assert_eq!(sequence(&mut s, &d, 1), "A");
        d[0].inactconns = 1000; // inactive ignored
        assert_eq!(sequence(&mut s, &d, 1), "A");
        d[1].activeconns = 1; // 1/1 vs 2/3 -> B
        assert_eq!(sequence(&mut s, &d, 1), "B");
    }

    #[test]
    fn skips_weight_zero_and_overloaded() {
        let mut d = dests(&[0, 1, 5]);
        d[2].overloaded = true;
        d[1].activeconns = 7;
        let mut s = ShortestExpectedDelay::default();
        assert_eq!(sequence(&mut s, &d, 1), "B");
        d[1].weight = 0;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }
}
