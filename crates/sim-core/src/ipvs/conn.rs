//! The connection table (`ip_vs_conn.c`): entries, templates, lookups and
//! timers.
//!
//! Storage is a slab (`Vec<Option<Conn>>` with a free list), so a
//! [`ConnId`] is a small index and the fast path allocates nothing once the
//! slab has grown. Lookups go through two `BTreeMap`s (in-direction key and,
//! for NAT/FULLNAT, reply key); timers are a `BTreeSet<(expiry, id)>` popped
//! lazily by [`super::Ipvs::advance`].
//!
//! **Listing order (simplification).** The kernel prints `/proc/net/ip_vs_conn`
//! in hash-table order with a random boot-time seed. The lab prints entries
//! in **creation order** (oldest first), which is deterministic.
//! A [`ConnId`] is reused after its entry is freed.

pub mod tcp;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use super::Protocol;
use super::dest::DestId;
use super::table::SvcId;
use super::types::FwdMethod;
use crate::time::SimTime;

/// Index of an entry in the connection slab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u32);

/// TCP states, numbered as in the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcpState {
    /// 0 NONE.
    None = 0,
    /// 1 ESTABLISHED.
    Established = 1,
    /// 2 SYN_SENT.
    SynSent = 2,
    /// 3 SYN_RECV.
    SynRecv = 3,
    /// 4 FIN_WAIT.
    FinWait = 4,
    /// 5 TIME_WAIT.
    TimeWait = 5,
    /// 6 CLOSE.
    Close = 6,
    /// 7 CLOSE_WAIT.
    CloseWait = 7,
    /// 8 LAST_ACK.
    LastAck = 8,
    /// 9 LISTEN.
    Listen = 9,
    /// 10 SYNACK.
    SynAck = 10,
}

impl TcpState {
    /// Every state, in number order.
    pub const ALL: [TcpState; 11] = [
        TcpState::None,
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::SynAck,
    ];

    /// The kernel's name (`tcp_state_name`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::SynAck => "SYNACK",
        }
    }
}

/// Protocol state of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// A TCP entry.
    Tcp(TcpState),
    /// A UDP entry (one state).
    Udp,
    /// An SCTP entry (simplified to one state, see `table.rs`).
    Sctp,
}

/// One entry (`struct ip_vs_conn`), a connection or a persistence template.
#[derive(Clone, Debug)]
pub struct Conn {
    /// Protocol.
    pub proto: Protocol,
    /// A fwmark template (protocol printed as `IP`, vaddr = fwmark number).
    pub fwmark_tmpl: bool,
    /// Client address (a masked network for templates).
    pub caddr: Ipv4Addr,
    /// Client port (0 for templates).
    pub cport: u16,
    /// Virtual address.
    pub vaddr: Ipv4Addr,
    /// Virtual port.
    pub vport: u16,
    /// Real server address.
    pub daddr: Ipv4Addr,
    /// Real server port.
    pub dport: u16,
    /// FULLNAT local address.
    pub laddr: Option<Ipv4Addr>,
    /// FULLNAT local port.
    pub lport: u16,
    /// Forwarding method.
    pub fwd: FwdMethod,
    /// `IP_VS_CONN_F_TEMPLATE`.
    pub template: bool,
    /// `IP_VS_CONN_F_INACTIVE` (counted in InActConn).
    pub inactive: bool,
    /// `IP_VS_CONN_F_NOOUTPUT` (INPUT_ONLY table).
    pub nooutput: bool,
    /// One-packet scheduling entry.
    pub ops: bool,
    /// Template state ASSURED.
    pub assured: bool,
    /// Protocol state.
    pub state: ConnState,
    /// Current timeout.
    pub timeout_s: u32,
    /// When the timer fires.
    pub expires: SimTime,
    /// Bound destination.
    pub dest: Option<DestId>,
    /// Service the dest belonged to when the entry was made.
    pub svc: Option<SvcId>,
    /// The template controlling this entry.
    pub control: Option<ConnId>,
    /// Entries this template controls.
    pub n_control: u32,
    /// Packets seen in.
    pub in_pkts: u64,
    /// Whether the in-key is hashed (templates are unhashed when invalidated).
    pub hashed: bool,
    seq: u64,
    /// Where this entry waits in the timer set (`<= expires`, see
    /// [`ConnTable::rearm`]).
    timer_at: SimTime,
}

impl Conn {
    /// A fresh entry: state NONE, timeout 3 s, INACTIVE, not hashed yet.
    #[must_use]
    #[expect(clippy::too_many_arguments, reason = "mirrors ip_vs_conn_new")]
    pub fn new(
        proto: Protocol,
        caddr: Ipv4Addr,
        cport: u16,
        vaddr: Ipv4Addr,
        vport: u16,
        daddr: Ipv4Addr,
        dport: u16,
        fwd: FwdMethod,
    ) -> Conn {
        Conn {
            proto,
            fwmark_tmpl: false,
            caddr,
            cport,
            vaddr,
            vport,
            daddr,
            dport,
            laddr: None,
            lport: 0,
            fwd,
            template: false,
            inactive: true,
            nooutput: !matches!(fwd, FwdMethod::Masq | FwdMethod::FullNat),
            ops: false,
            assured: false,
            state: match proto {
                Protocol::Tcp => ConnState::Tcp(TcpState::None),
                Protocol::Udp => ConnState::Udp,
                Protocol::Sctp => ConnState::Sctp,
            },
            timeout_s: 3,
            expires: SimTime::ZERO,
            dest: None,
            svc: None,
            control: None,
            n_control: 0,
            in_pkts: 0,
            hashed: false,
            seq: 0,
            timer_at: SimTime::ZERO,
        }
    }

