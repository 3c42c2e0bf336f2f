//! The command interpreter: the commands people type on Linux hosts,
//! applied to a simulated host.
//!
//! Three kinds of command:
//! - **modelled**: `ip`, `ifconfig`, `route`, `sysctl`, `echo … > /proc/sys/…`,
//!   `echo … > file`, `cat`, `cp`, `hostnamectl`, `systemctl`, `iptables`,
//!   `ipvsadm`, `modprobe`, `poweroff`, `grep` (in pipes);
//! - **no-ops** that mean nothing in the lab (`yum install`, `setenforce 0`,
//!   `exec bash`, …): accepted with a one-line note saying why;
//! - anything else: refused with its name ([`ShellError::Unknown`]).

use std::net::Ipv4Addr;

use crate::host::HostId;
use crate::world::World;

pub mod cmds;
pub mod lex;
pub mod netcmds;

/// What a command printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CmdOutput {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit status.
    pub status: i32,
    /// Why a command has no effect in the lab.
    pub note: Option<String>,
}

impl CmdOutput {
    /// Success with some output.
    #[must_use]
    pub fn out(s: impl Into<String>) -> Self {
        CmdOutput {
            stdout: s.into(),
            ..Default::default()
        }
    }
    /// Success, nothing printed.
    #[must_use]
    pub fn ok() -> Self {
        CmdOutput::default()
    }
    /// Failure with a message on stderr.
    #[must_use]
    pub fn fail(status: i32, msg: impl Into<String>) -> Self {
        let mut m = msg.into();
        if !m.ends_with('\n') {
            m.push('\n');
        }
        CmdOutput {
            stderr: m,
            status,
            ..Default::default()
        }
    }
    /// Success with a lab note.
    #[must_use]
    pub fn noted(note: impl Into<String>) -> Self {
        CmdOutput {
            note: Some(note.into()),
            ..Default::default()
        }
    }
    /// The note, or the first line of output/error, for trace lines.
    #[must_use]
    pub fn note_or_output(&self) -> String {
        if let Some(n) = &self.note {
            return format!("no effect in the lab: {n}");
        }
        let s = if self.stderr.is_empty() {
            &self.stdout
        } else {
            &self.stderr
        };
        s.lines().next().unwrap_or("").to_string()
    }
}

/// Why a command line could not run at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShellError {
    /// The lab does not know this command.
    Unknown(String),
    /// Quoting or redirection syntax.
    Syntax(String),
}

impl std::fmt::Display for ShellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShellError::Unknown(c) => write!(f, "unknown command `{c}`: the lab does not model it"),
            ShellError::Syntax(m) => write!(f, "shell syntax: {m}"),
        }
    }
}

/// Commands that change nothing in the lab, and why.
const NOOPS: &[(&str, &str)] = &[
    ("yum", "packages are part of the lab's hosts already"),
    ("dnf", "packages are part of the lab's hosts already"),
    ("apt", "packages are part of the lab's hosts already"),
    ("apt-get", "packages are part of the lab's hosts already"),
    ("setenforce", "SELinux is not modelled"),
    (
        "exec",
        "the prompt's host name is not modelled; the host is already named",
    ),
    (
        "sed",
        "editing files other than those the lab reads has no effect",
    ),
    (
        "sleep",
        "in setup and actions time does not pass; use `at` for timing",
    ),
    ("clear", "nothing to clear"),
    ("cd", "the working directory is not modelled"),
    ("vim", "edit the scenario file instead"),
    ("vi", "edit the scenario file instead"),
    ("chmod", "file permissions are not modelled"),
    (
        "tcpdump",
        "use `lvslab pcap` or `lvslab run --trace text` to see packets",
    ),
    ("true", "does nothing"),
    ("ntpdate", "virtual time is always in sync"),
];

/// The names of every command the lab accepts.
#[must_use]
pub fn known(name: &str) -> bool {
    matches!(
        name,
        "ip" | "ifconfig"
            | "route"
            | "sysctl"
            | "echo"
            | "cat"
            | "cp"
            | "hostnamectl"
            | "hostname"
            | "systemctl"
            | "service"
            | "iptables"
            | "ipvsadm"
            | "modprobe"
            | "poweroff"
            | "shutdown"
            | "halt"
            | "grep"
            | "curl"
            | "keepalived"
            | "arp"
    ) || NOOPS.iter().any(|(n, _)| *n == name)
}

