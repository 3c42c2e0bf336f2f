//! Simple commands other than the network ones: files, sysctl, services,
//! host name, power, and the dispatcher.

use super::lex::Simple;
use super::{CmdOutput, NOOPS, netcmds, parse_url};
use crate::host::HostId;
use crate::world::{ClientApp, LoopSpec, World};

/// Runs one simple command; `input` is the previous pipeline stage's output.
pub fn run_simple(w: &mut World, h: HostId, s: &Simple, input: Option<&str>) -> CmdOutput {
    let Some(name) = s.argv.first() else {
        return CmdOutput::ok();
    };
    let args: Vec<&str> = s.argv[1..].iter().map(String::as_str).collect();
    match name.as_str() {
        "ip" => netcmds::ip(w, h, &args),
        "ifconfig" => netcmds::ifconfig(w, h, &args),
        "route" => netcmds::route(w, h, &args),
        "arp" => netcmds::arp(w, h, &args),
        "sysctl" => sysctl(w, h, &args),
        "echo" => echo(&args),
        "cat" => cat(w, h, &args, s.heredoc.as_deref()),
        "cp" => cp(w, h, &args),
        "hostnamectl" => hostnamectl(w, h, &args),
        "hostname" => CmdOutput::out(format!("{}\n", w.hosts[h].hostname)),
        "systemctl" => systemctl(w, h, &args),
        "service" if args.len() >= 2 => systemctl(w, h, &[args[1], args[0]]),
        "iptables" => netcmds::iptables(w, h, &args),
        "ipvsadm" => crate::world::lvs::ipvsadm(w, h, &args, input.or(s.heredoc.as_deref())),
        "modprobe" => modprobe(w, h, &args),
        "poweroff" | "shutdown" | "halt" => {
            w.keepalived_power_off(h);
            w.power_off(h);
            CmdOutput::ok()
        }
        "keepalived" => crate::world::keepalived::keepalived_cmd(w, h, &args),
        "grep" => grep(&args, input.unwrap_or("")),
        "curl" => match args
            .iter()
            .find(|a| a.starts_with("http") || parse_url(a).is_some())
        {
            Some(u) => start_curl(w, h, u, None),
            None => CmdOutput::fail(2, "curl: no URL specified!"),
        },
        other => match NOOPS.iter().find(|(n, _)| *n == other) {
            Some((_, why)) => CmdOutput::noted(*why),
            None => CmdOutput::fail(127, format!("bash: {other}: command not found")),
        },
    }
}

/// Starts a curl (once, or the tutorial's loop with `sleep`).
pub fn start_curl(
    w: &mut World,
    h: HostId,
    url: &str,
    sleep: Option<crate::time::SimDuration>,
) -> CmdOutput {
    let Some((addr, port, path)) = parse_url(url) else {
        return CmdOutput::fail(
            6,
            format!("curl: (6) Could not resolve host: {url} (the lab has no DNS: use an address)"),
        );
    };
    let spec = LoopSpec {
        sleep: sleep.unwrap_or_default(),
        count: if sleep.is_some() { None } else { Some(1) },
        until: None,
    };
    let app = ClientApp {
        host: h,
        addr,
        port,
        path,
        url: url.to_string(),
        spec,
        max_time: crate::time::SimDuration::from_secs(10),
        results: vec![],
        current: None,
        started: 0,
    };
    let now = w.now;
    w.add_client(app, now);
    CmdOutput::noted("curl runs in the background of the simulation; see the run summary")
}

fn echo(args: &[&str]) -> CmdOutput {
    let (nl, words) = match args.first() {
        Some(&"-n") => (false, &args[1..]),
        Some(&"-e") => (true, &args[1..]),
        _ => (true, args),
    };
    let mut s = words.join(" ");
    if nl {
        s.push('\n');
    }
    CmdOutput::out(s)
}

