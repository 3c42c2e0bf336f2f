//! One VRRP instance as keepalived runs it: the INIT/BACKUP/MASTER/FAULT
//! state machine, its timers and its election rules, with no I/O.
//!
//! The world feeds it the start, received adverts, timer expiries, link
//! changes and the stop; it answers with [`Out`] effects (send an advert,
//! add or remove the VIPs, send gratuitous ARPs, arm a timer, log a line).
//!
//! Rules (reference §5, keepalived `vrrp.c`, `vrrp_scheduler.c`):
//! * v2: `Skew_Time = (256 − prio)/256 s`; v3: `(256 − prio) × Master_Adver_Interval / 256`;
//!   `Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time` (computed in µs as
//!   keepalived does, then exact in ns).
//! * Start: priority 255 with `state MASTER` → MASTER at once; anything else → BACKUP,
//!   MASTER after one Master_Down_Interval without adverts.
//! * BACKUP: priority-0 advert → down timer = Skew_Time; `nopreempt`, a priority ≥ ours or a
//!   running `preempt_delay` → accept (reset the down timer); else discard.
//! * MASTER: priority 0 → advert at once; higher priority, or equal from a higher address →
//!   BACKUP; lower → advert at once plus lower-priority GARPs ("forcing new election").
//! * Stop: a MASTER sends a priority-0 advert and removes its VIPs.
//!
//! Not modelled: tracking scripts/files/processes (the effective priority is the base
//! priority), sync groups acting together, VMACs, unicast peers, strict mode's firewall.

use std::net::Ipv4Addr;

use crate::packet::{VrrpAdvert, VrrpAuth};
use crate::time::{NS_PER_US, SimDuration, SimTime};

/// The state of an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Not started (or stopped).
    Init,
    /// Listening for the master.
    Backup,
    /// Holding the VIPs and advertising.
    Master,
    /// Interface down (keepalived's extension).
    Fault,
}

impl State {
    /// keepalived's upper-case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        }
    }
}

/// Gratuitous-ARP schedule: `repeat` now, `repeat` again after `delay` (0 = none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GarpPlan {
    /// GARPs per VIP in each burst.
    pub repeat: u32,
    /// Delay of the second burst (zero: no second burst).
    pub delay: SimDuration,
}

/// What an instance is configured with (after keepalived's fix-ups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// Instance name (`VI_1`).
    pub name: String,
    /// Virtual router id.
    pub vrid: u8,
    /// VRRP version (2 or 3).
    pub version: u8,
    /// Effective priority.
    pub priority: u8,
    /// Advertisement interval (v2 whole seconds, v3 centiseconds).
    pub advert_int: SimDuration,
    /// `state MASTER` was configured.
    pub want_master: bool,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay`.
    pub preempt_delay: SimDuration,
    /// Authentication carried and expected in adverts.
    pub auth: VrrpAuth,
    /// The virtual addresses.
    pub vips: Vec<Ipv4Addr>,
    /// `lower_prio_no_advert`.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`.
    pub higher_prio_send_advert: bool,
    /// `skip_check_adv_addr`.
    pub skip_check_adv_addr: bool,
    /// GARPs on becoming MASTER.
    pub garp_master: GarpPlan,
    /// GARPs when a MASTER hears a lower priority.
    pub garp_lower: GarpPlan,
    /// `down_timer_adverts` (3).
    pub down_timer_adverts: u32,
    /// `garp_master_refresh` period while MASTER (zero: off) and its repeat count.
    pub garp_refresh: (SimDuration, u32),
}

/// An effect the world carries out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    /// Send an advert with this priority.
    Advert(u8),
    /// Add the VIPs to the interface.
    AddVips,
    /// Remove the VIPs.
    DelVips,
    /// Send a burst of `n` GARPs per VIP now, and another after `later` (if non-zero).
    Garp {
        /// GARPs per VIP.
        n: u32,
        /// Delay of the second burst.
        later: SimDuration,
    },
    /// Arm the instance timer (older epochs are stale).
    Arm {
        /// When.
        at: SimTime,
        /// Its epoch.
        epoch: u64,
    },
    /// The state changed.
    Transition {
        /// From.
        from: State,
        /// To.
        to: State,
        /// Why, in words.
        why: String,
    },
    /// A keepalived log line (without the instance prefix).
    Log(String),
}

