//! ipvsadm 1.31's command line: what each command does to the table, and
//! the exact message and exit status of every failure (`fail()` → 2,
//! kernel errors through `ipvs_strerror` → 255, popt errors → 255,
//! `list_service` on an unknown service → 1).

use super::Lab;
use crate::ipvs::{FwdMethod, ServiceKey};

/// Runs `line` and returns `(status, stderr)`.
fn err(lab: &mut Lab, line: &str) -> (i32, String) {
    let o = lab.adm(line);
    assert!(
        o.stdout.is_empty(),
        "{line}: unexpected stdout {:?}",
        o.stdout
    );
    (o.status, o.stderr)
}

fn lab_with_service() -> Lab {
    let mut lab = Lab::new();
    lab.ok("-A -t 10.0.0.100:80 -s rr");
    lab.ok("-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g");
    lab
}

fn save(lab: &mut Lab) -> String {
    lab.ok("-S -n")
}

#[test]
fn kernel_errors_print_ipvs_strerror_and_exit_255() {
    let mut lab = lab_with_service();
    let cases = [
        ("-A -t 10.0.0.100:80 -s rr", "Service already exists\n"),
        (
            "-A -t 10.0.0.101:80 -s bogus",
            "Scheduler or persistence engine not found\n",
        ),
        (
            "-E -t 10.0.0.100:80 -s nosuch",
            "Scheduler or persistence engine not found\n",
        ),
        ("-E -t 10.9.9.9:80 -s rr", "No such service\n"),
        ("-D -t 10.9.9.9:80", "No such service\n"),
        ("-Z -t 10.9.9.9:80", "No such service\n"),
        ("-a -t 10.9.9.9:80 -r 10.0.0.11", "Service not defined\n"),
        ("-e -t 10.9.9.9:80 -r 10.0.0.11", "Service not defined\n"),
        ("-d -t 10.9.9.9:80 -r 10.0.0.11", "Service not defined\n"),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.11",
            "Destination already exists\n",
        ),
        ("-e -t 10.0.0.100:80 -r 10.0.0.99", "No such destination\n"),
        ("-d -t 10.0.0.100:80 -r 10.0.0.99", "No such destination\n"),
        // DR forces the port on -a/-e only: -d with another port misses.
        (
            "-d -t 10.0.0.100:80 -r 10.0.0.11:8080",
            "No such destination\n",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -x 1 -y 2",
            "Numerical result out of range\n",
        ),
        ("--stop-daemon master", "No daemon is running\n"),
        (
            "-a -t 10.0.0.100:80 -r 224.0.0.18",
            "Invalid operation.  Possibly wrong module version, address not unicast, ...\n",
        ),
        (
            "-a -t 10.0.0.100:80 -r 0.0.0.0 -m",
            "Invalid operation.  Possibly wrong module version, address not unicast, ...\n",
        ),
    ];
    for (line, msg) in cases {
        assert_eq!(err(&mut lab, line), (255, msg.to_string()), "{line}");
    }
    // Nothing changed.
    assert_eq!(
        save(&mut lab),
        "-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1\n"
    );
}

