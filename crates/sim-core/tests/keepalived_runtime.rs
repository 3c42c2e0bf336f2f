//! keepalived at run time: VRRP timers, takeover, preemption, split brain,
//! checker timing and the IPVS table keepalived builds, on simulated hosts.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::net::Ipv4Addr;

use sim_core::host::{HostId, IfAddr};
use sim_core::keepalived::vrrp::State;
use sim_core::packet::{IpPayload, MacAddr};
use sim_core::shell;
use sim_core::time::{SimDuration, SimTime};
use sim_core::trace::{TraceKind, TraceLevel};
use sim_core::world::World;

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// One segment 10.0.0.0/24; hosts get 10.0.0.(10+i).
struct Lab {
    w: World,
}

impl Lab {
    fn new(level: TraceLevel) -> Self {
        let mut w = World::new(7, level);
        w.add_segment("lan", SimDuration::from_micros(100), 1_000_000_000);
        Lab { w }
    }

    fn host(&mut self, name: &str, last: u8) -> HostId {
        let h = self.w.add_host(name);
        self.w
            .add_nic(h, "eth0", MacAddr([0x52, 0x54, 0, 0, 0, last]), 0);
        self.w
            .addr_add(
                h,
                "eth0",
                IfAddr {
                    addr: Ipv4Addr::new(10, 0, 0, last),
                    prefix: 24,
                    brd: Some(Ipv4Addr::new(10, 0, 0, 255)),
                    label: "eth0".into(),
                    host_scope: false,
                },
            )
            .unwrap();
        h
    }

    fn rs(&mut self, name: &str, last: u8) -> HostId {
        let h = self.host(name, last);
        self.sh(h, &format!("echo {name} > /var/www/html/index.html"));
        self.sh(h, "systemctl start httpd");
        h
    }

    fn sh(&mut self, h: HostId, cmd: &str) -> String {
        let out = shell::run_line(&mut self.w, h, cmd).unwrap();
        out.stdout
    }

    fn conf(&mut self, h: HostId, text: &str) {
        self.w.hosts[h]
            .files
            .insert("/etc/keepalived/keepalived.conf".into(), text.into());
    }

    fn at(&mut self, t: u64, h: HostId, cmd: &str) {
        self.w.schedule_action(SimTime(t), h, cmd);
    }

    fn run_to(&mut self, t: u64) {
        self.w.step_until(SimTime(t));
    }

    fn state(&self, h: HostId) -> State {
        self.w.hosts[h]
            .keepalived
            .running
            .as_ref()
            .map_or(State::Init, |d| d.instances[0].vrrp.state)
    }

    /// Times at which `h` entered `to`.
    fn entered(&self, h: HostId, to: State) -> Vec<u64> {
        self.w.hosts[h]
            .keepalived
            .transitions
            .iter()
            .filter(|t| t.to == to)
            .map(|t| t.t.0)
            .collect()
    }

    fn has_vip(&self, h: HostId, vip: Ipv4Addr) -> bool {
        self.w.hosts[h].iface_with_addr(vip).is_some()
    }

    fn log_time(&self, host: &str, needle: &str) -> Vec<u64> {
        self.w
            .trace
            .records
            .iter()
            .filter(|r| &*r.host == host)
            .filter(|r| matches!(&r.kind, TraceKind::Keepalived { text } if text.contains(needle)))
            .map(|r| r.t.0)
            .collect()
    }
}

fn vrrp_conf(state: &str, prio: u8, extra: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 51\n  priority {prio}\n  advert_int 1\n{extra}\n  authentication {{\n    auth_type PASS\n    auth_pass secret\n  }}\n  virtual_ipaddress {{\n    10.0.0.100\n  }}\n}}\n"
    )
}

const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

fn skew_us(prio: u64) -> u64 {
    (256 - prio) * 1_000_000 / 256
}

fn down_us(prio: u64) -> u64 {
    3_000_000 + skew_us(prio)
}

fn two_directors(a_conf: &str, b_conf: &str) -> (Lab, HostId, HostId) {
    let mut lab = Lab::new(TraceLevel::Events);
    let a = lab.host("lvs-a", 10);
    let b = lab.host("lvs-b", 20);
    lab.conf(a, a_conf);
    lab.conf(b, b_conf);
    (lab, a, b)
}