/// A running VRRP instance.
#[derive(Clone, Debug)]
pub struct Vrrp {
    /// Configuration.
    pub p: Params,
    /// Current state.
    pub state: State,
    /// Our primary address on the interface (source of adverts, tie-break).
    pub primary: Ipv4Addr,
    /// Master_Adver_Interval (v3 learns it from the master).
    pub master_adver_int: SimDuration,
    /// Epoch of the armed timer.
    pub epoch: u64,
    preempt_until: Option<SimTime>,
}

impl Vrrp {
    /// A new instance in INIT.
    #[must_use]
    pub fn new(p: Params, primary: Ipv4Addr) -> Self {
        let master_adver_int = p.advert_int;
        Vrrp {
            p,
            state: State::Init,
            primary,
            master_adver_int,
            epoch: 0,
            preempt_until: None,
        }
    }

    /// Skew_Time (µs arithmetic as keepalived's `VRRP_TIMER_SKEW`).
    #[must_use]
    pub fn skew(&self) -> SimDuration {
        let inv = 256 - u64::from(self.p.priority);
        let us = if self.p.version == 3 {
            inv * (self.master_adver_int.as_nanos() / NS_PER_US) / 256
        } else {
            inv * 1_000_000 / 256
        };
        SimDuration(us * NS_PER_US)
    }

    /// Master_Down_Interval.
    #[must_use]
    pub fn master_down(&self) -> SimDuration {
        SimDuration(
            self.master_adver_int.as_nanos() * u64::from(self.p.down_timer_adverts)
                + self.skew().as_nanos(),
        )
    }

    /// The advert this instance sends with `priority`.
    #[must_use]
    pub fn advert(&self, priority: u8) -> VrrpAdvert {
        let ns = self.p.advert_int.as_nanos();
        let interval = if self.p.version == 3 {
            u16::try_from(ns / 10_000_000).unwrap_or(4095)
        } else {
            u16::try_from(ns / 1_000_000_000).unwrap_or(255)
        };
        VrrpAdvert {
            version: self.p.version,
            vrid: self.p.vrid,
            priority,
            interval,
            addrs: self.p.vips.clone(),
            auth: if self.p.version == 2 {
                self.p.auth.clone()
            } else {
                VrrpAuth::None
            },
        }
    }

    fn arm(&mut self, at: SimTime) -> Out {
        self.epoch += 1;
        Out::Arm {
            at,
            epoch: self.epoch,
        }
    }

    fn goto(&mut self, to: State, why: impl Into<String>, out: &mut Vec<Out>) {
        let from = self.state;
        self.state = to;
        out.push(Out::Transition {
            from,
            to,
            why: why.into(),
        });
    }

    /// keepalived starts the instance (`vrrp_init_state`).
    pub fn start(&mut self, now: SimTime) -> Vec<Out> {
        let mut out = Vec::new();
        self.master_adver_int = self.p.advert_int;
        if self.p.priority == 255 && self.p.want_master {
            self.become_master(
                now,
                "address owner (priority 255) starts as MASTER",
                &mut out,
            );
        } else {
            if self.p.preempt_delay != SimDuration::ZERO {
                self.preempt_until = Some(now + self.p.preempt_delay);
            }
            self.goto(State::Backup, "start-up", &mut out);
            out.push(Out::Log("Entering BACKUP STATE (init)".into()));
            let at = now + self.master_down();
            out.push(self.arm(at));
        }
        out
    }

    fn become_master(&mut self, now: SimTime, why: &str, out: &mut Vec<Out>) {
        self.goto(State::Master, why, out);
        self.preempt_until = None;
        out.push(Out::Log("Entering MASTER STATE".into()));
        out.push(Out::Log("setting VIPs.".into()));
        out.push(Out::AddVips);
        out.push(Out::Advert(self.p.priority));
        out.push(Out::Garp {
            n: self.p.garp_master.repeat,
            later: self.p.garp_master.delay,
        });
        let at = now + self.p.advert_int;
        out.push(self.arm(at));
    }

