//! Reports on the shipped scenarios: the data says what happened, and the
//! charts show it (SVG text names every series; PNGs decode and carry the
//! series colours).

use std::path::{Path, PathBuf};

use crate::adapt::{self, RunOpts};
use crate::model::{MarkKind, RunData, ServerState};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run_text(name: &str, text: &str) -> RunData {
    let mut sc = adapt::load(name, text, &root().join("scenarios"), None).expect("scenario loads");
    adapt::run(&mut sc, &RunOpts::default()).expect("scenario runs")
}

fn run_file(rel: &str) -> RunData {
    let text = std::fs::read_to_string(root().join(rel)).expect("read scenario");
    run_text(rel, &text)
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lvslab-reports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create a temporary folder");
    d
}

#[test]
fn nat_replies_cross_the_director_and_dr_replies_do_not() {
    let nat = run_file("scenarios/labs/nat.toml");
    let dr = run_file("scenarios/labs/tutorial-dr.toml");
    // The labs' six curls: wrr 2:1 in NAT, rr in DR.
    assert_eq!(nat.servers, ["rs1", "rs2"]);
    assert_eq!(nat.totals.server_conns, [4, 2]);
    assert_eq!(dr.totals.server_conns, [3, 3]);
    assert_eq!((nat.totals.ok, nat.totals.failed), (6, 0));
    assert!(nat.totals.director_out_pkts > 0, "{:?}", nat.totals);
    assert!(nat.dir_out_pps.iter().any(|&x| x > 0.0));
    assert_eq!(dr.totals.director_out_pkts, 0, "{:?}", dr.totals);
    assert!(dr.totals.director_in_pkts > 0);
    assert!(dr.dir_out_pps.iter().all(|&x| x == 0.0));
    assert_eq!(
        (nat.meta.method.as_str(), dr.meta.method.as_str()),
        ("Masq", "Route")
    );
    // InActConn at the end: what `ipvsadm -Ln` shows at 10 s in the NAT lab.
    let last = |v: &Vec<Vec<u64>>| {
        v.iter()
            .map(|s| *s.last().unwrap_or(&0))
            .collect::<Vec<_>>()
    };
    assert_eq!(last(&nat.active), [0, 0]);
    assert_eq!(last(&nat.inactive), [4, 2]);
    // Every series has one value per sample.
    for v in nat.active.iter().chain(&nat.inactive) {
        assert_eq!(v.len(), nat.t.len());
    }
    assert_eq!(nat.p99_ms.len(), nat.t.len());
}

#[test]
fn a_stopped_real_server_shows_as_down_with_failed_requests() {
    let text = std::fs::read_to_string(root().join("scenarios/labs/nat.toml")).expect("read");
    let text = format!(
        "{text}\n[[action]]\nat = \"2.5s\"\nhost = \"rs1\"\nrun = \"systemctl stop httpd\"\n"
    );
    let d = run_text("nat-rs1-stops.toml", &text);
    let rs1 = d.servers.iter().position(|s| s == "rs1").expect("rs1");
    let k =
        d.t.iter()
            .position(|&t| t >= 3.0)
            .expect("a sample after 3 s");
    assert_eq!(
        d.server_state[rs1][0],
        ServerState {
            up: true,
            in_table: true
        }
    );
    // Without a health checker the stopped server stays in the table.
    assert_eq!(
        d.server_state[rs1][k],
        ServerState {
            up: false,
            in_table: true
        }
    );
    assert!(d.totals.failed > 0, "{:?}", d.totals);
    assert!(
        d.marks
            .iter()
            .any(|m| m.kind == MarkKind::Failure && m.host == "client")
    );
    assert!(d.marks.iter().any(|m| m.kind == MarkKind::Action
        && m.text == "systemctl stop httpd"
        && (m.t - 2.5).abs() < 1e-9));
    assert!(d.failed_rps.iter().any(|&x| x > 0.0));
}

