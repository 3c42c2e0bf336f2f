//! The simulator's side of a comparison: the request sequence (which the
//! kernel run replays) and the directors' ipvsadm outputs right after the
//! last request.

use std::collections::BTreeMap;

use sim_core::scenario::{self, ScenarioError};
use sim_core::shell;
use sim_core::time::{SimDuration, SimTime};
use sim_core::trace::TraceLevel;
use sim_core::world::CurlOutcome;

/// One request as the simulator ran it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimReq {
    /// When it started.
    pub start: SimTime,
    /// When it ended.
    pub end: SimTime,
    /// Client host index (in the scenario's host order).
    pub client: usize,
    /// URL.
    pub url: String,
    /// curl's `--max-time`.
    pub max_time: SimDuration,
    /// HTTP status, or `None` if curl failed.
    pub status: Option<u16>,
    /// What curl printed.
    pub printed: String,
}

/// What the simulator produced for a scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimRun {
    /// Requests in start order.
    pub requests: Vec<SimReq>,
    /// `(host, tag)` → output of the ipvsadm view (tags as in the script).
    pub outs: BTreeMap<(String, String), String>,
    /// `(scenario line, message)` of setup commands that failed.
    pub failed: Vec<(usize, String)>,
    /// Timed actions within the run: (index in the file, time, host index).
    pub actions: Vec<(usize, SimTime, usize)>,
    /// VIPs keepalived added (`true`) and removed up to the kernel run's
    /// collection time: (time, host index, address, added).
    pub vips: Vec<(SimTime, usize, std::net::Ipv4Addr, bool)>,
    /// When keepalived's checkers took a real server out or put it back.
    pub checks: Vec<SimTime>,
}

/// The views compared, as `(tag, ipvsadm arguments)`.
pub const VIEWS: &[(&str, &str)] = &[
    ("Ln", "-Ln"),
    ("Sn", "-S -n"),
    ("lnc", "-lnc"),
    ("stats", "-Ln --stats"),
];

/// How long after the other views `--stats` is read (the script's
/// `sleep 2.2`: one IPVS estimator tick, every 2 s, is sure to fall in it).
pub const STATS_WAIT: SimDuration = SimDuration::from_millis(2200);

/// Runs the scenario in the simulator.
///
/// # Errors
/// The scenario's load error.
pub fn run(file: &str, src: &str, directors: &[&str]) -> Result<SimRun, ScenarioError> {
    let mut sc = scenario::load(file, src, TraceLevel::Off, None)?;
    let failed = sc
        .warnings
        .iter()
        .map(|w| (w.line, w.message.clone()))
        .collect();
    let end = SimTime::ZERO + sc.duration;
    let actions: Vec<(usize, SimTime, usize)> = sc
        .world
        .actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.at <= end)
        .map(|(i, a)| (i, a.at, a.host))
        .collect();
    sc.world.step_until(end);
    let mut requests = Vec::new();
    for app in &sc.world.apps {
        for r in &app.results {
            requests.push(SimReq {
                start: r.start,
                end: r.end,
                client: app.host,
                url: app.url.clone(),
                max_time: app.max_time,
                status: match r.outcome {
                    CurlOutcome::Ok(s) => Some(s),
                    CurlOutcome::Failed { .. } => None,
                },
                printed: r.printed(),
            });
        }
    }
    requests.sort_by_key(|r| (r.start, r.client));
    // The kernel run reads its tables right after the last request.
    let last = requests
        .iter()
        .map(|r| r.end)
        .max()
        .unwrap_or(SimTime::ZERO);
    let collect = last + SimDuration::from_millis(1);
    let mut vips: Vec<(SimTime, usize, std::net::Ipv4Addr, bool)> = Vec::new();
    for (h, host) in sc.world.hosts.iter().enumerate() {
        for (t, a, added) in &host.keepalived.vip_log {
            if *t <= collect {
                vips.push((*t, h, *a, *added));
            }
        }
    }
    vips.sort_by_key(|v| (v.0, v.1));
    let mut checks: Vec<SimTime> = sc
        .world
        .hosts
        .iter()
        .flat_map(|h| &h.keepalived.events)
        .filter(|(t, e)| {
            *t <= collect
                && e.starts_with("real server")
                && (e.contains(" DOWN ") || e.contains(" UP "))
        })
        .map(|(t, _)| *t)
        .collect();
    checks.sort();
    let mut sc = scenario::load(file, src, TraceLevel::Off, None)?;
    let mut outs = BTreeMap::new();
    // The kernel run reads `--stats` after the IPVS estimator has copied
    // the counters (2.2 s later, see `crate::script`); so does this.
    let (first, stats): (Vec<_>, Vec<_>) = VIEWS.iter().partition(|v| v.0 != "stats");
    for (at, views) in [(collect, first), (collect + STATS_WAIT, stats)] {
        sc.world.step_until(at);
        for d in directors {
            let Some(h) = sc.world.host_id(d) else {
                continue;
            };
            for (tag, args) in &views {
                let text = match shell::run_line(&mut sc.world, h, &format!("ipvsadm {args}")) {
                    Ok(o) => format!("{}{}", o.stdout, o.stderr),
                    Err(e) => format!("{e}\n"),
                };
                outs.insert(((*d).to_string(), (*tag).to_string()), text);
            }
        }
    }
    Ok(SimRun {
        requests,
        outs,
        failed,
        actions,
        vips,
        checks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--stats` is read after an estimator tick (as the kernel run reads
    /// it), the other views right after the last request: the last
    /// request (13 s) shows in `--stats` only because the read waits past
    /// the tick at 14 s.
    #[test]
    fn stats_are_read_after_an_estimator_tick() {
        let file = "scenarios/kernel/zero-counters-dr.toml";
        let src = include_str!("../../../scenarios/kernel/zero-counters-dr.toml");
        let run = run(file, src, &["lvs"]).expect("the scenario loads");
        let view = |tag: &str| {
            run.outs
                .get(&("lvs".to_string(), tag.to_string()))
                .cloned()
                .unwrap_or_default()
        };
        let stats = view("stats");
        let conns: Vec<&str> = stats
            .lines()
            .skip(3)
            .filter_map(|l| l.split_whitespace().nth(2))
            .collect();
        // After the -Z: three connections, two to .132 and one to .131.
        assert_eq!(conns, ["3", "1", "2"], "{stats}");
        assert!(view("lnc").contains("FIN_WAIT"), "{}", view("lnc"));
    }
}
