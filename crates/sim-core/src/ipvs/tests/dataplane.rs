//! The data plane against §1.0 and §2: state traces with exact timeouts,
//! ActiveConn/InActConn, timers, persistence templates, thresholds, the
//! dest trash, connection reuse, `ip_vs_leave`, counters and the estimator.

use super::{Lab, fwd_to};
use crate::ipvs::conn::ConnState;
use crate::ipvs::{InVerdict, OutVerdict, TcpState, TemplateUse};

const VIP: &str = "10.0.0.100:80";
const C1: &str = "10.1.1.1:40000";

fn setup(sched: &str, dests: &[&str], method: &str) -> Lab {
    let mut lab = Lab::new();
    lab.ok(&format!("-A -t {VIP} -s {sched}"));
    for d in dests {
        lab.ok(&format!("-a -t {VIP} -r {d} {method}"));
    }
    lab
}

/// `(state, timeout, seconds left)` of the only non-template entry.
fn entry(lab: &Lab) -> (String, u32, u64) {
    let v: Vec<_> = lab
        .ipvs
        .conns()
        .listing()
        .into_iter()
        .filter(|(_, c)| !c.template)
        .collect();
    assert_eq!(v.len(), 1, "one entry expected");
    let c = v[0].1;
    let left = (c.expires.0 - lab.now.0) / crate::time::NS_PER_S;
    (c.state_name().to_string(), c.timeout_s, left)
}

fn template_use(v: &InVerdict) -> Option<TemplateUse> {
    match v {
        InVerdict::Forward {
            decision: Some(d), ..
        } => d.template,
        _ => None,
    }
}

#[test]
fn nat_trace_client_closes_first() {
    let mut lab = setup("rr", &["10.0.0.11:8080"], "-m");
    let rs = "10.0.0.11:8080";
    // (reply?, flags, state, timeout, (ActiveConn, InActConn, PersistConn))
    type Step<'a> = (bool, &'a str, &'a str, u32, (u32, u32, u32));
    let steps: [Step; 7] = [
        (false, "S", "SYN_RECV", 60, (1, 0, 0)),
        (true, "S.", "SYN_RECV", 60, (1, 0, 0)),
        (false, ".", "ESTABLISHED", 900, (1, 0, 0)),
        (false, "F.", "CLOSE_WAIT", 60, (0, 1, 0)),
        (true, ".", "CLOSE_WAIT", 60, (0, 1, 0)),
        (true, "F.", "TIME_WAIT", 120, (0, 1, 0)),
        (false, ".", "TIME_WAIT", 120, (0, 1, 0)),
    ];
    for (out, f, state, to, counts) in steps {
        if out {
            let v = lab.tcp_reply(rs, C1, f);
            let OutVerdict::Rewrite {
                saddr,
                sport,
                daddr,
                dport,
                ..
            } = v
            else {
                panic!("reply not rewritten: {v:?}");
            };
            assert_eq!(
                format!("{saddr}:{sport} > {daddr}:{dport}"),
                format!("{VIP} > {C1}")
            );
        } else {
            assert_eq!(fwd_to(&lab.tcp(C1, VIP, f)), rs);
        }
        assert_eq!(entry(&lab), (state.to_string(), to, u64::from(to)), "{f}");
        assert_eq!(lab.counts(rs), counts, "{f}");
        lab.wait(1);
    }
    // TIME_WAIT: gone 120 s after the last packet (1 s ago).
    lab.wait(118);
    assert_eq!(entry(&lab).2, 1);
    lab.wait(1);
    assert!(lab.ipvs.conns().is_empty());
    assert_eq!(lab.counts(rs), (0, 0, 0));
}

#[test]
fn nat_trace_server_closes_first() {
    let mut lab = setup("rr", &["10.0.0.11:80"], "-m");
    let rs = "10.0.0.11:80";
    lab.tcp(C1, VIP, "S");
    lab.tcp_reply(rs, C1, "S.");
    lab.tcp(C1, VIP, ".");
    lab.tcp_reply(rs, C1, "F.");
    assert_eq!(entry(&lab), ("FIN_WAIT".into(), 120, 120));
    assert_eq!(lab.counts(rs), (0, 1, 0));
    lab.tcp(C1, VIP, "F.");
    assert_eq!(entry(&lab), ("TIME_WAIT".into(), 120, 120));
    lab.tcp_reply(rs, C1, ".");
    assert_eq!(entry(&lab).0, "TIME_WAIT");
}

