//! The listings of ipvsadm 1.31, byte for byte (§7), against golden files.

use super::{Lab, golden};
use crate::ipvs::ipvsadm::{Names, run_with};

/// A table with every kind of service, dest and forwarding method, and some
/// traffic (NAT both directions, DR one way, a UDP flow, persistence).
fn busy_lab() -> Lab {
    let mut lab = Lab::new();
    lab.restore(
        "-A -t 192.168.10.100:80 -s wlc -p 360\n\
         -a -t 192.168.10.100:80 -r 10.0.0.11:80 -m -w 1 -x 100 -y 50\n\
         -a -t 192.168.10.100:80 -r 10.0.0.12:80 -m -w 2\n\
         -A -t 192.168.10.100:443 -s rr -p 120 -M 255.255.255.0\n\
         -a -t 192.168.10.100:443 -r 10.0.0.12:443 -g -w 3\n\
         -a -t 192.168.10.100:443 -r 10.0.0.11:443 -i -w 0\n\
         -A -u 192.168.10.100:53 -s rr -o\n\
         -a -u 192.168.10.100:53 -r 10.0.0.21:53 -g -w 1\n\
         -A -f 1 -s sh -b sh-fallback,sh-port\n\
         -a -f 1 -r 10.0.0.31:8080 -g -w 1\n\
         -a -f 1 -r 10.0.0.32:8080 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n\
         -A -t 192.168.10.100:8080 -s mh -b mh-port\n\
         -a -t 192.168.10.100:8080 -r 10.0.0.41:8080 -i -w 1 --tun-type gre --tun-nocsum\n",
    );
    // NAT: a full request/response exchange, then one more SYN.
    let c = "172.16.5.9:51234";
    let vip = "192.168.10.100:80";
    let rs = super::fwd_to(&lab.tcp(c, vip, "S"));
    lab.tcp_reply(&rs, c, "S.");
    lab.tcp(c, vip, ".");
    lab.tcp(c, vip, "P.");
    lab.tcp_reply(&rs, c, ".");
    lab.wait(1);
    lab.tcp("172.16.5.9:51236", vip, "S");
    // DR: handshake and close.
    let c = "172.16.5.10:40000";
    lab.tcp(c, "192.168.10.100:443", "S");
    lab.tcp(c, "192.168.10.100:443", ".");
    lab.tcp(c, "192.168.10.100:443", "F.");
    // UDP (ops: the entry is freed at once).
    lab.udp("172.16.5.11:5353", "192.168.10.100:53");
    lab.wait(3);
    lab
}

#[test]
fn list_numeric() {
    let mut lab = busy_lab();
    golden("list-n.txt", &lab.ok("-L -n"));
}

#[test]
fn list_stats_and_exact() {
    let mut lab = busy_lab();
    golden("list-n-stats.txt", &lab.ok("-Ln --stats"));
    golden("list-n-stats-exact.txt", &lab.ok("-Ln --stats --exact"));
}

#[test]
fn list_rate() {
    let mut lab = busy_lab();
    golden("list-n-rate.txt", &lab.ok("-Ln --rate"));
}

#[test]
fn list_thresholds_persistent_conn_tun_info_nosort() {
    let mut lab = busy_lab();
    golden("list-n-thresholds.txt", &lab.ok("-Ln --thresholds"));
    golden(
        "list-n-persistent-conn.txt",
        &lab.ok("-Ln --persistent-conn"),
    );
    golden("list-n-tun-info.txt", &lab.ok("-Ln --tun-info"));
    golden("list-n-nosort.txt", &lab.ok("-Ln --nosort"));
}

#[test]
fn list_one_service_has_no_version_line() {
    let mut lab = busy_lab();
    let out = lab.ok("-Ln -t 192.168.10.100:443");
    golden("list-n-one-service.txt", &out);
    assert!(out.starts_with("Prot LocalAddress:Port Scheduler Flags\n"));
    let out = lab.ok("-Ln --stats -f 1");
    assert!(out.starts_with("Prot LocalAddress:Port               Conns"));
}

