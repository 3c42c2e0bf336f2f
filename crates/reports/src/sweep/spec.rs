//! Sweep files: a base scenario, axes that rewrite its text, and plots.
//!
//! ```toml
//! [sweep]
//! name = "schedulers-vs-load"
//! scenario = "base-4rs.toml"   # relative to this file
//! seed = "per-point"           # or "shared": every point uses the scenario's seed
//!
//! [[axis]]
//! name = "scheduler"
//! values = ["rr", "wlc", "sed"]
//! rewrite = "scheduler"        # `-s X` in every `ipvsadm -A`/`-E` line
//!
//! [[axis]]
//! name = "rate"
//! values = [400, 800, 1200]
//! set = "workload.rate"        # a TOML key (dotted; numbers index arrays)
//!
//! [[plot]]
//! title = "p99 response time vs offered load"
//! x = "rate"
//! y = "p99_ms"
//! group = "scheduler"
//! ```
//!
//! Rewrites, applied to the base scenario's text in axis order, text ones
//! first and `set` last (the `set` ones re-serialise the TOML):
//!
//! | rewrite | value | what changes |
//! | --- | --- | --- |
//! | `scheduler` | `"wlc"` | the word after `-s`/`--scheduler` on `ipvsadm -A`/`-E` lines |
//! | `method` | `"dr"`, `"nat"`, `"tun"` | `-g`/`-m`/`-i` on `ipvsadm -a` lines |
//! | `weights` | `[1, 2, 4]` | `-w N` on the k-th `ipvsadm -a` line |
//! | `servers` | `3` | keeps only the first N `ipvsadm -a` lines |
//! | `replace` (+ `find`) | any | every `find` becomes `with` (default `{value}`), `{value}` substituted |
//! | `set = "a.b.0.c"` | any TOML value | that key (an array index for numbers) |
//!
//! Points are the cross product of the axes, the last axis varying
//! fastest; point `k` is numbered from 0. A point's seed is
//! `fnv1a64("<base seed>/<axis>=<value>/…")`, so it depends on the point's
//! parameters and nothing else (not on its number, not on the machine).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sim_core::rng::fnv1a64;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct SweepDoc {
    sweep: Head,
    #[serde(default)]
    axis: Vec<AxisDoc>,
    #[serde(default)]
    plot: Vec<PlotDoc>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Head {
    name: String,
    #[serde(default)]
    description: String,
    scenario: String,
    #[serde(default)]
    seed: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct AxisDoc {
    name: String,
    values: Vec<toml::Value>,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(default)]
    rewrite: Option<String>,
    #[serde(default)]
    set: Option<String>,
    #[serde(default)]
    find: Option<String>,
    #[serde(default)]
    with: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct PlotDoc {
    title: String,
    #[serde(default)]
    kind: Option<String>,
    x: String,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    x_label: Option<String>,
    #[serde(default)]
    max_p99_ms: Option<f64>,
    #[serde(default)]
    max_fail_pct: Option<f64>,
}

/// How an axis changes the scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum Rewrite {
    /// `-s NAME` on `ipvsadm -A`/`-E` lines.
    Scheduler,
    /// `-g`/`-m`/`-i` on `ipvsadm -a` lines.
    Method,
    /// `-w N` on the k-th `ipvsadm -a` line.
    Weights,
    /// Keep the first N `ipvsadm -a` lines.
    Servers,
    /// Replace text.
    Replace {
        /// Text to find.
        find: String,
        /// Replacement (`{value}` is the axis value).
        with: String,
    },
    /// Set a TOML key.
    Set(Vec<String>),
}

/// One axis of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Name (a CSV column).
    pub name: String,
    /// Values.
    pub values: Vec<toml::Value>,
    /// Labels for the values (CSV and plots).
    pub labels: Vec<String>,
    /// What it changes.
    pub rewrite: Rewrite,
}

/// A plot of the results.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotSpec {
    /// Title.
    pub title: String,
    /// `line` (default) or `sustainable`.
    pub sustainable: bool,
    /// X axis: an axis name.
    pub x: String,
    /// Y: a result column (line plots).
    pub y: String,
    /// One line (or bar) per value of this axis.
    pub group: Option<String>,
    /// X axis title (default: the axis name).
    pub x_label: Option<String>,
    /// Sustainable: p99 limit (ms).
    pub max_p99_ms: f64,
    /// Sustainable: failure limit (%).
    pub max_fail_pct: f64,
}

