//! `lblc` — locality-based least connection (`net/netfilter/ipvs/ip_vs_lblc.c`).
//!
//! A cache keyed by the packet's **destination** address maps to one
//! destination (for a plain VIP service every client shares one key, so it
//! sticks to one server until that one is "overloaded").
//!
//! - Hit: `lastuse = now`; the cached destination is used if it is still
//!   available, has weight > 0 and is not overloaded in the lblc sense
//!   (`activeconns > weight` and some destination has
//!   `activeconns * 2 < weight`). The OVERLOAD flag is not checked here.
//! - Otherwise: pick by wlc ([`weighted_least`]) and (re)write the entry
//!   (a changed destination makes a new entry with `lastuse = now`).
//! - Garbage collection (`ip_vs_lblc_check_expire`, every 60 s): every 30th
//!   run drops entries unused for `lblc_expiration` (default 24 h); otherwise,
//!   only above 16384 entries, drops entries unused for 6 min, bucket by
//!   bucket from the rover, goal `(entries - 16384) * 4 / 3` capped at 8192.
//!
//! The timer is emulated lazily: before each pick every missed 60 s tick is
//! run with its own time. The timer phase starts at the first pick (the
//! kernel starts it at service creation, which the scheduler is not told:
//! an approximation that only shifts the 30-minute full check).
//! The hash table is modelled as a map; buckets (`hash_32(daddr, 10)`) are
//! only needed for the order of the over-size collection.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::{
    DestChange, DestInfo, SchedInput, Scheduler, hash_32, lblc_overloaded, weighted_least, why,
};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// `CONFIG_IP_VS_LBLC_TAB_BITS` (same for lblcr).
pub const TAB_BITS: u32 = 10;
/// Hash buckets (1024).
pub const TAB_SIZE: u32 = 1 << TAB_BITS;
/// Soft maximum of entries (`TAB_SIZE * 16`).
pub const MAX_SIZE: usize = (TAB_SIZE as usize) * 16;
/// `CHECK_EXPIRE_INTERVAL`.
pub const CHECK_EXPIRE_INTERVAL: SimDuration = SimDuration::from_secs(60);
/// `ENTRY_TIMEOUT` (used by the over-size collection).
pub const ENTRY_TIMEOUT: SimDuration = SimDuration::from_secs(6 * 60);
/// `DEFAULT_EXPIRATION` of `lblc_expiration` / `lblcr_expiration`.
pub const DEFAULT_EXPIRATION: SimDuration = SimDuration::from_secs(24 * 60 * 60);
/// `COUNT_FOR_FULL_EXPIRATION`.
const COUNT_FOR_FULL_EXPIRATION: u64 = 30;

/// A cache entry that records its last use.
pub(crate) trait LastUse {
    fn lastuse(&self) -> SimTime;
}

/// The lblc/lblcr garbage-collection timer, run lazily.
#[derive(Debug)]
pub(crate) struct GcClock {
    next: Option<SimTime>,
    counter: u64,
    rover: u32,
}

impl Default for GcClock {
    fn default() -> Self {
        GcClock {
            next: None,
            counter: 1,
            rover: 0,
        }
    }
}

impl GcClock {
    /// Runs every timer tick due at or before `now`.
    pub(crate) fn run<E: LastUse>(
        &mut self,
        map: &mut BTreeMap<Ipv4Addr, E>,
        now: SimTime,
        expiration: SimDuration,
    ) {
        let iv = CHECK_EXPIRE_INTERVAL.as_nanos();
        let Some(mut t) = self.next else {
            self.next = Some(now + CHECK_EXPIRE_INTERVAL);
            return;
        };
        while t <= now {
            if map.is_empty() {
                // Nothing to collect: only the counter moves (period 30).
                let k = (now.as_nanos() - t.as_nanos()) / iv + 1;
                self.counter = (self.counter - 1 + k % COUNT_FOR_FULL_EXPIRATION)
                    % COUNT_FOR_FULL_EXPIRATION
                    + 1;
                t = SimTime(t.as_nanos().saturating_add(k.saturating_mul(iv)));
                break;
            }
            self.tick(map, t, expiration);
            if t == SimTime::MAX {
                break;
            }
            t += CHECK_EXPIRE_INTERVAL;
        }
        self.next = Some(t);
    }

