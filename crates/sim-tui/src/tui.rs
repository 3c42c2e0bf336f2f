//! `lvslab tui SCENARIO`: the classroom packet-flow view.
//!
//! Structure (event → action → update → view, as in ratatui's templates):
//!
//! ```text
//!  crossterm event ─▶ action::from_event ─▶ Action ─▶ update::update(&mut App)
//!                                                          │
//!        term::run (loop, pacing) ◀── view::view(&App) ◀───┘
//! ```
//!
//! [`timeline::Timeline`] records the run and rebuilds the world exactly at
//! any record (deterministic replay), so stepping back is exact.

pub mod action;
pub mod app;
pub mod bench;
pub mod classify;
pub mod explain;
pub mod term;
pub mod timeline;
pub mod update;
pub mod view;

#[cfg(test)]
mod tests;

use app::App;
use explain::Lang;
use timeline::{Source, Timeline};

/// At most this many records are computed before the UI opens.
const PREFETCH: usize = 50_000;

/// Builds the app for a scenario text.
///
/// # Errors
/// The scenario's error message.
pub fn open(file: &str, text: &str, seed: Option<u64>, lang: Lang) -> Result<App, String> {
    let tl = Timeline::open(Source {
        file: file.to_string(),
        text: text.to_string(),
        seed,
    })?;
    let mut tl = tl;
    tl.prefetch(PREFETCH);
    let mut app = App::new(tl, lang);
    // Start right after setup: the first thing the user sees is time zero.
    app.cursor = app
        .tl
        .entries
        .iter()
        .rposition(|e| e.pos.step == 0)
        .unwrap_or(0);
    update::refresh(&mut app);
    Ok(app)
}

/// Runs the TUI on a scenario file's text.
///
/// # Errors
/// A bad scenario or a terminal error, as a message.
pub fn run(file: &str, text: &str, seed: Option<u64>, lang: Lang) -> Result<(), String> {
    let mut app = open(file, text, seed, lang)?;
    term::run(&mut app).map_err(|e| format!("lvslab tui: terminal error: {e}"))
}
