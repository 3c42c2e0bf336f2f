//! `lblcr` — LBLC with replication (`net/netfilter/ipvs/ip_vs_lblcr.c`).
//!
//! The cache maps a packet destination address to a **set** of destinations
//! (new members are inserted at the head of the set; `lastmod` is set on
//! every insert or erase). Same table size and GC timers as [`super::lblc`]
//! (`lblcr_expiration`, default 24 h).
//!
//! - Hit: `lastuse = now`; `dest` = weighted-least member (first candidate:
//!   not overloaded, weight > 0, available; later members: not overloaded,
//!   available, `loh * w(D) > doh * w(best)`). Then, if the set has more than
//!   one member and `now > lastmod + expiration`, the **most** loaded member
//!   (first with weight > 0, later ones replace on `moh * w(D) < doh * w(most)`
//!   with weight > 0) is erased, even if it is `dest`. If `dest` exists and is
//!   not lblc-overloaded it is used; otherwise wlc over the whole service
//!   picks one, which is added to the set.
//! - Miss: wlc over the service, new entry with a one-member set.
//!
//! A deleted destination stays in the sets as in the kernel (it is no longer
//! available, so never picked, but may be erased as the most loaded); its
//! counters are frozen at deletion time ([unverified] the kernel keeps
//! counting its expiring connections). A deleted-then-re-added destination
//! gets a new id here, while the kernel revives the same struct from trash.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use super::lblc::{DEFAULT_EXPIRATION, GcClock, LastUse};
use super::{
    DestChange, DestInfo, SchedInput, Scheduler, lblc_overloaded, mul64, weighted_least, why,
};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

#[derive(Debug, Clone)]
struct Entry {
    /// Member ids, head first.
    set: Vec<u64>,
    lastmod: SimTime,
    lastuse: SimTime,
}

impl LastUse for Entry {
    fn lastuse(&self) -> SimTime {
        self.lastuse
    }
}

/// LBLCR state: destination address -> server set.
#[derive(Debug)]
pub struct Lblcr {
    table: BTreeMap<Ipv4Addr, Entry>,
    gc: GcClock,
    expiration: SimDuration,
    /// The list as last seen (to snapshot a destination when it is deleted).
    known: Vec<DestInfo>,
    /// Deleted destinations still referenced by a set.
    ghosts: BTreeMap<u64, DestInfo>,
    why: String,
}

impl Default for Lblcr {
    fn default() -> Self {
        Lblcr {
            table: BTreeMap::new(),
            gc: GcClock::default(),
            expiration: DEFAULT_EXPIRATION,
            known: Vec::new(),
            ghosts: BTreeMap::new(),
            why: String::new(),
        }
    }
}

/// `ip_vs_dest_set_min`: index into `dests`.
fn set_min(set: &[u64], dests: &[DestInfo]) -> Option<usize> {
    let mut best: Option<(usize, u64)> = None;
    for id in set {
        // Members not in the list are deleted (not AVAILABLE).
        let Some(i) = dests.iter().position(|d| d.id == *id) else {
            continue;
        };
        let d = &dests[i];
        if d.overloaded || !d.available {
            continue;
        }
        match best {
            None if d.weight > 0 => best = Some((i, d.overhead())),
            None => {}
            Some((b, loh)) => {
                let doh = d.overhead();
                if mul64(loh, d.weight) > mul64(doh, dests[b].weight) {
                    best = Some((i, doh));
                }
            }
        }
    }
    best.map(|(i, _)| i)
}

/// `ip_vs_dest_set_max`: the member id to erase.
fn set_max(set: &[u64], info: impl Fn(u64) -> Option<DestInfo>) -> Option<u64> {
    let mut most: Option<(u64, u32, u64)> = None;
    for id in set {
        let Some(d) = info(*id) else { continue };
        match most {
            None if d.weight > 0 => most = Some((*id, d.weight, d.overhead())),
            None => {}
            Some((_, mw, moh)) => {
                let doh = d.overhead();
                if mul64(moh, d.weight) < mul64(doh, mw) && d.weight > 0 {
                    most = Some((*id, d.weight, doh));
                }
            }
        }
    }
    most.map(|(id, _, _)| id)
}

impl Lblcr {
    /// Sets `net.ipv4.vs.lblcr_expiration`.
    pub fn set_expiration(&mut self, d: SimDuration) {
        self.expiration = d;
    }

    /// The server set (ids, head first) cached for `daddr`.
    #[must_use]
    pub fn set_of(&self, daddr: Ipv4Addr) -> Option<&[u64]> {
        self.table.get(&daddr).map(|e| e.set.as_slice())
    }

    fn drop_unreferenced_ghosts(&mut self) {
        if self.ghosts.is_empty() {
            return;
        }
        let table = &self.table;
        self.ghosts
            .retain(|id, _| table.values().any(|e| e.set.contains(id)));
    }
}