#[test]
fn fail_messages_exit_2() {
    let mut lab = lab_with_service();
    let cases = [
        (
            "-A -t 10.0.0.1",
            "Zero port specified for non-persistent service",
        ),
        (
            "-E -t 10.0.0.100",
            "Zero port specified for non-persistent service",
        ),
        (
            "-A -t 10.0.0.1:80 -o",
            "One-Packet Scheduling is only for UDP virtual services",
        ),
        (
            "-A -t 1234",
            "illegal virtual server address[:port] specified",
        ),
        (
            "-A -t 10.0.0.1:nosuchport",
            "illegal virtual server address[:port] specified",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.1:99999",
            "illegal real server address[:port] specified",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -w 65536",
            "illegal weight specified",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -w -1",
            "illegal weight specified",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -w 1x",
            "illegal weight specified",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -x a",
            "illegal u_threshold specified",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -y -3",
            "illegal l_threshold specified",
        ),
        (
            "-A -t 10.0.0.1:80 -p 0",
            "invalid timeout value `0' specified",
        ),
        (
            "-A -t 10.0.0.1:80 -p 2678401",
            "invalid timeout value `2678401' specified",
        ),
        (
            "-A -t 10.0.0.1:80 -p 60 -M 300.0.0.0",
            "illegal virtual server persistent mask specified",
        ),
        ("-A -f 0", "invalid fwmark value `0' specified"),
        ("-A -f x1", "invalid fwmark value `x1' specified"),
        (
            "-A -t 10.0.0.1:80 -s rr -b sh-port",
            "incompatible scheduler flag `sh-port'",
        ),
        (
            "-A -t 10.0.0.1:80 -b mh-fallback",
            "incompatible scheduler flag `mh-fallback'",
        ),
        (
            "-A -t 10.0.0.1:80 -s sh -b sh-port,bogus",
            "invalid scheduler flag `bogus'",
        ),
        (
            "-A -t 10.0.0.1:80 -t 10.0.0.2:80",
            "multiple 'service-address' options specified",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -g -m",
            "multiple 'forwarding-method' options specified",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -s rr",
            "Illegal 'scheduler' option with the 'add-server' command",
        ),
        (
            "-a -t 10.0.0.100:80",
            "You need to supply the 'real-server' option for the 'add-server' command",
        ),
        (
            "-A -s rr",
            "You need to supply the 'service-address' option for the 'add-service' command",
        ),
        ("-C -n", "Illegal 'numeric' option with the 'flush' command"),
        (
            "-D -t 10.0.0.100:80 -s rr",
            "Illegal 'scheduler' option with the 'delete-service' command",
        ),
        (
            "-L -c -t 10.0.0.100:80",
            "The option 'service-address' conflicts with the 'connection' option in the 'list' command",
        ),
        (
            "-L --timeout --daemon",
            "The option 'daemon' conflicts with the 'timeout' option in the 'list' command",
        ),
        ("-L -c --stats", "options conflicts in the list command"),
        (
            "-L --timeout --persistent-conn",
            "options conflicts in the list command",
        ),
        ("-L extra", "unexpected argument extra"),
        ("--set 1 2", "--set option requires 3 timeout values"),
        ("--set 1 2 x", "invalid timeout value `x' specified"),
        ("--set 1 2 3 4", "unexpected argument 4"),
        ("-L -A", "invalid option `-A'"),
        (
            "--start-daemon sideways",
            "illegal start-daemon parameter specified",
        ),
        ("--stop-daemon x", "illegal start_daemon specified"),
        (
            "--start-daemon master --syncid 256",
            "illegal syncid specified",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -m --tun-type gre",
            "Tunnel options conflict with forward method",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -i --tun-type gue",
            "You need to supply the 'tun-port' option for the 'gue' tunnel type",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -i --tun-type ipip --tun-csum",
            "Illegal 'tun-csum' option with the 'ipip' tunnel type",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -i --tun-type gre --tun-csum --tun-nocsum",
            "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel type",
        ),
        (
            "-a -t 10.0.0.100:80 -r 10.0.0.12 -i --tun-type vxlan",
            "illegal tunnel type specified",
        ),
    ];
    for (line, msg) in cases {
        assert_eq!(err(&mut lab, line), (2, format!("{msg}\n")), "{line}");
    }
}

#[test]
fn popt_errors_and_tryhelp_exit_255() {
    let mut lab = Lab::new();
    let tryhelp = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n";
    for line in ["-q", "foo", "-n", "-t 10.0.0.1:80", "--bogus"] {
        assert_eq!(err(&mut lab, line), (255, tryhelp.to_string()), "{line}");
    }
    assert_eq!(
        err(&mut lab, "-L --bogus"),
        (255, "--bogus: unknown option\n".to_string())
    );
    assert_eq!(
        err(&mut lab, "-A -t 10.0.0.1:80 -s"),
        (255, "-s: missing argument\n".to_string())
    );
    assert_eq!(
        err(&mut lab, "-L --stats=1"),
        (
            255,
            "--stats=1: option does not take an argument\n".to_string()
        )
    );
    // A failed command changes nothing.
    assert_eq!(lab.ipvs.services().count(), 0);
}

