//! `dh` — destination hashing (`net/netfilter/ipvs/ip_vs_dh.c`).
//!
//! 256 buckets (`CONFIG_IP_VS_DH_TAB_BITS = 8`) filled by walking the
//! destination list cyclically, **one bucket per destination per visit**
//! (weight ignored). Rebuilt on add/delete only (the kernel has no
//! `upd_dest` hook; an edit keeps the table). Bucket =
//! `hash_32(ntohl(daddr), 8)` of the packet's destination address. A
//! destination that is not available, has weight 0 or is overloaded gives
//! "no destination available" (no fallback). With a single VIP every client
//! hits the same bucket.

use std::net::Ipv4Addr;

use super::{DestChange, DestInfo, SchedInput, Scheduler, hash_32, usable, why};
use crate::rng::SimRng;

/// `IP_VS_DH_TAB_BITS`.
pub const DH_TAB_BITS: u32 = 8;
/// `IP_VS_DH_TAB_SIZE` (256).
pub const DH_TAB_SIZE: usize = 1 << DH_TAB_BITS;

/// Destination hashing state: the bucket table (destination ids).
#[derive(Debug)]
pub struct DestinationHashing {
    buckets: Vec<Option<u64>>,
    why: String,
}

impl Default for DestinationHashing {
    fn default() -> Self {
        DestinationHashing {
            buckets: vec![None; DH_TAB_SIZE],
            why: String::new(),
        }
    }
}

impl DestinationHashing {
    /// `ip_vs_dh_hashkey`.
    #[must_use]
    pub fn hashkey(addr: Ipv4Addr) -> usize {
        hash_32(u32::from(addr), DH_TAB_BITS) as usize
    }

    fn reassign(&mut self, dests: &[DestInfo]) {
        for (i, b) in self.buckets.iter_mut().enumerate() {
            *b = if dests.is_empty() {
                None
            } else {
                Some(dests[i % dests.len()].id)
            };
        }
    }
}

impl Scheduler for DestinationHashing {
    fn name(&self) -> &'static str {
        "dh"
    }

    fn update(&mut self, dests: &[DestInfo], change: DestChange) {
        if !matches!(change, DestChange::Edited { .. }) {
            self.reassign(dests);
        }
    }

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        let b = Self::hashkey(input.daddr);
        let found = self.buckets[b].and_then(|id| dests.iter().position(|d| d.id == id));
        match found {
            Some(i) if dests[i].available && usable(&dests[i]) => {
                why!(
                    self,
                    input,
                    "dh: destination {} hashes to bucket {b} -> {}",
                    input.daddr,
                    dests[i].addr
                );
                Some(i)
            }
            Some(i) => {
                why!(
                    self,
                    input,
                    "dh: bucket {b} -> {} has weight 0 or is overloaded",
                    dests[i].addr
                );
                None
            }
            None => {
                why!(self, input, "dh: bucket {b} is empty");
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
    use super::super::testutil::{dests, input, pick};
    use super::*;

    #[test]
    fn one_bucket_per_dest_and_daddr_key() {
        let mut d = dests(&[5, 1, 1]);
        let mut s = DestinationHashing::default();
        s.update(&d, DestChange::Init);
        let ones = s.buckets.iter().filter(|b| **b == Some(0)).count();
        assert_eq!(ones, 86); // 256 = 3*85 + 1, weight ignored
        let mut inp = input(Ipv4Addr::new(1, 1, 1, 1));
        inp.daddr = Ipv4Addr::new(10, 0, 0, 1); // bucket 39 -> 39 % 3 = 0
        assert_eq!(pick(&mut s, &d, &inp), Some(0));
        inp.saddr = Ipv4Addr::new(9, 9, 9, 9); // source ignored
        assert_eq!(pick(&mut s, &d, &inp), Some(0));
        inp.daddr = Ipv4Addr::new(10, 0, 0, 2); // 137 % 3 = 2
        assert_eq!(pick(&mut s, &d, &inp), Some(2));
        d[2].weight = 0;
        s.update(&d, DestChange::Edited { id: 2 });
        assert_eq!(pick(&mut s, &d, &inp), None);
        d[2].weight = 1;
        d[2].overloaded = true;
        assert_eq!(pick(&mut s, &d, &inp), None);
    }

    #[test]
    fn rebuilt_on_delete() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = DestinationHashing::default();
        s.update(&d, DestChange::Init);
        let removed = d.remove(0);
        s.update(
            &d,
            DestChange::Deleted {
                id: removed.id,
                index: 0,
            },
        );
        assert_eq!(s.buckets[0], Some(1));
        assert_eq!(s.buckets[1], Some(2));
    }
}
