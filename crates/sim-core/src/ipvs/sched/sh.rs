//! `sh` — source hashing (`net/netfilter/ipvs/ip_vs_sh.c`).
//!
//! 256 buckets (`CONFIG_IP_VS_SH_TAB_BITS = 8`), rebuilt on service init and
//! on every add/delete/**edit** by walking the destination list cyclically in
//! list order and putting each destination into `weight` consecutive buckets
//! per visit (weight 0 or 1: one bucket), until all buckets are filled. So a
//! weight-0 destination still owns buckets (they are then unusable).
//!
//! Bucket = `hash_32(ntohs(port) + ntohl(saddr), 8)` (u32 wrapping add),
//! port 0 unless `sh-port` (flag-2) is set, then the client's source port.
//! A bucket whose destination has weight 0 or is overloaded gives "no
//! destination available", unless `sh-fallback` (flag-1): then probe
//! `(roffset + hash) & 255` with `roffset = (i + ihash) % 256` for i = 0..255
//! and take the first usable one (an empty bucket ends the search).

use std::net::Ipv4Addr;

use super::{DestChange, DestInfo, SchedFlags, SchedInput, Scheduler, hash_32, usable, why};
use crate::rng::SimRng;

/// `IP_VS_SH_TAB_BITS`.
pub const SH_TAB_BITS: u32 = 8;
/// `IP_VS_SH_TAB_SIZE` (256).
pub const SH_TAB_SIZE: usize = 1 << SH_TAB_BITS;

/// Source hashing state: the bucket table (destination ids).
#[derive(Debug)]
pub struct SourceHashing {
    flags: SchedFlags,
    buckets: Vec<Option<u64>>,
    why: String,
}

impl SourceHashing {
    /// An `sh` instance with `flags` (`sh-fallback`, `sh-port`).
    #[must_use]
    pub fn new(flags: SchedFlags) -> Self {
        SourceHashing {
            flags,
            buckets: vec![None; SH_TAB_SIZE],
            why: String::new(),
        }
    }

    /// `ip_vs_sh_hashkey`: `(offset + hash_32(port + addr, 8)) & 255`.
    #[must_use]
    pub fn hashkey(addr: Ipv4Addr, port: u16, offset: u32) -> usize {
        let v = u32::from(port).wrapping_add(u32::from(addr));
        (offset.wrapping_add(hash_32(v, SH_TAB_BITS)) as usize) & (SH_TAB_SIZE - 1)
    }

    /// The bucket table (destination id per bucket), for the inspector.
    #[must_use]
    pub fn buckets(&self) -> &[Option<u64>] {
        &self.buckets
    }

    fn reassign(&mut self, dests: &[DestInfo]) {
        self.buckets = vec![None; SH_TAB_SIZE];
        if dests.is_empty() {
            return;
        }
        let mut p = 0;
        let mut d_count = 0;
        for b in &mut self.buckets {
            let d = &dests[p];
            *b = Some(d.id);
            d_count += 1;
            if d_count >= d.weight {
                p = (p + 1) % dests.len();
                d_count = 0;
            }
        }
    }
}

impl Default for SourceHashing {
    fn default() -> Self {
        SourceHashing::new(SchedFlags::default())
    }
}

