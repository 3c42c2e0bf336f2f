//! Expectations in scenario files (`[[expect]]`), and checking them.
//!
//! Each `[[expect]]` table holds exactly one of these:
//!
//! ```toml
//! [[expect]]                 # the bodies the clients' curls printed, in order
//! responses = ["rs2", "rs1", "rs2"]
//! client = "client"          # optional: only this host's clients
//!
//! [[expect]]                 # the share of answered requests per body (real server)
//! share = { rs1 = 0.5, rs2 = 0.5 }
//! tolerance = 0.05           # absolute, default 0.02
//!
//! [[expect]]                 # at most N failed requests (optionally in a window)
//! failed_at_most = 0
//! from = "10s"
//! to = "20s"
//!
//! [[expect]]                 # which host holds an address (on a NIC, so a
//!                            # DR real server's VIP on lo does not count) at a time
//! vip = "192.168.59.135"
//! holder = "lvs-backup"      # or "none"
//! at = "25s"
//!
//! [[expect]]                 # what a command prints on a host at a time
//! command = "ipvsadm -Ln"
//! host = "lvs"
//! at = "6.5s"                # default: the end of the run
//! output = """..."""         # or: golden = "file" (relative to the scenario file)
//!
//! [[expect]]                 # a trace line containing a text is seen (or never)
//! trace = "IPVS TUN: encapsulated"
//! host = "lvs"               # optional
//! never = false              # optional
//!
//! [[expect]]                 # the whole trace equals a golden file
//! golden_trace = "golden/tun.trace"
//!
//! [[expect]]                 # `lvslab lint` finds this (a lesson's intended
//! lint = "answers ARP"       # mistake): a finding containing the text, on the
//! host = "rs1"               # optional host; `never = true` for none. Checked
//!                            # on the hosts as set up (time zero); `lvslab
//!                            # check` does not print the findings expected
//! ```
//!
//! sim-core reads no files: the caller passes the contents of golden files
//! (see [`Check::golden`]) and writes new ones when asked to update them.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Deserialize;
use toml::Spanned;

use super::{Ctx, Scenario, ScenarioError};
use crate::shell;
use crate::time::SimTime;
use crate::trace::TraceLevel;
use crate::world::{CurlOutcome, World};

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpectDoc {
    #[serde(default)]
    responses: Option<Vec<String>>,
    #[serde(default)]
    client: Option<Spanned<String>>,
    #[serde(default)]
    share: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    failed_at_most: Option<u64>,
    #[serde(default)]
    from: Option<Spanned<String>>,
    #[serde(default)]
    to: Option<Spanned<String>>,
    #[serde(default)]
    vip: Option<Spanned<String>>,
    #[serde(default)]
    holder: Option<String>,
    #[serde(default)]
    at: Option<Spanned<String>>,
    #[serde(default)]
    command: Option<Spanned<String>>,
    #[serde(default)]
    host: Option<Spanned<String>>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    golden: Option<String>,
    #[serde(default)]
    trace: Option<String>,
    #[serde(default)]
    never: Option<bool>,
    #[serde(default)]
    golden_trace: Option<String>,
    #[serde(default)]
    lint: Option<Spanned<String>>,
    #[serde(default)]
    note: Option<String>,
}

/// What one expectation asserts.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ExpectKind {
    /// The response bodies, in order.
    Responses {
        /// Only clients on this host (`None` = all).
        client: Option<String>,
        /// Bodies (trimmed).
        bodies: Vec<String>,
    },
    /// Share of successful requests per body.
    Share {
        /// Only clients on this host.
        client: Option<String>,
        /// Body → expected fraction.
        shares: BTreeMap<String, f64>,
        /// Absolute tolerance.
        tolerance: f64,
    },
    /// At most `max` failed requests started in `[from, to)`.
    FailedAtMost {
        /// Limit.
        max: u64,
        /// Window start.
        from: SimTime,
        /// Window end (`None` = end of run).
        to: Option<SimTime>,
    },
    /// Host holding `addr` at `at` (`None` = nobody).
    Holder {
        /// The address.
        addr: Ipv4Addr,
        /// Expected host.
        host: Option<String>,
    },
    /// A command's output on a host.
    Command {
        /// Host name.
        host: String,
        /// Command line.
        command: String,
        /// Expected output, inline.
        output: Option<String>,
        /// Or a golden file (path relative to the scenario file).
        golden: Option<String>,
    },
    /// A trace line containing `text` (on `host`) is seen, or never seen.
    Trace {
        /// The text.
        text: String,
        /// Host filter.
        host: Option<String>,
        /// `true` = must never appear.
        never: bool,
    },
    /// The whole trace equals a golden file.
    GoldenTrace {
        /// Path relative to the scenario file.
        path: String,
    },
    /// `lvslab lint` reports a finding containing `text` (on `host`), or
    /// never does.
    Lint {
        /// The text.
        text: String,
        /// Host filter.
        host: Option<String>,
        /// `true` = no such finding.
        never: bool,
    },
}

