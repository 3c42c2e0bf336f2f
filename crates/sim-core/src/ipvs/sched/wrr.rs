//! `wrr` — weighted round robin (`net/netfilter/ipvs/ip_vs_wrr.c`, the
//! current algorithm with the "last pass" stop logic).
//!
//! State `{cl, cw, mw, di}`: `di` = gcd of all weights > 0 (1 if none),
//! `mw = max_weight - (di - 1)`, `cw` = current weight threshold, `cl` = the
//! last chosen destination (initially the list head). A pick walks forward
//! from the entry after `cl` and takes the first non-overloaded destination
//! with `weight >= cw`; at the end of the list `cw -= di` (back to `mw` when
//! it drops to 0 or below) and the walk restarts at the head.
//!
//! On every add/delete/edit: recompute `di` and `mw`, `cl` = head, and
//! `cw = mw` if `cw > mw || cw == 0`, else `cw = (cw / di) * di + 1` when
//! `di > 1`. So the history of changes matters (see the tests).

use super::{DestChange, DestInfo, SchedInput, Scheduler, gcd, why};
use crate::rng::SimRng;

/// Weighted round-robin state.
#[derive(Debug, Default)]
pub struct WeightedRoundRobin {
    /// `cl`: id of the last chosen destination, `None` = list head.
    cl: Option<u64>,
    /// `cw`: current weight.
    cw: i64,
    /// `mw`: maximum weight minus `di - 1`.
    mw: i64,
    /// `di`: gcd of the weights > 0 (1 if none).
    di: i64,
    why: String,
}

impl WeightedRoundRobin {
    fn recompute(&mut self, dests: &[DestInfo]) {
        let g = dests
            .iter()
            .filter(|d| d.weight > 0)
            .fold(0, |g, d| gcd(g, d.weight));
        self.di = i64::from(if g == 0 { 1 } else { g });
        let max = dests.iter().map(|d| d.weight).max().unwrap_or(0);
        self.mw = i64::from(max) - (self.di - 1);
    }

    /// Current `(cw, mw, di)`, for the inspector and tests.
    #[must_use]
    pub fn state(&self) -> (i64, i64, i64) {
        (self.cw, self.mw, self.di)
    }
}

impl Scheduler for WeightedRoundRobin {
    fn name(&self) -> &'static str {
        "wrr"
    }

    fn update(&mut self, dests: &[DestInfo], change: DestChange) {
        self.cl = None;
        self.recompute(dests);
        if change == DestChange::Init {
            // ip_vs_wrr_init_svc
            self.cw = self.mw;
        } else if self.cw > self.mw || self.cw == 0 {
            // ip_vs_wrr_dest_changed
            self.cw = self.mw;
        } else if self.di > 1 {
            self.cw = (self.cw / self.di) * self.di + 1;
        }
    }

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        if self.mw == 0 {
            self.why = "wrr: every real server has weight 0".into();
            return None;
        }
        // `last` = the cursor (None = head sentinel).
        let last = self.cl.and_then(|id| dests.iter().position(|d| d.id == id));
        let mut idx = last.map_or(0, |i| i + 1);
        let mut stop: Option<usize> = None;
        let mut last_pass = false;
        let mut restarted = false;
        loop {
            while idx < dests.len() {
                let d = &dests[idx];
                if !d.overloaded && i64::from(d.weight) >= self.cw {
                    self.cl = Some(d.id);
                    why!(
                        self,
                        input,
                        "wrr: {} is the next with weight {} >= cw {} (di {}, mw {})",
                        d.addr,
                        d.weight,
                        self.cw,
                        self.di,
                        self.mw
                    );
                    return Some(idx);
                }
                if stop == Some(idx) {
                    self.cl = Some(d.id);
                    self.why = "wrr: all real servers are overloaded".into();
                    return None;
                }
                idx += 1;
            }
            // Back at the head sentinel.
            self.cw -= self.di;
            if self.cw <= 0 {
                self.cw = self.mw;
                if last_pass || last.is_none() {
                    self.cl = None;
                    self.why = "wrr: all real servers are overloaded".into();
                    return None;
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last.is_some() {
                stop = last;
            }
            idx = 0;
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

    fn fresh(w: &[u32]) -> (WeightedRoundRobin, Vec<DestInfo>) {
        let d = dests(w);
        let mut s = WeightedRoundRobin::default();
        s.update(&d, DestChange::Init);
        (s, d)
    }

    #[test]
    fn reference_sequences() {
        let (mut s, d) = fresh(&[4, 3, 2]);
        assert_eq!(sequence(&mut s, &d, 18), "AABABCABCAABABCABC");
        let (mut s, d) = fresh(&[5, 1, 1]);
        assert_eq!(sequence(&mut s, &d, 14), "AAAAABCAAAAABC");
        let (mut s, d) = fresh(&[4, 2]);
        assert_eq!(s.state(), (3, 3, 2));
        assert_eq!(sequence(&mut s, &d, 6), "AABAAB");
    }

    #[test]
    fn add_history_matters() {
        // Service created empty, then rs1 w3 added, then rs2 w1 (list rs2, rs1).
        let mut s = WeightedRoundRobin::default();
        s.update(&[], DestChange::Init);
        let mut rs1 = dests(&[3]);
        rs1[0].id = 1;
        s.update(&rs1, DestChange::Added { id: 1 });
        assert_eq!(s.state(), (1, 1, 3));
        let mut list = dests(&[1]);
        list[0].id = 2;
        list.push(rs1[0].clone());
        s.update(&list, DestChange::Added { id: 2 });
        assert_eq!(s.state(), (1, 3, 1));
        assert_eq!(sequence(&mut s, &list, 8), "ABBBABBB");
    }

    #[test]
    fn edit_resets_cursor_and_rounds_cw() {
        let (mut s, mut d) = fresh(&[4, 3, 2]);
        assert_eq!(sequence(&mut s, &d, 3), "AAB");
        d[1].weight = 6; // di = 2, mw = 5; cw = (3/2)*2 + 1 = 3; cl = head
        s.update(&d, DestChange::Edited { id: 1 });
        assert_eq!(s.state(), (3, 5, 2));
        assert_eq!(sequence(&mut s, &d, 2), "AB");
        // Rounding moves cw: weights 6,3 (di 3, mw 4, cw 4) -> edit B to 2
        // gives di 2, mw 5 and cw = (4/2)*2 + 1 = 5.
        let (mut s, mut d) = fresh(&[6, 3]);
        assert_eq!(sequence(&mut s, &d, 1), "A");
        d[1].weight = 2;
        s.update(&d, DestChange::Edited { id: 1 });
        assert_eq!(s.state(), (5, 5, 2));
        assert_eq!(sequence(&mut s, &d, 1), "A");
    }

    #[test]
    fn skips_weight_zero_and_overloaded() {
        let (mut s, mut d) = fresh(&[2, 0, 1]);
        assert_eq!(sequence(&mut s, &d, 6), "AACAAC");
        d[0].overloaded = true;
        assert_eq!(sequence(&mut s, &d, 2), "CC");
        d[2].overloaded = true;
        assert_eq!(sequence(&mut s, &d, 2), "--");
        let (mut s, d) = fresh(&[0, 0]);
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }
}
