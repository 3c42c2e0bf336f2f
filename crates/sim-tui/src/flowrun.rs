//! `lvslab run` for `fidelity = "flow"` scenarios: run, print the summary,
//! and with `--metrics DIR` write the metrics files (atomically).

use std::path::Path;

use sim_core::flow;
use sim_core::scenario::Scenario;

use crate::{Fail, files};

/// Runs a flow scenario and prints its summary; with `again` (the same
/// scenario loaded a second time) runs that too and fails unless both
/// runs' metrics are identical.
pub fn run(sc: &mut Scenario, again: Option<Scenario>, metrics: Option<&Path>) -> Result<u8, Fail> {
    let out = flow::run_scenario(sc).map_err(|e| Fail(2, format!("lvslab: {e}")))?;
    if let Some(mut b) = again {
        let other = flow::run_scenario(&mut b).map_err(|e| Fail(2, format!("lvslab: {e}")))?;
        let (x, y) = (out.metrics.to_json(), other.metrics.to_json());
        if let Some(line) = crate::first_difference(&x, &y) {
            return Err(Fail(
                1,
                format!(
                    "lvslab: non-determinism detected: the metrics differ first at line {line} of metrics.json"
                ),
            ));
        }
        eprintln!("determinism: two runs gave identical metrics");
    }
    println!("scenario {} — {}", sc.name, sc.description);
    print!("{}", out.metrics.summary_text());
    if let Some(dir) = metrics {
        write_metrics(dir, &out.metrics)?;
        eprintln!(
            "wrote {}/{{metrics.json,servers.csv,service.csv,series.csv}}",
            dir.display()
        );
    }
    Ok(0)
}

/// Writes `metrics.json`, `servers.csv`, `service.csv` and `series.csv`
/// into `dir` (created if missing), each atomically.
pub fn write_metrics(dir: &Path, m: &sim_core::metrics::RunMetrics) -> Result<(), Fail> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Fail(2, format!("lvslab: cannot create {}: {e}", dir.display())))?;
    files::write_atomic(&dir.join("metrics.json"), m.to_json().as_bytes())?;
    files::write_atomic(&dir.join("servers.csv"), m.servers_csv().as_bytes())?;
    files::write_atomic(&dir.join("service.csv"), m.service_csv().as_bytes())?;
    files::write_atomic(&dir.join("series.csv"), m.series_csv().as_bytes())?;
    Ok(())
}
