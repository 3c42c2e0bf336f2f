//! Read-only views of keepalived: the run summary's section and the
//! current VRRP states.

use std::net::Ipv4Addr;

use crate::keepalived::vrrp::State;
use crate::time::SimTime;
use crate::world::World;

impl World {
    /// The keepalived part of `lvslab run`'s summary: every VRRP transition
    /// with its time, the VIP moves and gratuitous ARPs, and the real
    /// servers the checkers took out or put back. Empty when no host ran
    /// keepalived.
    #[must_use]
    pub fn keepalived_summary(&self) -> String {
        let mut rows: Vec<(SimTime, usize, String)> = Vec::new();
        for (h, host) in self.hosts.iter().enumerate() {
            let k = &host.keepalived;
            for t in &k.transitions {
                rows.push((
                    t.t,
                    h,
                    format!(
                        "VRRP {} {} -> {} ({})",
                        t.instance,
                        t.from.name(),
                        t.to.name(),
                        t.why
                    ),
                ));
            }
            for (t, e) in &k.events {
                rows.push((*t, h, e.clone()));
            }
        }
        if rows.is_empty() {
            return String::new();
        }
        rows.sort_by_key(|r| (r.0, r.1));
        let mut s =
            String::from("\nkeepalived (VRRP transitions, VIPs, gratuitous ARPs, real servers):\n");
        for (t, h, text) in rows {
            s.push_str(&format!("  t={t} {:<12} {text}\n", self.hosts[h].name));
        }
        s.push_str(&self.vip_holders());
        s
    }

    /// Which host held each VIP when (from keepalived adding and removing it;
    /// a powered-off host stops holding it).
    #[must_use]
    pub fn vip_holders(&self) -> String {
        let mut log: Vec<(SimTime, Ipv4Addr, usize, bool)> = Vec::new();
        for (h, host) in self.hosts.iter().enumerate() {
            for (t, a, added) in &host.keepalived.vip_log {
                log.push((*t, *a, h, *added));
            }
        }
        log.sort_by_key(|e| (e.1, e.0, e.2));
        let mut vips: Vec<Ipv4Addr> = log.iter().map(|e| e.1).collect();
        vips.dedup();
        let mut s = String::new();
        for vip in vips {
            let mut open: Vec<(usize, SimTime)> = Vec::new();
            let mut spans: Vec<(SimTime, String)> = Vec::new();
            let secs = |t: SimTime| format!("{:.3}s", t.as_secs_f64());
            for (t, _, h, added) in log.iter().filter(|e| e.1 == vip) {
                if *added {
                    open.push((*h, *t));
                } else if let Some(i) = open.iter().position(|o| o.0 == *h) {
                    let (_, from) = open.remove(i);
                    let name = &self.hosts[*h].name;
                    spans.push((from, format!("{name} {}–{}", secs(from), secs(*t))));
                }
            }
            for (h, from) in open {
                spans.push((from, format!("{} {}–end", self.hosts[h].name, secs(from))));
            }
            spans.sort();
            let spans: Vec<String> = spans.into_iter().map(|x| x.1).collect();
            s.push_str(&format!("  VIP {vip} held by: {}\n", spans.join(", ")));
        }
        s
    }
}

/// One VRRP instance as it stands now (for views and front ends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VrrpView {
    /// Host name.
    pub host: String,
    /// Instance name.
    pub instance: String,
    /// State.
    pub state: State,
    /// Effective priority.
    pub priority: u8,
    /// The VIPs (held when MASTER).
    pub vips: Vec<Ipv4Addr>,
}

impl std::fmt::Display for VrrpView {
    /// `lvs-master VI_1 MASTER prio 200 VIPs 192.168.59.135`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let vips: Vec<String> = self.vips.iter().map(ToString::to_string).collect();
        write!(
            f,
            "{} {} {} prio {} VIPs {}",
            self.host,
            self.instance,
            self.state.name(),
            self.priority,
            vips.join(",")
        )
    }
}

impl World {
    /// Every running VRRP instance, host by host.
    #[must_use]
    pub fn vrrp_view(&self) -> Vec<VrrpView> {
        self.hosts
            .iter()
            .filter_map(|h| h.keepalived.running.as_ref().map(|d| (h, d)))
            .flat_map(|(h, d)| {
                d.instances.iter().map(move |i| VrrpView {
                    host: h.name.clone(),
                    instance: i.vrrp.p.name.clone(),
                    state: i.vrrp.state,
                    priority: i.vrrp.p.priority,
                    vips: i.vrrp.p.vips.clone(),
                })
            })
            .collect()
    }
}