#[test]
fn start_up_master_after_its_master_down_interval() {
    let (mut lab, a, b) = two_directors(
        &vrrp_conf(
            "MASTER",
            200,
            "  nopreempt\n  notify_master \"/etc/keepalived/notify.sh master\"",
        ),
        &vrrp_conf("BACKUP", 100, ""),
    );
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.run_to(10 * S);
    let note = "(VI_1) notify_master '/etc/keepalived/notify.sh master' is not run in the lab";
    assert_eq!(lab.log_time("lvs-a", note), vec![down_us(200) * 1000]);
    assert_eq!(lab.entered(a, State::Master), vec![down_us(200) * 1000]);
    assert!(lab.entered(b, State::Master).is_empty());
    assert!(lab.has_vip(a, VIP) && !lab.has_vip(b, VIP));
    let ip_a = lab.sh(a, "ip a");
    assert!(
        ip_a.contains("inet 10.0.0.100/32 scope global eth0"),
        "{ip_a}"
    );
}

#[test]
fn stop_takeover_after_backups_skew_time() {
    let (mut lab, a, b) =
        two_directors(&vrrp_conf("MASTER", 200, ""), &vrrp_conf("BACKUP", 100, ""));
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.at(10 * S, a, "systemctl stop keepalived");
    lab.run_to(20 * S);
    let got0 = lab.log_time("lvs-b", "Backup received priority 0 advertisement");
    assert_eq!(got0.len(), 1);
    assert!(
        got0[0] > 10 * S && got0[0] < 10 * S + MS,
        "arrives one hop later"
    );
    let master = lab.entered(b, State::Master);
    assert_eq!(
        master,
        vec![got0[0] + skew_us(100) * 1000],
        "takeover = Skew_Time"
    );
    assert!(!lab.has_vip(a, VIP) && lab.has_vip(b, VIP));
    assert_eq!(
        lab.log_time("lvs-b", "Sending gratuitous ARP on eth0")
            .len(),
        10
    );
}

#[test]
fn poweroff_takeover_after_master_down_interval() {
    let mut lab = Lab::new(TraceLevel::Full);
    let a = lab.host("lvs-a", 10);
    let b = lab.host("lvs-b", 20);
    lab.conf(a, &vrrp_conf("MASTER", 200, ""));
    lab.conf(b, &vrrp_conf("BACKUP", 100, ""));
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.at(10 * S, a, "poweroff");
    lab.run_to(20 * S);
    let last_rx = lab
        .w
        .trace
        .records
        .iter()
        .filter(|r| &*r.host == "lvs-b")
        .filter_map(|r| match &r.kind {
            TraceKind::Rx { frame, .. } => match frame.ipv4().map(|p| &p.payload) {
                Some(IpPayload::Vrrp(v)) if v.priority == 200 => Some(r.t.0),
                _ => None,
            },
            _ => None,
        })
        .next_back()
        .unwrap();
    assert_eq!(
        lab.entered(b, State::Master),
        vec![last_rx + down_us(100) * 1000]
    );
    assert_eq!(
        lab.w.vip_holders(),
        "  VIP 10.0.0.100 held by: lvs-a 3.219s–10.000s, lvs-b 12.828s–end\n"
    );
}

#[test]
fn higher_priority_preempts_one_master_down_interval_after_starting() {
    let (mut lab, a, b) =
        two_directors(&vrrp_conf("BACKUP", 200, ""), &vrrp_conf("BACKUP", 100, ""));
    lab.sh(b, "systemctl start keepalived");
    lab.at(10 * S, a, "systemctl start keepalived");
    lab.run_to(20 * S);
    assert_eq!(lab.entered(b, State::Master), vec![down_us(100) * 1000]);
    assert_eq!(
        lab.entered(a, State::Master),
        vec![10 * S + down_us(200) * 1000]
    );
    // b yields when a's first advert arrives (no priority-0 advert).
    let yielded = lab.entered(b, State::Backup);
    assert_eq!(yielded.len(), 2);
    assert!(yielded[1] > 10 * S + down_us(200) * 1000);
    assert_eq!((lab.state(a), lab.state(b)), (State::Master, State::Backup));
}

