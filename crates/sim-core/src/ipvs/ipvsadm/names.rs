//! Name resolution for ipvsadm without `-n`: hosts through a caller-supplied
//! resolver (the lab has no DNS), ports through a built-in `/etc/services`.

use std::net::Ipv4Addr;

/// Host name lookups (`gethostbyaddr` / `gethostbyname` in the real tool).
pub trait Names {
    /// The name of `a`, if the lab knows one (e.g. from a host's /etc/hosts).
    fn host(&self, a: Ipv4Addr) -> Option<String>;
    /// The address of `name` (for `-t lvs:http`); none by default.
    fn addr(&self, _name: &str) -> Option<Ipv4Addr> {
        None
    }
}

/// A resolver that knows no names (everything prints numerically).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNames;

impl Names for NoNames {
    fn host(&self, _a: Ipv4Addr) -> Option<String> {
        None
    }
}

/// `(name, port, tcp, udp)` from a stock `/etc/services`.
const SERVICES: &[(&str, u16, bool, bool)] = &[
    ("ftp-data", 20, true, false),
    ("ftp", 21, true, false),
    ("ssh", 22, true, false),
    ("telnet", 23, true, false),
    ("smtp", 25, true, false),
    ("domain", 53, true, true),
    ("bootps", 67, false, true),
    ("bootpc", 68, false, true),
    ("tftp", 69, false, true),
    ("http", 80, true, false),
    ("kerberos", 88, true, true),
    ("pop3", 110, true, false),
    ("ntp", 123, false, true),
    ("imap", 143, true, false),
    ("snmp", 161, false, true),
    ("ldap", 389, true, false),
    ("https", 443, true, false),
    ("syslog", 514, false, true),
    ("imaps", 993, true, false),
    ("pop3s", 995, true, false),
    ("mysql", 3306, true, false),
    ("sip", 5060, true, true),
    ("postgresql", 5432, true, false),
    ("http-alt", 8080, true, false),
];

/// `getservbyport(port, proto)` for protocol numbers 6 and 17.
#[must_use]
pub fn port_to_service(port: u16, proto: u8) -> Option<&'static str> {
    SERVICES
        .iter()
        .find(|&&(_, p, t, u)| p == port && ((proto == 6 && t) || (proto == 17 && u)))
        .map(|&(n, ..)| n)
}

/// `getservbyname(name, proto)`.
#[must_use]
pub fn service_to_port(name: &str, proto: u8) -> Option<u16> {
    SERVICES
        .iter()
        .find(|&&(n, _, t, u)| n == name && ((proto == 6 && t) || (proto == 17 && u)))
        .map(|&(_, p, ..)| p)
}
