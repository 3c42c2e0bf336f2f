//! The event queue at the heart of the simulator.
//!
//! # Ordering guarantee
//!
//! Events are ordered by `(time, seq)`, where `seq` is a counter that grows
//! by one for every event ever pushed. Two events scheduled for the same
//! virtual instant therefore run **in the order they were scheduled** (FIFO),
//! on every machine, every run. Nothing else (no hash, no address, no thread)
//! influences the order.
//!
//! Time only jumps forward to the next event; there is no tick.
//!
//! # Structure
//!
//! A *radix heap* (Ahuja, Mehlhorn, Orlin and Tarjan) with base 64, which
//! relies on the simulator's monotonicity: nothing is scheduled before the
//! last event popped (`last`). A later event goes to the bucket named by
//! the highest 6-bit digit in which its time differs from `last` (the
//! *level*) and its own value of that digit; the events *at* `last` wait in
//! `seq` order in a separate FIFO. Buckets are ordered (lower level first,
//! then lower digit), every event of one bucket is earlier than every event
//! of the next. Pushing is a bit scan and a `Vec` push; popping takes the
//! front of the FIFO, and when it empties, the first non-empty bucket is
//! split around its minimum, which becomes `last`: its events all move to
//! lower levels. An event moves at most 11 times (in practice two or three),
//! so both operations are amortised O(1), with few unpredictable branches.
//!
//! An event pushed *before* `last` (never done by the world) waits in a
//! small binary heap that is served first, so the order stays exact for any
//! use.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::time::SimTime;

/// 6-bit digits of a 64-bit time.
const LEVELS: usize = 11;

/// A waiting event's key; the event itself waits in a slab, so buckets move
/// 24-byte keys whatever the event's size.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    at: u64,
    seq: u64,
    slot: u32,
}

/// A priority queue of events keyed by `(time, insertion sequence)`.
///
/// `push` and `pop` are amortised O(1) (see the module documentation);
/// events are stored once in a slab and never moved while they wait.
pub struct EventQueue<E> {
    /// Events at `last` (sorted by `seq`).
    now: VecDeque<Key>,
    /// `buckets[64 * level + digit]`.
    buckets: Vec<Vec<Key>>,
    /// Bit `digit` of `digits[level]` set when that bucket is not empty.
    digits: [u64; LEVELS],
    /// Bit `level` set when `digits[level] != 0`.
    levels: u16,
    /// Events pushed before `last` (a misuse the world never makes).
    early: BinaryHeap<Reverse<Key>>,
    /// The time of the last event popped (or of the minimum, see `settle`).
    last: u64,
    len: usize,
    slab: Vec<Option<E>>,
    free: Vec<u32>,
    seq: u64,
}