#[test]
fn list_of_unknown_service_exits_1() {
    let mut lab = lab_with_service();
    assert_eq!(
        err(&mut lab, "-L -n -t 10.0.0.1:80"),
        (1, "No such service\n".to_string())
    );
}

#[test]
fn defaults_wlc_route_weight_1_and_forced_ports() {
    let mut lab = Lab::new();
    lab.ok("-A -t 10.0.0.100:80");
    lab.ok("-a -t 10.0.0.100:80 -r 10.0.0.11:8080"); // -g default: port forced
    lab.ok("-a -t 10.0.0.100:80 -r 10.0.0.12:8080 -i"); // forced too
    lab.ok("-a -t 10.0.0.100:80 -r 10.0.0.13:8080 -m"); // NAT keeps it
    lab.ok("-a -t 10.0.0.100:80 -r 10.0.0.14 -m"); // no port: the vport
    lab.ok("-A -f 7 -s rr");
    lab.ok("-a -f 7 -r 10.0.0.21:8080 -g"); // fwmark: no forcing
    lab.ok("-a -f 7 -r 10.0.0.22"); // fwmark service port 0
    assert_eq!(
        save(&mut lab),
        "-A -t 10.0.0.100:80 -s wlc\n\
         -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1\n\
         -a -t 10.0.0.100:80 -r 10.0.0.12:80 -i -w 1 --tun-type ipip\n\
         -a -t 10.0.0.100:80 -r 10.0.0.13:8080 -m -w 1\n\
         -a -t 10.0.0.100:80 -r 10.0.0.14:80 -m -w 1\n\
         -A -f 7 -s rr\n\
         -a -f 7 -r 10.0.0.21:8080 -g -w 1\n\
         -a -f 7 -r 10.0.0.22:0 -g -w 1\n"
    );
    assert_eq!(lab.dest("10.0.0.13:8080").fwd, FwdMethod::Masq);
}

#[test]
fn persistence_netmask_flags_ops_and_names() {
    let mut lab = Lab::new();
    lab.ok("-A -t 10.0.0.100:80 -p");
    lab.ok("-A -t 10.0.0.100:443 -s rr -p 60 -M 255.255.255.0");
    lab.ok("-A -t 10.0.0.100:0 -s lc --persistent");
    lab.ok("-A -t 10.0.0.100:22 -p -s sh -b sh-fallback,sh-port");
    lab.ok("-A -t 10.0.0.100:21 -s mh -b mh-port");
    lab.ok("-A -u 10.0.0.100:domain -s rr -o");
    lab.ok("-A --sctp-service 10.0.0.100:5060 -s rr");
    lab.ok("-A -f 3 -s wrr -o");
    lab.ok("-A -t 10.0.0.100:8080 -s fo -b flag-3");
    // popt's optional argument never takes a word starting with '-'.
    lab.ok("-A -t 10.0.0.100:8081 -p -s rr");
    assert_eq!(
        save(&mut lab),
        "-A -t 10.0.0.100:0 -s lc -p 360\n\
         -A -t 10.0.0.100:21 -s mh -b mh-port\n\
         -A -t 10.0.0.100:22 -s sh -p 360 -b sh-fallback,sh-port\n\
         -A -t 10.0.0.100:80 -s wlc -p 360\n\
         -A -t 10.0.0.100:443 -s rr -p 60 -M 255.255.255.0\n\
         -A -t 10.0.0.100:8080 -s fo -b flag-3\n\
         -A -t 10.0.0.100:8081 -s rr -p 360\n\
         -A -u 10.0.0.100:53 -s rr -o\n\
         -A --sctp-service 10.0.0.100:5060 -s rr\n\
         -A -f 3 -s wrr -o\n"
    );
}