#[test]
fn dr_and_tun_use_the_input_only_table() {
    for method in ["-g", "-i"] {
        let mut lab = setup("rr", &["10.0.0.11:80"], method);
        let rs = "10.0.0.11:80";
        let steps = [
            ("S", "SYN_RECV", 60, (1, 0)),
            (".", "ESTABLISHED", 900, (1, 0)),
            ("P.", "ESTABLISHED", 900, (1, 0)),
            ("F.", "FIN_WAIT", 120, (0, 1)),
            (".", "FIN_WAIT", 120, (0, 1)),
            ("F.", "FIN_WAIT", 120, (0, 1)),
        ];
        for (f, state, to, (a, i)) in steps {
            assert_eq!(fwd_to(&lab.tcp(C1, VIP, f)), rs);
            assert_eq!(
                entry(&lab),
                (state.to_string(), to, u64::from(to)),
                "{method} {f}"
            );
            assert_eq!(lab.counts(rs), (a, i, 0), "{method} {f}");
        }
        lab.wait(119);
        assert_eq!(lab.ipvs.conns().len(), 1);
        lab.wait(1);
        assert!(lab.ipvs.conns().is_empty(), "{method}");
        // RST → CLOSE (10 s); a segment with no flag at all → CLOSE too.
        lab.tcp(C1, VIP, "S");
        lab.tcp(C1, VIP, ".");
        lab.tcp(C1, VIP, "R");
        assert_eq!(entry(&lab), ("CLOSE".into(), 10, 10));
        assert_eq!(lab.counts(rs), (0, 1, 0));
        lab.wait(10);
        lab.tcp("10.1.1.1:40001", VIP, "S");
        lab.tcp("10.1.1.1:40001", VIP, "");
        assert_eq!(entry(&lab), ("CLOSE".into(), 10, 10));
    }
}

#[test]
fn syn_recv_is_active_and_half_open_entries_expire_after_60s() {
    let mut lab = setup("rr", &["10.0.0.11:80"], "-g");
    for p in 0..3 {
        lab.tcp(&format!("10.1.1.1:{}", 1000 + p), VIP, "S");
    }
    // tcp_state_active: SYN_RECV counts in ActiveConn.
    assert_eq!(lab.counts("10.0.0.11:80"), (3, 0, 0));
    lab.wait(59);
    assert_eq!(lab.ipvs.conns().len(), 3);
    lab.wait(1);
    assert!(lab.ipvs.conns().is_empty());
    assert_eq!(lab.counts("10.0.0.11:80"), (0, 0, 0));
}

#[test]
fn every_packet_restarts_the_timer() {
    let mut lab = setup("rr", &["10.0.0.11:80"], "-g");
    lab.tcp(C1, VIP, "S");
    lab.tcp(C1, VIP, ".");
    for _ in 0..3 {
        lab.wait(899);
        assert_eq!(entry(&lab).2, 1);
        lab.tcp(C1, VIP, "P.");
        assert_eq!(entry(&lab).2, 900);
    }
    lab.wait(900);
    assert!(lab.ipvs.conns().is_empty());
}

#[test]
fn udp_is_always_inactive_with_300s_restarting_timer() {
    let mut lab = Lab::new();
    lab.ok("-A -u 10.0.0.100:53 -s rr");
    lab.ok("-a -u 10.0.0.100:53 -r 10.0.0.21 -m");
    let rs = "10.0.0.21:53";
    let c = "10.1.1.1:5353";
    assert_eq!(fwd_to(&lab.udp(c, "10.0.0.100:53")), rs);
    assert_eq!(entry(&lab), ("UDP".into(), 300, 300));
    assert_eq!(lab.counts(rs), (0, 1, 0));
    lab.wait(299);
    lab.udp(c, "10.0.0.100:53");
    let m = crate::ipvs::PacketMeta {
        proto: crate::ipvs::Protocol::Udp,
        saddr: "10.0.0.21".parse().expect("ip"),
        sport: 53,
        daddr: "10.1.1.1".parse().expect("ip"),
        dport: 5353,
        flags: crate::ipvs::TcpFlags::NONE,
        len: 100,
        fwmark: 0,
    };
    assert!(matches!(
        lab.ipvs.out_packet(lab.now, &m),
        OutVerdict::Rewrite { .. }
    ));
    assert_eq!(lab.counts(rs), (0, 1, 0));
    lab.wait(299);
    assert_eq!(entry(&lab).2, 1);
    lab.ok("--set 0 0 60");
    lab.udp(c, "10.0.0.100:53");
    assert_eq!(entry(&lab), ("UDP".into(), 60, 60));
    lab.wait(60);
    assert!(lab.ipvs.conns().is_empty());
    assert_eq!(lab.counts(rs), (0, 0, 0));
}

#[test]
fn set_changes_established_and_fin_wait_timeouts() {
    let mut lab = setup("rr", &["10.0.0.11:80"], "-g");
    lab.ok("--set 30 7 0");
    lab.tcp(C1, VIP, "S");
    lab.tcp(C1, VIP, ".");
    assert_eq!(entry(&lab), ("ESTABLISHED".into(), 30, 30));
    lab.tcp(C1, VIP, "F.");
    assert_eq!(entry(&lab), ("FIN_WAIT".into(), 7, 7));
}

#[test]
fn non_syn_without_entry_goes_to_the_local_stack() {
    let mut lab = setup("rr", &["10.0.0.11:80"], "-g");
    for f in [".", "F.", "R", "SR", "P."] {
        assert!(
            matches!(lab.tcp(C1, VIP, f), InVerdict::LocalStack { .. }),
            "{f}"
        );
    }
    assert!(lab.ipvs.conns().is_empty());
    assert_eq!(lab.tcp(C1, "10.0.0.100:81", "S"), InVerdict::NotService);
    // sloppy_tcp=1 schedules on any segment.
    lab.ipvs.sysctls.sloppy_tcp = 1;
    assert_eq!(fwd_to(&lab.tcp(C1, VIP, ".")), "10.0.0.11:80");
    assert_eq!(entry(&lab).0, "ESTABLISHED");
}

