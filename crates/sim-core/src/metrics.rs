//! Run metrics: what a capacity planner reads after a run, and what the
//! reports (plots) are drawn from.
//!
//! The data model, all plain serialisable structs:
//!
//! ```text
//! RunMetrics
//! ├── run: RunInfo                 scenario, seed, fidelity, simulated time, events
//! ├── service: Summary             every request of the run
//! ├── servers: [Summary]           one per real server (same fields)
//! ├── director: DirectorSummary    packets/bytes through the director, drops, utilisation
//! ├── service_series: [ServiceSample]   one row per sample interval
//! └── server_series:  [ServerSample]    one row per (interval, real server)
//! ```
//!
//! Latencies are response times in nanoseconds, from the client sending
//! its SYN to the last byte of the response (flow fidelity: arrival to
//! completion plus director queueing). Percentiles come from streaming
//! histograms with [HdrHistogram](https://hdrhistogram.github.io/HdrHistogram/)'s
//! bucket layout and quantile rule (checked against the `hdrhistogram`
//! crate, see [`LatencyHistogram`]): 3 significant digits (relative error ≤ 0.1 %) for the service, 2 (≤ 1 %)
//! for each real server and each sample interval; the mean is exact.
//! Only successful (`ok`) requests have a latency.
//!
//! Interval samples are taken at `t = k * interval`; counters (`arrivals`,
//! `completions`, outcomes) count what happened in `(t - interval, t]`;
//! gauges (`active`, `inactive`, `queue`) are values at `t`;
//! `utilisation` and `queue_avg` are time averages over the interval.
//!
//! sim-core returns the data ([`RunMetrics::to_json`],
//! [`RunMetrics::series_csv`], …); the caller writes the files (atomically).

use std::fmt::Write as _;

use serde::Serialize;

pub mod hist;

pub use hist::LatencyHistogram;

/// How requests ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// A full response arrived.
    pub ok: u64,
    /// Connection refused: no destination available (ICMP port
    /// unreachable), or nothing listening (RST to the SYN).
    pub refused: u64,
    /// Reset: the real server's queue was full (RST, as with
    /// `tcp_abort_on_overflow=1`).
    pub reset: u64,
    /// No answer in time: `--max-time` expired, the real server crashed
    /// with the request in it, or the director dropped a packet.
    pub timed_out: u64,
}

impl Outcomes {
    /// Every request that ended.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.ok + self.refused + self.reset + self.timed_out
    }

    /// Adds `o` to these.
    pub fn add(&mut self, o: &Outcomes) {
        self.ok += o.ok;
        self.refused += o.refused;
        self.reset += o.reset;
        self.timed_out += o.timed_out;
    }
}

/// Response-time statistics (ns) of the `ok` requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Number of values.
    pub count: u64,
    /// Exact mean.
    pub mean_ns: f64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Largest value.
    pub max_ns: u64,
}

/// Totals over the run, for the whole service or one real server.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// `service` or the real server's name.
    pub name: String,
    /// Real server address (empty for the service).
    pub addr: String,
    /// IPVS weight at the end (0 for the service).
    pub weight: u32,
    /// Requests sent to it (connections scheduled).
    pub requests: u64,
    /// How they ended.
    pub outcomes: Outcomes,
    /// Response times of the `ok` ones.
    pub latency: Latency,
    /// Busy workers / workers, averaged over the run (0..1).
    pub utilisation: f64,
    /// Mean queue length over the run.
    pub queue_avg: f64,
    /// Request bytes (client → server).
    pub bytes_in: u64,
    /// Response bytes (server → client).
    pub bytes_out: u64,
}

/// The director's side of the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DirectorSummary {
    /// Forwarding method of the service (`Route`, `Masq`, `Tunnel`, …).
    pub method: String,
    /// Packets the director forwarded client → server.
    pub packets_in: u64,
    /// Packets the director forwarded server → client (NAT/FULLNAT only).
    pub packets_out: u64,
    /// Bytes forwarded, both directions.
    pub bytes: u64,
    /// Connections lost because the director's queue was full.
    pub drops: u64,
    /// Time the director was busy / run time (0..1).
    pub utilisation: f64,
    /// Which path scheduled connections: `ipvs` (the connection table,
    /// packet by packet) or `fast` (scheduler + counters only).
    pub path: String,
}

