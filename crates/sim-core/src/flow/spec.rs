//! Scenario sections for workloads, real-server capacity and the director,
//! and the `fidelity` switch. All additive to the scenario format:
//!
//! ```toml
//! [scenario]
//! fidelity = "flow"        # or "packet" (default)
//! sample = "1s"            # time-series interval (default 1s)
//!
//! [workload]               # or [[workload]] several times
//! kind = "poisson"         # or "closed"
//! target = "10.0.0.100:80" # the virtual service
//! rate = 6800              # poisson: requests per second …
//! # schedule = { ramp = [1000, 8000], start = "10s", over = "60s" }
//! # schedule = { steps = [["0s", 1000], ["30s", 5000]] }
//! # schedule = { daily = [500, 8000], period = "24m", peak = "14m" }
//! users = 64               # closed: users, each waits for its answer …
//! think = "1s"             # … then thinks (a distribution)
//! clients = 65536          # client addresses …
//! subnet = "172.16.0.0/16" # … counted up from the subnet's first host address
//! requests = 1000000       # stop after this many (or at the scenario duration)
//! request_size = 200       # bytes, a distribution
//! response_size = { dist = "lognormal", mean = 20000, sigma = 1.0 }
//! max_time = "10s"         # curl --max-time (default: wait for ever)
//!
//! [[server]]               # capacity of one real server (both fidelities:
//!                          # at packet fidelity httpd on that host answers
//!                          # through it; outages apply at flow fidelity)
//! host = "rs1"             # or address = "10.0.0.11"
//! workers = 4
//! queue = 128              # queue limit (default: none)
//! service = { dist = "exponential", rate = 100 }   # per worker; or mean = "10ms"
//! outages = [{ at = "30s", until = "45s" }]        # crash, recovery (optional)
//!
//! [director]
//! pps = 300000             # packets per second it forwards
//! bandwidth = "1Gbit"
//! backlog = "10ms"         # longest queueing before it drops
//! path = "auto"            # flow only: "auto", "ipvs" or "fast"
//! ```
//!
//! A distribution is a number or duration (fixed), or a table:
//! `{ dist = "fixed", value = … }`, `{ dist = "exponential", mean = … }`
//! (or `rate = N` per second, for times), `{ dist = "lognormal", mean = …,
//! sigma = S }`, `{ dist = "empirical", values = [ … ] }` or
//! `{ dist = "empirical", file = "times.txt" }` (one value per line; the
//! caller reads the file, relative to the scenario).

use std::net::Ipv4Addr;

use serde::Deserialize;
use toml::Spanned;

use super::{DirectorCapacity, FlowConfig, PathChoice};
use crate::scenario::{Ctx, ScenarioError};
use crate::server_model::ServerSpec;
use crate::time::SimDuration;
use crate::workload::{Arrivals, Dist, RateSchedule, Workload};
use crate::world::World;

/// Packet by packet, or one arrival and one completion per connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fidelity {
    /// Every segment, ARP, hook (the default).
    #[default]
    Packet,
    /// One arrival and one completion per connection.
    Flow,
}

/// One table or an array of tables (`[workload]` or `[[workload]]`).
#[derive(Debug)]
pub(crate) enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table or an array of tables")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(a)).map(OneOrMany::One)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                a: A,
            ) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(serde::de::value::SeqAccessDeserializer::new(a))
                    .map(OneOrMany::Many)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<T> OneOrMany<T> {
    fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(t) => std::slice::from_ref(t),
            OneOrMany::Many(v) => v,
        }
    }
}

/// `[workload]`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkloadDoc {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    kind: Option<Spanned<String>>,
    target: Spanned<String>,
    #[serde(default)]
    rate: Option<Spanned<f64>>,
    #[serde(default)]
    schedule: Option<Spanned<toml::Table>>,
    #[serde(default)]
    users: Option<u32>,
    #[serde(default)]
    think: Option<Spanned<toml::Value>>,
    #[serde(default)]
    clients: Option<u32>,
    #[serde(default)]
    subnet: Option<Spanned<String>>,
    #[serde(default)]
    requests: Option<u64>,
    #[serde(default)]
    start: Option<Spanned<String>>,
    #[serde(default)]
    request_size: Option<Spanned<toml::Value>>,
    #[serde(default)]
    response_size: Option<Spanned<toml::Value>>,
    #[serde(default)]
    max_time: Option<Spanned<String>>,
}

