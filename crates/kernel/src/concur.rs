//! Concurrent clients: where the kernel is not deterministic.
//!
//! When requests of different clients overlap in the simulator's timeline
//! (one starts before another client's request ended), `lvslab kernel`
//! replays each client's requests in its own background loop (one after
//! the other, as a curl loop runs, each at its simulator start time), all
//! clients at once. Which real server answers which request then depends
//! on the order in which the kernel sees the SYNs and on how long each
//! connection stays active (the kernel's segments have no latency; the
//! guest's CPU is shared): it is shown but not counted. Compared instead,
//! within [`bound`]: the number of requests each answer (real server,
//! `(failed)`, `(HTTP error)`) got on each side, and the connection
//! counters of the ipvsadm views; the tables without their counters must
//! still agree exactly.

use std::collections::{BTreeMap, BTreeSet};

/// Requests that overlap requests of other clients in the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overlap {
    /// Clients with at least one overlapping request.
    pub clients: usize,
    /// Requests that overlap at least one request of another client.
    pub requests: usize,
}

/// The overlap in a request timeline of `(client, start, end)` (any
/// time unit); `None` when no two clients' requests overlap (requests of
/// one client never overlap: a curl loop waits for each).
#[must_use]
pub fn overlap(reqs: &[(usize, u64, u64)]) -> Option<Overlap> {
    let mut clients = BTreeSet::new();
    let mut requests = 0;
    for (i, a) in reqs.iter().enumerate() {
        let hit = reqs
            .iter()
            .enumerate()
            .any(|(j, b)| j != i && a.0 != b.0 && a.1 < b.2 && b.1 < a.2);
        if hit {
            requests += 1;
            clients.insert(a.0);
        }
    }
    (requests > 0).then_some(Overlap {
        clients: clients.len(),
        requests,
    })
}

/// The tolerance for `n` concurrent requests: each count (requests per
/// answer, a real server's ActiveConn/InActConn or `Conns`, its `-lnc`
/// entries) may differ by `max(2, ⌈n/10⌉)`.
///
/// Why not a binomial bound: the schedulers are deterministic; only the
/// interleaving differs, and one request seen in another order moves one
/// count by one and may push the next choice the other way (lc/wlc weigh
/// an active connection 256 times an inactive one), so a small absolute
/// slack (2) plus 10 % for longer runs. A scheduler whose counts depend on
/// how much the requests overlap (wlc with different weights, with the
/// kernel's requests overlapping less than the simulator's: no latency)
/// goes beyond it, as it should: then the runs really differ.
#[must_use]
pub fn bound(n: usize) -> u64 {
    u64::try_from(n.div_ceil(10).max(2)).unwrap_or(u64::MAX)
}

/// Compares how many requests each answer got: `(differences, lines)`.
/// Every answer beyond `bound` is one difference.
#[must_use]
pub fn distribution(sim: &[String], kernel: &[String], bound: u64) -> (usize, Vec<String>) {
    let mut counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for a in sim {
        counts.entry(a).or_default().0 += 1;
    }
    for b in kernel {
        counts.entry(b).or_default().1 += 1;
    }
    let cells: Vec<String> = counts
        .iter()
        .map(|(k, (s, q))| format!("{k} {s}/{q}"))
        .collect();
    let beyond: Vec<&str> = counts
        .iter()
        .filter(|(_, (s, q))| s.abs_diff(*q) > bound)
        .map(|(k, _)| *k)
        .collect();
    let mut lines = Vec::new();
    if beyond.is_empty() {
        lines.push(format!(
            "same: requests per answer within ±{bound} (simulator/kernel): {}",
            cells.join(", ")
        ));
    } else {
        lines.push(format!(
            "DIFF requests per answer beyond ±{bound} for {} (simulator/kernel): {}",
            beyond.join(", "),
            cells.join(", ")
        ));
    }
    (beyond.len(), lines)
}

/// Entries per real server of normalised `-lnc` entries.
fn per_dest(v: &[String]) -> BTreeMap<String, u64> {
    let mut m: BTreeMap<String, u64> = BTreeMap::new();
    for l in v {
        if let Some(d) = l.split_whitespace().nth(4) {
            *m.entry(d.to_string()).or_default() += 1;
        }
    }
    m
}

/// `-lnc` entries per real server, `simulator/kernel` for each.
#[must_use]
pub fn lnc_counts(a: &[String], b: &[String]) -> String {
    let (da, db) = (per_dest(a), per_dest(b));
    let keys: BTreeSet<&String> = da.keys().chain(db.keys()).collect();
    let cells: Vec<String> = keys
        .iter()
        .map(|k| {
            let n = |m: &BTreeMap<String, u64>| m.get(*k).copied().unwrap_or(0);
            format!("{k} {}/{}", n(&da), n(&db))
        })
        .collect();
    cells.join(", ")
}