/// Writes `text` to `path` (`>` or `>>`); `/proc/sys` paths set sysctls.
pub fn write_file(w: &mut World, h: HostId, path: &str, text: &str, append: bool) -> CmdOutput {
    if path == "/dev/null" {
        return CmdOutput::ok();
    }
    if let Some(key) = path.strip_prefix("/proc/sys/") {
        let v = text.trim();
        if key.starts_with("net/ipv4/vs/") {
            return crate::world::lvs::vs_sysctl_set(w, h, key, v);
        }
        return match w.hosts[h].sysctl.set(key, v) {
            Ok(()) => CmdOutput::ok(),
            Err(_) => CmdOutput::fail(1, format!("bash: {path}: No such file or directory")),
        };
    }
    let files = &mut w.hosts[h].files;
    let entry = files.entry(path.to_string()).or_default();
    if append {
        entry.push_str(text);
    } else {
        *entry = text.to_string();
    }
    if path == "/etc/keepalived/keepalived.conf" || path.starts_with("/var/www/") {
        CmdOutput::ok()
    } else {
        CmdOutput {
            note: Some(format!(
                "{path} is kept, but only /var/www/html and keepalived.conf are read by the lab"
            )),
            ..CmdOutput::ok()
        }
    }
}

fn cat(w: &World, h: HostId, args: &[&str], heredoc: Option<&str>) -> CmdOutput {
    if let Some(body) = heredoc {
        return CmdOutput::out(body);
    }
    let mut out = String::new();
    for f in args {
        if let Some(key) = f.strip_prefix("/proc/sys/") {
            match w.hosts[h].sysctl.get(key) {
                Some(v) => {
                    out.push_str(v);
                    out.push('\n');
                }
                None => return CmdOutput::fail(1, format!("cat: {f}: No such file or directory")),
            }
            continue;
        }
        match w.hosts[h].files.get(*f) {
            Some(t) => out.push_str(t),
            None => return CmdOutput::fail(1, format!("cat: {f}: No such file or directory")),
        }
    }
    CmdOutput::out(out)
}

fn cp(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    let files: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-'))
        .collect();
    let [src, dst] = files[..] else {
        return CmdOutput::fail(1, "cp: missing destination file operand");
    };
    match w.hosts[h].files.get(src).cloned() {
        Some(t) => {
            w.hosts[h].files.insert(dst.to_string(), t);
            CmdOutput::ok()
        }
        None if src == "/etc/keepalived/keepalived.conf" => {
            CmdOutput::noted("the lab's hosts start without a keepalived.conf; nothing to back up")
        }
        None => CmdOutput::fail(
            1,
            format!("cp: cannot stat '{src}': No such file or directory"),
        ),
    }
}

