//! TCP endpoints and the HTTP server (httpd serving `/var/www/html`).
//!
//! Client connection: SYN → SYN/ACK → ACK, request (PSH/ACK) → response
//! (PSH/ACK) → client FIN/ACK → server FIN/ACK → ACK. Simplifications are
//! listed in [`crate::host::tcp`].

use std::net::Ipv4Addr;
use std::sync::Arc;

use super::{Event, World};
use crate::host::HostId;
use crate::host::tcp::{Sock, SockKey, SockRole, TcpState};
use crate::packet::{AppData, IpPayload, Ipv4Packet, TcpFlags, TcpSegment};
use crate::rng::RngCore;
use crate::time::SimDuration;
use crate::trace::TraceKind;

/// Linux's initial retransmission timeout.
const INITIAL_RTO: SimDuration = SimDuration::from_secs(1);
/// Receive window the lab advertises.
const WINDOW: u16 = 64240;

impl World {
    pub(super) fn tcp_send(
        &mut self,
        h: HostId,
        key: SockKey,
        seq: u32,
        ack: u32,
        flags: TcpFlags,
        data: AppData,
    ) {
        let seg = TcpSegment {
            sport: key.1,
            dport: key.3,
            seq,
            ack,
            flags,
            window: WINDOW,
            data,
        };
        self.ip_output(h, Ipv4Packet::new(key.0, key.2, IpPayload::Tcp(seg)));
    }

    /// Opens a connection from `h` to `dst:dport` for `role`; returns the key.
    pub(crate) fn tcp_connect(
        &mut self,
        h: HostId,
        dst: Ipv4Addr,
        dport: u16,
        role: SockRole,
    ) -> Option<SockKey> {
        let src = self.route_output(h, dst)?.src?;
        let iss = self.host_rng[h].next_u32();
        let host = &mut self.hosts[h];
        let sport = host.tcp.ephemeral(src, dst, dport);
        let key = (src, sport, dst, dport);
        let epoch = host.tcp.next_epoch();
        host.tcp.socks.insert(
            key,
            Sock {
                state: TcpState::SynSent,
                snd_nxt: iss.wrapping_add(1),
                rcv_nxt: 0,
                role,
                epoch,
                tries: 1,
            },
        );
        self.queue.push(
            self.now + INITIAL_RTO,
            Event::TcpTimer {
                host: h,
                key,
                epoch,
            },
        );
        self.tcp_send(h, key, iss, 0, TcpFlags::SYN, AppData::None);
        Some(key)
    }

    /// SYN retransmission timer.
    pub(crate) fn tcp_timer(&mut self, h: HostId, key: SockKey, epoch: u64) {
        let retries =
            u32::try_from(self.hosts[h].sysctl.int("net.ipv4.tcp_syn_retries")).unwrap_or(6);
        let Some(s) = self.hosts[h].tcp.socks.get_mut(&key) else {
            return;
        };
        if s.epoch != epoch || s.state != TcpState::SynSent {
            return;
        }
        if s.tries > retries {
            self.tcp_error(h, key, "Connection timed out");
            return;
        }
        s.tries += 1;
        let backoff = INITIAL_RTO.as_nanos() << (s.tries - 1).min(16);
        let seq = s.snd_nxt.wrapping_sub(1);
        self.queue.push(
            self.now + SimDuration(backoff),
            Event::TcpTimer {
                host: h,
                key,
                epoch,
            },
        );
        self.tcp_send(h, key, seq, 0, TcpFlags::SYN, AppData::None);
    }

    /// A connection failed (`err` as the C library words it).
    pub(crate) fn tcp_error(&mut self, h: HostId, key: SockKey, err: &str) {
        let Some(s) = self.hosts[h].tcp.socks.remove(&key) else {
            return;
        };
        match s.role {
            SockRole::Client { app, .. } => {
                let stage_connect = s.state == TcpState::SynSent;
                self.app_failed(app, key, err, stage_connect);
            }
            SockRole::Checker { checker } | SockRole::HttpChecker { checker, .. } => {
                self.checker_result(h, checker, false, err);
            }
            SockRole::Server => {}
        }
    }

