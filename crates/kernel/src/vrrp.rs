//! VRRP on both sides, as timed events: keepalived starts and stops (the
//! scenario's `systemctl … keepalived`) and VIPs added and removed.
//!
//! The simulator's events come from its world (virtual time); the
//! kernel's from the guest: each start/stop is stamped by busybox `ts`
//! just before the command, each VIP change by `ip -ts monitor address`
//! in the host's namespace (both wall clock, µs). Kernel time 0 is the
//! first keepalived's VRRP process being up (it has joined 224.0.0.18;
//! else the first start), as the simulator's is the setup, where its
//! keepalived starts and is up at once.
//!
//! From the events come the measured times compared with [`TOLERANCE_S`]:
//! the **takeover** (a host that held a VIP stops keepalived: time until
//! another host adds the VIP; keepalived's SIGTERM sends a priority-0
//! advert, so the backup takes over after its skew time
//! (256 − priority)/256 s) and the VIP's **return** (keepalived starts:
//! time until that host adds a VIP, with no other keepalived stopping in
//! between: 3 × advert_int + skew when it preempts). And the sequence of
//! VIP holders, compared exactly.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// How far the kernel's measured times may be from the simulator's. Real
/// keepalived's timers run on a real clock: a process start under qemu's
/// emulation, scheduling and the 10 ms `ip monitor`/`ts` stamps add up to
/// tens of milliseconds; a wrong model (a missing skew time, 3 adverts
/// instead of a priority-0 advert) is off by 0.4 s or more.
pub const TOLERANCE_S: f64 = 0.25;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// keepalived started.
    Start,
    /// keepalived was told to stop.
    Stop,
    /// keepalived's VRRP process is up (kernel only: it joined 224.0.0.18).
    Up,
    /// Another timed `[[action]]` (e.g. an iptables rule): what happens
    /// after it is not the consequence of an earlier start alone.
    Action,
    /// A VIP was added.
    Add(Ipv4Addr),
    /// A VIP was removed.
    Del(Ipv4Addr),
}

/// One event.
#[derive(Clone, Debug, PartialEq)]
pub struct Ev {
    /// Seconds since time 0.
    pub t: f64,
    /// Host name.
    pub host: String,
    /// What.
    pub kind: Kind,
}

/// `2026-12-03T13:12:05.507476` (UTC) as seconds since the epoch.
#[must_use]
pub fn parse_iso(s: &str) -> Option<f64> {
    let (date, time) = s.trim().trim_matches(['[', ']']).split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, dd) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (hh, mm) = (
        t.next()?.parse::<i64>().ok()?,
        t.next()?.parse::<i64>().ok()?,
    );
    let ss: f64 = t.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&dd) || hh > 23 || mm > 59 || ss >= 61.0 {
        return None;
    }
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    #[allow(clippy::cast_precision_loss)]
    let secs = (days * 86_400 + hh * 3600 + mm * 60) as f64;
    Some(secs + ss)
}

/// One line of `ip -ts -o monitor address`: time, added (`false` for
/// `Deleted`), IPv4 address. IPv6 lines give `None`.
#[must_use]
pub fn parse_monitor(line: &str) -> Option<(f64, bool, Ipv4Addr)> {
    let rest = line.trim_start().strip_prefix('[')?;
    let (ts, rest) = rest.split_once(']')?;
    let t = parse_iso(ts)?;
    let rest = rest.trim_start();
    let (added, rest) = match rest.strip_prefix("Deleted ") {
        Some(r) => (false, r),
        None => (true, rest),
    };
    let mut w = rest.split_whitespace();
    w.find(|x| *x == "inet")?;
    let addr = w.next()?.split('/').next()?.parse().ok()?;
    Some((t, added, addr))
}

