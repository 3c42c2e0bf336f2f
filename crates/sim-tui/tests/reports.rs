//! `lvslab report` and `lvslab sweep` as users run them: the HTML report in
//! headless Chromium, sweeps that repeat byte for byte, resume, and split
//! into one command per point.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

use common::{lvslab, root, tmpdir};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Debian's chromium, or `None` (then the test is skipped, except in CI,
/// where `.ci/run` installs it and a missing browser is a failure).
fn chromium() -> Option<&'static str> {
    let found = Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing in CI (scripts/install-deps installs it)"
        );
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
        return None;
    }
    Some("chromium")
}

/// Opens `page` in headless Chromium and returns the DOM after load.
fn dump_dom(browser: &str, page: &Path, profile: &Path) -> String {
    let o = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            &format!("--user-data-dir={}", s(profile)),
            "--virtual-time-budget=10000",
            "--dump-dom",
            &format!("file://{}", s(page)),
        ])
        .output()
        .expect("run chromium");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn report_opens_in_chromium_with_every_image_loaded() {
    let d = tmpdir("report");
    let out = d.join("nat");
    let (code, _, err) = lvslab(&["report", "scenarios/labs/nat.toml", "-o", s(&out)]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("wrote 13 files"), "{err}");
    let Some(browser) = chromium() else {
        return;
    };
    // A copy of index.html with a probe that counts images Chromium decoded
    // at their full size, plus every linked SVG.
    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    let svgs: String = [
        "connections",
        "throughput",
        "latency",
        "latency-distribution",
        "director",
        "timeline",
    ]
    .iter()
    .map(|id| format!("<img class=\"probe\" src=\"{id}.svg\">"))
    .collect();
    let probe = format!(
        "{svgs}<script>window.addEventListener('load', () => {{
  const imgs = [...document.images];
  const ok = imgs.filter(i => i.complete && i.naturalWidth === 1600 && i.naturalHeight === 900);
  document.body.setAttribute('data-images', ok.length + '/' + imgs.length);
}});</script></body>"
    );
    let page = out.join("probe.html");
    std::fs::write(&page, html.replace("</body>", &probe)).expect("write probe");
    let dom = dump_dom(browser, &page, &d.join("profile"));
    assert!(
        dom.contains("data-images=\"12/12\""),
        "not every image loaded: {}",
        &dom[..dom.len().min(600)]
    );
    assert!(dom.contains("lvslab report: nat"));
    // The probe can fail: a missing image is noticed.
    std::fs::remove_file(out.join("timeline.svg")).expect("remove");
    let dom = dump_dom(browser, &page, &d.join("profile2"));
    assert!(
        dom.contains("data-images=\"11/12\""),
        "{}",
        &dom[..dom.len().min(600)]
    );
}

/// A small sweep over the shipped base: 2 schedulers × 2 loads, 5 s each.
fn small_sweep(d: &Path) -> PathBuf {
    let base = root().join("scenarios/sweeps/base-4rs.toml");
    let text = format!(
        r#"[sweep]
name = "test"
scenario = "{}"

[[axis]]
name = "duration"
values = ["5s"]
set = "scenario.duration"

[[axis]]
name = "scheduler"
values = ["rr", "wlc"]
rewrite = "scheduler"

[[axis]]
name = "rate"
values = [300.0, 1500.0]
labels = ["300", "1500"]
set = "workload.rate"
"#,
        s(&base.canonicalize().expect("base scenario"))
    );
    let f = d.join("small.toml");
    std::fs::write(&f, text).expect("write sweep");
    f
}