impl<E> std::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventQueue")
            .field("pending", &self.len)
            .field("seq", &self.seq)
            .finish()
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    #[must_use]
    pub fn new() -> Self {
        EventQueue {
            now: VecDeque::new(),
            buckets: (0..LEVELS * 64).map(|_| Vec::new()).collect(),
            digits: [0; LEVELS],
            levels: 0,
            early: BinaryHeap::new(),
            last: 0,
            len: 0,
            slab: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }

    /// Schedules `ev` at `at`; returns its sequence number.
    ///
    /// # Panics
    /// With more than 2^32 events pending at once.
    pub fn push(&mut self, at: SimTime, ev: E) -> u64 {
        let seq = self.seq;
        self.seq += 1;
        let slot = match self.free.pop() {
            Some(i) => {
                self.slab[i as usize] = Some(ev);
                i
            }
            None => {
                self.slab.push(Some(ev));
                u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 pending events")
            }
        };
        let k = Key {
            at: at.0,
            seq,
            slot,
        };
        self.len += 1;
        if at.0 < self.last {
            self.early.push(Reverse(k));
        } else if at.0 == self.last {
            // The newest `seq`: after every event already at `last`.
            self.now.push_back(k);
        } else {
            self.file(k);
            if self.now.is_empty() {
                self.settle();
            }
        }
        seq
    }

    /// Puts `k` (later than `last`) in its bucket.
    #[inline]
    fn file(&mut self, k: Key) {
        let level = (63 - (k.at ^ self.last).leading_zeros()) / 6;
        let digit = (k.at >> (6 * level)) & 63;
        // Both < 64 by construction; the index is < LEVELS * 64.
        let (level, digit) = (level as usize, digit as usize);
        self.buckets[level * 64 + digit].push(k);
        self.digits[level] |= 1 << digit;
        self.levels |= 1 << level;
    }

    /// The FIFO is empty: move `last` to the minimum time of the first
    /// non-empty bucket and split that bucket, so that the FIFO holds the
    /// earliest events again (or everything is empty).
    fn settle(&mut self) {
        if self.levels == 0 {
            return;
        }
        let level = self.levels.trailing_zeros() as usize;
        let digit = self.digits[level].trailing_zeros() as usize;
        self.digits[level] &= !(1 << digit);
        if self.digits[level] == 0 {
            self.levels &= !(1 << level);
        }
        if self.buckets[level * 64 + digit].len() == 1 {
            // The common case when events are sparse: no split.
            if let Some(k) = self.buckets[level * 64 + digit].pop() {
                self.last = k.at;
                self.now.push_back(k);
            }
            return;
        }
        let mut v = std::mem::take(&mut self.buckets[level * 64 + digit]);
        let min = v.iter().map(|k| k.at).min().unwrap_or(self.last);
        self.last = min;
        for k in v.drain(..) {
            if k.at == min {
                self.now.push_back(k);
            } else {
                self.file(k);
            }
        }
        // Give the allocation back for reuse.
        self.buckets[level * 64 + digit] = v;
        if self.now.len() > 1 {
            self.now.make_contiguous().sort_unstable_by_key(|k| k.seq);
        }
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let k = if self.early.is_empty() {
            let k = self.now.pop_front()?;
            if self.now.is_empty() {
                self.settle();
            }
            k
        } else {
            // Everything in the buckets is at or after `last`, every early
            // event before it.
            self.early.pop()?.0
        };
        self.len -= 1;
        self.free.push(k.slot);
        let ev = self.slab[k.slot as usize].take()?;
        Some((SimTime(k.at), ev))
    }

    /// The time of the earliest event, if any.
    #[must_use]
    pub fn peek_time(&self) -> Option<SimTime> {
        match self.early.peek() {
            Some(Reverse(k)) => Some(SimTime(k.at)),
            None => self.now.front().map(|k| SimTime(k.at)),
        }
    }

    /// Number of pending events.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// No pending events.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Total number of events ever pushed.
    #[must_use]
    pub fn pushed(&self) -> u64 {
        self.seq
    }
}

/// A binary min-heap with the same `(time, seq)` contract as
/// [`EventQueue`], for queues that stay small (the flow engine's holds
/// completions of requests in service, client timeouts, closed-loop users'
/// next requests and outages; open-loop arrivals wait beside it): at a few
/// dozen events a heap of 16-byte keys in one `Vec` beats the radix heap's
/// buckets, and it is still O(log n) when a run has many pending events.
/// No monotonicity is assumed.
///
/// An event is only a 24-bit id that the caller gives meaning to (the flow
/// engine: "completion of request slot n", or an index into its own table
/// of rarer events). A key is the `u128` `time << 64 | seq << 24 | id`: the
/// sequence number sits above the id, so keys compare exactly as
/// `(time, seq)`.
///
/// A pop leaves the root as a hole (the popped key stays there, no longer
/// counted): the next push fills it by sifting down from the root, one walk
/// instead of a pop's walk and a push's sift-up; only a pop that finds the
/// hole still open removes it the usual way. A simulation pops an event
/// and then mostly schedules the next one, so most pushes fill a hole.
#[derive(Debug, Default)]
pub struct SmallQueue {
    /// `time << 64 | seq << ID_BITS | id`.
    heap: Vec<u128>,
    seq: u64,
    /// `heap[0]` is the hole left by the last pop.
    hole: bool,
}

