//! `lvslab report`: the charts of one run and an `index.html` that shows
//! them with a summary table.

use std::path::Path;

use crate::charts::lines::Panel;
use crate::charts::timeline::Timeline;
use crate::charts::{self, FAIL, Lines, Series, byte_unit, color};
use crate::html::{self, Figure};
use crate::model::{MarkKind, RunData};

/// The charts of a report, in page order: (file id, caption).
pub const CHARTS: [(&str, &str); 6] = [
    ("connections", "Connections per real server"),
    ("throughput", "Throughput"),
    ("latency", "Latency over time"),
    ("latency-distribution", "Latency distribution"),
    ("director", "Director load"),
    ("timeline", "VRRP / health timeline"),
];

fn series_t(t: &[f64], v: impl Iterator<Item = f64>) -> Vec<(f64, f64)> {
    t.iter().copied().zip(v).collect()
}

fn action_marks(d: &RunData) -> Vec<(f64, String)> {
    d.marks
        .iter()
        .filter(|m| m.kind == MarkKind::Action)
        .map(|m| (m.t, format!("{}: {}", m.host, short(&m.text))))
        .collect()
}

fn short(s: &str) -> String {
    if s.chars().count() > 28 {
        format!("{}…", s.chars().take(27).collect::<String>())
    } else {
        s.to_string()
    }
}

#[expect(clippy::cast_precision_loss, reason = "connection counts")]
fn connections(d: &RunData) -> Lines {
    let per = |v: &Vec<Vec<u64>>| -> Vec<Series> {
        d.servers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Series::line(
                    s.clone(),
                    series_t(&d.t, v[i].iter().map(|&x| x as f64)),
                    color(i),
                )
            })
            .collect()
    };
    Lines {
        title: format!(
            "Connections per real server ({}, ipvsadm -Ln)",
            d.meta.scheduler
        ),
        x_label: "simulated time (s)".into(),
        panels: vec![
            Panel {
                y_label: "ActiveConn (connections)".into(),
                series: per(&d.active),
                y_max: None,
                integer: true,
            },
            Panel {
                y_label: "InActConn (connections)".into(),
                series: per(&d.inactive),
                y_max: None,
                integer: true,
            },
        ],
        marks: action_marks(d),
        ..Lines::default()
    }
}

fn throughput(d: &RunData) -> Lines {
    let mut svc = vec![Series::line(
        "successful responses",
        series_t(&d.t, d.ok_rps.iter().copied()),
        color(0),
    )];
    let mut failed = Series::line(
        "failed requests",
        series_t(&d.t, d.failed_rps.iter().copied()),
        FAIL,
    );
    failed.dashed = false;
    svc.push(failed);
    let per: Vec<Series> = d
        .servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Series::line(
                s.clone(),
                series_t(&d.t, d.server_rps[i].iter().copied()),
                color(i),
            )
        })
        .collect();
    Lines {
        title: "Throughput: what the clients got, and where the load went".into(),
        x_label: "simulated time (s)".into(),
        panels: vec![
            Panel {
                y_label: "requests/s".into(),
                series: svc,
                y_max: None,
                integer: false,
            },
            Panel {
                y_label: "new connections/s per server".into(),
                series: per,
                y_max: None,
                integer: false,
            },
        ],
        marks: action_marks(d),
        ..Lines::default()
    }
}

fn latency(d: &RunData) -> Lines {
    let pick = |v: &[Option<f64>]| -> Vec<(f64, f64)> {
        d.t.iter()
            .zip(v)
            .filter_map(|(&t, x)| x.map(|x| (t, x)))
            .collect()
    };
    let mut p50 = Series::line("p50 (median)", pick(&d.p50_ms), color(0));
    p50.markers = p50.points.len() < 150;
    let mut p99 = Series::line("p99", pick(&d.p99_ms), color(1));
    p99.markers = p99.points.len() < 150;
    Lines {
        title: "Response time over time (successful requests)".into(),
        x_label: "simulated time (s)".into(),
        panels: vec![Panel {
            y_label: "response time (ms)".into(),
            series: vec![p99, p50],
            y_max: None,
            integer: false,
        }],
        x_range: Some((0.0, d.t.last().copied().unwrap_or(1.0))),
        marks: action_marks(d),
        ..Lines::default()
    }
}

/// An empirical distribution as a staircase: (ms, percentile) points.
fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    let mut prev = 0.0;
    for &(q, ms) in points {
        out.push((ms, prev));
        out.push((ms, q));
        prev = q;
    }
    out
}