impl Scheduler for SourceHashing {
    fn name(&self) -> &'static str {
        "sh"
    }

    fn set_flags(&mut self, flags: SchedFlags) {
        self.flags = flags;
    }

    fn update(&mut self, dests: &[DestInfo], _change: DestChange) {
        self.reassign(dests);
    }

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        let port = if self.flags.flag2 { input.sport } else { 0 };
        let addr = input.saddr;
        let find = |b: usize| -> Option<usize> {
            self.buckets[b].and_then(|id| dests.iter().position(|d| d.id == id))
        };
        let ihash = Self::hashkey(addr, port, 0);
        let Some(home) = find(ihash) else {
            why!(self, input, "sh: bucket {ihash} for {addr} is empty");
            return None;
        };
        if usable(&dests[home]) {
            why!(
                self,
                input,
                "sh: {addr} hashes to bucket {ihash} -> {}",
                dests[home].addr
            );
            return Some(home);
        }
        if !self.flags.flag1 {
            why!(
                self,
                input,
                "sh: {addr} hashes to bucket {ihash} -> {}, which has weight 0 or is overloaded (no sh-fallback)",
                dests[home].addr
            );
            return None;
        }
        for offset in 0..SH_TAB_SIZE {
            let roffset = (offset + ihash) % SH_TAB_SIZE;
            let b = Self::hashkey(addr, port, roffset as u32);
            let Some(i) = find(b) else { break };
            if usable(&dests[i]) {
                why!(
                    self,
                    input,
                    "sh: home bucket {ihash} unusable; sh-fallback found bucket {b} -> {}",
                    dests[i].addr
                );
                return Some(i);
            }
        }
        why!(
            self,
            input,
            "sh: bucket {ihash} unusable and sh-fallback found nothing"
        );
        None
    }

    fn explain(&self) -> String {
        self.why.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{dests, input, pick};
    use super::*;

    fn counts(s: &SourceHashing, n: usize) -> Vec<usize> {
        (0..n as u64)
            .map(|id| s.buckets().iter().filter(|b| **b == Some(id)).count())
            .collect()
    }

    #[test]
    fn reference_buckets() {
        assert_eq!(SourceHashing::hashkey(Ipv4Addr::new(10, 0, 0, 1), 0, 0), 39);
        assert_eq!(
            SourceHashing::hashkey(Ipv4Addr::new(10, 0, 0, 2), 0, 0),
            137
        );
        assert_eq!(
            SourceHashing::hashkey(Ipv4Addr::new(192, 168, 1, 100), 0, 0),
            89
        );
    }

    #[test]
    fn bucket_fill_follows_weights() {
        let mut s = SourceHashing::default();
        s.update(&dests(&[2, 1]), DestChange::Init);
        assert_eq!(counts(&s, 2), vec![171, 85]);
        assert_eq!(&s.buckets()[..4], &[Some(0), Some(0), Some(1), Some(0)]);
        s.update(&dests(&[3, 3, 2]), DestChange::Init);
        assert_eq!(counts(&s, 3), vec![96, 96, 64]);
        // weight 0 still gets one bucket per visit
        s.update(&dests(&[1, 0]), DestChange::Init);
        assert_eq!(counts(&s, 2), vec![128, 128]);
    }

    #[test]
    fn lookup_edit_and_fallback() {
        let mut d = dests(&[1, 1]);
        let mut s = SourceHashing::default();
        s.update(&d, DestChange::Init);
        // bucket 39 is odd -> B; 137 odd -> B; 89 odd -> B.
        let a = input(Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(pick(&mut s, &d, &a), Some(1));
        assert_eq!(pick(&mut s, &d, &a), Some(1));
        d[1].weight = 0;
        s.update(&d, DestChange::Edited { id: 1 });
        assert_eq!(pick(&mut s, &d, &a), None);
        let mut f = SourceHashing::new(SchedFlags {
            flag1: true,
            ..SchedFlags::default()
        });
        f.update(&d, DestChange::Init);
        // roffset 39 -> bucket (39+39)&255 = 78 -> A.
        assert_eq!(pick(&mut f, &d, &a), Some(0));
        assert!(f.explain().contains("bucket 78"));
        d[0].overloaded = true;
        assert_eq!(pick(&mut f, &d, &a), None);
    }

    #[test]
    fn port_flag_changes_key() {
        let d = dests(&[1, 1, 1, 1]);
        let mut s = SourceHashing::new(SchedFlags {
            flag2: true,
            ..SchedFlags::default()
        });
        s.update(&d, DestChange::Init);
        let mut inp = input(Ipv4Addr::new(10, 0, 0, 1));
        inp.sport = 1;
        // hash_32(0x0A000002) = 137 -> 137 % 4 = 1 -> B
        assert_eq!(pick(&mut s, &d, &inp), Some(1));
        assert_eq!(SourceHashing::hashkey(inp.saddr, 1, 0), 137);
    }

    #[test]
    fn empty_service() {
        let mut s = SourceHashing::default();
        s.update(&[], DestChange::Init);
        assert_eq!(pick(&mut s, &[], &input(Ipv4Addr::new(1, 2, 3, 4))), None);
    }
}
