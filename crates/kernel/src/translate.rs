//! The allow-list: which setup commands run for real, and how.
//!
//! Only these run, inside the host's own network namespace and with their
//! words passed as separate, quoted arguments (never through a shell):
//! `ip` (no `netns`, `-n`, `-batch`), `ifconfig`, `route`, `arp`,
//! `iptables` on the filter table (per network namespace), `sysctl` on `net.*` keys, `echo V > /proc/sys/net/…`, `ipvsadm`, and
//! `modprobe` of IPVS / ipip modules. `echo`/`cat <<EOF` into other files
//! write into a private per-host folder (that is how `index.html` reaches
//! the real server's httpd); `systemctl start httpd` (or nginx) starts a
//! real HTTP server (busybox httpd) serving `/var/www/html`;
//! `systemctl start|stop|restart|reload keepalived` (and `keepalived
//! [-f FILE]`) run the real keepalived on the configuration the setup
//! wrote into that folder. Everything
//! else (`yum`, `hostnamectl`, `iptables -F`, `systemctl stop firewalld`,
//! …) is skipped with a note saying why. Nothing else in a scenario file
//! is ever executed.

use std::collections::BTreeMap;

use sim_core::shell::lex::{self, Simple};

use crate::model::SetupLine;

/// A program the backend may run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prog {
    /// iproute2 `ip`.
    Ip,
    /// `ipvsadm`.
    Ipvsadm,
    /// A busybox applet (`ifconfig`, `route`, `arp`, `sysctl`).
    Busybox(&'static str),
    /// `iptables` (legacy, filter table only).
    Iptables,
}

/// One thing to do for a setup command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Run a program in the host's namespace.
    Run {
        /// The program.
        prog: Prog,
        /// Its arguments.
        args: Vec<String>,
        /// Standard input (a here-document).
        stdin: Option<String>,
        /// Write standard output to this file of the host (`> file`).
        stdout_to: Option<String>,
    },
    /// Write `value` to `/proc/sys/net/…` in the host's namespace.
    Proc {
        /// Path under /proc/sys/net.
        path: String,
        /// Value.
        value: String,
    },
    /// Write a file into the host's private folder.
    Write {
        /// Path as the host sees it.
        path: String,
        /// Contents.
        text: String,
        /// `>>`.
        append: bool,
    },
    /// Load a module if it is not loaded.
    Modprobe(String),
    /// Start the HTTP server.
    HttpdStart,
    /// Stop the HTTP server.
    HttpdStop,
    /// Start the real keepalived (`keepalived -n`) on this configuration
    /// file (as the host sees it), unless it is already running.
    KeepalivedStart(String),
    /// Stop keepalived (SIGTERM, waiting for it to exit, as systemctl does).
    KeepalivedStop,
    /// Reload keepalived's configuration (SIGHUP).
    KeepalivedReload,
    /// `poweroff`: every process of the host dies at once (SIGKILL, so
    /// keepalived sends no goodbye advert) and every interface goes down.
    Poweroff,
    /// Not run, and why.
    Skip(String),
}

/// A setup line and what the backend does for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translated {
    /// Line in the scenario file.
    pub line: usize,
    /// The command as written.
    pub text: String,
    /// Steps, in order.
    pub steps: Vec<Step>,
}

/// Translates a host's setup lines. `files` are the host's `[host.files]`
/// (for `sysctl -p`); writes made by earlier lines are added to them.
#[must_use]
pub fn translate(setup: &[SetupLine], files: &BTreeMap<String, String>) -> Vec<Translated> {
    let mut files = files.clone();
    setup
        .iter()
        .map(|l| {
            let steps = match lex::parse_line(&l.text, l.heredoc.as_deref()) {
                Err(e) => vec![Step::Skip(format!("cannot parse: {e}"))],
                Ok(cl) => {
                    let mut steps = Vec::new();
                    for (_, pipe) in &cl.parts {
                        match pipe.as_slice() {
                            [] => {}
                            [one] => steps.extend(simple(one, &mut files)),
                            _ => steps.push(Step::Skip(
                                "pipelines are not run (they only read state)".into(),
                            )),
                        }
                    }
                    steps
                }
            };
            Translated {
                line: l.line,
                text: l.text.clone(),
                steps,
            }
        })
        .collect()
}

