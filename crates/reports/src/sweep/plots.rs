//! Sweep charts, drawn from `results.csv` (so `--merge` needs nothing but
//! the point files): a line per group value, or for `kind = "sustainable"`
//! a bar per group with the highest x that met the limits.

use std::fmt::Write as _;
use std::path::Path;

use super::Plan;
use super::spec::PlotSpec;
use crate::charts::lines::Panel;
use crate::charts::{self, Lines, Series, color};
use crate::html::{self, Figure, esc};

/// Splits one CSV line (RFC 4180 quoting).
#[must_use]
pub fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// The table: header and rows.
struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn col(&self, name: &str) -> Option<usize> {
        self.head.iter().position(|h| h == name)
    }
}

fn ylabel(y: &str) -> &str {
    match y {
        "throughput_rps" => "successful responses/s",
        "ok" => "successful requests",
        "failed" => "failed requests",
        "fail_pct" => "failed requests (%)",
        "p50_ms" => "median response time (ms)",
        "p90_ms" => "p90 response time (ms)",
        "p99_ms" => "p99 response time (ms)",
        "max_ms" => "slowest response (ms)",
        "longest_gap_s" => "longest time without a response (s)",
        "imbalance" => "busiest server ÷ mean (connections)",
        _ => y,
    }
}

