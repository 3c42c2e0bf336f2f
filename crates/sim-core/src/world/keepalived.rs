//! Glue between the host stack and keepalived: VRRP adverts received,
//! checker results, `systemctl … keepalived` and `keepalived` run by hand.

use std::net::Ipv4Addr;

use super::World;
use crate::host::HostId;
use crate::packet::VrrpAdvert;

impl World {
    /// A VRRP advertisement arrived.
    pub(crate) fn vrrp_rcv(
        &mut self,
        _h: HostId,
        _iface: usize,
        _src: Ipv4Addr,
        _ttl: u8,
        _v: VrrpAdvert,
    ) {
    }

    /// A keepalived checker finished.
    pub(crate) fn checker_result(&mut self, _h: HostId, _checker: usize, _ok: bool, _why: &str) {}
}

/// `keepalived …` run by hand.
pub fn keepalived_cmd(_w: &mut World, _h: HostId, _args: &[&str]) -> crate::shell::CmdOutput {
    crate::shell::CmdOutput::noted("run keepalived with `systemctl start keepalived`")
}

/// `systemctl VERB keepalived`.
pub fn keepalived_systemctl(_w: &mut World, _h: HostId, _verb: &str) -> crate::shell::CmdOutput {
    crate::shell::CmdOutput::fail(5, "Failed: keepalived is not yet modelled")
}
