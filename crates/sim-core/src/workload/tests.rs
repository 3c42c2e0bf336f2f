use super::*;
use crate::rng;

fn mean_of(d: &Dist, n: usize) -> f64 {
    let mut r = rng::stream(7, "test/dist");
    #[expect(clippy::cast_precision_loss, reason = "test")]
    let m = (0..n).map(|_| d.sample(&mut r)).sum::<f64>() / n as f64;
    m
}

#[test]
fn distribution_means_match() {
    for d in [
        Dist::Fixed(5.0),
        Dist::Exponential { mean: 10.0 },
        Dist::Lognormal {
            mean: 10.0,
            sigma: 0.5,
        },
        Dist::Empirical(vec![1.0, 2.0, 3.0, 10.0]),
    ] {
        let got = mean_of(&d, 200_000);
        let want = match &d {
            // Linear interpolation between order statistics: the mean of
            // the piecewise-linear inverse CDF.
            Dist::Empirical(_) => (1.5 + 2.5 + 6.5) / 3.0,
            other => other.mean(),
        };
        assert!((got - want).abs() / want < 0.02, "{d:?}: {got} vs {want}");
    }
}

#[test]
fn exponential_has_the_right_tail() {
    // P(X > 3 * mean) = e^-3.
    let d = Dist::Exponential { mean: 1.0 };
    let mut r = rng::stream(3, "tail");
    let n = 200_000;
    let over = (0..n).filter(|_| d.sample(&mut r) > 3.0).count();
    #[expect(clippy::cast_precision_loss, reason = "test")]
    let p = over as f64 / f64::from(n);
    assert!((p - (-3.0f64).exp()).abs() < 0.005, "{p}");
}

#[test]
fn empirical_text_is_parsed_and_checked() {
    let d = Dist::empirical_from_text("# ms\n3\n\n1 # fast\n2\n", |l| {
        l.parse::<f64>().map_err(|e| e.to_string())
    })
    .unwrap();
    assert_eq!(d, Dist::Empirical(vec![1.0, 2.0, 3.0]));
    let e = Dist::empirical_from_text("1\nx\n", |l| {
        l.parse::<f64>().map_err(|_| format!("bad `{l}`"))
    });
    assert_eq!(e, Err((2, "bad `x`".into())));
    assert!(Dist::empirical_from_text("# nothing\n", |_| Ok(1.0)).is_err());
}

#[test]
fn schedules_give_their_rates() {
    let ramp = RateSchedule::Ramp {
        from: 100.0,
        to: 300.0,
        start_ns: 10,
        over_ns: 100,
    };
    assert!((ramp.rate_at(0) - 100.0).abs() < 1e-9);
    assert!((ramp.rate_at(60) - 200.0).abs() < 1e-9);
    assert!((ramp.rate_at(500) - 300.0).abs() < 1e-9);
    let steps = RateSchedule::Steps(vec![(0, 5.0), (100, 50.0)]);
    assert!((steps.rate_at(99) - 5.0).abs() < 1e-9);
    assert!((steps.rate_at(100) - 50.0).abs() < 1e-9);
    let day = RateSchedule::Daily {
        min: 10.0,
        max: 110.0,
        period_ns: 1000,
        peak_ns: 250,
    };
    assert!((day.rate_at(250) - 110.0).abs() < 1e-9);
    assert!((day.rate_at(750) - 10.0).abs() < 1e-9);
    assert!((day.max_rate() - 110.0).abs() < 1e-9);
}

#[test]
fn poisson_arrivals_follow_the_schedule() {
    // Steps: 1000/s for 10 s then 4000/s for 10 s (thinning is exact).
    let s = RateSchedule::Steps(vec![(0, 1000.0), (10_000_000_000, 4000.0)]);
    let mut r = rng::stream(11, "arrivals");
    let (mut t, mut first, mut second) = (0u64, 0u32, 0u32);
    while let Some(n) = s.next_arrival(t, &mut r) {
        if n >= 20_000_000_000 {
            break;
        }
        if n < 10_000_000_000 {
            first += 1;
        } else {
            second += 1;
        }
        t = n;
    }
    assert!((9_600..10_400).contains(&first), "{first}");
    assert!((39_200..40_800).contains(&second), "{second}");
    assert_eq!(RateSchedule::Constant(0.0).next_arrival(0, &mut r), None);
}

#[test]
fn client_ports_count_up_and_wrap() {
    let mut r = rng::stream(1, "pool");
    let mut p = ClientPool::new(Ipv4Addr::new(172, 16, 0, 1), 3, &mut r);
    assert_eq!(p.len(), 3);
    assert_eq!(p.addr(2), Ipv4Addr::new(172, 16, 0, 3));
    let a = p.next_port(0);
    let b = p.next_port(0);
    assert!((PORT_LO..PORT_LO + PORT_SPAN).contains(&a));
    assert!(b == a + 1 || (a == PORT_LO + PORT_SPAN - 1 && b == PORT_LO));
    let seen: std::collections::BTreeSet<u16> =
        (0..u32::from(PORT_SPAN)).map(|_| p.next_port(1)).collect();
    assert_eq!(seen.len(), usize::from(PORT_SPAN));
}
