use std::net::Ipv4Addr;

use super::*;
use crate::ipvs::{DestSpec, FwdMethod, ServiceSpec};
use crate::workload::Dist;

pub(crate) const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

pub(crate) fn rs(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, 10 + i)
}

/// A director with one TCP service over `weights.len()` real servers.
pub(crate) fn director(sched: &str, weights: &[u32], fwd: FwdMethod) -> Ipvs {
    let mut ipvs = Ipvs::new();
    let key = ServiceKey::Addr {
        proto: Protocol::Tcp,
        addr: VIP,
        port: 80,
    };
    ipvs.add_service(&ServiceSpec::new(key, sched)).unwrap();
    for (i, w) in weights.iter().enumerate() {
        let mut d = DestSpec::new(rs(u8::try_from(i).unwrap() + 1), 80, fwd);
        d.weight = *w;
        ipvs.add_dest(&key, &d).unwrap();
    }
    ipvs
}

/// The lb-mm model with `n` requests.
pub(crate) fn lb_mm(n: u64) -> (FlowConfig, Ipvs) {
    let weights = [1, 1, 2, 2, 3, 3, 4, 4];
    let ipvs = director("wlc", &weights, FwdMethod::Route);
    let servers = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let i = u8::try_from(i).unwrap() + 1;
            ServerSpec::exponential(&format!("rs{i}"), rs(i), 4, 1e9 / (100.0 * f64::from(*w)))
        })
        .collect();
    let mut wl = Workload::poisson(VIP, 80, 6800.0, 65536);
    wl.requests = Some(n);
    let cfg = FlowConfig {
        name: "lb-mm".into(),
        seed: 1,
        workloads: vec![wl],
        servers,
        director: DirectorCapacity::default(),
        path: PathChoice::Auto,
        until_ns: u64::MAX,
        interval_ns: 1_000_000_000,
        record_choices: false,
    };
    (cfg, ipvs)
}

#[test]
fn lb_mm_small_runs_and_balances() {
    let (cfg, mut ipvs) = lb_mm(20_000);
    let out = run(&cfg, &mut ipvs).unwrap();
    let m = &out.metrics;
    assert_eq!(m.service.requests, 20_000);
    assert_eq!(m.service.outcomes.ok, 20_000);
    assert_eq!(m.director.path, "fast");
    let mean_ms = m.service.latency.mean_ns / 1e6;
    eprintln!("{}", m.summary_text());
    assert!((3.5..6.0).contains(&mean_ms), "mean {mean_ms} ms");
    let _ = Dist::Fixed(0.0);
}
