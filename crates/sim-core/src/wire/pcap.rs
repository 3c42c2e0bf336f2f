//! An in-memory pcap file (classic libpcap format, nanosecond timestamps).
//!
//! Layout (all fields little-endian, as written by a little-endian host):
//! a 24-byte global header — magic `0xa1b23c4d` (nanosecond resolution),
//! version 2.4, thiszone 0, sigfigs 0, snaplen 262 144, link type — then per
//! packet a 16-byte record header (seconds, nanoseconds, captured length,
//! original length) and the packet bytes.
//!
//! Link types: 1 (`LINKTYPE_ETHERNET`) stores whole Ethernet frames; 113
//! (`LINKTYPE_LINUX_SLL`, what `tcpdump -i any` writes) replaces the
//! Ethernet header by a 16-byte big-endian "cooked" header: packet type,
//! ARPHRD type (1), address length (6), the source MAC padded to 8 bytes,
//! and the EtherType. No I/O happens here: the caller writes the bytes.

use std::fmt;

use super::{emit_frame, emit_frame_unpadded, ethertype};
use crate::packet::{Frame, MacAddr};
use crate::time::{NS_PER_S, SimTime};

/// The nanosecond-resolution pcap magic number.
pub const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
/// The snapshot length written in the header (tcpdump's default).
pub const SNAPLEN: u32 = 262_144;

/// The link type of a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// `LINKTYPE_ETHERNET` (1).
    Ethernet,
    /// `LINKTYPE_LINUX_SLL` (113), Linux "cooked" capture.
    LinuxSll,
}

impl LinkType {
    /// The number in the pcap header.
    #[must_use]
    pub fn number(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::LinuxSll => 113,
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkType::Ethernet => "EN10MB",
            LinkType::LinuxSll => "LINUX_SLL",
        })
    }
}

/// The packet type of a Linux cooked capture record, as seen by the
/// capturing host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SllPacketType {
    /// 0: sent to us.
    Host,
    /// 1: broadcast by somebody else.
    Broadcast,
    /// 2: multicast by somebody else.
    Multicast,
    /// 3: sent by somebody else to somebody else.
    OtherHost,
    /// 4: sent by us.
    Outgoing,
}

impl SllPacketType {
    /// The number in the cooked header.
    #[must_use]
    pub fn number(self) -> u16 {
        match self {
            SllPacketType::Host => 0,
            SllPacketType::Broadcast => 1,
            SllPacketType::Multicast => 2,
            SllPacketType::OtherHost => 3,
            SllPacketType::Outgoing => 4,
        }
    }

    /// The type of a received frame, from its destination MAC.
    #[must_use]
    pub fn incoming(dst: MacAddr) -> SllPacketType {
        if dst == MacAddr::BROADCAST {
            SllPacketType::Broadcast
        } else if dst.is_group() {
            SllPacketType::Multicast
        } else {
            SllPacketType::Host
        }
    }
}

/// Builds a pcap file in memory.
#[derive(Clone, Debug)]
pub struct PcapWriter {
    linktype: LinkType,
    buf: Vec<u8>,
    packets: usize,
}

impl PcapWriter {
    /// An empty capture (just the global header).
    #[must_use]
    pub fn new(linktype: LinkType) -> Self {
        let mut buf = Vec::with_capacity(4096);
        buf.extend_from_slice(&PCAP_MAGIC_NS.to_le_bytes());
        buf.extend_from_slice(&2u16.to_le_bytes());
        buf.extend_from_slice(&4u16.to_le_bytes());
        buf.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        buf.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        buf.extend_from_slice(&SNAPLEN.to_le_bytes());
        buf.extend_from_slice(&linktype.number().to_le_bytes());
        PcapWriter {
            linktype,
            buf,
            packets: 0,
        }
    }

    /// The capture's link type.
    #[must_use]
    pub fn linktype(&self) -> LinkType {
        self.linktype
    }

    /// How many packets were recorded.
    #[must_use]
    pub fn packets(&self) -> usize {
        self.packets
    }

    /// Records `frame` at `t`. In a cooked capture the packet type follows
    /// from the destination MAC, as for a received frame.
    pub fn push(&mut self, t: SimTime, frame: &Frame) {
        match self.linktype {
            LinkType::Ethernet => {
                let bytes = emit_frame(frame);
                self.record(t, &bytes);
            }
            LinkType::LinuxSll => self.push_sll(t, frame, SllPacketType::incoming(frame.dst)),
        }
    }

    /// Records `frame` at `t` with a cooked-capture packet type. An
    /// Ethernet capture ignores `pkt_type`. Outgoing frames are recorded
    /// without the Ethernet minimum-length padding (the kernel captures them
    /// before the driver pads), received ones with it.
    pub fn push_sll(&mut self, t: SimTime, frame: &Frame, pkt_type: SllPacketType) {
        if self.linktype == LinkType::Ethernet {
            self.push(t, frame);
            return;
        }
        let eth = if pkt_type == SllPacketType::Outgoing {
            emit_frame_unpadded(frame)
        } else {
            emit_frame(frame)
        };
        let mut rec = Vec::with_capacity(eth.len() + 2);
        rec.extend_from_slice(&pkt_type.number().to_be_bytes());
        rec.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
        rec.extend_from_slice(&6u16.to_be_bytes());
        rec.extend_from_slice(&frame.src.0);
        rec.extend_from_slice(&[0, 0]);
        rec.extend_from_slice(&ethertype(frame).to_be_bytes());
        rec.extend_from_slice(eth.get(14..).unwrap_or(&[]));
        self.record(t, &rec);
    }

    fn record(&mut self, t: SimTime, data: &[u8]) {
        let secs = u32::try_from(t.as_nanos() / NS_PER_S).unwrap_or(u32::MAX);
        let nanos = u32::try_from(t.as_nanos() % NS_PER_S).unwrap_or(0);
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&secs.to_le_bytes());
        self.buf.extend_from_slice(&nanos.to_le_bytes());
        self.buf.extend_from_slice(&len.to_le_bytes()); // captured
        self.buf.extend_from_slice(&len.to_le_bytes()); // on the wire
        self.buf.extend_from_slice(data);
        self.packets += 1;
    }

    /// The bytes recorded so far.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The finished file.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes recorded since the last take (the global header first),
    /// leaving none held: a front end writes a long capture out piece by
    /// piece; the pieces in order are the file.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}
