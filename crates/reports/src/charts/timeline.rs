//! The VRRP / health timeline: one band per director (holds the VIP or
//! not), one per real server (in service, out of the table, down), a row of
//! failed requests, and the scenario's timed actions as dashed lines.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{AXIS, Draw, FAIL, FONT, LABEL, TITLE, err};
use crate::model::{MarkKind, RunData, ServerState};

const GREEN: RGBColor = RGBColor(44, 160, 44);
const ORANGE: RGBColor = RGBColor(255, 160, 30);
const GREY: RGBColor = RGBColor(215, 215, 215);
const DOWN: RGBColor = RGBColor(120, 20, 20);

/// The timeline chart of a run.
#[derive(Debug)]
pub struct Timeline<'a> {
    /// The run.
    pub data: &'a RunData,
}

/// Colour runs `(t0, t1, colour)`.
type Runs = Vec<(f64, f64, RGBColor)>;

/// A row: its name, the upper half's runs and the lower half's (a
/// director's row has one band: both halves alike).
type Row = (String, Runs, Runs);

/// Runs of equal values. The value read at sample `k` is drawn from `t[k]`
/// (the change happened at or just before it) to the next change.
fn runs<T: Copy + PartialEq>(t: &[f64], v: &[T], color: impl Fn(T) -> RGBColor) -> Runs {
    let mut out = Vec::new();
    let mut k = 0;
    while k < v.len() {
        let mut j = k;
        while j + 1 < v.len() && v[j + 1] == v[k] {
            j += 1;
        }
        let start = if k == 0 { 0.0 } else { t[k] };
        let end = t.get(j + 1).copied().unwrap_or(t[j]);
        out.push((start, end, color(v[k])));
        k = j + 1;
    }
    out
}

impl Timeline<'_> {
    fn rows(&self) -> Vec<Row> {
        let d = self.data;
        let mut rows = Vec::new();
        for (i, name) in d.directors.iter().enumerate() {
            let r = runs(&d.t, &d.vip_holder[i], |h| if h { GREEN } else { GREY });
            rows.push((format!("{name} (director): holds the VIP?"), r.clone(), r));
        }
        for (i, name) in d.servers.iter().enumerate() {
            let st = &d.server_state[i];
            let up = runs(&d.t, st, |s: ServerState| if s.up { GREEN } else { DOWN });
            let table = runs(
                &d.t,
                st,
                |s: ServerState| if s.in_table { GREEN } else { ORANGE },
            );
            rows.push((
                format!("{name} (real server): service above, in IPVS table below"),
                up,
                table,
            ));
        }
        rows
    }
}