fn latency_dist(d: &RunData) -> Lines {
    let series = d
        .latency
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut s = Series::line(p.name.clone(), steps(&p.points), color(i));
            s.markers = false;
            s
        })
        .collect();
    Lines {
        title: "Response time distribution: share of requests answered within x".into(),
        x_label: "response time (ms)".into(),
        panels: vec![Panel {
            y_label: "requests (percentile, %)".into(),
            series,
            y_max: Some(105.0),
            integer: false,
        }],
        legend_low: true,
        ..Lines::default()
    }
}

fn director(d: &RunData) -> Lines {
    let how = match d.meta.method.as_str() {
        "Masq" => "NAT: requests and replies both cross the director",
        "FullNat" => "FULLNAT: requests and replies both cross the director",
        "Route" => "DR: replies go straight to the client",
        "Tunnel" => "TUN: replies go straight to the client",
        _ => "",
    };
    let maxb = d
        .dir_in_bps
        .iter()
        .chain(&d.dir_out_bps)
        .copied()
        .fold(0.0, f64::max);
    let (div, unit) = byte_unit(maxb);
    Lines {
        title: format!("Director load — {how}"),
        x_label: "simulated time (s)".into(),
        panels: vec![
            Panel {
                y_label: "packets/s".into(),
                series: vec![
                    Series::line(
                        "in: client → real server",
                        series_t(&d.t, d.dir_in_pps.iter().copied()),
                        color(0),
                    ),
                    Series::line(
                        "out: real server → client",
                        series_t(&d.t, d.dir_out_pps.iter().copied()),
                        color(1),
                    ),
                ],
                y_max: None,
                integer: false,
            },
            Panel {
                y_label: unit.into(),
                series: vec![
                    Series::line(
                        "in",
                        series_t(&d.t, d.dir_in_bps.iter().map(|x| x / div)),
                        color(0),
                    ),
                    Series::line(
                        "out",
                        series_t(&d.t, d.dir_out_bps.iter().map(|x| x / div)),
                        color(1),
                    ),
                ],
                y_max: None,
                integer: false,
            },
        ],
        marks: action_marks(d),
        ..Lines::default()
    }
}

/// `lvslab report SCENARIO -o DIR`: runs the scenario file and writes its
/// report. Returns a line for the user; errors carry the exit status
/// (2: bad input, 1: the report could not be written).
///
/// # Errors
/// The scenario does not load or the files cannot be written.
pub fn run_cli(
    scenario: &Path,
    out: &Path,
    opts: &crate::adapt::RunOpts,
) -> Result<String, (u8, String)> {
    let text = std::fs::read_to_string(scenario).map_err(|e| {
        (
            2,
            format!("lvslab: cannot read {}: {e}", scenario.display()),
        )
    })?;
    let dir = scenario.parent().unwrap_or(Path::new("."));
    let mut sc = crate::adapt::load(&scenario.display().to_string(), &text, dir, opts.seed)
        .map_err(|e| (2, e))?;
    for w in &sc.warnings {
        eprintln!(
            "{}:{}: warning: on {}: {}",
            scenario.display(),
            w.line,
            w.host,
            w.message
        );
    }
    let d = crate::adapt::run(&mut sc, opts).map_err(|e| (2, e))?;
    let files = write(&d, out).map_err(|e| (1, format!("lvslab: {e}")))?;
    Ok(format!(
        "wrote {} files to {} (open {})",
        files.len(),
        out.display(),
        out.join("index.html").display()
    ))
}

/// Writes the charts of `d` and `index.html` into `dir`; returns the files written.
///
/// # Errors
/// A chart could not be drawn or a file written.
pub fn write(d: &RunData, dir: &Path) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut figs = Vec::new();
    for (id, caption) in CHARTS {
        let png = match id {
            "connections" => charts::render(&connections(d), dir, id)?,
            "throughput" => charts::render(&throughput(d), dir, id)?,
            "latency" => charts::render(&latency(d), dir, id)?,
            "latency-distribution" => charts::render(&latency_dist(d), dir, id)?,
            "director" => charts::render(&director(d), dir, id)?,
            _ => charts::render(&Timeline { data: d }, dir, id)?,
        };
        figs.push(Figure {
            id: id.to_string(),
            caption: caption.to_string(),
            png,
        });
    }
    let page = html::report_page(d, &figs);
    crate::write_atomic(&dir.join("index.html"), page.as_bytes())?;
    let mut files: Vec<String> = CHARTS
        .iter()
        .flat_map(|(id, _)| [format!("{id}.png"), format!("{id}.svg")])
        .collect();
    files.push("index.html".into());
    Ok(files)
}
