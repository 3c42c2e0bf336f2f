//! `/proc/sys` values a host keeps: `net.ipv4.ip_forward` and the
//! per-interface `net.ipv4.conf.<if>.*` keys the lab models. IPVS's own keys
//! (`net.ipv4.vs.*`) live with IPVS.
//!
//! Defaults are the kernel's (not a distribution's sysctl.d files).

use std::collections::BTreeMap;

/// Per-interface keys and their kernel defaults.
pub const CONF_KEYS: &[(&str, &str)] = &[
    ("accept_local", "0"),
    ("arp_accept", "0"),
    ("arp_announce", "0"),
    ("arp_filter", "0"),
    ("arp_ignore", "0"),
    ("arp_notify", "0"),
    ("forwarding", "0"),
    ("rp_filter", "0"),
    ("send_redirects", "1"),
];

/// Global keys under `net.ipv4` and their defaults.
pub const GLOBAL_KEYS: &[(&str, &str)] = &[
    ("net.ipv4.ip_forward", "0"),
    ("net.ipv4.ip_local_port_range", "32768\t60999"),
    ("net.ipv4.tcp_syn_retries", "6"),
    ("net.ipv4.tcp_fin_timeout", "60"),
    ("net.ipv4.neigh.default.base_reachable_time_ms", "30000"),
    ("net.ipv4.neigh.default.delay_first_probe_time", "5"),
    ("net.ipv4.neigh.default.retrans_time_ms", "1000"),
    ("net.ipv4.neigh.default.mcast_solicit", "3"),
    ("net.ipv4.neigh.default.ucast_solicit", "3"),
    ("net.ipv4.neigh.default.gc_stale_time", "60"),
];

/// The sysctl tree of one host.
#[derive(Clone, Debug)]
pub struct Sysctls {
    values: BTreeMap<String, String>,
}

impl Sysctls {
    /// Defaults for `all`, `default` and the given interfaces.
    #[must_use]
    pub fn new(ifaces: &[&str]) -> Self {
        let mut s = Sysctls {
            values: BTreeMap::new(),
        };
        for (k, v) in GLOBAL_KEYS {
            s.values.insert((*k).to_string(), (*v).to_string());
        }
        for dev in ["all", "default"].iter().chain(ifaces.iter()) {
            s.add_conf(dev, None);
        }
        s
    }

    fn add_conf(&mut self, dev: &str, from_default: Option<&Self>) {
        for (k, v) in CONF_KEYS {
            let val = from_default
                .and_then(|d| d.values.get(&format!("net.ipv4.conf.default.{k}")).cloned())
                .unwrap_or_else(|| (*v).to_string());
            self.values.insert(format!("net.ipv4.conf.{dev}.{k}"), val);
        }
    }

    /// A new interface inherits `conf/default`, as in the kernel.
    pub fn add_iface(&mut self, dev: &str) {
        let snapshot = self.clone();
        self.add_conf(dev, Some(&snapshot));
    }

    /// Normalises `net/ipv4/ip_forward`, `/proc/sys/net/ipv4/ip_forward` and
    /// `net.ipv4.ip_forward` to the dotted form.
    #[must_use]
    pub fn normalise(key: &str) -> String {
        let k = key
            .trim()
            .trim_start_matches("/proc/sys/")
            .trim_start_matches('/');
        if k.contains('/') {
            k.replace('/', ".")
        } else {
            k.to_string()
        }
    }

    /// The value of a key (dotted, slashed or /proc path).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(&Self::normalise(key)).map(String::as_str)
    }

    /// Does the key exist?
    #[must_use]
    pub fn has(&self, key: &str) -> bool {
        self.values.contains_key(&Self::normalise(key))
    }

    /// Sets a key that exists. Writing `net.ipv4.conf.all.forwarding` or
    /// `ip_forward` keeps both in step, as the kernel does.
    ///
    /// # Errors
    /// The key does not exist (message as `sysctl` prints it), or the value
    /// is not an integer where one is needed.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let k = Self::normalise(key);
        if !self.values.contains_key(&k) {
            return Err(format!(
                "sysctl: cannot stat /proc/sys/{}: No such file or directory",
                k.replace('.', "/")
            ));
        }
        let v = value.trim().to_string();
        if k != "net.ipv4.ip_local_port_range" && v.parse::<i64>().is_err() {
            return Err(format!("sysctl: setting key \"{k}\": Invalid argument"));
        }
        if k == "net.ipv4.ip_forward" || k == "net.ipv4.conf.all.forwarding" {
            self.values.insert("net.ipv4.ip_forward".into(), v.clone());
            let devs: Vec<String> = self
                .values
                .keys()
                .filter_map(|x| {
                    x.strip_prefix("net.ipv4.conf.")?
                        .strip_suffix(".forwarding")
                })
                .map(str::to_string)
                .collect();
            for d in devs {
                self.values
                    .insert(format!("net.ipv4.conf.{d}.forwarding"), v.clone());
            }
            return Ok(());
        }
        self.values.insert(k, v);
        Ok(())
    }

    /// An integer key (0 if missing or not a number).
    #[must_use]
    pub fn int(&self, key: &str) -> i64 {
        self.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// `max(conf/all/<key>, conf/<dev>/<key>)`, the rule for arp_ignore,
    /// arp_announce and rp_filter.
    #[must_use]
    pub fn conf_max(&self, dev: &str, key: &str) -> i64 {
        self.int(&format!("net.ipv4.conf.all.{key}"))
            .max(self.int(&format!("net.ipv4.conf.{dev}.{key}")))
    }

    /// `net.ipv4.ip_forward`.
    #[must_use]
    pub fn ip_forward(&self) -> bool {
        self.int("net.ipv4.ip_forward") != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_dots_are_the_same_key() {
        let mut s = Sysctls::new(&["lo", "ens33"]);
        s.set("/proc/sys/net/ipv4/conf/all/arp_ignore", "1")
            .unwrap();
        assert_eq!(s.get("net.ipv4.conf.all.arp_ignore"), Some("1"));
        assert_eq!(s.conf_max("ens33", "arp_ignore"), 1);
        assert!(
            s.set("net.ipv4.nope", "1")
                .unwrap_err()
                .contains("cannot stat")
        );
    }

    #[test]
    fn forwarding_follows_ip_forward() {
        let mut s = Sysctls::new(&["lo", "eth0"]);
        s.set("net.ipv4.ip_forward", "1").unwrap();
        assert_eq!(s.get("net.ipv4.conf.eth0.forwarding"), Some("1"));
        assert!(s.ip_forward());
    }

    #[test]
    fn new_interfaces_inherit_default() {
        let mut s = Sysctls::new(&["lo"]);
        s.set("net.ipv4.conf.default.arp_ignore", "2").unwrap();
        s.add_iface("eth1");
        assert_eq!(s.get("net.ipv4.conf.eth1.arp_ignore"), Some("2"));
    }
}