/// Puts `key` in the hole at the root of a heap, or lower: moves the
/// smaller child up into the hole while it is smaller, then fills it.
#[inline(always)]
fn sift_down(heap: &mut [u128], key: u128) {
    let n = heap.len();
    let mut i = 0;
    let mut l = 1;
    // (Which child is smaller is data, not a pattern: no branch on it.)
    while l + 1 < n {
        let c = l + usize::from(heap[l + 1] < heap[l]);
        let v = heap[c];
        if v >= key {
            heap[i] = key;
            return;
        }
        heap[i] = v;
        i = c;
        l = 2 * i + 1;
    }
    if l + 1 == n && heap[l] < key {
        // A lone last child.
        heap[i] = heap[l];
        i = l;
    }
    heap[i] = key;
}

/// Puts `key` in the hole at `i` of a heap, or higher: moves parents
/// down into the hole while they are greater, then fills it.
#[inline(always)]
fn sift_up(heap: &mut [u128], mut i: usize, key: u128) {
    while i > 0 {
        let parent = (i - 1) / 2;
        let p = heap[parent];
        if key < p {
            heap[i] = p;
            i = parent;
        } else {
            break;
        }
    }
    heap[i] = key;
}

/// Bits of a [`SmallQueue`] event id.
pub const ID_BITS: u32 = 24;

impl SmallQueue {
    /// An empty queue.
    #[must_use]
    pub fn new() -> Self {
        SmallQueue {
            heap: Vec::new(),
            seq: 0,
            hole: false,
        }
    }

    /// Schedules event `id` (below `2^24`) at `at`; returns its sequence
    /// number.
    ///
    /// # Panics
    /// If `id` has more than 24 bits, or after 2^40 pushes.
    #[inline(always)]
    pub fn push(&mut self, at: SimTime, id: u32) -> u64 {
        let seq = self.seq;
        self.seq += 1;
        assert!(seq < 1 << (64 - ID_BITS), "fewer than 2^40 events");
        assert!(id < 1 << ID_BITS, "event ids have 24 bits");
        let key = u128::from(at.0) << 64 | u128::from(seq << ID_BITS | u64::from(id));
        if self.hole {
            self.hole = false;
            sift_down(&mut self.heap, key);
        } else {
            let i = self.heap.len();
            self.heap.push(key);
            sift_up(&mut self.heap, i, key);
        }
        seq
    }