/// Checks that a command line only uses commands the lab knows.
///
/// # Errors
/// The first unknown command, or a syntax error.
pub fn check_line(text: &str) -> Result<(), ShellError> {
    if parse_curl_loop(text).is_some() {
        return Ok(());
    }
    let l = lex::parse_line(text, Some("")).map_err(ShellError::Syntax)?;
    for (_, p) in &l.parts {
        for s in p {
            if let Some(n) = s.argv.first()
                && !known(n)
            {
                return Err(ShellError::Unknown(n.clone()));
            }
        }
    }
    Ok(())
}

/// Runs one command line (no here-document) on host `h`.
///
/// # Errors
/// Unknown commands and syntax errors.
pub fn run_line(w: &mut World, h: HostId, text: &str) -> Result<CmdOutput, ShellError> {
    run_with_heredoc(w, h, text, None)
}

/// Runs one command line with an optional here-document body.
///
/// # Errors
/// Unknown commands and syntax errors.
pub fn run_with_heredoc(
    w: &mut World,
    h: HostId,
    text: &str,
    heredoc: Option<&str>,
) -> Result<CmdOutput, ShellError> {
    if let Some((url, sleep)) = parse_curl_loop(text) {
        return Ok(cmds::start_curl(w, h, &url, Some(sleep)));
    }
    check_line(text)?;
    let l = lex::parse_line(text, heredoc).map_err(ShellError::Syntax)?;
    let mut last = CmdOutput::ok();
    let mut acc = CmdOutput::ok();
    for (conn, pipe) in &l.parts {
        if (conn == "&&" && last.status != 0) || (conn == "||" && last.status == 0) {
            continue;
        }
        let mut input: Option<String> = None;
        for s in pipe {
            let mut o = cmds::run_simple(w, h, s, input.as_deref());
            if let Some((path, append)) = &s.redirect {
                let text = std::mem::take(&mut o.stdout);
                let r = cmds::write_file(w, h, path, &text, *append);
                if r.status != 0 {
                    o = r;
                } else if r.note.is_some() && o.note.is_none() {
                    o.note = r.note;
                }
            }
            if s.stderr_redirect {
                o.stderr.clear();
            }
            input = Some(o.stdout.clone());
            last = o;
        }
        acc.stdout.push_str(&last.stdout);
        acc.stderr.push_str(&last.stderr);
        if acc.note.is_none() {
            acc.note.clone_from(&last.note);
        }
        acc.status = last.status;
    }
    Ok(acc)
}

/// Recognises `while true; do curl URL; sleep N; done` (any spacing).
#[must_use]
pub fn parse_curl_loop(text: &str) -> Option<(String, crate::time::SimDuration)> {
    let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let t = t.replace("; ", ";").replace(" ;", ";");
    let rest = t
        .strip_prefix("while true;do ")
        .or_else(|| t.strip_prefix("while true;do"))?;
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("curl ")?;
    let (url, after) = rest.split_once(';')?;
    let after = after.trim();
    let sleep = after.strip_prefix("sleep ")?;
    let (n, tail) = sleep.split_once(';')?;
    if tail.trim() != "done" {
        return None;
    }
    let d =
        crate::time::SimDuration::parse(&format!("{}s", n.trim().trim_end_matches('s'))).ok()?;
    Some((url.trim().to_string(), d))
}

/// Parses `http://A.B.C.D[:port][/path]`.
#[must_use]
pub fn parse_url(url: &str) -> Option<(Ipv4Addr, u16, String)> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = match hostport.split_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (hostport, 80),
    };
    Some((host.parse().ok()?, port, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_loop_is_recognised() {
        let (u, s) =
            parse_curl_loop("while true;do curl http://192.168.59.135;sleep 1;done").unwrap();
        assert_eq!(u, "http://192.168.59.135");
        assert_eq!(s, crate::time::SimDuration::from_secs(1));
        assert!(
            parse_curl_loop("while true; do curl http://10.0.0.1/x ; sleep 0.5; done").is_some()
        );
        assert!(parse_curl_loop("curl http://x").is_none());
    }

    #[test]
    fn unknown_commands_are_named() {
        assert_eq!(
            check_line("frobnicate --all"),
            Err(ShellError::Unknown("frobnicate".into()))
        );
        assert!(check_line("yum install -y ipvsadm").is_ok());
        assert!(check_line("iptables -F && iptables -X && iptables -Z").is_ok());
    }
}