/// One `[[expect]]`, located in its file.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// 1-based line of the table in the scenario file.
    pub line: usize,
    /// When it is checked (`None` = at the end of the run).
    pub at: Option<SimTime>,
    /// What it asserts.
    pub kind: ExpectKind,
    /// Optional words shown with a failure (why this matters).
    pub note: Option<String>,
}

impl Expectation {
    /// A short description for reports.
    #[must_use]
    pub fn describe(&self) -> String {
        let at = self.at.map(|t| format!(" at {t}")).unwrap_or_default();
        match &self.kind {
            ExpectKind::Responses { bodies, .. } => format!("responses {bodies:?}"),
            ExpectKind::Share { shares, .. } => format!("share {shares:?}"),
            ExpectKind::FailedAtMost { max, .. } => format!("at most {max} failed requests"),
            ExpectKind::Holder { addr, host } => {
                format!("{addr} held by {}{at}", host.as_deref().unwrap_or("nobody"))
            }
            ExpectKind::Command { host, command, .. } => format!("`{command}` on {host}{at}"),
            ExpectKind::Trace { text, never, .. } => {
                format!(
                    "trace {} {text:?}",
                    if *never { "never has" } else { "has" }
                )
            }
            ExpectKind::GoldenTrace { path } => format!("trace equals {path}"),
            ExpectKind::Lint { text, never, .. } => format!(
                "lint {} {text:?}",
                if *never { "never finds" } else { "finds" }
            ),
        }
    }

    /// Whether this is a `lint` expectation that `f` satisfies (so
    /// `lvslab check` need not print `f`).
    #[must_use]
    pub fn expects_finding(&self, f: &crate::lint::Finding) -> bool {
        matches!(&self.kind, ExpectKind::Lint { text, host, never: false }
            if lint_matches(f, text, host.as_deref()))
    }
    /// Does checking it need the full trace?
    #[must_use]
    pub fn needs_full_trace(&self) -> bool {
        matches!(
            self.kind,
            ExpectKind::Trace { .. } | ExpectKind::GoldenTrace { .. }
        )
    }
}

fn table_line(cx: &Ctx<'_>, d: &Spanned<ExpectDoc>) -> usize {
    cx.pos(d.span().start).0
}

/// Turns the `[[expect]]` tables into checked expectations.
pub(super) fn build(
    cx: &Ctx<'_>,
    docs: &[Spanned<ExpectDoc>],
    w: &World,
) -> Result<Vec<Expectation>, ScenarioError> {
    docs.iter().map(|d| build_one(cx, d, w)).collect()
}

fn host_name(
    cx: &Ctx<'_>,
    s: Option<&Spanned<String>>,
    w: &World,
) -> Result<Option<String>, ScenarioError> {
    match s {
        Some(n) if w.host_id(n.get_ref()).is_none() => Err(super::unknown_host(cx, n, w)),
        Some(n) => Ok(Some(n.get_ref().clone())),
        None => Ok(None),
    }
}