#[test]
fn nopreempt_keeps_the_lower_priority_master() {
    let (mut lab, a, b) = two_directors(
        &vrrp_conf("BACKUP", 200, "  nopreempt"),
        &vrrp_conf("BACKUP", 100, ""),
    );
    lab.sh(b, "systemctl start keepalived");
    lab.at(10 * S, a, "systemctl start keepalived");
    lab.run_to(40 * S);
    assert!(lab.entered(a, State::Master).is_empty());
    assert_eq!((lab.state(a), lab.state(b)), (State::Backup, State::Master));
}

#[test]
fn nopreempt_with_state_master_is_cleared_and_preempts() {
    let (mut lab, a, b) = two_directors(
        &vrrp_conf("MASTER", 200, "  nopreempt"),
        &vrrp_conf("BACKUP", 100, "  nopreempt"),
    );
    lab.sh(b, "systemctl start keepalived");
    lab.at(10 * S, a, "systemctl start keepalived");
    lab.run_to(20 * S);
    assert_eq!(
        lab.entered(a, State::Master),
        vec![10 * S + down_us(200) * 1000]
    );
    assert!(
        !lab.log_time("lvs-a", "nopreempt will not work with initial state MASTER")
            .is_empty()
    );
}

#[test]
fn preempt_delay_postpones_the_takeover() {
    let (mut lab, a, b) = two_directors(
        &vrrp_conf("BACKUP", 200, "  preempt_delay 5"),
        &vrrp_conf("BACKUP", 100, ""),
    );
    lab.sh(b, "systemctl start keepalived");
    lab.at(10 * S, a, "systemctl start keepalived");
    lab.run_to(30 * S);
    let m = lab.entered(a, State::Master);
    assert_eq!(m.len(), 1);
    // Accepted until 15 s; the last accepted advert + Master_Down_Interval.
    let lo = 15 * S + down_us(200) * 1000 - S;
    let hi = 15 * S + down_us(200) * 1000 + MS;
    assert!(m[0] > lo && m[0] <= hi, "{m:?}");
}

#[test]
fn equal_priorities_the_higher_address_keeps_master() {
    let (mut lab, a, b) =
        two_directors(&vrrp_conf("BACKUP", 100, ""), &vrrp_conf("BACKUP", 100, ""));
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.run_to(10 * S);
    // Both time out together and become MASTER; 10.0.0.10 yields to 10.0.0.20.
    assert_eq!(lab.entered(a, State::Master), vec![down_us(100) * 1000]);
    assert_eq!(lab.entered(b, State::Master), vec![down_us(100) * 1000]);
    assert_eq!((lab.state(a), lab.state(b)), (State::Backup, State::Master));
    assert!(!lab.has_vip(a, VIP) && lab.has_vip(b, VIP));
}

#[test]
fn priority_255_owner_is_master_at_once() {
    let (mut lab, a, b) =
        two_directors(&vrrp_conf("MASTER", 255, ""), &vrrp_conf("BACKUP", 100, ""));
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.run_to(5 * S);
    assert_eq!(lab.entered(a, State::Master), vec![0]);
    assert!(lab.entered(b, State::Master).is_empty());
}

#[test]
fn wrong_password_or_blocked_adverts_make_two_masters() {
    let other = vrrp_conf("BACKUP", 100, "").replace("secret", "other");
    let (mut lab, a, b) = two_directors(&vrrp_conf("MASTER", 200, ""), &other);
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.run_to(10 * S);
    assert_eq!((lab.state(a), lab.state(b)), (State::Master, State::Master));
    assert!(
        !lab.log_time("lvs-b", "invalid authentication password")
            .is_empty()
    );

    let (mut lab, a, b) =
        two_directors(&vrrp_conf("MASTER", 200, ""), &vrrp_conf("BACKUP", 100, ""));
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.at(10 * S, b, "iptables -A INPUT -p vrrp -j DROP");
    lab.at(20 * S, b, "iptables -D INPUT -p vrrp -j DROP");
    lab.run_to(18 * S);
    assert_eq!((lab.state(a), lab.state(b)), (State::Master, State::Master));
    lab.run_to(25 * S);
    assert_eq!((lab.state(a), lab.state(b)), (State::Master, State::Backup));
}

#[test]
fn link_down_is_fault_and_link_up_is_backup_again() {
    let (mut lab, a, b) =
        two_directors(&vrrp_conf("MASTER", 200, ""), &vrrp_conf("BACKUP", 100, ""));
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.at(10 * S, a, "ip link set eth0 down");
    lab.at(20 * S, a, "ip link set eth0 up");
    lab.run_to(15 * S);
    assert_eq!((lab.state(a), lab.state(b)), (State::Fault, State::Master));
    assert!(!lab.has_vip(a, VIP));
    lab.run_to(30 * S);
    assert_eq!((lab.state(a), lab.state(b)), (State::Master, State::Backup));
}

