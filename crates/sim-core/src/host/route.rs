//! The main routing table and route lookup.
//!
//! Linux consults the `local` table first (addresses of this host → local
//! delivery; see [`crate::host::Host::is_local`]) and then `main`: the longest
//! prefix wins, then the lowest metric, then the earliest entry.
//! Connected routes (`proto kernel scope link src …`) appear when an address is
//! added to an up interface and go away with it.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::packet::{in_subnet, prefix_mask};

/// How a route was created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteProto {
    /// Added by the kernel for a configured address.
    Kernel,
    /// Added by a user (`ip route add`, `route add`).
    Boot,
}

/// A route in the main table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Destination network.
    pub dst: Ipv4Addr,
    /// Prefix length (0 = default).
    pub prefix: u8,
    /// Next hop, if any.
    pub via: Option<Ipv4Addr>,
    /// Output device (kernel name).
    pub dev: String,
    /// Preferred source address.
    pub src: Option<Ipv4Addr>,
    /// Metric.
    pub metric: u32,
    /// Origin.
    pub proto: RouteProto,
}

/// The main table.
#[derive(Clone, Debug, Default)]
pub struct RouteTable {
    /// Routes in insertion order.
    pub routes: Vec<Route>,
}

impl RouteTable {
    /// Adds a route.
    ///
    /// # Errors
    /// `RTNETLINK answers: File exists` for an identical destination/metric.
    pub fn add(&mut self, r: Route) -> Result<(), String> {
        if self
            .routes
            .iter()
            .any(|x| x.dst == r.dst && x.prefix == r.prefix && x.metric == r.metric)
        {
            return Err("RTNETLINK answers: File exists".into());
        }
        self.routes.push(r);
        Ok(())
    }

    /// Deletes the first route matching destination/prefix (and dev/via when given).
    ///
    /// # Errors
    /// `RTNETLINK answers: No such process` when nothing matches.
    pub fn del(&mut self, dst: Ipv4Addr, prefix: u8, dev: Option<&str>) -> Result<(), String> {
        let pos = self
            .routes
            .iter()
            .position(|x| x.dst == dst && x.prefix == prefix && dev.is_none_or(|d| x.dev == d));
        match pos {
            Some(p) => {
                self.routes.remove(p);
                Ok(())
            }
            None => Err("RTNETLINK answers: No such process".into()),
        }
    }

    /// Removes every route through `dev` (interface down or address removed).
    pub fn remove_dev(&mut self, dev: &str) {
        self.routes.retain(|r| r.dev != dev);
    }

    /// Removes the connected route for an address.
    pub fn remove_connected(&mut self, dev: &str, net: Ipv4Addr, prefix: u8, src: Ipv4Addr) {
        self.routes.retain(|r| {
            !(r.proto == RouteProto::Kernel
                && r.dev == dev
                && r.dst == net
                && r.prefix == prefix
                && r.src == Some(src))
        });
    }

    /// Longest-prefix match, then lowest metric, then first inserted.
    #[must_use]
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<&Route> {
        let mut best: Option<&Route> = None;
        for r in &self.routes {
            if !in_subnet(dst, r.dst, r.prefix) {
                continue;
            }
            best = match best {
                None => Some(r),
                Some(b) if r.prefix > b.prefix || (r.prefix == b.prefix && r.metric < b.metric) => {
                    Some(r)
                }
                keep => keep,
            };
        }
        best
    }

    /// `ip route` (iproute2 6.x layout), sorted as the kernel dumps the main
    /// table: default first, then by destination.
    #[must_use]
    pub fn render_ip_route(&self) -> String {
        let mut rs: Vec<&Route> = self.routes.iter().collect();
        rs.sort_by_key(|r| (u32::from(r.dst) & prefix_mask(r.prefix), r.prefix, r.metric));
        let mut out = String::new();
        for r in rs {
            if r.prefix == 0 {
                out.push_str("default");
            } else if r.prefix == 32 {
                let _ = write!(out, "{}", r.dst);
            } else {
                let _ = write!(out, "{}/{}", r.dst, r.prefix);
            }
            if let Some(v) = r.via {
                let _ = write!(out, " via {v}");
            }
            let _ = write!(out, " dev {}", r.dev);
            if r.proto == RouteProto::Kernel {
                out.push_str(" proto kernel");
            }
            if r.via.is_none() {
                out.push_str(" scope link");
            }
            if let Some(s) = r.src {
                let _ = write!(out, " src {s}");
            }
            if r.metric != 0 {
                let _ = write!(out, " metric {}", r.metric);
            }
            out.push('\n');
        }
        out
    }

    /// `route -n` (net-tools layout).
    #[must_use]
    pub fn render_route_n(&self) -> String {
        let mut out = String::from(
            "Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface\n",
        );
        let mut rs: Vec<&Route> = self.routes.iter().collect();
        rs.sort_by_key(|r| (std::cmp::Reverse(r.prefix == 0), r.metric));
        for r in rs {
            let mut flags = String::from("U");
            if r.via.is_some() {
                flags.push('G');
            }
            if r.prefix == 32 {
                flags.push('H');
            }
            let gw = r.via.unwrap_or(Ipv4Addr::UNSPECIFIED);
            let _ = writeln!(
                out,
                "{:<15} {:<15} {:<15} {:<5} {:<6} {:<6} {:>3} {}",
                r.dst.to_string(),
                gw.to_string(),
                Ipv4Addr::from(prefix_mask(r.prefix)).to_string(),
                flags,
                r.metric,
                0,
                0,
                r.dev
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(dst: &str, prefix: u8, via: Option<&str>, dev: &str) -> Route {
        Route {
            dst: dst.parse().unwrap(),
            prefix,
            via: via.map(|v| v.parse().unwrap()),
            dev: dev.into(),
            src: None,
            metric: 0,
            proto: RouteProto::Boot,
        }
    }

    #[test]
    fn longest_prefix_wins() {
        let mut t = RouteTable::default();
        t.add(route("0.0.0.0", 0, Some("10.0.0.254"), "eth0"))
            .unwrap();
        t.add(route("10.0.0.0", 24, None, "eth0")).unwrap();
        t.add(route("10.0.0.100", 32, None, "lo")).unwrap();
        assert_eq!(t.lookup("10.0.0.100".parse().unwrap()).unwrap().dev, "lo");
        assert_eq!(t.lookup("10.0.0.7".parse().unwrap()).unwrap().prefix, 24);
        assert_eq!(t.lookup("8.8.8.8".parse().unwrap()).unwrap().prefix, 0);
        assert!(t.add(route("10.0.0.0", 24, None, "eth0")).is_err());
    }

    #[test]
    fn ip_route_layout() {
        let mut t = RouteTable::default();
        t.add(Route {
            src: Some("192.168.59.130".parse().unwrap()),
            proto: RouteProto::Kernel,
            ..route("192.168.59.0", 24, None, "ens33")
        })
        .unwrap();
        t.add(route("0.0.0.0", 0, Some("192.168.59.2"), "ens33"))
            .unwrap();
        t.add(route("192.168.59.135", 32, None, "ens33")).unwrap();
        assert_eq!(
            t.render_ip_route(),
            "default via 192.168.59.2 dev ens33\n\
             192.168.59.0/24 dev ens33 proto kernel scope link src 192.168.59.130\n\
             192.168.59.135 dev ens33 scope link\n"
        );
    }
}