    /// The armed timer fired.
    pub fn timer(&mut self, now: SimTime, epoch: u64) -> Vec<Out> {
        let mut out = Vec::new();
        if epoch != self.epoch {
            return out;
        }
        match self.state {
            State::Backup => {
                out.push(Out::Log("Receive advertisement timeout".into()));
                let why = format!(
                    "no advert for Master_Down_Interval {} (3 × {} + skew {})",
                    self.master_down(),
                    self.master_adver_int,
                    self.skew()
                );
                self.become_master(now, &why, &mut out);
            }
            State::Master => {
                out.push(Out::Advert(self.p.priority));
                let at = now + self.p.advert_int;
                out.push(self.arm(at));
            }
            State::Init | State::Fault => {}
        }
        out
    }

    /// Why a received advert is dropped (`vrrp_check_packet`), if it is.
    #[must_use]
    pub fn check(&self, ttl: u8, a: &VrrpAdvert) -> Option<String> {
        if ttl != 255 {
            return Some(format!("invalid TTL/HL. Received {ttl} and expect 255"));
        }
        if a.version != self.p.version {
            return Some(format!(
                "wrong version. Received {} and expect {}",
                a.version, self.p.version
            ));
        }
        if self.p.version == 2 {
            match (&self.p.auth, &a.auth) {
                (VrrpAuth::None, VrrpAuth::None) | (VrrpAuth::Ah, VrrpAuth::Ah) => {}
                (VrrpAuth::Pass(m), VrrpAuth::Pass(r)) if m == r => {}
                (VrrpAuth::Pass(_), VrrpAuth::Pass(_)) => {
                    return Some("received packet with invalid authentication password".into());
                }
                (mine, theirs) => {
                    return Some(format!(
                        "received an invalid auth type {} and expect {}",
                        auth_num(theirs),
                        auth_num(mine)
                    ));
                }
            }
            let mine = self.advert(0).interval;
            if a.interval != mine {
                return Some(format!(
                    "advertisement interval mismatch mine={} sec rcv'd={} sec",
                    mine, a.interval
                ));
            }
        }
        if !self.p.skip_check_adv_addr && a.priority != 0 {
            let mut want = self.p.vips.clone();
            let mut got = a.addrs.clone();
            want.sort();
            got.sort();
            if want != got {
                return Some(format!(
                    "ip address associated with VRID {} not present in MASTER advert",
                    self.p.vrid
                ));
            }
        }
        None
    }

    /// An advert from `src` passed [`Vrrp::check`].
    pub fn receive(&mut self, now: SimTime, src: Ipv4Addr, a: &VrrpAdvert) -> Vec<Out> {
        let mut out = Vec::new();
        match self.state {
            State::Backup => self.backup_rx(now, a, &mut out),
            State::Master => self.master_rx(now, src, a, &mut out),
            State::Init | State::Fault => {}
        }
        out
    }

    fn learn_interval(&mut self, a: &VrrpAdvert) {
        if self.p.version == 3 && a.interval > 0 {
            self.master_adver_int = SimDuration(u64::from(a.interval) * 10_000_000);
        }
    }

    fn backup_rx(&mut self, now: SimTime, a: &VrrpAdvert, out: &mut Vec<Out>) {
        let mine = self.p.priority;
        if a.priority == 0 {
            out.push(Out::Log("Backup received priority 0 advertisement".into()));
            let at = now + self.skew();
            out.push(self.arm(at));
            return;
        }
        let delaying =
            self.p.preempt_delay != SimDuration::ZERO && self.preempt_until.is_none_or(|t| now < t);
        if self.p.nopreempt || a.priority >= mine || delaying {
            // A higher-priority master restarts the preempt delay; the first
            // lower-priority one starts it.
            if self.p.preempt_delay != SimDuration::ZERO
                && (a.priority > mine || self.preempt_until.is_none())
            {
                self.preempt_until = Some(now + self.p.preempt_delay);
            }
            self.learn_interval(a);
            let at = now + self.master_down();
            out.push(self.arm(at));
        }
        // else: a lower-priority master while we preempt — discarded; our
        // down timer runs out and we take over.
    }