fn build_one(
    cx: &Ctx<'_>,
    sd: &Spanned<ExpectDoc>,
    w: &World,
) -> Result<Expectation, ScenarioError> {
    let d = sd.get_ref();
    let span = sd.span();
    let line = table_line(cx, sd);
    let t = |s: &Option<Spanned<String>>| -> Result<Option<SimTime>, ScenarioError> {
        s.as_ref()
            .map(|x| cx.duration(x).map(|v| SimTime::ZERO + v))
            .transpose()
    };
    let at = t(&d.at)?;
    let kinds = [
        d.responses.is_some(),
        d.share.is_some(),
        d.failed_at_most.is_some(),
        d.vip.is_some(),
        d.command.is_some(),
        d.trace.is_some(),
        d.golden_trace.is_some(),
        d.lint.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(cx.err(
            span,
            "an [[expect]] needs exactly one of: responses, share, failed_at_most, vip, command, trace, golden_trace, lint",
            "write one [[expect]] table per expectation",
        ));
    }
    let kind = if let Some(b) = &d.responses {
        ExpectKind::Responses {
            client: host_name(cx, d.client.as_ref(), w)?,
            bodies: b.iter().map(|s| s.trim().to_string()).collect(),
        }
    } else if let Some(s) = &d.share {
        let tolerance = d.tolerance.unwrap_or(0.02);
        if !(0.0..=1.0).contains(&tolerance) || s.values().any(|v| !(0.0..=1.0).contains(v)) {
            return Err(cx.err(
                span,
                "shares and tolerance are fractions between 0 and 1",
                "for example: share = { rs1 = 0.5, rs2 = 0.5 }, tolerance = 0.05",
            ));
        }
        ExpectKind::Share {
            client: host_name(cx, d.client.as_ref(), w)?,
            shares: s.clone(),
            tolerance,
        }
    } else if let Some(max) = d.failed_at_most {
        ExpectKind::FailedAtMost {
            max,
            from: t(&d.from)?.unwrap_or(SimTime::ZERO),
            to: t(&d.to)?,
        }
    } else if let Some(v) = &d.vip {
        let addr = v.get_ref().parse().map_err(|_| {
            cx.err(
                v.span(),
                format!("bad address `{}`", v.get_ref()),
                "write an IPv4 address",
            )
        })?;
        let host = match d.holder.as_deref() {
            None => {
                return Err(cx.err(
                    span,
                    "`vip` needs `holder` (a host name, or \"none\")",
                    "for example: vip = \"192.168.59.135\", holder = \"lvs-backup\", at = \"25s\"",
                ));
            }
            Some("none") => None,
            Some(h) if w.host_id(h).is_none() => {
                return Err(cx.err(
                    span,
                    format!("unknown host `{h}` in `holder`"),
                    "use a host of this scenario, or \"none\"",
                ));
            }
            Some(h) => Some(h.to_string()),
        };
        ExpectKind::Holder { addr, host }
    } else if let Some(c) = &d.command {
        let Some(host) = host_name(cx, d.host.as_ref(), w)? else {
            return Err(cx.err(
                c.span(),
                "`command` needs `host`",
                "for example: command = \"ipvsadm -Ln\", host = \"lvs\"",
            ));
        };
        shell::check_line(c.get_ref()).map_err(|e| cx.err(c.span(), e.to_string(), ""))?;
        if d.output.is_some() == d.golden.is_some() {
            return Err(cx.err(
                c.span(),
                "`command` needs one of `output` (inline) or `golden` (a file)",
                "golden files are written with `lvslab check --update`",
            ));
        }
        ExpectKind::Command {
            host,
            command: c.get_ref().clone(),
            output: d.output.clone(),
            golden: d.golden.clone(),
        }
    } else if let Some(text) = &d.trace {
        ExpectKind::Trace {
            text: text.clone(),
            host: host_name(cx, d.host.as_ref(), w)?,
            never: d.never.unwrap_or(false),
        }
    } else if let Some(text) = &d.lint {
        if let Some(a) = &d.at {
            return Err(cx.err(
                a.span(),
                "a `lint` expectation has no time: lint looks at the hosts as their setup left them",
                "remove `at`",
            ));
        }
        ExpectKind::Lint {
            text: text.get_ref().clone(),
            host: host_name(cx, d.host.as_ref(), w)?,
            never: d.never.unwrap_or(false),
        }
    } else {
        ExpectKind::GoldenTrace {
            path: d.golden_trace.clone().unwrap_or_default(),
        }
    };
    Ok(Expectation {
        line,
        at,
        kind,
        note: d.note.clone(),
    })
}