    /// Removes the earliest event: its time, sequence number and id.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, u64, u32)> {
        if self.hole {
            self.close_hole();
        }
        let &top = self.heap.first()?;
        self.hole = true;
        #[expect(clippy::cast_possible_truncation, reason = "bit fields")]
        let (at, low) = ((top >> 64) as u64, top as u64);
        let id = (low & ((1 << ID_BITS) - 1)) as u32;
        Some((SimTime(at), low >> ID_BITS, id))
    }

    /// Removes the hole at the root the usual way.
    #[inline(always)]
    fn close_hole(&mut self) {
        self.hole = false;
        let Some(last) = self.heap.pop() else {
            return;
        };
        if self.heap.is_empty() {
            // The hole was the last key.
            return;
        }
        // Floyd: walk the hole at the root down to a leaf along the
        // smaller children (one comparison a level), then sift `last` up
        // from there (it rarely moves: it came from the bottom).
        let heap = self.heap.as_mut_slice();
        let n = heap.len();
        let mut i = 0;
        let mut l = 1;
        while l + 1 < n {
            let c = l + usize::from(heap[l + 1] < heap[l]);
            heap[i] = heap[c];
            i = c;
            l = 2 * i + 1;
        }
        if l + 1 == n {
            heap[i] = heap[l];
            i = l;
        }
        sift_up(heap, i, last);
    }

    /// The time of the earliest event, if any.
    #[inline]
    #[must_use]
    pub fn peek_time(&self) -> Option<SimTime> {
        let top = if self.hole {
            // The smaller child of the hole.
            match (self.heap.get(1), self.heap.get(2)) {
                (Some(&a), Some(&b)) => Some(a.min(b)),
                (a, _) => a.copied(),
            }
        } else {
            self.heap.first().copied()
        };
        top.map(|e| SimTime((e >> 64) as u64))
    }

    /// Number of pending events.
    #[must_use]
    pub fn len(&self) -> usize {
        self.heap.len() - usize::from(self.hole)
    }

    /// No pending events.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `ops` on queue `q` and on a sorted set: pops (op 0) and pushes
    /// mostly later than the last pop, sometimes earlier, often at equal
    /// times.
    fn sorted_model<Q>(
        ops: &[(u64, u64)],
        mut q: Q,
        push: impl Fn(&mut Q, SimTime, usize),
        pop: impl Fn(&mut Q) -> Option<(SimTime, usize)>,
        peek: impl Fn(&Q) -> Option<SimTime>,
        len: impl Fn(&Q) -> usize,
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let mut model = std::collections::BTreeSet::new();
        let mut now = 0u64;
        for (i, (op, dt)) in ops.iter().copied().enumerate() {
            if op == 0 {
                let got = pop(&mut q);
                let want = model.pop_first();
                proptest::prop_assert_eq!(got.map(|(t, e)| (t.0, e)), want);
                if let Some((t, _)) = want {
                    now = t;
                }
            } else {
                let at = match op {
                    1 => now + dt % 7,
                    2 => now + dt * dt * 7919,
                    _ => dt,
                };
                push(&mut q, SimTime(at), i);
                model.insert((at, i));
            }
            proptest::prop_assert_eq!(len(&q), model.len());
            proptest::prop_assert_eq!(peek(&q).map(|t| t.0), model.first().map(|x| x.0));
        }
        while let Some((t, e)) = pop(&mut q) {
            proptest::prop_assert_eq!(Some((t.0, e)), model.pop_first());
        }
        proptest::prop_assert!(model.is_empty());
        Ok(())
    }

    #[test]
    fn equal_times_run_in_insertion_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(10), "b1");
        q.push(SimTime(5), "a");
        q.push(SimTime(10), "b2");
        q.push(SimTime(10), "b3");
        q.push(SimTime(7), "x");
        let order: Vec<&str> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["a", "x", "b1", "b2", "b3"]);
    }

    proptest::proptest! {
        /// Interleaved pushes and pops, some of them before the last time
        /// popped, against a sorted model.
        #[test]
        fn matches_a_sorted_model(ops in proptest::collection::vec((0u64..4, 0u64..50_000), 0..400)) {
            sorted_model(&ops, EventQueue::new(), |q, t, e| { q.push(t, e); }, EventQueue::pop, EventQueue::peek_time, EventQueue::len)?;
        }

        /// The same for the small queue of the flow engine.
        #[test]
        fn small_queue_matches_a_sorted_model(ops in proptest::collection::vec((0u64..4, 0u64..50_000), 0..400)) {
            sorted_model(
                &ops,
                SmallQueue::new(),
                |q, t, e| { q.push(t, u32::try_from(e).unwrap_or(u32::MAX)); },
                |q| q.pop().map(|(t, _, id)| (t, id as usize)),
                SmallQueue::peek_time,
                SmallQueue::len,
            )?;
        }

        #[test]
        fn pops_sorted_by_time_then_seq(times in proptest::collection::vec(0u64..20, 0..200)) {
            let mut q = EventQueue::new();
            for (i, t) in times.iter().enumerate() {
                q.push(SimTime(*t), i);
            }
            let mut last: Option<(SimTime, usize)> = None;
            while let Some((t, i)) = q.pop() {
                if let Some((lt, li)) = last {
                    proptest::prop_assert!(lt < t || (lt == t && li < i));
                }
                last = Some((t, i));
            }
        }
    }
}
