//! Scenario files (TOML): segments, hosts and their interfaces as installed,
//! the commands typed on each host (`setup`), timed actions and clients.
//!
//! ```toml
//! [scenario]
//! name = "dr"
//! seed = 1                 # required: one root seed per scenario
//! duration = "10s"         # how long `lvslab run` simulates
//!
//! [[segment]]
//! name = "lan"             # latency = "100us", bandwidth = "1Gbit" (defaults)
//!
//! [[host]]
//! name = "lvs"
//! interfaces = [{ name = "ens33", segment = "lan", address = "192.168.59.130/24" }]
//! gateway = "192.168.59.2"              # optional default route
//! setup = """
//! ifconfig ens33:0 192.168.59.135 broadcast 192.168.59.135 netmask 255.255.255.255 up
//! ipvsadm -A -t 192.168.59.135:80 -s rr
//! """
//!
//! [[action]]               # a command at a time (faults)
//! at = "5s"
//! host = "rs1"
//! run = "systemctl stop httpd"
//!
//! [[client]]               # a workload
//! host = "client"
//! run = "while true;do curl http://192.168.59.135;sleep 1;done"
//! count = 10
//! ```
//!
//! sim-core reads no files: callers pass the text and its file name.
//! Errors carry `file:line:col`, what is wrong and a hint.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::host::IfAddr;
use crate::packet::{MacAddr, prefix_mask};
use crate::shell::{self, lex};
use crate::time::{SimDuration, SimTime};
use crate::trace::{TraceKind, TraceLevel};
use crate::world::World;

pub mod expect;

