//! Collects a flow run's metrics as it goes: constant memory per real
//! server (counters and histograms), one row per sample interval.

use super::{FlowConfig, Outcome};
use crate::ipvs::FwdMethod;
use crate::metrics::{
    DirectorSummary, LatencyHistogram, Outcomes, RunInfo, RunMetrics, ServerSample, ServiceSample,
    Summary,
};
use crate::server_model::ServerModel;

#[derive(Debug, Default)]
struct PerServer {
    requests: u64,
    outcomes: Outcomes,
    hist: LatencyHistogram,
    bytes_in: u64,
    bytes_out: u64,
    completions_iv: u64,
    busy_prev: u128,
    queue_prev: u128,
}

/// The recorder.
#[derive(Debug, Default)]
pub(super) struct Recorder {
    pub interval: u64,
    pub next_sample: u64,
    pub last_sample: u64,
    servers: Vec<PerServer>,
    total: LatencyHistogram,
    iv_hist: LatencyHistogram,
    outcomes: Outcomes,
    iv_outcomes: Outcomes,
    requests: u64,
    iv_arrivals: u64,
    refused_no_dest: u64,
    dir_pkts_in: u64,
    dir_pkts_out: u64,
    dir_bytes: u64,
    dir_drops: u64,
    dir_busy_prev: u128,
    service_series: Vec<ServiceSample>,
    server_series: Vec<ServerSample>,
    info: RunInfo,
    names: Vec<(String, String)>,
    workers: Vec<u32>,
    method: String,
}