impl Scheduler for Lblcr {
    fn name(&self) -> &'static str {
        "lblcr"
    }

    fn update(&mut self, dests: &[DestInfo], change: DestChange) {
        if let DestChange::Deleted { id, .. } = change
            && let Some(d) = self.known.iter().find(|d| d.id == id)
        {
            let mut g = d.clone();
            g.available = false;
            self.ghosts.insert(id, g);
            self.drop_unreferenced_ghosts();
        }
        self.known.clear();
        self.known.extend_from_slice(dests);
    }

    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        _rng: &mut SimRng,
    ) -> Option<usize> {
        self.known.clear();
        self.known.extend_from_slice(dests);
        let now = input.now;
        let daddr = input.daddr;
        self.gc.run(&mut self.table, now, self.expiration);
        let ghosts = &self.ghosts;
        let Some(en) = self.table.get_mut(&daddr) else {
            let Some(i) = weighted_least(dests) else {
                self.why = "lblcr: no real server with weight > 0 and not overloaded".into();
                return None;
            };
            self.table.insert(
                daddr,
                Entry {
                    set: vec![dests[i].id],
                    lastmod: now,
                    lastuse: now,
                },
            );
            why!(
                self,
                input,
                "lblcr: {daddr}: miss; wlc picked {} (new set)",
                dests[i].addr
            );
            self.drop_unreferenced_ghosts();
            return Some(i);
        };
        en.lastuse = now;
        let dest = set_min(&en.set, dests);
        let mut note = String::new();
        if en.set.len() > 1 && now > en.lastmod + self.expiration {
            let info = |id: u64| {
                dests
                    .iter()
                    .find(|d| d.id == id)
                    .or_else(|| ghosts.get(&id))
                    .cloned()
            };
            if let Some(m) = set_max(&en.set, info) {
                en.set.retain(|x| *x != m);
                en.lastmod = now;
                note = format!(
                    " (set unchanged for longer than the expiration: removed the most loaded, id {m})"
                );
            }
        }
        if let Some(i) = dest
            && !lblc_overloaded(&dests[i], dests)
        {
            why!(
                self,
                input,
                "lblcr: {daddr}: least loaded in the set is {}{note}",
                dests[i].addr
            );
            self.drop_unreferenced_ghosts();
            return Some(i);
        }
        let Some(i) = weighted_least(dests) else {
            self.why = "lblcr: no real server with weight > 0 and not overloaded".into();
            return None;
        };
        let id = dests[i].id;
        if !en.set.contains(&id) {
            en.set.insert(0, id);
            en.lastmod = now;
        }
        why!(
            self,
            input,
            "lblcr: {daddr}: set has no usable, non-overloaded member; wlc added {}{note}",
            dests[i].addr
        );
        self.drop_unreferenced_ghosts();
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

    const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 59, 135);

    fn go(s: &mut Lblcr, d: &[DestInfo], secs: u64) -> Option<usize> {
        let mut i = input(Ipv4Addr::new(172, 16, 0, 2));
        i.now = SimTime(secs * 1_000_000_000);
        let mut rng = crate::rng::stream(1, "t");
        s.schedule(d, &i, &mut rng)
    }

    #[test]
    fn replicates_then_shrinks() {
        let mut d = dests(&[2, 2, 2]);
        let mut s = Lblcr::default();
        s.set_expiration(SimDuration::from_secs(100));
        assert_eq!(go(&mut s, &d, 0), Some(0));
        assert_eq!(s.set_of(VIP), Some(&[0][..]));
        // A lblc-overloaded: wlc adds B to the set (at the head).
        d[0].activeconns = 3;
        assert_eq!(go(&mut s, &d, 1), Some(1));
        assert_eq!(s.set_of(VIP), Some(&[1, 0][..]));
        // Set min: B (0/2) beats A.
        assert_eq!(go(&mut s, &d, 2), Some(1));
        d[1].activeconns = 1;
        // B 256/2 vs A 768/2 -> B still.
        assert_eq!(go(&mut s, &d, 50), Some(1));
        // After the expiration since lastmod (1 s), the most loaded (A) goes.
        assert_eq!(go(&mut s, &d, 102), Some(1));
        assert_eq!(s.set_of(VIP), Some(&[1][..]));
    }

    #[test]
    fn erased_member_can_still_be_returned() {
        let mut d = dests(&[1, 1]);
        let mut s = Lblcr::default();
        s.set_expiration(SimDuration::from_secs(10));
        go(&mut s, &d, 0);
        d[0].activeconns = 2; // > weight, B idle
        assert_eq!(go(&mut s, &d, 1), Some(1));
        d[0].activeconns = 0;
        d[1].activeconns = 1;
        // A is least loaded and also... B is most loaded: B erased, A returned.
        assert_eq!(go(&mut s, &d, 20), Some(0));
        assert_eq!(s.set_of(VIP), Some(&[0][..]));
        d[0].activeconns = 5;
        d[1].activeconns = 5;
        d[0].weight = 0;
        d[1].weight = 0;
        assert_eq!(go(&mut s, &d, 21), None);
    }

    #[test]
    fn deleted_member_is_skipped() {
        let mut d = dests(&[1, 1]);
        let mut s = Lblcr::default();
        s.update(&d, DestChange::Init);
        assert_eq!(go(&mut s, &d, 0), Some(0));
        let removed = d.remove(0);
        s.update(
            &d,
            DestChange::Deleted {
                id: removed.id,
                index: 0,
            },
        );
        assert_eq!(go(&mut s, &d, 1), Some(0));
        assert_eq!(s.set_of(VIP), Some(&[1, 0][..]));
        assert_eq!(s.ghosts.len(), 1);
    }
}