/// A problem in a scenario, located in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// File name as given by the caller.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file, self.line, self.col, self.message
        )?;
        if !self.hint.is_empty() {
            write!(f, "\n  hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// A warning found while building (a setup command that failed, a lint).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// 1-based line in the scenario file.
    pub line: usize,
    /// Host.
    pub host: String,
    /// Message.
    pub message: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    scenario: Meta,
    #[serde(default)]
    segment: Vec<SegmentDoc>,
    #[serde(default)]
    host: Vec<HostDoc>,
    #[serde(default)]
    action: Vec<ActionDoc>,
    #[serde(default)]
    client: Vec<ClientDoc>,
    /// Flow fidelity sections (see [`crate::flow::spec`]).
    #[serde(default)]
    workload: Option<crate::flow::spec::OneOrMany<crate::flow::spec::WorkloadDoc>>,
    #[serde(default)]
    server: Vec<crate::flow::spec::ServerDoc>,
    #[serde(default)]
    director: Option<crate::flow::spec::DirectorDoc>,
    #[serde(default)]
    expect: Vec<Spanned<expect::ExpectDoc>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Meta {
    name: String,
    #[serde(default)]
    description: String,
    seed: u64,
    #[serde(default)]
    duration: Option<Spanned<String>>,
    #[serde(default)]
    explain: Option<String>,
    #[serde(default)]
    explain_zh: Option<String>,
    /// `packet` (default) or `flow`.
    #[serde(default)]
    fidelity: Option<Spanned<String>>,
    /// Time-series sample interval (flow fidelity).
    #[serde(default)]
    sample: Option<Spanned<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct SegmentDoc {
    name: Spanned<String>,
    #[serde(default)]
    latency: Option<Spanned<String>>,
    #[serde(default)]
    bandwidth: Option<Spanned<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct IfaceDoc {
    name: Spanned<String>,
    segment: Spanned<String>,
    #[serde(default)]
    address: Option<Spanned<String>>,
    #[serde(default)]
    mac: Option<Spanned<String>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct HostDoc {
    name: Spanned<String>,
    #[serde(default)]
    interfaces: Vec<IfaceDoc>,
    #[serde(default)]
    gateway: Option<Spanned<String>>,
    #[serde(default)]
    setup: Option<Spanned<String>>,
    #[serde(default)]
    files: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ActionDoc {
    at: Spanned<String>,
    host: Spanned<String>,
    run: Spanned<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ClientDoc {
    host: Spanned<String>,
    run: Spanned<String>,
    #[serde(default)]
    start: Option<Spanned<String>>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    until: Option<Spanned<String>>,
    #[serde(default)]
    max_time: Option<Spanned<String>>,
    /// How many copies of this client run in parallel on the host.
    #[serde(default)]
    instances: Option<u32>,
}

/// A loaded scenario: the built world plus what the run needs.
#[derive(Debug)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Teaching explanation (English).
    pub explain: Option<String>,
    /// Teaching explanation (Simplified Chinese).
    pub explain_zh: Option<String>,
    /// Default run length.
    pub duration: SimDuration,
    /// The world at time zero, setup done.
    pub world: World,
    /// Setup commands that printed errors (as a terminal would show them).
    pub warnings: Vec<Warning>,
    /// `packet` or `flow`.
    pub fidelity: crate::flow::spec::Fidelity,
    /// The flow-fidelity run description (`fidelity = "flow"` only).
    pub flow: Option<crate::flow::FlowConfig>,
    /// `[[expect]]` tables, checked by `lvslab check`.
    pub expectations: Vec<expect::Expectation>,
}

pub(crate) struct Ctx<'a> {
    file: &'a str,
    src: &'a str,
}

impl Ctx<'_> {
    fn pos(&self, offset: usize) -> (usize, usize) {
        let before = &self.src[..offset.min(self.src.len())];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before.chars().count(), |i| before[i + 1..].chars().count())
            + 1;
        (line, col)
    }
    pub(crate) fn err(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> ScenarioError {
        let (line, col) = self.pos(span.start);
        ScenarioError {
            file: self.file.into(),
            line,
            col,
            message: message.into(),
            hint: hint.into(),
        }
    }
    pub(crate) fn duration(&self, s: &Spanned<String>) -> Result<SimDuration, ScenarioError> {
        SimDuration::parse(s.get_ref()).map_err(|e| {
            self.err(
                s.span(),
                e,
                "durations are written like 1s, 250ms, 3m, 1.5s",
            )
        })
    }
    /// Line (in the file) of line `k` (1-based) inside a string value.
    fn line_in(&self, s: &Spanned<String>, k: usize) -> usize {
        let span = s.span();
        let raw = &self.src[span.start.min(self.src.len())..span.end.min(self.src.len())];
        let (start_line, _) = self.pos(span.start);
        let skip = usize::from(
            raw.starts_with("\"\"\"\n")
                || raw.starts_with("'''\n")
                || raw.starts_with("\"\"\"\r\n")
                || raw.starts_with("'''\r\n"),
        );
        start_line + skip + k - 1
    }
}

pub(crate) fn parse_bandwidth(s: &str) -> Option<u64> {
    let t = s.trim();
    let (num, mul) = if let Some(n) = t.strip_suffix("Gbit") {
        (n, 1_000_000_000)
    } else if let Some(n) = t.strip_suffix("Mbit") {
        (n, 1_000_000)
    } else if let Some(n) = t.strip_suffix("Kbit") {
        (n, 1_000)
    } else if let Some(n) = t.strip_suffix("bit") {
        (n, 1)
    } else {
        return None;
    };
    num.trim().parse::<u64>().ok().map(|v| v * mul)
}

/// Loads and builds a scenario from its text.
///
/// # Errors
/// The first problem found, with its position.
pub fn load(
    file: &str,
    src: &str,
    level: TraceLevel,
    seed_override: Option<u64>,
) -> Result<Scenario, ScenarioError> {
    load_with(file, src, level, seed_override, &|_| None)
}

/// [`load`], with `read` giving the text of files the scenario names
/// (empirical distributions), by the path written in the scenario.
///
/// # Errors
/// The first problem found, with its position.
pub fn load_with(
    file: &str,
    src: &str,
    level: TraceLevel,
    seed_override: Option<u64>,
    read: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, ScenarioError> {
    let cx = Ctx { file, src };
    let doc: FileDoc = toml::from_str(src).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let msg = e.message().trim().to_string();
        let hint = if msg.contains("unknown field") {
            "check the spelling; the scenario format is described in the sim-core `scenario` module docs and README"
        } else if msg.contains("missing field `seed`") {
            "every scenario needs `seed = N` under [scenario] so runs are reproducible"
        } else {
            "see the shipped scenarios under scenarios/ for the format"
        };
        cx.err(span, msg, hint)
    })?;
    let seed = seed_override.unwrap_or(doc.scenario.seed);
    let mut w = World::new(seed, level);
    let duration = match &doc.scenario.duration {
        Some(d) => cx.duration(d)?,
        None => SimDuration::from_secs(10),
    };
    // Segments.
    let mut seg_names = BTreeSet::new();
    for s in &doc.segment {
        if !seg_names.insert(s.name.get_ref().clone()) {
            return Err(cx.err(
                s.name.span(),
                format!("segment `{}` is defined twice", s.name.get_ref()),
                "give each segment a unique name",
            ));
        }
        let lat = match &s.latency {
            Some(l) => cx.duration(l)?,
            None => SimDuration::from_micros(100),
        };
        let bw = match &s.bandwidth {
            Some(b) => parse_bandwidth(b.get_ref()).ok_or_else(|| {
                cx.err(
                    b.span(),
                    format!("bad bandwidth `{}`", b.get_ref()),
                    "write it like 100Mbit, 1Gbit or 10Gbit",
                )
            })?,
            None => 1_000_000_000,
        };
        w.add_segment(s.name.get_ref(), lat, bw);
    }
    // Hosts and interfaces.
    let mut macs = BTreeSet::new();
    let mut addrs: BTreeSet<Ipv4Addr> = BTreeSet::new();
    for (hi, hd) in doc.host.iter().enumerate() {
        let name = hd.name.get_ref();
        if w.host_id(name).is_some() {
            return Err(cx.err(
                hd.name.span(),
                format!("host `{name}` is defined twice"),
                "give each host a unique name",
            ));
        }
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(cx.err(
                hd.name.span(),
                format!("bad host name `{name}`"),
                "use a name without spaces, like rs1",
            ));
        }
        let h = w.add_host(name);
        for (ii, ifd) in hd.interfaces.iter().enumerate() {
            let seg = w
                .segments
                .iter()
                .position(|s| s.name == *ifd.segment.get_ref())
                .ok_or_else(|| {
                    let known: Vec<&str> = w.segments.iter().map(|s| s.name.as_str()).collect();
                    cx.err(
                        ifd.segment.span(),
                        format!("unknown segment `{}`", ifd.segment.get_ref()),
                        format!(
                            "define it with [[segment]] name = \"{}\" (known: {})",
                            ifd.segment.get_ref(),
                            known.join(", ")
                        ),
                    )
                })?;
            let ifname = ifd.name.get_ref();
            if w.hosts[h].iface_by_name(ifname).is_some() || ifname.contains(':') {
                return Err(cx.err(
                    ifd.name.span(),
                    format!("interface `{ifname}` of `{name}` is defined twice or is an alias"),
                    "aliases such as ens33:0 are made with ifconfig in setup",
                ));
            }
            let mac = match &ifd.mac {
                Some(m) => MacAddr::parse(m.get_ref())
                    .map_err(|e| cx.err(m.span(), e, "write it like 00:0c:29:e6:67:b6"))?,
                None => MacAddr([
                    0x00,
                    0x0c,
                    0x29,
                    0x10 + (hi as u8 >> 4),
                    (hi as u8) << 4 | (ii as u8 & 0x0f),
                    0x01 + ii as u8,
                ]),
            };
            if !macs.insert(mac) {
                let span = ifd.mac.as_ref().map_or(ifd.name.span(), Spanned::span);
                return Err(cx.err(
                    span,
                    format!("MAC address {mac} is used twice"),
                    "every NIC needs its own MAC address",
                ));
            }
            w.add_nic(h, ifname, mac, seg);
            if let Some(a) = &ifd.address {
                let bad = || {
                    cx.err(
                        a.span(),
                        format!("bad address `{}`", a.get_ref()),
                        "write an address with its prefix length, like 192.168.59.130/24",
                    )
                };
                let (ip, p) = a.get_ref().split_once('/').ok_or_else(bad)?;
                let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
                let p: u8 = p.parse().ok().filter(|p| *p <= 32).ok_or_else(bad)?;
                if !addrs.insert(ip) {
                    return Err(cx.err(a.span(), format!("address {ip} is configured on two interfaces"), "duplicate addresses make ARP ambiguous; give each interface its own address (a VIP goes on lo or an alias in setup)"));
                }
                let brd = (p < 31).then(|| Ipv4Addr::from(u32::from(ip) | !prefix_mask(p)));
                w.addr_add(
                    h,
                    ifname,
                    IfAddr {
                        addr: ip,
                        prefix: p,
                        brd,
                        label: ifname.clone(),
                        host_scope: false,
                    },
                )
                .map_err(|e| cx.err(a.span(), e, ""))?;
            }
        }
        for (path, body) in &hd.files {
            w.hosts[h].files.insert(path.clone(), body.clone());
        }
        if let Some(g) = &hd.gateway {
            let gw: Ipv4Addr = g.get_ref().parse().map_err(|_| {
                cx.err(
                    g.span(),
                    format!("bad gateway `{}`", g.get_ref()),
                    "write an IPv4 address",
                )
            })?;
            let r = shell::run_line(&mut w, h, &format!("ip route add default via {gw}"))
                .map_err(|e| cx.err(g.span(), e.to_string(), ""))?;
            if r.status != 0 {
                return Err(cx.err(
                    g.span(),
                    format!("gateway {gw} is not on a connected network of `{name}`"),
                    "the gateway must be inside the subnet of one of the host's interfaces",
                ));
            }
        }
    }
    // Setup scripts.
    let mut warnings = Vec::new();
    for hd in &doc.host {
        let Some(setup) = &hd.setup else { continue };
        let h = w.host_id(hd.name.get_ref()).unwrap_or(0);
        let lines = lex::split_script(setup.get_ref()).map_err(|(l, c, m)| {
            let line = cx.line_in(setup, l);
            ScenarioError {
                file: file.into(),
                line,
                col: c,
                message: m,
                hint: "close the here-document with a line holding only its word".into(),
            }
        })?;
        for sl in lines {
            let line = cx.line_in(setup, sl.line);
            if let Err(e) = shell::check_line(&sl.text) {
                return Err(ScenarioError {
                    file: file.into(),
                    line,
                    col: sl.col,
                    message: format!("{e} (in the setup of `{}`)", hd.name.get_ref()),
                    hint: "the lab models ip, ifconfig, route, sysctl, echo > /proc/sys, ipvsadm, iptables, systemctl, hostnamectl and keepalived.conf; see README".into(),
                });
            }
            let out = shell::run_with_heredoc(&mut w, h, &sl.text, sl.heredoc.as_deref()).map_err(
                |e| ScenarioError {
                    file: file.into(),
                    line,
                    col: sl.col,
                    message: e.to_string(),
                    hint: String::new(),
                },
            )?;
            w.tr(
                h,
                false,
                TraceKind::Command {
                    cmd: sl.text.clone(),
                    note: out.note_or_output(),
                },
            );
            if out.status != 0 {
                warnings.push(Warning {
                    line,
                    host: hd.name.get_ref().clone(),
                    message: format!("`{}` failed: {}", sl.text, out.stderr.trim()),
                });
            }
        }
    }
    // Timed actions.
    for a in &doc.action {
        let h = w
            .host_id(a.host.get_ref())
            .ok_or_else(|| unknown_host(&cx, &a.host, &w))?;
        let at = cx.duration(&a.at)?;
        shell::check_line(a.run.get_ref()).map_err(|e| {
            cx.err(
                a.run.span(),
                e.to_string(),
                "see README for the commands the lab models",
            )
        })?;
        w.schedule_action(SimTime::ZERO + at, h, a.run.get_ref());
    }
    // Clients.
    for c in &doc.client {
        let h = w
            .host_id(c.host.get_ref())
            .ok_or_else(|| unknown_host(&cx, &c.host, &w))?;
        let start = match &c.start {
            Some(s) => cx.duration(s)?,
            None => SimDuration::ZERO,
        };
        let run = c.run.get_ref().trim();
        let (url, sleep) = if let Some((u, s)) = shell::parse_curl_loop(run) {
            (u, Some(s))
        } else if let Some(u) = run.strip_prefix("curl ") {
            (u.trim().to_string(), None)
        } else {
            return Err(cx.err(c.run.span(), format!("a client runs `curl URL` or the loop `while true; do curl URL; sleep N; done`, not `{run}`"), "for example: run = \"while true;do curl http://192.168.59.135;sleep 1;done\""));
        };
        let (addr, port, path) = shell::parse_url(&url).ok_or_else(|| cx.err(c.run.span(), format!("bad URL `{url}`"), "write it like http://192.168.59.135 or http://10.0.0.100:8080/index.html (the lab has no DNS)"))?;
        let until = match &c.until {
            Some(u) => Some(SimTime::ZERO + cx.duration(u)?),
            None => None,
        };
        let max_time = match &c.max_time {
            Some(m) => cx.duration(m)?,
            None => SimDuration::from_secs(10),
        };
        let count = if sleep.is_some() {
            c.count
        } else {
            Some(c.count.unwrap_or(1))
        };
        let app = crate::world::ClientApp {
            host: h,
            addr,
            port,
            path,
            url: url.clone(),
            spec: crate::world::LoopSpec {
                sleep: sleep.unwrap_or_default(),
                count,
                until,
            },
            max_time,
            results: vec![],
            current: None,
            started: 0,
        };
        for _ in 0..c.instances.unwrap_or(1).max(1) {
            w.add_client(app.clone(), SimTime::ZERO + start);
        }
    }
    let docs = crate::flow::spec::FlowDocs {
        fidelity: doc.scenario.fidelity.as_ref(),
        sample: doc.scenario.sample.as_ref(),
        workload: doc.workload.as_ref(),
        servers: &doc.server,
        director: doc.director.as_ref(),
    };
    let (fidelity, flow) =
        crate::flow::spec::build(&cx, &docs, &mut w, &doc.scenario.name, seed, duration, read)?;
    let expectations = expect::build(&cx, &doc.expect, &w)?;
    Ok(Scenario {
        fidelity,
        flow,
        expectations,
        name: doc.scenario.name,
        description: doc.scenario.description,
        explain: doc.scenario.explain,
        explain_zh: doc.scenario.explain_zh,
        duration,
        world: w,
        warnings,
    })
}

fn unknown_host(cx: &Ctx<'_>, name: &Spanned<String>, w: &World) -> ScenarioError {
    let known: Vec<&str> = w.hosts.iter().map(|h| h.name.as_str()).collect();
    cx.err(
        name.span(),
        format!("unknown host `{}`", name.get_ref()),
        format!("hosts in this scenario: {}", known.join(", ")),
    )
}