/// A parsed sweep file.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Base scenario path (resolved against the sweep file's folder).
    pub scenario: PathBuf,
    /// Seeds per point (`false`: every point uses the scenario's seed).
    pub per_point_seed: bool,
    /// Axes.
    pub axes: Vec<Axis>,
    /// Plots.
    pub plots: Vec<PlotSpec>,
}

/// One point of the grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Number (0-based).
    pub index: usize,
    /// Value index per axis.
    pub at: Vec<usize>,
    /// `axis=label` pairs, joined by `/`.
    pub key: String,
}

/// Result columns a plot may use as `y`.
pub const METRICS: [&str; 10] = [
    "throughput_rps",
    "ok",
    "failed",
    "fail_pct",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "max_ms",
    "longest_gap_s",
    "imbalance",
];

fn label_of(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) if a.is_empty() => "none".into(),
        other => other.to_string(),
    }
}

/// Parses a sweep file (`file` names it in errors).
///
/// # Errors
/// Bad TOML, an unknown rewrite, a plot naming an unknown axis or column.
pub fn parse(file: &Path, text: &str) -> Result<Sweep, String> {
    let f = file.display();
    let doc: SweepDoc = toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        format!("{f}:{line}:{col}: error: {}", e.message().trim())
    })?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let per_point_seed = match doc.sweep.seed.as_deref() {
        None | Some("per-point") => true,
        Some("shared") => false,
        Some(o) => {
            return Err(format!(
                "{f}: error: seed = \"{o}\"\n  hint: use \"per-point\" or \"shared\""
            ));
        }
    };
    let mut axes = Vec::new();
    for a in doc.axis {
        axes.push(axis(&f.to_string(), a)?);
    }
    if axes.is_empty() {
        return Err(format!(
            "{f}: error: no [[axis]]\n  hint: add [[axis]] name = \"scheduler\" values = [\"rr\", \"wlc\"] rewrite = \"scheduler\""
        ));
    }
    let mut plots = Vec::new();
    for p in doc.plot {
        plots.push(plot(&f.to_string(), &axes, p)?);
    }
    Ok(Sweep {
        name: doc.sweep.name,
        description: doc.sweep.description,
        scenario: dir.join(&doc.sweep.scenario),
        per_point_seed,
        axes,
        plots,
    })
}

fn line_col(text: &str, off: usize) -> (usize, usize) {
    let before = &text[..off.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, col)
}

fn axis(f: &str, a: AxisDoc) -> Result<Axis, String> {
    let rewrite = match (a.rewrite.as_deref(), &a.set) {
        (_, Some(path)) => Rewrite::Set(path.split('.').map(str::to_string).collect()),
        (Some("scheduler"), None) => Rewrite::Scheduler,
        (Some("method"), None) => Rewrite::Method,
        (Some("weights"), None) => Rewrite::Weights,
        (Some("servers"), None) => Rewrite::Servers,
        (Some("replace"), None) => Rewrite::Replace {
            find: a.find.clone().ok_or_else(|| {
                format!(
                    "{f}: error: axis `{}`: rewrite = \"replace\" needs find = \"…\"",
                    a.name
                )
            })?,
            with: a.with.clone().unwrap_or_else(|| "{value}".into()),
        },
        (Some(o), None) => {
            return Err(format!(
                "{f}: error: axis `{}`: unknown rewrite \"{o}\"\n  hint: scheduler, method, weights, servers, replace (with find/with), or set = \"table.key\"",
                a.name
            ));
        }
        (None, None) => {
            return Err(format!(
                "{f}: error: axis `{}` says nothing about what it changes\n  hint: add rewrite = \"scheduler\" (or method, weights, servers, replace) or set = \"workload.rate\"",
                a.name
            ));
        }
    };
    if a.values.is_empty() {
        return Err(format!("{f}: error: axis `{}` has no values", a.name));
    }
    if !a.labels.is_empty() && a.labels.len() != a.values.len() {
        return Err(format!(
            "{f}: error: axis `{}` has {} labels for {} values",
            a.name,
            a.labels.len(),
            a.values.len()
        ));
    }
    let labels = if a.labels.is_empty() {
        a.values.iter().map(label_of).collect()
    } else {
        a.labels
    };
    Ok(Axis {
        name: a.name,
        values: a.values,
        labels,
        rewrite,
    })
}