/// Facts about the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunInfo {
    /// Scenario name.
    pub scenario: String,
    /// Root seed.
    pub seed: u64,
    /// `packet` or `flow`.
    pub fidelity: String,
    /// Simulated time at the end (ns).
    pub sim_time_ns: u64,
    /// Model events handled.
    pub events: u64,
    /// Sample interval (ns).
    pub interval_ns: u64,
    /// Scheduler of the service.
    pub scheduler: String,
    /// Simplifications in force, for the reader.
    pub simplifications: Vec<String>,
}

/// The service at the end of one interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ServiceSample {
    /// End of the interval (ns).
    pub t_ns: u64,
    /// Requests sent in the interval.
    pub arrivals: u64,
    /// Requests that ended in the interval.
    pub outcomes: Outcomes,
    /// `ok` responses per second over the interval.
    pub throughput_rps: f64,
    /// ActiveConn summed over real servers at `t`.
    pub active: u64,
    /// InActConn summed over real servers at `t`.
    pub inactive: u64,
    /// Mean response time of the interval's `ok` requests (ns).
    pub mean_ns: f64,
    /// Median of the interval.
    pub p50_ns: u64,
    /// 99th percentile of the interval.
    pub p99_ns: u64,
    /// Director busy fraction over the interval.
    pub director_utilisation: f64,
}

/// One real server at the end of one interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ServerSample {
    /// End of the interval (ns).
    pub t_ns: u64,
    /// Index into [`RunMetrics::servers`].
    pub server: u32,
    /// ActiveConn at `t` (as `ipvsadm -Ln` shows).
    pub active: u64,
    /// InActConn at `t`.
    pub inactive: u64,
    /// Responses completed per second over the interval.
    pub throughput_rps: f64,
    /// Busy workers / workers averaged over the interval.
    pub utilisation: f64,
    /// Queued requests at `t`.
    pub queue: u64,
    /// Mean queue length over the interval.
    pub queue_avg: f64,
    /// Whether the server is up at `t`.
    pub up: bool,
}

/// Everything measured in one run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunMetrics {
    /// Facts about the run.
    pub run: RunInfo,
    /// The whole service.
    pub service: Summary,
    /// One per real server.
    pub servers: Vec<Summary>,
    /// The director.
    pub director: DirectorSummary,
    /// Service time series.
    pub service_series: Vec<ServiceSample>,
    /// Real-server time series.
    pub server_series: Vec<ServerSample>,
}

fn ms(ns: f64) -> f64 {
    ns / 1e6
}

#[expect(clippy::cast_precision_loss, reason = "ns to ms for display")]
fn msu(ns: u64) -> f64 {
    ns as f64 / 1e6
}

