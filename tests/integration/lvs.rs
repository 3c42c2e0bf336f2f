//! The three forwarding methods on the shipped labs: who answers, what each
//! hop rewrites, and what ipvsadm shows afterwards.

use lvslab_tests::{golden, load, run};
use sim_core::packet::{Frame, IpPayload, Ipv4Packet};
use sim_core::scenario::Scenario;
use sim_core::shell;
use sim_core::time::SimTime;
use sim_core::trace::{TraceKind, TraceLevel};
use sim_core::world::CurlOutcome;

/// The bodies the client's curl loop printed, in order.
fn bodies(sc: &Scenario) -> Vec<String> {
    sc.world.apps[0]
        .results
        .iter()
        .map(|r| {
            assert_eq!(r.outcome, CurlOutcome::Ok(200), "{}", r.printed());
            r.body.trim().to_string()
        })
        .collect()
}

/// Frames `host` transmitted, with the interface name.
fn tx<'a>(sc: &'a Scenario, host: &str) -> Vec<(&'a str, &'a Frame)> {
    sc.world
        .trace
        .records
        .iter()
        .filter(|r| &*r.host == host)
        .filter_map(|r| match &r.kind {
            TraceKind::Tx { iface, frame } => Some((&**iface, frame)),
            _ => None,
        })
        .collect()
}

/// What a command prints on `host` at time `at`.
fn exec(rel: &str, host: &str, at_ms: u64, cmd: &str) -> String {
    let mut sc = load(rel, TraceLevel::Off);
    sc.world
        .step_until(SimTime::ZERO + sim_core::time::SimDuration::from_millis(at_ms));
    let h = sc.world.host_id(host).expect("host in scenario");
    let o = shell::run_line(&mut sc.world, h, cmd).expect("command runs");
    assert_eq!(o.status, 0, "{cmd}: {}", o.stderr);
    o.stdout
}

fn tcp_to_port(p: &Ipv4Packet, port: u16) -> bool {
    p.tcp().is_some_and(|t| t.dport == port)
}

const DR: &str = "scenarios/labs/tutorial-dr.toml";
const NAT: &str = "scenarios/labs/nat.toml";
const TUN: &str = "scenarios/labs/tun.toml";

#[test]
fn dr_rr_alternates_last_added_first_and_only_the_mac_changes() {
    let sc = run(DR, TraceLevel::Full);
    // rs2 was added last, so it heads the kernel's list and rr starts there.
    assert_eq!(bodies(&sc), ["rs2", "rs1", "rs2", "rs1", "rs2", "rs1"]);
    let vip: std::net::Ipv4Addr = "192.168.59.135".parse().unwrap();
    let rs1_mac = "00:0c:29:11:11:31";
    // The director forwards CIP → VIP unchanged, to rs1's MAC.
    let fwd: Vec<_> = tx(&sc, "lvs")
        .into_iter()
        .filter_map(|(_, f)| f.ipv4().map(|p| (f, p)))
        .filter(|(_, p)| tcp_to_port(p, 80))
        .collect();
    assert!(!fwd.is_empty());
    assert!(fwd.iter().all(|(_, p)| p.dst == vip));
    assert!(fwd.iter().any(|(f, _)| f.dst.to_string() == rs1_mac));
    // The real server answers the client directly, from the VIP.
    let replies: Vec<_> = tx(&sc, "rs1")
        .into_iter()
        .filter_map(|(_, f)| f.ipv4().cloned())
        .filter(|p| p.tcp().is_some_and(|t| t.sport == 80))
        .collect();
    assert!(!replies.is_empty());
    assert!(replies.iter().all(|p| p.src == vip));
    assert!(
        !sc.world.trace.records.iter().any(|r| &*r.host == "lvs"
            && matches!(&r.kind, TraceKind::Rx { frame, .. }
                if frame.ipv4().is_some_and(|p| p.src == vip))),
        "no reply crosses a DR director"
    );
    golden("labs/tutorial-dr.trace", &sc.world.trace.to_text());
}

