//! Shipped scenarios behave as a new user would expect.

use lvslab_tests::{golden, run};
use sim_core::shell;
use sim_core::trace::TraceLevel;
use sim_core::world::CurlOutcome;

#[test]
fn router_lab_curl_succeeds_and_trace_shows_the_path() {
    let mut sc = run("scenarios/basics/router.toml", TraceLevel::Full);
    let app = &sc.world.apps[0];
    assert_eq!(app.results.len(), 1);
    assert_eq!(app.results[0].outcome, CurlOutcome::Ok(200));
    assert_eq!(app.results[0].body, "web\n");
    let t = sc.world.trace.to_text();
    assert!(t.contains("client TX eth0 52:54:00:00:00:02 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 172.16.0.1 tell 172.16.0.2"));
    // The router's PREROUTING → FORWARD → POSTROUTING for the SYN, in order.
    let syn = "IP 172.16.0.2.";
    let pos = |needle: &str| {
        t.lines()
            .position(|l| l.contains(needle) && l.contains(syn) && l.contains("Flags [S]"))
            .unwrap()
    };
    let (pre, fwd, post) = (
        pos("router PREROUTING"),
        pos("router FORWARD"),
        pos("router POSTROUTING"),
    );
    assert!(pre < fwd && fwd < post);
    // The server's PREROUTING → INPUT.
    assert!(pos("web PREROUTING") < pos("web INPUT"));
    golden("basics/router.trace", &t);
    let c = sc.world.host_id("client").unwrap();
    let neigh = shell::run_line(&mut sc.world, c, "ip neigh")
        .unwrap()
        .stdout;
    golden("basics/router.client.ip-neigh.txt", &neigh);
}