#[test]
fn no_destination_means_icmp_port_unreachable() {
    let mut lab = setup("rr", &[], "");
    let want = InVerdict::NoDestination {
        reason: "IPVS: rr: TCP 10.0.0.100:80 - no destination available → ICMP port unreachable"
            .into(),
    };
    assert_eq!(lab.tcp(C1, VIP, "S"), want);
    // Weight 0 everywhere: same.
    lab.ok(&format!("-a -t {VIP} -r 10.0.0.11 -w 0"));
    assert_eq!(lab.tcp(C1, VIP, "S"), want);
    assert!(lab.ipvs.conns().is_empty());
    lab.ok("-A -u 10.0.0.100:53 -s wlc");
    assert!(matches!(
        lab.udp(C1, "10.0.0.100:53"),
        InVerdict::NoDestination { .. }
    ));
}

#[test]
fn ftp_service_and_ftp_data_are_not_scheduled_for_other_ports() {
    let mut lab = Lab::new();
    lab.ok("-A -t 10.0.0.100:21 -s rr");
    lab.ok("-a -t 10.0.0.100:21 -r 10.0.0.11 -m");
    assert_eq!(fwd_to(&lab.tcp(C1, "10.0.0.100:21", "S")), "10.0.0.11:21");
    // A passive-FTP data SYN finds the FTP service (port ≥ 1024) but a
    // non-persistent service only schedules its own port: ip_vs_leave →
    // FTP case → NF_ACCEPT (local stack).
    assert!(matches!(
        lab.tcp("10.1.1.1:40001", "10.0.0.100:2000", "S"),
        InVerdict::LocalStack { .. }
    ));
    // Source port 20 (active FTP data) is never scheduled.
    assert!(matches!(
        lab.tcp("10.1.1.1:20", "10.0.0.100:21", "S"),
        InVerdict::LocalStack { .. }
    ));
    assert_eq!(lab.ipvs.conns().len(), 1);
}

#[test]
fn persistence_template_bypasses_the_scheduler() {
    let mut lab = setup("rr", &["10.0.0.11", "10.0.0.12"], "-g");
    lab.ok(&format!("-E -t {VIP} -s rr -p"));
    // rr from the list head: 10.0.0.12 (added last) first.
    let v = lab.tcp("10.1.1.1:1000", VIP, "S");
    assert_eq!(fwd_to(&v), "10.0.0.12:80");
    assert!(matches!(
        template_use(&v),
        Some(TemplateUse::Created { .. })
    ));
    let v = lab.tcp("10.1.1.1:1001", VIP, "S");
    assert_eq!(fwd_to(&v), "10.0.0.12:80");
    assert!(matches!(template_use(&v), Some(TemplateUse::Hit { .. })));
    assert_eq!(fwd_to(&lab.tcp("10.1.1.2:1000", VIP, "S")), "10.0.0.11:80");
    // The scheduler was not consulted for the hit: rr continues after .11.
    assert_eq!(fwd_to(&lab.tcp("10.1.1.3:1000", VIP, "S")), "10.0.0.12:80");
    assert_eq!(lab.counts("10.0.0.12:80"), (3, 0, 2));
    assert_eq!(lab.counts("10.0.0.11:80"), (1, 0, 1));
    let rows = lab.conns();
    assert_eq!(
        rows[0],
        "TCP 06:00  NONE        10.1.1.1:0         10.0.0.100:80      10.0.0.12:80"
    );
    assert_eq!(
        rows[1],
        "TCP 01:00  SYN_RECV    10.1.1.1:1000      10.0.0.100:80      10.0.0.12:80"
    );
    // ESTABLISHED marks the template ASSURED.
    lab.tcp("10.1.1.1:1000", VIP, ".");
    assert!(lab.conns()[0].contains(" ASSURED "));
}

#[test]
fn netmask_groups_clients() {
    let mut lab = setup("rr", &["10.0.0.11", "10.0.0.12"], "-g");
    lab.ok(&format!("-E -t {VIP} -s rr -p 60 -M 255.255.255.0"));
    let a = fwd_to(&lab.tcp("10.1.1.1:1000", VIP, "S"));
    assert_eq!(fwd_to(&lab.tcp("10.1.1.77:1000", VIP, "S")), a);
    assert_ne!(fwd_to(&lab.tcp("10.1.2.1:1000", VIP, "S")), a);
    let rows = lab.conns();
    assert!(
        rows[0].starts_with("TCP 01:00  NONE        10.1.1.0:0  "),
        "{rows:?}"
    );
}

#[test]
fn fwmark_and_port_zero_templates() {
    let mut lab = Lab::new();
    lab.ok("-A -f 1 -s rr -p");
    lab.ok("-a -f 1 -r 10.0.0.11 -g");
    assert_eq!(
        fwd_to(&lab.marked("10.1.1.1:1000", "10.0.0.100:443", "S", 1)),
        "10.0.0.11:443"
    );
    assert_eq!(
        lab.conns()[0],
        "IP  06:00  NONE        10.1.1.1:0         0.0.0.1:0          10.0.0.11:0"
    );
    let mut lab = Lab::new();
    lab.ok("-A -t 10.0.0.100:0 -s rr -p");
    lab.ok("-a -t 10.0.0.100:0 -r 10.0.0.11 -g");
    assert_eq!(
        fwd_to(&lab.tcp("10.1.1.1:1000", "10.0.0.100:22", "S")),
        "10.0.0.11:22"
    );
    assert_eq!(
        fwd_to(&lab.tcp("10.1.1.1:1001", "10.0.0.100:80", "S")),
        "10.0.0.11:80"
    );
    assert_eq!(lab.counts("10.0.0.11:0"), (2, 0, 1));
}

