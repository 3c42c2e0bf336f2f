//! tcpdump-like one-line rendering of packets (`tcpdump -n -S` style, with
//! `-e` link-level headers for [`Frame`]).

use std::fmt;

use super::{
    AppData, ArpOp, ArpPacket, Frame, FramePayload, IcmpMessage, IpPayload, Ipv4Packet, MacAddr,
    TcpFlags, TcpSegment, VrrpAdvert, VrrpAuth,
};

impl fmt::Display for TcpFlags {
    /// tcpdump's flag string: `S`, `S.`, `.`, `P.`, `F.`, `R`, `R.`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        if self.fin {
            s.push('F');
        }
        if self.syn {
            s.push('S');
        }
        if self.rst {
            s.push('R');
        }
        if self.psh {
            s.push('P');
        }
        if self.ack {
            s.push('.');
        }
        if s.is_empty() {
            s.push_str("none");
        }
        f.write_str(&s)
    }
}

impl fmt::Display for ArpPacket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            ArpOp::Request => {
                write!(f, "ARP, Request who-has {}", self.tpa)?;
                if self.tha != MacAddr::ZERO {
                    write!(f, " ({})", self.tha)?;
                }
                write!(f, " tell {}, length 28", self.spa)
            }
            ArpOp::Reply => write!(f, "ARP, Reply {} is-at {}, length 28", self.spa, self.sha),
        }
    }
}

fn fmt_tcp(f: &mut fmt::Formatter<'_>, ip: &Ipv4Packet, t: &TcpSegment) -> fmt::Result {
    write!(
        f,
        "IP {}.{} > {}.{}: Flags [{}]",
        ip.src, t.sport, ip.dst, t.dport, t.flags
    )?;
    let len = t.data.len();
    if len > 0 {
        write!(f, ", seq {}:{}", t.seq, t.seq.wrapping_add(len))?;
    } else if !(t.flags.ack && !t.flags.syn && !t.flags.fin && !t.flags.rst) {
        write!(f, ", seq {}", t.seq)?;
    }
    if t.flags.ack {
        write!(f, ", ack {}", t.ack)?;
    }
    write!(f, ", win {}, length {len}", t.window)?;
    if let AppData::Bytes(b) = &t.data {
        let first = b.split(|c| *c == b'\n').next().unwrap_or(&[]);
        let line = String::from_utf8_lossy(first);
        let line = line.trim_end_matches('\r');
        if line.starts_with("GET ") || line.starts_with("HTTP/") || line.starts_with("HEAD ") {
            write!(f, ": HTTP: {line}")?;
        }
    }
    Ok(())
}

