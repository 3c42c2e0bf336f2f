//! `lvslab check`: scenario regression. Runs every scenario that has
//! `[[expect]]` tables, prints a pass/fail report, writes JUnit XML.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sim_core::scenario::expect::{self, Check, CheckResult};
use sim_core::trace::TraceLevel;

use sim_core::lint;

use crate::{Fail, files};

/// Golden files, relative to the scenario's folder.
struct Goldens<'a>(&'a Path);

impl Check for Goldens<'_> {
    fn golden(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.0.join(path)).ok()
    }
}

/// Every `*.toml` under `p` (sorted), skipping `invalid/` fixture folders
/// when walking a directory.
fn collect(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), Fail> {
    if p.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    let rd = std::fs::read_dir(p)
        .map_err(|e| Fail(2, format!("lvslab: cannot read {}: {e}", p.display())))?;
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            if e.file_name().is_some_and(|n| n == "invalid") {
                continue;
            }
            collect(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "toml") && !reports::sweep::is_sweep_file(&e) {
            // (sweep files for `lvslab sweep` live beside the scenarios)
            out.push(e);
        }
    }
    Ok(())
}

/// One scenario's results.
struct Suite {
    file: String,
    seed: u64,
    results: Vec<CheckResult>,
    error: Option<String>,
}

fn run_one(path: &Path, update: bool) -> Result<Option<Suite>, Fail> {
    let file = path.display().to_string();
    let text = files::read(path)?;
    let mut sc = match sim_core::scenario::load(&file, &text, TraceLevel::Events, None) {
        Ok(sc) => sc,
        Err(e) => {
            return Ok(Some(Suite {
                file,
                seed: 0,
                results: vec![],
                error: Some(e.to_string()),
            }));
        }
    };
    if sc.expectations.is_empty() {
        return Ok(None);
    }
    if sc
        .expectations
        .iter()
        .any(expect::Expectation::needs_full_trace)
    {
        sc = sim_core::scenario::load(&file, &text, TraceLevel::Full, None)
            .map_err(|e| Fail(2, e.to_string()))?;
    }
    // Findings a `lint` expectation asks for are the lesson's point, not news.
    for l in lint::lint(&sc)
        .iter()
        .filter(|f| !sc.expectations.iter().any(|e| e.expects_finding(f)))
    {
        eprintln!("{file}: lint: {}", l.one_line());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let seed = sc.world.seed;
    let mut results = expect::run_checks(&mut sc, &Goldens(dir));
    if update {
        for r in &mut results {
            if let (Some(_), Some((rel, actual))) = (&r.failure, &r.actual) {
                let target = dir.join(rel);
                if let Some(d) = target.parent() {
                    std::fs::create_dir_all(d).map_err(|e| {
                        Fail(2, format!("lvslab: cannot create {}: {e}", d.display()))
                    })?;
                }
                files::write_atomic(&target, actual.as_bytes())?;
                eprintln!("updated {}", target.display());
                r.failure = None;
            }
        }
    }
    Ok(Some(Suite {
        file,
        seed,
        results,
        error: None,
    }))
}

fn report(s: &Suite) -> String {
    let mut o = String::new();
    if let Some(e) = &s.error {
        let _ = writeln!(o, "FAIL {}: does not load\n  {e}", s.file);
        return o;
    }
    let failed = s.results.iter().filter(|r| r.failure.is_some()).count();
    let _ = writeln!(
        o,
        "{} {} ({} expectations, seed {})",
        if failed == 0 { "ok  " } else { "FAIL" },
        s.file,
        s.results.len(),
        s.seed
    );
    for r in &s.results {
        let Some(f) = &r.failure else { continue };
        let _ = writeln!(o, "  {}:{}: {}", s.file, r.expect.line, r.expect.describe());
        for l in f.lines() {
            let _ = writeln!(o, "      {l}");
        }
        if let Some(n) = &r.expect.note {
            let _ = writeln!(o, "      why it matters: {n}");
        }
        let _ = writeln!(
            o,
            "      reproduce: lvslab run {} --seed {} --trace text",
            s.file, s.seed
        );
    }
    o
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn junit(suites: &[Suite]) -> String {
    let mut o = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"lvslab check\">\n",
    );
    for s in suites {
        let n = s.results.len().max(usize::from(s.error.is_some()));
        let failures = s.results.iter().filter(|r| r.failure.is_some()).count()
            + usize::from(s.error.is_some());
        let _ = writeln!(
            o,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{failures}\">",
            xml(&s.file)
        );
        if let Some(e) = &s.error {
            let _ = writeln!(
                o,
                "    <testcase name=\"load\"><failure message=\"{}\"/></testcase>",
                xml(e)
            );
        }
        for r in &s.results {
            let name = xml(&format!("line {}: {}", r.expect.line, r.expect.describe()));
            match &r.failure {
                None => {
                    let _ = writeln!(o, "    <testcase name=\"{name}\"/>");
                }
                Some(f) => {
                    let _ = writeln!(
                        o,
                        "    <testcase name=\"{name}\"><failure message=\"{}\">{}</failure></testcase>",
                        xml(f.lines().next().unwrap_or("")),
                        xml(f)
                    );
                }
            }
        }
        o.push_str("  </testsuite>\n");
    }
    o.push_str("</testsuites>\n");
    o
}

/// `lvslab check [PATH...] [--junit FILE] [--update]`.
pub fn run(paths: &[PathBuf], junit_out: Option<&Path>, update: bool) -> Result<u8, Fail> {
    let mut all = Vec::new();
    let default = [PathBuf::from("scenarios")];
    for p in if paths.is_empty() {
        &default[..]
    } else {
        paths
    } {
        collect(p, &mut all)?;
    }
    let mut suites = Vec::new();
    let mut skipped = 0;
    for p in &all {
        match run_one(p, update)? {
            Some(s) => {
                print!("{}", report(&s));
                suites.push(s);
            }
            None => skipped += 1,
        }
    }
    let total: usize = suites.iter().map(|s| s.results.len()).sum();
    let failed: usize = suites
        .iter()
        .map(|s| {
            s.results.iter().filter(|r| r.failure.is_some()).count()
                + usize::from(s.error.is_some())
        })
        .sum();
    println!(
        "\n{} scenarios checked ({skipped} without expectations skipped), {total} expectations, {failed} failed",
        suites.len()
    );
    if let Some(j) = junit_out {
        files::write_atomic(j, junit(&suites).as_bytes())?;
    }
    Ok(u8::from(failed > 0))
}
