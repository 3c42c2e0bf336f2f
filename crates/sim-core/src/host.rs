//! A simulated Linux host: interfaces and addresses, routes, the ARP
//! (neighbour) cache, sysctls, netfilter tables, IPVS and the processes the
//! lab models (httpd, keepalived, curl).
//!
//! Hosts behave as Linux with IPv6 disabled (no `inet6` lines in `ip a`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::packet::{MacAddr, in_subnet, prefix_mask};

pub mod neigh;
pub mod netfilter;
pub mod route;
pub mod sysctl;
pub mod tcp;
pub mod views;

pub use neigh::NeighTable;
pub use netfilter::Netfilter;
pub use route::{Route, RouteTable};
pub use sysctl::Sysctls;

/// Index of a host in the world.
pub type HostId = usize;

/// What kind of device an interface is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfKind {
    /// `lo`.
    Loopback,
    /// An Ethernet NIC attached to a segment.
    Ether,
    /// `tunl0`, the IPIP decapsulation device.
    Ipip,
}

/// One IPv4 address on an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfAddr {
    /// The address.
    pub addr: Ipv4Addr,
    /// Prefix length.
    pub prefix: u8,
    /// Broadcast address, if set.
    pub brd: Option<Ipv4Addr>,
    /// Label (`ens33`, `ens33:0`, `lo:0`).
    pub label: String,
    /// `scope host` (127/8 on lo) or global.
    pub host_scope: bool,
}

impl IfAddr {
    /// The network address.
    #[must_use]
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & prefix_mask(self.prefix))
    }
}

/// A network interface.
#[derive(Clone, Debug)]
pub struct Iface {
    /// Kernel name (`lo`, `ens33`, `tunl0`).
    pub name: String,
    /// ifindex (lo = 1).
    pub index: u32,
    /// Device kind.
    pub kind: IfKind,
    /// Hardware address (zero for lo and tunl0).
    pub mac: MacAddr,
    /// Administratively up (`ip link set … up`).
    pub up: bool,
    /// MTU.
    pub mtu: u32,
    /// Addresses in kernel order (primaries before secondaries).
    pub addrs: Vec<IfAddr>,
    /// Segment this NIC is cabled to.
    pub segment: Option<usize>,
    /// Transmit queue busy until (bandwidth model).
    pub tx_busy_until: crate::time::SimTime,
}

impl Iface {
    /// A new interface with no addresses.
    #[must_use]
    pub fn new(name: &str, index: u32, kind: IfKind, mac: MacAddr) -> Self {
        let mtu = match kind {
            IfKind::Loopback => 65536,
            IfKind::Ether => 1500,
            IfKind::Ipip => 1480,
        };
        Iface {
            name: name.to_string(),
            index,
            kind,
            mac,
            up: kind == IfKind::Loopback,
            mtu,
            addrs: Vec::new(),
            segment: None,
            tx_busy_until: crate::time::SimTime::ZERO,
        }
    }

    /// Is `a` configured on this interface?
    #[must_use]
    pub fn has_addr(&self, a: Ipv4Addr) -> bool {
        self.addrs.iter().any(|x| x.addr == a)
    }

    /// Is `a` a secondary address (another address on this interface with
    /// the same prefix covers it and comes first)?
    #[must_use]
    pub fn is_secondary(&self, i: usize) -> bool {
        let x = &self.addrs[i];
        self.addrs[..i]
            .iter()
            .any(|p| p.prefix == x.prefix && in_subnet(x.addr, p.addr, p.prefix))
    }

    /// The primary address whose subnet contains `dst`, else the first one.
    #[must_use]
    pub fn source_for(&self, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        self.addrs
            .iter()
            .enumerate()
            .find(|(i, a)| !self.is_secondary(*i) && in_subnet(dst, a.addr, a.prefix))
            .map(|(_, a)| a.addr)
            .or_else(|| self.addrs.first().map(|a| a.addr))
    }

    /// Adds an address; a duplicate is refused with the kernel's message.
    ///
    /// # Errors
    /// `RTNETLINK answers: File exists` when the address is already there.
    pub fn add_addr(&mut self, a: IfAddr) -> Result<(), String> {
        if self
            .addrs
            .iter()
            .any(|x| x.addr == a.addr && x.prefix == a.prefix)
        {
            return Err("RTNETLINK answers: File exists".into());
        }
        // Primaries stay ahead of secondaries, as in __inet_insert_ifa.
        let secondary = self
            .addrs
            .iter()
            .any(|p| p.prefix == a.prefix && in_subnet(a.addr, p.addr, p.prefix));
        if secondary {
            self.addrs.push(a);
        } else {
            let pos = (0..self.addrs.len())
                .find(|&i| self.is_secondary(i))
                .unwrap_or(self.addrs.len());
            self.addrs.insert(pos, a);
        }
        Ok(())
    }
}

/// Processes and daemons the lab models on a host.
#[derive(Clone, Debug, Default)]
pub struct Services {
    /// httpd / nginx serving /var/www/html on port 80.
    pub httpd: bool,
}

