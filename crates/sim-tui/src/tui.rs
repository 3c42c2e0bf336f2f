//! `lvslab tui SCENARIO [--lang en|zh]`: the classroom packet-flow view.
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
//! any record (deterministic replay from parked checkpoint worlds), so
//! stepping back is exact, not an approximation.
//!
//! Keys: space play/pause · → n l one event forward · ← p h one event back
//! · + − speed · g jump to a time · f filter (all, ARP, TCP, VRRP, checks,
//! the selected connection) · tab/shift-tab panes (log, inspector, host) ·
//! i inspector · o host view of the event's host · [ ] other hosts · ↑ ↓ j
//! move in the log, Enter jumps there · Home/End · k inject a fault · t
//! English/中文 · ? help · q or Ctrl-C quit. Mouse: click a host box for its
//! view, a log line to jump to it, wheel to scroll.
//!
//! What the view simplifies (also stated in the help):
//! - one step is one trace record; the host view at a record shows the
//!   hosts after the whole engine event that produced it (a host handles a
//!   frame in one instant, as the engine does);
//! - packet colours are inferred: ARP and VRRP by protocol, *check* for TCP
//!   or UDP between a director's own (non-VIP) address and another host,
//!   otherwise *request* when the destination port is below the source
//!   port and *reply* when not;
//! - a fault (`k`) runs its command right after the selected engine event;
//!   the rest of the run is recomputed from there (replays include it).

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