/// The kernel's events from each keepalived host's stamps (`ka-events`:
/// `ISO start|stop` lines) and `ka-addr` (`ip -ts monitor address`),
/// keeping only the addresses in `vips`, relative to the first start;
/// sorted by time.
#[must_use]
pub fn kernel_events(files: &[(String, String, String)], vips: &BTreeSet<Ipv4Addr>) -> Vec<Ev> {
    let mut abs: Vec<(f64, String, Kind)> = Vec::new();
    for (host, events, addrs) in files {
        for l in events.lines() {
            let mut w = l.split_whitespace();
            let (Some(t), Some(what)) = (w.next().and_then(parse_iso), w.next()) else {
                continue;
            };
            let kind = match what {
                "start" => Kind::Start,
                "stop" => Kind::Stop,
                "up" => Kind::Up,
                _ => continue,
            };
            abs.push((t, host.clone(), kind));
        }
        for l in addrs.lines() {
            if let Some((t, added, a)) = parse_monitor(l)
                && vips.contains(&a)
            {
                let kind = if added { Kind::Add(a) } else { Kind::Del(a) };
                abs.push((t, host.clone(), kind));
            }
        }
    }
    // Time 0: the first VRRP process up (the simulator's keepalived is up
    // at once), else the first start.
    let first = |k: Kind| {
        abs.iter()
            .filter(|e| e.2 == k)
            .map(|e| e.0)
            .fold(f64::INFINITY, f64::min)
    };
    let t0 = first(Kind::Up);
    let t0 = if t0.is_finite() {
        t0
    } else {
        first(Kind::Start)
    };
    let t0 = if t0.is_finite() { t0 } else { 0.0 };
    let mut v: Vec<Ev> = abs
        .into_iter()
        .map(|(t, host, kind)| Ev {
            t: t - t0,
            host,
            kind,
        })
        .collect();
    sort(&mut v);
    v
}

/// Sorts by time; at equal times starts/stops come first (the simulator
/// removes a VIP at the instant of the stop).
pub fn sort(v: &mut [Ev]) {
    v.sort_by(|a, b| {
        a.t.total_cmp(&b.t).then_with(|| {
            let rank = |k: &Kind| u8::from(matches!(k, Kind::Add(_) | Kind::Del(_)));
            rank(&a.kind).cmp(&rank(&b.kind))
        })
    });
}

/// What a measurement is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum What {
    /// Host stopped keepalived holding VIP: time until another host has it.
    Takeover,
    /// Host started keepalived: time until it holds a VIP.
    Holds,
}

/// One measured time.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    /// Which kind.
    pub what: What,
    /// The host that stopped or started keepalived.
    pub host: String,
    /// Its n-th stop (takeover) or start (holds), from 1.
    pub nth: usize,
    /// The VIP.
    pub vip: Ipv4Addr,
    /// When the stop or start happened (s).
    pub at: f64,
    /// Seconds until the VIP moved, and to whom; `None`: it never did.
    pub took: Option<(f64, String)>,
    /// After a start: how long keepalived took until its VRRP process was
    /// up (kernel only; the simulator starts it at once).
    pub startup: Option<f64>,
}

impl Measure {
    /// The compared time: for a start, from the VRRP process being up.
    #[must_use]
    pub fn secs(&self) -> Option<f64> {
        self.took
            .as_ref()
            .map(|(s, _)| s - self.startup.unwrap_or(0.0))
    }
}

/// VIPs `host` holds just before time `t`.
fn held(ev: &[Ev], host: &str, t: f64) -> BTreeSet<Ipv4Addr> {
    let mut s = BTreeSet::new();
    for e in ev.iter().filter(|e| e.host == host && e.t < t) {
        match e.kind {
            Kind::Add(a) => {
                s.insert(a);
            }
            Kind::Del(a) => {
                s.remove(&a);
            }
            _ => {}
        }
    }
    s
}

