//! Destinations (real servers) and the OVERLOAD flag logic (§1.0).

use std::net::Ipv4Addr;

use super::sched::DestInfo;
use super::stats::Stats;
use super::table::SvcId;
use super::types::{DestSnapshot, FwdMethod, ServiceKey};

/// Index of a destination in [`super::Ipvs`]'s destination slab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestId(pub u32);

/// Tunnel settings of a `-i` dest (`--tun-type`, `--tun-port`, checksum flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TunCfg {
    /// 0 = ipip, 1 = gue, 2 = gre.
    pub kind: u8,
    /// GUE destination port.
    pub port: u16,
    /// 0 = nocsum, 1 = csum, 2 = remcsum.
    pub csum: u8,
}

/// One real server of one service (`struct ip_vs_dest`).
#[derive(Clone, Debug)]
pub struct Dest {
    /// Identity handed to the scheduler (new for every insertion in a list).
    pub uid: u64,
    /// The service it belongs (or, in the trash, belonged) to.
    pub svc_key: ServiceKey,
    /// The service's slot while the dest is in its list.
    pub svc: Option<SvcId>,
    /// Which service object it was last bound to (`Service::seq`): a dest
    /// taken back from the trash into a re-created service has its counters
    /// zeroed (`__ip_vs_update_dest`: `old_svc != svc` → `ip_vs_zero_stats`,
    /// whose zero point is the last estimator tick).
    pub svc_seq: u64,
    /// Real server address.
    pub addr: Ipv4Addr,
    /// Real server port.
    pub port: u16,
    /// Forwarding method.
    pub fwd: FwdMethod,
    /// The method asked for (`Local` replaces it when the address is local).
    pub fwd_requested: FwdMethod,
    /// Tunnel settings.
    pub tun: TunCfg,
    /// Weight (0 = quiesced).
    pub weight: u32,
    /// Last non-zero weight.
    pub last_weight: u32,
    /// `-x` upper connection threshold (0 = none).
    pub u_threshold: u32,
    /// `-y` lower connection threshold (0 = none).
    pub l_threshold: u32,
    /// `IP_VS_DEST_F_OVERLOAD`.
    pub overloaded: bool,
    /// `IP_VS_DEST_F_AVAILABLE` (false while in the trash).
    pub available: bool,
    /// ActiveConn.
    pub activeconns: u32,
    /// InActConn.
    pub inactconns: u32,
    /// PersistConn (templates).
    pub persistconns: u32,
    /// Counters.
    pub stats: Stats,
}

impl Dest {
    /// `ip_vs_dest_totalconns`: active + inactive (templates excluded).
    #[must_use]
    pub fn totalconns(&self) -> u32 {
        self.activeconns.saturating_add(self.inactconns)
    }

    /// Entries (connections and templates) still bound to this dest.
    #[must_use]
    pub fn refs(&self) -> u32 {
        self.totalconns().saturating_add(self.persistconns)
    }

    /// `ip_vs_bind_dest`: count a new entry, then the u_threshold check.
    pub fn bind(&mut self, template: bool, inactive: bool) {
        if template {
            self.persistconns += 1;
        } else if inactive {
            self.inactconns += 1;
        } else {
            self.activeconns += 1;
        }
        if self.u_threshold != 0 && self.totalconns() >= self.u_threshold {
            self.overloaded = true;
        }
    }

    /// `ip_vs_unbind_dest`: uncount an entry, then the clear rule.
    pub fn unbind(&mut self, template: bool, inactive: bool) {
        let slot = if template {
            &mut self.persistconns
        } else if inactive {
            &mut self.inactconns
        } else {
            &mut self.activeconns
        };
        debug_assert!(*slot > 0, "dest counter underflow");
        *slot = slot.saturating_sub(1);
        let total = u64::from(self.totalconns());
        if self.l_threshold != 0 {
            if total < u64::from(self.l_threshold) {
                self.overloaded = false;
            }
        } else if self.u_threshold != 0 {
            if total * 4 < u64::from(self.u_threshold) * 3 {
                self.overloaded = false;
            }
        } else {
            self.overloaded = false;
        }
    }