/// `[[server]]`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServerDoc {
    #[serde(default)]
    host: Option<Spanned<String>>,
    #[serde(default)]
    address: Option<Spanned<String>>,
    #[serde(default)]
    workers: Option<Spanned<u32>>,
    #[serde(default)]
    queue: Option<u32>,
    #[serde(default)]
    service: Option<Spanned<toml::Value>>,
    #[serde(default)]
    outages: Vec<OutageDoc>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct OutageDoc {
    at: Spanned<String>,
    #[serde(default)]
    until: Option<Spanned<String>>,
}

/// `[director]`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct DirectorDoc {
    #[serde(default)]
    pps: Option<Spanned<f64>>,
    #[serde(default)]
    bandwidth: Option<Spanned<String>>,
    #[serde(default)]
    backlog: Option<Spanned<String>>,
    #[serde(default)]
    path: Option<Spanned<String>>,
}

/// Everything of the flow sections, as read from the file.
#[derive(Debug, Default)]
pub(crate) struct FlowDocs<'a> {
    pub fidelity: Option<&'a Spanned<String>>,
    pub sample: Option<&'a Spanned<String>>,
    pub workload: Option<&'a OneOrMany<WorkloadDoc>>,
    pub servers: &'a [ServerDoc],
    pub director: Option<&'a DirectorDoc>,
}

/// What kind of value a distribution holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// Durations (ns); bare numbers are rejected, `rate` is per second.
    Time,
    /// Bytes (plain numbers).
    Bytes,
}

/// Builds the fidelity and the flow configuration.
pub(crate) fn build(
    cx: &Ctx<'_>,
    d: &FlowDocs<'_>,
    w: &mut World,
    name: &str,
    seed: u64,
    duration: SimDuration,
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<(Fidelity, Option<FlowConfig>), ScenarioError> {
    let fidelity = match d.fidelity {
        None => Fidelity::Packet,
        Some(f) => match f.get_ref().as_str() {
            "packet" => Fidelity::Packet,
            "flow" => Fidelity::Flow,
            other => {
                return Err(cx.err(
                    f.span(),
                    format!("unknown fidelity `{other}`"),
                    "write fidelity = \"packet\" (every segment) or \"flow\" (one arrival and one completion per connection)",
                ));
            }
        },
    };
    let mut workloads = Vec::new();
    for wd in d.workload.map(OneOrMany::as_slice).unwrap_or_default() {
        workloads.push(workload(cx, wd, read)?);
    }
    if fidelity == Fidelity::Packet
        && let Some(wd) = d.workload.and_then(|x| x.as_slice().first())
    {
        return Err(cx.err(
            wd.target.span(),
            "a [workload] section needs fidelity = \"flow\"",
            "add fidelity = \"flow\" under [scenario], or describe packet-level clients with [[client]] curl loops",
        ));
    }
    if fidelity == Fidelity::Flow {
        workloads.extend(curl_loops(w));
    }
    let mut servers = Vec::new();
    for sd in d.servers {
        servers.push(server(cx, sd, w, read)?);
    }
    if fidelity == Fidelity::Packet {
        // Packet fidelity: httpd on the server's host answers through the model.
        for s in &servers {
            let host = w.hosts.iter().position(|h| {
                h.ifaces
                    .iter()
                    .flat_map(|i| i.addrs.iter())
                    .any(|a| a.addr == s.addr && !a.addr.is_loopback())
            });
            if let Some(h) = host {
                w.set_httpd_model(h, s.clone());
            }
        }
    }
    let director = match d.director {
        Some(dd) => director(cx, dd)?,
        None => (DirectorCapacity::default(), PathChoice::Auto),
    };
    let interval_ns = match d.sample {
        Some(s) => cx.duration(s)?.as_nanos().max(1),
        None => 1_000_000_000,
    };
    let cfg = FlowConfig {
        name: name.to_string(),
        seed,
        workloads,
        servers,
        director: director.0,
        path: director.1,
        until_ns: duration.as_nanos(),
        interval_ns,
        record_choices: false,
    };
    Ok((fidelity, (fidelity == Fidelity::Flow).then_some(cfg)))
}

/// The scenario's `[[client]]` curl loops as closed-loop workloads: one
/// user per loop instance, thinking for the loop's `sleep`, from the
/// client host's first address. A loop's `count` becomes the workload's
/// request total (simplified: per instance, not per user).
fn curl_loops(w: &World) -> Vec<Workload> {
    w.apps
        .iter()
        .map(|a| {
            let host = &w.hosts[a.host];
            let addr = host_addr(w, a.host).unwrap_or(Ipv4Addr::LOCALHOST);
            Workload {
                name: format!("curl@{}", host.name),
                vip: a.addr,
                vport: a.port,
                arrivals: Arrivals::Closed {
                    users: 1,
                    think: Dist::Fixed(a.spec.sleep.as_nanos() as f64),
                    first: addr,
                    clients: 1,
                },
                requests: a.spec.count,
                start_ns: 0,
                request_size: Dist::Fixed(80.0),
                response_size: Dist::Fixed(250.0),
                max_time_ns: Some(a.max_time.as_nanos()),
            }
        })
        .collect()
}

/// A host's first address on a NIC (not `lo`, where a DR real server
/// keeps the VIP).
fn host_addr(w: &World, h: crate::host::HostId) -> Option<Ipv4Addr> {
    w.hosts[h]
        .ifaces
        .iter()
        .filter(|i| i.kind == crate::host::IfKind::Ether)
        .flat_map(|i| i.addrs.iter())
        .map(|a| a.addr)
        .next()
}

fn target(cx: &Ctx<'_>, t: &Spanned<String>) -> Result<(Ipv4Addr, u16), ScenarioError> {
    let bad = || {
        cx.err(
            t.span(),
            format!("bad target `{}`", t.get_ref()),
            "write the virtual service as ADDRESS:PORT, like 10.0.0.100:80",
        )
    };
    let (a, p) = t.get_ref().split_once(':').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, p.parse().map_err(|_| bad())?))
}