#[test]
fn dr_ipvsadm_views() {
    let out = [
        "ipvsadm -Ln",
        "ipvsadm -Ln --stats",
        "ipvsadm -lnc",
        "ipvsadm -S -n",
    ]
    .map(|c| format!("# {c}\n{}", exec(DR, "lvs", 6500, c)))
    .join("");
    // DR: the director never sees replies, closed connections sit in FIN_WAIT.
    assert!(out.contains("FIN_WAIT"));
    golden("labs/tutorial-dr.ipvsadm.txt", &out);
    // `--stats` shows the counters as of the estimator's last tick (6 s, just
    // before the request of 6 s reached the director): 5 of the 6 requests;
    // all 6 from the tick at 8 s.
    let conns = |at| {
        let out = exec(DR, "lvs", at, "ipvsadm -Ln --stats");
        let svc = out.lines().nth(3).unwrap_or_default().to_string();
        svc.split_whitespace()
            .nth(2)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!([conns(6500), conns(7999), conns(8000)], ["5", "5", "6"]);
}

#[test]
fn nat_wrr_rewrites_both_ways() {
    let sc = run(NAT, TraceLevel::Full);
    // List order rs2, rs1 (weights 1, 2): wrr's history gives rs2 rs1 rs1.
    assert_eq!(bodies(&sc), ["rs2", "rs1", "rs1", "rs2", "rs1", "rs1"]);
    let rip1: std::net::Ipv4Addr = "192.168.10.131".parse().unwrap();
    let vip: std::net::Ipv4Addr = "192.168.59.135".parse().unwrap();
    let lvs = tx(&sc, "lvs");
    // Requests leave on ens37 addressed to the RIP …
    assert!(lvs.iter().any(|(i, f)| {
        *i == "ens37"
            && f.ipv4()
                .is_some_and(|p| p.dst == rip1 && tcp_to_port(p, 80))
    }));
    // … and replies leave on ens33 from the VIP.
    assert!(lvs.iter().any(|(i, f)| {
        *i == "ens33"
            && f.ipv4()
                .is_some_and(|p| p.src == vip && p.tcp().is_some_and(|t| t.sport == 80))
    }));
    // The real server saw the client's own address.
    let rs1_rx_src = sc.world.trace.records.iter().find_map(|r| match &r.kind {
        TraceKind::Rx { frame, .. } if &*r.host == "rs1" => frame
            .ipv4()
            .filter(|p| tcp_to_port(p, 80))
            .map(|p| p.src.to_string()),
        _ => None,
    });
    assert_eq!(rs1_rx_src.as_deref(), Some("192.168.59.133"));
    golden("labs/nat.trace", &sc.world.trace.to_text());
}

#[test]
fn nat_ipvsadm_counts_replies() {
    // After the estimator's tick at 8 s: all six requests (scenario's expect).
    let out = exec(NAT, "lvs", 8500, "ipvsadm -Ln --stats");
    golden("labs/nat.ipvsadm-stats.txt", &out);
    let svc = out.lines().nth(3).unwrap();
    let outpkts: u64 = svc.split_whitespace().nth(4).unwrap().parse().unwrap();
    assert!(outpkts > 0, "NAT directors count replies: {svc}");
    let lnc = exec(NAT, "lvs", 6500, "ipvsadm -lnc");
    // NAT sees the whole TCP exchange: closed connections wait in TIME_WAIT.
    assert!(lnc.contains("TIME_WAIT"), "{lnc}");
}

#[test]
fn tun_encapsulates_and_real_servers_answer_directly() {
    let sc = run(TUN, TraceLevel::Full);
    assert_eq!(bodies(&sc), ["rs2", "rs1", "rs2", "rs1", "rs2", "rs1"]);
    let ipip: Vec<_> = tx(&sc, "lvs")
        .into_iter()
        .filter_map(|(_, f)| f.ipv4())
        .filter_map(|p| match &p.payload {
            IpPayload::Ipip(inner) => Some((p.src, p.dst, inner.dst)),
            _ => None,
        })
        .collect();
    assert!(!ipip.is_empty());
    for (s, d, inner) in &ipip {
        assert_eq!(s.to_string(), "192.168.59.130");
        assert!(d.to_string().starts_with("172.16.0.13"));
        assert_eq!(inner.to_string(), "192.168.59.135");
    }
    golden("labs/tun.trace", &sc.world.trace.to_text());
}

/// A service without real servers answers with ICMP port unreachable.
#[test]
fn no_destination_refuses_the_connection() {
    let rel = DR;
    let text = std::fs::read_to_string(lvslab_tests::root().join(rel)).unwrap();
    let text = text.replace(
        "[root@lvs ~]#  ipvsadm -a -t 192.168.59.135:80 -r 192.168.59.131:80 -g -w 1\n\
         [root@lvs ~]#  ipvsadm -a -t 192.168.59.135:80 -r 192.168.59.132:80 -g -w 1\n",
        "",
    );
    let mut sc = sim_core::scenario::load(rel, &text, TraceLevel::Events, None).unwrap();
    sc.world.step_until(SimTime::ZERO + sc.duration);
    let r = &sc.world.apps[0].results[0];
    assert_eq!(
        r.printed(),
        "curl: (7) Failed to connect to 192.168.59.135 port 80: Connection refused"
    );
    assert!(
        sc.world
            .trace
            .to_text()
            .contains("IPVS IPVS: rr: TCP 192.168.59.135:80 - no destination available")
    );
}

/// With `-p` one client sticks to one real server.
#[test]
fn persistence_keeps_one_client_on_one_server() {
    let rel = DR;
    let text = std::fs::read_to_string(lvslab_tests::root().join(rel)).unwrap();
    let text = text.replace(
        "ipvsadm -A -t 192.168.59.135:80 -s rr",
        "ipvsadm -A -t 192.168.59.135:80 -s rr -p 50",
    );
    let mut sc = sim_core::scenario::load(rel, &text, TraceLevel::Events, None).unwrap();
    sc.world.step_until(SimTime::ZERO + sc.duration);
    assert_eq!(bodies(&sc), ["rs2"; 6]);
}

/// A fwmark service: iptables marks the packets in mangle PREROUTING and
/// IPVS finds the service by the mark (`ipvsadm -A -f 1`).
#[test]
fn fwmark_service_schedules_marked_packets() {
    let rel = DR;
    let text = std::fs::read_to_string(lvslab_tests::root().join(rel)).unwrap();
    let text = text
        .replace(
            "[root@lvs ~]#  ipvsadm -A -t 192.168.59.135:80 -s rr",
            "[root@lvs ~]#  iptables -t mangle -A PREROUTING -d 192.168.59.135 -p tcp --dport 80 -j MARK --set-mark 1\n\
             [root@lvs ~]#  ipvsadm -A -f 1 -s rr",
        )
        .replace("ipvsadm -a -t 192.168.59.135:80 -r", "ipvsadm -a -f 1 -r");
    let mut sc = sim_core::scenario::load(rel, &text, TraceLevel::Events, None).unwrap();
    assert!(sc.warnings.is_empty(), "{:?}", sc.warnings);
    sc.world.step_until(SimTime::ZERO + sc.duration);
    assert_eq!(bodies(&sc), ["rs2", "rs1", "rs2", "rs1", "rs2", "rs1"]);
    let lvs = sc.world.host_id("lvs").unwrap();
    let out = shell::run_line(&mut sc.world, lvs, "ipvsadm -Ln")
        .unwrap()
        .stdout;
    assert!(out.contains("FWM  1 rr"), "{out}");
}

#[test]
fn fullnat_rewrites_source_and_destination() {
    let sc = run("scenarios/labs/fullnat.toml", TraceLevel::Full);
    assert_eq!(bodies(&sc), ["rs2", "rs1", "rs2", "rs1"]);
    // The real server sees the director's local address, not the client.
    let src = sc.world.trace.records.iter().find_map(|r| match &r.kind {
        TraceKind::Rx { frame, .. } if &*r.host == "rs1" => frame
            .ipv4()
            .filter(|p| tcp_to_port(p, 80))
            .map(|p| p.src.to_string()),
        _ => None,
    });
    assert_eq!(src.as_deref(), Some("192.168.10.200"));
}
