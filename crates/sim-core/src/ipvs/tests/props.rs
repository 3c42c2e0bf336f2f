//! Property tests: counter invariants under random traffic and
//! configuration changes, `-S -n` / `-R` round trips, and a parser fuzz.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::Lab;
use crate::ipvs::ipvsadm;

/// One random step.
#[derive(Clone, Debug)]
enum Op {
    /// A TCP segment (or a UDP datagram) from client `c`, port `p`.
    Packet {
        c: u8,
        p: u8,
        flags: u8,
        reply: bool,
        udp: bool,
    },
    Wait(u32),
    Weight(u8, u16),
    Del(u8),
    Add(u8, bool),
    Thresholds(u8, u8, u8),
    Sysctl(u8, u8),
    Zero,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..4, 0u8..3, 0u8..6, any::<bool>(), any::<bool>())
            .prop_map(|(c, p, flags, reply, udp)| Op::Packet { c, p, flags, reply, udp }),
        3 => (0u32..200_000).prop_map(Op::Wait),
        1 => (0u8..3, 0u16..3).prop_map(|(d, w)| Op::Weight(d, w)),
        1 => (0u8..3).prop_map(Op::Del),
        1 => (0u8..3, any::<bool>()).prop_map(|(d, m)| Op::Add(d, m)),
        1 => (0u8..3, 0u8..4, 0u8..3).prop_map(|(d, u, l)| Op::Thresholds(d, u, l)),
        1 => (0u8..3, 0u8..4).prop_map(|(k, v)| Op::Sysctl(k, v)),
        1 => Just(Op::Zero),
    ]
}

const FLAGS: [&str; 6] = ["S", "S.", ".", "F.", "R", ""];

fn apply(lab: &mut Lab, o: &Op) {
    let rs = |d: u8| format!("10.0.0.{}", 11 + d);
    match *o {
        Op::Packet {
            c,
            p,
            flags,
            reply,
            udp,
        } => {
            let client = format!("10.1.1.{}:{}", 1 + c, 1000 + u16::from(p));
            let (vip, port) = if udp {
                ("10.0.0.100:53", 53)
            } else {
                ("10.0.0.100:80", 80)
            };
            if reply {
                // From whichever real server serves that client, if any.
                let (ca, cp) = super::ap(&client);
                let from = lab.ipvs.conns().listing().iter().find_map(|(_, e)| {
                    (e.caddr == ca && e.cport == cp && e.vport == port && !e.template)
                        .then(|| format!("{}:{}", e.daddr, e.dport))
                });
                let from = from.unwrap_or_else(|| format!("{}:{port}", rs(c % 3)));
                if udp {
                    let mut m =
                        Lab::meta(crate::ipvs::Protocol::Udp, &from, &client, super::flags(""));
                    m.len = 80;
                    lab.ipvs.out_packet(lab.now, &m);
                } else {
                    lab.tcp_reply(&from, &client, FLAGS[usize::from(flags)]);
                }
            } else if udp {
                lab.udp(&client, vip);
            } else {
                lab.tcp(&client, vip, FLAGS[usize::from(flags)]);
            }
        }
        Op::Wait(ms) => lab.wait_ms(u64::from(ms)),
        Op::Weight(d, w) => {
            for svc in ["-t 10.0.0.100:80", "-u 10.0.0.100:53"] {
                let _ = lab.adm(&format!("-e {svc} -r {} -m -w {w}", rs(d)));
            }
        }
        Op::Del(d) => {
            for svc in ["-t 10.0.0.100:80", "-u 10.0.0.100:53"] {
                let _ = lab.adm(&format!("-d {svc} -r {}", rs(d)));
            }
        }
        Op::Add(d, nat) => {
            let m = if nat { "-m" } else { "-g" };
            for svc in ["-t 10.0.0.100:80", "-u 10.0.0.100:53"] {
                let _ = lab.adm(&format!("-a {svc} -r {} {m}", rs(d)));
            }
        }
        Op::Thresholds(d, u, l) => {
            let _ = lab.adm(&format!(
                "-e -t 10.0.0.100:80 -r {} -m -x {u} -y {}",
                rs(d),
                l.min(u)
            ));
        }
        Op::Sysctl(k, v) => {
            let s = &mut lab.ipvs.sysctls;
            let v = i32::from(v);
            match k {
                0 => s.conn_reuse_mode = v,
                1 => s.expire_nodest_conn = v % 2,
                _ => s.expire_quiescent_template = v % 2,
            }
        }
        Op::Zero => {
            lab.ok("-Z");
        }
    }
}