fn last_rx_from(lab: &Lab, host: &str, prio: u8) -> u64 {
    lab.w
        .trace
        .records
        .iter()
        .filter(|r| &*r.host == host)
        .filter_map(|r| match &r.kind {
            TraceKind::Rx { frame, .. } => match frame.ipv4().map(|p| &p.payload) {
                Some(IpPayload::Vrrp(v)) if v.priority == prio => Some(r.t.0),
                _ => None,
            },
            _ => None,
        })
        .next_back()
        .unwrap()
}

#[test]
fn v3_backup_learns_the_masters_interval() {
    let mut lab = Lab::new(TraceLevel::Full);
    let a = lab.host("lvs-a", 10);
    let b = lab.host("lvs-b", 20);
    let v3 = |c: String| c.replace("advert_int 1", "advert_int 0.5\n  version 3");
    lab.conf(a, &v3(vrrp_conf("MASTER", 200, "")));
    lab.conf(b, &vrrp_conf("BACKUP", 100, "  version 3"));
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.at(10 * S, a, "poweroff");
    lab.run_to(20 * S);
    // b's own advert_int is 1 s but it runs on the master's 0.5 s:
    // 3 × 0.5 s + (256 − 100) × 0.5 s / 256 = 1.8046875 s.
    let last = last_rx_from(&lab, "lvs-b", 200);
    assert_eq!(lab.entered(b, State::Master), vec![last + 1_804_687_000]);
    assert!(
        lab.w
            .trace
            .to_text()
            .contains("VRRPv3, Advertisement, vrid 51, prio 200")
    );
}

#[test]
fn v2_interval_mismatch_drops_adverts() {
    let (mut lab, a, b) = two_directors(
        &vrrp_conf("MASTER", 200, ""),
        &vrrp_conf("BACKUP", 100, "").replace("advert_int 1", "advert_int 2"),
    );
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.run_to(10 * S);
    assert_eq!((lab.state(a), lab.state(b)), (State::Master, State::Master));
    assert!(
        !lab.log_time("lvs-b", "advertisement interval mismatch")
            .is_empty()
    );
}

#[test]
fn unicast_peers_carry_the_adverts() {
    let uni = |peer: &str| format!("  unicast_peer {{\n    {peer}\n  }}");
    let (mut lab, a, b) = two_directors(
        &vrrp_conf("MASTER", 200, &uni("10.0.0.20")),
        &vrrp_conf("BACKUP", 100, &uni("10.0.0.10")),
    );
    lab.w.trace.level = TraceLevel::Full;
    lab.sh(a, "systemctl start keepalived");
    lab.sh(b, "systemctl start keepalived");
    lab.at(10 * S, a, "systemctl stop keepalived");
    lab.run_to(15 * S);
    let t = lab.w.trace.to_text();
    assert!(
        t.contains("IP 10.0.0.10 > 10.0.0.20: VRRPv2"),
        "unicast advert"
    );
    assert!(!t.contains("> 224.0.0.18"), "no multicast");
    let got0 = lab.log_time("lvs-b", "Backup received priority 0 advertisement");
    assert_eq!(
        lab.entered(b, State::Master),
        vec![got0[0] + skew_us(100) * 1000]
    );
}

#[test]
fn garp_schedule_on_becoming_master_and_refresh() {
    let (mut lab, a, _) = two_directors(
        &vrrp_conf("MASTER", 200, "  garp_master_refresh 2"),
        &vrrp_conf("BACKUP", 100, ""),
    );
    lab.sh(a, "systemctl start keepalived");
    lab.run_to(10 * S);
    let t = lab.log_time("lvs-a", "Sending gratuitous ARP on eth0 for 10.0.0.100");
    let m = down_us(200) * 1000;
    // 5 at once, 1 every 2 s (refresh), 5 more after garp_master_delay 5 s.
    let mut want = vec![m; 5];
    want.extend([m + 2 * S, m + 4 * S]);
    want.extend([m + 5 * S; 5]);
    want.push(m + 6 * S);
    assert_eq!(t, want);
}

