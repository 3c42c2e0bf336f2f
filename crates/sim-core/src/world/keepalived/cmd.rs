//! `keepalived …` and `systemctl … keepalived` on a host, and reading
//! keepalived.conf (with its `include`s) from the host's files.

use std::collections::BTreeMap;

use super::{CONF, VERSION};
use crate::host::HostId;
use crate::keepalived::conf::{self, ConfContext, ConfLoader};
use crate::shell::CmdOutput;
use crate::world::World;

/// The host's files as keepalived's `include` sees them.
struct HostFiles<'a>(&'a BTreeMap<String, String>);

impl ConfLoader for HostFiles<'_> {
    fn load(&self, path: &str) -> Option<String> {
        self.0.get(path).cloned()
    }
    fn glob(&self, pattern: &str) -> Vec<String> {
        if !pattern.contains(['*', '?']) {
            return vec![pattern.to_string()];
        }
        self.0
            .keys()
            .filter(|k| glob_match(pattern.as_bytes(), k.as_bytes()))
            .cloned()
            .collect()
    }
}

/// Shell-style `*`/`?` matching (no `/` crossing is not enforced).
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_match(&p[1..], s) || (!s.is_empty() && glob_match(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob_match(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob_match(&p[1..], &s[1..]),
        _ => false,
    }
}

/// Reads keepalived.conf (`file`) from `h`'s files as keepalived on that host would.
#[must_use]
pub fn read_conf(w: &World, h: HostId, file: &str) -> Option<conf::Parsed> {
    let host = &w.hosts[h];
    let text = host.files.get(file)?;
    let ctx = ConfContext::for_host(&host.hostname);
    Some(conf::parse(text, file, &HostFiles(&host.files), &ctx))
}

/// `keepalived …` run by hand: `-t` tests the configuration, `-v` prints
/// the version, anything else starts the daemon (as `systemctl start`).
pub fn keepalived_cmd(w: &mut World, h: HostId, args: &[&str]) -> CmdOutput {
    let mut file = CONF.to_string();
    let mut test = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "-v" | "--version" => return CmdOutput::out(format!("{VERSION}\n")),
            "-t" | "--config-test" => test = true,
            "-f" | "--use-file" => {
                if let Some(f) = it.next() {
                    file = (*f).to_string();
                }
            }
            s if s.starts_with("--use-file=") => file = s["--use-file=".len()..].to_string(),
            _ => {}
        }
    }
    if test {
        let Some(p) = read_conf(w, h, &file) else {
            return CmdOutput::fail(1, format!("Configuration file '{file}' does not exist"));
        };
        // `keepalived -t` reads numbers strictly: what a running keepalived
        // accepts with a warning (`3` followed by full-width spaces) is an
        // error there (see `keepalived::conf`, "The full-width spaces").
        let diags: Vec<conf::Diagnostic> = p
            .diagnostics
            .iter()
            .cloned()
            .map(|mut d| {
                if d.message.starts_with("WARNING - invalid number") {
                    d.severity = conf::Severity::Error;
                }
                d
            })
            .collect();
        let text: String = diags.iter().map(|d| format!("{d}\n")).collect();
        let failed = diags.iter().any(|d| d.severity == conf::Severity::Error);
        return if failed {
            CmdOutput::fail(1, text)
        } else {
            CmdOutput {
                stderr: text,
                ..CmdOutput::ok()
            }
        };
    }
    w.keepalived_start(h, &file)
}

/// `systemctl VERB keepalived`.
pub fn keepalived_systemctl(w: &mut World, h: HostId, verb: &str) -> CmdOutput {
    match verb {
        "start" => w.keepalived_start(h, CONF),
        "stop" => {
            w.keepalived_stop(h);
            CmdOutput::ok()
        }
        "restart" => {
            w.keepalived_stop(h);
            w.keepalived_start(h, CONF)
        }
        "reload" => {
            w.keepalived_stop(h);
            let mut o = w.keepalived_start(h, CONF);
            o.note = Some("reload is modelled as a restart (VRRP state is not kept)".into());
            o
        }
        "enable" | "disable" => CmdOutput::noted("boot-time enablement has no effect in the lab"),
        "status" | "is-active" => {
            let active = w.hosts[h].keepalived.running.is_some();
            let stdout = if verb == "is-active" {
                format!("{}\n", if active { "active" } else { "inactive" })
            } else {
                format!(
                    "● keepalived.service - LVS and VRRP High Availability Monitor\n   Active: {}\n",
                    if active {
                        "active (running)"
                    } else {
                        "inactive (dead)"
                    }
                )
            };
            CmdOutput {
                stdout,
                status: if active { 0 } else { 3 },
                ..CmdOutput::ok()
            }
        }
        other => CmdOutput::fail(1, format!("Unknown operation '{other}'.")),
    }
}