fn fmt_vrrp(f: &mut fmt::Formatter<'_>, v: &VrrpAdvert) -> fmt::Result {
    write!(
        f,
        "VRRPv{}, Advertisement, vrid {}, prio {}",
        v.version, v.vrid, v.priority
    )?;
    if v.version == 2 {
        let auth = match &v.auth {
            VrrpAuth::None => "none",
            VrrpAuth::Pass(_) => "simple",
            VrrpAuth::Ah => "ah",
        };
        write!(f, ", authtype {auth}, intvl {}s", v.interval)?;
    } else {
        write!(f, ", intvl {}cs", v.interval)?;
    }
    write!(f, ", length {}", v.len())?;
    if let VrrpAuth::Pass(p) = &v.auth {
        let end = p.iter().position(|c| *c == 0).unwrap_or(8);
        f.write_str(", addrs: ")?;
        for (i, a) in v.addrs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}")?;
        }
        write!(f, " auth \"{}\"", String::from_utf8_lossy(&p[..end]))?;
    } else {
        f.write_str(", addrs: ")?;
        for (i, a) in v.addrs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Ipv4Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.payload {
            IpPayload::Tcp(t) => fmt_tcp(f, self, t),
            IpPayload::Udp(u) => write!(
                f,
                "IP {}.{} > {}.{}: UDP, length {}",
                self.src,
                u.sport,
                self.dst,
                u.dport,
                u.data.len()
            ),
            IpPayload::Icmp(m) => {
                write!(f, "IP {} > {}: ICMP ", self.src, self.dst)?;
                match m {
                    IcmpMessage::EchoRequest { id, seq } => {
                        write!(f, "echo request, id {id}, seq {seq}")?;
                    }
                    IcmpMessage::EchoReply { id, seq } => {
                        write!(f, "echo reply, id {id}, seq {seq}")?;
                    }
                    IcmpMessage::DestUnreachable { code, mtu, quoted } => {
                        match (code, quoted.ports()) {
                            (3, Some((_, dport))) => {
                                let p = if quoted.tcp().is_some() { "tcp" } else { "udp" };
                                write!(f, "{} {p} port {dport} unreachable", quoted.dst)?;
                            }
                            (4, _) => {
                                write!(f, "{} unreachable - need to frag (mtu {mtu})", quoted.dst)?
                            }
                            (1, _) => write!(f, "host {} unreachable", quoted.dst)?,
                            (0, _) => write!(f, "net {} unreachable", quoted.dst)?,
                            (c, _) => write!(f, "{} unreachable (code {c})", quoted.dst)?,
                        }
                    }
                    IcmpMessage::TimeExceeded { .. } => f.write_str("time exceeded in-transit")?,
                }
                write!(f, ", length {}", m.len())
            }
            IpPayload::Ipip(inner) => {
                write!(f, "IP {} > {}: {inner} (ipip-proto-4)", self.src, self.dst)
            }
            IpPayload::Vrrp(v) => {
                write!(f, "IP {} > {}: ", self.src, self.dst)?;
                fmt_vrrp(f, v)
            }
            IpPayload::Other { proto, len } => {
                write!(f, "IP {} > {}: ip-proto-{proto} {len}", self.src, self.dst)
            }
        }
    }
}

impl fmt::Display for Frame {
    /// `tcpdump -e` style: `src > dst, <payload>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} > {}, ", self.src, self.dst)?;
        match &self.payload {
            FramePayload::Arp(a) => write!(f, "{a}"),
            FramePayload::Ipv4(p) => write!(f, "{p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn tcp_lines_look_like_tcpdump() {
        let syn = Ipv4Packet::new(
            ip("192.168.59.133"),
            ip("192.168.59.135"),
            IpPayload::Tcp(TcpSegment {
                sport: 41000,
                dport: 80,
                seq: 1000,
                ack: 0,
                flags: TcpFlags::SYN,
                window: 64240,
                data: AppData::None,
            }),
        );
        assert_eq!(
            syn.to_string(),
            "IP 192.168.59.133.41000 > 192.168.59.135.80: Flags [S], seq 1000, win 64240, length 0"
        );
        let get = Ipv4Packet::new(
            ip("192.168.59.133"),
            ip("192.168.59.135"),
            IpPayload::Tcp(TcpSegment {
                sport: 41000,
                dport: 80,
                seq: 1001,
                ack: 5001,
                flags: TcpFlags::PSH_ACK,
                window: 502,
                data: AppData::text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            }),
        );
        assert_eq!(
            get.to_string(),
            "IP 192.168.59.133.41000 > 192.168.59.135.80: Flags [P.], seq 1001:1028, ack 5001, \
             win 502, length 27: HTTP: GET / HTTP/1.1"
        );
    }

    #[test]
    fn arp_lines_look_like_tcpdump() {
        let req = ArpPacket {
            op: ArpOp::Request,
            sha: MacAddr([0, 0x0c, 0x29, 0, 0, 1]),
            spa: ip("192.168.59.133"),
            tha: MacAddr::ZERO,
            tpa: ip("192.168.59.135"),
        };
        assert_eq!(
            req.to_string(),
            "ARP, Request who-has 192.168.59.135 tell 192.168.59.133, length 28"
        );
        let garp = ArpPacket {
            spa: ip("192.168.59.135"),
            tha: MacAddr::BROADCAST,
            ..req
        };
        assert!(garp.is_gratuitous());
        assert_eq!(
            garp.to_string(),
            "ARP, Request who-has 192.168.59.135 (ff:ff:ff:ff:ff:ff) tell 192.168.59.135, length 28"
        );
    }
}
