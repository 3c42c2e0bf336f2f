//! Packet fidelity: step a scenario's [`World`] in fixed intervals and read
//! what an operator would read at each instant — `ipvsadm -Ln` (ActiveConn,
//! InActConn), `ipvsadm -Ln --stats` (connections, packets, bytes), which
//! director holds the VIP (`ip a`), whether httpd runs — plus the curl
//! results and the trace's keepalived lines.
//!
//! Sampling only reads the world (it lets the IPVS table expire entries due
//! by the sample time, as `ipvsadm -Ln` does), so a report's run is the same
//! run `lvslab run` prints.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use sim_core::ipvs::ServiceKey;
use sim_core::scenario::Scenario;
use sim_core::time::{SimDuration, SimTime};
use sim_core::trace::TraceKind;
use sim_core::world::{CurlOutcome, World};

use crate::model::{
    Mark, MarkKind, Percentiles, RunData, ServerState, natural_order, percentile_points, quantile,
};

/// Sample intervals the default picks from.
const NICE_NS: [u64; 11] = [
    10_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
    30_000_000_000,
    60_000_000_000,
];

/// A readable interval giving about 300 samples over `duration`.
#[must_use]
pub fn default_interval(duration: SimDuration) -> SimDuration {
    let want = duration.as_nanos() / 300;
    let ns = NICE_NS
        .iter()
        .copied()
        .find(|&n| n >= want)
        .unwrap_or(60_000_000_000);
    SimDuration(ns)
}

/// Cumulative counters read at one sample.
#[derive(Clone, Copy, Default)]
struct Cum {
    inpkts: u64,
    outpkts: u64,
    inbytes: u64,
    outbytes: u64,
}

/// What is being collected while the world runs.
#[derive(Default)]
struct Acc {
    servers: BTreeMap<Ipv4Addr, usize>,
    server_names: Vec<String>,
    directors: BTreeMap<usize, usize>,
    /// Per sample: new conns per server.
    conns: Vec<Vec<u64>>,
    /// Connection counter of each (director, service, dest) at the last sample.
    last_conns: BTreeMap<(usize, u32, Ipv4Addr), u64>,
    /// Every (director, service, dest) seen so far.
    seen_dests: BTreeSet<(usize, u32, Ipv4Addr)>,
    last_dir: BTreeMap<usize, Cum>,
    /// Per sample: director deltas (inpkts, outpkts, inbytes, outbytes).
    dir: Vec<[u64; 4]>,
    ok: Vec<u64>,
    failed: Vec<u64>,
    lat: Vec<Vec<f64>>,
    all_lat: Vec<f64>,
    ok_ends: Vec<(f64, f64)>,
    seen: Vec<usize>,
}

/// Runs `sc` to `end`, sampling every `interval`, and returns the plot data.
#[must_use]
pub fn sample(sc: &mut Scenario, end: SimTime, interval: SimDuration) -> RunData {
    let mut d = RunData::default();
    let mut acc = Acc {
        seen: vec![0; sc.world.apps.len()],
        ..Acc::default()
    };
    let step = interval.as_nanos().max(1);
    let mut t = 0u64;
    while t < end.as_nanos() {
        t = (t + step).min(end.as_nanos());
        sc.world.step_until(SimTime(t));
        read_sample(&mut sc.world, &mut acc, &mut d);
    }
    finish(sc, &acc, &mut d, interval);
    d
}

fn is_director(w: &World, h: usize) -> bool {
    w.hosts[h].ipvs.services().next().is_some()
}

pub(crate) fn server_name(w: &World, a: Ipv4Addr) -> String {
    w.hosts
        .iter()
        .find(|h| {
            h.ifaces
                .iter()
                .filter(|i| i.name != "lo")
                .any(|i| i.addrs.iter().any(|x| x.addr == a))
        })
        .map_or_else(|| a.to_string(), |h| h.name.clone())
}

