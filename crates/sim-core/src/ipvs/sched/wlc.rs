//! `wlc` — weighted least connection (`net/netfilter/ipvs/ip_vs_wlc.c`),
//! ipvsadm's default scheduler.
//!
//! The first non-overloaded destination with weight > 0 is the candidate;
//! each later non-overloaded D replaces the best B when
//! `overhead(B) * w(D) > overhead(D) * w(B)` with
//! `overhead = 256 * activeconns + inactconns` (never a division; strict `>`
//! keeps the earlier one on ties; a later weight-0 dest can never win).

use super::{DestChange, DestInfo, SchedInput, Scheduler, weighted_least};
use crate::rng::SimRng;

/// Weighted least-connection (stateless; `last` only feeds `explain()`,
/// which formats lazily).
#[derive(Debug, Default)]
pub struct WeightedLeastConnection {
    /// The last pick: (address, overhead, weight), `None` when none.
    last: Option<(std::net::Ipv4Addr, u64, u32)>,
}

impl Scheduler for WeightedLeastConnection {
    fn name(&self) -> &'static str {
        "wlc"
    }

    fn update(&mut self, _dests: &[DestInfo], _change: DestChange) {}

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        _input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        let i = weighted_least(dests);
        self.last = i.map(|i| {
            let d = &dests[i];
            (d.addr, d.overhead(), d.weight)
        });
        i
    }

    fn explain(&self) -> String {
        match self.last {
            Some((addr, overhead, weight)) => format!(
                "wlc: {addr} has the lowest (256*active+inactive)/weight = {overhead}/{weight}"
            ),
            None => "wlc: no real server with weight > 0 and not overloaded".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{dests, sequence};
    use super::*;

    #[test]
    fn weighted_ratio_and_ties() {
        let mut d = dests(&[1, 3]);
        let mut s = WeightedLeastConnection::default();
        // 0/1 vs 0/3: tie, A (first) wins.
        assert_eq!(sequence(&mut s, &d, 1), "A");
        d[0].activeconns = 1; // 256/1 vs 0/3
        assert_eq!(sequence(&mut s, &d, 1), "B");
        d[1].activeconns = 3; // 256/1 vs 768/3: tie -> A
        assert_eq!(sequence(&mut s, &d, 1), "A");
        d[1].activeconns = 2; // 256 vs 512/3 -> B
        assert_eq!(sequence(&mut s, &d, 1), "B");
        assert!(s.explain().contains("512/3"));
    }

    #[test]
    fn weight_zero_and_overloaded_never_win() {
        let mut d = dests(&[0, 2, 1]);
        d[1].activeconns = 10;
        d[2].overloaded = true;
        let mut s = WeightedLeastConnection::default();
        assert_eq!(sequence(&mut s, &d, 1), "B");
        d[1].overloaded = true;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }
}