impl Draw for Timeline<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let d = self.data;
        let rows = self.rows();
        let n = rows.len() + 1; // + failed requests
        let x1 = d.t.last().copied().unwrap_or(1.0).max(1e-3);
        let top = n as f64 + 1.6;
        let body = root
            .margin(14, 0, 0, 0)
            .titled(
                "Who holds the VIP, real server health, failed requests",
                (FONT, TITLE).into_font(),
            )
            .map_err(err)?;
        let (strip, body) = body.split_vertically(56);
        legend(&strip)?;
        let mut chart = ChartBuilder::on(&body)
            .margin_left(20)
            .margin_right(50)
            .x_label_area_size(95)
            .y_label_area_size(20)
            .build_cartesian_2d(0.0..x1, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .disable_y_axis()
            .x_desc("simulated time (s)")
            .axis_desc_style((FONT, AXIS))
            .label_style((FONT, LABEL))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()
            .map_err(err)?;
        let label = (FONT, LABEL).into_font();
        // Rows from the top: directors, servers, then failed requests.
        for (i, (name, upper, lower)) in rows.iter().enumerate() {
            let y = (n - i) as f64;
            chart
                .draw_series(
                    upper.iter().map(|&(a, b, c)| {
                        Rectangle::new([(a, y - 0.5), (b, y - 0.22)], c.filled())
                    }),
                )
                .map_err(err)?;
            chart
                .draw_series(
                    lower.iter().map(|&(a, b, c)| {
                        Rectangle::new([(a, y - 0.78), (b, y - 0.5)], c.filled())
                    }),
                )
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    name.clone(),
                    (x1 * 0.004, y - 0.02),
                    label.clone(),
                )))
                .map_err(err)?;
        }
        let fy = 1.0;
        chart
            .draw_series(std::iter::once(Text::new(
                "failed requests (×)".to_string(),
                (x1 * 0.004, fy - 0.02),
                label.clone(),
            )))
            .map_err(err)?;
        let fails: Vec<f64> = d
            .marks
            .iter()
            .filter(|m| m.kind == MarkKind::Failure)
            .map(|m| m.t)
            .collect();
        chart
            .draw_series(
                fails
                    .iter()
                    .map(|&t| Cross::new((t, fy - 0.5), 11, FAIL.stroke_width(4))),
            )
            .map_err(err)?;
        // VRRP and health changes: a tick on the host's row.
        for m in d
            .marks
            .iter()
            .filter(|m| matches!(m.kind, MarkKind::Vrrp | MarkKind::Health))
        {
            let Some(i) = rows
                .iter()
                .position(|r| r.0.starts_with(&format!("{} ", m.host)))
            else {
                continue;
            };
            let y = (n - i) as f64;
            chart
                .draw_series(std::iter::once(TriangleMarker::new(
                    (m.t, y - 0.22),
                    10,
                    BLACK.filled(),
                )))
                .map_err(err)?;
        }
        // Timed actions: dashed lines with staggered labels at the top.
        let actions: Vec<_> = d
            .marks
            .iter()
            .filter(|m| m.kind == MarkKind::Action)
            .collect();
        for (j, m) in actions.iter().enumerate() {
            let style = ShapeStyle::from(&RGBColor(70, 70, 70)).stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(m.t, 0.0), (m.t, n as f64 + 0.2)],
                    10,
                    8,
                    style,
                ))
                .map_err(err)?;
            let y = top - 0.05 - 0.45 * (j % 3) as f64;
            let text = format!("{}s {}: {}", super::lines::trim_num(m.t), m.host, m.text);
            chart
                .draw_series(std::iter::once(Text::new(
                    text,
                    (m.t, y),
                    (FONT, LABEL - 4).into_font(),
                )))
                .map_err(err)?;
        }
        Ok(())
    }
}

/// The legend as one row of swatches above the chart.
fn legend<DB: DrawingBackend>(strip: &DrawingArea<DB, Shift>) -> Result<(), String> {
    let entries = [
        ("VIP / up / in table", Some(GREEN)),
        ("out of the table", Some(ORANGE)),
        ("service down", Some(DOWN)),
        ("no VIP", Some(GREY)),
        ("failed request", None),
    ];
    let font = (FONT, LABEL).into_font();
    let mut x = 40i32;
    for (name, c) in entries {
        match c {
            Some(c) => strip
                .draw(&Rectangle::new([(x, 14), (x + 30, 40)], c.filled()))
                .map_err(err)?,
            None => strip
                .draw(&Cross::new((x + 15, 27), 11, FAIL.stroke_width(4)))
                .map_err(err)?,
        }
        strip
            .draw(&Text::new(name, (x + 40, 14), font.clone()))
            .map_err(err)?;
        let w = strip
            .estimate_text_size(name, &TextStyle::from(font.clone()))
            .map_err(err)?
            .0;
        x += 40 + i32::try_from(w).unwrap_or(200) + 36;
    }
    strip
        .draw(&TriangleMarker::new((x + 15, 27), 10, BLACK.filled()))
        .map_err(err)?;
    strip
        .draw(&Text::new("keepalived event", (x + 40, 14), font))
        .map_err(err)?;
    Ok(())
}