/// The outcome of one expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    /// The expectation.
    pub expect: Expectation,
    /// `None` = passed; else what differed.
    pub failure: Option<String>,
    /// For golden comparisons: the actual text (to write with `--update`).
    pub actual: Option<(String, String)>,
}

/// Reads golden files for the checker (paths relative to the scenario).
pub trait Check {
    /// The contents of `path`, if it exists.
    fn golden(&self, path: &str) -> Option<String>;
}

/// First differing line of two texts, for reports.
#[must_use]
pub fn first_diff(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let n = e.len().max(a.len());
    for i in 0..n {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            return format!(
                "first difference at line {}:\n      expected: {}\n      actual:   {}",
                i + 1,
                x.map_or("<end of text>".to_string(), |s| format!("{s:?}")),
                y.map_or("<end of text>".to_string(), |s| format!("{s:?}"))
            );
        }
    }
    "texts differ only in the final newline".into()
}

/// Runs the scenario to its end, checking every expectation at its time.
pub fn run_checks(sc: &mut Scenario, files: &dyn Check) -> Vec<CheckResult> {
    // Lint looks at time zero, before anything runs.
    let findings = if sc
        .expectations
        .iter()
        .any(|e| matches!(e.kind, ExpectKind::Lint { .. }))
    {
        crate::lint::lint(sc)
    } else {
        Vec::new()
    };
    let mut order: Vec<usize> = (0..sc.expectations.len()).collect();
    let end = SimTime::ZERO + sc.duration;
    order.sort_by_key(|&i| (sc.expectations[i].at.unwrap_or(end), i));
    let mut out: Vec<Option<CheckResult>> = vec![None; sc.expectations.len()];
    for i in order {
        let e = sc.expectations[i].clone();
        if let ExpectKind::Lint { text, host, never } = &e.kind {
            out[i] = Some(check_lint(&findings, &e, text, host.as_deref(), *never));
            continue;
        }
        sc.world.step_until(e.at.unwrap_or(end).max(sc.world.now));
        out[i] = Some(check_one(&mut sc.world, &e, files));
    }
    sc.world.step_until(end.max(sc.world.now));
    out.into_iter().flatten().collect()
}

fn lint_matches(f: &crate::lint::Finding, text: &str, host: Option<&str>) -> bool {
    host.is_none_or(|h| f.host == h) && f.one_line().contains(text)
}

fn check_lint(
    findings: &[crate::lint::Finding],
    e: &Expectation,
    text: &str,
    host: Option<&str>,
    never: bool,
) -> CheckResult {
    let hit = findings.iter().find(|f| lint_matches(f, text, host));
    let failure = match (hit, never) {
        (Some(f), true) => Some(format!("lint found it: {}", f.one_line())),
        (None, false) => Some(if findings.is_empty() {
            "lint found nothing".to_string()
        } else {
            format!(
                "lint found {} other finding(s), first: {}",
                findings.len(),
                findings[0].one_line()
            )
        }),
        _ => None,
    };
    CheckResult {
        expect: e.clone(),
        failure,
        actual: None,
    }
}

fn curl_results<'a>(
    w: &'a World,
    client: Option<&'a str>,
) -> impl Iterator<Item = &'a crate::world::CurlResult> + 'a {
    w.apps
        .iter()
        .filter(move |a| client.is_none_or(|c| w.hosts[a.host].name == c))
        .flat_map(|a| a.results.iter())
}

