//! `lvslab sweep`: run a grid of scenario variants, in parallel, resumably.
//!
//! ```text
//!  sweep.toml ──spec::parse──► points ──rewrite + seed──► scenario text per point
//!        │                                                  │ rayon pool (--jobs)
//!        │                                                  ▼
//!        │                                 DIR/points/0007.csv (one row, written atomically)
//!        └──────────── merge ◄──────────────────────────────┘
//!                        ▼
//!             DIR/results.csv + DIR/*.png|svg + DIR/index.html
//! ```
//!
//! A point is finished when `DIR/points/NNNN.csv` exists with the same
//! fingerprint (a hash of the point's scenario text and seed); a rerun
//! skips it, so an interrupted sweep resumes where it stopped and a changed
//! sweep or base scenario reruns only the points it changed. `--point K`
//! runs one point and `--emit-jobs` prints one such command per unfinished
//! point, for GNU parallel, a Slurm array or a Kubernetes indexed Job;
//! `--merge` then combines the point files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sim_core::rng::fnv1a64;

use crate::adapt::{self, RunOpts};
use crate::model::RunData;

pub mod plots;
pub mod rewrite;
pub mod spec;

pub use spec::{Point, Sweep};

/// `lvslab sweep` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct SweepArgs {
    /// The sweep file (TOML).
    pub sweep: PathBuf,
    /// Output folder: points/, results.csv, charts, index.html.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Points run at once (default: the machine's cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print one `lvslab sweep … --point K` command per unfinished point and exit.
    #[arg(long)]
    pub emit_jobs: bool,
    /// Run only point K (0-based) and write DIR/points/K.csv.
    #[arg(long)]
    pub point: Option<usize>,
    /// Print point K's rewritten scenario (with its seed) and exit: save it
    /// and `lvslab run` or `lvslab report` it to look at one point closely.
    #[arg(long, value_name = "K")]
    pub show_point: Option<usize>,
    /// Combine DIR/points/*.csv into results.csv and the charts (no runs).
    #[arg(long)]
    pub merge: bool,
    /// Rerun every point, even finished ones.
    #[arg(long)]
    pub fresh: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Whether `path` is a sweep file (it has a `[sweep]` table), not a scenario.
#[must_use]
pub fn is_sweep_file(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.lines().any(|l| l.trim() == "[sweep]"))
}

/// A loaded sweep: its spec, the base scenario text and seed, the points.
#[derive(Debug)]
pub struct Plan {
    /// The spec.
    pub spec: Sweep,
    /// Base scenario text.
    pub base: String,
    /// Base scenario seed.
    pub base_seed: u64,
    /// Points.
    pub points: Vec<Point>,
}

/// Loads a sweep file and its base scenario.
///
/// # Errors
/// Unreadable files, a bad sweep file or base scenario.
pub fn plan(path: &Path) -> Result<Plan, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("lvslab: cannot read {}: {e}", path.display()))?;
    let spec = spec::parse(path, &text)?;
    let base = std::fs::read_to_string(&spec.scenario)
        .map_err(|e| format!("lvslab: cannot read {}: {e}", spec.scenario.display()))?;
    let dir = spec.scenario.parent().unwrap_or(Path::new("."));
    let sc = adapt::load(&spec.scenario.display().to_string(), &base, dir, None)?;
    let points = spec.points();
    Ok(Plan {
        base_seed: sc.world.seed,
        spec,
        base,
        points,
    })
}