#[test]
fn edit_service_replaces_every_field() {
    let mut lab = Lab::new();
    lab.ok("-A -t 10.0.0.100:80 -s rr -p 60 -M 255.255.0.0");
    // ipvsadm sends the whole structure: no -s means wlc, no -p removes
    // persistence (and the mask goes back to /32).
    lab.ok("-E -t 10.0.0.100:80");
    assert_eq!(save(&mut lab), "-A -t 10.0.0.100:80 -s wlc\n");
    lab.ok("-E -t 10.0.0.100:80 -s sh -b sh-port -p 10");
    assert_eq!(
        save(&mut lab),
        "-A -t 10.0.0.100:80 -s sh -p 10 -b sh-port\n"
    );
}

#[test]
fn edit_and_delete_dest_keep_list_order() {
    let mut lab = Lab::new();
    lab.ok("-A -t 10.0.0.100:80 -s rr");
    for rs in ["10.0.0.11", "10.0.0.12", "10.0.0.13"] {
        lab.ok(&format!("-a -t 10.0.0.100:80 -r {rs} -m -w 2"));
    }
    lab.ok("-e -t 10.0.0.100:80 -r 10.0.0.12 -g -w 5 -x 10 -y 3");
    // --nosort shows kernel list order: newest first, -e keeps the position.
    let out = lab.ok("-L -n --nosort");
    let rows: Vec<&str> = out.lines().skip(4).collect();
    assert_eq!(
        rows,
        [
            "  -> 10.0.0.13:80                 Masq    2      0          0         ",
            "  -> 10.0.0.12:80                 Route   5      0          0         ",
            "  -> 10.0.0.11:80                 Masq    2      0          0         ",
        ]
    );
    let d = lab.dest("10.0.0.12:80");
    assert_eq!((d.u_threshold, d.l_threshold), (10, 3));
    // Delete and re-add moves it to the head.
    lab.ok("-d -t 10.0.0.100:80 -r 10.0.0.11");
    lab.ok("-a -t 10.0.0.100:80 -r 10.0.0.11 -m");
    let out = lab.ok("-L -n --nosort");
    assert!(
        out.lines()
            .nth(4)
            .is_some_and(|l| l.contains("10.0.0.11:80"))
    );
}

