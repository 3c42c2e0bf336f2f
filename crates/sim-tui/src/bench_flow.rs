//! `lvslab bench`, flow part: the lb-mm reference model
//! (`scenarios/bench/lb-mm.toml`) timed at 1 M requests (best and median
//! of five runs), and its peak
//! memory at 1 M and 10 M requests, each measured in a fresh child process
//! (`lvslab bench --lb-mm N`) so that nothing else counts in its `VmHWM`.

use std::process::Command;
use std::time::Instant;

use sim_core::flow;
use sim_core::scenario;
use sim_core::trace::TraceLevel;

const LB_MM: &str = include_str!("../../../scenarios/bench/lb-mm.toml");

/// One lb-mm run with `requests` requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct LbMm {
    /// Wall time of the run (s).
    pub wall_s: f64,
    /// CPU time of the run (s), from `/proc/thread-self/schedstat` (the
    /// machine may be shared: CPU time is the figure to compare).
    pub cpu_s: f64,
    /// Model events handled.
    pub events: u64,
    /// Mean response time (ms).
    pub mean_ms: f64,
    /// 99th percentile (ms).
    pub p99_ms: f64,
    /// Peak resident memory of the process (KiB), if known.
    pub peak_kib: Option<u64>,
}

/// Runs lb-mm with `requests` requests in this process.
///
/// # Errors
/// The scenario does not load or run (a message for the user).
pub fn lb_mm(requests: u64) -> Result<LbMm, String> {
    let mut sc = scenario::load("scenarios/bench/lb-mm.toml", LB_MM, TraceLevel::Off, None)
        .map_err(|e| e.to_string())?;
    if let Some(cfg) = sc.flow.as_mut() {
        for w in &mut cfg.workloads {
            w.requests = Some(requests);
        }
    }
    let c0 = cpu_ns();
    let t0 = Instant::now();
    let out = flow::run_scenario(&mut sc).map_err(|e| e.to_string())?;
    let wall_s = t0.elapsed().as_secs_f64();
    #[expect(clippy::cast_precision_loss, reason = "seconds for display")]
    let cpu_s = match (c0, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e9,
        _ => wall_s,
    };
    let l = &out.metrics.service.latency;
    #[expect(clippy::cast_precision_loss, reason = "ms for display")]
    let p99_ms = l.p99_ns as f64 / 1e6;
    Ok(LbMm {
        wall_s,
        cpu_s,
        events: out.metrics.run.events,
        mean_ms: l.mean_ns / 1e6,
        p99_ms,
        peak_kib: crate::bench::peak_rss_kib(),
    })
}

/// The child side: one run, one line `lb-mm requests=N wall_s=… events=… mean_ms=… p99_ms=… peak_kib=…`.
pub fn child(requests: u64) -> Result<(), String> {
    let r = lb_mm(requests)?;
    println!(
        "lb-mm requests={requests} wall_s={:.6} cpu_s={:.6} events={} mean_ms={:.6} p99_ms={:.6} peak_kib={}",
        r.wall_s,
        r.cpu_s,
        r.events,
        r.mean_ms,
        r.p99_ms,
        r.peak_kib.unwrap_or(0)
    );
    Ok(())
}

/// CPU time of this thread so far (ns), Linux only. The kernel brings a
/// running thread's figure up to date only at a scheduler tick or a
/// switch: a yield first makes it exact to the nanosecond, not the tick.
fn cpu_ns() -> Option<u64> {
    std::thread::yield_now();
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn parse_child(line: &str) -> Option<LbMm> {
    let get = |k: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
    };
    Some(LbMm {
        wall_s: get("wall_s")?.parse().ok()?,
        cpu_s: get("cpu_s")?.parse().ok()?,
        events: get("events")?.parse().ok()?,
        mean_ms: get("mean_ms")?.parse().ok()?,
        p99_ms: get("p99_ms")?.parse().ok()?,
        peak_kib: get("peak_kib")?.parse().ok().filter(|k| *k > 0),
    })
}

/// lb-mm with `requests` in a child process (falls back to this process).
fn measured(requests: u64) -> Result<LbMm, String> {
    let spawned = std::env::current_exe().ok().and_then(|exe| {
        Command::new(exe)
            .args(["bench", "--lb-mm", &requests.to_string()])
            .output()
            .ok()
    });
    match spawned {
        Some(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            text.lines()
                .find_map(parse_child)
                .ok_or_else(|| format!("lb-mm child printed no result: {text}"))
        }
        Some(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
        None => lb_mm(requests),
    }
}

#[expect(clippy::cast_precision_loss, reason = "rates for display")]
fn print(label: &str, requests: u64, r: &LbMm) {
    let mem = r
        .peak_kib
        .map_or_else(|| "?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    println!(
        "lb-mm (flow fidelity{label}) {requests} requests: {:.3} s wall, {:.3} s CPU, {} model events, {:.1} M events/s per CPU second, mean {:.3} ms, p99 {:.3} ms, peak memory (VmHWM, whole process) {mem}",
        r.wall_s,
        r.cpu_s,
        r.events,
        r.events as f64 / r.cpu_s.max(1e-9) / 1e6,
        r.mean_ms,
        r.p99_ms
    );
}

/// Timed lb-mm runs at 1 M requests: the machine may be shared, so the
/// speed figure is the best of [`RUNS`] runs (each a fresh process; the
/// least disturbed one), printed with the median.
pub const RUNS: usize = 5;

/// The flow benchmarks: lb-mm at 1 M (100 k with `quick`) timed
/// [`RUNS`] times, and the memory figure at 10 M (1 M with `quick`).
#[expect(clippy::cast_precision_loss, reason = "rates for display")]
pub fn run(quick: bool) {
    let (small, big) = if quick {
        (100_000, 1_000_000)
    } else {
        (1_000_000, 10_000_000)
    };
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        match measured(small) {
            Ok(r) => runs.push(r),
            Err(e) => {
                eprintln!("lb-mm: {e}");
                return;
            }
        }
    }
    runs.sort_by(|a, b| a.cpu_s.total_cmp(&b.cpu_s));
    if let (Some(best), Some(median)) = (runs.first(), runs.get(runs.len() / 2)) {
        print(&format!(", best of {RUNS}"), small, best);
        println!(
            "lb-mm: median of the {RUNS} runs {:.3} s CPU = {:.1} M events/s",
            median.cpu_s,
            median.events as f64 / median.cpu_s.max(1e-9) / 1e6
        );
    }
    match measured(big) {
        Ok(r) => print(", memory run", big, &r),
        Err(e) => eprintln!("lb-mm: {e}"),
    }
}