#[test]
fn template_lives_while_it_controls_connections() {
    let mut lab = setup("rr", &["10.0.0.11"], "-g");
    lab.ok(&format!("-E -t {VIP} -s rr -p"));
    lab.tcp(C1, VIP, "S");
    lab.wait(1);
    lab.tcp(C1, VIP, "."); // ESTABLISHED until t = 901
    lab.wait(358); // t = 359
    assert_eq!(lab.ipvs.conns().len(), 2);
    lab.wait(1); // t = 360: the template is due but still controls the entry
    let rows = lab.conns();
    assert!(rows[0].starts_with("TCP 01:00  ASSURED "), "{rows:?}");
    lab.wait(540); // t = 900: re-armed every 60 s
    assert_eq!(lab.ipvs.conns().len(), 2);
    lab.wait(1); // t = 901: the connection expires
    assert_eq!(lab.ipvs.conns().len(), 1);
    lab.wait(58); // t = 959
    assert_eq!(lab.ipvs.conns().len(), 1);
    lab.wait(1); // t = 960
    assert!(lab.ipvs.conns().is_empty());
    assert_eq!(lab.counts("10.0.0.11:80"), (0, 0, 0));
}

#[test]
fn a_postponed_template_keeps_its_60s_timeout() {
    let mut lab = setup("rr", &["10.0.0.11"], "-g");
    lab.ok(&format!("-E -t {VIP} -s rr -p 100"));
    lab.tcp(C1, VIP, "S");
    lab.tcp(C1, VIP, ".");
    lab.wait(110); // template postponed at t = 100 to t = 160
    let v = lab.tcp("10.1.1.1:40001", VIP, "S");
    assert!(matches!(template_use(&v), Some(TemplateUse::Hit { .. })));
    // ip_vs_conn_expire set ct->timeout = 60 s for good.
    assert!(lab.conns()[0].starts_with("TCP 01:00  ASSURED "));
}

#[test]
fn unassured_template_outlives_its_last_connection() {
    // DR UDP never sees a reply, so the template never becomes ASSURED; it
    // still lives out its own timer (ip_vs_conn_expire drops a controlling
    // template early only for deleted entries, cp->timeout == 0).
    let mut lab = Lab::new();
    lab.ok("-A -u 10.0.0.100:53 -s rr -p");
    lab.ok("-a -u 10.0.0.100:53 -r 10.0.0.21 -g");
    lab.udp(C1, "10.0.0.100:53");
    lab.wait(300);
    assert_eq!(
        lab.conns(),
        ["UDP 01:00  NONE        10.1.1.1:0         10.0.0.100:53      10.0.0.21:53"]
    );
    assert_eq!(lab.counts("10.0.0.21:53"), (0, 0, 1));
    lab.wait(60);
    assert!(lab.ipvs.conns().is_empty());
}

#[test]
fn quiesced_dest_keeps_persistent_clients() {
    let mut lab = setup("rr", &["10.0.0.11", "10.0.0.12"], "-g");
    lab.ok(&format!("-E -t {VIP} -s rr -p"));
    assert_eq!(fwd_to(&lab.tcp("10.1.1.1:1000", VIP, "S")), "10.0.0.12:80");
    lab.ok(&format!("-e -t {VIP} -r 10.0.0.12 -w 0"));
    // Weight 0 is skipped by the scheduler but not by the template.
    assert_eq!(fwd_to(&lab.tcp("10.1.1.1:1001", VIP, "S")), "10.0.0.12:80");
    assert_eq!(fwd_to(&lab.tcp("10.1.1.2:1000", VIP, "S")), "10.0.0.11:80");
    assert_eq!(fwd_to(&lab.tcp("10.1.1.3:1000", VIP, "S")), "10.0.0.11:80");
    // expire_quiescent_template=1 invalidates it.
    lab.ipvs.sysctls.expire_quiescent_template = 1;
    let v = lab.tcp("10.1.1.1:1002", VIP, "S");
    assert_eq!(fwd_to(&v), "10.0.0.11:80");
    assert!(matches!(
        template_use(&v),
        Some(TemplateUse::Invalidated { .. })
    ));
    let rows = lab.conns();
    assert_eq!(
        rows[0],
        "TCP 06:00  NONE        10.1.1.1:0         10.0.0.100:65535   10.0.0.12:65535"
    );
}

