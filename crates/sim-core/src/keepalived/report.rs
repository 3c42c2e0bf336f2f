//! "What would keepalived configure?": a readable account of a parsed
//! keepalived.conf as keepalived 2.x would run it at start-up — each VRRP
//! instance's timers and election settings, the IPVS table it builds (as
//! `ipvsadm -Ln` prints it) and each checker's worst-case detection time.
//! The golden corpus results are written with it.

use std::fmt::Write as _;

use super::conf::{CheckerKind, KeepalivedConfig};
use super::daemon::{self, CheckerRt, VsRt};
use super::vrrp::Vrrp;
use crate::packet::VrrpAuth;
use crate::time::{SimDuration, SimTime};

/// The report for `cfg`.
#[must_use]
pub fn configured(cfg: &KeepalivedConfig) -> String {
    let mut s = String::new();
    for i in &cfg.vrrp_instances {
        let p = daemon::vrrp_params(cfg, i);
        let v = Vrrp::new(p.clone(), std::net::Ipv4Addr::UNSPECIFIED);
        let _ = writeln!(
            s,
            "vrrp_instance {}: interface {}, vrid {}, VRRPv{}, priority {}, advert_int {}",
            p.name,
            i.interface.as_deref().unwrap_or("(none)"),
            p.vrid,
            p.version,
            p.priority,
            p.advert_int
        );
        if p.priority == 255 && p.want_master {
            s.push_str("  starts MASTER at once (address owner)\n");
        } else {
            let _ = writeln!(
                s,
                "  starts BACKUP; MASTER after Master_Down_Interval {} (3 x {} + skew {}) without adverts",
                v.master_down(),
                p.advert_int,
                v.skew()
            );
        }
        let preempt = if p.nopreempt {
            "nopreempt (accepts any master)".to_string()
        } else if p.preempt_delay != SimDuration::ZERO {
            format!("preempt after preempt_delay {}", p.preempt_delay)
        } else {
            "preempt (a lower-priority master is displaced)".to_string()
        };
        let _ = writeln!(s, "  {preempt}");
        let auth = match &p.auth {
            VrrpAuth::None => "none".to_string(),
            VrrpAuth::Pass(b) => {
                let n = b.iter().position(|c| *c == 0).unwrap_or(8);
                format!("PASS \"{}\"", String::from_utf8_lossy(&b[..n]))
            }
            VrrpAuth::Ah => "AH".to_string(),
        };
        let _ = writeln!(s, "  authentication: {auth}");
        let vips: Vec<String> = i
            .virtual_ipaddress
            .iter()
            .map(|e| format!("{}/{}", e.address, e.prefix))
            .collect();
        let _ = writeln!(s, "  VIPs: {}", vips.join(" "));
        let _ = writeln!(
            s,
            "  on MASTER: {} GARPs per VIP, {} more after {}",
            p.garp_master.repeat, p.garp_master.repeat, p.garp_master.delay
        );
    }
    let (mut ipvs, log) = daemon::initial_ipvs(cfg);
    let out = crate::ipvs::ipvsadm::run(&mut ipvs, SimTime::ZERO, &["-Ln"], None);
    s.push_str("ipvsadm -Ln:\n");
    for l in out.stdout.lines() {
        let _ = writeln!(s, "  {}", l.trim_end());
    }
    let mut checkers: Vec<CheckerRt> = Vec::new();
    for (k, vs) in cfg.virtual_servers.iter().enumerate() {
        let _ = VsRt::build(cfg, vs, k, &mut checkers);
    }
    for c in &checkers {
        let t = &c.timing;
        let _ = write!(
            s,
            "checker {} {}: every {}, retry {} after {}",
            c.target_name(),
            c.kind.keyword(),
            t.delay_loop,
            t.retry,
            t.delay_before_retry
        );
        if c.kind.connects() {
            let worst = SimDuration(
                t.delay_loop.as_nanos()
                    + u64::from(t.retry + 1) * t.connect_timeout.as_nanos()
                    + u64::from(t.retry) * t.delay_before_retry.as_nanos(),
            );
            let _ = write!(
                s,
                ", connect_timeout {}; a silent server is DOWN within {worst}",
                t.connect_timeout
            );
        }
        let modelled = matches!(
            c.kind,
            CheckerKind::Tcp | CheckerKind::HttpGet | CheckerKind::SslGet | CheckerKind::Misc
        );
        if !modelled {
            s.push_str(" (not run in the lab: always up)");
        }
        s.push('\n');
    }
    for l in log {
        let _ = writeln!(s, "note: {l}");
    }
    s
}