/// ActiveConn/InActConn/PersistConn of every dest (live or in the trash)
/// equal what the entries bound to it say, and `n_control` equals the
/// entries that name each template.
fn check_invariants(lab: &Lab) -> Result<(), TestCaseError> {
    let mut want: BTreeMap<u32, (u32, u32, u32)> = BTreeMap::new();
    let mut ctl: BTreeMap<u32, u32> = BTreeMap::new();
    let listing = lab.ipvs.conns().listing();
    for (_, c) in &listing {
        let did = c.dest.expect("every entry is bound");
        prop_assert!(lab.ipvs.dest(did).is_some(), "entry bound to a freed dest");
        let e = want.entry(did.0).or_default();
        if c.template {
            e.2 += 1;
        } else if c.inactive {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
        if let Some(t) = c.control {
            *ctl.entry(t.0).or_default() += 1;
            prop_assert!(lab.ipvs.conns().get(t).is_some_and(|t| t.template));
        }
    }
    for (i, d) in lab.ipvs.dests.iter().enumerate() {
        let Some(d) = d else { continue };
        let key = u32::try_from(i).expect("index");
        let w = want.get(&key).copied().unwrap_or_default();
        prop_assert_eq!(
            (d.activeconns, d.inactconns, d.persistconns),
            w,
            "dest {}",
            d.addr
        );
        if !d.available {
            prop_assert!(d.refs() > 0, "an unreferenced dest stays in the trash");
        }
    }
    for (id, c) in &listing {
        prop_assert_eq!(c.n_control, ctl.get(&id.0).copied().unwrap_or(0));
    }
    Ok(())
}

fn traffic_lab(persistent: bool) -> Lab {
    let mut lab = Lab::new();
    let p = if persistent { " -p 30" } else { "" };
    lab.ok(&format!("-A -t 10.0.0.100:80 -s wlc{p}"));
    lab.ok(&format!("-A -u 10.0.0.100:53 -s rr{p}"));
    for d in 0..3 {
        let m = if d == 1 { "-g" } else { "-m" };
        lab.ok(&format!("-a -t 10.0.0.100:80 -r 10.0.0.{} {m}", 11 + d));
        lab.ok(&format!("-a -u 10.0.0.100:53 -r 10.0.0.{} {m}", 11 + d));
    }
    lab
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn counters_match_entries(persistent in any::<bool>(), ops in prop::collection::vec(op(), 1..120)) {
        let mut lab = traffic_lab(persistent);
        for o in &ops {
            // Counter underflow would trip the debug assertions in dest.rs.
            apply(&mut lab, o);
            check_invariants(&lab)?;
        }
        // Idle entries all expire (templates within 60 s of their last one).
        lab.wait(3600);
        prop_assert!(lab.ipvs.conns().is_empty());
        for d in lab.ipvs.dests.iter().flatten() {
            prop_assert_eq!((d.activeconns, d.inactconns, d.persistconns), (0, 0, 0));
        }
        prop_assert!(lab.ipvs.trash().is_empty());
    }
}

/// One random `-A` line and its `-a` lines.
fn service_cmds() -> impl Strategy<Value = Vec<String>> {
    let scheds = prop::sample::select(vec![
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
    ]);
    let svc = prop_oneof![
        (
            1u8..5,
            prop::sample::select(vec![0u16, 21, 53, 80, 443, 8080])
        )
            .prop_map(|(a, p)| format!("-t 10.0.0.{a}:{p}")),
        (1u8..5, prop::sample::select(vec![0u16, 53, 123]))
            .prop_map(|(a, p)| format!("-u 10.0.0.{a}:{p}")),
        (1u32..5).prop_map(|m| format!("-f {m}")),
    ];
    let persist = prop_oneof![
        Just(String::new()),
        Just(" -p".to_string()),
        (1u32..100_000).prop_map(|t| format!(" -p {t}")),
        (
            1u32..1000,
            prop::sample::select(vec!["255.255.255.0", "255.255.0.0", "0.0.0.0"])
        )
            .prop_map(|(t, m)| format!(" -p {t} -M {m}")),
    ];
    let dest = (
        1u8..7,
        prop::option::of(prop::sample::select(vec![0u16, 80, 8080])),
        0u8..5,
        0u32..=65535,
        1u16..65535,
    )
        .prop_map(|(a, port, how, w, tport)| {
            let port = port.map(|p| format!(":{p}")).unwrap_or_default();
            let m = match how {
                0 => "-g".to_string(),
                1 => "-m".to_string(),
                2 => "-i".to_string(),
                3 => format!("-i --tun-type gue --tun-port {tport} --tun-csum"),
                _ => "-i --tun-type gre".to_string(),
            };
            format!("-r 10.1.0.{a}{port} {m} -w {w}")
        });
    (
        svc,
        scheds,
        persist,
        any::<(bool, bool)>(),
        prop::collection::vec(dest, 0..5),
    )
        .prop_map(|(svc, sched, persist, (flag, ops), dests)| {
            let mut a = format!("-A {svc} -s {sched}{persist}");
            if flag {
                a.push_str(match sched {
                    "sh" => " -b sh-fallback,sh-port",
                    "mh" => " -b mh-port",
                    _ => " -b flag-2",
                });
            }
            if ops && !svc.starts_with("-t") {
                a.push_str(" -o");
            }
            let mut v = vec![a];
            v.extend(dests.into_iter().map(|d| format!("-a {svc} {d}")));
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn save_then_restore_reproduces_the_table(svcs in prop::collection::vec(service_cmds(), 0..6)) {
        let mut a = Lab::new();
        for line in svcs.iter().flatten() {
            let _ = a.adm(line); // duplicates and zero-port services fail: fine
        }
        let saved = a.ok("-S -n");
        let mut b = Lab::new();
        let o = b.restore(&saved);
        prop_assert_eq!((o.status, o.stderr.as_str()), (0, ""), "restoring:\n{}", saved);
        prop_assert_eq!(b.ok("-S -n"), saved.clone());
        prop_assert_eq!(b.ok("-Ln"), a.ok("-Ln"));
    }

    #[test]
    fn parser_never_panics(words in prop::collection::vec(prop_oneof![
        prop::sample::select(vec![
            "-A", "-E", "-D", "-C", "-a", "-e", "-d", "-L", "-l", "-n", "-c", "-Z", "-S", "-R",
            "-t", "-u", "-f", "-s", "-p", "-M", "-r", "-g", "-m", "-i", "-w", "-x", "-y", "-b",
            "-o", "-6", "--set", "--stats", "--rate", "--exact", "--thresholds",
            "--persistent-conn", "--nosort", "--sort", "--timeout", "--daemon",
            "--start-daemon", "--stop-daemon", "--tun-type", "--tun-port", "--tun-csum",
            "--pe", "-Ln", "-lnc", "-Sn", "10.0.0.1:80", "10.0.0.2", "rr", "sh", "wlc", "master",
            "sh-port,sh-fallback", "255.255.255.0", "0", "1", "65536", "-1", "gue", "--", "-",
        ]).prop_map(str::to_string),
        "[ -~]{0,12}",
    ], 0..10), stdin in "[ -~\n]{0,80}") {
        let mut lab = Lab::new();
        lab.ok("-A -t 10.0.0.1:80 -s rr");
        lab.ok("-a -t 10.0.0.1:80 -r 10.0.0.11 -m");
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let o = ipvsadm::run(&mut lab.ipvs, lab.now, &args, Some(&stdin));
        prop_assert!([0, 1, 2, 255].contains(&o.status), "status {}", o.status);
        if o.status != 0 {
            prop_assert!(!o.stderr.is_empty());
        }
    }
}
