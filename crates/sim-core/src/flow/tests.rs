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
}

/// A plain run (one constant-rate Poisson source, fixed sizes, no client
/// timeout, no director limit) takes the event loop with those branches
/// compiled out; recording choices makes the run general. Both loops give
/// the same metrics, for DR and NAT, with an outage and a queue limit.
#[test]
fn plain_runs_match_the_general_loop() {
    for fwd in [FwdMethod::Route, FwdMethod::Masq] {
        let (mut cfg, _) = lb_mm(20_000);
        cfg.servers[7].outages = vec![(300_000_000, Some(900_000_000))];
        cfg.servers[0].queue_limit = Some(1);
        let ipvs = || director("wlc", &[1, 1, 2, 2, 3, 3, 4, 4], fwd);
        assert!(build(&cfg, &mut ipvs()).unwrap().plain());
        let plain = run(&cfg, &mut ipvs()).unwrap();
        cfg.record_choices = true;
        assert!(!build(&cfg, &mut ipvs()).unwrap().plain());
        let general = run(&cfg, &mut ipvs()).unwrap();
        assert_eq!(general.choices.len(), 20_000);
        assert_eq!(plain.metrics, general.metrics, "{fwd:?}");
        let o = &plain.metrics.service.outcomes;
        assert!(o.reset > 0 && o.timed_out > 0, "{o:?}");
    }
}

/// A small, busy case with every ending: queue limits (resets), an
/// outage (down server, lost requests), client timeouts, short close
/// timeouts so entries expire during the run.
fn busy_case(sched: &str, fwd: FwdMethod, path: PathChoice) -> (FlowOutput, Vec<(u32, u32)>) {
    busy_case_weighted(sched, fwd, path, [1, 2, 3])
}

/// [`busy_case`] with these weights.
fn busy_case_weighted(
    sched: &str,
    fwd: FwdMethod,
    path: PathChoice,
    weights: [u32; 3],
) -> (FlowOutput, Vec<(u32, u32)>) {
    let mut ipvs = director(sched, &weights, fwd);
    ipvs.timeouts.set(0, 1, 0); // FIN_WAIT 1 s
    ipvs.timeouts.tcp[crate::ipvs::TcpState::TimeWait as usize] = 1;
    ipvs.timeouts.tcp[crate::ipvs::TcpState::Close as usize] = 1;
    ipvs.timeouts.tcp[crate::ipvs::TcpState::SynRecv as usize] = 2;
    let mut servers: Vec<ServerSpec> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let i = u8::try_from(i).unwrap() + 1;
            let w = f64::from(*w).clamp(1.0, 3.0);
            let mut s = ServerSpec::exponential(&format!("rs{i}"), rs(i), 2, 4e6 / w);
            s.queue_limit = Some(3);
            s
        })
        .collect();
    servers[1].outages = vec![(2_000_000_000, Some(3_000_000_000))];
    let mut wl = Workload::poisson(VIP, 80, 900.0, 50);
    wl.requests = Some(5_000);
    wl.max_time_ns = Some(40_000_000);
    wl.response_size = Dist::Exponential { mean: 5000.0 };
    let cfg = FlowConfig {
        name: "busy".into(),
        seed: 5,
        workloads: vec![wl],
        servers,
        director: DirectorCapacity::default(),
        path,
        until_ns: u64::MAX,
        interval_ns: 500_000_000,
        record_choices: true,
    };
    let out = run(&cfg, &mut ipvs).unwrap();
    // Let every entry expire in the real table, then read its counters.
    let svc = ipvs
        .find_service(&ServiceKey::Addr {
            proto: Protocol::Tcp,
            addr: VIP,
            port: 80,
        })
        .unwrap();
    let end = out.metrics.run.sim_time_ns;
    ipvs.advance(SimTime(end));
    let counts = ipvs
        .service_dests(svc)
        .map(|d| (d.activeconns, d.inactconns))
        .collect();
    (out, counts)
}