    fn tick<E: LastUse>(
        &mut self,
        map: &mut BTreeMap<Ipv4Addr, E>,
        now: SimTime,
        expiration: SimDuration,
    ) {
        if self.counter.is_multiple_of(COUNT_FOR_FULL_EXPIRATION) {
            // Full check: visits every bucket once (the rover ends where it began).
            map.retain(|_, e| now < e.lastuse() + expiration);
            self.counter = 1;
            return;
        }
        if map.len() <= MAX_SIZE {
            self.counter += 1;
            return;
        }
        let mut goal = (((map.len() - MAX_SIZE) * 4 / 3).min(MAX_SIZE / 2)) as i64;
        let mut buckets: Vec<Vec<Ipv4Addr>> = vec![Vec::new(); TAB_SIZE as usize];
        for a in map.keys() {
            buckets[hash_32(u32::from(*a), TAB_BITS) as usize].push(*a);
        }
        let mut j = self.rover;
        for _ in 0..TAB_SIZE {
            j = (j + 1) & (TAB_SIZE - 1);
            for a in &buckets[j as usize] {
                let expired = map
                    .get(a)
                    .is_some_and(|e| now >= e.lastuse() + ENTRY_TIMEOUT);
                if expired {
                    map.remove(a);
                    goal -= 1;
                }
            }
            if goal <= 0 {
                break;
            }
        }
        self.rover = j;
    }
}

#[derive(Debug, Clone)]
struct Entry {
    dest: u64,
    lastuse: SimTime,
}

impl LastUse for Entry {
    fn lastuse(&self) -> SimTime {
        self.lastuse
    }
}

/// LBLC state: the destination-address cache.
#[derive(Debug)]
pub struct Lblc {
    table: BTreeMap<Ipv4Addr, Entry>,
    gc: GcClock,
    expiration: SimDuration,
    why: String,
}

impl Default for Lblc {
    fn default() -> Self {
        Lblc {
            table: BTreeMap::new(),
            gc: GcClock::default(),
            expiration: DEFAULT_EXPIRATION,
            why: String::new(),
        }
    }
}

impl Lblc {
    /// Sets `net.ipv4.vs.lblc_expiration`.
    pub fn set_expiration(&mut self, d: SimDuration) {
        self.expiration = d;
    }

    /// Number of cache entries.
    #[must_use]
    pub fn entries(&self) -> usize {
        self.table.len()
    }

    /// The cached destination id for `daddr`.
    #[must_use]
    pub fn cached(&self, daddr: Ipv4Addr) -> Option<u64> {
        self.table.get(&daddr).map(|e| e.dest)
    }
}