/// Normalised `-lnc` entries (`proto state client virtual real`, as
/// `compare` makes them) agree within `bound`: per real server the number
/// of entries, and each side's states are the other's (a CLOSE where the
/// other side has FIN_WAIT: busybox wget resets a connection now and then).
#[must_use]
pub fn lnc_within(a: &[String], b: &[String], bound: u64) -> bool {
    let states = |v: &[String]| -> BTreeSet<String> {
        v.iter()
            .filter_map(|l| l.split_whitespace().nth(1).map(ToString::to_string))
            .collect()
    };
    let (da, db) = (per_dest(a), per_dest(b));
    let keys: BTreeSet<&String> = da.keys().chain(db.keys()).collect();
    let counts_ok = keys.iter().all(|k| {
        da.get(*k)
            .copied()
            .unwrap_or(0)
            .abs_diff(db.get(*k).copied().unwrap_or(0))
            <= bound
    });
    let (sa, sb) = (states(a), states(b));
    let covered = |x: &BTreeSet<String>, y: &BTreeSet<String>| {
        x.iter().all(|s| {
            y.contains(s)
                || (s == "FIN_WAIT" && y.contains("CLOSE"))
                || (s == "CLOSE" && y.contains("FIN_WAIT"))
        })
    };
    counts_ok && covered(&sa, &sb) && covered(&sb, &sa)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_string()).collect()
    }

    #[test]
    fn overlap_only_across_clients() {
        // one client's loop: back to back, never overlapping
        assert_eq!(overlap(&[(0, 0, 10), (0, 10, 20), (0, 30, 40)]), None);
        // two clients one after the other: no overlap either
        assert_eq!(overlap(&[(0, 0, 10), (1, 10, 20)]), None);
        // c1 starts while c0's first request is in flight
        assert_eq!(
            overlap(&[(0, 0, 10), (1, 5, 15), (0, 20, 30), (2, 40, 50)]),
            Some(Overlap {
                clients: 2,
                requests: 2
            })
        );
        // three clients at the same time
        assert_eq!(
            overlap(&[(0, 0, 10), (1, 0, 10), (2, 0, 10)]),
            Some(Overlap {
                clients: 3,
                requests: 3
            })
        );
    }

    #[test]
    fn tolerance() {
        assert_eq!(bound(0), 2);
        assert_eq!(bound(24), 3);
        assert_eq!(bound(100), 10);
        assert_eq!(bound(101), 11);
    }

    #[test]
    fn distribution_within_and_beyond() {
        let sim = v(&["rs1", "rs2", "rs3", "rs1", "rs2", "rs3"]);
        let same = v(&["rs2", "rs1", "rs3", "rs3", "rs1", "rs2"]);
        let (n, l) = distribution(&sim, &same, 0);
        assert_eq!(n, 0);
        assert_eq!(
            l,
            ["same: requests per answer within ±0 (simulator/kernel): rs1 2/2, rs2 2/2, rs3 2/2"]
        );
        let off = v(&["rs1", "rs1", "rs1", "rs1", "rs2", "(failed)"]);
        assert_eq!(distribution(&sim, &off, 2).0, 0);
        let (n, l) = distribution(&sim, &off, 1);
        assert_eq!(n, 2, "{l:?}");
        assert!(
            l[0].starts_with("DIFF requests per answer beyond ±1 for rs1, rs3"),
            "{l:?}"
        );
        assert!(l[0].contains("(failed) 0/1"), "{l:?}");
    }

    #[test]
    fn lnc_entries_per_real_server() {
        let a = v(&[
            "TCP FIN_WAIT 10.0.0.51:* 10.0.0.100:80 10.0.0.11:80",
            "TCP FIN_WAIT 10.0.0.52:* 10.0.0.100:80 10.0.0.12:80",
        ]);
        // clients swapped between the servers: same per server
        let b = v(&[
            "TCP FIN_WAIT 10.0.0.52:* 10.0.0.100:80 10.0.0.11:80",
            "TCP CLOSE 10.0.0.51:* 10.0.0.100:80 10.0.0.12:80",
        ]);
        assert!(lnc_within(&a, &b, 0));
        assert_eq!(lnc_counts(&a, &b), "10.0.0.11:80 1/1, 10.0.0.12:80 1/1");
        // both on one server: within 1, not within 0
        let c = v(&[
            "TCP FIN_WAIT 10.0.0.51:* 10.0.0.100:80 10.0.0.11:80",
            "TCP FIN_WAIT 10.0.0.52:* 10.0.0.100:80 10.0.0.11:80",
        ]);
        assert!(lnc_within(&a, &c, 1));
        assert!(!lnc_within(&a, &c, 0));
        // another state is not a matter of timing
        let d = v(&[
            "TCP ESTABLISHED 10.0.0.51:* 10.0.0.100:80 10.0.0.11:80",
            "TCP FIN_WAIT 10.0.0.52:* 10.0.0.100:80 10.0.0.12:80",
        ]);
        assert!(!lnc_within(&a, &d, 5));
    }
}