fn read_sample(w: &mut World, acc: &mut Acc, d: &mut RunData) {
    let now = w.now;
    let k = d.t.len();
    d.t.push(now.as_secs_f64());
    // Directors and servers appear as tables are built (keepalived).
    for h in 0..w.hosts.len() {
        if !is_director(w, h) {
            continue;
        }
        w.hosts[h].ipvs.advance(now);
        if let std::collections::btree_map::Entry::Vacant(e) = acc.directors.entry(h) {
            e.insert(d.directors.len());
            d.directors.push(w.hosts[h].name.clone());
            d.vip_holder.push(vec![false; k]);
        }
        let dests: Vec<Ipv4Addr> = {
            let ipvs = &w.hosts[h].ipvs;
            ipvs.services()
                .flat_map(|(id, _)| ipvs.service_dests(id).map(|x| x.addr))
                .collect()
        };
        for a in dests {
            if !acc.servers.contains_key(&a) {
                acc.servers.insert(a, acc.server_names.len());
                acc.server_names.push(server_name(w, a));
                d.active.push(vec![0; k]);
                d.inactive.push(vec![0; k]);
                d.server_state.push(vec![
                    ServerState {
                        up: true,
                        in_table: false
                    };
                    k
                ]);
                for c in &mut acc.conns {
                    c.push(0);
                }
            }
        }
    }
    read_tables(w, acc, d);
    read_clients(w, acc);
}

fn read_tables(w: &World, acc: &mut Acc, d: &mut RunData) {
    let n = acc.server_names.len();
    let (mut act, mut inact, mut conns) = (vec![0u64; n], vec![0u64; n], vec![0u64; n]);
    // Per director: which servers its table has at a weight above 0.
    let mut tables: BTreeMap<usize, Vec<bool>> = BTreeMap::new();
    let mut vips = BTreeSet::new();
    let mut cum_now: BTreeMap<(usize, u32, Ipv4Addr), u64> = BTreeMap::new();
    let mut dir_delta = [0u64; 4];
    for &h in acc.directors.keys() {
        let ipvs = &w.hosts[h].ipvs;
        let mut cum = Cum::default();
        let table = tables.entry(h).or_insert_with(|| vec![false; n]);
        for (id, s) in ipvs.services() {
            if let ServiceKey::Addr { addr, .. } = s.key {
                vips.insert(addr);
            }
            let c = s.stats.counted();
            cum.inpkts += c.inpkts;
            cum.outpkts += c.outpkts;
            cum.inbytes += c.inbytes;
            cum.outbytes += c.outbytes;
            for x in ipvs.service_dests(id) {
                let Some(&i) = acc.servers.get(&x.addr) else {
                    continue;
                };
                act[i] += u64::from(x.activeconns);
                inact[i] += u64::from(x.inactconns);
                table[i] |= x.weight > 0;
                cum_now.insert((h, id.0, x.addr), x.stats.counted().conns);
            }
        }
        let last = acc.last_dir.insert(h, cum).unwrap_or_default();
        dir_delta[0] += cum.inpkts.saturating_sub(last.inpkts);
        dir_delta[1] += cum.outpkts.saturating_sub(last.outpkts);
        dir_delta[2] += cum.inbytes.saturating_sub(last.inbytes);
        dir_delta[3] += cum.outbytes.saturating_sub(last.outbytes);
    }
    let mut holders = Vec::new();
    for (&h, &di) in &acc.directors {
        let host = &w.hosts[h];
        let holds = host.powered
            && host
                .ifaces
                .iter()
                .filter(|i| i.up)
                .any(|i| i.addrs.iter().any(|x| vips.contains(&x.addr)));
        d.vip_holder[di].push(holds);
        if holds {
            holders.push(h);
        }
    }
    // "In the table" means in the table of the director that holds the VIP
    // (the one clients reach); with no holder, in any director's table.
    let mut in_table = vec![false; n];
    for (h, t) in &tables {
        if holders.is_empty() || holders.contains(h) {
            for (x, &y) in in_table.iter_mut().zip(t) {
                *x |= y;
            }
        }
    }
    // New connections since the last sample, per dest. A dest that left a
    // table and came back (keepalived re-adds it; the kernel restores it
    // from the dest trash with its old counters) starts from a new baseline.
    for (&key, &now_c) in &cum_now {
        let delta = match acc.last_conns.get(&key) {
            Some(&last) => now_c.saturating_sub(last),
            None if acc.seen_dests.contains(&key) => 0,
            None => now_c,
        };
        if let Some(&i) = acc.servers.get(&key.2) {
            conns[i] += delta;
        }
        acc.seen_dests.insert(key);
    }
    acc.last_conns = cum_now;
    for &i in acc.servers.values() {
        let host = w.hosts.iter().find(|h| h.name == acc.server_names[i]);
        let up = host.is_none_or(|h| h.powered && h.services.httpd);
        d.active[i].push(act[i]);
        d.inactive[i].push(inact[i]);
        d.server_state[i].push(ServerState {
            up,
            in_table: in_table[i],
        });
    }
    acc.conns.push(conns);
    acc.dir.push(dir_delta);
}