impl Scheduler for Lblc {
    fn name(&self) -> &'static str {
        "lblc"
    }

    fn update(&mut self, _dests: &[DestInfo], _change: DestChange) {}

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        let now = input.now;
        let daddr = input.daddr;
        self.gc.run(&mut self.table, now, self.expiration);
        let mut stale = "miss";
        if let Some(en) = self.table.get_mut(&daddr) {
            en.lastuse = now;
            if let Some(i) = dests.iter().position(|d| d.id == en.dest) {
                let d = &dests[i];
                if d.available && d.weight > 0 && !lblc_overloaded(d, dests) {
                    why!(self, input, "lblc: cache hit {daddr} -> {}", d.addr);
                    return Some(i);
                }
                stale = "cached server has weight 0 or is lblc-overloaded (active > weight while another has active*2 < weight)";
            } else {
                stale = "cached server is gone";
            }
        }
        let Some(i) = weighted_least(dests) else {
            self.why = "lblc: no real server with weight > 0 and not overloaded".into();
            return None;
        };
        let id = dests[i].id;
        if self.table.get(&daddr).is_none_or(|e| e.dest != id) {
            self.table.insert(
                daddr,
                Entry {
                    dest: id,
                    lastuse: now,
                },
            );
        }
        why!(
            self,
            input,
            "lblc: {daddr}: {stale}; wlc picked {} ({}/{})",
            dests[i].addr,
            dests[i].overhead(),
            dests[i].weight
        );
        Some(i)
    }

    fn explain(&self) -> String {
        self.why.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{dests, input};
    use super::*;

    fn at(daddr: Ipv4Addr, secs: u64) -> SchedInput {
        let mut i = input(Ipv4Addr::new(172, 16, 0, 2));
        i.daddr = daddr;
        i.now = SimTime(secs * 1_000_000_000);
        i
    }

    fn go(s: &mut Lblc, d: &[DestInfo], i: &SchedInput) -> Option<usize> {
        let mut rng = crate::rng::stream(1, "t");
        s.schedule(d, i, &mut rng)
    }

    const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 59, 135);

    #[test]
    fn sticks_until_lblc_overloaded() {
        let mut d = dests(&[2, 2]);
        let mut s = Lblc::default();
        assert_eq!(go(&mut s, &d, &at(VIP, 0)), Some(0));
        d[0].activeconns = 2;
        d[0].overloaded = true; // flag ignored on the hit path
        assert_eq!(go(&mut s, &d, &at(VIP, 1)), Some(0));
        d[0].overloaded = false;
        d[0].activeconns = 3; // > weight, and B has 0*2 < 2
        assert_eq!(go(&mut s, &d, &at(VIP, 2)), Some(1));
        assert_eq!(s.cached(VIP), Some(1));
        // B stays even when A becomes idle again.
        d[0].activeconns = 0;
        assert_eq!(go(&mut s, &d, &at(VIP, 3)), Some(1));
        // Overloaded but nobody is below half: keep B.
        d[1].activeconns = 5;
        d[0].activeconns = 1;
        assert_eq!(go(&mut s, &d, &at(VIP, 4)), Some(1));
    }

    #[test]
    fn per_daddr_and_weight_zero() {
        let mut d = dests(&[1, 1]);
        let mut s = Lblc::default();
        let other = Ipv4Addr::new(10, 9, 9, 9);
        assert_eq!(go(&mut s, &d, &at(VIP, 0)), Some(0));
        d[0].activeconns = 1;
        assert_eq!(go(&mut s, &d, &at(other, 0)), Some(1));
        d[1].weight = 0;
        assert_eq!(go(&mut s, &d, &at(other, 1)), Some(0));
        d[0].weight = 0;
        assert_eq!(go(&mut s, &d, &at(other, 2)), None);
    }

    #[test]
    fn full_expiration_after_a_day() {
        let d = dests(&[1, 1]);
        let mut s = Lblc::default();
        s.set_expiration(SimDuration::from_secs(600));
        go(&mut s, &d, &at(VIP, 0));
        assert_eq!(s.entries(), 1);
        // Ticks at 60, 120, ...; the full check runs at the 30th (1800 s).
        go(&mut s, &d, &at(Ipv4Addr::new(1, 1, 1, 1), 1799));
        assert_eq!(s.entries(), 2);
        go(&mut s, &d, &at(Ipv4Addr::new(2, 2, 2, 2), 1800));
        // VIP (last used 0) expired; 1.1.1.1 (1799) did not.
        assert_eq!(s.entries(), 2);
        assert_eq!(s.cached(VIP), None);
        // Idle for days: everything goes, and the counter keeps its phase.
        go(&mut s, &d, &at(VIP, 10 * 86_400));
        assert_eq!(s.entries(), 1);
    }

    #[test]
    fn oversize_collection_removes_about_goal() {
        let d = dests(&[1, 1]);
        let mut s = Lblc::default();
        let n = MAX_SIZE + 16;
        for k in 0..n as u32 {
            go(&mut s, &d, &at(Ipv4Addr::from(0x0B00_0000 + k), 0));
        }
        assert_eq!(s.entries(), n);
        // Ticks at 60..300 find nothing older than 6 min; the one at 360 does.
        go(&mut s, &d, &at(Ipv4Addr::new(1, 1, 1, 1), 300));
        assert_eq!(s.entries(), n + 1);
        go(&mut s, &d, &at(Ipv4Addr::new(1, 1, 1, 1), 360));
        let left = s.entries();
        // goal = (16401 - 16384) * 4 / 3 = 22, whole buckets at a time
        // (about 16 entries per bucket).
        assert!(left <= n + 1 - 22 && left >= n + 1 - 22 - 40, "{left}");
        assert_eq!(s.cached(Ipv4Addr::new(1, 1, 1, 1)), Some(0));
    }
}
