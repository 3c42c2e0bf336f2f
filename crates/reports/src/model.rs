//! `RunData`: what one run looks like to the charts, whatever produced it.
//!
//! ```text
//!  packet fidelity: World stepped in fixed intervals ─┐
//!                   (adapt::packet)                   ├──► RunData ──► charts + index.html
//!  flow fidelity:   metrics::RunMetrics (adapt::flow) ─┘
//! ```
//!
//! Time series are column-major: `t[k]` is the end of sample `k`, and every
//! per-sample vector has the same length as `t`. Rates (`*_rps`, `*_pps`,
//! `*_bps`) are per second over a trailing window of at least one second
//! (like the kernel's rate estimator smooths `ipvsadm -Ln --rate`), so a
//! curl loop that sends one request a second reads 1 req/s, not a comb.

/// State of a real server at one sample, as the timeline draws it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerState {
    /// Its service runs (httpd started, host powered on).
    pub up: bool,
    /// A director's table has it with a weight above 0 (not drained or
    /// removed by a health checker).
    pub in_table: bool,
}

/// What a timeline mark stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkKind {
    /// A VRRP state change (keepalived log).
    Vrrp,
    /// A health-checker change (keepalived log).
    Health,
    /// A timed command from the scenario (`[[action]]`).
    Action,
    /// Failed requests.
    Failure,
}

/// Something that happened at an instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// When (s).
    pub t: f64,
    /// Host it happened on.
    pub host: String,
    /// What kind.
    pub kind: MarkKind,
    /// In words.
    pub text: String,
}

/// Latency distribution: points `(percentile 0..=100, milliseconds)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Percentiles {
    /// Label (`service`, a server name).
    pub name: String,
    /// Points in increasing percentile order.
    pub points: Vec<(f64, f64)>,
}

/// Totals shown in the report's summary table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    /// Requests started.
    pub requests: u64,
    /// Requests that got a response.
    pub ok: u64,
    /// Requests that failed (refused, reset, timed out).
    pub failed: u64,
    /// Latency percentiles of the ok requests (ms): p50, p90, p99, max.
    pub p50_ms: f64,
    /// 90th percentile (ms).
    pub p90_ms: f64,
    /// 99th percentile (ms).
    pub p99_ms: f64,
    /// Largest (ms).
    pub max_ms: f64,
    /// Longest time with no successful response while clients were sending (s).
    pub longest_gap_s: f64,
    /// Connections each real server received (same order as `servers`).
    pub server_conns: Vec<u64>,
    /// Director packets client → server.
    pub director_in_pkts: u64,
    /// Director packets server → client (NAT/FULLNAT only).
    pub director_out_pkts: u64,
    /// Director bytes client → server.
    pub director_in_bytes: u64,
    /// Director bytes server → client.
    pub director_out_bytes: u64,
}

/// Facts about the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Meta {
    /// Scenario name.
    pub scenario: String,
    /// Its description.
    pub description: String,
    /// Root seed.
    pub seed: u64,
    /// `packet` or `flow`.
    pub fidelity: String,
    /// Scheduler of the (first) virtual service.
    pub scheduler: String,
    /// Forwarding method (`Route`, `Masq`, `Tunnel`, …).
    pub method: String,
    /// Sample interval (s).
    pub interval_s: f64,
    /// Simulated time at the end (s).
    pub end_s: f64,
    /// Simplifications and estimates the reader should know about.
    pub notes: Vec<String>,
}

/// One run, ready to plot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunData {
    /// Facts.
    pub meta: Meta,
    /// Real server names (`rs1`, or the address when no host has it).
    pub servers: Vec<String>,
    /// Directors (hosts with an IPVS table).
    pub directors: Vec<String>,
    /// Sample times (s).
    pub t: Vec<f64>,
    /// ActiveConn per server per sample (summed over directors).
    pub active: Vec<Vec<u64>>,
    /// InActConn per server per sample.
    pub inactive: Vec<Vec<u64>>,
    /// New connections per second per server.
    pub server_rps: Vec<Vec<f64>>,
    /// Successful responses per second.
    pub ok_rps: Vec<f64>,
    /// Failed requests per second.
    pub failed_rps: Vec<f64>,
    /// Median latency of responses in the window (ms), if any.
    pub p50_ms: Vec<Option<f64>>,
    /// 99th percentile in the window (ms), if any.
    pub p99_ms: Vec<Option<f64>>,
    /// Director packets/s client → server (IPVS `InPkts` rate).
    pub dir_in_pps: Vec<f64>,
    /// Director packets/s server → client (IPVS `OutPkts`: NAT replies).
    pub dir_out_pps: Vec<f64>,
    /// Director bytes/s client → server.
    pub dir_in_bps: Vec<f64>,
    /// Director bytes/s server → client.
    pub dir_out_bps: Vec<f64>,
    /// Whether each director holds the VIP, per sample.
    pub vip_holder: Vec<Vec<bool>>,
    /// Each server's state per sample.
    pub server_state: Vec<Vec<ServerState>>,
    /// Latency distributions: the service first, then per server if known.
    pub latency: Vec<Percentiles>,
    /// Events for the timeline.
    pub marks: Vec<Mark>,
    /// Totals.
    pub totals: Totals,
}

