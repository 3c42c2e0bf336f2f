//! Property tests over every registered scheduler.

use std::net::Ipv4Addr;

use proptest::prelude::*;

use super::testutil::{dests, input};
use super::{DestChange, DestInfo, REGISTRY, SchedFlags, create, usable};
use crate::time::SimTime;

fn dest_strategy() -> impl Strategy<Value = Vec<DestInfo>> {
    prop::collection::vec((0u32..=10, 0u32..=5, 0u32..=20, any::<bool>()), 0..=8).prop_map(|v| {
        let w: Vec<u32> = v.iter().map(|x| x.0).collect();
        let mut d = dests(&w);
        for (di, (_, act, inact, over)) in d.iter_mut().zip(v) {
            di.activeconns = act;
            di.inactconns = inact;
            di.overloaded = over;
            if di.weight == 0 {
                di.last_weight = act; // sometimes 0, sometimes not
            }
        }
        d
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn wrr_cycle_shares_equal_weights(w in prop::collection::vec(1u32..=10, 1..=8)) {
        let d = dests(&w);
        let mut s = create("wrr", SchedFlags::default(), &d).expect("wrr");
        let mut rng = crate::rng::stream(1, "p");
        let inp = input(Ipv4Addr::new(172, 16, 0, 2));
        let total: u32 = w.iter().sum();
        let mut counts = vec![0u32; w.len()];
        for _ in 0..total {
            let i = s.schedule(&d, &inp, &mut rng).expect("some");
            counts[i] += 1;
        }
        prop_assert_eq!(counts, w);
    }

    #[test]
    fn never_an_unusable_or_out_of_range_dest(
        d in dest_strategy(),
        flags in (any::<bool>(), any::<bool>()),
        saddr in any::<u32>(),
        sport in any::<u16>(),
        daddr in any::<u32>(),
    ) {
        let flags = SchedFlags { flag1: flags.0, flag2: flags.1, flag3: false };
        let mut rng = crate::rng::stream(2, "p");
        for reg in REGISTRY {
            let mut s = create(reg.name, flags, &d).expect("registered");
            for k in 0..4u32 {
                let mut inp = input(Ipv4Addr::from(saddr.wrapping_add(k * 77)));
                inp.sport = sport;
                inp.daddr = Ipv4Addr::from(daddr);
                inp.now = SimTime(u64::from(k) * 1_000_000_000);
                if let Some(i) = s.schedule(&d, &inp, &mut rng) {
                    prop_assert!(i < d.len(), "{} returned {} of {}", reg.name, i, d.len());
                    prop_assert!(usable(&d[i]), "{} returned unusable {:?}", reg.name, d[i]);
                }
                prop_assert!(!s.explain().is_empty(), "{} has no explanation", reg.name);
            }
        }
    }

    #[test]
    fn survives_list_changes(
        d in dest_strategy(),
        del in 0usize..8,
    ) {
        let mut rng = crate::rng::stream(3, "p");
        let inp = input(Ipv4Addr::new(10, 1, 2, 3));
        for reg in REGISTRY {
            let mut list = d.clone();
            let mut s = create(reg.name, SchedFlags::default(), &list).expect("registered");
            let _ = s.schedule(&list, &inp, &mut rng);
            if !list.is_empty() {
                let index = del % list.len();
                let gone = list.remove(index);
                s.update(&list, DestChange::Deleted { id: gone.id, index });
            }
            let mut added = dests(&[3]);
            added[0].id = 99;
            list.insert(0, added.remove(0));
            s.update(&list, DestChange::Added { id: 99 });
            if let Some(i) = s.schedule(&list, &inp, &mut rng) {
                prop_assert!(i < list.len());
                prop_assert!(usable(&list[i]), "{} after changes", reg.name);
            }
        }
    }
}

#[test]
fn registry_order_and_labels() {
    let names: Vec<&str> = REGISTRY.iter().map(|r| r.name).collect();
    assert_eq!(
        names,
        [
            "rr",
            "wrr",
            "lc",
            "wlc",
            "lblc",
            "lblcr",
            "dh",
            "sh",
            "sed",
            "nq",
            "fo",
            "ovf",
            "mh",
            "twos",
            "nginx-rr",
            "nginx-ip_hash",
            "nginx-least_conn",
            "nginx-random-two"
        ]
    );
    for r in REGISTRY {
        let s = (r.make)(SchedFlags::default());
        assert_eq!(s.name(), r.name);
        if r.origin == super::Origin::NginxComparison {
            assert!(
                r.summary
                    .contains("nginx upstream method, NOT part of IPVS (comparison only)")
            );
        }
    }
}

proptest! {
    // Cheap cases: many, so that ties, zero weights and overloaded dests
    // meet at every place.
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// `wlc` on scaled overheads picks what the kernel's loop picks.
    #[test]
    fn wlc_on_scaled_overheads_is_the_kernel_loop(
        d in prop::collection::vec((0u32..=6, 0u32..4, 0u32..600, prop::bool::weighted(0.1)), 0..=10),
        big in prop::bool::weighted(0.1),
    ) {
        let weights: Vec<u32> = d.iter().map(|x| if big { x.0 * 10_007 } else { x.0 }).collect();
        let pairs: Vec<(u64, u64)> = d
            .iter()
            .zip(&weights)
            .map(|(&(_, a, i, o), &w)| super::wlc_key(a, i, w, o))
            .collect();
        let want = super::weighted_least_by(pairs.iter().copied());
        let bits = 4;
        match super::wlc_scales(&weights, bits) {
            Some(scales) => {
                let scaled: Vec<u64> = d
                    .iter()
                    .zip(&scales)
                    .enumerate()
                    .map(|(k, (&(_, a, i, o), &m))| super::wlc_scaled((a, i), m, o, (k, bits)))
                    .collect();
                prop_assert_eq!(super::least_scaled(&scaled, bits), want);
            }
            // Only weights whose least common multiple is large.
            None => prop_assert!(big),
        }
    }
}

#[test]
fn wlc_scales_by_the_least_common_multiple() {
    assert_eq!(
        super::wlc_scales(&[1, 1, 2, 2, 3, 3, 4, 4], 3),
        Some(vec![12, 12, 6, 6, 4, 4, 3, 3])
    );
    assert_eq!(super::wlc_scales(&[0, 5, 10], 2), Some(vec![0, 2, 1]));
    assert_eq!(super::wlc_scales(&[0, 0], 1), Some(vec![0, 0]));
    // 65535 · 65534 · 65533 / 2: too large, the caller keeps the loop.
    assert_eq!(super::wlc_scales(&[65_535, 65_534, 65_533], 2), None);
    // 2^19 fits beside 3 bits of index, 2^20 does not.
    assert!(super::wlc_scales(&[1 << 19, 1], 3).is_some());
    assert_eq!(super::wlc_scales(&[1 << 20, 1], 3), None);
    assert_eq!(super::wlc_scales(&[1], 23), None);
}