#[expect(clippy::cast_precision_loss, reason = "rates and fractions")]
fn ratio(a: u128, b: u128) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl Recorder {
    pub fn new(n: usize, interval: u64) -> Recorder {
        let interval = interval.max(1);
        Recorder {
            interval,
            next_sample: interval,
            servers: (0..n)
                .map(|_| PerServer {
                    hist: LatencyHistogram::with_digits(2),
                    ..PerServer::default()
                })
                .collect(),
            iv_hist: LatencyHistogram::with_digits(2),
            ..Recorder::default()
        }
    }

    pub fn init(
        &mut self,
        servers: &[ServerModel],
        cfg: &FlowConfig,
        sched: &str,
        method: FwdMethod,
    ) {
        self.names = servers
            .iter()
            .map(|s| (s.spec.name.clone(), s.spec.addr.to_string()))
            .collect();
        self.workers = servers.iter().map(|s| s.spec.workers).collect();
        self.method = method.name().to_string();
        self.info = RunInfo {
            scenario: cfg.name.clone(),
            seed: cfg.seed,
            fidelity: "flow".into(),
            interval_ns: self.interval,
            scheduler: sched.to_string(),
            simplifications: simplifications(),
            ..RunInfo::default()
        };
    }

    #[inline]
    pub fn arrival(&mut self) {
        self.requests += 1;
        self.iv_arrivals += 1;
    }

    #[inline]
    pub fn assigned(&mut self, server: u16, req_bytes: u64) {
        if let Some(s) = self.servers.get_mut(server as usize) {
            s.requests += 1;
            s.bytes_in += req_bytes;
        }
    }

    #[inline]
    pub fn completed(&mut self, server: u16) {
        if let Some(s) = self.servers.get_mut(server as usize) {
            s.completions_iv += 1;
        }
    }

    #[inline(always)]
    pub fn ok(&mut self, server: u16, latency: u64, resp_bytes: u64) {
        self.total.record(latency);
        self.outcomes.ok += 1;
        self.iv_outcomes.ok += 1;
        if let Some(s) = self.servers.get_mut(server as usize) {
            // Both have 2 digits.
            s.hist.record_twin(&mut self.iv_hist, latency);
            s.outcomes.ok += 1;
            s.bytes_out += resp_bytes;
        } else {
            self.iv_hist.record(latency);
        }
    }

    pub fn outcome(&mut self, server: Option<u16>, o: Outcome) {
        o.add_to(&mut self.outcomes);
        o.add_to(&mut self.iv_outcomes);
        match server.and_then(|s| self.servers.get_mut(s as usize)) {
            Some(s) => o.add_to(&mut s.outcomes),
            None => {
                if o == Outcome::Refused {
                    self.refused_no_dest += 1;
                }
            }
        }
    }

    pub fn director_in(&mut self, pkts: u64, bytes: u64) {
        self.dir_pkts_in += pkts;
        self.dir_bytes += bytes;
    }

    pub fn director_out(&mut self, pkts: u64, bytes: u64) {
        self.dir_pkts_out += pkts;
        self.dir_bytes += bytes;
    }

    pub fn director_drop(&mut self) {
        self.dir_drops += 1;
    }

    /// One sample row at `at` (end of the interval).
    #[expect(clippy::cast_precision_loss, reason = "rates")]
    pub fn sample(
        &mut self,
        at: u64,
        servers: &[ServerModel],
        conns: &[(u64, u64)],
        dir_busy: u128,
    ) {
        let dt = at.saturating_sub(self.last_sample);
        let secs = dt as f64 / 1e9;
        let (mut act, mut inact) = (0, 0);
        for (i, m) in servers.iter().enumerate() {
            let (busy, queue) = m.integrals(at);
            let s = &mut self.servers[i];
            let (a, ina) = conns.get(i).copied().unwrap_or_default();
            act += a;
            inact += ina;
            let workers = u128::from(self.workers[i].max(1));
            self.server_series.push(ServerSample {
                t_ns: at,
                server: u32::try_from(i).unwrap_or(u32::MAX),
                active: a,
                inactive: ina,
                throughput_rps: if secs > 0.0 {
                    s.completions_iv as f64 / secs
                } else {
                    0.0
                },
                utilisation: ratio(busy - s.busy_prev, workers * u128::from(dt)),
                queue: m.queue_len() as u64,
                queue_avg: ratio(queue - s.queue_prev, u128::from(dt)),
                up: m.is_up(),
            });
            s.busy_prev = busy;
            s.queue_prev = queue;
            s.completions_iv = 0;
        }
        let l = self.iv_hist.latency();
        self.service_series.push(ServiceSample {
            t_ns: at,
            arrivals: self.iv_arrivals,
            outcomes: self.iv_outcomes,
            throughput_rps: if secs > 0.0 {
                self.iv_outcomes.ok as f64 / secs
            } else {
                0.0
            },
            active: act,
            inactive: inact,
            mean_ns: l.mean_ns,
            p50_ns: l.p50_ns,
            p99_ns: l.p99_ns,
            director_utilisation: ratio(dir_busy - self.dir_busy_prev, u128::from(dt)),
        });
        self.dir_busy_prev = dir_busy;
        self.iv_hist.reset();
        self.iv_outcomes = Outcomes::default();
        self.iv_arrivals = 0;
        self.last_sample = at;
    }

    pub fn finish(
        mut self,
        servers: &[ServerModel],
        weights: &[u32],
        now: u64,
        events: u64,
        dir_busy: u128,
        path: &str,
    ) -> RunMetrics {
        self.info.sim_time_ns = now;
        self.info.events = events;
        let mut out = Vec::new();
        let (mut bin, mut bout) = (0, 0);
        for (i, m) in servers.iter().enumerate() {
            let (busy, queue) = m.integrals(now);
            let s = &self.servers[i];
            let (name, addr) = self.names[i].clone();
            bin += s.bytes_in;
            bout += s.bytes_out;
            out.push(Summary {
                name,
                addr,
                weight: weights.get(i).copied().unwrap_or(0),
                requests: s.requests,
                outcomes: s.outcomes,
                latency: s.hist.latency(),
                utilisation: ratio(busy, u128::from(self.workers[i].max(1)) * u128::from(now)),
                queue_avg: ratio(queue, u128::from(now)),
                bytes_in: s.bytes_in,
                bytes_out: s.bytes_out,
            });
        }
        let n = out.len().max(1);
        #[expect(clippy::cast_precision_loss, reason = "averages")]
        let service = Summary {
            name: "service".into(),
            addr: String::new(),
            weight: 0,
            requests: self.requests,
            outcomes: self.outcomes,
            latency: self.total.latency(),
            utilisation: out.iter().map(|s| s.utilisation).sum::<f64>() / n as f64,
            queue_avg: out.iter().map(|s| s.queue_avg).sum(),
            bytes_in: bin,
            bytes_out: bout,
        };
        RunMetrics {
            run: self.info,
            service,
            servers: out,
            director: DirectorSummary {
                method: self.method,
                packets_in: self.dir_pkts_in,
                packets_out: self.dir_pkts_out,
                bytes: self.dir_bytes,
                drops: self.dir_drops,
                utilisation: ratio(dir_busy, u128::from(now)),
                path: path.to_string(),
            },
            service_series: std::mem::take(&mut self.service_series),
            server_series: std::mem::take(&mut self.server_series),
        }
    }
}

/// What flow fidelity leaves out, shown with every flow run.
fn simplifications() -> Vec<String> {
    [
        "no packets: one arrival and one completion per connection; no network latency, no retransmission",
        "the handshake and the close happen at the arrival and completion instants",
        "the director is one FIFO forwarding resource (max of packets/pps and bits/bandwidth per connection)",
        "a real server serves a request with one worker for one service time (no CPU sharing, no keep-alive)",
        "one virtual service; no keepalived health checks (a crashed real server keeps its weight)",
        "a request lost in a real server crash ends at the crash when its client has no max_time (a real client would wait minutes, for TCP's retransmission timeout)",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect()
}