fn skip(why: &str) -> Vec<Step> {
    vec![Step::Skip(why.to_string())]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn simple(s: &Simple, files: &mut BTreeMap<String, String>) -> Vec<Step> {
    let Some(cmd) = s.argv.first() else {
        return vec![];
    };
    let args: Vec<String> = s.argv[1..].to_vec();
    match cmd.as_str() {
        "echo" => echo(&args, s, files),
        "cat" if s.heredoc.is_some() => match &s.redirect {
            Some((path, append)) => {
                write(path, s.heredoc.clone().unwrap_or_default(), *append, files)
            }
            None => skip("`cat` without a file only prints"),
        },
        "ip" => ip(args),
        "ifconfig" | "route" | "arp" => {
            let applet = match cmd.as_str() {
                "ifconfig" => "ifconfig",
                "route" => "route",
                _ => "arp",
            };
            vec![run(Prog::Busybox(applet), args, s)]
        }
        "sysctl" => sysctl(&args, files),
        "ipvsadm" => vec![run(Prog::Ipvsadm, args, s)],
        "modprobe" => modprobe(&args),
        "systemctl" => match strs(&args).as_slice() {
            [action, unit, ..] => service(action, unit),
            _ => skip("systemctl without a unit does nothing here"),
        },
        "service" => match strs(&args).as_slice() {
            [unit, action, ..] => service(action, unit),
            _ => skip("service without an action does nothing here"),
        },
        "iptables" => {
            if args
                .iter()
                .all(|a| matches!(a.as_str(), "-F" | "-X" | "-Z"))
            {
                skip("a new network namespace starts with empty iptables tables")
            } else if args
                .windows(2)
                .any(|w| matches!(w[0].as_str(), "-t" | "--table") && w[1] != "filter")
                || args
                    .iter()
                    .any(|a| a.starts_with("--table=") || a.starts_with("-t") && a.len() > 2)
            {
                skip("only iptables' filter table is applied by the kernel backend")
            } else {
                vec![run(Prog::Iptables, args, s)]
            }
        }
        "yum" | "dnf" | "apt" | "apt-get" => {
            skip("nothing to install: the backend brings ip, ipvsadm and busybox")
        }
        "hostnamectl" | "hostname" => skip("host names do not matter to IPVS"),
        "curl" => skip("clients run from the [[client]] entries"),
        "keepalived" => keepalived(&args),
        "poweroff" | "halt" | "shutdown" => vec![Step::Poweroff],
        other => vec![Step::Skip(format!(
            "`{other}` is not on the kernel backend's allow-list: not run"
        ))],
    }
}

fn run(prog: Prog, args: Vec<String>, s: &Simple) -> Step {
    Step::Run {
        prog,
        args,
        stdin: s.heredoc.clone(),
        stdout_to: s.redirect.as_ref().map(|(p, _)| p.clone()),
    }
}

fn echo(args: &[String], s: &Simple, files: &mut BTreeMap<String, String>) -> Vec<Step> {
    let (newline, words) = match args.first().map(String::as_str) {
        Some("-n") => (false, &args[1..]),
        Some("-e" | "-E") => (true, &args[1..]),
        _ => (true, args),
    };
    let mut text = words.join(" ");
    let Some((path, append)) = &s.redirect else {
        return skip("`echo` without a file only prints");
    };
    if let Some(rest) = path.strip_prefix("/proc/sys/") {
        if !rest.starts_with("net/") {
            return skip(
                "only /proc/sys/net is per network namespace: anything else would change the whole machine",
            );
        }
        if !safe_path(path) {
            return skip("unusual /proc/sys path: not written");
        }
        return vec![Step::Proc {
            path: path.clone(),
            value: text,
        }];
    }
    if newline {
        text.push('\n');
    }
    write(path, text, *append, files)
}

fn write(
    path: &str,
    text: String,
    append: bool,
    files: &mut BTreeMap<String, String>,
) -> Vec<Step> {
    if !path.starts_with('/') || !safe_path(path) {
        return skip(
            "only absolute paths without `..` are written (into the host's private folder)",
        );
    }
    let e = files.entry(path.to_string()).or_default();
    if append {
        e.push_str(&text);
    } else {
        e.clone_from(&text);
    }
    vec![Step::Write {
        path: path.to_string(),
        text,
        append,
    }]
}

/// No `..`, only plain characters.
fn safe_path(p: &str) -> bool {
    !p.split('/').any(|c| c == "..")
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:".contains(c))
}

fn ip(args: Vec<String>) -> Vec<Step> {
    let bad = args.iter().any(|a| {
        matches!(
            a.as_str(),
            "netns" | "-n" | "-netns" | "--netns" | "-b" | "-batch" | "--batch" | "-force"
        )
    });
    if bad {
        return skip(
            "`ip` with netns or batch files is refused: it could leave the host's namespace",
        );
    }
    vec![Step::Run {
        prog: Prog::Ip,
        args,
        stdin: None,
        stdout_to: None,
    }]
}

fn sysctl(args: &[String], files: &BTreeMap<String, String>) -> Vec<Step> {
    let mut out = Vec::new();
    let mut sets = Vec::new();
    let mut load: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-p" | "--load" => {
                let f = args
                    .get(i + 1)
                    .filter(|f| !f.starts_with('-'))
                    .cloned()
                    .unwrap_or_else(|| "/etc/sysctl.conf".into());
                if args.get(i + 1).is_some_and(|f| !f.starts_with('-')) {
                    i += 1;
                }
                load = Some(f);
            }
            "-w" | "-q" | "-e" | "-n" | "-N" => {}
            kv => sets.push(kv.to_string()),
        }
        i += 1;
    }
    if let Some(f) = load {
        match files.get(&f) {
            None => out.push(Step::Skip(format!(
                "`sysctl -p`: the scenario does not write {f}: nothing to load"
            ))),
            Some(body) => {
                for l in body.lines() {
                    let l = l.trim();
                    if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
                        continue;
                    }
                    sets.push(l.split_whitespace().collect::<String>());
                }
            }
        }
    }
    for kv in sets {
        let key = kv.split('=').next().unwrap_or_default().replace('/', ".");
        if !key.starts_with("net.") || !safe_path(&key) {
            out.push(Step::Skip(format!(
                "sysctl `{key}` is outside net.*: it is not per network namespace"
            )));
            continue;
        }
        let mut args = Vec::new();
        if kv.contains('=') {
            args.push("-w".to_string());
        }
        args.push(kv);
        out.push(Step::Run {
            prog: Prog::Busybox("sysctl"),
            args,
            stdin: None,
            stdout_to: None,
        });
    }
    out
}