    fn master_rx(&mut self, now: SimTime, src: Ipv4Addr, a: &VrrpAdvert, out: &mut Vec<Out>) {
        let mine = self.p.priority;
        if a.priority == 0 {
            out.push(Out::Advert(mine));
            let at = now + self.p.advert_int;
            out.push(self.arm(at));
            return;
        }
        let higher = a.priority > mine || (a.priority == mine && src > self.primary);
        if higher {
            let why = if a.priority == mine {
                format!(
                    "advert from {src} with equal priority {mine} and a higher address than {}",
                    self.primary
                )
            } else {
                format!(
                    "advert from {src} with higher priority {}, ours {mine}",
                    a.priority
                )
            };
            out.push(Out::Log(format!(
                "Master received advert from {src} with higher priority {}, ours {mine}",
                a.priority
            )));
            if self.p.higher_prio_send_advert {
                out.push(Out::Advert(mine));
            }
            self.goto(State::Backup, why, out);
            out.push(Out::Log("Entering BACKUP STATE".into()));
            out.push(Out::Log("removing VIPs.".into()));
            out.push(Out::DelVips);
            self.learn_interval(a);
            let at = now + self.master_down();
            out.push(self.arm(at));
        } else {
            out.push(Out::Log(format!(
                "Master received advert from {src} with lower priority {}, ours {mine}, forcing new election",
                a.priority
            )));
            if !self.p.lower_prio_no_advert {
                out.push(Out::Advert(mine));
                out.push(Out::Garp {
                    n: self.p.garp_lower.repeat,
                    later: self.p.garp_lower.delay,
                });
                let at = now + self.p.advert_int;
                out.push(self.arm(at));
            }
        }
    }

    /// keepalived stops (SIGTERM): a MASTER says goodbye with priority 0.
    pub fn stop(&mut self) -> Vec<Out> {
        let mut out = Vec::new();
        if self.state == State::Master {
            out.push(Out::Advert(0));
            out.push(Out::Log("sent 0 priority".into()));
            out.push(Out::Log("removing VIPs.".into()));
            out.push(Out::DelVips);
        }
        if self.state != State::Init {
            self.goto(State::Init, "keepalived stopped", &mut out);
        }
        self.epoch += 1;
        out
    }

    /// The instance interface went down: FAULT (VIPs removed).
    pub fn link_down(&mut self) -> Vec<Out> {
        let mut out = Vec::new();
        if matches!(self.state, State::Init | State::Fault) {
            return out;
        }
        if self.state == State::Master {
            out.push(Out::Advert(0));
            out.push(Out::Log("removing VIPs.".into()));
            out.push(Out::DelVips);
        }
        self.goto(State::Fault, "interface down", &mut out);
        out.push(Out::Log("Entering FAULT STATE".into()));
        self.epoch += 1;
        out
    }

    /// Another member of this instance's `vrrp_sync_group` went to `to`:
    /// follow it (keepalived moves a sync group's instances together).
    pub fn follow(&mut self, now: SimTime, to: State, group: &str) -> Vec<Out> {
        let mut out = Vec::new();
        let why = format!("sync group {group} member went {}", to.name());
        match (self.state, to) {
            (State::Backup, State::Master) => self.become_master(now, &why, &mut out),
            (State::Master, State::Backup) => {
                self.goto(State::Backup, why, &mut out);
                out.push(Out::Log("Entering BACKUP STATE".into()));
                out.push(Out::Log("removing VIPs.".into()));
                out.push(Out::DelVips);
                let at = now + self.master_down();
                out.push(self.arm(at));
            }
            (State::Backup | State::Master, State::Fault) => return self.link_down(),
            (State::Fault, State::Backup) => return self.link_up(now),
            _ => {}
        }
        out
    }