/// `(ActiveConn, InActConn)` of each server in a run's last sample.
fn last_counts(o: &FlowOutput) -> Vec<(u32, u32)> {
    let n = o.metrics.servers.len();
    o.metrics.server_series[o.metrics.server_series.len() - n..]
        .iter()
        .map(|r| {
            (
                u32::try_from(r.active).unwrap(),
                u32::try_from(r.inactive).unwrap(),
            )
        })
        .collect()
}

#[test]
fn fast_path_makes_the_same_choices_as_the_ipvs_table() {
    let (mut resets, mut timeouts) = (0, 0);
    for sched in [
        "rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh", "lblc", "twos",
    ] {
        for fwd in [FwdMethod::Route, FwdMethod::Masq] {
            let (slow, slow_counts) = busy_case(sched, fwd, PathChoice::Ipvs);
            let (fast, _) = busy_case(sched, fwd, PathChoice::Fast);
            assert_eq!(slow.metrics.director.path, "ipvs");
            assert_eq!(fast.metrics.director.path, "fast");
            assert_eq!(slow.choices.len(), 5_000, "{sched} {fwd:?}");
            assert_eq!(
                slow.choices, fast.choices,
                "{sched} {fwd:?}: choices differ"
            );
            assert_eq!(
                slow.metrics.service, fast.metrics.service,
                "{sched} {fwd:?}"
            );
            // ActiveConn/InActConn over time, as sampled, are identical too.
            let series = |o: &FlowOutput| -> Vec<(u64, u64)> {
                o.metrics
                    .server_series
                    .iter()
                    .map(|s| (s.active, s.inactive))
                    .collect()
            };
            assert_eq!(series(&slow), series(&fast), "{sched} {fwd:?}");
            let o = &slow.metrics.service.outcomes;
            assert!(o.ok > 2_000 && o.timed_out + o.reset > 0, "{sched}: {o:?}");
            timeouts += o.timed_out;
            resets += o.reset;
            // The real table's counters at the end are the fast path's
            // last sample (servers are numbered in kernel list order).
            assert_eq!(slow_counts, last_counts(&fast), "{sched} {fwd:?}");
        }
    }
    assert!(resets > 0, "the case exercises full queues");
    assert!(
        timeouts > 0,
        "the case exercises client timeouts and the outage"
    );
}

/// `wlc` on the fast path picks by scaled overheads when the weights'
/// least common multiple is small, by the kernel's comparisons otherwise:
/// both make the real table's choices, weight 0 included.
#[test]
fn fast_wlc_makes_the_same_choices_whatever_the_weights() {
    for weights in [[65_535, 65_534, 65_533], [0, 2, 5], [7, 7, 7]] {
        let (slow, slow_counts) =
            busy_case_weighted("wlc", FwdMethod::Route, PathChoice::Ipvs, weights);
        let (fast, _) = busy_case_weighted("wlc", FwdMethod::Route, PathChoice::Fast, weights);
        assert_eq!(fast.metrics.director.path, "fast");
        assert_eq!(slow.choices, fast.choices, "{weights:?}: choices differ");
        assert_eq!(slow.metrics.service, fast.metrics.service, "{weights:?}");
        assert_eq!(slow_counts, last_counts(&fast), "{weights:?}");
        for (i, s) in fast.metrics.servers.iter().enumerate() {
            let chosen = fast.choices.iter().any(|c| usize::from(*c) == i);
            assert_eq!(
                chosen,
                s.weight > 0,
                "{weights:?}: {} weight {}",
                s.name,
                s.weight
            );
        }
    }
}

#[test]
fn same_seed_same_metrics_and_seed_matters() {
    let (a, _) = busy_case("wlc", FwdMethod::Route, PathChoice::Fast);
    let (b, _) = busy_case("wlc", FwdMethod::Route, PathChoice::Fast);
    assert_eq!(a.metrics, b.metrics);
    assert_eq!(a.metrics.to_json(), b.metrics.to_json());
}