fn modprobe(args: &[String]) -> Vec<Step> {
    let mods: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if mods.is_empty() {
        return skip("modprobe without a module does nothing");
    }
    mods.into_iter()
        .map(|m| {
            let m = m.replace('-', "_");
            if m.starts_with("ip_vs") || matches!(m.as_str(), "ipip" | "nf_conntrack") {
                Step::Modprobe(m)
            } else {
                Step::Skip(format!("module `{m}` is not on the allow-list"))
            }
        })
        .collect()
}

/// Where keepalived reads its configuration by default.
pub const KEEPALIVED_CONF: &str = "/etc/keepalived/keepalived.conf";

/// `keepalived [-f FILE] …` typed by hand: starts the daemon (in the
/// foreground, as the backend always runs it); `-t` and `-v` only print.
fn keepalived(args: &[String]) -> Vec<Step> {
    let mut file = KEEPALIVED_CONF.to_string();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-v" | "--version" | "-h" | "--help" => return skip("`keepalived -v` only prints"),
            "-t" | "--config-test" => {
                return skip("`keepalived -t` only checks the configuration and prints");
            }
            "-f" | "--use-file" => {
                if let Some(f) = it.next() {
                    file.clone_from(f);
                }
            }
            s if s.starts_with("--use-file=") => file = s["--use-file=".len()..].to_string(),
            _ => {}
        }
    }
    if !file.starts_with('/') || !safe_path(&file) {
        return skip("keepalived's configuration must be an absolute path without `..`");
    }
    vec![Step::KeepalivedStart(file)]
}

