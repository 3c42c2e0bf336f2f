//! The scenario loader and the shell never panic on arbitrary input
//! (proptest; cargo-fuzz targets in fuzz/ explore further).

use proptest::prelude::*;
use sim_core::scenario;
use sim_core::shell;
use sim_core::trace::TraceLevel;

/// A valid scenario to mutate.
const BASE: &str = r#"[scenario]
name = "p"
seed = 1
duration = "2s"

[[segment]]
name = "lan"

[[host]]
name = "lvs"
interfaces = [{ name = "eth0", segment = "lan", address = "10.0.0.1/24" }]
setup = """
ipvsadm -A -t 10.0.0.100:80 -s rr
"""

[[client]]
host = "lvs"
run = "curl http://10.0.0.100/"

[[expect]]
responses = ["x"]
"#;

fn words() -> impl Strategy<Value = String> {
    let w = prop::sample::select(vec![
        "ip",
        "addr",
        "add",
        "route",
        "link",
        "set",
        "dev",
        "eth0",
        "lo",
        "up",
        "down",
        "ifconfig",
        "eth0:0",
        "netmask",
        "255.255.255.255",
        "broadcast",
        "10.0.0.100",
        "10.0.0.100/32",
        "sysctl",
        "-w",
        "net.ipv4.ip_forward=1",
        "echo",
        "1",
        ">",
        "/proc/sys/net/ipv4/conf/all/arp_ignore",
        "ipvsadm",
        "-A",
        "-a",
        "-t",
        "-u",
        "-f",
        "10.0.0.100:80",
        "-r",
        "10.0.0.2:80",
        "-s",
        "wlc",
        "-g",
        "-m",
        "-i",
        "-w",
        "0",
        "-p",
        "-x",
        "-e",
        "-d",
        "-D",
        "-C",
        "-L",
        "-n",
        "--stats",
        "iptables",
        "-j",
        "MARK",
        "--set-mark",
        "DROP",
        "-p",
        "tcp",
        "--dport",
        "80",
        "route",
        "add",
        "-host",
        "gw",
        "default",
        "systemctl",
        "start",
        "stop",
        "httpd",
        "keepalived",
        "'",
        "\"",
        "|",
        "&&",
        ";",
        "<<EOF",
        "EOF",
        "\\",
        "$",
        "#",
    ]);
    prop::collection::vec(w, 0..12).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn scenario_load_never_panics(cut in 0usize..BASE.len(), junk in ".{0,40}") {
        let mut text = BASE.to_string();
        let at = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.insert_str(at, &junk);
        let _ = scenario::load("p.toml", &text, TraceLevel::Events, None);
    }

    #[test]
    fn shell_lines_never_panic(line in words()) {
        let mut sc = scenario::load("p.toml", BASE, TraceLevel::Off, None).unwrap();
        let _ = shell::check_line(&line);
        let _ = shell::run_line(&mut sc.world, 0, &line);
    }

    #[test]
    fn setup_scripts_never_panic(lines in prop::collection::vec(words(), 0..6)) {
        let script = lines.join("\n").replace("\"\"\"", "");
        let text = BASE.replace("ipvsadm -A -t 10.0.0.100:80 -s rr", &script);
        if let Ok(mut sc) = scenario::load("p.toml", &text, TraceLevel::Off, None) {
            sc.world.step_until(sim_core::time::SimTime::ZERO + sc.duration);
        }
    }
}