#[test]
fn track_interface_weight_lowers_priority_and_weight_zero_faults() {
    let track = |w: &str| format!("  track_interface {{\n    eth1{w}\n  }}");
    for (weight, a_state) in [(" weight -150", State::Backup), ("", State::Fault)] {
        let (mut lab, a, b) = two_directors(
            &vrrp_conf("MASTER", 200, &track(weight)),
            &vrrp_conf("BACKUP", 100, ""),
        );
        lab.w
            .add_nic(a, "eth1", MacAddr([0x52, 0x54, 0, 0, 1, 10]), 0);
        lab.sh(a, "systemctl start keepalived");
        lab.sh(b, "systemctl start keepalived");
        lab.at(10 * S, a, "ip link set eth1 down");
        lab.run_to(20 * S);
        assert_eq!(
            (lab.state(a), lab.state(b)),
            (a_state, State::Master),
            "{weight}"
        );
        assert!(lab.has_vip(b, VIP) && !lab.has_vip(a, VIP));
        lab.at(20 * S, a, "ip link set eth1 up");
        lab.run_to(30 * S);
        assert_eq!(
            (lab.state(a), lab.state(b)),
            (State::Master, State::Backup),
            "{weight}"
        );
    }
}

#[test]
fn a_sync_group_moves_its_instances_together() {
    let second = |state: &str, prio: u8| {
        vrrp_conf(state, prio, "")
            .replace("VI_1", "VI_2")
            .replace("eth0", "eth1")
            .replace("virtual_router_id 51", "virtual_router_id 52")
            .replace("10.0.0.100", "10.0.1.100")
    };
    let group = "vrrp_sync_group VG_1 {\n  group {\n    VI_1\n    VI_2\n  }\n}\n";
    for synced in [true, false] {
        let g = if synced { group } else { "" };
        let (mut lab, a, b) = two_directors(
            &format!(
                "{g}{}{}",
                vrrp_conf("MASTER", 200, ""),
                second("MASTER", 200)
            ),
            &format!(
                "{g}{}{}",
                vrrp_conf("BACKUP", 100, ""),
                second("BACKUP", 100)
            ),
        );
        let inner = lab
            .w
            .add_segment("inner", SimDuration::from_micros(100), 1_000_000_000);
        for (h, last) in [(a, 10u8), (b, 20)] {
            lab.w
                .add_nic(h, "eth1", MacAddr([0x52, 0x54, 0, 0, 1, last]), inner);
            lab.sh(h, &format!("ip addr add 10.0.1.{last}/24 dev eth1"));
            lab.sh(h, "systemctl start keepalived");
        }
        lab.at(10 * S, a, "ip link set eth1 down");
        lab.run_to(20 * S);
        // VI_2 lost its link on a; with the group VI_1 follows it to FAULT.
        let vi1_on_b = lab.has_vip(b, VIP);
        assert_eq!(vi1_on_b, synced, "synced={synced}");
        assert!(lab.has_vip(b, Ipv4Addr::new(10, 0, 1, 100)));
    }
}

#[test]
fn keepalived_commands() {
    let (mut lab, a, b) = two_directors(
        &vrrp_conf("MASTER", 200, ""),
        "vrrp_instance VI_1 {\n  bogus_keyword 1\n",
    );
    let ok = shell::run_line(&mut lab.w, a, "keepalived -t").unwrap();
    assert_eq!(ok.status, 0, "{}", ok.stderr);
    let bad = shell::run_line(&mut lab.w, b, "keepalived -t").unwrap();
    assert_eq!(bad.status, 1);
    assert!(
        bad.stderr.contains("/etc/keepalived/keepalived.conf:2:"),
        "{}",
        bad.stderr
    );
    // `-t` is strict about numbers: the tutorial's `retry 3` + U+3000 fails it
    // (a running keepalived uses 3 and warns).
    let tutorial = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/keepalived/tutorial-master.conf"
    ))
    .unwrap();
    lab.w.hosts[b]
        .files
        .insert("/etc/keepalived/keepalived.conf".into(), tutorial);
    let strict = shell::run_line(&mut lab.w, b, "keepalived -t").unwrap();
    assert_eq!(strict.status, 1);
    assert!(
        strict.stderr.contains("error: WARNING - invalid number '3"),
        "{}",
        strict.stderr
    );
    let st = shell::run_line(&mut lab.w, a, "systemctl is-active keepalived").unwrap();
    assert_eq!((st.stdout.as_str(), st.status), ("inactive\n", 3));
    lab.sh(a, "systemctl start keepalived");
    assert_eq!(lab.sh(a, "systemctl is-active keepalived"), "active\n");
    assert!(lab.sh(a, "keepalived -v").starts_with("Keepalived v2"));
    // restart: goodbye (priority 0) then BACKUP again, MASTER after 3.219 s.
    lab.at(10 * S, a, "systemctl restart keepalived");
    lab.run_to(20 * S);
    let m = down_us(200) * 1000;
    assert_eq!(lab.entered(a, State::Master), vec![m, 10 * S + m]);
}