fn read_clients(w: &World, acc: &mut Acc) {
    let (mut ok, mut failed, mut lat) = (0, 0, Vec::new());
    for (i, app) in w.apps.iter().enumerate() {
        for r in &app.results[acc.seen[i]..] {
            match r.outcome {
                CurlOutcome::Ok(_) => {
                    ok += 1;
                    let ms = r.end.since(r.start).as_secs_f64() * 1e3;
                    lat.push(ms);
                    acc.all_lat.push(ms);
                    acc.ok_ends
                        .push((r.start.as_secs_f64(), r.end.as_secs_f64()));
                }
                CurlOutcome::Failed { .. } => failed += 1,
            }
        }
        acc.seen[i] = app.results.len();
    }
    acc.ok.push(ok);
    acc.failed.push(failed);
    acc.lat.push(lat);
}

#[expect(clippy::cast_precision_loss, reason = "counts far below 2^52")]
fn finish(sc: &Scenario, acc: &Acc, d: &mut RunData, interval: SimDuration) {
    let w = &sc.world;
    let dt = interval.as_secs_f64();
    let win = ((1.0 / dt).ceil() as usize).max(1);
    let rate = |v: &dyn Fn(usize) -> u64, k: usize| -> f64 {
        let lo = (k + 1).saturating_sub(win);
        let n = (lo..=k).map(v).sum::<u64>() as f64;
        n / (dt * (k + 1 - lo) as f64)
    };
    let ns = d.t.len();
    let order = natural_order(&acc.server_names);
    d.servers = order.iter().map(|&i| acc.server_names[i].clone()).collect();
    let (act, inact, st) = (
        std::mem::take(&mut d.active),
        std::mem::take(&mut d.inactive),
        std::mem::take(&mut d.server_state),
    );
    d.active = order.iter().map(|&i| act[i].clone()).collect();
    d.inactive = order.iter().map(|&i| inact[i].clone()).collect();
    d.server_state = order.iter().map(|&i| st[i].clone()).collect();
    for &i in &order {
        d.server_rps
            .push((0..ns).map(|k| rate(&|j| acc.conns[j][i], k)).collect());
    }
    for k in 0..ns {
        d.ok_rps.push(rate(&|j| acc.ok[j], k));
        d.failed_rps.push(rate(&|j| acc.failed[j], k));
        d.dir_in_pps.push(rate(&|j| acc.dir[j][0], k));
        d.dir_out_pps.push(rate(&|j| acc.dir[j][1], k));
        d.dir_in_bps.push(rate(&|j| acc.dir[j][2], k));
        d.dir_out_bps.push(rate(&|j| acc.dir[j][3], k));
        let lo = (k + 1).saturating_sub(win);
        let mut v: Vec<f64> = acc.lat[lo..=k].iter().flatten().copied().collect();
        v.sort_by(f64::total_cmp);
        d.p50_ms.push((!v.is_empty()).then(|| quantile(&v, 50.0)));
        d.p99_ms.push((!v.is_empty()).then(|| quantile(&v, 99.0)));
    }
    let mut all = acc.all_lat.clone();
    all.sort_by(f64::total_cmp);
    d.latency.push(Percentiles {
        name: "all responses".into(),
        points: percentile_points(&all),
    });
    let tot = &mut d.totals;
    tot.ok = acc.ok.iter().sum();
    tot.failed = acc.failed.iter().sum();
    tot.requests = tot.ok + tot.failed;
    tot.p50_ms = quantile(&all, 50.0);
    tot.p90_ms = quantile(&all, 90.0);
    tot.p99_ms = quantile(&all, 99.0);
    tot.max_ms = all.last().copied().unwrap_or(0.0);
    tot.server_conns = order
        .iter()
        .map(|&i| acc.conns.iter().map(|c| c[i]).sum())
        .collect();
    tot.director_in_pkts = acc.dir.iter().map(|x| x[0]).sum();
    tot.director_out_pkts = acc.dir.iter().map(|x| x[1]).sum();
    tot.director_in_bytes = acc.dir.iter().map(|x| x[2]).sum();
    tot.director_out_bytes = acc.dir.iter().map(|x| x[3]).sum();
    tot.longest_gap_s = longest_gap(w, &acc.ok_ends);
    d.marks = marks(w);
    d.meta = meta(sc, dt);
}