/// The takeover and return times in an event list (sorted).
#[must_use]
pub fn measures(ev: &[Ev]) -> Vec<Measure> {
    let mut out = Vec::new();
    let mut nth_stop: Vec<(String, usize)> = Vec::new();
    let mut nth_start: Vec<(String, usize)> = Vec::new();
    let bump = |v: &mut Vec<(String, usize)>, h: &str| -> usize {
        if let Some(x) = v.iter_mut().find(|x| x.0 == h) {
            x.1 += 1;
            x.1
        } else {
            v.push((h.to_string(), 1));
            1
        }
    };
    for (i, e) in ev.iter().enumerate() {
        match e.kind {
            Kind::Stop => {
                let nth = bump(&mut nth_stop, &e.host);
                for vip in held(ev, &e.host, e.t) {
                    let took = ev[i + 1..]
                        .iter()
                        .find(|x| x.host != e.host && x.kind == Kind::Add(vip))
                        .map(|x| (x.t - e.t, x.host.clone()));
                    out.push(Measure {
                        what: What::Takeover,
                        host: e.host.clone(),
                        nth,
                        vip,
                        at: e.t,
                        took,
                        startup: None,
                    });
                }
            }
            Kind::Start => {
                let nth = bump(&mut nth_start, &e.host);
                let mut startup = None;
                for x in &ev[i + 1..] {
                    match x.kind {
                        Kind::Stop | Kind::Action => break,
                        Kind::Up if x.host == e.host && startup.is_none() => {
                            startup = Some(x.t - e.t);
                        }
                        Kind::Add(vip) if x.host == e.host => {
                            out.push(Measure {
                                what: What::Holds,
                                host: e.host.clone(),
                                nth,
                                vip,
                                at: e.t,
                                took: Some((x.t - e.t, x.host.clone())),
                                startup,
                            });
                            break;
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// One host holding a VIP: from, until (`None`: still at the end).
pub type Span = (String, f64, Option<f64>);

/// Who held each VIP, in order, with the spans (`host t1–t2`, `–end`).
#[must_use]
pub fn holders(ev: &[Ev]) -> Vec<(Ipv4Addr, Vec<Span>)> {
    let mut vips: Vec<Ipv4Addr> = ev
        .iter()
        .filter_map(|e| match e.kind {
            Kind::Add(a) | Kind::Del(a) => Some(a),
            _ => None,
        })
        .collect();
    vips.sort();
    vips.dedup();
    vips.into_iter()
        .map(|vip| {
            let mut spans: Vec<Span> = Vec::new();
            for e in ev {
                match e.kind {
                    Kind::Add(a)
                        if a == vip && !spans.iter().any(|s| s.0 == e.host && s.2.is_none()) =>
                    {
                        spans.push((e.host.clone(), e.t, None));
                    }
                    Kind::Del(a) if a == vip => {
                        if let Some(s) = spans.iter_mut().find(|s| s.0 == e.host && s.2.is_none()) {
                            s.2 = Some(e.t);
                        }
                    }
                    _ => {}
                }
            }
            (vip, spans)
        })
        .collect()
}

/// `lvs-master 3.219s–15.000s, lvs-backup 15.609s–end`.
#[must_use]
pub fn spans_text(spans: &[Span]) -> String {
    let v: Vec<String> = spans
        .iter()
        .map(|(h, a, b)| match b {
            Some(b) => format!("{h} {a:.3}s–{b:.3}s"),
            None => format!("{h} {a:.3}s–end"),
        })
        .collect();
    if v.is_empty() {
        "nobody".into()
    } else {
        v.join(", ")
    }
}

/// Compares both sides' VRRP: holder sequences exactly, measured times
/// within [`TOLERANCE_S`]. Appends lines to `t`; returns the differences.
pub fn compare(sim: &[Ev], kernel: &[Ev], t: &mut String) -> usize {
    let mut diff = 0;
    let (hs, hk) = (holders(sim), holders(kernel));
    let mut vips: Vec<Ipv4Addr> = hs.iter().chain(&hk).map(|x| x.0).collect();
    vips.sort();
    vips.dedup();
    let none = Vec::new();
    for vip in vips {
        let a = hs.iter().find(|x| x.0 == vip).map_or(&none, |x| &x.1);
        let b = hk.iter().find(|x| x.0 == vip).map_or(&none, |x| &x.1);
        let seq = |v: &[Span]| -> Vec<String> { v.iter().map(|s| s.0.clone()).collect() };
        let end = |v: &[Span]| -> Vec<String> {
            v.iter()
                .filter(|s| s.2.is_none())
                .map(|s| s.0.clone())
                .collect()
        };
        let same = seq(a) == seq(b) && end(a) == end(b);
        let last = end(a);
        if same {
            let _ = writeln!(
                t,
                "  same: VRRP: VIP {vip} held by {} in turn, at the end by {}",
                seq(a).join(" → "),
                if last.is_empty() {
                    "nobody".into()
                } else {
                    last.join(" and ")
                }
            );
        } else {
            diff += 1;
            let _ = writeln!(
                t,
                "  DIFF VRRP: VIP {vip} held by other hosts or in another order:"
            );
        }
        let _ = writeln!(t, "      simulator: {}", spans_text(a));
        let _ = writeln!(t, "      kernel:    {}", spans_text(b));
    }
    let (ms, mk) = (measures(sim), measures(kernel));
    let key = |m: &Measure| (m.what.clone(), m.host.clone(), m.nth, m.vip);
    let mut keys: Vec<_> = ms.iter().chain(&mk).map(key).collect();
    keys.sort();
    keys.dedup();
    // In the simulator's time order.
    keys.sort_by(|x, y| {
        let at = |k: &(What, String, usize, Ipv4Addr)| {
            ms.iter()
                .chain(&mk)
                .find(|m| &key(m) == k)
                .map_or(0.0, |m| m.at)
        };
        at(x).total_cmp(&at(y))
    });
    for k in keys {
        let a = ms.iter().find(|m| key(m) == k);
        let b = mk.iter().find(|m| key(m) == k);
        let (what, host, nth, vip) = &k;
        let at = a.or(b).map_or(0.0, |m| m.at);
        let label = match what {
            What::Takeover => format!(
                "VRRP takeover of {vip} after `systemctl stop keepalived` on {host} (stop #{nth}, {at:.3}s)"
            ),
            What::Holds => format!(
                "VIP {vip} on {host} after its keepalived start #{nth} ({at:.3}s; timed from its VRRP process up)"
            ),
        };
        let show = |m: Option<&Measure>| match (m, m.and_then(Measure::secs)) {
            (Some(m), Some(s)) => {
                let by = m.took.as_ref().map_or("", |x| x.1.as_str());
                match m.startup {
                    Some(up) => format!(
                        "{s:.3} s ({by}; {:.3} s after the command, keepalived took {up:.3} s to start)",
                        s + up
                    ),
                    None => format!("{s:.3} s ({by})"),
                }
            }
            (Some(_), None) => "never".into(),
            (None, _) => "not measured".into(),
        };
        let who = |m: Option<&Measure>| m.and_then(|m| m.took.as_ref().map(|x| x.1.clone()));
        let close = match (a.and_then(Measure::secs), b.and_then(Measure::secs)) {
            (Some(x), Some(y)) => who(a) == who(b) && (x - y).abs() <= TOLERANCE_S,
            (None, None) => a.is_some() == b.is_some(),
            _ => false,
        };
        let verdict = if close { "within" } else { "beyond" };
        let _ = writeln!(
            t,
            "  {}{label}: sim {}, kernel {}, {verdict} ±{TOLERANCE_S} s",
            if close { "same: " } else { "DIFF " },
            show(a),
            show(b)
        );
        if !close {
            diff += 1;
        }
    }
    diff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: f64, host: &str, kind: Kind) -> Ev {
        Ev {
            t,
            host: host.into(),
            kind,
        }
    }

    const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 59, 135);

    #[test]
    fn iso_times() {
        assert_eq!(parse_iso("1970-01-01T00:00:00.000000"), Some(0.0));
        let a = parse_iso("2026-12-03T13:12:05.507476").unwrap();
        let b = parse_iso("[2026-12-04T00:00:00.5]").unwrap();
        // 2026-12-03 is day 20,425 since the epoch (`date -d 2026-12-03 +%s`)
        assert!((a - (1_796_256_000.0 + 13.0 * 3600.0 + 12.0 * 60.0 + 5.507_476)).abs() < 1e-6);
        assert!((b - a - (10.0 * 3600.0 + 47.0 * 60.0 + 54.992_524)).abs() < 1e-6);
        assert_eq!(parse_iso("2026-13-03T13:12:05"), None);
        assert_eq!(parse_iso("garbage"), None);
    }

    #[test]
    fn monitor_lines() {
        let add = "[2026-12-03T13:13:04.745758] 2: e0    inet 192.168.59.135/32 scope global e0\\       valid_lft forever preferred_lft forever";
        let del = "[2026-12-03T13:13:10.389638] Deleted 2: e0    inet 192.168.59.135/32 scope global e0\\       valid_lft forever";
        let v6 =
            "[2026-12-03T13:12:59.538067] 2: e0    inet6 fe80::586a:5bff:fea6:a404/64 scope link";
        let (t, added, a) = parse_monitor(add).unwrap();
        assert!(added);
        assert_eq!(a, VIP);
        assert!((parse_monitor(del).unwrap().0 - t - 5.643_88).abs() < 1e-6);
        assert!(!parse_monitor(del).unwrap().1);
        assert_eq!(parse_monitor(v6), None);
    }

    /// What the tutorial keepalived lab gives on the kernel, as printed.
    #[test]
    fn kernel_files_to_measures() {
        let m_ev = "2026-12-03T13:12:58.112369 start\n2026-12-03T13:12:58.412369 up\n2026-12-03T13:13:04.130065 stop\n2026-12-03T13:13:07.146051 start\n";
        let m_addr = "[2026-12-03T13:12:59.281983] 2: e0    inet6 fe80::1/64 scope link\n\
                      [2026-12-03T13:13:01.352177] 2: e0    inet 192.168.59.135/32 scope global e0\n\
                      [2026-12-03T13:13:04.136355] Deleted 2: e0    inet 192.168.59.135/32 scope global e0\n\
                      [2026-12-03T13:13:10.389842] 2: e0    inet 192.168.59.135/32 scope global e0\n";
        let b_ev = "2026-12-03T13:12:58.300000 start\n";
        let b_addr = "[2026-12-03T13:13:04.745758] 2: e0    inet 192.168.59.135/32 scope global e0\n\
                      [2026-12-03T13:13:10.389638] Deleted 2: e0    inet 192.168.59.135/32 scope global e0\n\
                      [2026-12-03T13:13:10.5] 2: e0    inet 10.9.9.9/32 scope global e0\n";
        let files = vec![
            ("m".to_string(), m_ev.to_string(), m_addr.to_string()),
            ("b".to_string(), b_ev.to_string(), b_addr.to_string()),
        ];
        let ev = kernel_events(&files, &BTreeSet::from([VIP]));
        assert_eq!(ev.len(), 10, "{ev:?}");
        // time 0 is the VRRP process up, 0.3 s after the first start
        assert_eq!(
            (ev[0].kind, ev[2].kind, ev[2].t),
            (Kind::Start, Kind::Up, 0.0)
        );
        assert!((ev[0].t + 0.3).abs() < 1e-6);
        let m = measures(&ev);
        assert_eq!(m.len(), 3, "{m:?}");
        assert_eq!(m[0].what, What::Holds);
        assert!((m[0].took.as_ref().unwrap().0 - 3.239_808).abs() < 1e-6);
        // timed from the VRRP process being up, 0.3 s after the command
        assert!((m[0].secs().unwrap() - 2.939_808).abs() < 1e-6);
        assert_eq!(m[2].startup, None);
        assert_eq!(m[1].what, What::Takeover);
        let (s, by) = m[1].took.clone().unwrap();
        assert!((s - 0.615_693).abs() < 1e-6);
        assert_eq!(by, "b");
        assert_eq!((m[2].what.clone(), m[2].nth), (What::Holds, 2));
        assert!((m[2].took.as_ref().unwrap().0 - 3.243_791).abs() < 1e-6);
        let h = holders(&ev);
        assert_eq!(
            spans_text(&h[0].1),
            "m 2.940s–5.724s, b 6.333s–11.977s, m 11.977s–end"
        );
    }

    fn sim() -> Vec<Ev> {
        vec![
            ev(0.0, "m", Kind::Start),
            ev(0.0, "b", Kind::Start),
            ev(3.219, "m", Kind::Add(VIP)),
            ev(15.0, "m", Kind::Stop),
            ev(15.0, "m", Kind::Del(VIP)),
            ev(15.609, "b", Kind::Add(VIP)),
            ev(25.0, "m", Kind::Start),
            ev(28.219, "m", Kind::Add(VIP)),
            ev(28.219, "b", Kind::Del(VIP)),
        ]
    }

    /// A VIP that a host takes after another timed action (split brain:
    /// adverts dropped by iptables) is not timed from its start.
    #[test]
    fn an_action_ends_a_start_measurement() {
        let mut ev = vec![
            ev(0.0, "m", Kind::Start),
            ev(0.0, "b", Kind::Start),
            ev(3.219, "m", Kind::Add(VIP)),
            ev(10.0, "b", Kind::Action),
            ev(13.609, "b", Kind::Add(VIP)),
        ];
        sort(&mut ev);
        let m = measures(&ev);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].host, "m");
        assert_eq!(
            spans_text(&holders(&ev)[0].1),
            "m 3.219s–end, b 13.609s–end"
        );
    }

    #[test]
    fn same_within_tolerance() {
        let mut k = sim();
        for e in &mut k {
            e.t += if e.t > 15.0 { 0.2 } else { 0.01 };
        }
        sort(&mut k);
        let mut t = String::new();
        assert_eq!(compare(&sim(), &k, &mut t), 0, "{t}");
        assert!(
            t.contains("same: VRRP: VIP 192.168.59.135 held by m → b → m in turn, at the end by m"),
            "{t}"
        );
        assert!(t.contains("same: VRRP takeover of 192.168.59.135 after `systemctl stop keepalived` on m (stop #1, 15.000s): sim 0.609 s (b), kernel 0.799 s (b), within ±0.25 s"), "{t}");
        assert!(
            t.contains("VIP 192.168.59.135 on m after its keepalived start #2"),
            "{t}"
        );
    }

    #[test]
    fn a_slow_takeover_or_another_holder_differs() {
        // 3 adverts + skew instead of the priority-0 advert's skew only
        let mut k = sim();
        for e in &mut k {
            if e.t > 15.5 {
                e.t += 3.0;
            }
        }
        let mut t = String::new();
        assert_eq!(compare(&sim(), &k, &mut t), 1, "{t}");
        assert!(t.contains("DIFF VRRP takeover"), "{t}");
        assert!(t.contains("beyond ±0.25 s"), "{t}");
        // the master never comes back: holders differ, its return is missing
        let k: Vec<Ev> = sim().into_iter().filter(|e| e.t < 28.0).collect();
        let mut t = String::new();
        assert_eq!(compare(&sim(), &k, &mut t), 2, "{t}");
        assert!(
            t.contains("kernel:    m 3.219s–15.000s, b 15.609s–end"),
            "{t}"
        );
        assert!(t.contains("kernel not measured"), "{t}");
    }
}