#[test]
fn list_connections() {
    let mut lab = busy_lab();
    golden("list-nc.txt", &lab.ok("-lnc"));
    golden(
        "list-nc-persistent-conn.txt",
        &lab.ok("-lnc --persistent-conn"),
    );
}

#[test]
fn save_numeric() {
    let mut lab = busy_lab();
    golden("save-n.txt", &lab.ok("-S -n"));
}

/// Host names from a lab `/etc/hosts`.
struct Hosts;
impl Names for Hosts {
    fn host(&self, a: std::net::Ipv4Addr) -> Option<String> {
        match a.octets() {
            [192, 168, 10, 100] => Some("vip.example".into()),
            [10, 0, 0, 11] => Some("rs1".into()),
            _ => None,
        }
    }
}

#[test]
fn names_without_n() {
    let mut lab = busy_lab();
    let o = run_with(&mut lab.ipvs, lab.now, &["-L"], None, &Hosts);
    golden("list.txt", &o.stdout);
    let o = run_with(&mut lab.ipvs, lab.now, &["-S"], None, &Hosts);
    golden("save.txt", &o.stdout);
    assert!(o.stdout.contains("-A -t vip.example:http -s wlc -p 360\n"));
    assert!(
        o.stdout
            .contains("-a -t vip.example:http -r rs1:http -m -w 1\n")
    );
}

#[test]
fn dest_lines_keep_their_trailing_spaces() {
    let mut lab = Lab::new();
    lab.ok("-A -t 192.168.59.135:80 -s rr");
    lab.ok("-a -t 192.168.59.135:80 -r 192.168.59.131:80 -g");
    lab.ok("-a -t 192.168.59.135:80 -r 192.168.59.132:80 -g");
    // The tutorial's `ipvsadm -Ln` (ipvsadm.c `print_service_entry`:
    // "  -> %-28s %-7s %-6d %-10u %-10u\n").
    assert_eq!(
        lab.ok("-Ln"),
        "IP Virtual Server version 1.2.1 (size=4096)\n\
         Prot LocalAddress:Port Scheduler Flags\n  \
         -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
         TCP  192.168.59.135:80 rr\n  \
         -> 192.168.59.131:80            Route   1      0          0         \n  \
         -> 192.168.59.132:80            Route   1      0          0         \n"
    );
}

#[test]
fn expire_column_minutes_can_pass_99() {
    let mut lab = Lab::new();
    lab.ok("--set 7200 0 0");
    lab.ok("-A -t 10.0.0.100:80 -s rr");
    lab.ok("-a -t 10.0.0.100:80 -r 10.0.0.11 -g");
    lab.tcp("10.1.1.1:1025", "10.0.0.100:80", "S");
    lab.tcp("10.1.1.1:1025", "10.0.0.100:80", ".");
    lab.wait_ms(500);
    // 7199.5 s left, shown truncated.
    assert_eq!(
        lab.ok("-lnc"),
        "IPVS connection entries\n\
         pro expire state       source             virtual            destination\n\
         TCP 119:59 ESTABLISHED 10.1.1.1:1025      10.0.0.100:80      10.0.0.11:80\n"
    );
}

#[test]
fn print_largenum_units() {
    use crate::ipvs::ipvsadm::print::{EXACT, largenum};
    let cases: [(u64, &str); 10] = [
        (0, "        0"),
        (99_999_999, " 99999999"),
        (100_000_000, "  100000K"),
        (999_999_999, "  999999K"),
        (1_000_000_000, "    1000M"),
        (99_999_999_999, "   99999M"),
        (100_000_000_000, "     100G"),
        (99_999_999_999_999, "   99999G"),
        (100_000_000_000_000, "     100T"),
        (u64::MAX, "18446744T"),
    ];
    for (n, want) in cases {
        let mut s = String::new();
        largenum(&mut s, n, 0);
        assert_eq!(s, want, "{n}");
    }
    for (n, want) in [
        (5u64, "        5"),
        (12_345_678, " 12345678"),
        (123_456_789, " 123456789"),
        (u64::MAX, " 18446744073709551615"),
    ] {
        let mut s = String::new();
        largenum(&mut s, n, EXACT);
        assert_eq!(s, want, "exact {n}");
    }
}
