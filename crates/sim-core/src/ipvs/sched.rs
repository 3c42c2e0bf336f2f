//! IPVS schedulers: one small module per kernel scheduler, plus nginx's
//! upstream methods for comparison (clearly labelled: not part of IPVS).
//!
//! A scheduler sees the service's destinations **in kernel list order** (a new
//! destination is inserted at the head, so list order is the reverse of
//! `ipvsadm -a` order) and returns the index of the chosen one. Every
//! "first one wins" tie-break is in that order.
//!
//! Adding a scheduler is one file in `sched/` and one line in [`REGISTRY`].

use std::fmt;
use std::net::Ipv4Addr;

use crate::ipvs::Protocol;
use crate::rng::SimRng;
use crate::time::SimTime;

pub mod dh;
pub mod fo;
pub mod lblc;
pub mod lblcr;
pub mod lc;
pub mod mh;
pub mod nginx_ip_hash;
pub mod nginx_least_conn;
pub mod nginx_random_two;
pub mod nginx_swrr;
pub mod nq;
pub mod ovf;
#[cfg(test)]
mod proptests;
pub mod rr;
pub mod sed;
pub mod sh;
pub mod twos;
pub mod wlc;
pub mod wrr;

/// What a scheduler may know about one destination (real server).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestInfo {
    /// A stable identity for this destination while it exists in the service.
    pub id: u64,
    /// Real server address.
    pub addr: Ipv4Addr,
    /// Real server port.
    pub port: u16,
    /// Current weight (0 = quiesced).
    pub weight: u32,
    /// The most recent non-zero weight (used by `mh`).
    pub last_weight: u32,
    /// Connections counted active (ESTABLISHED, SYN_RECV, …).
    pub activeconns: u32,
    /// Connections counted inactive (FIN_WAIT, TIME_WAIT, UDP, …).
    pub inactconns: u32,
    /// `IP_VS_DEST_F_OVERLOAD` (upper threshold reached).
    pub overloaded: bool,
    /// `IP_VS_DEST_F_AVAILABLE` (false once deleted but still referenced).
    pub available: bool,
}

impl DestInfo {
    /// `ip_vs_dest_conn_overhead`: `activeconns * 256 + inactconns`.
    #[must_use]
    pub fn overhead(&self) -> u64 {
        conn_overhead(self.activeconns, self.inactconns)
    }

    /// What the weighted-least-connection rule reads: `(overhead, weight)`,
    /// the weight shown as 0 when the destination is overloaded (see
    /// [`weighted_least_by`]).
    #[must_use]
    #[inline]
    pub fn wlc_key(&self) -> (u64, u64) {
        wlc_key(
            self.activeconns,
            self.inactconns,
            self.weight,
            self.overloaded,
        )
    }
}

/// The packet fields a scheduler may look at (first packet of a flow).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchedInput {
    /// Protocol of the service.
    pub proto: Protocol,
    /// Client (source) address.
    pub saddr: Ipv4Addr,
    /// Client (source) port.
    pub sport: u16,
    /// Destination address of the packet (the VIP, or any address for fwmark).
    pub daddr: Ipv4Addr,
    /// Destination port of the packet.
    pub dport: u16,
    /// Current virtual time.
    pub now: SimTime,
    /// Whether [`Scheduler::explain`] will be asked about this decision
    /// (its text is built only then: a flow run schedules millions).
    pub explain: bool,
}

/// Scheduler flags from `ipvsadm -b` / keepalived (`sh-fallback`, `sh-port`, …).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedFlags {
    /// `flag-1`: `sh-fallback` / `mh-fallback` (`IP_VS_SVC_F_SCHED1`).
    pub flag1: bool,
    /// `flag-2`: `sh-port` / `mh-port` (`IP_VS_SVC_F_SCHED2`).
    pub flag2: bool,
    /// `flag-3` (`IP_VS_SVC_F_SCHED3`), unused by mainline schedulers.
    pub flag3: bool,
}

