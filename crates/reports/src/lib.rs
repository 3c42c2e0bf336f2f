//! lvslab reports: a run turned into pictures, a grid of runs into answers.
//!
//! ```text
//!  scenario ──adapt──► RunData ──charts (plotters)──► *.png + *.svg ──html──► index.html
//!  sweep file ──sweep::spec──► points ──rayon──► adapt per point ──► results.csv + sweep charts
//! ```
//!
//! - [`adapt`] runs a scenario at its fidelity and produces [`model::RunData`]:
//!   packet fidelity samples the [`sim_core::world::World`] every interval,
//!   flow fidelity converts sim-core's [`sim_core::metrics::RunMetrics`].
//! - [`charts`] draws with plotters (SVG and PNG from one code path).
//! - [`report`] writes one run's charts and its `index.html`.
//! - [`sweep`] runs a grid of points in parallel, resumably, and plots them.
//!
//! Unlike sim-core, this crate does I/O (it writes files) and uses threads
//! (rayon); each simulated run stays single-threaded and deterministic.

use std::path::Path;

pub mod adapt;
pub mod charts;
pub mod html;
pub mod model;
pub mod report;
pub mod sweep;

/// Writes `bytes` to `path` atomically (a temporary file in the same
/// folder, then rename), so a reader never sees a half-written file.
///
/// # Errors
/// The file could not be written.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// Writes what `fill` writes to `path` atomically: into a temporary file
/// beside it, synced, then renamed over `path`; on any error the
/// temporary file is removed and `path` is left as it was.
///
/// # Errors
/// A message naming `path` and the I/O error.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let res = (|| -> std::io::Result<()> {
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(f);
        fill(&mut w)?;
        let f = w
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    res.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests;