/// Series keyed by the group value plus any other axis that varies.
fn line_chart(plan: &Plan, t: &Table, p: &PlotSpec) -> Option<Lines> {
    let axes = &plan.spec.axes;
    let xa = axes.iter().find(|a| a.name == p.x)?;
    let numeric = xa.labels.iter().all(|l| l.parse::<f64>().is_ok());
    let (xc, yc) = (t.col(&p.x)?, t.col(&p.y)?);
    let others: Vec<usize> = axes
        .iter()
        .filter(|a| a.name != p.x && a.values.len() > 1)
        .filter_map(|a| t.col(&a.name))
        .collect();
    let mut series: Vec<Series> = Vec::new();
    for r in &t.rows {
        let name = if others.is_empty() {
            p.y.clone()
        } else {
            others
                .iter()
                .map(|&c| {
                    if Some(&t.head[c]) == p.group.as_ref() {
                        r[c].clone()
                    } else {
                        format!("{}={}", t.head[c], r[c])
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let x = if numeric {
            r[xc].parse().ok()?
        } else {
            #[expect(clippy::cast_precision_loss, reason = "category index")]
            let i = xa.labels.iter().position(|l| *l == r[xc])? as f64;
            i
        };
        let y: f64 = r[yc].parse().ok()?;
        match series.iter_mut().find(|s| s.name == name) {
            Some(s) => s.points.push((x, y)),
            None => {
                let mut s = Series::line(name, vec![(x, y)], color(series.len()));
                // Categories (schedulers, methods) read best as grouped bars.
                s.markers = numeric;
                s.bars = !numeric;
                series.push(s);
            }
        }
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Some(Lines {
        title: p.title.clone(),
        x_label: p.x_label.clone().unwrap_or_else(|| p.x.clone()),
        panels: vec![Panel {
            y_label: ylabel(&p.y).into(),
            series,
            y_max: None,
            integer: false,
        }],
        categories: (!numeric).then(|| xa.labels.clone()),
        legend_left: numeric,
        ..Lines::default()
    })
}

fn sustainable_chart(plan: &Plan, t: &Table, p: &PlotSpec) -> Option<Lines> {
    let axes = &plan.spec.axes;
    let xc = t.col(&p.x)?;
    let (p99c, failc) = (t.col("p99_ms")?, t.col("fail_pct")?);
    let group = p
        .group
        .as_ref()
        .and_then(|g| axes.iter().find(|a| &a.name == g));
    let cats: Vec<String> = group.map_or_else(|| vec!["all".into()], |g| g.labels.clone());
    let gc = p.group.as_ref().and_then(|g| t.col(g));
    let mut pts = Vec::new();
    for (i, c) in cats.iter().enumerate() {
        let best = t
            .rows
            .iter()
            .filter(|r| gc.is_none_or(|g| r[g] == *c))
            .filter(|r| {
                r[p99c].parse::<f64>().is_ok_and(|v| v <= p.max_p99_ms)
                    && r[failc].parse::<f64>().is_ok_and(|v| v <= p.max_fail_pct)
            })
            .filter_map(|r| r[xc].parse::<f64>().ok())
            .fold(0.0, f64::max);
        #[expect(clippy::cast_precision_loss, reason = "category index")]
        pts.push((i as f64, best));
    }
    let mut s = Series::line(
        format!(
            "highest {} with p99 ≤ {} ms and failures ≤ {} %",
            p.x, p.max_p99_ms, p.max_fail_pct
        ),
        pts,
        color(0),
    );
    s.bars = true;
    Some(Lines {
        title: p.title.clone(),
        x_label: p.group.clone().unwrap_or_default(),
        panels: vec![Panel {
            y_label: format!(
                "highest sustainable {}",
                p.x_label.as_deref().unwrap_or(&p.x)
            ),
            series: vec![s],
            y_max: None,
            integer: false,
        }],
        categories: Some(cats),
        ..Lines::default()
    })
}

/// Plots to draw: the sweep's, or defaults (p99, failures and throughput
/// against the first axis, grouped by the second).
fn specs(plan: &Plan) -> Vec<PlotSpec> {
    if !plan.spec.plots.is_empty() {
        return plan.spec.plots.clone();
    }
    let axes = &plan.spec.axes;
    let x = axes[axes.len().min(2) - 1].name.clone();
    let group = (axes.len() > 1).then(|| axes[0].name.clone());
    ["p99_ms", "fail_pct", "throughput_rps"]
        .into_iter()
        .map(|y| PlotSpec {
            title: format!("{} vs {x}", ylabel(y)),
            sustainable: false,
            x: x.clone(),
            y: y.into(),
            group: group.clone(),
            x_label: None,
            max_p99_ms: 100.0,
            max_fail_pct: 1.0,
        })
        .collect()
}

/// Draws the sweep's charts and `index.html`; returns the number of charts.
///
/// # Errors
/// A chart could not be drawn or a file written.
pub fn write(plan: &Plan, csv: &str, dir: &Path) -> Result<usize, String> {
    let mut lines = csv.lines();
    let head = split_csv(lines.next().unwrap_or(""));
    let rows: Vec<Vec<String>> = lines
        .map(split_csv)
        .filter(|r| r.len() == head.len())
        .collect();
    let t = Table { head, rows };
    let mut figs = Vec::new();
    for (i, p) in specs(plan).iter().enumerate() {
        let chart = if p.sustainable {
            sustainable_chart(plan, &t, p)
        } else {
            line_chart(plan, &t, p)
        };
        let Some(chart) = chart else {
            continue;
        };
        let id = format!("plot-{}", i + 1);
        let png = charts::render(&chart, dir, &id)?;
        figs.push(Figure {
            id,
            caption: p.title.clone(),
            png,
        });
    }
    let page = page(plan, &t, &figs);
    crate::write_atomic(&dir.join("index.html"), page.as_bytes())?;
    Ok(figs.len())
}

fn page(plan: &Plan, t: &Table, figs: &[Figure]) -> String {
    let s0 = &plan.spec;
    let mut s = html::head(&format!("lvslab sweep: {}", s0.name));
    let _ = writeln!(
        s,
        "<h1>lvslab sweep: {}</h1>\n<p>{}</p>",
        esc(&s0.name),
        esc(&s0.description)
    );
    let _ = writeln!(
        s,
        "<p>Base scenario <code>{}</code>, {} points ({}), results in <a href=\"results.csv\">results.csv</a>.</p>",
        esc(&s0.scenario.display().to_string()),
        plan.points.len(),
        esc(&s0
            .axes
            .iter()
            .map(|a| format!("{} × {}", a.values.len(), a.name))
            .collect::<Vec<_>>()
            .join(", "))
    );
    s.push_str("<h2>Charts</h2>\n");
    s.push_str(&html::figures(figs));
    s.push_str("<h2>Results</h2>\n<table><tr>");
    let skip = ["fingerprint", "server_conns"];
    let cols: Vec<usize> = (0..t.head.len())
        .filter(|&i| !skip.contains(&t.head[i].as_str()))
        .collect();
    for &i in &cols {
        let _ = write!(s, "<th>{}</th>", esc(&t.head[i]));
    }
    s.push_str("</tr>\n");
    for r in t.rows.iter().take(500) {
        s.push_str("<tr>");
        for &i in &cols {
            let _ = write!(s, "<td>{}</td>", esc(&r[i]));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table>\n");
    html::notes(
        &mut s,
        &[
            "Each point's seed is fnv1a64(\"<base seed>/<axis>=<value>/…\"): it depends only on the point's parameters.".into(),
            "imbalance = connections of the busiest real server ÷ the mean over real servers (1 = even).".into(),
            "throughput_rps = successful responses ÷ the time from the first to the last sample with one.".into(),
        ],
    );
    s.push_str("</body>\n</html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::split_csv;

    #[test]
    fn csv_quotes_round_trip() {
        assert_eq!(
            split_csv("a,\"b,c\",\"d\"\"e\","),
            vec!["a", "b,c", "d\"e", ""]
        );
    }
}