#[test]
fn persistent_services_take_the_ipvs_path() {
    let mut ipvs = director("rr", &[1, 1], FwdMethod::Route);
    let key = ServiceKey::Addr {
        proto: Protocol::Tcp,
        addr: VIP,
        port: 80,
    };
    let mut spec = ServiceSpec::new(key, "rr");
    spec.persistent = Some(50);
    ipvs.edit_service(&spec).unwrap();
    let (mut cfg, _) = lb_mm(200);
    cfg.servers.clear();
    cfg.workloads[0].arrivals = Arrivals::Poisson {
        schedule: crate::workload::RateSchedule::Constant(100.0),
        first: Ipv4Addr::new(192, 168, 1, 1),
        clients: 1,
    };
    cfg.record_choices = true;
    let out = run(&cfg, &mut ipvs).unwrap();
    assert_eq!(out.metrics.director.path, "ipvs");
    // One client, persistence: every connection on the same real server.
    assert!(out.choices.iter().all(|c| *c == out.choices[0]));
    cfg.path = PathChoice::Fast;
    assert!(run(&cfg, &mut ipvs).unwrap_err().0.contains("persistent"));
}

#[test]
fn director_capacity_saturates_nat_before_dr() {
    let run_with = |fwd| {
        let (mut cfg, _) = lb_mm(20_000);
        let mut ipvs = director("wlc", &[1, 1, 2, 2, 3, 3, 4, 4], fwd);
        cfg.workloads[0].response_size = Dist::Fixed(20_000.0);
        cfg.director = DirectorCapacity {
            pps: Some(150_000.0),
            bps: Some(1e9),
            max_delay_ns: 5_000_000,
        };
        run(&cfg, &mut ipvs).unwrap().metrics
    };
    let dr = run_with(FwdMethod::Route);
    let nat = run_with(FwdMethod::Masq);
    assert_eq!(dr.director.drops, 0);
    assert!(dr.director.utilisation < 0.6, "{}", dr.director.utilisation);
    assert!(
        nat.director.utilisation > 0.95,
        "{}",
        nat.director.utilisation
    );
    assert!(nat.director.drops > 0);
    assert!(nat.service.outcomes.timed_out > 0);
    assert!(nat.service.latency.mean_ns > dr.service.latency.mean_ns);
}

#[test]
fn closed_loop_users_keep_one_request_each() {
    let (mut cfg, mut ipvs) = lb_mm(0);
    cfg.workloads[0].requests = Some(3_000);
    cfg.workloads[0].arrivals = Arrivals::Closed {
        users: 10,
        think: Dist::Fixed(10_000_000.0),
        first: Ipv4Addr::new(10, 1, 0, 1),
        clients: 10,
    };
    let out = run(&cfg, &mut ipvs).unwrap();
    let m = &out.metrics;
    assert_eq!(m.service.outcomes.ok, 3_000);
    // Never more than 10 connections active at once.
    assert!(m.service_series.iter().all(|s| s.active <= 10));
    // Throughput ≈ users / (think + response): 10 / (10 ms + ~4 ms).
    let secs = m.run.sim_time_ns as f64 / 1e9;
    let rate = 3_000.0 / secs;
    assert!((600.0..760.0).contains(&rate), "{rate}");
}

#[test]
fn metrics_export_has_one_row_per_interval_and_server() {
    let (cfg, mut ipvs) = lb_mm(7_000);
    let m = run(&cfg, &mut ipvs).unwrap().metrics;
    let intervals = m.service_series.len();
    assert!(intervals >= 1);
    assert_eq!(m.server_series.len(), intervals * 8);
    assert_eq!(m.service_csv().lines().count(), intervals + 1);
    assert_eq!(m.series_csv().lines().count(), intervals * 8 + 1);
    assert_eq!(m.servers_csv().lines().count(), 1 + 8 + 1);
    let arrivals: u64 = m.service_series.iter().map(|s| s.arrivals).sum();
    assert_eq!(arrivals, 7_000);
    let v: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    assert_eq!(v["service"]["requests"], 7_000);
    assert_eq!(v["servers"].as_array().unwrap().len(), 8);
}

