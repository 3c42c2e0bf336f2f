//! Byte fixtures (hand-checked hex), round-trip and never-panic properties.

use std::net::Ipv4Addr;
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::packet::{
    AppData, ArpOp, ArpPacket, Frame, FramePayload, IcmpMessage, IpPayload, Ipv4Packet, MacAddr,
    TcpFlags, TcpSegment, UdpDatagram, VrrpAdvert, VrrpAuth,
};
use crate::time::SimTime;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// An independent one's-complement sum: a region whose checksum field is
/// filled in correctly sums to 0xffff.
fn ones_sum(parts: &[&[u8]]) -> u16 {
    let mut all = Vec::new();
    for p in parts {
        all.extend_from_slice(p);
    }
    if all.len() % 2 == 1 {
        all.push(0);
    }
    let mut s: u32 = 0;
    for w in all.chunks(2) {
        s += (u32::from(w[0]) << 8) | u32::from(w[1]);
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

fn pseudo(src: &[u8], dst: &[u8], proto: u8, len: usize) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(src);
    v.extend_from_slice(dst);
    v.push(0);
    v.push(proto);
    v.extend_from_slice(&(len as u16).to_be_bytes());
    v
}

const M1: MacAddr = MacAddr([0x00, 0x0c, 0x29, 0, 0, 1]);
const M2: MacAddr = MacAddr([0x00, 0x0c, 0x29, 0, 0, 2]);

fn arp_request() -> Frame {
    Frame {
        src: M1,
        dst: MacAddr::BROADCAST,
        payload: FramePayload::Arp(ArpPacket {
            op: ArpOp::Request,
            sha: M1,
            spa: ip("192.168.59.133"),
            tha: MacAddr::ZERO,
            tpa: ip("192.168.59.135"),
        }),
    }
}

fn tcp_syn() -> Frame {
    let mut p = Ipv4Packet::new(
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
    p.id = 0x1c46;
    Frame {
        src: M1,
        dst: M2,
        payload: FramePayload::Ipv4(p),
    }
}

fn port_unreachable() -> Frame {
    let mut quoted = Ipv4Packet::new(
        ip("192.168.59.133"),
        ip("192.168.59.135"),
        IpPayload::Udp(UdpDatagram {
            sport: 5353,
            dport: 53,
            data: AppData::text("abcd"),
        }),
    );
    quoted.id = 0x1234;
    let mut p = Ipv4Packet::new(
        ip("192.168.59.135"),
        ip("192.168.59.133"),
        IpPayload::Icmp(IcmpMessage::DestUnreachable {
            code: 3,
            mtu: 0,
            quoted: Box::new(quoted),
        }),
    );
    p.df = false;
    Frame {
        src: M2,
        dst: M1,
        payload: FramePayload::Ipv4(p),
    }
}

const ARP_HEX: &str = "ffffffffffff 000c29000001 0806
    0001 0800 06 04 0001 000c29000001 c0a83b85 000000000000 c0a83b87
    000000000000000000000000000000000000";

const SYN_HEX: &str = "000c29000002 000c29000001 0800
    4500 0028 1c46 4000 40 06 262d c0a83b85 c0a83b87
    a028 0050 000003e8 00000000 50 02 faf0 1834 0000
    000000000000";

const UNREACH_HEX: &str = "000c29000001 000c29000002 0800
    4500 0038 0000 0000 40 01 8268 c0a83b87 c0a83b85
    03 03 ba3e 00000000
    4500 0020 1234 4000 40 11 303c c0a83b85 c0a83b87
    14e9 0035 000c 2d94";

#[test]
fn arp_request_fixture() {
    let bytes = emit_frame(&arp_request());
    assert_eq!(bytes, hex(ARP_HEX));
    assert_eq!(bytes.len(), 60);
    assert_eq!(parse_frame(&bytes), Ok(arp_request()));
    // Unpadded (as an outgoing `-i any` capture has it) parses too.
    assert_eq!(parse_frame(&bytes[..42]), Ok(arp_request()));
}

#[test]
fn tcp_syn_fixture() {
    let bytes = emit_frame(&tcp_syn());
    assert_eq!(bytes, hex(SYN_HEX));
    let ip_hdr = &bytes[14..34];
    assert_eq!(ones_sum(&[ip_hdr]), 0xffff);
    let seg = &bytes[34..54];
    assert_eq!(
        ones_sum(&[&pseudo(&ip_hdr[12..16], &ip_hdr[16..20], 6, 20), seg]),
        0xffff
    );
    assert_eq!(parse_frame(&bytes), Ok(tcp_syn()));
    assert_eq!(tcp_syn().wire_len() as usize, bytes.len());
}

#[test]
fn icmp_port_unreachable_fixture() {
    let bytes = emit_frame(&port_unreachable());
    assert_eq!(bytes, hex(UNREACH_HEX));
    assert_eq!(bytes.len(), 70);
    assert_eq!(port_unreachable().wire_len() as usize, bytes.len());
    assert_eq!(ones_sum(&[&bytes[14..34]]), 0xffff);
    assert_eq!(ones_sum(&[&bytes[34..]]), 0xffff);
    // The quoted header keeps its own valid checksum.
    assert_eq!(ones_sum(&[&bytes[42..62]]), 0xffff);
    let parsed = parse_frame(&bytes).unwrap();
    assert_eq!(parsed, normalise(&port_unreachable()));
    let Some(IpPayload::Icmp(IcmpMessage::DestUnreachable { quoted, .. })) =
        parsed.ipv4().map(|p| &p.payload)
    else {
        panic!("not an unreachable: {parsed:?}")
    };
    assert_eq!(quoted.ports(), Some((5353, 53)));
    assert_eq!(quoted.total_len(), 32);
    assert_eq!(
        parsed.to_string(),
        port_unreachable().to_string(),
        "the parsed quote prints like the original"
    );
}

#[test]
fn vrrp_checksums_follow_the_rfcs() {
    let advert = |version, auth| {
        let mut p = Ipv4Packet::new(
            ip("192.168.59.10"),
            ip("224.0.0.18"),
            IpPayload::Vrrp(VrrpAdvert {
                version,
                vrid: 51,
                priority: 150,
                interval: if version == 2 { 1 } else { 100 },
                addrs: vec![ip("192.168.59.100"), ip("192.168.59.101")],
                auth,
            }),
        );
        p.ttl = 255;
        Frame {
            src: MacAddr([0, 0, 0x5e, 0, 1, 51]),
            dst: MacAddr::ipv4_multicast(ip("224.0.0.18")),
            payload: FramePayload::Ipv4(p),
        }
    };
    // v2: the checksum covers the VRRP message alone.
    let v2 = advert(2, VrrpAuth::Pass(*b"secret\0\0"));
    let b = emit_frame(&v2);
    let msg = &b[34..58];
    assert_eq!(msg.len(), 8 + 8 + 8);
    assert_eq!(&msg[..6], &[0x21, 51, 150, 2, 1, 1]);
    assert_eq!(&msg[16..], b"secret\0\0");
    assert_eq!(ones_sum(&[msg]), 0xffff);
    assert_eq!(parse_frame(&b), Ok(v2));
    // v3: 12-bit centiseconds, no auth data, pseudo-header in the checksum.
    let v3 = advert(3, VrrpAuth::None);
    let b = emit_frame(&v3);
    let msg = &b[34..50];
    assert_eq!(msg.len(), 16);
    assert_eq!(&msg[..6], &[0x31, 51, 150, 2, 0x00, 100]);
    let ph = pseudo(&b[26..30], &b[30..34], 112, msg.len());
    assert_eq!(ones_sum(&[&ph, msg]), 0xffff);
    assert_ne!(ones_sum(&[msg]), 0xffff, "v3 is not a v2 checksum");
    assert_eq!(parse_frame(&b), Ok(v3));
}

#[test]
fn errors_are_reported_not_panicked() {
    let syn = emit_frame(&tcp_syn());
    assert_eq!(
        parse_frame(&syn[..10]),
        Err(WireError::Truncated { layer: "ethernet" })
    );
    assert_eq!(
        parse_frame(&syn[..30]),
        Err(WireError::Truncated { layer: "ipv4" })
    );
    let mut bad = syn.clone();
    bad[40] ^= 1; // sequence number
    assert_eq!(
        parse_frame(&bad),
        Err(WireError::BadChecksum { layer: "tcp" })
    );
    let mut bad = syn.clone();
    bad[22] ^= 1; // TTL
    assert_eq!(
        parse_frame(&bad),
        Err(WireError::BadChecksum { layer: "ipv4" })
    );
    let mut bad = syn.clone();
    bad[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
    let e = parse_frame(&bad).unwrap_err();
    assert_eq!(e, WireError::UnknownEtherType(0x86dd));
    assert_eq!(e.to_string(), "unknown EtherType 0x86dd");
    assert_eq!(
        WireError::BadChecksum { layer: "udp" }.to_string(),
        "bad udp checksum"
    );
}

/// Things a real kernel sends that the lab does not emit still parse.
#[test]
fn real_kernel_variants() {
    // A SYN with 20 bytes of options (MSS, SACK-permitted, timestamps, wscale).
    let syn = emit_frame(&tcp_syn());
    let mut b = syn[..54].to_vec();
    b.extend_from_slice(&hex("020405b4 0402080a 0001e240 00000000 01030307"));
    b[16..18].copy_from_slice(&60u16.to_be_bytes());
    b[24..26].copy_from_slice(&[0, 0]);
    let c = checksum(&b[14..34]);
    b[24..26].copy_from_slice(&c.to_be_bytes());
    b[46] = 10 << 4;
    b[50..52].copy_from_slice(&[0, 0]);
    let c = fold(sum_words(
        &b[34..],
        pseudo_sum(ip("192.168.59.133"), ip("192.168.59.135"), 6, 40),
    ));
    b[50..52].copy_from_slice(&c.to_be_bytes());
    assert_eq!(
        ones_sum(&[&pseudo(&b[26..30], &b[30..34], 6, 40), &b[34..]]),
        0xffff
    );
    assert_eq!(parse_frame(&b), Ok(tcp_syn()));

    // UDP with checksum 0 ("none") is accepted.
    let mut f = tcp_syn();
    if let FramePayload::Ipv4(p) = &mut f.payload {
        p.payload = IpPayload::Udp(UdpDatagram {
            sport: 68,
            dport: 67,
            data: AppData::text("hi"),
        });
    }
    let mut b = emit_frame(&f);
    b[40..42].copy_from_slice(&[0, 0]);
    assert_eq!(parse_frame(&b), Ok(f));

    // An echo with 8 data bytes instead of 56 keeps its id and sequence.
    let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8];
    let c = checksum(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut b = syn[..34].to_vec();
    b[16..18].copy_from_slice(&36u16.to_be_bytes());
    b[23] = 1;
    b[24..26].copy_from_slice(&[0, 0]);
    let c = checksum(&b[14..34]);
    b[24..26].copy_from_slice(&c.to_be_bytes());
    b.extend_from_slice(&icmp);
    let p = parse_frame(&b).unwrap();
    assert_eq!(
        p.ipv4().map(|p| &p.payload),
        Some(&IpPayload::Icmp(IcmpMessage::EchoRequest {
            id: 0x1234,
            seq: 7
        }))
    );
}

#[test]
fn payload_forms() {
    // Opaque goes out as zeros and comes back as bytes; padding is stripped.
    let mut f = tcp_syn();
    if let FramePayload::Ipv4(p) = &mut f.payload {
        p.payload = IpPayload::Udp(UdpDatagram {
            sport: 1,
            dport: 2,
            data: AppData::Opaque(3),
        });
    }
    let b = emit_frame(&f);
    assert_eq!(b.len(), 60);
    let back = parse_frame(&b).unwrap();
    assert_eq!(back.ipv4().unwrap().total_len(), 31);
    assert_eq!(back, normalise(&f));
    // An unknown IP protocol is `Other`.
    if let FramePayload::Ipv4(p) = &mut f.payload {
        p.payload = IpPayload::Other { proto: 47, len: 5 };
    }
    assert_eq!(parse_frame(&emit_frame(&f)), Ok(f));
}

#[test]
fn pcap_ethernet_layout() {
    let mut w = PcapWriter::new(LinkType::Ethernet);
    w.push(SimTime(2_000_000_123), &tcp_syn());
    assert_eq!(w.packets(), 1);
    let b = w.into_bytes();
    assert_eq!(
        &b[..24],
        &hex("4d3cb2a1 0200 0400 00000000 00000000 00000400 01000000")[..]
    );
    assert_eq!(&b[24..40], &hex("02000000 7b000000 3c000000 3c000000")[..]);
    assert_eq!(&b[40..], &hex(SYN_HEX)[..]);
}

#[test]
fn pcap_cooked_layout() {
    let mut w = PcapWriter::new(LinkType::LinuxSll);
    w.push_sll(SimTime(1), &tcp_syn(), SllPacketType::Outgoing);
    w.push(SimTime(2), &arp_request());
    let b = w.into_bytes();
    assert_eq!(&b[20..24], &113u32.to_le_bytes());
    // Record 1: outgoing, unpadded: 16-byte cooked header + 40 IP bytes.
    assert_eq!(&b[24..40], &hex("00000000 01000000 38000000 38000000")[..]);
    assert_eq!(
        &b[40..56],
        &hex("0004 0001 0006 000c29000001 0000 0800")[..]
    );
    assert_eq!(&b[56..96], &hex(SYN_HEX)[14..54]);
    // Record 2: a received broadcast, padded as it arrived.
    let r2 = &b[96..];
    assert_eq!(&r2[..16], &hex("00000000 02000000 3e000000 3e000000")[..]);
    assert_eq!(
        &r2[16..32],
        &hex("0001 0001 0006 000c29000001 0000 0806")[..]
    );
    assert_eq!(&r2[32..], &hex(ARP_HEX)[14..]);
    // An Ethernet capture ignores the cooked packet type.
    let mut e = PcapWriter::new(LinkType::Ethernet);
    e.push_sll(SimTime(0), &arp_request(), SllPacketType::Outgoing);
    assert_eq!(&e.as_bytes()[40..], &hex(ARP_HEX)[..]);
    assert_eq!(
        SllPacketType::incoming(MacAddr::ipv4_multicast(ip("224.0.0.18"))),
        SllPacketType::Multicast
    );
}

// ---------------------------------------------------------------------------
// Round trip

fn norm_data(d: &AppData) -> AppData {
    match d {
        AppData::Opaque(0) => AppData::None,
        AppData::Opaque(n) => AppData::Bytes(Arc::from(vec![0u8; *n as usize])),
        AppData::Bytes(b) if b.is_empty() => AppData::None,
        d => d.clone(),
    }
}

fn norm_ip(p: &Ipv4Packet) -> Ipv4Packet {
    let payload = match &p.payload {
        IpPayload::Tcp(t) => IpPayload::Tcp(TcpSegment {
            data: norm_data(&t.data),
            ..t.clone()
        }),
        IpPayload::Udp(u) => IpPayload::Udp(UdpDatagram {
            data: norm_data(&u.data),
            ..u.clone()
        }),
        IpPayload::Icmp(IcmpMessage::DestUnreachable { code, mtu, quoted }) => {
            IpPayload::Icmp(IcmpMessage::DestUnreachable {
                code: *code,
                mtu: if *code == 4 { *mtu } else { 0 },
                quoted: Box::new(icmp_quote(quoted)),
            })
        }
        IpPayload::Icmp(IcmpMessage::TimeExceeded { quoted }) => {
            IpPayload::Icmp(IcmpMessage::TimeExceeded {
                quoted: Box::new(icmp_quote(quoted)),
            })
        }
        IpPayload::Ipip(inner) => IpPayload::Ipip(Box::new(norm_ip(inner))),
        IpPayload::Vrrp(v) if v.version == 3 => IpPayload::Vrrp(VrrpAdvert {
            auth: VrrpAuth::None,
            ..v.clone()
        }),
        other => other.clone(),
    };
    Ipv4Packet {
        payload,
        ..p.clone()
    }
}

/// What a frame looks like after a trip through bytes.
fn normalise(f: &Frame) -> Frame {
    Frame {
        payload: match &f.payload {
            FramePayload::Arp(a) => FramePayload::Arp(*a),
            FramePayload::Ipv4(p) => FramePayload::Ipv4(norm_ip(p)),
        },
        ..f.clone()
    }
}

fn arb_mac() -> impl Strategy<Value = MacAddr> {
    any::<[u8; 6]>().prop_map(MacAddr)
}

fn arb_ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn arb_data() -> BoxedStrategy<AppData> {
    prop_oneof![
        Just(AppData::None),
        prop::collection::vec(any::<u8>(), 0..80).prop_map(|v| AppData::Bytes(Arc::from(v))),
        (0u32..1400).prop_map(AppData::Opaque),
    ]
    .boxed()
}

fn arb_tcp() -> BoxedStrategy<IpPayload> {
    (any::<(u16, u16, u32, u32, u8, u16)>(), arb_data())
        .prop_map(|((sport, dport, seq, ack, flags, window), data)| {
            IpPayload::Tcp(TcpSegment {
                sport,
                dport,
                seq,
                ack,
                flags: TcpFlags::from_bits(flags),
                window,
                data,
            })
        })
        .boxed()
}

fn arb_leaf() -> BoxedStrategy<IpPayload> {
    let udp = (any::<(u16, u16)>(), arb_data())
        .prop_map(|((sport, dport), data)| IpPayload::Udp(UdpDatagram { sport, dport, data }));
    let echo = (any::<(bool, u16, u16)>()).prop_map(|(req, id, seq)| {
        IpPayload::Icmp(if req {
            IcmpMessage::EchoRequest { id, seq }
        } else {
            IcmpMessage::EchoReply { id, seq }
        })
    });
    let auth = prop_oneof![
        Just(VrrpAuth::None),
        Just(VrrpAuth::Ah),
        any::<[u8; 8]>().prop_map(VrrpAuth::Pass),
    ];
    let v2 = (
        any::<(u8, u8)>(),
        0u16..=255,
        prop::collection::vec(arb_ip(), 0..20),
        auth,
    )
        .prop_map(|((vrid, priority), interval, addrs, auth)| {
            IpPayload::Vrrp(VrrpAdvert {
                version: 2,
                vrid,
                priority,
                interval,
                addrs,
                auth,
            })
        });
    let v3 = (
        any::<(u8, u8)>(),
        0u16..4096,
        prop::collection::vec(arb_ip(), 0..20),
    )
        .prop_map(|((vrid, priority), interval, addrs)| {
            IpPayload::Vrrp(VrrpAdvert {
                version: 3,
                vrid,
                priority,
                interval,
                addrs,
                auth: VrrpAuth::None,
            })
        });
    let other = (
        any::<u8>().prop_filter("unmodelled", |p| ![1, 4, 6, 17, 112].contains(p)),
        0u32..100,
    )
        .prop_map(|(proto, len)| IpPayload::Other { proto, len });
    prop_oneof![arb_tcp(), udp, echo, v2, v3, other].boxed()
}

fn arb_ipv4(payload: impl Strategy<Value = IpPayload>) -> impl Strategy<Value = Ipv4Packet> {
    (arb_ip(), arb_ip(), any::<(u8, u16, u8, bool)>(), payload).prop_map(
        |(src, dst, (ttl, id, tos, df), payload)| Ipv4Packet {
            src,
            dst,
            ttl,
            id,
            tos,
            df,
            payload,
        },
    )
}

fn arb_unreach() -> BoxedStrategy<IpPayload> {
    (any::<u8>(), any::<u16>(), arb_ipv4(arb_leaf()))
        .prop_map(|(code, mtu, quoted)| {
            IpPayload::Icmp(IcmpMessage::DestUnreachable {
                code,
                mtu,
                quoted: Box::new(quoted),
            })
        })
        .boxed()
}

fn arb_payload() -> BoxedStrategy<IpPayload> {
    // Quotes of tunnelled packets and of other ICMP errors, too.
    let exceeded = arb_ipv4(prop_oneof![
        arb_leaf(),
        arb_ipv4(arb_tcp()).prop_map(|p| IpPayload::Ipip(Box::new(p))),
    ])
    .prop_map(|quoted| {
        IpPayload::Icmp(IcmpMessage::TimeExceeded {
            quoted: Box::new(quoted),
        })
    });
    let ipip = arb_ipv4(prop_oneof![arb_tcp(), arb_leaf(), arb_unreach()])
        .prop_map(|p| IpPayload::Ipip(Box::new(p)));
    prop_oneof![4 => arb_leaf(), 1 => arb_unreach(), 1 => exceeded, 1 => ipip].boxed()
}

fn arb_frame() -> BoxedStrategy<Frame> {
    let arp = (any::<bool>(), arb_mac(), arb_ip(), arb_mac(), arb_ip()).prop_map(
        |(req, sha, spa, tha, tpa)| {
            FramePayload::Arp(ArpPacket {
                op: if req { ArpOp::Request } else { ArpOp::Reply },
                sha,
                spa,
                tha,
                tpa,
            })
        },
    );
    let payload = prop_oneof![1 => arp, 4 => arb_ipv4(arb_payload()).prop_map(FramePayload::Ipv4)];
    (arb_mac(), arb_mac(), payload)
        .prop_map(|(src, dst, payload)| Frame { src, dst, payload })
        .boxed()
}

/// Recomputes the outer IPv4 header checksum so mutations reach deeper layers.
fn fix_ip_checksum(b: &mut [u8]) {
    if b.len() >= 34 && b[12..14] == [0x08, 0x00] && b[14] == 0x45 {
        b[24] = 0;
        b[25] = 0;
        let c = checksum(&b[14..34]);
        b[24..26].copy_from_slice(&c.to_be_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip(f in arb_frame()) {
        let bytes = emit_frame(&f);
        prop_assert_eq!(bytes.len(), f.wire_len() as usize);
        let back = parse_frame(&bytes);
        prop_assert_eq!(back, Ok(normalise(&f)));
        if let FramePayload::Ipv4(p) = &f.payload {
            let q = icmp_quote(p);
            prop_assert_eq!(icmp_quote(&q), q.clone(), "quoting is idempotent");
            prop_assert_eq!(q.total_len(), p.total_len(), "a quote keeps the length");
        }
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(b in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_frame(&b);
    }

    #[test]
    fn never_panics_on_ipv4_shaped_bytes(
        proto in prop_oneof![Just(1u8), Just(4), Just(6), Just(17), Just(112), any::<u8>()],
        tail in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut b = vec![0u8; 12];
        b.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
        b.extend_from_slice(&u16::try_from(20 + tail.len()).unwrap().to_be_bytes());
        b.extend_from_slice(&[0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        b.extend_from_slice(&tail);
        fix_ip_checksum(&mut b);
        let _ = parse_frame(&b);
    }

    #[test]
    fn never_panics_on_mutated_frames(
        f in arb_frame(),
        muts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..5),
        cut in any::<Option<prop::sample::Index>>(),
        fix in any::<bool>(),
    ) {
        let mut b = emit_frame(&f);
        for (i, v) in muts {
            let i = i.index(b.len());
            b[i] = v;
        }
        if let Some(c) = cut {
            b.truncate(c.index(b.len() + 1));
        }
        if fix {
            fix_ip_checksum(&mut b);
        }
        if let Ok(g) = parse_frame(&b) {
            // Whatever parses can be emitted again, at the length it claims.
            prop_assert_eq!(emit_frame(&g).len(), g.wire_len() as usize);
            let _ = g.to_string();
        }
    }
}

#[test]
fn pcap_taken_in_pieces_is_the_whole_file() {
    let mut whole = PcapWriter::new(LinkType::LinuxSll);
    let mut pieces = PcapWriter::new(LinkType::LinuxSll);
    let mut out = Vec::new();
    for i in 0..5u64 {
        for w in [&mut whole, &mut pieces] {
            w.push_sll(SimTime(i), &tcp_syn(), SllPacketType::Outgoing);
            w.push(SimTime(i + 1), &arp_request());
        }
        out.extend(pieces.take_bytes());
        assert!(pieces.take_bytes().is_empty(), "nothing held after a take");
    }
    assert_eq!(pieces.packets(), 10);
    assert_eq!(out, whole.into_bytes());
}
