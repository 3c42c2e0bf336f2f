//! `lvslab bench`: measured, not asserted. Figures go in the README.

use std::time::Instant;

use sim_core::engine::EventQueue;
use sim_core::rng::{self, RngCore};
use sim_core::scenario;
use sim_core::time::{SimDuration, SimTime};
use sim_core::trace::TraceLevel;

/// Peak resident memory of this process in KiB (Linux `VmHWM`).
pub fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

#[expect(clippy::cast_precision_loss, reason = "rates for display")]
fn queue_bench(n: u64) {
    // A realistic mix: a standing population of pending events (timers and
    // packets in flight) and a hold model: pop one, push one later.
    let mut q: EventQueue<u64> = EventQueue::new();
    let mut r = rng::stream(1, "bench/queue");
    let population = 10_000;
    for i in 0..population {
        q.push(SimTime(r.next_u64() % 1_000_000), i);
    }
    // The delays are drawn beforehand (2^20 of them, reused in turn) so the
    // timed loop measures the queue, not the random number generator.
    let delays: Vec<u64> = (0..1u32 << 20)
        .map(|_| 1 + r.next_u64() % 1_000_000)
        .collect();
    let mask = delays.len() - 1;
    let t0 = Instant::now();
    let mut sum = 0u64;
    for i in 0..n {
        let Some((t, v)) = q.pop() else { break };
        sum = sum.wrapping_add(v);
        #[expect(clippy::cast_possible_truncation, reason = "masked index")]
        q.push(SimTime(t.0 + delays[(i as usize) & mask]), v);
    }
    let dt = t0.elapsed().as_secs_f64();
    println!(
        "event queue (hold model, {population} pending, delays drawn beforehand): {n} pop+push in {dt:.3} s = {:.1} M events/s (checksum {})",
        n as f64 / dt / 1e6,
        sum % 1000
    );
}

#[expect(clippy::cast_precision_loss, reason = "rates for display")]
fn packet_bench(conns: u64) {
    let text = include_str!("../../../scenarios/bench/dr-8rs.toml");
    let mut sc = match scenario::load("scenarios/bench/dr-8rs.toml", text, TraceLevel::Off, None) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    // A million results are counted, not kept.
    sc.world.keep_curl_results = false;
    // 64 client loops back to back (no sleep), until `conns` curls finished.
    let t0 = Instant::now();
    let mut done = 0u64;
    let mut t = SimTime::ZERO;
    while done < conns {
        t += SimDuration::from_millis(100);
        sc.world.step_until(t);
        done = sc.world.apps.iter().map(|a| a.tally.total()).sum();
        if sc.world.queue.is_empty() {
            break;
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    let ok: u64 = sc.world.apps.iter().map(|a| a.tally.ok).sum();
    println!(
        "packet-level LVS-DR, 8 real servers: {done} HTTP connections ({ok} ok) in {dt:.3} s wall, {:.2} M events/s, {:.0} conns/s, simulated {t}",
        sc.world.events_handled as f64 / dt / 1e6,
        done as f64 / dt
    );
}

/// Runs the benchmarks and prints figures.
pub fn run(quick: bool) {
    let (q, c) = if quick {
        (2_000_000, 10_000)
    } else {
        (50_000_000, 1_000_000)
    };
    println!(
        "lvslab bench ({} build)",
        if cfg!(debug_assertions) {
            "debug — use --release for real figures"
        } else {
            "release"
        }
    );
    queue_bench(q);
    crate::bench_flow::run(quick);
    packet_bench(c);
    crate::tui::bench::run(quick);
    if let Some(kib) = peak_rss_kib() {
        println!("peak memory (VmHWM): {:.1} MiB", kib as f64 / 1024.0);
    }
}