/// A simulated Linux host.
#[derive(Debug)]
pub struct Host {
    /// Index in the world.
    pub id: HostId,
    /// Name in the scenario.
    pub name: String,
    /// `hostnamectl set-hostname` value.
    pub hostname: String,
    /// Interfaces; index 0 is `lo`.
    pub ifaces: Vec<Iface>,
    /// The main routing table.
    pub routes: RouteTable,
    /// ARP cache.
    pub neigh: NeighTable,
    /// `/proc/sys` values.
    pub sysctl: Sysctls,
    /// iptables tables.
    pub netfilter: Netfilter,
    /// Files written by commands (`/var/www/html/index.html`, keepalived.conf).
    pub files: BTreeMap<String, String>,
    /// Daemons.
    pub services: Services,
    /// Powered on.
    pub powered: bool,
    /// Next IP identification value.
    pub ip_id: u16,
    /// TCP sockets.
    pub tcp: tcp::TcpTable,
    /// The kernel's IPVS state (empty until `ipvsadm` or keepalived adds a
    /// service; `ip_vs` is loaded on demand as the real module is).
    pub ipvs: crate::ipvs::Ipvs,
    /// keepalived (running or not) and its history.
    pub keepalived: crate::keepalived::Keepalived,
}

impl Host {
    /// A host with only `lo` (127.0.0.1/8).
    #[must_use]
    pub fn new(id: HostId, name: &str) -> Self {
        let mut lo = Iface::new("lo", 1, IfKind::Loopback, MacAddr::ZERO);
        lo.addrs.push(IfAddr {
            addr: Ipv4Addr::LOCALHOST,
            prefix: 8,
            brd: None,
            label: "lo".into(),
            host_scope: true,
        });
        Host {
            id,
            name: name.to_string(),
            hostname: "localhost.localdomain".into(),
            ifaces: vec![lo],
            routes: RouteTable::default(),
            neigh: NeighTable::default(),
            sysctl: Sysctls::new(&["lo"]),
            netfilter: Netfilter::default(),
            files: BTreeMap::new(),
            services: Services::default(),
            powered: true,
            ip_id: 1,
            tcp: tcp::TcpTable::default(),
            ipvs: crate::ipvs::Ipvs::new(),
            keepalived: crate::keepalived::Keepalived::default(),
        }
    }

    /// Adds an Ethernet NIC.
    pub fn add_ether(&mut self, name: &str, mac: MacAddr, segment: usize) -> usize {
        let index = u32::try_from(self.ifaces.len() + 1).unwrap_or(u32::MAX);
        let mut i = Iface::new(name, index, IfKind::Ether, mac);
        i.segment = Some(segment);
        i.up = true;
        self.ifaces.push(i);
        self.sysctl.add_iface(name);
        self.ifaces.len() - 1
    }

    /// Finds an interface by kernel name (`ens33`; an alias `ens33:0` maps to
    /// its device).
    #[must_use]
    pub fn iface_by_name(&self, name: &str) -> Option<usize> {
        let dev = name.split(':').next().unwrap_or(name);
        self.ifaces.iter().position(|i| i.name == dev)
    }

    /// Finds or creates `tunl0` (the kernel creates it when `ipip` loads).
    pub fn ensure_tunl0(&mut self) -> usize {
        if let Some(i) = self.iface_by_name("tunl0") {
            return i;
        }
        let index = u32::try_from(self.ifaces.len() + 1).unwrap_or(u32::MAX);
        self.ifaces
            .push(Iface::new("tunl0", index, IfKind::Ipip, MacAddr::ZERO));
        self.sysctl.add_iface("tunl0");
        self.ifaces.len() - 1
    }

    /// Is `a` a local address (on any interface, up or not, as Linux's local
    /// table has it while the address exists; lo's 127/8 included)?
    #[must_use]
    pub fn is_local(&self, a: Ipv4Addr) -> bool {
        if a.is_loopback() {
            return true;
        }
        self.ifaces.iter().any(|i| i.up && i.has_addr(a))
    }

    /// The interface holding address `a`.
    #[must_use]
    pub fn iface_with_addr(&self, a: Ipv4Addr) -> Option<usize> {
        self.ifaces.iter().position(|i| i.has_addr(a))
    }

    /// Next IP ID.
    pub fn next_ip_id(&mut self) -> u16 {
        let v = self.ip_id;
        self.ip_id = self.ip_id.wrapping_add(1);
        v
    }

    /// All addresses of this host except loopback 127/8, for display.
    #[must_use]
    pub fn addresses(&self) -> Vec<(String, Ipv4Addr, u8)> {
        self.ifaces
            .iter()
            .flat_map(|i| {
                i.addrs
                    .iter()
                    .map(move |a| (a.label.clone(), a.addr, a.prefix))
            })
            .filter(|(_, a, _)| !a.is_loopback())
            .collect()
    }
}
