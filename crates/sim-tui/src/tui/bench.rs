//! `lvslab bench` section for the TUI: frame render time and step-back
//! time on a long run (targets: a frame ≤ 5 ms, a step back ≤ 50 ms).

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;

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
    /// Worst and mean frame render time.
    pub frame: (Duration, Duration),
    /// Worst and mean time to rebuild the world at an earlier record.
    pub back: (Duration, Duration),
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
    // Step back: from the end to points spread over the run (each one a
    // full replay, the worst case), then one record back from there.
    let mut back = Vec::new();
    for k in (1..=10).rev() {
        app.cursor = n - 1;
        refresh(&mut app);
        let target = n * k / 11;
        let t0 = Instant::now();
        app.cursor = target;
        refresh(&mut app);
        back.push(t0.elapsed());
    }
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
    })
}

fn stats(v: &[Duration]) -> (Duration, Duration) {
    let max = v.iter().max().copied().unwrap_or_default();
    let sum: Duration = v.iter().sum();
    (max, sum / u32::try_from(v.len().max(1)).unwrap_or(1))
}

/// Prints the TUI figures.
pub fn run(quick: bool) {
    let n = if quick { 20_000 } else { 100_000 };
    match measure(n) {
        Ok(f) => println!(
            "tui ({} records, {} engine events): frame render max {:.2} ms mean {:.2} ms; step back (replay) max {:.1} ms mean {:.1} ms",
            f.records,
            f.events,
            f.frame.0.as_secs_f64() * 1e3,
            f.frame.1.as_secs_f64() * 1e3,
            f.back.0.as_secs_f64() * 1e3,
            f.back.1.as_secs_f64() * 1e3,
        ),
        Err(e) => eprintln!("tui bench: {e}"),
    }
}