impl RunData {
    /// Renames servers with `rename` and puts them in natural order
    /// (`rs2` before `rs10`), keeping every per-server vector aligned.
    pub fn rename_and_sort_servers(&mut self, rename: impl Fn(&str) -> String) {
        for p in &mut self.latency {
            if self.servers.contains(&p.name) {
                p.name = rename(&p.name);
            }
        }
        for m in &mut self.marks {
            if self.servers.contains(&m.host) {
                let new = rename(&m.host);
                m.text = m.text.replace(&m.host, &new);
                m.host = new;
            }
        }
        let names: Vec<String> = self.servers.iter().map(|s| rename(s)).collect();
        let order = natural_order(&names);
        let pick = |v: &mut Vec<Vec<u64>>| {
            let old = std::mem::take(v);
            *v = order.iter().filter_map(|&i| old.get(i).cloned()).collect();
        };
        pick(&mut self.active);
        pick(&mut self.inactive);
        let old = std::mem::take(&mut self.server_rps);
        self.server_rps = order.iter().filter_map(|&i| old.get(i).cloned()).collect();
        let old = std::mem::take(&mut self.server_state);
        self.server_state = order.iter().filter_map(|&i| old.get(i).cloned()).collect();
        let old = std::mem::take(&mut self.totals.server_conns);
        self.totals.server_conns = order.iter().filter_map(|&i| old.get(i).copied()).collect();
        self.servers = order.iter().map(|&i| names[i].clone()).collect();
        let first = self.latency.first().cloned();
        let mut rest: Vec<Percentiles> = self.latency.iter().skip(1).cloned().collect();
        rest.sort_by_key(|p| {
            self.servers
                .iter()
                .position(|s| *s == p.name)
                .unwrap_or(usize::MAX)
        });
        self.latency = first.into_iter().chain(rest).collect();
    }
}

/// Indices of `names` in natural order (`rs2` before `rs10`).
#[must_use]
pub fn natural_order(names: &[String]) -> Vec<usize> {
    let key = |s: &str| {
        let digits = s.len() - s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (head, num) = s.split_at(s.len() - digits);
        (
            head.to_string(),
            num.parse::<u64>().unwrap_or(0),
            s.to_string(),
        )
    };
    let mut idx: Vec<usize> = (0..names.len()).collect();
    idx.sort_by_key(|&i| key(&names[i]));
    idx
}

/// Percentile points of `sorted` values (ascending): every value, thinned
/// to at most ~400 points, with the maximum last.
#[must_use]
pub fn percentile_points(sorted: &[f64]) -> Vec<(f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    let step = n.div_ceil(400).max(1);
    let mut pts: Vec<(f64, f64)> = (0..n)
        .step_by(step)
        .map(|i| (pct(i + 1, n), sorted[i]))
        .collect();
    if pts.last().is_none_or(|p| p.0 < 100.0) {
        pts.push((100.0, sorted[n - 1]));
    }
    pts
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn pct(rank: usize, n: usize) -> f64 {
    rank as f64 * 100.0 / n as f64
}

/// The value at percentile `p` (0..=100) of ascending `sorted` (nearest rank).
#[must_use]
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    reason = "rank of a small slice"
)]
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let n = sorted.len();
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    sorted[rank.clamp(1, n) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert!((quantile(&v, 50.0) - 50.0).abs() < 1e-9);
        assert!((quantile(&v, 99.0) - 99.0).abs() < 1e-9);
        assert!((quantile(&v, 100.0) - 100.0).abs() < 1e-9);
        assert!((quantile(&v, 0.0) - 1.0).abs() < 1e-9);
        assert!(quantile(&[], 50.0).abs() < 1e-9);
    }

    #[test]
    fn percentile_points_end_at_the_maximum() {
        let v: Vec<f64> = (0..1000).map(f64::from).collect();
        let p = percentile_points(&v);
        assert!(p.len() <= 402);
        assert_eq!(p.last(), Some(&(100.0, 999.0)));
        assert!(p.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
    }
}
