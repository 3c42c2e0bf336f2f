//! The run summary `lvslab run` prints.

use std::fmt::Write as _;

use super::{CurlOutcome, World};

impl World {
    /// A readable summary of what happened so far.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "simulated until t={} ({} events, seed {})",
            self.now, self.events_handled, self.seed
        );
        if !self.apps.is_empty() {
            s.push_str("\nclients:\n");
        }
        for a in &self.apps {
            let ok = a
                .results
                .iter()
                .filter(|r| matches!(r.outcome, CurlOutcome::Ok(_)))
                .count();
            let failed = a.results.len() - ok;
            let _ = writeln!(
                s,
                "  {}: curl {}  — {ok} ok, {failed} failed",
                self.hosts[a.host].name, a.url
            );
            for r in &a.results {
                let _ = writeln!(s, "    t={:>10.3}s  {}", r.start.as_secs_f64(), r.printed());
            }
        }
        s.push_str(&self.keepalived_summary());
        s.push_str("\nframes per host (in/out):\n");
        for (h, c) in self.counters.iter().enumerate() {
            let _ = writeln!(s, "  {:<12} {:>8} / {:<8}", self.hosts[h].name, c.rx, c.tx);
        }
        if !self.drops.is_empty() {
            s.push_str("\ndrops:\n");
            for (why, n) in &self.drops {
                let _ = writeln!(s, "  {n:>6} × {why}");
            }
        }
        s
    }
}