fn service(action: &str, unit: &str) -> Vec<Step> {
    let unit = unit.trim_end_matches(".service");
    match (unit, action) {
        ("httpd" | "apache2" | "nginx", "start" | "restart" | "reload") => vec![Step::HttpdStart],
        ("httpd" | "apache2" | "nginx", "stop") => vec![Step::HttpdStop],
        ("keepalived", "start") => vec![Step::KeepalivedStart(KEEPALIVED_CONF.into())],
        ("keepalived", "stop") => vec![Step::KeepalivedStop],
        ("keepalived", "restart") => vec![
            Step::KeepalivedStop,
            Step::KeepalivedStart(KEEPALIVED_CONF.into()),
        ],
        ("keepalived", "reload") => vec![Step::KeepalivedReload],
        ("firewalld" | "iptables", _) => skip("a new network namespace has no firewall rules"),
        (_, "enable" | "disable" | "status" | "is-active") => {
            skip("boot-time and status actions change nothing now")
        }
        ("keepalived", other) => vec![Step::Skip(format!(
            "`{other}` is not a systemctl action: nothing is run"
        ))],
        _ => vec![Step::Skip(format!(
            "service `{unit}` is not run by the kernel backend"
        ))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(text: &str) -> Vec<Step> {
        let l = SetupLine {
            line: 1,
            text: text.into(),
            heredoc: None,
        };
        translate(&[l], &BTreeMap::new()).remove(0).steps
    }

    #[test]
    fn allow_listed_commands_run() {
        assert_eq!(
            tr("ipvsadm -A -t 10.0.0.100:80 -s rr"),
            [Step::Run {
                prog: Prog::Ipvsadm,
                args: vec![
                    "-A".into(),
                    "-t".into(),
                    "10.0.0.100:80".into(),
                    "-s".into(),
                    "rr".into()
                ],
                stdin: None,
                stdout_to: None
            }]
        );
        assert!(
            matches!(&tr("ifconfig lo:0 10.0.0.100 netmask 255.255.255.255 up")[0],
            Step::Run { prog: Prog::Busybox("ifconfig"), args, .. } if args[0] == "lo:0")
        );
        assert_eq!(
            tr("echo \"1\" >/proc/sys/net/ipv4/conf/lo/arp_ignore"),
            [Step::Proc {
                path: "/proc/sys/net/ipv4/conf/lo/arp_ignore".into(),
                value: "1".into()
            }]
        );
        assert_eq!(
            tr("echo rs1 > /var/www/html/index.html"),
            [Step::Write {
                path: "/var/www/html/index.html".into(),
                text: "rs1\n".into(),
                append: false
            }]
        );
        assert_eq!(tr("systemctl start httpd"), [Step::HttpdStart]);
        assert_eq!(
            tr("systemctl start  keepalived"),
            [Step::KeepalivedStart(KEEPALIVED_CONF.into())]
        );
        assert_eq!(tr("service keepalived stop"), [Step::KeepalivedStop]);
        assert_eq!(tr("poweroff"), [Step::Poweroff]);
        assert_eq!(tr("shutdown -h now"), [Step::Poweroff]);
        assert_eq!(
            tr("systemctl restart keepalived.service"),
            [
                Step::KeepalivedStop,
                Step::KeepalivedStart(KEEPALIVED_CONF.into())
            ]
        );
        assert_eq!(
            tr("keepalived -D -f /etc/keepalived/lab.conf"),
            [Step::KeepalivedStart("/etc/keepalived/lab.conf".into())]
        );
        assert_eq!(
            tr("modprobe ip_vs_wrr"),
            [Step::Modprobe("ip_vs_wrr".into())]
        );
    }

    #[test]
    fn everything_else_is_skipped() {
        for t in [
            "yum install ipvsadm -y",
            "hostnamectl set-hostname lvs",
            "exec bash",
            "sed -i 's/enforcing/disabled/' /etc/selinux/config",
            "systemctl stop firewalld",
            "iptables -t nat -A POSTROUTING -j MASQUERADE",
            "ip netns exec other reboot",
            "ip -n other link del eth0",
            "echo 1 > /proc/sys/kernel/panic",
            "echo x > /etc/../proc/sys/kernel/panic",
            "sysctl -w kernel.panic=1",
            "modprobe usb_storage",
            "rm -rf /",
            "ip a | grep 10.0.0.100",
            "keepalived -t",
            "keepalived -f /etc/../etc/shadow",
            "systemctl enable keepalived",
            "systemctl stauts keepalived",
        ] {
            let s = tr(t);
            assert!(
                s.iter().all(|s| matches!(s, Step::Skip(_))),
                "{t} must not run: {s:?}"
            );
        }
    }

    #[test]
    fn sysctl_p_reads_the_scenario_files() {
        let mut files = BTreeMap::new();
        files.insert(
            "/etc/sysctl.conf".to_string(),
            "# c\nnet.ipv4.ip_forward = 1\nkernel.x = 2\n".to_string(),
        );
        let l = SetupLine {
            line: 3,
            text: "sysctl -p".into(),
            heredoc: None,
        };
        let s = translate(&[l], &files).remove(0).steps;
        assert_eq!(s.len(), 2);
        assert!(
            matches!(&s[0], Step::Run { args, .. } if args == &["-w", "net.ipv4.ip_forward=1"])
        );
        assert!(matches!(&s[1], Step::Skip(_)));
    }

    #[test]
    fn lists_translate_each_part() {
        let s = tr("iptables -F && iptables -X && ipvsadm -C");
        assert_eq!(s.len(), 3);
        assert!(matches!(
            &s[2],
            Step::Run {
                prog: Prog::Ipvsadm,
                ..
            }
        ));
    }
}
