//! `twos` — weighted random power-of-two-choices
//! (`net/netfilter/ipvs/ip_vs_twos.c`, kernel >= 6.2).
//!
//! `total` = sum of the weights of non-overloaded destinations with
//! weight > 0. Two draws `r1, r2 = random % (total + 1)` (0..=total). Walking
//! the eligible destinations in list order, each weight is subtracted from
//! both; the first destination where `r1 <= 0` is choice1, where `r2 <= 0`
//! choice2 (possibly the same). choice2 wins only if
//! `weight2 * overhead1 > weight1 * overhead2` (overhead = 256*active +
//! inactive), else choice1. The `+ 1` makes the first eligible destination
//! slightly more likely (it also takes r = 0).
//!
//! Draws: `rng.next_u32() % (total + 1)`, r1 first, from the service's own
//! seeded stream (the kernel uses `prandom_u32`/`get_random_u32_below`).
//! Products are computed in u64 (the kernel uses `int`).

use super::{DestChange, DestInfo, SchedInput, Scheduler, mul64, why};
use crate::rng::{RngCore, SimRng};

/// Power-of-two-choices (stateless apart from the explanation).
#[derive(Debug, Default)]
pub struct TwoChoices {
    why: String,
}

impl Scheduler for TwoChoices {
    fn name(&self) -> &'static str {
        "twos"
    }

    fn update(&mut self, _dests: &[DestInfo], _change: DestChange) {}

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        rng: &mut SimRng,
    ) -> Option<usize> {
        let eligible = |d: &DestInfo| !d.overloaded && d.weight > 0;
        let total: u64 = dests
            .iter()
            .filter(|d| eligible(d))
            .map(|d| u64::from(d.weight))
            .sum();
        if total == 0 {
            self.why = "twos: no real server with weight > 0 and not overloaded".into();
            return None;
        }
        let r1_draw = u64::from(rng.next_u32()) % (total + 1);
        let r2_draw = u64::from(rng.next_u32()) % (total + 1);
        let (mut r1, mut r2) = (r1_draw as i64, r2_draw as i64);
        let mut c1: Option<usize> = None;
        let mut c2: Option<usize> = None;
        for (i, d) in dests.iter().enumerate() {
            if !eligible(d) {
                continue;
            }
            r1 -= i64::from(d.weight);
            r2 -= i64::from(d.weight);
            if r1 <= 0 && c1.is_none() {
                c1 = Some(i);
            }
            if r2 <= 0 && c2.is_none() {
                c2 = Some(i);
            }
            if c1.is_some() && c2.is_some() {
                break;
            }
        }
        let (a, b) = (c1?, c2?);
        let (da, db) = (&dests[a], &dests[b]);
        let pick = if mul64(da.overhead(), db.weight) > mul64(db.overhead(), da.weight) {
            b
        } else {
            a
        };
        why!(
            self,
            input,
            "twos: draws {r1_draw},{r2_draw} of 0..={total} chose {} and {}; {} has the lower (256*active+inactive)/weight",
            da.addr,
            db.addr,
            dests[pick].addr
        );
        Some(pick)
    }

    fn explain(&self) -> String {
        self.why.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{dests, input, sequence};
    use super::*;

    #[test]
    fn never_picks_ineligible_and_prefers_less_loaded() {
        let mut d = dests(&[3, 0, 2, 1]);
        d[3].overloaded = true;
        let mut s = TwoChoices::default();
        let seq = sequence(&mut s, &d, 200);
        assert!(!seq.contains('B') && !seq.contains('D'));
        assert!(seq.contains('A') && seq.contains('C'));
        // Heavily loaded A: picked only when both draws land on A.
        d[0].activeconns = 1000;
        let seq = sequence(&mut s, &d, 300);
        let a = seq.chars().filter(|c| *c == 'A').count();
        assert!(a < 150, "{a}");
        d[0].weight = 0;
        d[2].weight = 0;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }

    #[test]
    fn deterministic_with_same_stream() {
        let d = dests(&[1, 2, 3]);
        let inp = input(std::net::Ipv4Addr::new(1, 1, 1, 1));
        let mut r1 = crate::rng::stream(7, "twos");
        let mut r2 = crate::rng::stream(7, "twos");
        let mut s = TwoChoices::default();
        for _ in 0..50 {
            assert_eq!(s.schedule(&d, &inp, &mut r1), s.schedule(&d, &inp, &mut r2));
        }
    }

    #[test]
    fn walk_matches_kernel_rule() {
        // With equal load choice1 always wins: emulate the draws by hand.
        let d = dests(&[2, 3]);
        let inp = input(std::net::Ipv4Addr::new(1, 1, 1, 1));
        let mut rng = crate::rng::stream(3, "walk");
        let mut shadow = crate::rng::stream(3, "walk");
        let mut s = TwoChoices::default();
        for _ in 0..40 {
            let r1 = shadow.next_u32() % 6;
            let _ = shadow.next_u32();
            let want = if r1 <= 2 { 0 } else { 1 };
            assert_eq!(s.schedule(&d, &inp, &mut rng), Some(want));
        }
    }
}