#[test]
fn upper_threshold_sets_overload_and_three_quarters_clears_it() {
    let mut lab = setup("rr", &["10.0.0.11"], "-g");
    let rs = "10.0.0.11:80";
    lab.ok(&format!("-e -t {VIP} -r 10.0.0.11 -x 4"));
    for p in 0..4 {
        assert_eq!(
            fwd_to(&lab.tcp(&format!("10.1.1.1:{}", 1000 + p), VIP, "S")),
            rs
        );
    }
    assert!(lab.dest(rs).overloaded);
    assert!(matches!(
        lab.tcp("10.1.1.1:2000", VIP, "S"),
        InVerdict::NoDestination { .. }
    ));
    // Existing entries still flow.
    assert_eq!(fwd_to(&lab.tcp("10.1.1.1:1000", VIP, ".")), rs);
    // Close one: 3*4 = 12 is not < 4*3 = 12 → still overloaded.
    lab.tcp("10.1.1.1:1000", VIP, "R");
    lab.wait(10);
    assert_eq!(lab.counts(rs), (3, 0, 0));
    assert!(lab.dest(rs).overloaded);
    // Close another: 2*4 = 8 < 12 → cleared. (An RST in SYN_RECV keeps
    // SYN_RECV: INPUT rst sSR → sSR.)
    lab.tcp("10.1.1.1:1001", VIP, "R");
    assert_eq!(lab.counts(rs), (3, 0, 0));
    lab.tcp("10.1.1.1:1001", VIP, ".");
    lab.tcp("10.1.1.1:1001", VIP, "R");
    lab.wait(10);
    assert!(!lab.dest(rs).overloaded);
    assert_eq!(fwd_to(&lab.tcp("10.1.1.1:2000", VIP, "S")), rs);
}

#[test]
fn lower_threshold_and_edits() {
    let mut lab = setup("rr", &["10.0.0.11", "10.0.0.12"], "-g");
    let a = "10.0.0.12:80"; // list head: rr's first pick
    lab.ok(&format!("-e -t {VIP} -r 10.0.0.12 -x 2 -y 1"));
    assert_eq!(fwd_to(&lab.tcp("10.1.1.1:1", VIP, "S")), a);
    assert_eq!(fwd_to(&lab.tcp("10.1.1.1:2", VIP, "S")), "10.0.0.11:80");
    assert_eq!(fwd_to(&lab.tcp("10.1.1.1:3", VIP, "S")), a);
    assert!(lab.dest(a).overloaded);
    // Overloaded dests are skipped: .11 twice.
    assert_eq!(fwd_to(&lab.tcp("10.1.1.1:4", VIP, "S")), "10.0.0.11:80");
    assert_eq!(fwd_to(&lab.tcp("10.1.1.1:5", VIP, "S")), "10.0.0.11:80");
    // With -y 1 the flag clears only below 1 connection.
    lab.tcp("10.1.1.1:1", VIP, ".");
    lab.tcp("10.1.1.1:1", VIP, "R");
    lab.wait(10);
    assert!(lab.dest(a).overloaded);
    // -e with a smaller -x keeps it, a larger -x (or 0) clears it.
    lab.ok(&format!("-e -t {VIP} -r 10.0.0.12 -x 1 -y 1"));
    assert!(lab.dest(a).overloaded);
    lab.ok(&format!("-e -t {VIP} -r 10.0.0.12 -x 5 -y 1"));
    assert!(!lab.dest(a).overloaded);
    lab.tcp("10.1.1.1:3", VIP, ".");
    lab.tcp("10.1.1.1:3", VIP, "R");
    lab.wait(10);
    assert_eq!(lab.counts(a), (0, 0, 0));
}

#[test]
fn deleted_dest_goes_to_the_trash_and_its_packets_are_dropped() {
    let mut lab = setup("rr", &["10.0.0.11", "10.0.0.12"], "-g");
    let gone = "10.0.0.12:80";
    assert_eq!(fwd_to(&lab.tcp(C1, VIP, "S")), gone);
    lab.tcp(C1, VIP, ".");
    lab.ok(&format!("-d -t {VIP} -r 10.0.0.12"));
    assert_eq!(lab.ipvs.trash().len(), 1);
    assert!(!lab.ok("-Ln").contains("10.0.0.12"));
    let before = lab.dest(gone).stats.counters();
    assert!(matches!(lab.tcp(C1, VIP, "P."), InVerdict::Drop { .. }));
    assert_eq!(lab.dest(gone).stats.counters(), before);
    // New connections go to the others.
    assert_eq!(fwd_to(&lab.tcp("10.1.1.2:1", VIP, "S")), "10.0.0.11:80");
    // Re-adding brings it back from the trash with its entries.
    lab.ok(&format!("-a -t {VIP} -r 10.0.0.12"));
    assert!(lab.ipvs.trash().is_empty());
    assert_eq!(lab.counts(gone), (1, 0, 0));
    assert_eq!(fwd_to(&lab.tcp(C1, VIP, "P.")), gone);
    // Deleted again: freed when its last entry expires (the drop does not
    // restart the timer).
    lab.ok(&format!("-d -t {VIP} -r 10.0.0.12"));
    lab.wait(899);
    lab.tcp(C1, VIP, "P.");
    lab.wait(1);
    assert!(lab.ipvs.trash().is_empty());
}

