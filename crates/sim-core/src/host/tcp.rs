//! TCP socket state kept per host (the logic lives in `world::tcp`).
//!
//! Simplifications, named: no congestion control, one segment per
//! application message, SYN retransmission only (1 s doubling, as Linux's
//! initial RTO, up to `tcp_syn_retries`), no TIME_WAIT on the client.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

/// TCP states the lab uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpState {
    /// SYN sent (client).
    SynSent,
    /// SYN received (server).
    SynRcvd,
    /// Open.
    Established,
    /// We sent FIN first.
    FinWait,
    /// Peer closed, we answered with FIN.
    LastAck,
}

/// Who owns a socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SockRole {
    /// A curl run by client app `app`, sending `request`.
    Client {
        /// Index of the app in the world.
        app: usize,
        /// The HTTP request bytes.
        request: Arc<[u8]>,
    },
    /// A TCP health check by keepalived (connect, then close).
    Checker {
        /// Checker index on the host.
        checker: usize,
    },
    /// An HTTP_GET health check by keepalived (connect, send `request`,
    /// judge the response, close).
    HttpChecker {
        /// Checker index on the host.
        checker: usize,
        /// The HTTP request bytes.
        request: Arc<[u8]>,
    },
    /// Accepted by a listening server (httpd).
    Server,
}

/// One connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sock {
    /// State.
    pub state: TcpState,
    /// Next sequence number to send.
    pub snd_nxt: u32,
    /// Next sequence number expected.
    pub rcv_nxt: u32,
    /// Owner.
    pub role: SockRole,
    /// Timer generation (timers with an older value are ignored).
    pub epoch: u64,
    /// SYN transmissions so far.
    pub tries: u32,
}

/// Key: (local address, local port, remote address, remote port).
pub type SockKey = (Ipv4Addr, u16, Ipv4Addr, u16);

/// All sockets of a host.
#[derive(Clone, Debug, Default)]
pub struct TcpTable {
    /// Open connections.
    pub socks: BTreeMap<SockKey, Sock>,
    /// Next ephemeral port.
    pub next_port: u16,
    /// Timer generation counter.
    pub epoch: u64,
}

impl TcpTable {
    /// A fresh ephemeral port in 32768…60999 not in use towards `remote`.
    pub fn ephemeral(&mut self, local: Ipv4Addr, remote: Ipv4Addr, rport: u16) -> u16 {
        for _ in 0..28232 {
            if self.next_port < 32768 || self.next_port > 60999 {
                self.next_port = 32768;
            }
            let p = self.next_port;
            self.next_port += 1;
            if !self.socks.contains_key(&(local, p, remote, rport)) {
                return p;
            }
        }
        self.next_port
    }

    /// A new timer generation.
    pub fn next_epoch(&mut self) -> u64 {
        self.epoch += 1;
        self.epoch
    }
}