#[test]
fn flow_runs_convert_with_host_names_in_order() {
    let text =
        std::fs::read_to_string(root().join("scenarios/sweeps/base-4rs.toml")).expect("read");
    let text = text.replace("duration = \"40s\"", "duration = \"6s\"");
    let mut sc = adapt::load(
        "base-4rs.toml",
        &text,
        &root().join("scenarios/sweeps"),
        None,
    )
    .expect("loads");
    let d = adapt::run(&mut sc, &RunOpts::default()).expect("runs");
    assert_eq!(d.meta.fidelity, "flow");
    assert_eq!(d.servers, ["rs1", "rs2", "rs3", "rs4"]);
    assert_eq!(d.totals.server_conns.iter().sum::<u64>(), d.totals.requests);
    // Weights 1,1,2,2 under wlc: the big servers take about twice as much.
    let c = &d.totals.server_conns;
    assert!(c[2] > c[0] * 3 / 2 && c[3] > c[1] * 3 / 2, "{c:?}");
    assert_eq!(d.latency[0].name, "all responses");
    assert!(
        d.latency
            .iter()
            .skip(1)
            .map(|p| p.name.as_str())
            .eq(["rs1", "rs2", "rs3", "rs4"])
    );
    // Samples every second, no short last interval.
    assert!(
        d.t.windows(2).all(|w| (w[1] - w[0] - 1.0).abs() < 1e-6),
        "{:?}",
        d.t
    );
    assert!(d.totals.p99_ms >= d.totals.p50_ms && d.totals.p50_ms > 0.0);
}

fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|s| {
            s.split_once('>')
                .and_then(|(_, r)| r.split_once("</text>"))
                .map(|(t, _)| t.to_string())
        })
        .collect()
}

#[test]
fn report_charts_name_their_series_and_decode() {
    let d = run_file("scenarios/labs/nat.toml");
    let dir = tmpdir("nat");
    let files = crate::report::write(&d, &dir).expect("report written");
    assert_eq!(files.len(), 13);
    let svg =
        |id: &str| svg_texts(&std::fs::read_to_string(dir.join(format!("{id}.svg"))).expect("svg"));
    let has = |texts: &[String], want: &str| texts.iter().any(|t| t.contains(want));
    let c = svg("connections");
    for want in [
        "Connections per real server (wrr",
        "ActiveConn (connections)",
        "InActConn (connections)",
        "simulated time (s)",
        "rs1",
        "rs2",
    ] {
        assert!(has(&c, want), "connections.svg lacks {want}: {c:?}");
    }
    let t = svg("throughput");
    for want in [
        "successful responses",
        "failed requests",
        "requests/s",
        "new connections/s per server",
    ] {
        assert!(has(&t, want), "throughput.svg lacks {want}");
    }
    let l = svg("latency");
    assert!(has(&l, "p50 (median)") && has(&l, "p99") && has(&l, "response time (ms)"));
    let ld = svg("latency-distribution");
    assert!(has(&ld, "all responses") && has(&ld, "requests (percentile, %)"));
    let dr = svg("director");
    assert!(has(
        &dr,
        "NAT: requests and replies both cross the director"
    ));
    assert!(has(&dr, "in: client → real server") && has(&dr, "out: real server → client"));
    let tl = svg("timeline");
    for want in [
        "lvs (director)",
        "rs1 (real server)",
        "rs2 (real server)",
        "failed requests (×)",
        "service down",
    ] {
        assert!(has(&tl, want), "timeline.svg lacks {want}: {tl:?}");
    }
    for (id, _) in crate::report::CHARTS {
        let img = image::open(dir.join(format!("{id}.png")))
            .expect("PNG decodes")
            .to_rgb8();
        assert_eq!(img.dimensions(), crate::charts::SIZE, "{id}");
        let ink = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(ink > 20_000, "{id}.png is nearly blank ({ink} pixels)");
    }
    // The first two series colours (rs1, rs2) are drawn in the connections chart.
    let img = image::open(dir.join("connections.png"))
        .expect("PNG")
        .to_rgb8();
    for c in [crate::charts::color(0), crate::charts::color(1)] {
        let rgb = [c.0, c.1, c.2];
        assert!(
            img.pixels().filter(|p| p.0 == rgb).count() > 500,
            "colour {rgb:?} missing"
        );
    }
    let html = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    assert_eq!(html.matches("src=\"data:image/png;base64,").count(), 6);
    assert!(!html.contains("src=\"http") && !html.contains("<script") && !html.contains("<link"));
    assert!(
        html.contains("<td>rs1</td><td>4</td><td>66.7 %</td>"),
        "summary table"
    );
}

