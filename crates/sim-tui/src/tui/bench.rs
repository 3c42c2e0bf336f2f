//! `lvslab bench` section for the TUI: frame render time and step-back
//! time on a long run (targets: a frame ≤ 5 ms, a step back ≤ 50 ms).

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::app::App;
use super::explain::Lang;
use super::update::refresh;
use super::view::view;

const SCENARIO: &str = include_str!("../../../../scenarios/bench/dr-8rs.toml");

/// Measured figures.
#[derive(Clone, Copy, Debug)]
pub struct Figures {
    /// Records in the run.
    pub records: usize,
    /// Engine events in the run.
    pub events: u64,
    /// Frame render time: worst, median, 95th percentile.
    pub frame: (Duration, Duration, Duration),
    /// Time to step back to an earlier record (worst, median, p95), with the
    /// checkpoints rebuilt (as they are after a moment of idle time).
    pub back: (Duration, Duration, Duration),
    /// The same with no checkpoint at all (full replay from time zero).
    pub replay: (Duration, Duration, Duration),
    /// Checkpoints parked over the run.
    pub checkpoints: usize,
    /// Wall time to rebuild every checkpoint from scratch (idle time).
    pub rebuild: Duration,
}

/// Builds a run of at least `records` records and measures it.
///
/// # Errors
/// If the bench scenario does not load.
pub fn measure(records: usize) -> Result<Figures, String> {
    let mut app = super::open("scenarios/bench/dr-8rs.toml", SCENARIO, None, Lang::En)?;
    app.tl.ensure(records);
    let n = app.tl.entries.len();
    let events = app.tl.entries.last().map_or(0, |e| e.pos.step);
    let t0 = Instant::now();
    while app.tl.maintain(u64::MAX).map_err(|e| e.clone())? {}
    let rebuild = t0.elapsed();
    let checkpoints = app.tl.checkpoints();
    let back = step_backs(&mut app, n, true)?;
    let replay = step_backs(&mut app, n, false)?;
    let mut term = Terminal::new(TestBackend::new(120, 40)).map_err(|e| e.to_string())?;
    let mut frames = Vec::new();
    for k in 0..200 {
        app.cursor = n * k / 200;
        refresh(&mut app);
        let t0 = Instant::now();
        term.draw(|f| view(&app, f)).map_err(|e| e.to_string())?;
        frames.push(t0.elapsed());
    }
    Ok(Figures {
        records: n,
        events,
        frame: stats(&frames),
        back: stats(&back),
        replay: stats(&replay),
        checkpoints,
        rebuild,
    })
}

/// From the end of the run back to ten points spread over it; between
/// two measurements the checkpoints are rebuilt (or all dropped).
fn step_backs(app: &mut App, n: usize, ckpts: bool) -> Result<Vec<Duration>, String> {
    let mut v = Vec::new();
    for k in (1..=10).rev() {
        app.cursor = n - 1;
        refresh(app);
        if ckpts {
            while app.tl.maintain(u64::MAX)? {}
        } else {
            app.tl.drop_checkpoints();
        }
        let t0 = Instant::now();
        app.cursor = n * k / 11;
        refresh(app);
        v.push(t0.elapsed());
    }
    Ok(v)
}

/// (max, median, 95th percentile).
fn stats(v: &[Duration]) -> (Duration, Duration, Duration) {
    let mut v = v.to_vec();
    v.sort_unstable();
    let at = |q: usize| {
        v.get((v.len() * q / 100).min(v.len().saturating_sub(1)))
            .copied()
    };
    (
        v.last().copied().unwrap_or_default(),
        at(50).unwrap_or_default(),
        at(95).unwrap_or_default(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Prints the TUI figures.
pub fn run(quick: bool) {
    let n = if quick { 20_000 } else { 100_000 };
    match measure(n) {
        Ok(f) => println!(
            "tui ({} records, {} engine events): frame render median {:.2} ms p95 {:.2} ms max {:.2} ms; step back median {:.1} ms max {:.1} ms ({} checkpoints, rebuilt in {:.0} ms of idle time); without checkpoints (full replay) median {:.1} ms max {:.1} ms",
            f.records,
            f.events,
            ms(f.frame.1),
            ms(f.frame.2),
            ms(f.frame.0),
            ms(f.back.1),
            ms(f.back.0),
            f.checkpoints,
            ms(f.rebuild),
            ms(f.replay.1),
            ms(f.replay.0),
        ),
        Err(e) => eprintln!("tui bench: {e}"),
    }
}
