//! Read-only views laid out as the real tools print them: `ip a`,
//! `ip route`, `ip neigh` (iproute2 6.x), `ifconfig`-free.

use std::fmt::Write as _;

use super::{Host, IfKind};
use crate::time::SimTime;

impl Host {
    /// `ip a` / `ip addr show [dev D]` (IPv4 only: hosts run with IPv6
    /// disabled, so there are no `inet6` lines).
    #[must_use]
    pub fn render_ip_addr(&self, dev: Option<&str>) -> String {
        let mut out = String::new();
        for i in &self.ifaces {
            if dev.is_some_and(|d| d != i.name) {
                continue;
            }
            let carrier = i.kind != IfKind::Ether || i.segment.is_some();
            let mut flags: Vec<&str> = match i.kind {
                IfKind::Loopback => vec!["LOOPBACK"],
                IfKind::Ether => vec!["BROADCAST", "MULTICAST"],
                IfKind::Ipip => vec!["NOARP"],
            };
            if i.up {
                flags.push("UP");
                if carrier {
                    flags.push("LOWER_UP");
                } else {
                    flags.insert(0, "NO-CARRIER");
                }
            }
            let (qdisc, state) = match (i.kind, i.up) {
                (IfKind::Loopback, true) => ("noqueue", "UNKNOWN"),
                (IfKind::Loopback, false) => ("noop", "DOWN"),
                (IfKind::Ether, true) => ("pfifo_fast", "UP"),
                (IfKind::Ether, false) => ("pfifo_fast", "DOWN"),
                (IfKind::Ipip, true) => ("noqueue", "UNKNOWN"),
                (IfKind::Ipip, false) => ("noop", "DOWN"),
            };
            let name = if i.kind == IfKind::Ipip {
                "tunl0@NONE".to_string()
            } else {
                i.name.clone()
            };
            let _ = writeln!(
                out,
                "{}: {name}: <{}> mtu {} qdisc {qdisc} state {state} group default qlen 1000",
                i.index,
                flags.join(","),
                i.mtu
            );
            match i.kind {
                IfKind::Loopback => {
                    out.push_str("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n");
                }
                IfKind::Ether => {
                    let _ = writeln!(out, "    link/ether {} brd ff:ff:ff:ff:ff:ff", i.mac);
                }
                IfKind::Ipip => out.push_str("    link/ipip 0.0.0.0 brd 0.0.0.0\n"),
            }
            for (k, a) in i.addrs.iter().enumerate() {
                let _ = write!(out, "    inet {}/{}", a.addr, a.prefix);
                if let Some(b) = a.brd {
                    let _ = write!(out, " brd {b}");
                }
                let scope = if a.host_scope { "host" } else { "global" };
                let _ = write!(out, " scope {scope}");
                if i.is_secondary(k) {
                    out.push_str(" secondary");
                }
                let _ = writeln!(out, " {}", a.label);
                out.push_str("       valid_lft forever preferred_lft forever\n");
            }
        }
        out
    }

    /// `ip neigh` at `now`.
    #[must_use]
    pub fn render_ip_neigh(&self, now: SimTime) -> String {
        self.neigh.render(now, &|i| {
            self.ifaces
                .get(i)
                .map(|f| f.name.clone())
                .unwrap_or_default()
        })
    }
}
