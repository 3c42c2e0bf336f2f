//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};

use sim_core::scenario::{self, Scenario};
use sim_core::time::SimTime;
use sim_core::trace::TraceLevel;

/// The workspace root.
#[must_use]
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Loads a shipped scenario by path relative to the workspace root.
///
/// # Panics
/// When the scenario does not load (a test failure).
#[must_use]
pub fn load(rel: &str, level: TraceLevel) -> Scenario {
    let text = std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    scenario::load(rel, &text, level, None).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a scenario to its end and returns it.
#[must_use]
pub fn run(rel: &str, level: TraceLevel) -> Scenario {
    let mut sc = load(rel, level);
    let end = SimTime::ZERO + sc.duration;
    sc.world.step_until(end);
    sc
}

/// Compares `actual` with the golden file `tests/golden/<name>`; with
/// `UPDATE_GOLDEN=1` rewrites it instead.
///
/// # Panics
/// When they differ (showing the first differing line).
pub fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create the golden folder");
        }
        std::fs::write(&path, actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1 and review the diff",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs at line {}:\n  expected: {:?}\n  actual:   {:?}\n(UPDATE_GOLDEN=1 regenerates; review with git diff)",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}
