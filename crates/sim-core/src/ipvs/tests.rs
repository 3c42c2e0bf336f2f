//! Tests of the control plane (`table.rs`), `ipvsadm` (command line, error
//! messages, exit statuses, byte-exact listings) and the data plane
//! (`path.rs`: state machine, timers, templates, thresholds, trash,
//! connection reuse, statistics and the rate estimator).
//!
//! Expected values come from `shared/reference/lvs-semantics.md` §1.0, §2,
//! §3 and §7, checked against ipvsadm 1.31 (`ipvsadm.c`, `libipvs.c`,
//! `config_stream.c`) and the kernel (`ip_vs_core.c`, `ip_vs_conn.c`,
//! `ip_vs_ctl.c`, `ip_vs_proto_tcp.c`, `ip_vs_est.c`).
//!
//! Listings are compared with golden files under `tests/golden/ipvsadm/`
//! (`UPDATE_GOLDEN=1` rewrites them; review the diff).

mod cli;
mod dataplane;
mod output;
mod props;

use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::ipvsadm::{self, CmdOutput};
use super::{Dest, InVerdict, Ipvs, OutVerdict, PacketMeta, Protocol, TcpFlags};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// One director: its IPVS, the virtual clock and the scheduler rng.
pub(super) struct Lab {
    pub ipvs: Ipvs,
    pub now: SimTime,
    pub rng: SimRng,
}

/// `"a.b.c.d:port"` → address and port.
pub(super) fn ap(s: &str) -> (Ipv4Addr, u16) {
    let (a, p) = s.rsplit_once(':').expect("addr:port");
    (a.parse().expect("address"), p.parse().expect("port"))
}

/// The flags of a TCP segment, written like tcpdump: `S`, `S.`, `.`, `F.`, `R`, `` (none).
pub(super) fn flags(f: &str) -> TcpFlags {
    TcpFlags {
        syn: f.contains('S'),
        ack: f.contains('.'),
        fin: f.contains('F'),
        rst: f.contains('R'),
    }
}

impl Lab {
    pub fn new() -> Lab {
        Lab {
            ipvs: Ipvs::new(),
            now: SimTime::ZERO,
            rng: crate::rng::stream(7, "ipvs-tests"),
        }
    }

    /// Runs one ipvsadm command line (words split at spaces).
    pub fn adm(&mut self, line: &str) -> CmdOutput {
        let args: Vec<&str> = line.split_whitespace().collect();
        ipvsadm::run(&mut self.ipvs, self.now, &args, None)
    }

    /// `ipvsadm -R` with `stdin`.
    pub fn restore(&mut self, stdin: &str) -> CmdOutput {
        ipvsadm::run(&mut self.ipvs, self.now, &["-R"], Some(stdin))
    }

    /// Runs a command that must succeed silently or with output only.
    pub fn ok(&mut self, line: &str) -> String {
        let o = self.adm(line);
        assert_eq!(
            (o.status, o.stderr.as_str()),
            (0, ""),
            "ipvsadm {line} failed"
        );
        o.stdout
    }

    /// Moves the clock forward by `s` seconds (and runs timers).
    pub fn wait(&mut self, s: u64) {
        self.wait_ms(s * 1000);
    }

    pub fn wait_ms(&mut self, ms: u64) {
        self.now += SimDuration::from_millis(ms);
        self.ipvs.advance(self.now);
    }

    fn meta(proto: Protocol, src: &str, dst: &str, f: TcpFlags) -> PacketMeta {
        let (saddr, sport) = ap(src);
        let (daddr, dport) = ap(dst);
        PacketMeta {
            proto,
            saddr,
            sport,
            daddr,
            dport,
            flags: f,
            len: 60,
            fwmark: 0,
        }
    }

    /// A TCP segment client → VIP arriving at LOCAL_IN.
    pub fn tcp(&mut self, client: &str, vip: &str, f: &str) -> InVerdict {
        let m = Self::meta(Protocol::Tcp, client, vip, flags(f));
        self.ipvs.in_packet(self.now, &m, &mut self.rng)
    }

    /// A TCP segment real server → client arriving at FORWARD.
    pub fn tcp_reply(&mut self, rs: &str, client: &str, f: &str) -> OutVerdict {
        let m = Self::meta(Protocol::Tcp, rs, client, flags(f));
        self.ipvs.out_packet(self.now, &m)
    }

    /// A UDP datagram client → VIP.
    pub fn udp(&mut self, client: &str, vip: &str) -> InVerdict {
        let m = Self::meta(Protocol::Udp, client, vip, TcpFlags::NONE);
        self.ipvs.in_packet(self.now, &m, &mut self.rng)
    }

    /// A packet with a netfilter mark.
    pub fn marked(&mut self, client: &str, dst: &str, f: &str, mark: u32) -> InVerdict {
        let mut m = Self::meta(Protocol::Tcp, client, dst, flags(f));
        m.fwmark = mark;
        self.ipvs.in_packet(self.now, &m, &mut self.rng)
    }

    /// The dest `rs` (`addr:port`) of the first service that has it.
    pub fn dest(&self, rs: &str) -> &Dest {
        let (a, p) = ap(rs);
        self.ipvs
            .dests
            .iter()
            .flatten()
            .find(|d| d.addr == a && d.port == p)
            .unwrap_or_else(|| panic!("no dest {rs}"))
    }

    /// `(ActiveConn, InActConn, PersistConn)` of `rs`.
    pub fn counts(&self, rs: &str) -> (u32, u32, u32) {
        let d = self.dest(rs);
        (d.activeconns, d.inactconns, d.persistconns)
    }

    /// The `ipvsadm -lnc` rows without the two title lines.
    pub fn conns(&mut self) -> Vec<String> {
        self.ok("-lnc")
            .lines()
            .skip(2)
            .map(str::to_string)
            .collect()
    }
}

/// The address a forward verdict sends to (panics on anything else).
pub(super) fn fwd_to(v: &InVerdict) -> String {
    match v {
        InVerdict::Forward { daddr, dport, .. } => format!("{daddr}:{dport}"),
        other => panic!("expected Forward, got {other:?}"),
    }
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/golden/ipvsadm")
        .join(name)
}

/// Compares `actual` with `tests/golden/ipvsadm/<name>`; `UPDATE_GOLDEN=1`
/// rewrites the file (temp file + rename) instead.
pub(super) fn golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        let dir = path.parent().expect("golden folder");
        std::fs::create_dir_all(dir).expect("create the golden folder");
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, actual).expect("write the golden file");
        std::fs::rename(&tmp, &path).expect("rename the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1 and review the diff",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs (UPDATE_GOLDEN=1 regenerates; review with git diff)\n--- expected\n{expected}--- actual\n{actual}",
        path.display()
    );
}