fn plot(f: &str, axes: &[Axis], p: PlotDoc) -> Result<PlotSpec, String> {
    let known = |n: &str| axes.iter().any(|a| a.name == n);
    if !known(&p.x) {
        return Err(format!(
            "{f}: error: plot `{}`: x = \"{}\" is not an axis",
            p.title, p.x
        ));
    }
    if let Some(g) = &p.group
        && !known(g)
    {
        return Err(format!(
            "{f}: error: plot `{}`: group = \"{g}\" is not an axis",
            p.title
        ));
    }
    let sustainable = match p.kind.as_deref() {
        None | Some("line") => false,
        Some("sustainable") => true,
        Some(o) => {
            return Err(format!(
                "{f}: error: plot `{}`: kind = \"{o}\"\n  hint: \"line\" or \"sustainable\"",
                p.title
            ));
        }
    };
    let y = p.y.unwrap_or_else(|| "p99_ms".into());
    if !METRICS.contains(&y.as_str()) {
        return Err(format!(
            "{f}: error: plot `{}`: y = \"{y}\" is not a result column\n  hint: one of {}",
            p.title,
            METRICS.join(", ")
        ));
    }
    Ok(PlotSpec {
        title: p.title,
        sustainable,
        x: p.x,
        y,
        group: p.group,
        x_label: p.x_label,
        max_p99_ms: p.max_p99_ms.unwrap_or(100.0),
        max_fail_pct: p.max_fail_pct.unwrap_or(1.0),
    })
}

impl Sweep {
    /// Every point, last axis fastest.
    #[must_use]
    pub fn points(&self) -> Vec<Point> {
        let total: usize = self.axes.iter().map(|a| a.values.len()).product();
        (0..total)
            .map(|index| {
                let mut rem = index;
                let mut at = vec![0; self.axes.len()];
                for (i, a) in self.axes.iter().enumerate().rev() {
                    at[i] = rem % a.values.len();
                    rem /= a.values.len();
                }
                let key = self
                    .axes
                    .iter()
                    .zip(&at)
                    .map(|(a, &v)| format!("{}={}", a.name, a.labels[v]))
                    .collect::<Vec<_>>()
                    .join("/");
                Point { index, at, key }
            })
            .collect()
    }

    /// The seed of `p` given the scenario's `base` seed.
    #[must_use]
    pub fn seed(&self, base: u64, p: &Point) -> u64 {
        if self.per_point_seed {
            fnv1a64(format!("{base}/{}", p.key).as_bytes())
        } else {
            base
        }
    }

    /// The base scenario text rewritten for `p`.
    ///
    /// # Errors
    /// A rewrite found nothing to change, or a `set` path does not exist.
    pub fn rewrite(&self, base: &str, p: &Point) -> Result<String, String> {
        let mut text = base.to_string();
        for (a, &vi) in self.axes.iter().zip(&p.at) {
            let v = &a.values[vi];
            text = match &a.rewrite {
                Rewrite::Set(_) => continue,
                r => super::rewrite::text(&text, r, v)
                    .map_err(|e| format!("axis `{}` = {}: {e}", a.name, a.labels[vi]))?,
            };
        }
        let sets: Vec<_> = self
            .axes
            .iter()
            .zip(&p.at)
            .filter_map(|(a, &vi)| match &a.rewrite {
                Rewrite::Set(path) => Some((a, path, &a.values[vi])),
                _ => None,
            })
            .collect();
        if sets.is_empty() {
            return Ok(text);
        }
        let mut doc: toml::Table =
            toml::from_str(&text).map_err(|e| format!("base scenario: {e}"))?;
        for (a, path, v) in sets {
            super::rewrite::set(&mut doc, path, v.clone())
                .map_err(|e| format!("axis `{}`: {e}", a.name))?;
        }
        toml::to_string(&doc).map_err(|e| e.to_string())
    }
}