/// The result header (axis columns go after `point`).
#[must_use]
pub fn header(spec: &Sweep) -> String {
    let mut h = String::from("point");
    for a in &spec.axes {
        h.push(',');
        h.push_str(&csv_field(&a.name));
    }
    h.push_str(",seed,fingerprint,requests,ok,failed,fail_pct,throughput_rps,p50_ms,p90_ms,p99_ms,max_ms,longest_gap_s,imbalance,director_in_pkts,director_out_pkts,director_bytes,server_conns");
    h
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl Plan {
    /// The scenario text and seed of point `p`, and its fingerprint.
    ///
    /// # Errors
    /// A rewrite failed.
    pub fn point_input(&self, p: &Point) -> Result<(String, u64, String), String> {
        let text = self.spec.rewrite(&self.base, p)?;
        let seed = self.spec.seed(self.base_seed, p);
        let fp = format!("{:016x}", fnv1a64(format!("{seed}\n{text}").as_bytes()));
        Ok((text, seed, fp))
    }

    /// Runs point `p` and returns its CSV row.
    ///
    /// # Errors
    /// The rewritten scenario does not load or run.
    pub fn run_point(&self, p: &Point) -> Result<String, String> {
        let (text, seed, fp) = self.point_input(p)?;
        let dir = self.spec.scenario.parent().unwrap_or(Path::new("."));
        let label = format!(
            "{} (sweep point {}: {})",
            self.spec.scenario.display(),
            p.index,
            p.key
        );
        let mut sc = adapt::load(&label, &text, dir, Some(seed))?;
        let d = adapt::run(&mut sc, &RunOpts::default())?;
        Ok(row(&self.spec, p, seed, &fp, &d))
    }

    fn point_file(dir: &Path, k: usize) -> PathBuf {
        dir.join("points").join(format!("{k:04}.csv"))
    }

    /// Whether point `p`'s file exists with its current fingerprint.
    #[must_use]
    pub fn finished(&self, dir: &Path, p: &Point) -> bool {
        let Ok((_, _, fp)) = self.point_input(p) else {
            return false;
        };
        read_row(&Self::point_file(dir, p.index)).is_some_and(|r| r.contains(&format!(",{fp},")))
    }
}

fn read_row(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().nth(1).map(str::to_string)
}

#[expect(clippy::cast_precision_loss, reason = "counts to shares")]
fn row(spec: &Sweep, p: &Point, seed: u64, fp: &str, d: &RunData) -> String {
    let t = &d.totals;
    let mut r = p.index.to_string();
    for (a, &vi) in spec.axes.iter().zip(&p.at) {
        r.push(',');
        r.push_str(&csv_field(&a.labels[vi]));
    }
    let fail_pct = if t.requests == 0 {
        0.0
    } else {
        t.failed as f64 * 100.0 / t.requests as f64
    };
    let first = d.ok_rps.iter().position(|&x| x > 0.0);
    let last = d.ok_rps.iter().rposition(|&x| x > 0.0);
    let thr = match (first, last) {
        (Some(a), Some(b)) => {
            let span = d.t[b] - d.t[a] + d.meta.interval_s;
            t.ok as f64 / span.max(1e-9)
        }
        _ => 0.0,
    };
    let n = t.server_conns.len().max(1) as f64;
    let mean = t.server_conns.iter().sum::<u64>() as f64 / n;
    let max = t.server_conns.iter().copied().max().unwrap_or(0) as f64;
    let imbalance = if mean > 0.0 { max / mean } else { 0.0 };
    let conns = d
        .servers
        .iter()
        .zip(&t.server_conns)
        .map(|(s, c)| format!("{s}:{c}"))
        .collect::<Vec<_>>()
        .join(" ");
    let _ = write!(
        r,
        ",{seed},{fp},{},{},{},{fail_pct:.4},{thr:.3},{:.4},{:.4},{:.4},{:.4},{:.3},{imbalance:.4},{},{},{},{}",
        t.requests,
        t.ok,
        t.failed,
        t.p50_ms,
        t.p90_ms,
        t.p99_ms,
        t.max_ms,
        t.longest_gap_s,
        t.director_in_pkts,
        t.director_out_pkts,
        t.director_in_bytes + t.director_out_bytes,
        csv_field(&conns)
    );
    r
}

/// `lvslab sweep`: returns the exit status; errors carry one.
///
/// # Errors
/// Bad input (2) or a failed point / missing points on merge (1).
pub fn run_cli(a: &SweepArgs) -> Result<u8, (u8, String)> {
    let plan = plan(&a.sweep).map_err(|e| (2, e))?;
    let dir = &a.output;
    let get = |k: usize| {
        plan.points.get(k).ok_or_else(|| {
            (
                2,
                format!(
                    "lvslab: point {k}: the sweep has {} points (0..{})",
                    plan.points.len(),
                    plan.points.len().saturating_sub(1)
                ),
            )
        })
    };
    if let Some(k) = a.show_point {
        let p = get(k)?;
        let (text, seed, _) = plan.point_input(p).map_err(|e| (2, e))?;
        println!(
            "# sweep {} point {k}: {}\n# this point runs with seed {seed}: lvslab run FILE --seed {seed}",
            plan.spec.name, p.key
        );
        print!("{text}");
        return Ok(0);
    }
    if let Some(k) = a.point {
        let p = get(k)?;
        run_points(&plan, dir, std::slice::from_ref(p), 1, true).map_err(|e| (1, e))?;
        eprintln!(
            "point {k} ({}) written to {}",
            p.key,
            Plan::point_file(dir, k).display()
        );
        return Ok(0);
    }
    let todo: Vec<Point> = plan
        .points
        .iter()
        .filter(|p| a.fresh || !plan.finished(dir, p))
        .cloned()
        .collect();
    if a.emit_jobs {
        let sweep = shell_word(&a.sweep.display().to_string());
        let out = shell_word(&dir.display().to_string());
        for p in &todo {
            println!(
                "lvslab sweep {sweep} -o {out} --jobs 1 --quiet --point {}",
                p.index
            );
        }
        eprintln!(
            "{} of {} points to run; then: lvslab sweep {sweep} -o {out} --merge",
            todo.len(),
            plan.points.len()
        );
        return Ok(0);
    }
    if !a.merge {
        let jobs = a
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        let skipped = plan.points.len() - todo.len();
        if skipped > 0 {
            eprintln!(
                "resuming: {skipped} of {} points already finished",
                plan.points.len()
            );
        }
        let start = std::time::Instant::now();
        let threads = run_points(&plan, dir, &todo, jobs, a.quiet).map_err(|e| (1, e))?;
        if !todo.is_empty() {
            eprintln!(
                "ran {} points on {threads} of {jobs} threads in {:.1} s",
                todo.len(),
                start.elapsed().as_secs_f64()
            );
        }
    }
    let files = merge(&plan, dir).map_err(|e| (1, e))?;
    eprintln!(
        "wrote {} (open {})",
        files,
        dir.join("index.html").display()
    );
    Ok(0)
}

fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-=:+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Runs `todo` on `jobs` threads, writing each point's file as it ends;
/// returns how many threads ran points.
///
/// # Errors
/// A point failed (the others still finish and are kept).
pub fn run_points(
    plan: &Plan,
    dir: &Path,
    todo: &[Point],
    jobs: usize,
    quiet: bool,
) -> Result<usize, String> {
    std::fs::create_dir_all(dir.join("points"))
        .map_err(|e| format!("lvslab: cannot create {}: {e}", dir.display()))?;
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(todo.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40.cyan/blue} {pos}/{len} points  {elapsed} elapsed, eta {eta}  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| format!("lvslab: cannot start {jobs} threads: {e}"))?;
    let header = header(&plan.spec);
    let threads = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let errors: Vec<String> = pool.install(|| {
        todo.par_iter()
            .filter_map(|p| {
                if let Ok(mut t) = threads.lock() {
                    t.insert(rayon::current_thread_index());
                }
                let r = plan.run_point(p).and_then(|row| {
                    crate::write_atomic(
                        &Plan::point_file(dir, p.index),
                        format!("{header}\n{row}\n").as_bytes(),
                    )
                });
                bar.inc(1);
                bar.set_message(p.key.clone());
                r.err()
                    .map(|e| format!("point {} ({}): {e}", p.index, p.key))
            })
            .collect()
    });
    bar.finish_and_clear();
    if errors.is_empty() {
        Ok(threads.lock().map_or(0, |t| t.len()))
    } else {
        Err(format!(
            "lvslab: {} points failed:\n{}",
            errors.len(),
            errors.join("\n")
        ))
    }
}

/// Combines the point files into `results.csv`, the charts and `index.html`.
///
/// # Errors
/// Points are missing or stale, or files cannot be written.
pub fn merge(plan: &Plan, dir: &Path) -> Result<String, String> {
    let header = header(&plan.spec);
    let mut csv = format!("{header}\n");
    let mut missing = Vec::new();
    for p in &plan.points {
        match read_row(&Plan::point_file(dir, p.index)) {
            Some(r) if plan.finished(dir, p) => {
                csv.push_str(&r);
                csv.push('\n');
            }
            _ => missing.push(p.index.to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "lvslab: {} of {} points are missing or stale: {}\n  hint: run them (lvslab sweep {} -o {}) and merge again",
            missing.len(),
            plan.points.len(),
            missing.join(" "),
            plan.spec.scenario.display(),
            dir.display()
        ));
    }
    crate::write_atomic(&dir.join("results.csv"), csv.as_bytes())?;
    let n = plots::write(plan, &csv, dir)?;
    Ok(format!(
        "results.csv with {} points and {n} charts to {}",
        plan.points.len(),
        dir.display()
    ))
}

#[cfg(test)]
mod tests;