/// What changed in the destination list before [`Scheduler::update`] is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DestChange {
    /// The service was created or its scheduler was (re)bound.
    Init,
    /// A destination was added (it is at index 0, the list head).
    Added {
        /// The new destination's id.
        id: u64,
    },
    /// A destination's weight or thresholds were edited (position unchanged).
    Edited {
        /// The edited destination's id.
        id: u64,
    },
    /// A destination was removed; it was at `index` in the old list.
    Deleted {
        /// The removed destination's id.
        id: u64,
        /// Its index in the list before removal.
        index: usize,
    },
}

/// Records the reason for a decision in `$s.why` when `$input.explain`.
macro_rules! why {
    ($s:expr, $input:expr, $($arg:tt)*) => {
        if $input.explain {
            $s.why = format!($($arg)*);
        }
    };
}
pub(crate) use why;

/// A scheduling algorithm bound to one virtual service.
pub trait Scheduler: fmt::Debug + Send {
    /// The name ipvsadm prints (`rr`, `wlc`, …).
    fn name(&self) -> &'static str;

    /// Called when the service is created and after every change of its
    /// destination list, with the list as it is now.
    fn update(&mut self, dests: &[DestInfo], change: DestChange);

    /// Picks a destination for a new connection: an index into `dests`, or
    /// `None` for "no destination available".
    fn schedule(
        &mut self,
        dests: &[DestInfo],
        input: &SchedInput,
        rng: &mut SimRng,
    ) -> Option<usize>;

    /// `ipvsadm -E` changed the service's `-b` flags while keeping the
    /// scheduler (the kernel schedulers read `svc->flags` on every
    /// decision, so the change takes effect at once).
    fn set_flags(&mut self, _flags: SchedFlags) {}

    /// A one-line reason for the last decision, for the trace and the
    /// classroom inspector (e.g. `rr: next after rs2`).
    fn explain(&self) -> String {
        String::new()
    }
}

/// Where a scheduler comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A Linux kernel IPVS scheduler (`ip_vs_<name>.ko`).
    Kernel,
    /// An nginx upstream method offered for comparison; **not part of IPVS**.
    NginxComparison,
}