#[test]
fn track_script_is_named_as_not_run_and_the_instance_still_runs() {
    let script = "vrrp_script chk_httpd {\n  script \"/usr/bin/pgrep httpd\"\n  weight -50\n}\n";
    let conf = format!(
        "{script}{}",
        vrrp_conf("MASTER", 200, "  track_script {\n    chk_httpd\n  }")
    );
    let (mut lab, a, _) = two_directors(&conf, &vrrp_conf("BACKUP", 100, ""));
    lab.sh(a, "systemctl start keepalived");
    lab.run_to(5 * S);
    assert_eq!(lab.state(a), State::Master);
    assert!(
        !lab.log_time("lvs-a", "tracking chk_httpd is not run in the lab")
            .is_empty()
    );
}

// ---------------------------------------------------------------- checkers

fn lvs_conf(check: &str, vs_extra: &str, rs_extra: &str) -> String {
    format!(
        "virtual_server 10.0.0.100 80 {{\n  delay_loop 3\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n{vs_extra}\n  real_server 10.0.0.31 80 {{\n    weight 1\n{rs_extra}\n    {check}\n  }}\n  real_server 10.0.0.32 80 {{\n    weight 1\n    {check}\n  }}\n}}\n"
    )
}

const TCP: &str = "TCP_CHECK {\n connect_timeout 3\n retry 3\n delay_before_retry 3\n warmup 0\n }";

fn checker_lab(conf: &str) -> (Lab, HostId, HostId) {
    let mut lab = Lab::new(TraceLevel::Events);
    let d = lab.host("lvs", 10);
    let rs1 = lab.rs("rs1", 31);
    lab.rs("rs2", 32);
    lab.conf(d, conf);
    lab.sh(d, "systemctl start keepalived");
    (lab, d, rs1)
}

/// The weight `ipvsadm -Ln` shows for `rs` (`None`: not listed).
fn weight(lab: &mut Lab, d: HostId, rs: &str) -> Option<u32> {
    let t = lab.sh(d, "ipvsadm -Ln");
    t.lines().find_map(|l| {
        let w: Vec<&str> = l.split_whitespace().collect();
        (w.len() >= 4 && w[0] == "->" && w[1] == rs).then(|| w[3].parse().unwrap())
    })
}

fn removed_at(lab: &Lab) -> Vec<u64> {
    lab.log_time("lvs", "Removing service [10.0.0.31]:tcp:80")
}

#[test]
fn keepalived_builds_and_removes_the_ipvs_table() {
    let (mut lab, d, _) = checker_lab(&lvs_conf(TCP, "", ""));
    let t = lab.sh(d, "ipvsadm -Ln");
    assert!(t.contains("TCP  10.0.0.100:80 rr"), "{t}");
    assert_eq!(weight(&mut lab, d, "10.0.0.31:80"), Some(1), "{t}");
    lab.sh(d, "systemctl stop keepalived");
    let t = lab.sh(d, "ipvsadm -Ln");
    assert!(!t.contains("10.0.0.100"), "{t}");
}