fn workload(
    cx: &Ctx<'_>,
    wd: &WorkloadDoc,
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<Workload, ScenarioError> {
    let (vip, vport) = target(cx, &wd.target)?;
    let (first, clients) = match &wd.subnet {
        Some(s) => {
            let bad = || {
                cx.err(
                    s.span(),
                    format!("bad subnet `{}`", s.get_ref()),
                    "write it like 172.16.0.0/16",
                )
            };
            let (ip, p) = s.get_ref().split_once('/').ok_or_else(bad)?;
            let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
            let p: u32 = p.parse().ok().filter(|p| *p <= 30).ok_or_else(bad)?;
            let hosts = (1u64 << (32 - p)) - 2;
            let n = wd
                .clients
                .unwrap_or(u32::try_from(hosts.min(65536)).unwrap_or(1));
            if u64::from(n) > hosts {
                return Err(cx.err(
                    s.span(),
                    format!(
                        "{n} clients do not fit in {} ({hosts} host addresses)",
                        s.get_ref()
                    ),
                    "use a larger subnet or fewer clients",
                ));
            }
            let net = u32::from(ip) & (u32::MAX << (32 - p));
            (Ipv4Addr::from(net + 1), n)
        }
        None => (
            Ipv4Addr::new(172, 16, 0, 1),
            wd.clients.unwrap_or(65536).clamp(1, 1 << 20),
        ),
    };
    let kind = wd.kind.as_ref().map_or("poisson", |k| k.get_ref().as_str());
    let arrivals = match kind {
        "poisson" => {
            let schedule = match (&wd.rate, &wd.schedule) {
                (Some(r), None) => {
                    if !(r.get_ref().is_finite() && *r.get_ref() > 0.0) {
                        return Err(cx.err(
                            r.span(),
                            "the rate must be a positive number of requests per second",
                            "for example rate = 6800",
                        ));
                    }
                    RateSchedule::Constant(*r.get_ref())
                }
                (None, Some(s)) => schedule(cx, s)?,
                _ => {
                    return Err(cx.err(
                        wd.target.span(),
                        "a poisson workload needs exactly one of `rate` or `schedule`",
                        "for example rate = 6800 (requests per second)",
                    ));
                }
            };
            Arrivals::Poisson {
                schedule,
                first,
                clients,
            }
        }
        "closed" => Arrivals::Closed {
            users: wd.users.unwrap_or(1).max(1),
            think: match &wd.think {
                Some(t) => dist(cx, t, Unit::Time, read)?,
                None => Dist::Fixed(0.0),
            },
            first,
            clients,
        },
        other => {
            let span = wd.kind.as_ref().map_or(wd.target.span(), Spanned::span);
            return Err(cx.err(
                span,
                format!("unknown workload kind `{other}`"),
                "use kind = \"poisson\" (open loop) or \"closed\" (users with think time)",
            ));
        }
    };
    let size = |v: &Option<Spanned<toml::Value>>, def: f64| match v {
        Some(v) => dist(cx, v, Unit::Bytes, read),
        None => Ok(Dist::Fixed(def)),
    };
    Ok(Workload {
        name: wd.name.clone().unwrap_or_else(|| kind.to_string()),
        vip,
        vport,
        arrivals,
        requests: wd.requests,
        start_ns: match &wd.start {
            Some(s) => cx.duration(s)?.as_nanos(),
            None => 0,
        },
        request_size: size(&wd.request_size, 100.0)?,
        response_size: size(&wd.response_size, 1000.0)?,
        max_time_ns: match &wd.max_time {
            Some(m) => Some(cx.duration(m)?.as_nanos()),
            None => None,
        },
    })
}

fn schedule(cx: &Ctx<'_>, s: &Spanned<toml::Table>) -> Result<RateSchedule, ScenarioError> {
    let t = s.get_ref();
    let bad = |what: &str| {
        cx.err(
            s.span(),
            format!("bad schedule: {what}"),
            "write { ramp = [FROM, TO], start = \"10s\", over = \"60s\" }, { steps = [[\"0s\", 1000], [\"30s\", 5000]] } or { daily = [MIN, MAX], period = \"24m\", peak = \"14m\" }",
        )
    };
    let dur = |k: &str, def: u64| -> Result<u64, ScenarioError> {
        match t.get(k) {
            None => Ok(def),
            Some(toml::Value::String(v)) => SimDuration::parse(v)
                .map(SimDuration::as_nanos)
                .map_err(|e| bad(&e)),
            Some(_) => Err(bad(&format!("`{k}` must be a duration like \"60s\""))),
        }
    };
    let num = |v: &toml::Value| match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) => Some(*f),
        _ => None,
    };
    let pair = |k: &str| -> Result<(f64, f64), ScenarioError> {
        match t.get(k).and_then(toml::Value::as_array).map(Vec::as_slice) {
            Some([a, b]) => match (num(a), num(b)) {
                (Some(a), Some(b)) if a >= 0.0 && b >= 0.0 => Ok((a, b)),
                _ => Err(bad(&format!("`{k}` needs two non-negative rates"))),
            },
            _ => Err(bad(&format!("`{k}` needs two rates, like [1000, 8000]"))),
        }
    };
    if t.contains_key("ramp") {
        let (from, to) = pair("ramp")?;
        Ok(RateSchedule::Ramp {
            from,
            to,
            start_ns: dur("start", 0)?,
            over_ns: dur("over", 60_000_000_000)?,
        })
    } else if t.contains_key("daily") {
        let (min, max) = pair("daily")?;
        Ok(RateSchedule::Daily {
            min,
            max,
            period_ns: dur("period", 86_400_000_000_000)?.max(1),
            peak_ns: dur("peak", 0)?,
        })
    } else if let Some(steps) = t.get("steps").and_then(toml::Value::as_array) {
        let mut v = Vec::new();
        for st in steps {
            match st.as_array().map(Vec::as_slice) {
                Some([toml::Value::String(at), r]) => {
                    let at = SimDuration::parse(at).map_err(|e| bad(&e))?.as_nanos();
                    let r = num(r)
                        .filter(|r| *r >= 0.0)
                        .ok_or_else(|| bad("a step rate must be a non-negative number"))?;
                    if v.last().is_some_and(|(t, _)| *t >= at) {
                        return Err(bad("steps must be in increasing time order"));
                    }
                    v.push((at, r));
                }
                _ => return Err(bad("each step is [\"TIME\", RATE]")),
            }
        }
        Ok(RateSchedule::Steps(v))
    } else {
        Err(bad("no `ramp`, `steps` or `daily`"))
    }
}

