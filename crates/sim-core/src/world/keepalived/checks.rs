//! keepalived's health checkers on the host stack: TCP_CHECK and HTTP_GET
//! open real TCP connections from the director (traced like any other),
//! MISC_CHECK reads its scripted outcome, and each result goes through the
//! timing rules of [`crate::keepalived::check`] and, on a state change, into
//! the IPVS table.
//!
//! Simplifications: SSL_GET is checked as HTTP_GET without TLS; SMTP_CHECK,
//! UDP_CHECK, DNS_CHECK, PING_CHECK, FILE_CHECK and BFD_CHECK are not run
//! (treated as always up, and said so in the trace); a MISC_CHECK script
//! takes no time.

use std::sync::Arc;

use crate::host::HostId;
use crate::host::tcp::SockRole;
use crate::keepalived::Timer;
use crate::keepalived::check::{self, misc_exit, on_result};
use crate::keepalived::conf::CheckerKind;
use crate::rng;
use crate::time::SimDuration;
use crate::world::World;

impl World {
    /// Checker `c` of `h`'s running keepalived, if its attempt `epoch` is
    /// still the one in progress (a stale timer or result finds `None`).
    fn pending_checker(
        &mut self,
        h: HostId,
        c: usize,
        epoch: u64,
    ) -> Option<&mut crate::keepalived::daemon::CheckerRt> {
        self.hosts[h]
            .keepalived
            .running
            .as_mut()
            .and_then(|d| d.checkers.get_mut(c))
            .filter(|cr| cr.pending && cr.epoch == epoch)
    }

    fn checker_kind(&self, h: HostId, c: usize) -> Option<CheckerKind> {
        let d = self.hosts[h].keepalived.running.as_ref()?;
        d.checkers.get(c).map(|x| x.kind)
    }

    /// Schedules checker `c`'s first attempt after a random warm-up in
    /// `0..=warmup` (keepalived's default warm-up is the delay_loop).
    pub(crate) fn check_schedule_first(&mut self, h: HostId, c: usize) {
        let Some(d) = self.hosts[h].keepalived.running.as_mut() else {
            return;
        };
        let cr = &d.checkers[c];
        let (kind, warmup, name) = (cr.kind, cr.warmup, cr.target_name());
        let modelled = matches!(
            kind,
            CheckerKind::Tcp | CheckerKind::HttpGet | CheckerKind::SslGet | CheckerKind::Misc
        );
        if !modelled {
            let kw = kind.keyword();
            self.ka_log(
                h,
                false,
                &format!("{kw} on {name} is not run in the lab: treated as always up"),
            );
            return;
        }
        let delay = if warmup == SimDuration::ZERO {
            0
        } else {
            rng::below(&mut d.rng, warmup.as_nanos() + 1)
        };
        let at = self.now + SimDuration(delay);
        self.ka_push(h, at, Timer::Check { checker: c });
    }

    /// Runs one attempt of checker `c`.
    pub(crate) fn check_attempt(&mut self, h: HostId, c: usize) {
        let Some(kind) = self.checker_kind(h, c) else {
            return;
        };
        let Some(cr) = self.hosts[h]
            .keepalived
            .running
            .as_mut()
            .and_then(|d| d.checkers.get_mut(c))
        else {
            return;
        };
        if cr.pending {
            return;
        }
        cr.pending = true;
        cr.url_idx = 0;
        if kind == CheckerKind::Misc {
            let path = cr.misc.clone().unwrap_or_default();
            let dynamic = cr.misc_dynamic;
            let code = misc_exit(&self.hosts[h].files, &path);
            let ok = code == 0 || (dynamic && code >= 2);
            if dynamic {
                let w = (code >= 2).then(|| u32::try_from(code - 2).unwrap_or(0));
                self.set_dyn_weight(h, c, w);
            }
            self.check_finish(h, c, ok, &format!("exited with status {code}"));
            return;
        }
        self.check_connect(h, c);
    }

    fn set_dyn_weight(&mut self, h: HostId, c: usize, w: Option<u32>) {
        let Some(d) = self.hosts[h].keepalived.running.as_mut() else {
            return;
        };
        let (vs, rs) = (d.checkers[c].vs, d.checkers[c].rs);
        if let Some(w) = w {
            d.vs[vs].rs[rs].dyn_weight = Some(w);
        }
    }

    /// Opens the attempt's TCP connection (HTTP: for the current URL).
    fn check_connect(&mut self, h: HostId, c: usize) {
        let Some(d) = self.hosts[h].keepalived.running.as_mut() else {
            return;
        };
        let cr = &mut d.checkers[c];
        cr.epoch += 1;
        let (epoch, target, timeout) = (cr.epoch, cr.target, cr.timing.connect_timeout);
        let role = if cr.urls.is_empty() || cr.kind == CheckerKind::Tcp {
            SockRole::Checker { checker: c }
        } else {
            let url = &cr.urls[cr.url_idx];
            let host = url
                .virtualhost
                .clone()
                .or_else(|| cr.vhost.clone())
                .unwrap_or_else(|| format!("{}:{}", target.0, target.1));
            let req = format!(
                "GET {} HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: {host}\r\n\r\n",
                url.path
            );
            SockRole::HttpChecker {
                checker: c,
                request: Arc::from(req.as_bytes()),
            }
        };
        let key = self.tcp_connect(h, target.0, target.1, role);
        let Some(cr) = self.pending_checker(h, c, epoch) else {
            return; // it already failed (no route), or is stale
        };
        match key {
            Some(k) => {
                cr.sock = Some(k);
                let at = self.now + timeout;
                self.ka_push(h, at, Timer::CheckTimeout { checker: c, epoch });
            }
            None => self.check_finish(h, c, false, "No route to host"),
        }
    }