#[test]
fn delete_flush_and_zero() {
    let mut lab = lab_with_service();
    lab.ok("-A -u 10.0.0.100:53 -s rr");
    lab.ok("-D -t 10.0.0.100:80");
    assert_eq!(save(&mut lab), "-A -u 10.0.0.100:53 -s rr\n");
    lab.ok("-Z");
    lab.ok("-Z -u 10.0.0.100:53");
    lab.ok("-C");
    assert_eq!(save(&mut lab), "");
    assert_eq!(
        lab.ok("-Ln"),
        "IP Virtual Server version 1.2.1 (size=4096)\n\
         Prot LocalAddress:Port Scheduler Flags\n  \
         -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    );
}

#[test]
fn set_timeouts_and_list_them() {
    let mut lab = Lab::new();
    assert_eq!(
        lab.ok("-L --timeout"),
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
    lab.ok("--set 7200 30 0");
    assert_eq!(
        lab.ok("-L --timeout"),
        "Timeout (tcp tcpfin udp): 7200 30 300\n"
    );
    lab.ok("--set 0 0 60");
    assert_eq!(
        lab.ok("-L --timeout"),
        "Timeout (tcp tcpfin udp): 7200 30 60\n"
    );
}

#[test]
fn daemons() {
    let mut lab = Lab::new();
    lab.ok("--start-daemon backup --mcast-interface eth1 --syncid 9");
    lab.ok("--start-daemon master");
    assert_eq!(
        lab.adm("--start-daemon master").stderr,
        "Daemon has already run\n"
    );
    assert_eq!(
        lab.ok("-L --daemon"),
        "master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n\
         backup sync daemon (mcast=eth1, syncid=9, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"
    );
    lab.ok("--stop-daemon backup");
    lab.ok(
        "--start-daemon backup --sync-maxlen 100 --mcast-group 239.1.1.1 --mcast-port 9000 --mcast-ttl 3",
    );
    assert_eq!(
        lab.ok("-L --daemon"),
        "master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n\
         backup sync daemon (mcast=eth0, syncid=0, maxlen=1024, group=239.1.1.1, port=9000, ttl=3)\n"
    );
    assert_eq!(
        lab.adm("--start-daemon master --mcast-group 10.0.0.1")
            .stderr,
        "invalid IPv4 mcast-group `10.0.0.1'\n"
    );
}

#[test]
fn help_and_version_go_to_stdout() {
    let mut lab = Lab::new();
    let v = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";
    assert_eq!(lab.ok("-v"), v);
    let h = lab.ok("-h");
    assert!(h.starts_with(v));
    assert!(h.contains("\nUsage:\n  ipvsadm -A|E virtual-service [-s scheduler]"));
    assert!(h.contains("  ipvsadm -h\n\nCommands:\n"));
}

#[test]
fn short_option_clusters_and_long_forms() {
    let mut lab = Lab::new();
    lab.ok("--add-service --tcp-service=10.0.0.100:80 --scheduler rr");
    lab.ok("-at10.0.0.100:80 -r10.0.0.11 -w3");
    lab.ok("--add-server -t 10.0.0.100:80 --real-server 10.0.0.12:80 --masquerading --weight=2");
    assert_eq!(
        lab.ok("-Sn"),
        "-A -t 10.0.0.100:80 -s rr\n\
         -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 3\n\
         -a -t 10.0.0.100:80 -r 10.0.0.12:80 -m -w 2\n"
    );
    // `ipvsadm` alone lists (numeric only where no name is known).
    assert_eq!(lab.ok(""), lab.ok("-L"));
}

#[test]
fn restore_reads_stdin_like_config_stream() {
    let mut lab = Lab::new();
    let o = lab.restore(
        "ipvsadm -A -t 10.0.0.100:80 -s rr\n\
         \n\
         -a -t 10.0.0.100:80 -r 10.0.0.11:80 -m -w 1\r\n\
         ipvsadm\n\
         -a\t-t 10.0.0.100:80   -r 10.0.0.12 ipvsadm -w 2\n",
    );
    assert_eq!((o.status, o.stderr.as_str()), (0, ""));
    assert_eq!(
        lab.ok("-S -n"),
        "-A -t 10.0.0.100:80 -s rr\n\
         -a -t 10.0.0.100:80 -r 10.0.0.11:80 -m -w 1\n\
         -a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 2\n"
    );
    // A kernel error does not stop the restore; the status is the last line's.
    let o = lab.restore("-A -t 10.0.0.100:80\n-A -t 10.0.0.101:80\n");
    assert_eq!(
        (o.status, o.stderr.as_str()),
        (0, "Service already exists\n")
    );
    let o = lab.restore("-A -t 10.0.0.102:80\n-A -t 10.0.0.101:80\n");
    assert_eq!(o.status, 255);
    // fail() ends the whole program at once.
    let o = lab.restore("-A -t 10.0.0.1\n-A -t 10.0.0.103:80\n");
    assert_eq!(
        (o.status, o.stderr.as_str()),
        (2, "Zero port specified for non-persistent service\n")
    );
    assert!(
        lab.ipvs
            .find_service(&ServiceKey::Addr {
                proto: crate::ipvs::Protocol::Tcp,
                addr: "10.0.0.103".parse().expect("ip"),
                port: 80,
            })
            .is_none()
    );
    // `#` is no comment in ipvsadm 1.31: the line has no option.
    let o = lab.restore("# saved rules\n-A -t 10.0.0.104:80\n");
    assert_eq!(
        (o.status, o.stderr.as_str()),
        (
            255,
            "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n"
        )
    );
    // -R inside -R is refused the same way.
    let o = lab.restore("-R\n");
    assert_eq!(o.status, 255);
}