/// Reads a distribution.
fn dist(
    cx: &Ctx<'_>,
    v: &Spanned<toml::Value>,
    unit: Unit,
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<Dist, ScenarioError> {
    let hint = match unit {
        Unit::Time => {
            "write a duration like \"10ms\", or { dist = \"exponential\", mean = \"10ms\" } (also rate = N per second), { dist = \"lognormal\", mean = \"10ms\", sigma = 0.5 }, { dist = \"empirical\", file = \"times.txt\" }"
        }
        Unit::Bytes => {
            "write a number of bytes like 1000, or { dist = \"exponential\", mean = 1000 }, { dist = \"lognormal\", mean = 20000, sigma = 1.0 }, { dist = \"empirical\", values = [200, 1500] }"
        }
    };
    let bad = |what: String| cx.err(v.span(), what, hint);
    let scalar = |x: &toml::Value| -> Result<f64, String> {
        match (x, unit) {
            (toml::Value::String(s), Unit::Time) => {
                SimDuration::parse(s).map(|d| d.as_nanos() as f64)
            }
            (toml::Value::Integer(i), Unit::Bytes) if *i >= 0 => Ok(*i as f64),
            (toml::Value::Float(f), Unit::Bytes) if *f >= 0.0 => Ok(*f),
            (toml::Value::Integer(_) | toml::Value::Float(_), Unit::Time) => {
                Err(format!("`{x}` has no unit: write a duration like \"10ms\""))
            }
            _ => Err(format!("`{x}` is not a valid value here")),
        }
    };
    let t = match v.get_ref() {
        toml::Value::Table(t) => t,
        other => return scalar(other).map(Dist::Fixed).map_err(bad),
    };
    let kind = t.get("dist").and_then(toml::Value::as_str).ok_or_else(|| bad("a distribution table needs `dist = \"fixed\" | \"exponential\" | \"lognormal\" | \"empirical\"`".into()))?;
    let get = |k: &str| {
        t.get(k)
            .ok_or_else(|| bad(format!("`{kind}` needs `{k}`")))
            .and_then(|x| scalar(x).map_err(bad))
    };
    let mean = || -> Result<f64, ScenarioError> {
        if let (Some(r), Unit::Time) = (t.get("rate"), unit) {
            let r = match r {
                toml::Value::Integer(i) => *i as f64,
                toml::Value::Float(f) => *f,
                _ => return Err(bad("`rate` is a number per second".into())),
            };
            if r > 0.0 {
                return Ok(1e9 / r);
            }
            return Err(bad("`rate` must be positive".into()));
        }
        get("mean")
    };
    let d = match kind {
        "fixed" => Dist::Fixed(get("value")?),
        "exponential" => Dist::Exponential { mean: mean()? },
        "lognormal" => {
            let sigma = match t.get("sigma") {
                Some(toml::Value::Float(f)) if *f >= 0.0 => *f,
                Some(toml::Value::Integer(i)) if *i >= 0 => *i as f64,
                _ => return Err(bad("`lognormal` needs `sigma`, a non-negative number (the standard deviation of ln X)".into())),
            };
            let m = mean()?;
            if m <= 0.0 {
                return Err(bad("a lognormal mean must be positive".into()));
            }
            Dist::Lognormal { mean: m, sigma }
        }
        "empirical" => match (t.get("values"), t.get("file")) {
            (Some(toml::Value::Array(a)), None) => {
                let text: Vec<String> = a
                    .iter()
                    .map(|x| match x {
                        toml::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                empirical(&text.join("\n"), unit).map_err(|(_, e)| bad(e))?
            }
            (None, Some(toml::Value::String(path))) => {
                let text = read(path)
                    .ok_or_else(|| bad(format!("cannot read the empirical file `{path}`")))?;
                empirical(&text, unit).map_err(|(l, e)| bad(format!("{path}:{l}: {e}")))?
            }
            _ => {
                return Err(bad(
                    "`empirical` needs either `values = [...]` or `file = \"PATH\"`".into(),
                ));
            }
        },
        other => return Err(bad(format!("unknown distribution `{other}`"))),
    };
    Ok(d)
}

fn empirical(text: &str, unit: Unit) -> Result<Dist, (usize, String)> {
    Dist::empirical_from_text(text, |l| match unit {
        Unit::Time => match l.parse::<f64>() {
            Ok(ms) => Ok(ms * 1e6),
            Err(_) => SimDuration::parse(l).map(|d| d.as_nanos() as f64),
        },
        Unit::Bytes => l
            .parse::<f64>()
            .map_err(|_| format!("`{l}` is not a number of bytes")),
    })
}

fn server(
    cx: &Ctx<'_>,
    sd: &ServerDoc,
    w: &World,
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<ServerSpec, ScenarioError> {
    let (name, addr) = match (&sd.host, &sd.address) {
        (Some(h), None) => {
            let id = w.host_id(h.get_ref()).ok_or_else(|| {
                let known: Vec<&str> = w.hosts.iter().map(|h| h.name.as_str()).collect();
                cx.err(
                    h.span(),
                    format!("unknown host `{}`", h.get_ref()),
                    format!("hosts in this scenario: {}", known.join(", ")),
                )
            })?;
            let addr = host_addr(w, id).ok_or_else(|| {
                cx.err(
                    h.span(),
                    format!("host `{}` has no address", h.get_ref()),
                    "give it an interface with an address, or write address = \"10.0.0.11\"",
                )
            })?;
            (h.get_ref().clone(), addr)
        }
        (None, Some(a)) => {
            let ip: Ipv4Addr = a.get_ref().parse().map_err(|_| {
                cx.err(
                    a.span(),
                    format!("bad address `{}`", a.get_ref()),
                    "write the real server address as in ipvsadm -r, like 10.0.0.11",
                )
            })?;
            (ip.to_string(), ip)
        }
        _ => {
            let span = sd
                .host
                .as_ref()
                .or(sd.address.as_ref())
                .map_or(0..0, Spanned::span);
            return Err(cx.err(
                span,
                "a [[server]] needs exactly one of `host` or `address`",
                "for example host = \"rs1\"",
            ));
        }
    };
    let workers = match &sd.workers {
        Some(n) if *n.get_ref() == 0 => {
            return Err(cx.err(
                n.span(),
                "a server needs at least one worker",
                "workers = 4",
            ));
        }
        Some(n) => *n.get_ref(),
        None => 1,
    };
    let mut outages = Vec::new();
    for o in &sd.outages {
        let at = cx.duration(&o.at)?.as_nanos();
        let until = match &o.until {
            Some(u) => {
                let u = cx.duration(u)?.as_nanos();
                if u <= at {
                    return Err(cx.err(
                        o.at.span(),
                        "an outage must end after it starts",
                        "until = a later time than at",
                    ));
                }
                Some(u)
            }
            None => None,
        };
        outages.push((at, until));
    }
    Ok(ServerSpec {
        name,
        addr,
        workers,
        queue_limit: sd.queue,
        service: match &sd.service {
            Some(s) => dist(cx, s, Unit::Time, read)?,
            None => Dist::Fixed(1_000_000.0),
        },
        outages,
    })
}

fn director(
    cx: &Ctx<'_>,
    dd: &DirectorDoc,
) -> Result<(DirectorCapacity, PathChoice), ScenarioError> {
    let mut c = DirectorCapacity::default();
    if let Some(p) = &dd.pps {
        if !(p.get_ref().is_finite() && *p.get_ref() > 0.0) {
            return Err(cx.err(
                p.span(),
                "pps must be a positive number of packets per second",
                "for example pps = 300000",
            ));
        }
        c.pps = Some(*p.get_ref());
    }
    if let Some(b) = &dd.bandwidth {
        let v = crate::scenario::parse_bandwidth(b.get_ref())
            .filter(|v| *v > 0)
            .ok_or_else(|| {
                cx.err(
                    b.span(),
                    format!("bad bandwidth `{}`", b.get_ref()),
                    "write it like 100Mbit, 1Gbit or 10Gbit",
                )
            })?;
        c.bps = Some(v as f64);
    }
    if let Some(b) = &dd.backlog {
        c.max_delay_ns = cx.duration(b)?.as_nanos();
    }
    let path = match &dd.path {
        None => PathChoice::Auto,
        Some(p) => match p.get_ref().as_str() {
            "auto" => PathChoice::Auto,
            "ipvs" => PathChoice::Ipvs,
            "fast" => PathChoice::Fast,
            other => return Err(cx.err(p.span(), format!("unknown director path `{other}`"), "use \"auto\", \"ipvs\" (the connection table, packet by packet) or \"fast\" (scheduler and counters only)")),
        },
    };
    Ok((c, path))
}
