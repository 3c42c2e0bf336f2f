//! Client applications: `curl URL`, and the tutorial's loop
//! `while true; do curl http://VIP; sleep 1; done` with a count or a
//! duration. Each curl is one TCP connection with one HTTP/1.1 GET.

use std::net::Ipv4Addr;
use std::sync::Arc;

use super::{Event, World};
use crate::host::HostId;
use crate::host::tcp::{SockKey, SockRole};
use crate::time::{SimDuration, SimTime};
use crate::trace::TraceKind;

/// How a curl ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CurlOutcome {
    /// An HTTP response arrived (status code).
    Ok(u16),
    /// curl exit code and message, as curl prints it.
    Failed {
        /// curl's exit code (7 connect, 28 timeout, 56 recv failure).
        code: u8,
        /// The message after `curl: (N) `.
        message: String,
    },
}

/// One curl invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurlResult {
    /// When it started.
    pub start: SimTime,
    /// When it ended.
    pub end: SimTime,
    /// Outcome.
    pub outcome: CurlOutcome,
    /// Response body (what curl prints).
    pub body: String,
}

impl CurlResult {
    /// What the terminal shows for this curl.
    #[must_use]
    pub fn printed(&self) -> String {
        match &self.outcome {
            CurlOutcome::Ok(_) => self.body.trim_end_matches('\n').to_string(),
            CurlOutcome::Failed { code, message } => format!("curl: ({code}) {message}"),
        }
    }
}

/// The loop's shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopSpec {
    /// Pause between curls (`sleep 1`).
    pub sleep: SimDuration,
    /// Stop after this many curls.
    pub count: Option<u64>,
    /// Do not start a curl after this time.
    pub until: Option<SimTime>,
}

/// A client running curl (once or in a loop).
#[derive(Clone, Debug)]
pub struct ClientApp {
    /// Host it runs on.
    pub host: HostId,
    /// Target address.
    pub addr: Ipv4Addr,
    /// Target port.
    pub port: u16,
    /// URL path.
    pub path: String,
    /// The URL as written.
    pub url: String,
    /// Loop shape.
    pub spec: LoopSpec,
    /// `--max-time` for one curl.
    pub max_time: SimDuration,
    /// Finished curls.
    pub results: Vec<CurlResult>,
    /// The running curl: (invocation number, start, socket).
    pub current: Option<(u64, SimTime, Option<SockKey>)>,
    /// Invocations started.
    pub started: u64,
}

impl World {
    /// Adds a client app starting at `at`; returns its index.
    pub fn add_client(&mut self, app: ClientApp, at: SimTime) -> usize {
        let i = self.apps.len();
        self.apps.push(app);
        self.queue.push(at, Event::AppStart { app: i });
        i
    }

    pub(crate) fn app_start(&mut self, i: usize) {
        let now = self.now;
        let a = &self.apps[i];
        if a.current.is_some()
            || a.spec.count.is_some_and(|c| a.started >= c)
            || a.spec.until.is_some_and(|u| now > u)
        {
            return;
        }
        let (h, addr, port, max_time) = (a.host, a.addr, a.port, a.max_time);
        if !self.hosts[h].powered {
            return;
        }
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: curl/7.29.0\r\nAccept: */*\r\n\r\n",
            a.path,
            if port == 80 {
                addr.to_string()
            } else {
                format!("{addr}:{port}")
            }
        );
        let run = a.started + 1;
        self.apps[i].started = run;
        self.apps[i].current = Some((run, now, None));
        self.queue
            .push(now + max_time, Event::AppTimeout { app: i, run });
        let key = self.tcp_connect(
            h,
            addr,
            port,
            SockRole::Client {
                app: i,
                request: Arc::from(request.as_bytes()),
            },
        );
        match key {
            Some(k) => {
                if let Some(c) = self.apps[i].current.as_mut() {
                    c.2 = Some(k);
                }
            }
            None => self.finish(
                i,
                CurlOutcome::Failed {
                    code: 7,
                    message: format!(
                        "Failed to connect to {addr} port {port}: Network is unreachable"
                    ),
                },
                String::new(),
            ),
        }
    }

    fn finish(&mut self, i: usize, outcome: CurlOutcome, body: String) {
        let now = self.now;
        let Some((_, start, key)) = self.apps[i].current.take() else {
            return;
        };
        let h = self.apps[i].host;
        if let Some(k) = key {
            // A timed-out or failed curl closes its socket.
            if !matches!(outcome, CurlOutcome::Ok(_)) {
                self.hosts[h].tcp.socks.remove(&k);
            }
        }
        let r = CurlResult {
            start,
            end: now,
            outcome,
            body,
        };
        if self.trace.events() {
            let text = format!("curl {} → {}", self.apps[i].url, r.printed());
            self.tr(h, false, TraceKind::App { text });
        }
        self.apps[i].results.push(r);
        let sleep = self.apps[i].spec.sleep;
        self.queue.push(now + sleep, Event::AppStart { app: i });
    }

    pub(crate) fn app_response(&mut self, i: usize, key: SockKey, raw: &str) {
        if self.apps[i].current.as_ref().and_then(|c| c.2) != Some(key) {
            return;
        }
        let status = raw
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = raw
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        self.finish(i, CurlOutcome::Ok(status), body);
    }

    pub(crate) fn app_failed(&mut self, i: usize, key: SockKey, err: &str, connecting: bool) {
        if self.apps[i].current.as_ref().and_then(|c| c.2) != Some(key) {
            return;
        }
        let (addr, port) = (self.apps[i].addr, self.apps[i].port);
        let outcome = if connecting {
            let code = if err.contains("timed out") { 28 } else { 7 };
            CurlOutcome::Failed {
                code,
                message: format!("Failed to connect to {addr} port {port}: {err}"),
            }
        } else {
            CurlOutcome::Failed {
                code: 56,
                message: format!("Recv failure: {err}"),
            }
        };
        self.finish(i, outcome, String::new());
    }

    pub(crate) fn app_timeout(&mut self, i: usize, run: u64) {
        if self.apps[i].current.as_ref().map(|c| c.0) != Some(run) {
            return;
        }
        let ms = self.apps[i].max_time.as_nanos() / 1_000_000;
        // curl's multi.c: still connecting → "Connection timed out", else
        // "Operation timed out … bytes received".
        let h = self.apps[i].host;
        let connecting = self.apps[i]
            .current
            .as_ref()
            .and_then(|c| c.2)
            .and_then(|k| self.hosts[h].tcp.socks.get(&k))
            .is_none_or(|s| s.state == crate::host::tcp::TcpState::SynSent);
        let message = if connecting {
            format!("Connection timed out after {ms} milliseconds")
        } else {
            format!("Operation timed out after {ms} milliseconds with 0 bytes received")
        };
        self.finish(i, CurlOutcome::Failed { code: 28, message }, String::new());
    }
}