#[test]
fn report_files_are_deterministic() {
    let d = run_file("scenarios/labs/tutorial-dr.toml");
    let (a, b) = (tmpdir("det-a"), tmpdir("det-b"));
    crate::report::write(&d, &a).expect("a");
    crate::report::write(&run_file("scenarios/labs/tutorial-dr.toml"), &b).expect("b");
    for f in ["connections.svg", "timeline.png", "index.html"] {
        let (x, y) = (
            std::fs::read(a.join(f)).expect("a"),
            std::fs::read(b.join(f)).expect("b"),
        );
        assert!(x == y, "{f} differs between two runs");
    }
}

/// The value of a per-sample series at time `t` (the first sample at or after it).
fn at<T: Copy>(d: &RunData, v: &[T], t: f64) -> T {
    let k =
        d.t.iter()
            .position(|&x| x >= t)
            .expect("a sample at that time");
    v[k]
}

#[test]
fn keepalived_lab_shows_the_failover_and_the_health_check() {
    let d = run_file("scenarios/labs/tutorial-keepalived-dr.toml");
    assert_eq!(d.directors, ["lvs-master", "lvs-backup"]);
    let (master, backup) = (&d.vip_holder[0], &d.vip_holder[1]);
    // lvs-master is MASTER from 3.2 s, stops at 15 s; lvs-backup holds the
    // VIP from 15.6 s until lvs-master preempts at 28.2 s.
    assert!(!at(&d, master, 1.0) && at(&d, master, 10.0));
    assert!(!at(&d, master, 20.0) && at(&d, backup, 20.0));
    assert!(at(&d, master, 35.0) && !at(&d, backup, 35.0));
    let vrrp: Vec<(f64, &str)> = d
        .marks
        .iter()
        .filter(|m| m.kind == MarkKind::Vrrp && m.text.contains("Entering MASTER STATE"))
        .map(|m| (m.t, m.host.as_str()))
        .collect();
    assert_eq!(vrrp.len(), 3, "{vrrp:?}");
    assert_eq!(vrrp[1].1, "lvs-backup");
    assert!((vrrp[1].0 - 15.609).abs() < 0.01, "{vrrp:?}");
    // rs2's httpd stops at 40 s; TCP_CHECK takes it out of the active
    // director's table at about 50 s; httpd is back at 55 s.
    let rs2 = d.servers.iter().position(|s| s == "rs2").expect("rs2");
    let st = &d.server_state[rs2];
    assert_eq!(
        at(&d, st, 45.0),
        ServerState {
            up: false,
            in_table: true
        }
    );
    assert_eq!(
        at(&d, st, 53.0),
        ServerState {
            up: false,
            in_table: false
        }
    );
    assert_eq!(
        at(&d, st, 60.0),
        ServerState {
            up: true,
            in_table: true
        }
    );
    assert!(d.marks.iter().any(
        |m| m.kind == MarkKind::Health && m.text.contains("Removing service [192.168.59.132]")
    ));
    // The curls refused in between are the failover's cost.
    let fails: Vec<f64> = d
        .marks
        .iter()
        .filter(|m| m.kind == MarkKind::Failure)
        .map(|m| m.t)
        .collect();
    assert!(
        !fails.is_empty() && fails.iter().all(|&t| (40.0..52.0).contains(&t)),
        "{fails:?}"
    );
    assert_eq!(d.totals.failed, fails.len() as u64);
    assert!(
        (10.0..14.0).contains(&d.totals.longest_gap_s),
        "{:?}",
        d.totals
    );
    // One curl waited for the takeover (a SYN retransmitted after 1 s).
    assert!(d.totals.max_ms > 900.0, "{:?}", d.totals);
}

#[test]
fn an_atomic_write_that_fails_leaves_the_old_file_and_no_temporary() {
    let d = std::env::temp_dir().join(format!("lvslab-atomic-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    let path = d.join("out.pcap");
    crate::write_atomic(&path, b"old").expect("first write");
    let err = crate::write_atomic_with(&path, |w| {
        w.write_all(b"half")?;
        Err(std::io::Error::other("the run failed"))
    })
    .expect_err("the fill failed");
    assert!(
        err.contains("the run failed") && err.contains("out.pcap"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).expect("still there"), b"old");
    let names: Vec<_> = std::fs::read_dir(&d)
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["out.pcap"], "no temporary file left");
    crate::write_atomic_with(&path, |w| w.write_all(b"new")).expect("second write");
    assert_eq!(std::fs::read(&path).expect("replaced"), b"new");
    let _ = std::fs::remove_dir_all(&d);
}