    /// Protocol as the kernel names it in `/proc/net/ip_vs_conn`.
    #[must_use]
    pub fn proto_name(&self) -> &'static str {
        if self.fwmark_tmpl {
            "IP"
        } else {
            self.proto.name()
        }
    }

    /// The state column of `ipvsadm -lnc`.
    #[must_use]
    pub fn state_name(&self) -> &'static str {
        if self.template {
            return if self.assured { "ASSURED" } else { "NONE" };
        }
        match self.state {
            ConnState::Tcp(s) => s.name(),
            ConnState::Udp => "UDP",
            ConnState::Sctp => "ESTABLISHED",
        }
    }

    /// The in-direction lookup key.
    #[must_use]
    pub fn in_key(&self) -> InKey {
        let p = if self.fwmark_tmpl {
            0
        } else {
            self.proto.number()
        };
        (
            p,
            u32::from(self.caddr),
            self.cport,
            u32::from(self.vaddr),
            self.vport,
        )
    }

    /// The reply lookup key (NAT and FULLNAT only).
    #[must_use]
    pub fn out_key(&self) -> Option<OutKey> {
        if self.template || !self.fwd.sees_replies() {
            return None;
        }
        let (a, p) = match self.laddr {
            Some(l) => (l, self.lport),
            None => (self.caddr, self.cport),
        };
        Some((
            self.proto.number(),
            u32::from(self.daddr),
            self.dport,
            u32::from(a),
            p,
        ))
    }

    /// Creation sequence number (the listing order).
    #[must_use]
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// `(protocol, caddr, cport, vaddr, vport)`.
pub type InKey = (u8, u32, u16, u32, u16);
/// `(protocol, daddr, dport, caddr-or-laddr, cport-or-lport)`.
pub type OutKey = (u8, u32, u16, u32, u16);

/// The table.
#[derive(Debug, Default)]
pub struct ConnTable {
    slots: Vec<Option<Conn>>,
    free: Vec<u32>,
    by_in: BTreeMap<InKey, ConnId>,
    by_out: BTreeMap<OutKey, ConnId>,
    timers: BTreeSet<(SimTime, ConnId)>,
    seq: u64,
    live: usize,
}