/// Longest stretch without a successful response while some client was
/// running (from the first curl's start to the last curl's end).
fn longest_gap(w: &World, ok_ends: &[(f64, f64)]) -> f64 {
    let all = w.apps.iter().flat_map(|a| a.results.iter());
    let first = all
        .clone()
        .map(|r| r.start.as_secs_f64())
        .fold(f64::INFINITY, f64::min);
    let last = all.map(|r| r.end.as_secs_f64()).fold(0.0, f64::max);
    if !first.is_finite() {
        return 0.0;
    }
    let mut ends: Vec<f64> = ok_ends.iter().map(|x| x.1).collect();
    ends.sort_by(f64::total_cmp);
    let mut prev = first;
    let mut gap: f64 = 0.0;
    for e in ends.iter().copied().chain(std::iter::once(last)) {
        gap = gap.max(e - prev);
        prev = prev.max(e);
    }
    gap
}

fn marks(w: &World) -> Vec<Mark> {
    let mut m = Vec::new();
    for a in &w.actions {
        m.push(Mark {
            t: a.at.as_secs_f64(),
            host: w.hosts[a.host].name.clone(),
            kind: MarkKind::Action,
            text: a.command.split_whitespace().collect::<Vec<_>>().join(" "),
        });
    }
    for r in &w.trace.records {
        if let TraceKind::Keepalived { text } = &r.kind {
            let kind = if text.contains("Entering") && text.contains("STATE") {
                MarkKind::Vrrp
            } else if [
                "Removing service",
                "Adding service",
                "Disabling service",
                "Enabling service",
            ]
            .iter()
            .any(|p| text.contains(p))
            {
                MarkKind::Health
            } else {
                continue;
            };
            m.push(Mark {
                t: r.t.as_secs_f64(),
                host: r.host.to_string(),
                kind,
                text: text.clone(),
            });
        }
    }
    for app in &w.apps {
        for r in &app.results {
            if matches!(r.outcome, CurlOutcome::Failed { .. }) {
                m.push(Mark {
                    t: r.end.as_secs_f64(),
                    host: w.hosts[app.host].name.clone(),
                    kind: MarkKind::Failure,
                    text: r.printed(),
                });
            }
        }
    }
    m.sort_by(|a, b| a.t.total_cmp(&b.t).then(a.kind.cmp(&b.kind)));
    m
}

fn meta(sc: &Scenario, dt: f64) -> crate::model::Meta {
    let w = &sc.world;
    let (mut scheduler, mut method) = (String::new(), String::new());
    if let Some(h) = w.hosts.iter().find(|h| h.ipvs.services().next().is_some())
        && let Some((id, s)) = h.ipvs.services().next()
    {
        scheduler = s.sched.name().to_string();
        method = h
            .ipvs
            .service_dests(id)
            .next()
            .map(|x| x.fwd.name().to_string())
            .unwrap_or_default();
    }
    crate::model::Meta {
        scenario: sc.name.clone(),
        description: sc.description.clone(),
        seed: w.seed,
        fidelity: "packet".into(),
        scheduler,
        method,
        interval_s: dt,
        end_s: w.now.as_secs_f64(),
        notes: vec![
            "ActiveConn/InActConn are summed over every director's IPVS table, read at each sample (as ipvsadm -Ln would show them).".into(),
            "Rates are averaged over a trailing window of at least 1 s.".into(),
            "Director load is the IPVS service counters (ipvsadm -Ln --stats): InPkts client→server, OutPkts server→client (non-zero only for NAT/FULLNAT, where replies cross the director).".into(),
        ],
    }
}
