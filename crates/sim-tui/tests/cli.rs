//! The `lvslab` binary as users run it: check, lint, pcap (read back by tshark).

use std::process::Command;

mod common;

use common::{lvslab, root, tmpdir};

#[test]
fn check_passes_on_the_shipped_labs_and_fails_when_behaviour_changes() {
    let (code, out, _) = lvslab(&["check", "scenarios/labs/tutorial-dr.toml"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok   scenarios/labs/tutorial-dr.toml (4 expectations, seed 1)"));

    // The same lab with rs1 and rs2 added the other way round: rr now starts at rs1.
    let text = std::fs::read_to_string(root().join("scenarios/labs/tutorial-dr.toml")).unwrap();
    let a = "ipvsadm -a -t 192.168.59.135:80 -r 192.168.59.131:80 -g -w 1";
    let b = "ipvsadm -a -t 192.168.59.135:80 -r 192.168.59.132:80 -g -w 1";
    let swapped = text.replace(a, "@A@").replace(b, a).replace("@A@", b);
    let d = tmpdir("check");
    let f = d.join("dr-swapped.toml");
    std::fs::write(&f, swapped).unwrap();
    let junit = d.join("junit.xml");
    let (code, out, _) = lvslab(&[
        "check",
        f.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL"), "{out}");
    assert!(
        out.contains(r#"responses were ["rs1", "rs2", "rs1", "rs2", "rs1", "rs2"]"#),
        "{out}"
    );
    assert!(out.contains("reproduce: lvslab run"), "{out}");
    assert!(out.contains("--seed 1"), "{out}");
    // ipvsadm -Ln output is the same (it sorts), but the InActConn line may move:
    // the first differing line of any golden comparison is named.
    let x = std::fs::read_to_string(&junit).unwrap();
    assert!(x.starts_with("<?xml"));
    assert!(x.contains("<failure message=\"responses were"), "{x}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn check_reports_the_first_differing_line_of_a_command_output() {
    let text = std::fs::read_to_string(root().join("scenarios/labs/tutorial-dr.toml")).unwrap();
    let changed = text.replace(
        "  -> 192.168.59.131:80            Route   1      0          3         ",
        "  -> 192.168.59.131:80            Route   1      0          4         ",
    );
    let d = tmpdir("diff");
    let f = d.join("dr.toml");
    std::fs::write(&f, changed).unwrap();
    let (code, out, _) = lvslab(&["check", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("first difference at line 5:"), "{out}");
    assert!(out.contains("Route   1      0          4"), "{out}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn lint_expectations_pin_a_lessons_mistake_and_quiet_check() {
    // As shipped: the findings the lesson expects are not printed.
    let (code, out, err) = lvslab(&["check", "scenarios/lessons/dr-arp-problem.toml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("lint:"), "{err}");

    let text =
        std::fs::read_to_string(root().join("scenarios/lessons/dr-arp-problem.toml")).unwrap();
    let d = tmpdir("lint-expect");
    // Fixed ARP sysctls on rs1 and rs2: the expected finding is gone.
    let fixed = text.replace(
        "route add -host 192.168.59.135 dev lo:0",
        "route add -host 192.168.59.135 dev lo:0\necho 1 >/proc/sys/net/ipv4/conf/all/arp_ignore\necho 2 >/proc/sys/net/ipv4/conf/all/arp_announce",
    );
    assert_ne!(fixed, text);
    let f = d.join("fixed.toml");
    std::fs::write(&f, &fixed).unwrap();
    let (code, out, _) = lvslab(&["check", f.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("lint finds \"answers ARP requests for the VIP\""),
        "{out}"
    );
    // `never`: a lint expectation that the finding is absent fails on the lesson.
    let never =
        format!("{text}\n[[expect]]\nlint = \"arp_announce<2\"\nhost = \"rs1\"\nnever = true\n");
    let f = d.join("never.toml");
    std::fs::write(&f, never).unwrap();
    let (code, out, _) = lvslab(&["check", f.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("lint found it: warning: rs1: arp_announce<2"),
        "{out}"
    );
    // A lint expectation has no time.
    let timed = format!("{text}\n[[expect]]\nlint = \"x\"\nat = \"1s\"\n");
    let f = d.join("timed.toml");
    std::fs::write(&f, timed).unwrap();
    let (code, out, err) = lvslab(&["check", f.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("timed.toml:102:6: error: a `lint` expectation has no time"),
        "{out}{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn lint_names_each_lessons_mistake() {
    for (lesson, needle) in [
        ("dr-arp-problem", "arp_ignore=0"),
        (
            "nat-wrong-gateway",
            "default gateway is 192.168.10.254, not the director",
        ),
        ("dr-port-mapping", "DR and TUN cannot map ports"),
        (
            "../labs/tutorial-keepalived-dr",
            "nopreempt will not work with initial state MASTER - clearing",
        ),
    ] {
        let (code, out, _) = lvslab(&["lint", &format!("scenarios/lessons/{lesson}.toml")]);
        assert_eq!(code, 1, "{lesson}: {out}");
        assert!(out.contains(needle), "{lesson}: {out}");
        assert!(out.contains("fix: "), "{lesson}: {out}");
    }
    let (code, out, _) = lvslab(&["lint", "scenarios/labs/tutorial-dr.toml"]);
    assert_eq!(code, 0, "{out}");
    // Lessons whose point is behaviour, not a mistake, get notes (exit 0).
    for (lesson, needle) in [
        (
            "persistence",
            "is persistent (50 s): each client address sticks",
        ),
        ("threshold-overload", "has -x 2: it is OVERLOAD"),
        ("weight0-drain", "sets weight 0: quiesced"),
    ] {
        let (code, out, _) = lvslab(&["lint", &format!("scenarios/lessons/{lesson}.toml")]);
        assert!(out.contains(needle), "{lesson}: {out}");
        assert_eq!(code, 0, "{lesson}: {out}");
    }
}

/// tshark, if installed (CI installs it; elsewhere the test says it skipped).
fn tshark() -> Option<&'static str> {
    let ok = Command::new("tshark").arg("--version").output().is_ok();
    if !ok && std::env::var_os("CI").is_some() {
        panic!("tshark is not installed (scripts/install-deps installs it)");
    }
    ok.then_some("tshark")
}

#[test]
fn pcaps_decode_cleanly_in_tshark() {
    let Some(ts) = tshark() else {
        eprintln!("skipped: tshark not installed (sudo scripts/install-deps)");
        return;
    };
    let d = tmpdir("pcap");
    let mut protocols = String::new();
    for lab in [
        "scenarios/labs/tutorial-dr.toml",
        "scenarios/labs/nat.toml",
        "scenarios/labs/tun.toml",
        "scenarios/lessons/threshold-overload.toml",
        "scenarios/labs/tutorial-keepalived-dr.toml",
    ] {
        let f = d.join("out.pcap");
        let (code, _, err) = lvslab(&["pcap", lab, "-o", f.to_str().unwrap()]);
        assert_eq!(code, 0, "{lab}: {err}");
        let o = Command::new(ts)
            .args(["-r", f.to_str().unwrap(), "-V"])
            .args([
                "-o",
                "ip.check_checksum:TRUE",
                "-o",
                "tcp.check_checksum:TRUE",
            ])
            .args(["-o", "udp.check_checksum:TRUE"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{lab}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for bad in [
            "Malformed",
            "[Expert Info (Error",
            "incorrect",
            "Bad checksum",
        ] {
            assert!(!text.contains(bad), "{lab}: tshark says {bad}");
        }
        let p = Command::new(ts)
            .args([
                "-r",
                f.to_str().unwrap(),
                "-T",
                "fields",
                "-e",
                "frame.protocols",
            ])
            .output()
            .unwrap();
        protocols.push_str(&String::from_utf8_lossy(&p.stdout));
    }
    for want in [
        ":arp",
        ":ip:tcp",
        ":ip:ip:tcp",
        ":ip:icmp:ip:tcp",
        ":ip:tcp:http",
    ] {
        assert!(protocols.contains(want), "no {want} in {protocols}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn flow_run_prints_the_summary_and_writes_the_metrics() {
    let d = tmpdir("flow");
    let m = d.join("nat");
    let (code, out, err) = lvslab(&[
        "run",
        "scenarios/capacity/director-nat.toml",
        "--metrics",
        m.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("fidelity flow"), "{out}");
    assert!(out.contains("director (Masq)"), "{out}");
    let json = std::fs::read_to_string(m.join("metrics.json")).unwrap();
    assert!(json.contains("\"fidelity\": \"flow\""), "{json}");
    let series = std::fs::read_to_string(m.join("series.csv")).unwrap();
    assert!(
        series.starts_with("t_s,server,active,inactive,"),
        "{series}"
    );
    assert!(
        std::fs::read_to_string(m.join("service.csv"))
            .unwrap()
            .lines()
            .count()
            > 10
    );
    assert!(
        std::fs::read_to_string(m.join("servers.csv"))
            .unwrap()
            .contains("rs1,192.168.10.11")
    );
    // Only the four files: no temporary file is left behind.
    let mut names: Vec<String> = std::fs::read_dir(&m)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["metrics.json", "series.csv", "servers.csv", "service.csv"]
    );
    // NAT saturates the director; DR with the same load does not.
    let drops = |text: &str| -> u64 {
        let l = text.lines().find(|l| l.starts_with("director (")).unwrap();
        let w: Vec<&str> = l.split_whitespace().collect();
        let i = w.iter().position(|x| *x == "drops,").unwrap();
        w[i - 1].parse().unwrap()
    };
    assert!(drops(&out) > 0, "{out}");
    let (code, dr, _) = lvslab(&["run", "scenarios/capacity/director-dr.toml"]);
    assert_eq!(code, 0, "{dr}");
    assert_eq!(drops(&dr), 0, "{dr}");
}

#[test]
fn bench_measures_lb_mm_in_a_child_process() {
    let (code, out, err) = lvslab(&["bench", "--lb-mm", "2000"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("lb-mm requests=2000 "), "{out}");
    assert!(out.contains(" events=4001 "), "{out}");
}

/// `lvslab run` on a full disk says so and exits 1 (no panic), with and
/// without a trace; a reader that leaves early (`| head`) ends it quietly.
#[test]
fn run_reports_a_failed_write_and_ends_quietly_on_a_closed_pipe() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipping: no /dev/full");
        return;
    };
    for extra in [&[][..], &["--trace", "text"][..]] {
        let o = Command::new(env!("CARGO_BIN_EXE_lvslab"))
            .args(["run", "scenarios/labs/tun.toml"])
            .args(extra)
            .current_dir(root())
            .stdout(full.try_clone().expect("dup /dev/full"))
            .output()
            .expect("run lvslab");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {err}");
        assert!(
            err.contains("lvslab: writing the output: No space left"),
            "{err}"
        );
    }
    let (first, code, err) = leave_after(
        &["run", "scenarios/bench/dr-8rs.toml", "--trace", "text"],
        22,
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(first, "t=0.000000000s lvs CMD");
}

/// Runs lvslab with `args`, reads the first `n` bytes of its output and
/// closes the pipe; the bytes, the exit status and what it printed on
/// stderr.
fn leave_after(args: &[&str], n: usize) -> (String, Option<i32>, String) {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_lvslab"))
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run lvslab");
    let mut first = vec![0u8; n];
    let out = child.stdout.as_mut().expect("piped");
    std::io::Read::read_exact(out, &mut first).expect("a first line");
    drop(child.stdout.take());
    let o = child.wait_with_output().expect("ends");
    (
        String::from_utf8_lossy(&first).into_owned(),
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Any verb whose reader leaves early ends quietly (exit 0, no panic
/// message), as `cat` or `grep` would.
#[test]
fn a_reader_that_leaves_early_ends_any_verb_quietly() {
    // About 300 kB of script: more than a pipe holds.
    let (first, code, err) = leave_after(&["kernel", "--print-script", "scenarios/conformance"], 4);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(first, "#!/b");
}