/// keepalived stopping deletes the service; starting again re-creates it and
/// takes the dest back from the trash with its entries, but the kernel
/// zeroes its counters (`__ip_vs_update_dest`: bound to another service) to
/// the estimator's last reading. Same service, dest deleted and re-added:
/// the counters stay.
#[test]
fn dest_back_from_the_trash_into_a_new_service_starts_with_zero_counters() {
    let mut lab = setup("rr", &["10.0.0.11"], "-g");
    let rs = "10.0.0.11:80";
    lab.tcp(C1, VIP, "S");
    lab.tcp(C1, VIP, ".");
    assert_eq!(lab.dest(rs).stats.counters().conns, 0, "shown after a tick");
    lab.wait(2);
    assert_eq!(lab.dest(rs).stats.counters().conns, 1);
    lab.ok(&format!("-d -t {VIP} -r {rs}"));
    lab.ok(&format!("-a -t {VIP} -r {rs} -g"));
    assert_eq!(lab.dest(rs).stats.counters().conns, 1, "same service: kept");
    // The estimator reads the counters every 2 s (not in the trash); a
    // connection after its last reading shows after the zeroing, at the
    // next tick.
    lab.wait(1);
    lab.tcp("10.1.1.2:1", VIP, "S");
    lab.ok(&format!("-D -t {VIP}"));
    assert_eq!(lab.ipvs.trash().len(), 1);
    lab.wait(4);
    lab.ok(&format!("-A -t {VIP} -s rr"));
    lab.ok(&format!("-a -t {VIP} -r {rs} -g"));
    assert!(lab.ipvs.trash().is_empty());
    assert_eq!(lab.counts(rs), (2, 0, 0), "its entries are back");
    assert_eq!(lab.dest(rs).stats.counters(), Default::default(), "zeroed");
    lab.wait(2);
    let c = lab.dest(rs).stats.counters();
    assert_eq!((c.conns, c.inpkts), (1, 1), "zeroed to the last reading");
}

#[test]
fn expire_nodest_conn_reschedules_the_packet() {
    let mut lab = Lab::new();
    lab.ok("-A -u 10.0.0.100:53 -s rr");
    lab.ok("-a -u 10.0.0.100:53 -r 10.0.0.21 -g");
    lab.ok("-a -u 10.0.0.100:53 -r 10.0.0.22 -g");
    lab.ok(&format!("-A -t {VIP} -s rr"));
    lab.ok(&format!("-a -t {VIP} -r 10.0.0.11 -g"));
    lab.ok(&format!("-a -t {VIP} -r 10.0.0.12 -g"));
    assert_eq!(fwd_to(&lab.udp(C1, "10.0.0.100:53")), "10.0.0.22:53");
    assert_eq!(fwd_to(&lab.tcp(C1, VIP, "S")), "10.0.0.12:80");
    lab.ok("-d -u 10.0.0.100:53 -r 10.0.0.22");
    lab.ok(&format!("-d -t {VIP} -r 10.0.0.12"));
    lab.ipvs.sysctls.expire_nodest_conn = 1;
    // The entry is expired and the packet treated as new.
    assert_eq!(fwd_to(&lab.udp(C1, "10.0.0.100:53")), "10.0.0.21:53");
    assert!(matches!(
        lab.tcp(C1, VIP, "."),
        InVerdict::LocalStack { .. }
    ));
    assert!(lab.ipvs.trash().is_empty());
    assert_eq!(lab.counts("10.0.0.21:53"), (0, 1, 0));
}

#[test]
fn conn_reuse_mode_reschedules_time_wait_syns() {
    // NAT: TIME_WAIT + SYN from the same client port.
    let mut lab = setup("rr", &["10.0.0.11", "10.0.0.12"], "-m");
    let first = fwd_to(&lab.tcp(C1, VIP, "S"));
    lab.tcp_reply(&first, C1, "S.");
    lab.tcp(C1, VIP, ".");
    lab.tcp(C1, VIP, "F.");
    lab.tcp_reply(&first, C1, "F.");
    assert_eq!(entry(&lab).0, "TIME_WAIT");
    let second = fwd_to(&lab.tcp(C1, VIP, "S"));
    assert_ne!(second, first);
    assert_eq!(entry(&lab).0, "SYN_RECV");
    assert_eq!(lab.counts(&first), (0, 0, 0));
    // conn_reuse_mode=0: the SYN follows the old entry.
    lab.ipvs.sysctls.conn_reuse_mode = 0;
    lab.tcp(C1, VIP, "."); // (an RST in SYN_RECV keeps SYN_RECV)
    lab.tcp(C1, VIP, "R");
    assert_eq!(entry(&lab).0, "CLOSE");
    assert_eq!(fwd_to(&lab.tcp(C1, VIP, "S")), second);
    assert_eq!(entry(&lab).0, "SYN_RECV");

    // DR: FIN_WAIT is reused only with bit 2 (conn_reuse_mode 2/3).
    let mut lab = setup("rr", &["10.0.0.11", "10.0.0.12"], "-g");
    let first = fwd_to(&lab.tcp(C1, VIP, "S"));
    lab.tcp(C1, VIP, ".");
    lab.tcp(C1, VIP, "F.");
    assert_eq!(fwd_to(&lab.tcp(C1, VIP, "S")), first);
    assert_eq!(entry(&lab).0, "SYN_RECV");
    lab.tcp(C1, VIP, ".");
    lab.tcp(C1, VIP, "F.");
    lab.ipvs.sysctls.conn_reuse_mode = 2;
    assert_ne!(fwd_to(&lab.tcp(C1, VIP, "S")), first);
}