    /// connect_timeout expired: abort the attempt.
    pub(crate) fn check_timeout(&mut self, h: HostId, c: usize, epoch: u64) {
        let Some(cr) = self.pending_checker(h, c, epoch) else {
            return;
        };
        let t = cr.timing.connect_timeout;
        if let Some(k) = cr.sock.take() {
            self.hosts[h].tcp.socks.remove(&k);
        }
        self.check_finish(h, c, false, &format!("timeout after connect_timeout {t}"));
    }

    /// A TCP checker's connection finished (connected, refused, unreachable).
    pub(crate) fn checker_result(&mut self, h: HostId, c: usize, ok: bool, why: &str) {
        let pending = self.hosts[h]
            .keepalived
            .running
            .as_ref()
            .and_then(|d| d.checkers.get(c))
            .is_some_and(|x| x.pending);
        if pending {
            self.check_finish(h, c, ok, why);
        }
    }

    /// An HTTP_GET checker received its response.
    pub(crate) fn checker_http_response(&mut self, h: HostId, c: usize, raw: &[u8]) {
        let Some(cr) = self.hosts[h]
            .keepalived
            .running
            .as_mut()
            .and_then(|d| d.checkers.get_mut(c))
        else {
            return;
        };
        if !cr.pending {
            return;
        }
        cr.sock = None;
        let verdict = match (check::parse_response(raw), cr.urls.get(cr.url_idx)) {
            (Some((code, body)), Some(url)) => {
                check::http_verdict(url, code, body).map_err(|e| format!("url({}) {e}", url.path))
            }
            _ => Err("malformed HTTP response".to_string()),
        };
        let more = cr.url_idx + 1 < cr.urls.len();
        if verdict.is_ok() && more {
            cr.url_idx += 1;
        }
        match verdict {
            Err(e) => self.check_finish(h, c, false, &e),
            Ok(()) if more => self.check_connect(h, c),
            Ok(()) => self.check_finish(h, c, true, "all urls passed"),
        }
    }

    /// Ends an attempt: timing rules, logs, IPVS changes, next attempt.
    fn check_finish(&mut self, h: HostId, c: usize, ok: bool, why: &str) {
        self.ipvs_sync_local(h);
        let host = &mut self.hosts[h];
        let Some(d) = host.keepalived.running.as_mut() else {
            return;
        };
        let cr = &mut d.checkers[c];
        cr.pending = false;
        cr.sock = None;
        let step = on_result(&mut cr.st, &cr.timing, ok);
        let (vs, kind, retry) = (cr.vs, cr.kind, cr.timing.retry);
        let name = cr.target_name();
        let kw = kind.keyword();
        let mut lines = Vec::new();
        match (ok, step.changed, step.retrying) {
            (true, Some(true), _) => lines.push(match kind {
                CheckerKind::Misc => format!("Misc check for {name} success."),
                CheckerKind::Tcp => format!("TCP connection to {name} success."),
                _ => format!("HTTP status code success to {name} url(s)."),
            }),
            (false, _, Some(n)) => lines.push(format!(
                "{kw} on service {name} failed ({why}); retry {n} of {retry} after {}",
                step.next
            )),
            (false, Some(false), _) => lines.push(if retry > 0 {
                format!("{kw} on service {name} failed after {retry} retries ({why}).")
            } else {
                format!("{kw} on service {name} failed ({why}).")
            }),
            (false, None, None) => {
                lines.push(format!("{kw} on service {name} still failing ({why})."));
            }
            _ => {}
        }
        if let Some(up) = step.changed {
            let rt = &mut d.vs[vs];
            if let Some(l) = rt.update_quorum(&d.checkers) {
                lines.push(l);
            }
            lines.extend(rt.sync(&mut host.ipvs, &d.checkers));
            let state = if up { "UP" } else { "DOWN" };
            self.ka_event(h, format!("real server {name} {state} ({kw})"));
        }
        for l in lines {
            self.ka_log(h, false, &l);
        }
        let at = self.now + step.next;
        self.ka_push(h, at, Timer::Check { checker: c });
    }

    /// Aborts every checker connection of `h` (keepalived stopping).
    pub(crate) fn checks_abort(&mut self, h: HostId) {
        self.hosts[h].tcp.socks.retain(|_, s| {
            !matches!(
                s.role,
                SockRole::Checker { .. } | SockRole::HttpChecker { .. }
            )
        });
    }
}