#[test]
fn sweeps_repeat_resume_and_split_into_jobs() {
    let d = tmpdir("sweep");
    let f = small_sweep(&d);
    let (a, b, c) = (d.join("a"), d.join("b"), d.join("c"));
    let (code, _, err) = lvslab(&["sweep", s(&f), "-o", s(&a), "--jobs", "2", "--quiet"]);
    assert_eq!(code, 0, "{err}");
    // Both threads of the pool ran points.
    assert!(err.contains("ran 4 points on 2 of 2 threads"), "{err}");
    let (code, _, err) = lvslab(&["sweep", s(&f), "-o", s(&b), "--jobs", "1", "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let csv_a = std::fs::read_to_string(a.join("results.csv")).expect("results a");
    let csv_b = std::fs::read_to_string(b.join("results.csv")).expect("results b");
    assert_eq!(csv_a, csv_b, "same sweep, different results");
    let rows: Vec<&str> = csv_a.lines().collect();
    assert_eq!(rows.len(), 5, "{csv_a}");
    assert!(
        rows[0].starts_with("point,duration,scheduler,rate,seed,fingerprint,requests,ok,failed")
    );
    assert!(rows[4].starts_with("3,5s,wlc,1500,"), "{csv_a}");
    assert!(
        a.join("index.html").exists()
            && a.join("plot-1.png").exists()
            && a.join("plot-1.svg").exists()
    );

    // One point, pulled out and run on its own, gives its row's numbers.
    let (code, text, err) = lvslab(&["sweep", s(&f), "-o", s(&a), "--show-point", "3"]);
    assert_eq!(code, 0, "{err}");
    let seed = rows[4].split(',').nth(4).expect("seed column");
    assert!(
        text.contains(&format!("lvslab run FILE --seed {seed}")),
        "{text}"
    );
    let p3 = d.join("point3.toml");
    std::fs::write(&p3, &text).expect("write point 3");
    let (code, out, err) = lvslab(&["run", s(&p3), "--seed", seed]);
    assert_eq!(code, 0, "{err}");
    let cols: Vec<&str> = rows[4].split(',').collect();
    let want = format!("requests: {} sent, {} ok", cols[6], cols[7]);
    assert!(out.contains(&want), "{want} not in {out}");

    // Resume: a finished point is not run again, a missing one is.
    let p0 = a.join("points/0000.csv");
    let marked = format!("{}# kept\n", std::fs::read_to_string(&p0).expect("point 0"));
    std::fs::write(&p0, &marked).expect("mark point 0");
    std::fs::remove_file(a.join("points/0002.csv")).expect("drop point 2");
    let (code, _, err) = lvslab(&["sweep", s(&f), "-o", s(&a), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("resuming: 3 of 4 points already finished"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&p0).expect("point 0"), marked);
    assert_eq!(
        std::fs::read_to_string(a.join("results.csv")).expect("results"),
        csv_a
    );

    // Beyond one machine: one command per point, then --merge.
    let (code, jobs, _) = lvslab(&["sweep", s(&f), "-o", s(&c), "--emit-jobs"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = jobs.lines().collect();
    assert_eq!(lines.len(), 4, "{jobs}");
    let (code, _, err) = lvslab(&["sweep", s(&f), "-o", s(&c), "--merge"]);
    assert_eq!(code, 1, "merge before the points ran must fail");
    assert!(err.contains("4 of 4 points are missing"), "{err}");
    for l in &lines {
        let words: Vec<&str> = l.split_whitespace().collect();
        assert_eq!(words[0], "lvslab");
        let (code, _, err) = lvslab(&words[1..]);
        assert_eq!(code, 0, "{l}: {err}");
    }
    let (code, jobs_left, _) = lvslab(&["sweep", s(&f), "-o", s(&c), "--emit-jobs"]);
    assert_eq!((code, jobs_left.as_str()), (0, ""));
    let (code, _, err) = lvslab(&["sweep", s(&f), "-o", s(&c), "--merge"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(c.join("results.csv")).expect("merged"),
        csv_a
    );
}

#[test]
fn sweep_errors_name_the_file_and_the_fix() {
    let d = tmpdir("bad");
    let f = d.join("bad.toml");
    std::fs::write(&f, "[sweep]\nname = \"x\"\nscenario = \"nope.toml\"\n[[axis]]\nname = \"a\"\nvalues = [1]\nrewrite = \"colour\"\n").expect("write");
    let (code, _, err) = lvslab(&["sweep", s(&f), "-o", s(&d.join("o"))]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown rewrite \"colour\"") && err.contains("hint:"),
        "{err}"
    );
    let f2 = small_sweep(&d);
    let (code, _, err) = lvslab(&["sweep", s(&f2), "-o", s(&d.join("o")), "--point", "9"]);
    assert_eq!(code, 2);
    assert!(err.contains("the sweep has 4 points"), "{err}");
}