#[test]
fn controlled_connections_are_not_rescheduled() {
    let mut lab = setup("rr", &["10.0.0.11", "10.0.0.12"], "-m");
    lab.ok(&format!("-E -t {VIP} -s rr -p"));
    let first = fwd_to(&lab.tcp(C1, VIP, "S"));
    lab.tcp_reply(&first, C1, "S.");
    lab.tcp(C1, VIP, ".");
    lab.tcp(C1, VIP, "F.");
    lab.tcp_reply(&first, C1, "F.");
    assert_eq!(fwd_to(&lab.tcp(C1, VIP, "S")), first);
    assert_eq!(lab.ipvs.conns().len(), 2);
}

#[test]
fn counters_nat_both_ways_dr_one_way_and_zero() {
    let mut lab = setup("rr", &["10.0.0.11"], "-m");
    lab.ok("-A -t 10.0.0.100:443 -s rr");
    lab.ok("-a -t 10.0.0.100:443 -r 10.0.0.12 -g");
    let rs = "10.0.0.11:80";
    lab.tcp(C1, VIP, "S");
    lab.tcp_reply(rs, C1, "S.");
    lab.tcp(C1, VIP, ".");
    lab.tcp(C1, VIP, "P.");
    lab.tcp_reply(rs, C1, ".");
    lab.tcp(C1, "10.0.0.100:443", "S");
    lab.tcp(C1, "10.0.0.100:443", ".");
    // ipvsadm sees the counters as of the last estimator tick (2 s).
    assert_eq!(lab.ipvs.total.counters(), Default::default());
    lab.wait(2);
    let c = lab.dest(rs).stats.counters();
    assert_eq!(
        (c.conns, c.inpkts, c.outpkts, c.inbytes, c.outbytes),
        (1, 3, 2, 180, 120)
    );
    let c = lab.dest("10.0.0.12:443").stats.counters();
    assert_eq!((c.conns, c.inpkts, c.outpkts, c.inbytes), (1, 2, 0, 120));
    let t = lab.ipvs.total.counters();
    assert_eq!((t.conns, t.inpkts, t.outpkts), (2, 5, 2));
    // -Z for one service, then everything; ActiveConn is untouched.
    lab.ok("-Z -t 10.0.0.100:443");
    assert_eq!(lab.dest("10.0.0.12:443").stats.counters().inpkts, 0);
    assert_eq!(lab.dest(rs).stats.counters().inpkts, 3);
    lab.ok("-Z");
    assert_eq!(lab.dest(rs).stats.counters(), Default::default());
    assert_eq!(lab.ipvs.total.counters(), Default::default());
    assert_eq!(lab.counts(rs), (1, 0, 0));
    // A packet after -Z but before the next tick: counted, shown at the tick.
    lab.tcp(C1, VIP, ".");
    assert_eq!(lab.dest(rs).stats.counters().inpkts, 0);
    lab.wait(2);
    assert_eq!(lab.dest(rs).stats.counters().inpkts, 1);
    assert_eq!(lab.dest(rs).stats.counted().inpkts, 4);
}

#[test]
fn rate_estimator_ewma_by_hand() {
    let mut lab = setup("rr", &["10.0.0.11"], "-g");
    lab.wait(1);
    for p in 0..8 {
        lab.tcp(&format!("10.1.1.1:{}", 1000 + p), VIP, "S"); // 60 bytes each
    }
    // avg_cps = (8<<9)>>2 = 1024 → (1024+0x1FF)>>10 = 1;
    // avg_inbps = (480<<4)>>2 = 1920 → (1920+0xF)>>5 = 60; then each idle
    // tick takes a quarter off: 768/1440, 576/1080, 432/810.
    let expect = [(1, 1, 60), (1, 1, 45), (1, 1, 34), (0, 0, 25)];
    for (cps, pps, bps) in expect {
        lab.wait(2);
        let svc = lab.ipvs.services().next().expect("service").1;
        let r = svc.stats.rates();
        assert_eq!((r.cps, r.inpps, r.inbps, r.outpps), (cps, pps, bps, 0));
        let d = lab.dest("10.0.0.11:80").stats.rates();
        assert_eq!((d.cps, d.inpps, d.inbps), (cps, pps, bps));
        assert_eq!(lab.ipvs.total.rates().inbps, bps);
    }
    lab.ok("-Z");
    assert_eq!(lab.dest("10.0.0.11:80").stats.rates(), Default::default());
    lab.wait(2);
    assert_eq!(lab.dest("10.0.0.11:80").stats.rates(), Default::default());
}

#[test]
fn steady_load_shows_its_rate() {
    let mut lab = setup("rr", &["10.0.0.11"], "-g");
    // 5 connections per second of 3 packets of 60 bytes, for 60 s.
    let mut port = 1000;
    for _ in 0..60 {
        for _ in 0..5 {
            let c = format!("10.1.1.1:{port}");
            port += 1;
            lab.tcp(&c, VIP, "S");
            lab.tcp(&c, VIP, ".");
            lab.tcp(&c, VIP, "F.");
        }
        lab.wait(1);
    }
    let out = lab.ok("-Ln --rate");
    // print_service_entry: "%-33s" + print_largenum ×5; the dest line
    // "  -> %-28s %8llu %8llu %8llu" + print_largenum ×2.
    let svc = format!(
        "{:<33}{:>9}{:>9}{:>9}{:>9}{:>9}\n",
        "TCP  10.0.0.100:80", 5, 15, 0, 900, 0
    );
    let dest = format!(
        "  -> {:<28} {:>8} {:>8} {:>8}{:>9}{:>9}\n",
        "10.0.0.11:80", 5, 15, 0, 900, 0
    );
    assert!(out.ends_with(&format!("{svc}{dest}")), "{out}");
}

