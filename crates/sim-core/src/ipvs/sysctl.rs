//! `/proc/sys/net/ipv4/vs/*` and the protocol timeout tables.

use std::collections::BTreeMap;

use super::conn::TcpState;

/// The IPVS sysctls (`net.ipv4.vs.*`). Five change behaviour in the lab;
/// the others are kept (with their kernel defaults, §2.10) so a shell can
/// read and write them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VsSysctls {
    /// `expire_nodest_conn` (0).
    pub expire_nodest_conn: i32,
    /// `expire_quiescent_template` (0).
    pub expire_quiescent_template: i32,
    /// `conn_reuse_mode` (1).
    pub conn_reuse_mode: i32,
    /// `sloppy_tcp` (0).
    pub sloppy_tcp: i32,
    /// `cache_bypass` (0).
    pub cache_bypass: i32,
    others: BTreeMap<&'static str, String>,
}

const OTHERS: &[(&str, &str)] = &[
    ("am_droprate", "10"),
    ("amemthresh", "1024"),
    ("backup_only", "0"),
    ("conntrack", "0"),
    ("drop_entry", "0"),
    ("drop_packet", "0"),
    ("ignore_tunneled", "0"),
    ("lblc_expiration", "86400"),
    ("lblcr_expiration", "86400"),
    ("nat_icmp_send", "0"),
    ("pmtu_disc", "1"),
    ("run_estimation", "1"),
    ("schedule_icmp", "0"),
    ("secure_tcp", "0"),
    ("sloppy_sctp", "0"),
    ("snat_reroute", "1"),
    ("sync_persist_mode", "0"),
    ("sync_ports", "1"),
    ("sync_threshold", "3\t50"),
    ("sync_version", "1"),
];

impl Default for VsSysctls {
    fn default() -> Self {
        VsSysctls {
            expire_nodest_conn: 0,
            expire_quiescent_template: 0,
            conn_reuse_mode: 1,
            sloppy_tcp: 0,
            cache_bypass: 0,
            others: OTHERS.iter().map(|&(k, v)| (k, v.to_string())).collect(),
        }
    }
}

impl VsSysctls {
    /// Every name, sorted (what `ls /proc/sys/net/ipv4/vs` shows).
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.others.keys().copied().collect();
        v.extend([
            "cache_bypass",
            "conn_reuse_mode",
            "expire_nodest_conn",
            "expire_quiescent_template",
            "sloppy_tcp",
        ]);
        v.sort_unstable();
        v
    }

    fn typed(&mut self, name: &str) -> Option<&mut i32> {
        Some(match name {
            "expire_nodest_conn" => &mut self.expire_nodest_conn,
            "expire_quiescent_template" => &mut self.expire_quiescent_template,
            "conn_reuse_mode" => &mut self.conn_reuse_mode,
            "sloppy_tcp" => &mut self.sloppy_tcp,
            "cache_bypass" => &mut self.cache_bypass,
            _ => return None,
        })
    }

    /// The value as `cat` prints it (without the newline), `None` if unknown.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<String> {
        let v = match name {
            "expire_nodest_conn" => self.expire_nodest_conn,
            "expire_quiescent_template" => self.expire_quiescent_template,
            "conn_reuse_mode" => self.conn_reuse_mode,
            "sloppy_tcp" => self.sloppy_tcp,
            "cache_bypass" => self.cache_bypass,
            _ => return self.others.get(name).cloned(),
        };
        Some(v.to_string())
    }

    /// Writes `value` (surrounding whitespace ignored, as `echo 1 >` does).
    ///
    /// # Errors
    /// `No such file or directory` for an unknown name, `Invalid argument`
    /// for a value that is not an integer.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let v = value.trim();
        if let Some(slot) = self.typed(name) {
            *slot = v
                .parse::<i32>()
                .map_err(|_| "Invalid argument".to_string())?;
            return Ok(());
        }
        let key = OTHERS
            .iter()
            .map(|&(k, _)| k)
            .find(|k| *k == name)
            .ok_or_else(|| "No such file or directory".to_string())?;
        if key != "sync_threshold" && v.parse::<i64>().is_err() {
            return Err("Invalid argument".into());
        }
        self.others.insert(key, v.to_string());
        Ok(())
    }
}

/// Protocol state timeouts in seconds (`ip_vs_proto_tcp.c` / `_udp.c`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Indexed by [`TcpState`] number.
    pub tcp: [u32; 11],
    /// UDP (one state).
    pub udp: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp: [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120],
            udp: 300,
        }
    }
}

impl Timeouts {
    /// `ipvsadm --set tcp tcpfin udp` (0 = keep).
    pub fn set(&mut self, tcp: u32, tcpfin: u32, udp: u32) {
        if tcp != 0 {
            self.tcp[TcpState::Established as usize] = tcp;
        }
        if tcpfin != 0 {
            self.tcp[TcpState::FinWait as usize] = tcpfin;
        }
        if udp != 0 {
            self.udp = udp;
        }
    }
    /// `(tcp, tcpfin, udp)` as `ipvsadm -L --timeout` prints them.
    #[must_use]
    pub fn get(&self) -> (u32, u32, u32) {
        (
            self.tcp[TcpState::Established as usize],
            self.tcp[TcpState::FinWait as usize],
            self.udp,
        )
    }
}