#[test]
fn refused_connections_remove_the_server_after_retries() {
    // Attempts at 0, 3, 6, 9, 12 s; httpd stops at 10 s: 12 fails, retries at
    // 15, 18, 21 fail → removed at 21 s (plus one round trip).
    let (mut lab, d, rs1) = checker_lab(&lvs_conf(TCP, "", ""));
    lab.at(10 * S, rs1, "systemctl stop httpd");
    lab.at(30 * S, rs1, "systemctl start httpd");
    lab.run_to(40 * S);
    let r = removed_at(&lab);
    assert_eq!(r.len(), 1);
    // Each attempt starts when the previous one ended (plus ARP and RTT drift).
    assert!(r[0] > 21 * S && r[0] < 21 * S + 5 * MS, "{r:?}");
    let back = lab.log_time("lvs", "Adding service [10.0.0.31]:tcp:80");
    // Initial add at 0; while DOWN one attempt per delay_loop (24, 27, 30 s):
    // the one just after httpd restarts at 30 s brings it back at once.
    assert_eq!(back.len(), 2);
    assert!(back[1] > 30 * S && back[1] < 30 * S + 5 * MS, "{back:?}");
    assert!(lab.sh(d, "ipvsadm -Ln").contains("10.0.0.31:80"));
}

#[test]
fn silent_server_is_removed_after_connect_timeouts() {
    // No answer at all: each attempt ends at connect_timeout. First failing
    // attempt at 12 s → 15, retry 18 → 21, 24 → 27, 30 → 33 s: DOWN.
    let (mut lab, _, rs1) = checker_lab(&lvs_conf(TCP, "", ""));
    lab.at(10 * S, rs1, "poweroff");
    lab.run_to(40 * S);
    let r = removed_at(&lab);
    assert_eq!(r.len(), 1);
    assert!(r[0] >= 33 * S && r[0] < 33 * S + 5 * MS, "{r:?}");
}

#[test]
fn inhibit_on_failure_sets_weight_zero() {
    let (mut lab, d, rs1) = checker_lab(&lvs_conf(TCP, "", "    inhibit_on_failure"));
    lab.at(10 * S, rs1, "systemctl stop httpd");
    lab.run_to(25 * S);
    assert_eq!(weight(&mut lab, d, "10.0.0.31:80"), Some(0));
    assert_eq!(weight(&mut lab, d, "10.0.0.32:80"), Some(1));
    assert!(
        !lab.log_time("lvs", "Disabling service [10.0.0.31]:tcp:80")
            .is_empty()
    );
}

#[test]
fn quorum_loss_brings_in_the_sorry_server() {
    let vs = "  quorum 2\n  sorry_server 10.0.0.40 80";
    let (mut lab, d, rs1) = checker_lab(&lvs_conf(TCP, vs, ""));
    lab.at(10 * S, rs1, "systemctl stop httpd");
    lab.at(30 * S, rs1, "systemctl start httpd");
    lab.run_to(25 * S);
    let t = lab.sh(d, "ipvsadm -Ln");
    assert!(t.contains("10.0.0.40:80"), "{t}");
    assert!(
        !t.contains("10.0.0.32:80"),
        "alive servers leave the pool: {t}"
    );
    assert!(!lab.log_time("lvs", "Lost quorum").is_empty());
    lab.run_to(40 * S);
    let t = lab.sh(d, "ipvsadm -Ln");
    assert!(
        !t.contains("10.0.0.40:80") && t.contains("10.0.0.32:80"),
        "{t}"
    );
}

#[test]
fn http_get_checks_status_and_digest() {
    let good = sim_core::keepalived::md5::hex(b"rs1\n");
    let http = format!(
        "HTTP_GET {{\n url {{\n path /\n digest {good}\n }}\n connect_timeout 3\n retry 1\n delay_before_retry 1\n warmup 0\n }}"
    );
    let (mut lab, d, rs1) = checker_lab(&lvs_conf(&http, "", ""));
    lab.run_to(5 * S);
    // rs2 serves "rs2\n": wrong digest → down after one retry.
    let t = lab.sh(d, "ipvsadm -Ln");
    assert!(
        t.contains("10.0.0.31:80") && !t.contains("10.0.0.32:80"),
        "{t}"
    );
    lab.at(6 * S, rs1, "echo changed > /var/www/html/index.html");
    lab.run_to(15 * S);
    assert!(!lab.sh(d, "ipvsadm -Ln").contains("10.0.0.31:80"));
    assert!(!lab.log_time("lvs", "MD5SUM").is_empty());
}