    /// The interface came back: BACKUP again, as at start-up.
    pub fn link_up(&mut self, now: SimTime) -> Vec<Out> {
        if self.state != State::Fault {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.master_adver_int = self.p.advert_int;
        self.goto(State::Backup, "interface up", &mut out);
        out.push(Out::Log("Entering BACKUP STATE".into()));
        let at = now + self.master_down();
        out.push(self.arm(at));
        out
    }
}

fn auth_num(a: &VrrpAuth) -> u8 {
    match a {
        VrrpAuth::None => 0,
        VrrpAuth::Pass(_) => 1,
        VrrpAuth::Ah => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(priority: u8, version: u8, adv_ms: u64) -> Params {
        Params {
            name: "VI_1".into(),
            vrid: 62,
            version,
            priority,
            advert_int: SimDuration::from_millis(adv_ms),
            want_master: false,
            nopreempt: false,
            preempt_delay: SimDuration::ZERO,
            auth: VrrpAuth::None,
            vips: vec![Ipv4Addr::new(10, 0, 0, 100)],
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            skip_check_adv_addr: false,
            garp_master: GarpPlan {
                repeat: 5,
                delay: SimDuration::from_secs(5),
            },
            garp_lower: GarpPlan {
                repeat: 5,
                delay: SimDuration::from_secs(5),
            },
            down_timer_adverts: 3,
            garp_refresh: (SimDuration::ZERO, 1),
        }
    }

    #[test]
    fn reference_timer_examples() {
        let ip = Ipv4Addr::new(10, 0, 0, 1);
        let v = Vrrp::new(params(100, 2, 1000), ip);
        assert_eq!(v.skew(), SimDuration::from_micros(609_375));
        assert_eq!(v.master_down(), SimDuration::from_micros(3_609_375));
        let v = Vrrp::new(params(200, 2, 1000), ip);
        assert_eq!(v.skew(), SimDuration::from_micros(218_750));
        assert_eq!(v.master_down(), SimDuration::from_micros(3_218_750));
        let v = Vrrp::new(params(254, 2, 1000), ip);
        assert_eq!(v.master_down(), SimDuration::from_micros(3_007_812));
        let v = Vrrp::new(params(100, 3, 500), ip);
        assert_eq!(v.skew(), SimDuration::from_micros(304_687));
        assert_eq!(v.master_down(), SimDuration::from_micros(1_804_687));
    }

    #[test]
    fn owner_starts_master_others_backup() {
        let ip = Ipv4Addr::new(10, 0, 0, 1);
        let mut p = params(255, 2, 1000);
        p.want_master = true;
        let mut v = Vrrp::new(p, ip);
        let out = v.start(SimTime::ZERO);
        assert_eq!(v.state, State::Master);
        assert!(out.contains(&Out::AddVips));
        let mut p = params(200, 2, 1000);
        p.want_master = true;
        let mut v = Vrrp::new(p, ip);
        v.start(SimTime::ZERO);
        assert_eq!(v.state, State::Backup);
    }

    #[test]
    fn stale_timer_epochs_are_ignored() {
        let mut v = Vrrp::new(params(100, 2, 1000), Ipv4Addr::new(10, 0, 0, 1));
        v.start(SimTime::ZERO);
        let old = v.epoch;
        let a = v.advert(150);
        v.receive(SimTime(1), Ipv4Addr::new(10, 0, 0, 2), &a);
        assert!(v.timer(SimTime(5), old).is_empty());
        assert_eq!(v.state, State::Backup);
    }

    #[test]
    fn equal_priority_higher_address_wins() {
        let me = Ipv4Addr::new(10, 0, 0, 5);
        let mut v = Vrrp::new(params(100, 2, 1000), me);
        v.start(SimTime::ZERO);
        let e = v.epoch;
        v.timer(SimTime(4_000_000_000), e);
        assert_eq!(v.state, State::Master);
        let a = v.advert(100);
        v.receive(SimTime(4_500_000_000), Ipv4Addr::new(10, 0, 0, 4), &a);
        assert_eq!(v.state, State::Master, "lower address yields, not us");
        v.receive(SimTime(4_600_000_000), Ipv4Addr::new(10, 0, 0, 9), &a);
        assert_eq!(v.state, State::Backup);
    }

    #[test]
    fn v2_checks_drop_bad_adverts() {
        let mut p = params(100, 2, 1000);
        p.auth = VrrpAuth::Pass(*b"1111\0\0\0\0");
        let v = Vrrp::new(p, Ipv4Addr::new(10, 0, 0, 1));
        let good = v.advert(100);
        assert_eq!(v.check(255, &good), None);
        assert!(v.check(64, &good).is_some_and(|m| m.contains("TTL")));
        let mut bad = good.clone();
        bad.auth = VrrpAuth::Pass(*b"2222\0\0\0\0");
        assert!(v.check(255, &bad).is_some());
        let mut bad = good.clone();
        bad.interval = 2;
        assert!(v.check(255, &bad).is_some_and(|m| m.contains("interval")));
        let mut bad = good;
        bad.addrs = vec![Ipv4Addr::new(10, 0, 0, 200)];
        assert!(v.check(255, &bad).is_some());
    }
}