/// One registered scheduler.
#[derive(Clone, Copy)]
pub struct Registration {
    /// The name used with `ipvsadm -s` / keepalived `lvs_sched`.
    pub name: &'static str,
    /// Kernel or comparison.
    pub origin: Origin,
    /// A short description for `--help` and the UI.
    pub summary: &'static str,
    /// Builds a fresh instance.
    pub make: fn(SchedFlags) -> Box<dyn Scheduler>,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// Every scheduler the lab knows, kernel ones first (in the kernel's order).
pub const REGISTRY: &[Registration] = &[
    Registration {
        name: "rr",
        origin: Origin::Kernel,
        summary: "round robin",
        make: |_| Box::new(rr::RoundRobin::default()),
    },
    Registration {
        name: "wrr",
        origin: Origin::Kernel,
        summary: "weighted round robin",
        make: |_| Box::new(wrr::WeightedRoundRobin::default()),
    },
    Registration {
        name: "lc",
        origin: Origin::Kernel,
        summary: "least connection",
        make: |_| Box::new(lc::LeastConnection::default()),
    },
    Registration {
        name: "wlc",
        origin: Origin::Kernel,
        summary: "weighted least connection",
        make: |_| Box::new(wlc::WeightedLeastConnection::default()),
    },
    Registration {
        name: "lblc",
        origin: Origin::Kernel,
        summary: "locality-based least connection",
        make: |_| Box::new(lblc::Lblc::default()),
    },
    Registration {
        name: "lblcr",
        origin: Origin::Kernel,
        summary: "locality-based least connection with replication",
        make: |_| Box::new(lblcr::Lblcr::default()),
    },
    Registration {
        name: "dh",
        origin: Origin::Kernel,
        summary: "destination hashing",
        make: |_| Box::new(dh::DestinationHashing::default()),
    },
    Registration {
        name: "sh",
        origin: Origin::Kernel,
        summary: "source hashing",
        make: |f| Box::new(sh::SourceHashing::new(f)),
    },
    Registration {
        name: "sed",
        origin: Origin::Kernel,
        summary: "shortest expected delay",
        make: |_| Box::new(sed::ShortestExpectedDelay::default()),
    },
    Registration {
        name: "nq",
        origin: Origin::Kernel,
        summary: "never queue",
        make: |_| Box::new(nq::NeverQueue::default()),
    },
    Registration {
        name: "fo",
        origin: Origin::Kernel,
        summary: "weighted failover",
        make: |_| Box::new(fo::WeightedFailover::default()),
    },
    Registration {
        name: "ovf",
        origin: Origin::Kernel,
        summary: "weighted overflow",
        make: |_| Box::new(ovf::WeightedOverflow::default()),
    },
    Registration {
        name: "mh",
        origin: Origin::Kernel,
        summary: "maglev hashing",
        make: |f| Box::new(mh::MaglevHashing::new(f)),
    },
    Registration {
        name: "twos",
        origin: Origin::Kernel,
        summary: "weighted random twos choice",
        make: |_| Box::new(twos::TwoChoices::default()),
    },
    Registration {
        name: "nginx-rr",
        origin: Origin::NginxComparison,
        summary: "smooth weighted round robin: nginx upstream method, NOT part of IPVS (comparison only)",
        make: |_| Box::new(nginx_swrr::NginxSmoothWrr::default()),
    },
    Registration {
        name: "nginx-ip_hash",
        origin: Origin::NginxComparison,
        summary: "ip_hash (first three octets): nginx upstream method, NOT part of IPVS (comparison only)",
        make: |_| Box::new(nginx_ip_hash::NginxIpHash::default()),
    },
    Registration {
        name: "nginx-least_conn",
        origin: Origin::NginxComparison,
        summary: "least_conn: nginx upstream method, NOT part of IPVS (comparison only)",
        make: |_| Box::new(nginx_least_conn::NginxLeastConn::default()),
    },
    Registration {
        name: "nginx-random-two",
        origin: Origin::NginxComparison,
        summary: "random two: nginx upstream method, NOT part of IPVS (comparison only)",
        make: |_| Box::new(nginx_random_two::NginxRandomTwo::default()),
    },
];

/// Looks a scheduler up by name.
#[must_use]
pub fn lookup(name: &str) -> Option<&'static Registration> {
    REGISTRY.iter().find(|r| r.name == name)
}

/// Builds the scheduler `name` with `flags`, already [`Scheduler::update`]d
/// with `dests`.
#[must_use]
pub fn create(name: &str, flags: SchedFlags, dests: &[DestInfo]) -> Option<Box<dyn Scheduler>> {
    let mut s = (lookup(name)?.make)(flags);
    s.update(dests, DestChange::Init);
    Some(s)
}

/// Usable by every scheduler: `weight > 0` and not overloaded.
#[must_use]
pub fn usable(d: &DestInfo) -> bool {
    d.weight > 0 && !d.overloaded
}

/// `hash_32()` from `include/linux/hash.h` (kernels >= 4.7): multiply by
/// `GOLDEN_RATIO_32` (0x61C88647) modulo 2^32 and keep the top `bits` bits.
#[must_use]
pub fn hash_32(v: u32, bits: u32) -> u32 {
    debug_assert!((1..=32).contains(&bits));
    v.wrapping_mul(0x61C8_8647) >> (32 - bits)
}