#[test]
fn editing_sched_flags_takes_effect_at_once() {
    let mut lab = setup("sh", &["10.0.0.11", "10.0.0.12", "10.0.0.13"], "-g");
    let spread = |lab: &mut Lab, base: u16| {
        let mut seen = std::collections::BTreeSet::new();
        for p in 0..32 {
            seen.insert(fwd_to(&lab.tcp(
                &format!("10.1.1.1:{}", base + p),
                VIP,
                "S",
            )));
        }
        seen.len()
    };
    assert_eq!(spread(&mut lab, 1000), 1);
    lab.ok(&format!("-E -t {VIP} -s sh -b sh-port"));
    assert!(spread(&mut lab, 2000) > 1);
    lab.ok(&format!("-E -t {VIP} -s sh"));
    assert_eq!(spread(&mut lab, 3000), 1);
}

#[test]
fn ops_entries_live_for_one_datagram() {
    let mut lab = Lab::new();
    lab.ok("-A -u 10.0.0.100:53 -s rr -o");
    lab.ok("-a -u 10.0.0.100:53 -r 10.0.0.21 -g");
    lab.ok("-a -u 10.0.0.100:53 -r 10.0.0.22 -g");
    let a = fwd_to(&lab.udp(C1, "10.0.0.100:53"));
    let b = fwd_to(&lab.udp(C1, "10.0.0.100:53"));
    assert_ne!(a, b);
    assert!(lab.ipvs.conns().is_empty());
    assert_eq!(lab.counts("10.0.0.21:53"), (0, 0, 0));
    assert_eq!(lab.dest("10.0.0.21:53").stats.counted().conns, 1);
}

#[test]
fn states_never_leave_the_tcp_table() {
    // Every TCP entry the lab creates has a TCP state with the table's timeout.
    let mut lab = setup("rr", &["10.0.0.11"], "-m");
    for f in ["S", ".", "F.", "R", "S.", ""] {
        lab.tcp(C1, VIP, f);
        for (_, c) in lab.ipvs.conns().listing() {
            let ConnState::Tcp(s) = c.state else {
                panic!("not TCP");
            };
            assert_eq!(c.timeout_s, lab.ipvs.timeouts.tcp[s as usize]);
            assert_ne!(s, TcpState::None);
        }
    }
}

#[test]
fn expire_nodest_conn_also_reschedules_syns_to_quiesced_dests() {
    let mut lab = setup("rr", &["10.0.0.11", "10.0.0.12"], "-g");
    let first = fwd_to(&lab.tcp(C1, VIP, "S"));
    lab.tcp(C1, VIP, ".");
    lab.ok(&format!(
        "-e -t {VIP} -r {} -w 0",
        &first[..first.len() - 3]
    ));
    // Default: the SYN follows the ESTABLISHED entry to the quiesced dest.
    assert_eq!(fwd_to(&lab.tcp(C1, VIP, "S")), first);
    lab.ipvs.sysctls.expire_nodest_conn = 1;
    let second = fwd_to(&lab.tcp(C1, VIP, "S"));
    assert_ne!(second, first);
    assert_eq!(lab.counts(&first), (0, 0, 0));
}

#[test]
fn dest_on_a_local_address_is_delivered_locally_but_listed_as_configured() {
    let mut lab = Lab::new();
    lab.ipvs.set_local_addrs(&["10.0.0.1".parse().expect("ip")]);
    lab.ok(&format!("-A -t {VIP} -s rr"));
    lab.ok(&format!("-a -t {VIP} -r 10.0.0.1 -g"));
    assert!(matches!(
        lab.tcp(C1, VIP, "S"),
        InVerdict::Forward {
            method: crate::ipvs::FwdMethod::Local,
            ..
        }
    ));
    let out = lab.ok("-Ln");
    assert!(
        out.ends_with("  -> 10.0.0.1:80                  Route   1      1          0         \n"),
        "{out}"
    );
    assert!(lab.ok("-Sn").ends_with("-r 10.0.0.1:80 -g -w 1\n"));
}

#[test]
fn expire_nodest_conn_flushes_entries_when_the_dest_is_deleted() {
    let mut lab = setup("rr", &["10.0.0.11", "10.0.0.12"], "-g");
    lab.ok(&format!("-E -t {VIP} -s rr -p"));
    let gone = fwd_to(&lab.tcp(C1, VIP, "S"));
    lab.tcp(C1, VIP, "."); // the template is ASSURED
    let kept = fwd_to(&lab.tcp("10.1.1.2:1", VIP, "S"));
    assert_eq!(lab.ipvs.conns().len(), 4);
    lab.ipvs.sysctls.expire_nodest_conn = 1;
    lab.ok(&format!("-d -t {VIP} -r {}", &gone[..gone.len() - 3]));
    // The entry and its template are deleted at once; the dest leaves the trash.
    assert_eq!(lab.ipvs.conns().len(), 2);
    assert!(lab.ipvs.trash().is_empty());
    assert!(lab.conns().iter().all(|r| r.ends_with(&kept)));
    // The client is scheduled afresh.
    assert_eq!(fwd_to(&lab.tcp(C1, VIP, "S")), kept);
}