    /// ARP failed or no route towards `dst`: fail connecting sockets to it.
    pub(crate) fn tcp_unreachable(&mut self, h: HostId, dst: Ipv4Addr) {
        let keys: Vec<SockKey> = self.hosts[h]
            .tcp
            .socks
            .iter()
            .filter(|(k, s)| {
                s.state == TcpState::SynSent
                    && (k.2 == dst || self.route_output(h, k.2).is_some_and(|r| r.nexthop == dst))
            })
            .map(|(k, _)| *k)
            .collect();
        for k in keys {
            self.tcp_error(h, k, "No route to host");
        }
    }

    /// A TCP segment for a local address.
    pub(crate) fn tcp_rcv(&mut self, h: HostId, src: Ipv4Addr, dst: Ipv4Addr, seg: TcpSegment) {
        let key = (dst, seg.dport, src, seg.sport);
        let Some(sock) = self.hosts[h].tcp.socks.get(&key).cloned() else {
            self.tcp_listen_rcv(h, src, dst, seg);
            return;
        };
        if seg.flags.rst {
            let err = if sock.state == TcpState::SynSent {
                "Connection refused"
            } else {
                "Connection reset by peer"
            };
            self.tcp_error(h, key, err);
            return;
        }
        let dlen = seg.data.len();
        match (sock.state, &sock.role) {
            (TcpState::SynSent, _) if seg.flags.syn && seg.flags.ack => {
                let rcv = seg.seq.wrapping_add(1);
                let snd = sock.snd_nxt;
                self.set_sock(h, key, TcpState::Established, snd, rcv);
                self.tcp_send(h, key, snd, rcv, TcpFlags::ACK, AppData::None);
                match sock.role {
                    SockRole::Client { request, .. } | SockRole::HttpChecker { request, .. } => {
                        let len = u32::try_from(request.len()).unwrap_or(0);
                        self.set_sock(h, key, TcpState::Established, snd.wrapping_add(len), rcv);
                        self.tcp_send(h, key, snd, rcv, TcpFlags::PSH_ACK, AppData::Bytes(request));
                    }
                    SockRole::Checker { checker } => {
                        // TCP_CHECK: connected → success, then close.
                        self.set_sock(h, key, TcpState::FinWait, snd.wrapping_add(1), rcv);
                        self.tcp_send(h, key, snd, rcv, TcpFlags::FIN_ACK, AppData::None);
                        self.checker_result(h, checker, true, "connected");
                    }
                    SockRole::Server => {}
                }
            }
            (TcpState::SynRcvd, SockRole::Server) if seg.flags.ack => {
                self.set_sock(
                    h,
                    key,
                    TcpState::Established,
                    sock.snd_nxt,
                    sock.rcv_nxt.wrapping_add(dlen),
                );
                if dlen > 0 {
                    self.http_serve(h, key, &seg);
                }
            }
            (TcpState::Established, SockRole::Server) => {
                if dlen > 0 {
                    self.set_sock(
                        h,
                        key,
                        TcpState::Established,
                        sock.snd_nxt,
                        sock.rcv_nxt.wrapping_add(dlen),
                    );
                    self.http_serve(h, key, &seg);
                }
                if seg.flags.fin {
                    let rcv = seg.seq.wrapping_add(dlen).wrapping_add(1);
                    let snd = self.hosts[h]
                        .tcp
                        .socks
                        .get(&key)
                        .map_or(sock.snd_nxt, |s| s.snd_nxt);
                    self.set_sock(h, key, TcpState::LastAck, snd.wrapping_add(1), rcv);
                    self.tcp_send(h, key, snd, rcv, TcpFlags::FIN_ACK, AppData::None);
                }
            }
            (TcpState::Established, SockRole::Client { app, .. }) if dlen > 0 => {
                let app = *app;
                let rcv = seg.seq.wrapping_add(dlen);
                let snd = sock.snd_nxt;
                self.set_sock(h, key, TcpState::FinWait, snd.wrapping_add(1), rcv);
                // curl has the whole response: close (FIN/ACK acknowledges it).
                self.tcp_send(h, key, snd, rcv, TcpFlags::FIN_ACK, AppData::None);
                let body = seg
                    .data
                    .bytes()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                self.app_response(app, key, &body);
            }
            (TcpState::Established, SockRole::HttpChecker { checker, .. }) if dlen > 0 => {
                let checker = *checker;
                let rcv = seg.seq.wrapping_add(dlen);
                let snd = sock.snd_nxt;
                self.set_sock(h, key, TcpState::FinWait, snd.wrapping_add(1), rcv);
                self.tcp_send(h, key, snd, rcv, TcpFlags::FIN_ACK, AppData::None);
                let body = seg.data.bytes().map(<[u8]>::to_vec).unwrap_or_default();
                self.checker_http_response(h, checker, &body);
            }
            (TcpState::FinWait, _) if seg.flags.fin => {
                let rcv = seg.seq.wrapping_add(dlen).wrapping_add(1);
                self.tcp_send(h, key, sock.snd_nxt, rcv, TcpFlags::ACK, AppData::None);
                self.hosts[h].tcp.socks.remove(&key);
            }
            (TcpState::LastAck, _) if seg.flags.ack => {
                self.hosts[h].tcp.socks.remove(&key);
            }
            _ => {}
        }
    }

