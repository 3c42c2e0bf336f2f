//! `rr` — round robin (`net/netfilter/ipvs/ip_vs_rr.c`).
//!
//! Keeps a cursor on the last chosen destination (initially the list head
//! sentinel). Each pick walks forward from the entry after the cursor,
//! wrapping once, and takes the first destination with weight > 0 that is not
//! overloaded. When the destination under the cursor is deleted the cursor
//! moves to its predecessor, so the cycle continues with the one after it.

use super::{DestChange, DestInfo, SchedInput, Scheduler, usable, why};
use crate::rng::SimRng;

/// Round-robin state: the id of the last chosen destination (`None` = head).
#[derive(Debug, Default)]
pub struct RoundRobin {
    last: Option<u64>,
    why: String,
}

impl Scheduler for RoundRobin {
    fn name(&self) -> &'static str {
        "rr"
    }

    fn update(&mut self, dests: &[DestInfo], change: DestChange) {
        match change {
            DestChange::Init => self.last = None,
            DestChange::Deleted { id, index } if self.last == Some(id) => {
                // The kernel moves the cursor to the predecessor (the head
                // sentinel if the deleted entry was first).
                self.last = index
                    .checked_sub(1)
                    .and_then(|i| dests.get(i))
                    .map(|d| d.id);
            }
            _ => {}
        }
    }

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        let n = dests.len();
        if n == 0 {
            self.why = "rr: the service has no real servers".into();
            return None;
        }
        // Position after the cursor: 0 if the cursor is the head sentinel.
        let start = match self
            .last
            .and_then(|id| dests.iter().position(|d| d.id == id))
        {
            Some(i) => i + 1,
            None => 0,
        };
        // Walk from `start` around the list (the head sentinel is skipped,
        // as in the kernel's list_for_each_entry_continue_rcu wrap).
        for k in 0..n {
            let i = (start + k) % n;
            if usable(&dests[i]) {
                self.last = Some(dests[i].id);
                why!(
                    self,
                    input,
                    "rr: next usable after the previous pick ({})",
                    dests[i].addr
                );
                return Some(i);
            }
        }
        self.why = "rr: every real server has weight 0 or is overloaded".into();
        None
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
    fn cycles_in_list_order() {
        let d = dests(&[1, 1, 1]);
        let mut s = RoundRobin::default();
        s.update(&d, DestChange::Init);
        assert_eq!(sequence(&mut s, &d, 7), "ABCABCA");
    }

    #[test]
    fn skips_weight_zero_and_overloaded() {
        let mut d = dests(&[1, 0, 1]);
        d[2].overloaded = true;
        let mut s = RoundRobin::default();
        s.update(&d, DestChange::Init);
        assert_eq!(sequence(&mut s, &d, 3), "AAA");
        d[0].weight = 0;
        assert_eq!(sequence(&mut s, &d, 1), "-");
    }

    #[test]
    fn deleting_the_cursor_continues_after_it() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = RoundRobin::default();
        s.update(&d, DestChange::Init);
        assert_eq!(sequence(&mut s, &d, 2), "AB");
        let removed = d.remove(1);
        s.update(
            &d,
            DestChange::Deleted {
                id: removed.id,
                index: 1,
            },
        );
        // Cursor moved to A; next is the old C (now index 1).
        assert_eq!(sequence(&mut s, &d, 1), "B");
    }
}
