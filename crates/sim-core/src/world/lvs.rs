//! Glue between the host stack and IPVS: the LOCAL_IN and FORWARD hooks,
//! `ipvsadm` and the `net.ipv4.vs.*` sysctls.

use super::World;
use crate::host::HostId;
use crate::packet::Ipv4Packet;

impl World {
    /// IPVS at LOCAL_IN (priority 99). Returns the packet when IPVS lets it
    /// continue to the local stack; `None` when IPVS took it.
    pub(crate) fn ipvs_local_in(
        &mut self,
        _h: HostId,
        _iface: usize,
        p: Ipv4Packet,
        _mark: u32,
    ) -> Option<Ipv4Packet> {
        Some(p)
    }

    /// IPVS at FORWARD (priority 100): NAT replies.
    pub(crate) fn ipvs_forward(&mut self, _h: HostId, p: Ipv4Packet) -> Option<Ipv4Packet> {
        Some(p)
    }
}

/// `ipvsadm …` on host `h`.
pub fn ipvsadm(
    _w: &mut World,
    _h: HostId,
    _args: &[&str],
    _stdin: Option<&str>,
) -> crate::shell::CmdOutput {
    crate::shell::CmdOutput::fail(2, "ipvsadm: not yet wired")
}

/// `echo V > /proc/sys/net/ipv4/vs/KEY`.
pub fn vs_sysctl_set(_w: &mut World, _h: HostId, key: &str, _v: &str) -> crate::shell::CmdOutput {
    crate::shell::CmdOutput::fail(
        1,
        format!("bash: /proc/sys/{key}: No such file or directory"),
    )
}

/// `sysctl net.ipv4.vs.KEY`.
pub fn vs_sysctl_get(_w: &World, _h: HostId, _key: &str) -> Option<String> {
    None
}

impl World {
    /// `poweroff`: the host stops at once (no goodbye adverts).
    pub fn power_off(&mut self, h: HostId) {
        self.hosts[h].powered = false;
        self.hosts[h].services.httpd = false;
    }
}