const SPEC: &str = r#"
[scenario]
name = "spec"
seed = 9
duration = "30s"
fidelity = "flow"
sample = "500ms"

[[segment]]
name = "lan"

[[host]]
name = "lvs"
interfaces = [{ name = "eth0", segment = "lan", address = "10.0.0.1/24" }]
setup = """
ipvsadm -A -t 10.0.0.100:80 -s rr
ipvsadm -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g
ipvsadm -a -t 10.0.0.100:80 -r 10.0.0.12:80 -g
"""

[[host]]
name = "rs1"
interfaces = [{ name = "eth0", segment = "lan", address = "10.0.0.11/24" }]
setup = "ip addr add 10.0.0.100/32 dev lo label lo:0"

[[workload]]
name = "ramp"
target = "10.0.0.100:80"
schedule = { ramp = [100, 300], start = "1s", over = "4s" }
requests = 400
response_size = { dist = "lognormal", mean = 20000, sigma = 1.0 }

[[workload]]
kind = "closed"
target = "10.0.0.100:80"
users = 3
think = { dist = "empirical", file = "think.txt" }
requests = 50
max_time = "2s"

[[server]]
host = "rs1"
workers = 2
queue = 8
service = { dist = "lognormal", mean = "5ms", sigma = 0.5 }
outages = [{ at = "2s", until = "3s" }]

[[server]]
address = "10.0.0.12"
service = { dist = "empirical", values = ["1ms", "2ms", "4ms"] }

[director]
pps = 100000
bandwidth = "1Gbit"
backlog = "5ms"
path = "fast"
"#;

#[test]
fn scenario_sections_build_the_flow_config() {
    let read = |p: &str| (p == "think.txt").then(|| "# ms\n10\n20\n30ms\n".to_string());
    let sc = crate::scenario::load_with(
        "spec.toml",
        SPEC,
        crate::trace::TraceLevel::Off,
        None,
        &read,
    )
    .unwrap();
    assert_eq!(sc.fidelity, spec::Fidelity::Flow);
    let cfg = sc.flow.clone().unwrap();
    assert_eq!(cfg.interval_ns, 500_000_000);
    assert_eq!(cfg.path, PathChoice::Fast);
    assert_eq!(cfg.until_ns, 30_000_000_000);
    assert_eq!(cfg.workloads.len(), 2);
    assert_eq!(
        cfg.workloads[0].arrivals,
        Arrivals::Poisson {
            schedule: crate::workload::RateSchedule::Ramp {
                from: 100.0,
                to: 300.0,
                start_ns: 1_000_000_000,
                over_ns: 4_000_000_000
            },
            first: Ipv4Addr::new(172, 16, 0, 1),
            clients: 65536
        }
    );
    assert_eq!(
        cfg.workloads[1].arrivals,
        Arrivals::Closed {
            users: 3,
            think: Dist::Empirical(vec![10e6, 20e6, 30e6]),
            first: Ipv4Addr::new(172, 16, 0, 1),
            clients: 65536
        }
    );
    assert_eq!(
        cfg.servers[0].addr,
        rs(1),
        "the NIC address, not the VIP on lo"
    );
    assert_eq!(
        cfg.servers[0].outages,
        vec![(2_000_000_000, Some(3_000_000_000))]
    );
    assert_eq!(cfg.servers[1].workers, 1);
    assert_eq!(cfg.director.pps, Some(100_000.0));
    assert_eq!(cfg.director.bps, Some(1e9));
    // Without the file, the error names it.
    let e =
        crate::scenario::load("spec.toml", SPEC, crate::trace::TraceLevel::Off, None).unwrap_err();
    assert!(e.message.contains("think.txt"), "{e}");
    // It runs: both workloads, the outage shows in the series.
    let mut sc = sc;
    let out = run_scenario(&mut sc).unwrap();
    let m = &out.metrics;
    assert_eq!(m.service.requests, 450);
    assert!(m.server_series.iter().any(|s| !s.up));
    assert!(m.service.outcomes.timed_out > 0, "{:?}", m.service.outcomes);
}
