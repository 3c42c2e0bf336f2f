//! Health-checker timing and verdicts as keepalived's checkers apply them
//! (`check_tcp.c` `tcp_epilog`, `check_http.c`, `check_misc.c`), with no I/O.
//!
//! Every `delay_loop` an attempt runs. While the checker is UP a failure
//! schedules a retry after `delay_before_retry`; after `retry + 1`
//! consecutive failures it goes DOWN. While DOWN one attempt per
//! `delay_loop`; one success brings it UP. Worst-case detection is
//! `delay_loop + (retry+1)·connect_timeout + retry·delay_before_retry`.

use std::collections::BTreeMap;

use super::conf::Url;
use crate::time::SimDuration;

/// Timing of one checker (after keepalived's inheritance).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Period between attempts.
    pub delay_loop: SimDuration,
    /// How long a connection may take.
    pub connect_timeout: SimDuration,
    /// Extra attempts before DOWN.
    pub retry: u32,
    /// Pause before a retry.
    pub delay_before_retry: SimDuration,
}

/// The checker's memory between attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckState {
    /// Currently UP.
    pub up: bool,
    /// Failures counted towards `retry`.
    pub retry_it: u32,
    /// At least one attempt finished.
    pub has_run: bool,
}

impl CheckState {
    /// Initial state: UP unless `alpha`.
    #[must_use]
    pub fn new(alpha: bool) -> Self {
        CheckState {
            up: !alpha,
            retry_it: 0,
            has_run: false,
        }
    }
}

/// What one result means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Delay until the next attempt.
    pub next: SimDuration,
    /// `Some(up)` when the checker changed state.
    pub changed: Option<bool>,
    /// `Some(n)` when this failure is retried (n-th retry).
    pub retrying: Option<u32>,
}

/// Applies one attempt's result.
pub fn on_result(st: &mut CheckState, t: &Timing, ok: bool) -> Step {
    st.has_run = true;
    if ok {
        st.retry_it = 0;
        let changed = (!st.up).then_some(true);
        st.up = true;
        return Step {
            next: t.delay_loop,
            changed,
            retrying: None,
        };
    }
    if st.up && st.retry_it < t.retry {
        st.retry_it += 1;
        return Step {
            next: t.delay_before_retry,
            changed: None,
            retrying: Some(st.retry_it),
        };
    }
    st.retry_it = 0;
    let changed = st.up.then_some(false);
    st.up = false;
    Step {
        next: t.delay_loop,
        changed,
        retrying: None,
    }
}

/// Judges an HTTP response against a `url` block: status code in range and,
/// if given, the body's MD5 digest.
///
/// # Errors
/// keepalived's words for the failure.
pub fn http_verdict(url: &Url, status: u16, body: &[u8]) -> Result<(), String> {
    let ranges: &[(u16, u16)] = if url.status_codes.is_empty() {
        &[(200, 299)]
    } else {
        &url.status_codes
    };
    if !ranges.iter().any(|(a, b)| (*a..=*b).contains(&status)) {
        return Err(format!("status_code [{status}]"));
    }
    if let Some(want) = &url.digest {
        let got = super::md5::hex(body);
        if &got != want {
            return Err(format!("MD5SUM [{got}]"));
        }
    }
    Ok(())
}

/// Splits a raw HTTP response into its status code and body.
#[must_use]
pub fn parse_response(raw: &[u8]) -> Option<(u16, &[u8])> {
    let text = std::str::from_utf8(raw).ok()?;
    let first = text.lines().next()?;
    let code = first.split_whitespace().nth(1)?.parse().ok()?;
    let body_at = text.find("\r\n\r\n").map_or(raw.len(), |i| i + 4);
    Some((code, &raw[body_at..]))
}

/// The exit status of a MISC_CHECK script in the lab.
///
/// The lab does not execute programs: the script named by the first word of
/// `misc_path` must be a file on the director (written with `cat > … <<EOF`
/// or `echo … >`), and its outcome is the status of its last `exit N` line
/// (0 when it has none, as a shell script falling off its end after a
/// successful command). A missing script exits 127, as the shell would.
#[must_use]
pub fn misc_exit(files: &BTreeMap<String, String>, misc_path: &str) -> i32 {
    let script = misc_path.split_whitespace().next().unwrap_or("");
    let Some(text) = files.get(script) else {
        return 127;
    };
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("exit")?;
            if rest.is_empty() {
                return Some(0);
            }
            rest.trim().parse::<i32>().ok()
        })
        .next_back()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tutorial() -> Timing {
        Timing {
            delay_loop: SimDuration::from_secs(3),
            connect_timeout: SimDuration::from_secs(3),
            retry: 3,
            delay_before_retry: SimDuration::from_secs(3),
        }
    }

    #[test]
    fn down_after_retry_plus_one_failures_then_up_after_one_success() {
        let t = tutorial();
        let mut st = CheckState::new(false);
        for n in 1..=3 {
            let s = on_result(&mut st, &t, false);
            assert_eq!(s.retrying, Some(n));
            assert_eq!(s.next, t.delay_before_retry);
            assert_eq!(s.changed, None);
        }
        let s = on_result(&mut st, &t, false);
        assert_eq!(s.changed, Some(false));
        assert_eq!(s.next, t.delay_loop);
        // Down: no retries, one attempt per delay_loop.
        let s = on_result(&mut st, &t, false);
        assert_eq!((s.changed, s.retrying), (None, None));
        let s = on_result(&mut st, &t, true);
        assert_eq!(s.changed, Some(true));
    }

    #[test]
    fn a_success_resets_the_retry_count() {
        let t = tutorial();
        let mut st = CheckState::new(false);
        on_result(&mut st, &t, false);
        on_result(&mut st, &t, false);
        on_result(&mut st, &t, true);
        assert_eq!(st.retry_it, 0);
        assert!(st.up);
    }

    #[test]
    fn http_status_and_digest() {
        let url = Url {
            loc: Default::default(),
            path: "/".into(),
            digest: Some(super::super::md5::hex(b"ok\n")),
            status_codes: vec![],
            virtualhost: None,
            other: vec![],
        };
        assert!(http_verdict(&url, 200, b"ok\n").is_ok());
        assert!(http_verdict(&url, 404, b"ok\n").is_err());
        assert!(http_verdict(&url, 200, b"changed\n").is_err());
        let raw = b"HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\nbody";
        assert_eq!(parse_response(raw), Some((404, &b"body"[..])));
    }

    #[test]
    fn misc_scripts_exit_status() {
        let mut f = BTreeMap::new();
        f.insert(
            "/c.sh".to_string(),
            "#!/bin/sh\ncurl -s x\nexit 1\n".to_string(),
        );
        f.insert("/ok.sh".to_string(), "#!/bin/sh\ntrue\n".to_string());
        assert_eq!(misc_exit(&f, "/c.sh 10.0.0.1"), 1);
        assert_eq!(misc_exit(&f, "/ok.sh"), 0);
        assert_eq!(misc_exit(&f, "/missing.sh"), 127);
    }
}
