//! From a scenario to [`RunData`]: load it, run it at its fidelity, and
//! sample it (packet) or convert its metrics (flow).

use std::path::Path;

use sim_core::flow::spec::Fidelity;
use sim_core::scenario::{self, Scenario};
use sim_core::time::{SimDuration, SimTime};
use sim_core::trace::TraceLevel;

use crate::model::RunData;

pub mod flow;
pub mod packet;

/// How to run a scenario for a report or a sweep point.
#[derive(Clone, Debug, Default)]
pub struct RunOpts {
    /// Override the scenario's seed.
    pub seed: Option<u64>,
    /// Simulate until (default: the scenario's duration).
    pub until: Option<SimDuration>,
    /// Sample interval for packet fidelity (default: about 120 samples).
    pub interval: Option<SimDuration>,
}

/// Loads scenario text (named `file`, with files it names read relative to
/// `dir`). Errors are the loader's `file:line:col` messages.
///
/// # Errors
/// The scenario does not load.
pub fn load(file: &str, text: &str, dir: &Path, seed: Option<u64>) -> Result<Scenario, String> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    scenario::load_with(file, text, TraceLevel::Events, seed, &read).map_err(|e| e.to_string())
}

/// Runs a loaded scenario and returns its plot data.
///
/// # Errors
/// A flow run that cannot start (no workload, no virtual service).
pub fn run(sc: &mut Scenario, opts: &RunOpts) -> Result<RunData, String> {
    if sc.fidelity == Fidelity::Flow {
        if opts.until.is_some() || opts.interval.is_some() {
            return Err(format!(
                "{}: --until and --interval apply at packet fidelity\n  hint: a flow scenario runs for its `duration` and samples every `sample` (in [scenario])",
                sc.name
            ));
        }
        let out = sim_core::flow::run_scenario(sc).map_err(|e| format!("{}: {e}", sc.name))?;
        let mut d = flow::from_metrics(&out.metrics, &sc.description);
        let w = &sc.world;
        d.rename_and_sort_servers(|name| {
            name.parse()
                .map_or_else(|_| name.to_string(), |a| packet::server_name(w, a))
        });
        return Ok(d);
    }
    let dur = opts.until.unwrap_or(sc.duration);
    let interval = opts
        .interval
        .unwrap_or_else(|| packet::default_interval(dur));
    Ok(packet::sample(sc, SimTime::ZERO + dur, interval))
}