impl ConnTable {
    /// Number of entries (templates included).
    #[must_use]
    pub fn len(&self) -> usize {
        self.live
    }
    /// Whether the table is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Inserts and hashes `c` with its timer at `c.expires`.
    pub fn insert(&mut self, mut c: Conn) -> ConnId {
        self.seq += 1;
        c.seq = self.seq;
        c.hashed = true;
        let id = match self.free.pop() {
            Some(i) => ConnId(i),
            None => {
                self.slots.push(None);
                ConnId(u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX))
            }
        };
        self.by_in.insert(c.in_key(), id);
        if let Some(k) = c.out_key() {
            self.by_out.insert(k, id);
        }
        c.timer_at = c.expires;
        self.timers.insert((c.expires, id));
        if let Some(slot) = self.slots.get_mut(id.0 as usize) {
            *slot = Some(c);
        }
        self.live += 1;
        id
    }

    /// The entry `id`.
    #[must_use]
    pub fn get(&self, id: ConnId) -> Option<&Conn> {
        self.slots.get(id.0 as usize).and_then(Option::as_ref)
    }
    /// The entry `id`, mutably (do not change keys or `expires` through this).
    pub fn get_mut(&mut self, id: ConnId) -> Option<&mut Conn> {
        self.slots.get_mut(id.0 as usize).and_then(Option::as_mut)
    }

    /// In-direction lookup.
    #[must_use]
    pub fn lookup_in(&self, k: &InKey) -> Option<ConnId> {
        self.by_in.get(k).copied()
    }
    /// Reply lookup.
    #[must_use]
    pub fn lookup_out(&self, k: &OutKey) -> Option<ConnId> {
        self.by_out.get(k).copied()
    }

    /// Restarts the timer of `id` to fire at `at`.
    ///
    /// Lazy: an entry waits in the timer set at `timer_at <= expires`, and
    /// is only moved when its timer comes *earlier*; a later expiry (most
    /// packets push it later) just updates `expires`, and [`Self::due`]
    /// moves the entry on when the old place is reached. Expiries still come
    /// out in `(expires, id)` order.
    pub fn rearm(&mut self, id: ConnId, at: SimTime) {
        if let Some(c) = self.slots.get_mut(id.0 as usize).and_then(Option::as_mut) {
            c.expires = at;
            if at < c.timer_at {
                self.timers.remove(&(c.timer_at, id));
                c.timer_at = at;
                self.timers.insert((at, id));
            }
        }
    }

    /// Takes the in-key of `id` out of the lookup map and lets `f` change
    /// the entry's addresses (template invalidation: ports to 0xffff).
    pub fn unhash_in(&mut self, id: ConnId) {
        if let Some(c) = self.slots.get_mut(id.0 as usize).and_then(Option::as_mut)
            && c.hashed
        {
            let k = c.in_key();
            if self.by_in.get(&k) == Some(&id) {
                self.by_in.remove(&k);
            }
            c.hashed = false;
        }
    }

    /// Removes `id` from every index and returns it.
    pub fn remove(&mut self, id: ConnId) -> Option<Conn> {
        let c = self.slots.get_mut(id.0 as usize)?.take()?;
        if c.hashed {
            let k = c.in_key();
            if self.by_in.get(&k) == Some(&id) {
                self.by_in.remove(&k);
            }
        }
        if let Some(k) = c.out_key()
            && self.by_out.get(&k) == Some(&id)
        {
            self.by_out.remove(&k);
        }
        self.timers.remove(&(c.timer_at, id));
        self.free.push(id.0);
        self.live -= 1;
        Some(c)
    }

    /// The earliest timer, if it fires at or before `now` (the entry stays
    /// in the set until it is removed or rearmed).
    pub fn due(&mut self, now: SimTime) -> Option<(SimTime, ConnId)> {
        loop {
            let &(t, id) = self.timers.first()?;
            if t > now {
                return None;
            }
            let Some(c) = self.slots.get_mut(id.0 as usize).and_then(Option::as_mut) else {
                // Unreachable: `remove` takes the entry out of the set.
                self.timers.pop_first();
                continue;
            };
            if c.expires <= t {
                return Some((t, id));
            }
            // Rearmed later since it was queued: move on to the real expiry.
            self.timers.pop_first();
            c.timer_at = c.expires;
            self.timers.insert((c.expires, id));
        }
    }

    /// The earliest timer.
    #[must_use]
    pub fn next_deadline(&self) -> Option<SimTime> {
        self.timers
            .iter()
            .filter_map(|&(_, id)| self.get(id).map(|c| c.expires))
            .min()
    }

    /// Every entry in listing (creation) order.
    #[must_use]
    pub fn listing(&self) -> Vec<(ConnId, &Conn)> {
        let mut v: Vec<(ConnId, &Conn)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.as_ref()
                    .map(|c| (ConnId(u32::try_from(i).unwrap_or(u32::MAX)), c))
            })
            .collect();
        v.sort_by_key(|(_, c)| c.seq);
        v
    }

    /// Every live id (slab order).
    #[must_use]
    pub fn ids(&self) -> Vec<ConnId> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_some())
            .map(|(i, _)| ConnId(u32::try_from(i).unwrap_or(u32::MAX)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(cport: u16, expires: u64) -> Conn {
        let a = Ipv4Addr::new(10, 0, 0, 1);
        let mut c = Conn::new(Protocol::Tcp, a, cport, a, 80, a, 80, FwdMethod::Route);
        c.expires = SimTime(expires);
        c
    }

    proptest::proptest! {
        /// Lazy timers fire exactly as a sorted `(expires, id)` set would:
        /// same entries, same order, whatever the rearms (earlier or later),
        /// removals and id reuse.
        #[test]
        fn lazy_timers_fire_in_expiry_order(
            ops in proptest::collection::vec((0u8..4, 0u16..24, 1u64..400), 0..300)
        ) {
            let mut t = ConnTable::default();
            let mut model: BTreeMap<ConnId, SimTime> = BTreeMap::new();
            let mut now = 0u64;
            for (op, k, dt) in ops {
                let ids: Vec<ConnId> = model.keys().copied().collect();
                let pick = (!ids.is_empty()).then(|| ids[usize::from(k) % ids.len()]);
                match (op, pick) {
                    (0, _) | (_, None) => {
                        let id = t.insert(conn(k, now + dt));
                        model.insert(id, SimTime(now + dt));
                    }
                    (1, Some(id)) => {
                        t.rearm(id, SimTime(now + dt));
                        model.insert(id, SimTime(now + dt));
                    }
                    (2, Some(id)) => {
                        proptest::prop_assert!(t.remove(id).is_some());
                        model.remove(&id);
                    }
                    (_, Some(_)) => {
                        now += dt / 4;
                        loop {
                            let want = model
                                .iter()
                                .map(|(id, e)| (*e, *id))
                                .min()
                                .filter(|(e, _)| e.0 <= now);
                            let got = t.due(SimTime(now));
                            proptest::prop_assert_eq!(got, want);
                            let Some((_, id)) = got else { break };
                            t.remove(id);
                            model.remove(&id);
                        }
                    }
                }
                for (id, e) in &model {
                    proptest::prop_assert_eq!(t.get(*id).map(|c| c.expires), Some(*e));
                }
                let next = model.values().min().copied();
                proptest::prop_assert_eq!(t.next_deadline(), next);
            }
        }
    }
}