#[test]
fn misc_check_uses_the_scripts_exit_status() {
    let misc = "MISC_CHECK {\n misc_path \"/usr/local/bin/check.sh 10.0.0.31\"\n warmup 0\n }";
    let (mut lab, d, _) = checker_lab(&lvs_conf(misc, "", ""));
    lab.w.hosts[d].files.insert(
        "/usr/local/bin/check.sh".into(),
        "#!/bin/sh\nexit 0\n".into(),
    );
    lab.run_to(4 * S);
    assert!(lab.sh(d, "ipvsadm -Ln").contains("10.0.0.31:80"));
    lab.w.hosts[d].files.insert(
        "/usr/local/bin/check.sh".into(),
        "#!/bin/sh\nexit 1\n".into(),
    );
    lab.run_to(8 * S);
    // MISC_CHECK's retry defaults to 0: the next attempt (6 s) takes it out.
    assert!(!lab.sh(d, "ipvsadm -Ln").contains("10.0.0.31:80"));
}

// ---------------------------------------------------------------- proptest

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Once converged on a connected segment, exactly one node is MASTER and
    /// holds the VIP — whatever the priorities, preemption settings, start
    /// times, and stops/restarts (or link flaps) before convergence.
    #[test]
    fn at_most_one_master_once_converged(
        nodes in proptest::collection::vec(
            (1u8..=254, 0u64..4000, proptest::bool::ANY, proptest::option::of((4000u64..12000, 0u8..3))),
            2..=4,
        )
    ) {
        let mut lab = Lab::new(TraceLevel::Off);
        let mut hosts = Vec::new();
        for (i, (prio, start_ms, nopreempt, fault)) in nodes.iter().enumerate() {
            let last = u8::try_from(10 + i).unwrap();
            let h = lab.host(&format!("n{i}"), last);
            let np = if *nopreempt { "  nopreempt" } else { "" };
            lab.conf(h, &vrrp_conf("BACKUP", *prio, np));
            lab.at(start_ms * MS, h, "systemctl start keepalived");
            if let Some((at_ms, kind)) = fault {
                let (down, up) = match kind {
                    0 => ("systemctl stop keepalived", "systemctl start keepalived"),
                    1 => ("ip link set eth0 down", "ip link set eth0 up"),
                    _ => ("systemctl restart keepalived", "systemctl status keepalived"),
                };
                lab.at(at_ms * MS, h, down);
                lab.at(at_ms * MS + 2 * S, h, up);
            }
            hosts.push(h);
        }
        for t in [25u64, 30, 35] {
            lab.run_to(t * S);
            let masters: Vec<HostId> =
                hosts.iter().copied().filter(|h| lab.state(*h) == State::Master).collect();
            proptest::prop_assert_eq!(masters.len(), 1, "at {}s: {:?}", t, nodes);
            let holders = hosts.iter().filter(|h| lab.has_vip(**h, VIP)).count();
            proptest::prop_assert_eq!(holders, 1);
        }
    }
}

// ---------------------------------------------------------------- corpus

/// What keepalived would configure for every sample of the corpus and the
/// tutorial's two configs: VRRP timers and election settings, the IPVS table
/// (`ipvsadm -Ln`), checker timings. Golden files in
/// `tests/golden/keepalived-runtime/`; `UPDATE_GOLDEN=1` rewrites them.
#[test]
fn corpus_configuration_golden() {
    use sim_core::keepalived::conf::{ConfContext, NoFiles, parse};
    let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let golden = root.join("tests/golden/keepalived-runtime");
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut files: Vec<(String, std::path::PathBuf)> =
        std::fs::read_dir(root.join("scenarios/keepalived-corpus"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.file_name().into_string().unwrap(), e.path())
            })
            .collect();
    for t in ["tutorial-master.conf", "tutorial-backup.conf"] {
        files.push((t.to_string(), root.join("scenarios/keepalived").join(t)));
    }
    files.sort();
    assert_eq!(files.len(), 27);
    let mut failures = Vec::new();
    for (name, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let id = if name.ends_with("conditional_conf") {
            "high"
        } else {
            "lvs-master"
        };
        let ctx = ConfContext {
            config_id: Some(id.to_string()),
        };
        let p = parse(&text, name, &NoFiles, &ctx);
        let got = format!(
            "# {name}\n{}",
            sim_core::keepalived::report::configured(&p.config)
        );
        let file = golden.join(format!("{name}.txt"));
        if update {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(&file, &got).unwrap();
        } else if std::fs::read_to_string(&file).unwrap_or_default() != got {
            failures.push(format!("{name}: golden mismatch\n--- got\n{got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n(UPDATE_GOLDEN=1 to accept)",
        failures.join("\n")
    );
}
