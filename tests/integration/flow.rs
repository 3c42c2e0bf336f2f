//! Flow fidelity against packet fidelity, and the shipped flow scenarios.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sim_core::flow;
use sim_core::scenario;
use sim_core::time::SimTime;
use sim_core::trace::TraceLevel;
use sim_core::world::CurlOutcome;

/// LVS-DR, `sched` over three real servers with `weights`, `loops`
/// sequential curl loops from one client, at `fidelity`.
fn dr_case(sched: &str, weights: &[u32], loops: u32, count: u64, fidelity: &str) -> String {
    let mut s = format!(
        "[scenario]\nname = \"shares\"\nseed = 3\nduration = \"60s\"\nfidelity = \"{fidelity}\"\n\n\
         [[segment]]\nname = \"lan\"\n\n\
         [[host]]\nname = \"lvs\"\ninterfaces = [{{ name = \"eth0\", segment = \"lan\", address = \"10.0.0.1/24\" }}]\n\
         setup = \"\"\"\nip addr add 10.0.0.100/32 dev eth0 label eth0:0\nipvsadm -A -t 10.0.0.100:80 -s {sched}\n"
    );
    for (i, w) in weights.iter().enumerate() {
        let _ = writeln!(
            s,
            "ipvsadm -a -t 10.0.0.100:80 -r 10.0.0.{}:80 -g -w {w}",
            11 + i
        );
    }
    s.push_str("\"\"\"\n");
    for i in 0..weights.len() {
        let _ = write!(
            s,
            "\n[[host]]\nname = \"rs{n}\"\ninterfaces = [{{ name = \"eth0\", segment = \"lan\", address = \"10.0.0.{a}/24\" }}]\n\
             setup = \"\"\"\necho rs{n} > /var/www/html/index.html\nsystemctl start httpd\n\
             ip addr add 10.0.0.100/32 dev lo label lo:0\nsysctl -w net.ipv4.conf.all.arp_ignore=1\n\
             sysctl -w net.ipv4.conf.all.arp_announce=2\n\"\"\"\n",
            n = i + 1,
            a = 11 + i
        );
    }
    let _ = write!(
        s,
        "\n[[host]]\nname = \"client\"\ninterfaces = [{{ name = \"eth0\", segment = \"lan\", address = \"10.0.0.200/24\" }}]\n\n\
         [[client]]\nhost = \"client\"\nrun = \"while true;do curl http://10.0.0.100;sleep 0.2;done\"\ncount = {count}\ninstances = {loops}\n"
    );
    s
}

/// Requests per real server name at packet fidelity (by response body).
fn packet_shares(text: &str) -> BTreeMap<String, u64> {
    let mut sc = scenario::load("shares.toml", text, TraceLevel::Off, None)
        .unwrap_or_else(|e| panic!("{e}"));
    sc.world.step_until(SimTime::ZERO + sc.duration);
    let mut m = BTreeMap::new();
    for a in &sc.world.apps {
        for r in &a.results {
            assert!(matches!(r.outcome, CurlOutcome::Ok(_)), "{}", r.printed());
            *m.entry(r.body.trim().to_string()).or_insert(0) += 1;
        }
    }
    m
}

/// Requests per real server name at flow fidelity.
fn flow_shares(text: &str) -> BTreeMap<String, u64> {
    let mut sc = scenario::load("shares.toml", text, TraceLevel::Off, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let out = flow::run_scenario(&mut sc).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.metrics.service.outcomes.ok,
        out.metrics.service.requests
    );
    out.metrics
        .servers
        .iter()
        .filter(|s| s.requests > 0)
        .map(|s| (s.name.clone(), s.requests))
        .collect()
}

#[test]
fn packet_and_flow_fidelity_give_the_same_shares() {
    for (sched, weights) in [("rr", [1, 1, 1]), ("wrr", [1, 2, 3]), ("wlc", [1, 2, 3])] {
        let p = packet_shares(&dr_case(sched, &weights, 1, 30, "packet"));
        let f = flow_shares(&dr_case(sched, &weights, 1, 30, "flow"));
        assert_eq!(p.values().sum::<u64>(), 30, "{sched}");
        assert_eq!(p, f, "{sched}: packet {p:?} vs flow {f:?}");
    }
}

#[test]
fn lb_mm_scenario_loads_as_flow_and_gives_the_reference_mean() {
    let text =
        std::fs::read_to_string(lvslab_tests::root().join("scenarios/bench/lb-mm.toml")).unwrap();
    let mut sc =
        scenario::load("scenarios/bench/lb-mm.toml", &text, TraceLevel::Off, None).unwrap();
    assert_eq!(sc.fidelity, flow::spec::Fidelity::Flow);
    // 100 k requests keep the test fast; the full run is `lvslab bench`.
    if let Some(c) = sc.flow.as_mut() {
        c.workloads[0].requests = Some(100_000);
    }
    let m = flow::run_scenario(&mut sc).unwrap().metrics;
    assert_eq!(m.service.outcomes.ok, 100_000);
    assert_eq!(m.servers.len(), 8);
    let mean_ms = m.service.latency.mean_ns / 1e6;
    assert!((3.9..4.7).contains(&mean_ms), "mean {mean_ms} ms");
    // Weight-4 servers take about four times what weight-1 servers take.
    let by = |n: &str| m.servers.iter().find(|s| s.name == n).unwrap().requests as f64;
    let ratio = by("rs8") / by("rs1");
    assert!((3.5..5.0).contains(&ratio), "{ratio}");
}

#[test]
fn server_capacity_delays_httpd_at_packet_fidelity() {
    let durations = |extra: &str| -> Vec<u64> {
        let text = dr_case("rr", &[1], 3, 4, "packet") + extra;
        let mut sc = scenario::load("cap.toml", &text, TraceLevel::Off, None)
            .unwrap_or_else(|e| panic!("{e}"));
        sc.world.step_until(SimTime::ZERO + sc.duration);
        let mut v: Vec<u64> = sc
            .world
            .apps
            .iter()
            .flat_map(|a| a.results.iter())
            .map(|r| {
                assert!(matches!(r.outcome, CurlOutcome::Ok(_)), "{}", r.printed());
                (r.end.as_nanos() - r.start.as_nanos()) / 1_000_000
            })
            .collect();
        v.sort_unstable();
        v
    };
    let free = durations("");
    assert_eq!(free.len(), 12);
    assert!(free.iter().all(|ms| *ms < 5), "{free:?}");
    // One worker, 50 ms per request: three loops queue behind each other.
    let busy = durations("\n[[server]]\nhost = \"rs1\"\nworkers = 1\nservice = \"50ms\"\n");
    assert_eq!(busy.len(), 12);
    assert!(busy.iter().all(|ms| *ms >= 50), "{busy:?}");
    assert!(busy.iter().any(|ms| *ms >= 100), "{busy:?}");
}