fn sysctl(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    let mut out = String::new();
    let mut quiet_name = false;
    let mut any = false;
    for a in args {
        match *a {
            "-w" => {}
            "-n" => quiet_name = true,
            "-q" => {}
            "-p" | "--load" | "--system" => {
                return match w.hosts[h].files.get("/etc/sysctl.conf").cloned() {
                    Some(conf) => {
                        let mut o = String::new();
                        for l in conf
                            .lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
                        {
                            if let Some((k, v)) = l.split_once('=') {
                                let r = sysctl_set(w, h, k.trim(), v.trim());
                                if r.status != 0 {
                                    return r;
                                }
                                o.push_str(&r.stdout);
                            }
                        }
                        CmdOutput::out(o)
                    }
                    None => CmdOutput::noted(
                        "sysctl -p re-reads /etc/sysctl.conf, which is empty here: values written with echo > /proc/sys stay as they are (and are lost at reboot)",
                    ),
                };
            }
            kv => {
                any = true;
                if let Some((k, v)) = kv.split_once('=') {
                    let r = sysctl_set(w, h, k, v);
                    if r.status != 0 {
                        return r;
                    }
                    out.push_str(&r.stdout);
                } else {
                    let k = crate::host::Sysctls::normalise(kv);
                    let v = if k.starts_with("net.ipv4.vs.") {
                        crate::world::lvs::vs_sysctl_get(w, h, &k)
                    } else {
                        w.hosts[h].sysctl.get(&k).map(str::to_string)
                    };
                    match v {
                        Some(v) if quiet_name => out.push_str(&format!("{v}\n")),
                        Some(v) => out.push_str(&format!("{k} = {v}\n")),
                        None => {
                            return CmdOutput::fail(
                                255,
                                format!(
                                    "sysctl: cannot stat /proc/sys/{}: No such file or directory",
                                    k.replace('.', "/")
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
    if !any {
        return CmdOutput::fail(1, "sysctl: no variables specified");
    }
    CmdOutput::out(out)
}

fn sysctl_set(w: &mut World, h: HostId, k: &str, v: &str) -> CmdOutput {
    let k = crate::host::Sysctls::normalise(k);
    if k.starts_with("net.ipv4.vs.") {
        let r = crate::world::lvs::vs_sysctl_set(w, h, &k.replace('.', "/"), v);
        if r.status != 0 {
            return r;
        }
    } else if let Err(e) = w.hosts[h].sysctl.set(&k, v) {
        return CmdOutput::fail(255, e);
    }
    CmdOutput::out(format!("{k} = {v}\n"))
}

fn hostnamectl(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    match args {
        ["set-hostname", name, ..] => {
            w.hosts[h].hostname = (*name).to_string();
            CmdOutput::ok()
        }
        [] | ["status"] => CmdOutput::out(format!("   Static hostname: {}\n", w.hosts[h].hostname)),
        _ => CmdOutput::fail(1, format!("Unknown command verb {}.", args[0])),
    }
}

fn modprobe(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    for m in args.iter().filter(|a| !a.starts_with('-')) {
        match *m {
            "ipip" => {
                w.hosts[h].ensure_tunl0();
            }
            m if m.starts_with("ip_vs") || m == "nf_conntrack" || m == "tun" => {}
            other => {
                return CmdOutput::fail(
                    1,
                    format!(
                        "modprobe: FATAL: Module {other} not found in directory /lib/modules/lvslab"
                    ),
                );
            }
        }
    }
    CmdOutput::ok()
}

fn systemctl(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    let verbs = [
        "start",
        "stop",
        "restart",
        "reload",
        "status",
        "enable",
        "disable",
        "is-active",
        "is-enabled",
    ];
    let Some(verb) = args.iter().find(|a| !a.starts_with('-')) else {
        return CmdOutput::fail(1, "systemctl: the lab does not list units");
    };
    if !verbs.contains(verb) {
        return CmdOutput::fail(1, format!("Unknown operation '{verb}'."));
    }
    let units: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| !a.starts_with('-') && a != verb)
        .collect();
    let mut out = CmdOutput::ok();
    for u in units {
        let unit = u.trim_end_matches(".service");
        let r = match unit {
            "httpd" | "nginx" | "apache2" => {
                match *verb {
                    "start" | "restart" | "reload" => w.hosts[h].services.httpd = true,
                    "stop" => w.hosts[h].services.httpd = false,
                    "status" | "is-active" => {
                        let active = w.hosts[h].services.httpd;
                        return CmdOutput {
                            stdout: if *verb == "is-active" {
                                format!("{}\n", if active { "active" } else { "inactive" })
                            } else {
                                format!(
                                    "● {unit}.service\n   Active: {}\n",
                                    if active {
                                        "active (running)"
                                    } else {
                                        "inactive (dead)"
                                    }
                                )
                            },
                            status: if active { 0 } else { 3 },
                            ..CmdOutput::ok()
                        };
                    }
                    _ => {}
                }
                CmdOutput::ok()
            }
            "keepalived" => crate::world::keepalived::keepalived_systemctl(w, h, verb),
            "firewalld" | "NetworkManager" | "network" | "iptables" | "ipvsadm" => match *verb {
                "stop" | "disable" | "enable" | "start" | "restart" => CmdOutput::noted(format!(
                    "{unit} is not modelled (no firewalld rules exist in the lab)"
                )),
                _ => CmdOutput {
                    stdout: format!("● {unit}.service\n   Active: inactive (dead)\n"),
                    status: 3,
                    ..CmdOutput::ok()
                },
            },
            other => CmdOutput::fail(
                5,
                format!("Failed to {verb} {other}.service: Unit {other}.service not found."),
            ),
        };
        if r.status != 0 {
            return r;
        }
        if r.note.is_some() {
            out.note = r.note;
        }
        out.stdout.push_str(&r.stdout);
    }
    out
}

fn grep(args: &[&str], input: &str) -> CmdOutput {
    let invert = args.contains(&"-v");
    let Some(pat) = args.iter().find(|a| !a.starts_with('-')) else {
        return CmdOutput::fail(2, "Usage: grep [OPTION]... PATTERNS [FILE]...");
    };
    let out: String = input
        .lines()
        .filter(|l| l.contains(pat) != invert)
        .map(|l| format!("{l}\n"))
        .collect();
    let status = i32::from(out.is_empty());
    CmdOutput {
        stdout: out,
        status,
        ..CmdOutput::ok()
    }
}