/// Greatest common divisor (`lib/math/gcd.c`); `gcd(0, b) == b`.
#[must_use]
pub fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `a * b` in 64 bits (saturating; cannot saturate for ipvsadm's weight
/// range 0..=65535).
#[must_use]
#[inline]
pub fn mul64(a: u64, b: u32) -> u64 {
    a.saturating_mul(u64::from(b))
}

/// `(overhead, weight)` of a destination for [`weighted_least_by`]:
/// `ip_vs_dest_conn_overhead` (`activeconns * 256 + inactconns`) and the
/// weight, shown as 0 when the destination is overloaded.
#[must_use]
#[inline(always)]
pub fn wlc_key(activeconns: u32, inactconns: u32, weight: u32, overloaded: bool) -> (u64, u64) {
    (
        conn_overhead(activeconns, inactconns),
        if overloaded { 0 } else { u64::from(weight) },
    )
}

/// `ip_vs_dest_conn_overhead`: `activeconns * 256 + inactconns`.
#[must_use]
#[inline(always)]
pub fn conn_overhead(activeconns: u32, inactconns: u32) -> u64 {
    (u64::from(activeconns) << 8) + u64::from(inactconns)
}

/// The weighted-least-connection pick shared by `wlc`, `lblc` and `lblcr`:
/// the first non-overloaded destination with weight > 0 is the candidate,
/// then every later non-overloaded destination D replaces the best B when
/// `overhead(B) * w(D) > overhead(D) * w(B)` (strict, so list order wins ties).
#[must_use]
#[inline]
pub fn weighted_least(dests: &[DestInfo]) -> Option<usize> {
    weighted_least_by(dests.iter().map(DestInfo::wlc_key))
}

/// [`weighted_least`] on `(overhead, weight)` pairs in list order, where an
/// overloaded destination shows weight 0 ([`DestInfo::wlc_key`]): a weight
/// of 0 never becomes the candidate and never replaces it (`x * 0 > y` is
/// false), exactly as the flag and the zero weight do in the kernel loop.
/// The flow fast path keeps these pairs up to date instead of whole
/// [`DestInfo`]s.
#[inline]
pub fn weighted_least_by(keys: impl Iterator<Item = (u64, u64)>) -> Option<usize> {
    let mut keys = keys.enumerate();
    let (mut best, (mut loh, mut lw)) = keys.find(|(_, (_, w))| *w > 0)?;
    for (k, (doh, dw)) in keys {
        // The kernel's plain u64 products (no overflow: an overhead is
        // below 2^41, a weight below 2^31).
        // (Branch-free: which destination wins is data, not a pattern.)
        let take = loh.wrapping_mul(dw) > doh.wrapping_mul(lw);
        best = std::hint::select_unpredictable(take, k, best);
        loh = std::hint::select_unpredictable(take, doh, loh);
        lw = std::hint::select_unpredictable(take, dw, lw);
    }
    Some(best)
}

/// Factors that turn `wlc`'s comparison of overhead/weight ratios into a
/// comparison of integers: with `L` the least common multiple of the
/// positive weights, dest i's factor is `L / weight_i` (0 for weight 0).
/// Then `overhead_i * L / w_i < overhead_j * L / w_j` exactly when the
/// kernel's `overhead_j * w_i > overhead_i * w_j`.
///
/// A scaled overhead is kept with the dest's index in its low `bits`
/// ([`wlc_scaled`]), so that the least value is the kernel's pick, ties
/// going to the earlier dest. `None` when `L` is too large for that to
/// fit below 2^63 with an overhead below 2^41 (two `u32` counters).
#[must_use]
pub fn wlc_scales(weights: &[u32], bits: u32) -> Option<Vec<u64>> {
    // (At most 2^22, so `l` fits the kernel-style `u32` gcd.)
    let limit = 1u32 << (63u32.checked_sub(41 + bits)?);
    let mut l = 1u32;
    for &w in weights.iter().filter(|w| **w > 0) {
        let next = u64::from(l / gcd(l, w)) * u64::from(w);
        l = u32::try_from(next).ok().filter(|n| *n <= limit)?;
    }
    let l = u64::from(l);
    Some(
        weights
            .iter()
            .map(|&w| if w == 0 { 0 } else { l / u64::from(w) })
            .collect(),
    )
}

/// Dest `index`'s overhead scaled by its [`wlc_scales`] factor, shifted
/// left by `bits` with `index` below; `u64::MAX` for a dest `wlc` skips
/// (weight 0, or overloaded).
#[must_use]
#[inline(always)]
pub fn wlc_scaled(
    (activeconns, inactconns): (u32, u32),
    scale: u64,
    overloaded: bool,
    (index, bits): (usize, u32),
) -> u64 {
    if overloaded || scale == 0 {
        u64::MAX
    } else {
        (conn_overhead(activeconns, inactconns) * scale) << bits | index as u64
    }
}

/// The `wlc` pick on [`wlc_scaled`] overheads with `bits` of index: the
/// least value, which is the kernel's pick ([`weighted_least_by`]);
/// `None` when no dest can be chosen.
#[must_use]
#[inline(always)]
pub fn least_scaled(scaled: &[u64], bits: u32) -> Option<usize> {
    let min = |a: u64, b: u64| std::hint::select_unpredictable(b < a, b, a);
    let least = match <&[u64; 8]>::try_from(scaled) {
        // Eight (padded with `u64::MAX`): a tree of minimums, no loop.
        Ok(s) => min(
            min(min(s[0], s[1]), min(s[2], s[3])),
            min(min(s[4], s[5]), min(s[6], s[7])),
        ),
        Err(_) => scaled.iter().fold(u64::MAX, |a, &b| min(a, b)),
    };
    #[expect(clippy::cast_possible_truncation, reason = "below 2^bits")]
    let at = (least & ((1 << bits) - 1)) as usize;
    (least != u64::MAX).then_some(at)
}

/// `is_overloaded()` of `ip_vs_lblc.c` / `ip_vs_lblcr.c` (not the OVERLOAD
/// flag): `activeconns > weight` and some destination of the service has
/// `activeconns * 2 < weight`.
#[must_use]
pub fn lblc_overloaded(d: &DestInfo, dests: &[DestInfo]) -> bool {
    d.activeconns > d.weight
        && dests
            .iter()
            .any(|x| u64::from(x.activeconns) * 2 < u64::from(x.weight))
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Helpers for scheduler tests: build destination lists in kernel order.
    use super::*;

    /// Destinations named by letter, `weights` in kernel list order.
    pub fn dests(weights: &[u32]) -> Vec<DestInfo> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| DestInfo {
                id: i as u64,
                addr: Ipv4Addr::new(10, 0, 0, 11 + i as u8),
                port: 80,
                weight: w,
                last_weight: w,
                activeconns: 0,
                inactconns: 0,
                overloaded: false,
                available: true,
            })
            .collect()
    }

    /// A TCP first packet from `saddr`.
    pub fn input(saddr: Ipv4Addr) -> SchedInput {
        SchedInput {
            proto: Protocol::Tcp,
            saddr,
            sport: 40000,
            daddr: Ipv4Addr::new(192, 168, 59, 135),
            dport: 80,
            now: SimTime::ZERO,
            explain: true,
        }
    }

    /// Runs `n` schedules with no connection accounting and returns the
    /// chosen letters (`A` = list head).
    pub fn sequence(s: &mut dyn Scheduler, d: &[DestInfo], n: usize) -> String {
        let mut rng = crate::rng::stream(1, "test");
        let inp = input(Ipv4Addr::new(172, 16, 0, 2));
        (0..n)
            .map(|_| match s.schedule(d, &inp, &mut rng) {
                Some(i) => char::from(b'A' + i as u8),
                None => '-',
            })
            .collect()
    }

    /// One schedule with input `inp` (fixed test rng).
    pub fn pick(s: &mut dyn Scheduler, d: &[DestInfo], inp: &SchedInput) -> Option<usize> {
        let mut rng = crate::rng::stream(1, "test");
        s.schedule(d, inp, &mut rng)
    }
}