    fn set_sock(&mut self, h: HostId, key: SockKey, st: TcpState, snd: u32, rcv: u32) {
        if let Some(s) = self.hosts[h].tcp.socks.get_mut(&key) {
            s.state = st;
            s.snd_nxt = snd;
            s.rcv_nxt = rcv;
            s.epoch += 1;
        }
    }

    /// A segment for no socket: a listening httpd accepts SYNs on port 80;
    /// anything else is answered with RST.
    fn tcp_listen_rcv(&mut self, h: HostId, src: Ipv4Addr, dst: Ipv4Addr, seg: TcpSegment) {
        let listening = self.hosts[h].services.httpd && seg.dport == 80;
        if listening && seg.flags.syn && !seg.flags.ack && !seg.flags.rst {
            let iss = self.host_rng[h].next_u32();
            let key = (dst, seg.dport, src, seg.sport);
            let rcv = seg.seq.wrapping_add(1);
            self.hosts[h].tcp.socks.insert(
                key,
                Sock {
                    state: TcpState::SynRcvd,
                    snd_nxt: iss.wrapping_add(1),
                    rcv_nxt: rcv,
                    role: SockRole::Server,
                    epoch: 0,
                    tries: 1,
                },
            );
            self.tcp_send(h, key, iss, rcv, TcpFlags::SYN_ACK, AppData::None);
            return;
        }
        if !seg.flags.rst {
            let why = if seg.flags.syn {
                format!("TCP SYN to {dst}:{}: nothing listens → RST", seg.dport)
            } else {
                format!(
                    "TCP segment to {dst}:{} without a connection → RST",
                    seg.dport
                )
            };
            self.tr(h, false, TraceKind::App { text: why });
        }
        self.tcp_send_rst(h, src, dst, &seg);
    }

    /// httpd answers a request with `/var/www/html/index.html`.
    fn http_serve(&mut self, h: HostId, key: SockKey, seg: &TcpSegment) {
        let req = seg
            .data
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
        let file = if path.ends_with('/') {
            format!("/var/www/html{path}index.html")
        } else {
            format!("/var/www/html{path}")
        };
        let (status, body) = match self.hosts[h].files.get(&file) {
            Some(b) => ("200 OK", b.clone()),
            None => (
                "404 Not Found",
                "<html><body><h1>Not Found</h1></body></html>\n".to_string(),
            ),
        };
        let resp = format!(
            "HTTP/1.1 {status}\r\nServer: Apache\r\nContent-Length: {}\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n{body}",
            body.len()
        );
        if self.trace.events() {
            let hostname = self.hosts[h].name.clone();
            self.tr(
                h,
                false,
                TraceKind::App {
                    text: format!(
                        "httpd on {hostname}: GET {path} from {}:{} → {status}",
                        key.2, key.3
                    ),
                },
            );
        }
        let data: Arc<[u8]> = Arc::from(resp.as_bytes());
        if self.httpd_hold(h, key, Arc::clone(&data)).is_none() {
            self.http_send(h, key, data);
        }
    }

    /// Sends httpd's answer on `key` (if the connection still exists).
    pub(super) fn http_send(&mut self, h: HostId, key: SockKey, data: Arc<[u8]>) {
        let Some(s) = self.hosts[h].tcp.socks.get(&key).cloned() else {
            return;
        };
        let len = u32::try_from(data.len()).unwrap_or(0);
        self.set_sock(
            h,
            key,
            TcpState::Established,
            s.snd_nxt.wrapping_add(len),
            s.rcv_nxt,
        );
        self.tcp_send(
            h,
            key,
            s.snd_nxt,
            s.rcv_nxt,
            TcpFlags::PSH_ACK,
            AppData::Bytes(data),
        );
    }
}