    /// Moves one connection between ActiveConn and InActConn.
    pub fn set_active(&mut self, now_active: bool) {
        if now_active {
            debug_assert!(self.inactconns > 0);
            self.inactconns = self.inactconns.saturating_sub(1);
            self.activeconns += 1;
        } else {
            debug_assert!(self.activeconns > 0);
            self.activeconns = self.activeconns.saturating_sub(1);
            self.inactconns += 1;
        }
    }

    /// What `wlc` reads ([`crate::ipvs::sched::wlc_key`]).
    #[must_use]
    #[inline(always)]
    pub fn wlc_key(&self) -> (u64, u64) {
        crate::ipvs::sched::wlc_key(
            self.activeconns,
            self.inactconns,
            self.weight,
            self.overloaded,
        )
    }

    /// What the scheduler sees.
    #[must_use]
    pub fn info(&self) -> DestInfo {
        DestInfo {
            id: self.uid,
            addr: self.addr,
            port: self.port,
            weight: self.weight,
            last_weight: self.last_weight,
            activeconns: self.activeconns,
            inactconns: self.inactconns,
            overloaded: self.overloaded,
            available: self.available,
        }
    }

    /// What the inspector shows.
    #[must_use]
    pub fn snapshot(&self) -> DestSnapshot {
        DestSnapshot {
            addr: self.addr,
            port: self.port,
            weight: self.weight,
            active: self.activeconns,
            inactive: self.inactconns,
            overloaded: self.overloaded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::Protocol;

    fn dest(u: u32, l: u32) -> Dest {
        Dest {
            uid: 1,
            svc_key: ServiceKey::Addr {
                proto: Protocol::Tcp,
                addr: Ipv4Addr::new(10, 0, 0, 1),
                port: 80,
            },
            svc: None,
            svc_seq: 0,
            addr: Ipv4Addr::new(10, 0, 0, 11),
            port: 80,
            fwd: FwdMethod::Route,
            fwd_requested: FwdMethod::Route,
            tun: TunCfg::default(),
            weight: 1,
            last_weight: 1,
            u_threshold: u,
            l_threshold: l,
            overloaded: false,
            available: true,
            activeconns: 0,
            inactconns: 0,
            persistconns: 0,
            stats: Stats::default(),
        }
    }

    #[test]
    fn upper_threshold_two_sets_on_second() {
        let mut d = dest(2, 0);
        d.bind(false, true);
        assert!(!d.overloaded);
        d.bind(false, true);
        assert!(d.overloaded);
        // Clear rule without -y: total*4 < 2*3 → total ≤ 1.
        d.unbind(false, true);
        assert!(!d.overloaded);
    }

    #[test]
    fn clear_rule_three_quarters() {
        let mut d = dest(4, 0);
        for _ in 0..4 {
            d.bind(false, true);
        }
        assert!(d.overloaded);
        d.unbind(false, true); // 3*4=12 < 12? no
        assert!(d.overloaded);
        d.unbind(false, true); // 2*4=8 < 12
        assert!(!d.overloaded);
    }

    #[test]
    fn clear_rule_lower_threshold() {
        let mut d = dest(4, 2);
        for _ in 0..4 {
            d.bind(false, false);
        }
        assert!(d.overloaded);
        d.unbind(false, false);
        d.unbind(false, false); // total 2, not < 2
        assert!(d.overloaded);
        d.unbind(false, false); // total 1 < 2
        assert!(!d.overloaded);
    }

    #[test]
    fn templates_do_not_count_towards_threshold() {
        let mut d = dest(1, 0);
        d.bind(true, false);
        assert!(!d.overloaded);
        assert_eq!(d.persistconns, 1);
        d.bind(false, true);
        assert!(d.overloaded);
    }
}
