//! The event log: time, host, kind, summary; follows the cursor.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget};

use sim_core::trace::{TraceKind, TraceRecord};

use super::topology::color;
use crate::tui::app::{App, Focus};

/// How many records a frame looks at around the selection.
const SCAN: usize = 5_000;

/// The record indices shown in `rows` rows (filtered), around the
/// selection, which sits about two thirds down.
#[must_use]
pub fn window(app: &App, rows: usize) -> Vec<usize> {
    let es = &app.tl.entries;
    if rows == 0 || es.is_empty() {
        return vec![];
    }
    let sel = app.log_sel.unwrap_or(app.cursor).min(es.len() - 1);
    let want_above = rows * 2 / 3;
    let mut above = Vec::new();
    let mut i = sel;
    // Bounded scans keep a frame cheap when the filter matches rarely.
    let floor = sel.saturating_sub(SCAN);
    while above.len() < want_above && i > floor {
        i -= 1;
        if app.lab.matches(&app.filter, &es[i].rec) {
            above.push(i);
        }
    }
    above.reverse();
    above.push(sel);
    let mut j = sel + 1;
    while above.len() < rows && j < es.len().min(sel + SCAN) {
        if app.lab.matches(&app.filter, &es[j].rec) {
            above.push(j);
        }
        j += 1;
    }
    above
}

/// Splits a record's text into (kind word, the rest).
#[must_use]
pub fn summary(r: &TraceRecord) -> (String, String) {
    let s = r.to_string();
    let prefix = format!("t={} {} ", r.t, r.host);
    let body = s.strip_prefix(&prefix).unwrap_or(&s);
    match body.split_once(' ') {
        Some((k, rest)) => (k.to_string(), rest.to_string()),
        None => (body.to_string(), String::new()),
    }
}

fn row_style(app: &App, r: &TraceRecord) -> Style {
    if let Some(f) = r.kind.frame() {
        return Style::new().fg(color(app.lab.kind(f)));
    }
    match r.kind {
        TraceKind::Drop { .. } => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        TraceKind::Ipvs { .. } => Style::new()
            .fg(Color::LightGreen)
            .add_modifier(Modifier::BOLD),
        TraceKind::Keepalived { .. } => {
            Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD)
        }
        TraceKind::Command { .. } => Style::new().fg(Color::DarkGray),
        _ => Style::new().fg(Color::Gray),
    }
}

/// The record under (x, y), if the click fell on a log row.
#[must_use]
pub fn hit(app: &App, area: Rect, x: u16, y: u16) -> Option<usize> {
    let inner = Block::new().borders(Borders::ALL).inner(area);
    if !inner.contains(Position { x, y }) {
        return None;
    }
    let rows = window(app, usize::from(inner.height));
    rows.get(usize::from(y - inner.y)).copied()
}

/// Draws the log.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let focused = app.focus == Focus::Log;
    let title = format!(
        " {} ({}) ",
        app.lang.pick("Events", "事件"),
        super::filter_name(app)
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .title(title)
        .border_style(super::border(focused));
    let inner = block.inner(area);
    let lines: Vec<Line> = window(app, usize::from(inner.height))
        .into_iter()
        .map(|i| {
            let r = &app.tl.entries[i].rec;
            let (k, rest) = summary(r);
            let mut st = row_style(app, r);
            if i == app.cursor {
                st = st.add_modifier(Modifier::REVERSED);
            } else if Some(i) == app.log_sel {
                st = st.add_modifier(Modifier::UNDERLINED);
            }
            Line::from(vec![
                Span::styled(format!("{:>12} ", r.t.to_string()), st),
                Span::styled(format!("{:<7.7} ", r.host), st),
                Span::styled(format!("{k:<11.11} "), st.add_modifier(Modifier::BOLD)),
                Span::styled(rest, st),
            ])
        })
        .collect();
    Paragraph::new(lines).block(block).render(area, buf);
}