impl RunMetrics {
    /// Everything as pretty JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// One line per real server plus a `service` line: totals.
    #[must_use]
    pub fn servers_csv(&self) -> String {
        let mut s = String::from(
            "name,addr,weight,requests,ok,refused,reset,timed_out,mean_ms,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,utilisation,queue_avg,bytes_in,bytes_out\n",
        );
        for r in self.servers.iter().chain(std::iter::once(&self.service)) {
            let l = &r.latency;
            let o = &r.outcomes;
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{},{}",
                r.name,
                r.addr,
                r.weight,
                r.requests,
                o.ok,
                o.refused,
                o.reset,
                o.timed_out,
                ms(l.mean_ns),
                msu(l.p50_ns),
                msu(l.p90_ns),
                msu(l.p99_ns),
                msu(l.p999_ns),
                msu(l.max_ns),
                r.utilisation,
                r.queue_avg,
                r.bytes_in,
                r.bytes_out
            );
        }
        s
    }

    /// The real-server time series, one row per (interval, server).
    #[must_use]
    pub fn series_csv(&self) -> String {
        let mut s = String::from(
            "t_s,server,active,inactive,throughput_rps,utilisation,queue,queue_avg,up\n",
        );
        for r in &self.server_series {
            let name = self
                .servers
                .get(r.server as usize)
                .map_or("?", |x| x.name.as_str());
            let _ = writeln!(
                s,
                "{:.3},{name},{},{},{:.3},{:.6},{},{:.6},{}",
                msu(r.t_ns) / 1e3,
                r.active,
                r.inactive,
                r.throughput_rps,
                r.utilisation,
                r.queue,
                r.queue_avg,
                u8::from(r.up)
            );
        }
        s
    }

    /// The service time series, one row per interval.
    #[must_use]
    pub fn service_csv(&self) -> String {
        let mut s = String::from(
            "t_s,arrivals,ok,refused,reset,timed_out,throughput_rps,active,inactive,mean_ms,p50_ms,p99_ms,director_utilisation\n",
        );
        for r in &self.service_series {
            let o = &r.outcomes;
            let _ = writeln!(
                s,
                "{:.3},{},{},{},{},{},{:.3},{},{},{:.6},{:.6},{:.6},{:.6}",
                msu(r.t_ns) / 1e3,
                r.arrivals,
                o.ok,
                o.refused,
                o.reset,
                o.timed_out,
                r.throughput_rps,
                r.active,
                r.inactive,
                ms(r.mean_ns),
                msu(r.p50_ns),
                msu(r.p99_ns),
                r.director_utilisation
            );
        }
        s
    }

    /// The human summary `lvslab run` prints.
    #[must_use]
    #[expect(clippy::cast_precision_loss, reason = "shares for display")]
    pub fn summary_text(&self) -> String {
        let mut s = String::new();
        let r = &self.run;
        let _ = writeln!(
            s,
            "fidelity {}: simulated {:.3} s, {} model events, seed {}, scheduler {}, director path {}",
            r.fidelity,
            msu(r.sim_time_ns) / 1e3,
            r.events,
            r.seed,
            r.scheduler,
            self.director.path
        );
        let o = &self.service.outcomes;
        let l = &self.service.latency;
        let _ = writeln!(
            s,
            "requests: {} sent, {} ok, {} refused, {} reset, {} timed out",
            self.service.requests, o.ok, o.refused, o.reset, o.timed_out
        );
        let _ = writeln!(
            s,
            "response time: mean {:.3} ms, p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
            ms(l.mean_ns),
            msu(l.p50_ns),
            msu(l.p90_ns),
            msu(l.p99_ns),
            msu(l.p999_ns),
            msu(l.max_ns)
        );
        let _ = writeln!(
            s,
            "\n{:<10} {:<15} {:>6} {:>10} {:>7} {:>10} {:>10} {:>10} {:>6} {:>8}",
            "server",
            "address",
            "weight",
            "requests",
            "share",
            "ok",
            "mean ms",
            "p99 ms",
            "util",
            "queue"
        );
        let total = self.service.requests.max(1) as f64;
        for v in &self.servers {
            let _ = writeln!(
                s,
                "{:<10} {:<15} {:>6} {:>10} {:>6.2}% {:>10} {:>10.3} {:>10.3} {:>5.1}% {:>8.3}",
                v.name,
                v.addr,
                v.weight,
                v.requests,
                v.requests as f64 * 100.0 / total,
                v.outcomes.ok,
                ms(v.latency.mean_ns),
                msu(v.latency.p99_ns),
                v.utilisation * 100.0,
                v.queue_avg
            );
        }
        let d = &self.director;
        let _ = writeln!(
            s,
            "\ndirector ({}): {} packets in, {} packets out, {} bytes, {} drops, utilisation {:.1}%",
            d.method,
            d.packets_in,
            d.packets_out,
            d.bytes,
            d.drops,
            d.utilisation * 100.0
        );
        if !r.simplifications.is_empty() {
            s.push_str("\nsimplified (flow fidelity):\n");
            for x in &r.simplifications {
                let _ = writeln!(s, "  - {x}");
            }
        }
        s
    }
}
