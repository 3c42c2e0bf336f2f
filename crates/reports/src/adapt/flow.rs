//! Flow fidelity: convert the metrics module's [`RunMetrics`] (time series
//! sampled by sim-core itself) into [`RunData`].
//!
//! Flow runs count director packets only in total, so the director-load
//! series is estimated: each interval's arrivals (completions) times the
//! run's packets per arrival (per completion). The report says so.

use sim_core::metrics::RunMetrics;

use crate::model::{Mark, MarkKind, Meta, Percentiles, RunData, ServerState};

#[expect(clippy::cast_precision_loss, reason = "ns and counts to display units")]
fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Plot data from a flow run's metrics.
#[must_use]
#[expect(clippy::cast_precision_loss, reason = "counts to rates")]
pub fn from_metrics(m: &RunMetrics, description: &str) -> RunData {
    let mut d = RunData::default();
    let n = m.servers.len();
    let dt = ms(m.run.interval_ns) / 1e3;
    d.servers = m.servers.iter().map(|s| s.name.clone()).collect();
    d.active = vec![Vec::new(); n];
    d.inactive = vec![Vec::new(); n];
    d.server_rps = vec![Vec::new(); n];
    d.server_state = vec![Vec::new(); n];
    // A last interval much shorter than the others (the run ended just
    // after a sample) would read as a spike: leave it out.
    let iv = m.run.interval_ns;
    let cut = match m.service_series.as_slice() {
        [.., a, b] if b.t_ns - a.t_ns < iv / 2 => b.t_ns,
        _ => u64::MAX,
    };
    let service_series: Vec<_> = m.service_series.iter().filter(|s| s.t_ns < cut).collect();
    for s in &m.server_series {
        let i = s.server as usize;
        if i >= n || s.t_ns >= cut {
            continue;
        }
        d.active[i].push(s.active);
        d.inactive[i].push(s.inactive);
        d.server_rps[i].push(s.throughput_rps);
        // Flow fidelity has no health checker: a crashed server keeps its weight.
        d.server_state[i].push(ServerState {
            up: s.up,
            in_table: true,
        });
    }
    let dir = &m.director;
    let arrivals: u64 = m.service_series.iter().map(|s| s.arrivals).sum();
    let done: u64 = m.service_series.iter().map(|s| s.outcomes.total()).sum();
    let in_per = dir.packets_in as f64 / arrivals.max(1) as f64;
    let out_per = dir.packets_out as f64 / done.max(1) as f64;
    let bytes_per_pkt = dir.bytes as f64 / (dir.packets_in + dir.packets_out).max(1) as f64;
    let (req_b, resp_b) = (m.service.bytes_in as f64, m.service.bytes_out as f64);
    let out_share = if dir.packets_out == 0 {
        0.0
    } else {
        resp_b / (req_b + resp_b).max(1.0)
    };
    for s in service_series {
        d.t.push(ms(s.t_ns) / 1e3);
        let failed = s.outcomes.total() - s.outcomes.ok;
        d.ok_rps.push(s.throughput_rps);
        d.failed_rps.push(failed as f64 / dt);
        d.p50_ms.push((s.outcomes.ok > 0).then(|| ms(s.p50_ns)));
        d.p99_ms.push((s.outcomes.ok > 0).then(|| ms(s.p99_ns)));
        let pin = s.arrivals as f64 * in_per / dt;
        let pout = s.outcomes.total() as f64 * out_per / dt;
        d.dir_in_pps.push(pin);
        d.dir_out_pps.push(pout);
        let bytes = (pin + pout) * bytes_per_pkt;
        d.dir_in_bps.push(bytes * (1.0 - out_share));
        d.dir_out_bps.push(bytes * out_share);
        if failed > 0 {
            d.marks.push(Mark {
                t: ms(s.t_ns) / 1e3,
                host: "clients".into(),
                kind: MarkKind::Failure,
                text: format!(
                    "{failed} failed ({} refused, {} reset, {} timed out)",
                    s.outcomes.refused, s.outcomes.reset, s.outcomes.timed_out
                ),
            });
        }
    }
    for (i, s) in m.servers.iter().enumerate() {
        let st = &d.server_state[i];
        for k in 1..st.len() {
            if st[k] != st[k - 1] {
                let down = !st[k].up;
                d.marks.push(Mark {
                    t: d.t[k],
                    host: s.name.clone(),
                    kind: MarkKind::Action,
                    text: format!("{} {}", s.name, if down { "crashes" } else { "recovers" }),
                });
            }
        }
    }
    d.marks
        .sort_by(|a, b| a.t.total_cmp(&b.t).then(a.kind.cmp(&b.kind)));
    d.latency = std::iter::once(&m.service)
        .chain(m.servers.iter())
        .filter(|s| s.latency.count > 0)
        .map(|s| Percentiles {
            name: if s.name == "service" {
                "all responses".into()
            } else {
                s.name.clone()
            },
            points: vec![
                (50.0, ms(s.latency.p50_ns)),
                (90.0, ms(s.latency.p90_ns)),
                (99.0, ms(s.latency.p99_ns)),
                (99.9, ms(s.latency.p999_ns)),
                (100.0, ms(s.latency.max_ns)),
            ],
        })
        .collect();
    let o = &m.service.outcomes;
    let l = &m.service.latency;
    let t = &mut d.totals;
    t.requests = m.service.requests;
    t.ok = o.ok;
    t.failed = o.total() - o.ok;
    t.p50_ms = ms(l.p50_ns);
    t.p90_ms = ms(l.p90_ns);
    t.p99_ms = ms(l.p99_ns);
    t.max_ms = ms(l.max_ns);
    t.longest_gap_s = longest_zero_run(&d.ok_rps, &d.t);
    t.server_conns = m.servers.iter().map(|s| s.requests).collect();
    t.director_in_pkts = dir.packets_in;
    t.director_out_pkts = dir.packets_out;
    t.director_in_bytes = (dir.bytes as f64 * (1.0 - out_share)).round() as u64;
    t.director_out_bytes = dir.bytes - t.director_in_bytes.min(dir.bytes);
    let mut notes = vec![
        "Flow fidelity: one arrival and one completion per connection, no packets; director packets and bytes per second are estimated from the run's totals.".to_string(),
    ];
    notes.extend(m.run.simplifications.iter().cloned());
    d.meta = Meta {
        scenario: m.run.scenario.clone(),
        description: description.to_string(),
        seed: m.run.seed,
        fidelity: m.run.fidelity.clone(),
        scheduler: m.run.scheduler.clone(),
        method: dir.method.clone(),
        interval_s: dt,
        end_s: ms(m.run.sim_time_ns) / 1e3,
        notes,
    };
    d
}

/// Longest run of samples with no successful response, between the first
/// and the last sample that had some (s).
fn longest_zero_run(ok: &[f64], t: &[f64]) -> f64 {
    let first = ok.iter().position(|&x| x > 0.0);
    let last = ok.iter().rposition(|&x| x > 0.0);
    let (Some(a), Some(b)) = (first, last) else {
        return 0.0;
    };
    let step = if t.len() > 1 { t[1] - t[0] } else { 0.0 };
    let mut best: f64 = 0.0;
    let mut prev = t[a];
    for k in a..=b {
        if ok[k] > 0.0 {
            best = best.max(t[k] - prev - step);
            prev = t[k];
        }
    }
    best
}
