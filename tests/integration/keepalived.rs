//! The shipped keepalived labs: the tutorial's two directors with a stop and
//! a restart of lvs-master and a real server failing its TCP_CHECK, and the
//! split brain.

use lvslab_tests::{golden, load};
use sim_core::keepalived::vrrp::State;
use sim_core::scenario::Scenario;
use sim_core::shell;
use sim_core::time::{SimDuration, SimTime};
use sim_core::trace::TraceLevel;
use sim_core::world::CurlOutcome;

const LAB: &str = "scenarios/labs/tutorial-keepalived-dr.toml";
const SPLIT: &str = "scenarios/labs/keepalived-split-brain.toml";
const VIP: &str = "inet 192.168.59.135/32 scope global ens33";

fn at(sc: &mut Scenario, ms: u64) {
    sc.world
        .step_until(SimTime::ZERO + SimDuration::from_millis(ms));
}

fn sh(sc: &mut Scenario, host: &str, cmd: &str) -> String {
    let h = sc.world.host_id(host).expect("host in scenario");
    let o = shell::run_line(&mut sc.world, h, cmd).expect("command runs");
    o.stdout
}

fn holds_vip(sc: &mut Scenario, host: &str) -> bool {
    sh(sc, host, "ip a").contains(VIP)
}

/// (time in ms, host) of each entry into MASTER.
fn masters(sc: &Scenario) -> Vec<(u64, String)> {
    let mut v: Vec<(u64, String)> = sc
        .world
        .hosts
        .iter()
        .flat_map(|h| {
            h.keepalived
                .transitions
                .iter()
                .filter(|t| t.to == State::Master)
                .map(|t| (t.t.0 / 1_000_000, h.name.clone()))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_vip_moves_to_the_backup_and_back() {
    let mut sc = load(LAB, TraceLevel::Events);
    at(&mut sc, 10_000);
    assert!(holds_vip(&mut sc, "lvs-master") && !holds_vip(&mut sc, "lvs-backup"));
    // Both directors build the tutorial's table, master and backup alike.
    for d in ["lvs-master", "lvs-backup"] {
        let t = sh(&mut sc, d, "ipvsadm -Ln");
        assert!(
            t.contains("TCP  192.168.59.135:80 wrr persistent 50"),
            "{d}: {t}"
        );
        assert!(
            t.contains("-> 192.168.59.131:80            Route   1"),
            "{d}: {t}"
        );
        assert!(
            t.contains("-> 192.168.59.132:80            Route   1"),
            "{d}: {t}"
        );
    }
    at(&mut sc, 20_000);
    assert!(!holds_vip(&mut sc, "lvs-master") && holds_vip(&mut sc, "lvs-backup"));
    let view: Vec<String> = sc
        .world
        .vrrp_view()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        view,
        ["lvs-backup VI_1 MASTER prio 100 VIPs 192.168.59.135"]
    );
    // Stopped keepalived removed its virtual servers on lvs-master.
    assert!(!sh(&mut sc, "lvs-master", "ipvsadm -Ln").contains("192.168.59.135"));
    // The client's ARP entry for the VIP follows the backup's GARPs.
    assert!(
        sh(&mut sc, "client", "ip neigh")
            .contains("192.168.59.135 dev ens33 lladdr 00:0c:29:b0:03:cd")
    );
    at(&mut sc, 30_000);
    assert!(holds_vip(&mut sc, "lvs-master") && !holds_vip(&mut sc, "lvs-backup"));
    assert!(
        sh(&mut sc, "client", "ip neigh")
            .contains("192.168.59.135 dev ens33 lladdr 00:0c:29:e6:67:b6")
    );
    // master at 3.219 s; backup 0.609 s after the stop (+ one hop); master
    // again 3.219 s after its restart (nopreempt was cleared).
    assert_eq!(
        masters(&sc),
        vec![
            (3218, "lvs-master".to_string()),
            (15609, "lvs-backup".to_string()),
            (28218, "lvs-master".to_string())
        ]
    );
}

#[test]
fn the_takeover_loses_no_request_and_the_checker_failure_does() {
    let mut sc = load(LAB, TraceLevel::Events);
    at(&mut sc, 70_000);
    let r = &sc.world.apps[0].results;
    let failed: Vec<u64> = r
        .iter()
        .filter(|x| !matches!(x.outcome, CurlOutcome::Ok(_)))
        .map(|x| x.start.0 / 1_000_000_000)
        .collect();
    // rs2's httpd is stopped at 40 s; keepalived removes it after retry 3 ×
    // delay_before_retry 3 s, and the persistent client moves to rs1.
    assert_eq!(failed, (40..=50).collect::<Vec<_>>());
    let last_rs2 = r.iter().rposition(|x| x.body.trim() == "rs2").unwrap_or(0);
    assert!(
        r[last_rs2 + 1..]
            .iter()
            .filter(|x| matches!(x.outcome, CurlOutcome::Ok(_)))
            .all(|x| x.body.trim() == "rs1")
    );
    golden(
        "labs/tutorial-keepalived-dr.keepalived.txt",
        &sc.world.keepalived_summary(),
    );
}

#[test]
fn split_brain_shows_two_masters_until_adverts_flow_again() {
    let mut sc = load(SPLIT, TraceLevel::Events);
    at(&mut sc, 8_000);
    assert!(holds_vip(&mut sc, "lvs-master") && !holds_vip(&mut sc, "lvs-backup"));
    at(&mut sc, 20_000);
    assert!(holds_vip(&mut sc, "lvs-master") && holds_vip(&mut sc, "lvs-backup"));
    at(&mut sc, 30_000);
    assert!(holds_vip(&mut sc, "lvs-master") && !holds_vip(&mut sc, "lvs-backup"));
    let m = masters(&sc);
    assert_eq!(m.len(), 2);
    // Blocked at 10 s: the last advert heard was at 9.219 s (+ one hop).
    assert_eq!(m[1], (12828, "lvs-backup".to_string()));
    assert_eq!(
        sc.world.vip_holders(),
        "  VIP 192.168.59.135 held by: lvs-master 3.219s–end, lvs-backup 12.828s–25.828s\n"
    );
}