fn check_one(w: &mut World, e: &Expectation, files: &dyn Check) -> CheckResult {
    let mut actual = None;
    let failure = match &e.kind {
        ExpectKind::Responses { client, bodies } => {
            let got: Vec<String> = curl_results(w, client.as_deref())
                .map(|r| r.printed().trim().to_string())
                .collect();
            (got != *bodies).then(|| format!("responses were {got:?}"))
        }
        ExpectKind::Share {
            client,
            shares,
            tolerance,
        } => check_share(w, client.as_deref(), shares, *tolerance),
        ExpectKind::FailedAtMost { max, from, to } => {
            let failed: Vec<String> = curl_results(w, None)
                .filter(|r| r.start >= *from && to.is_none_or(|t| r.start < t))
                .filter(|r| !matches!(r.outcome, CurlOutcome::Ok(_)))
                .map(|r| format!("t={} {}", r.start, r.printed()))
                .collect();
            (failed.len() as u64 > *max).then(|| {
                format!(
                    "{} failed requests (at most {max} expected), first: {}",
                    failed.len(),
                    failed[0]
                )
            })
        }
        ExpectKind::Holder { addr, host } => {
            let holders: Vec<&str> = w
                .hosts
                .iter()
                .filter(|h| {
                    h.powered
                        && h.ifaces.iter().any(|i| {
                            i.up && i.kind == crate::host::IfKind::Ether && i.has_addr(*addr)
                        })
                })
                .map(|h| h.name.as_str())
                .collect();
            let ok = match host {
                Some(h) => holders == [h.as_str()],
                None => holders.is_empty(),
            };
            (!ok).then(|| format!("{addr} was held by {holders:?}"))
        }
        ExpectKind::Command {
            host,
            command,
            output,
            golden,
        } => {
            let h = w.host_id(host).unwrap_or(0);
            let got = match shell::run_line(w, h, command) {
                Ok(o) => format!("{}{}", o.stdout, o.stderr),
                Err(err) => format!("{err}\n"),
            };
            let want = match (output, golden) {
                (Some(o), _) => Some(o.clone()),
                (None, Some(g)) => {
                    actual = Some((g.clone(), got.clone()));
                    files.golden(g)
                }
                (None, None) => None,
            };
            match want {
                Some(x) if x == got => None,
                Some(x) => Some(first_diff(&x, &got)),
                None => Some(format!(
                    "golden file {} is missing (write it with lvslab check --update)",
                    golden.as_deref().unwrap_or("")
                )),
            }
        }
        ExpectKind::Trace { text, host, never } => {
            if w.trace.level < TraceLevel::Full {
                Some("the trace was not recorded in full".into())
            } else {
                let seen = w.trace.records.iter().find(|r| {
                    host.as_deref().is_none_or(|h| &*r.host == h) && r.to_string().contains(text)
                });
                match (seen, *never) {
                    (Some(r), true) => Some(format!("seen: {r}")),
                    (None, false) => Some("no trace line contains it".into()),
                    _ => None,
                }
            }
        }
        ExpectKind::GoldenTrace { path } => {
            let got = w.trace.to_text();
            actual = Some((path.clone(), got.clone()));
            match files.golden(path) {
                Some(x) if x == got => None,
                Some(x) => Some(first_diff(&x, &got)),
                None => Some(format!(
                    "golden file {path} is missing (write it with lvslab check --update)"
                )),
            }
        }
        // Checked on the findings at time zero by `run_checks`.
        ExpectKind::Lint { .. } => None,
    };
    CheckResult {
        expect: e.clone(),
        failure,
        actual,
    }
}

#[expect(
    clippy::cast_precision_loss,
    reason = "request counts are far below 2^52"
)]
fn check_share(
    w: &World,
    client: Option<&str>,
    shares: &BTreeMap<String, f64>,
    tolerance: f64,
) -> Option<String> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut total = 0u64;
    for r in curl_results(w, client) {
        if matches!(r.outcome, CurlOutcome::Ok(_)) {
            *counts.entry(r.printed().trim().to_string()).or_default() += 1;
            total += 1;
        }
    }
    if total == 0 {
        return Some("no request was answered".into());
    }
    let mut bad = Vec::new();
    for (k, want) in shares {
        let got = counts.get(k).copied().unwrap_or(0) as f64 / total as f64;
        if (got - want).abs() > tolerance {
            bad.push(format!("{k}: {got:.3} (expected {want:.3} ± {tolerance})"));
        }
    }
    (!bad.is_empty()).then(|| {
        let all: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(
            "{} of {total} answered requests: {}",
            bad.join(", "),
            all.join(" ")
        )
    })
}
