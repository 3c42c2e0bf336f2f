//! What the kernel backend needs from a scenario file: segments, hosts with
//! their interfaces (name, segment, address, MAC), gateways, `files` and
//! the `setup` command lines (with their line numbers in the file).
//!
//! The scenario is first loaded by [`sim_core::scenario::load`], which
//! validates it and reports errors as `file:line:col`; this module then
//! reads the few fields it needs from the same text. MAC addresses that
//! the file leaves out are taken from the simulator's world, so both sides
//! use the same ones.

use std::collections::BTreeMap;

use serde::Deserialize;
use sim_core::shell::lex;
use sim_core::world::World;
use toml::Spanned;

/// One interface as installed (before any setup command).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Iface {
    /// Name inside the host (`ens33`).
    pub name: String,
    /// Index of its segment in [`Topology::segments`].
    pub segment: usize,
    /// `A.B.C.D/P`, if any.
    pub address: Option<String>,
    /// MAC address (`00:0c:29:…`).
    pub mac: String,
}

/// One setup command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupLine {
    /// 1-based line in the scenario file.
    pub line: usize,
    /// The command (prompt stripped).
    pub text: String,
    /// Here-document body.
    pub heredoc: Option<String>,
}

/// One host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    /// Name in the scenario.
    pub name: String,
    /// Interfaces.
    pub ifaces: Vec<Iface>,
    /// Default gateway.
    pub gateway: Option<String>,
    /// Files given in the scenario (`[host.files]`).
    pub files: BTreeMap<String, String>,
    /// Setup command lines in order.
    pub setup: Vec<SetupLine>,
}

/// The topology and setup of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Scenario name.
    pub name: String,
    /// Segment names.
    pub segments: Vec<String>,
    /// Hosts in file order.
    pub hosts: Vec<Host>,
    /// `[[action]]` commands in file order: (line, command).
    pub actions: Vec<(usize, String)>,
}

impl Topology {
    /// Hosts whose setup runs `ipvsadm` (the directors).
    #[must_use]
    pub fn directors(&self) -> Vec<&str> {
        self.hosts
            .iter()
            .filter(|h| {
                h.setup
                    .iter()
                    .any(|l| l.text.split_whitespace().any(|w| w == "ipvsadm"))
            })
            .map(|h| h.name.as_str())
            .collect()
    }
}

#[derive(Deserialize)]
struct Doc {
    scenario: Meta,
    #[serde(default)]
    segment: Vec<SegDoc>,
    #[serde(default)]
    host: Vec<HostDoc>,
    #[serde(default)]
    action: Vec<ActionDoc>,
}

#[derive(Deserialize)]
struct ActionDoc {
    run: Spanned<String>,
}

#[derive(Deserialize)]
struct Meta {
    name: String,
}

#[derive(Deserialize)]
struct SegDoc {
    name: String,
}

#[derive(Deserialize)]
struct IfaceDoc {
    name: String,
    segment: String,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    mac: Option<String>,
}

#[derive(Deserialize)]
struct HostDoc {
    name: String,
    #[serde(default)]
    interfaces: Vec<IfaceDoc>,
    #[serde(default)]
    gateway: Option<String>,
    #[serde(default)]
    setup: Option<Spanned<String>>,
    #[serde(default)]
    files: BTreeMap<String, String>,
}

/// 1-based line of byte `offset` in `src`.
fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())].matches('\n').count() + 1
}

/// Reads the topology of a scenario that `sim_core::scenario::load` has
/// already accepted; `world` is that load's world (for default MACs).
///
/// # Errors
/// A message if the text does not parse (it cannot, once `load` accepted it).
pub fn read(src: &str, world: &World) -> Result<Topology, String> {
    let doc: Doc = toml::from_str(src).map_err(|e| e.message().to_string())?;
    let segments: Vec<String> = doc.segment.into_iter().map(|s| s.name).collect();
    let mut hosts = Vec::new();
    for hd in doc.host {
        let wh = world.host_id(&hd.name).map(|h| &world.hosts[h]);
        let mut ifaces = Vec::new();
        for i in hd.interfaces {
            let segment = segments
                .iter()
                .position(|s| *s == i.segment)
                .ok_or_else(|| format!("unknown segment `{}`", i.segment))?;
            let mac = match (i.mac, wh.and_then(|h| h.iface_by_name(&i.name))) {
                (Some(m), _) => m.to_ascii_lowercase(),
                (None, Some(ix)) => wh.map_or_else(String::new, |h| h.ifaces[ix].mac.to_string()),
                (None, None) => return Err(format!("no MAC for {}/{}", hd.name, i.name)),
            };
            ifaces.push(Iface {
                name: i.name,
                segment,
                address: i.address,
                mac,
            });
        }
        let mut setup = Vec::new();
        if let Some(s) = &hd.setup {
            let span = s.span();
            let raw = &src[span.start.min(src.len())..span.end.min(src.len())];
            let skip = usize::from(
                raw.starts_with("\"\"\"\n")
                    || raw.starts_with("'''\n")
                    || raw.starts_with("\"\"\"\r\n")
                    || raw.starts_with("'''\r\n"),
            );
            let first = line_of(src, span.start) + skip;
            let lines = lex::split_script(s.get_ref())
                .map_err(|(l, _, m)| format!("line {}: {m}", first + l - 1))?;
            for sl in lines {
                setup.push(SetupLine {
                    line: first + sl.line - 1,
                    text: sl.text,
                    heredoc: sl.heredoc,
                });
            }
        }
        hosts.push(Host {
            name: hd.name,
            ifaces,
            gateway: hd.gateway,
            files: hd.files,
            setup,
        });
    }
    let actions = doc
        .action
        .iter()
        .map(|a| (line_of(src, a.run.span().start), a.run.get_ref().clone()))
        .collect();
    Ok(Topology {
        name: doc.scenario.name,
        segments,
        hosts,
        actions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::trace::TraceLevel;

    const SRC: &str = r#"[scenario]
name = "t"
seed = 1

[[segment]]
name = "lan"

[[host]]
name = "lvs"
interfaces = [{ name = "ens33", segment = "lan", address = "10.0.0.1/24" }]
setup = """
[root@lvs ~]# ipvsadm -A -t 10.0.0.100:80 -s rr
echo 1 > /proc/sys/net/ipv4/ip_forward
"""

[[host]]
name = "rs1"
interfaces = [{ name = "eth0", segment = "lan", address = "10.0.0.11/24", mac = "52:54:00:AA:00:01" }]
gateway = "10.0.0.1"
"#;

    #[test]
    fn reads_hosts_lines_and_macs() {
        let sc = sim_core::scenario::load("t.toml", SRC, TraceLevel::Events, None).unwrap();
        let t = read(SRC, &sc.world).unwrap();
        assert_eq!(t.segments, ["lan"]);
        assert_eq!(t.hosts.len(), 2);
        let lvs = &t.hosts[0];
        assert_eq!(lvs.setup[0].line, 12);
        assert_eq!(lvs.setup[0].text, "ipvsadm -A -t 10.0.0.100:80 -s rr");
        assert_eq!(lvs.setup[1].line, 13);
        // default MAC comes from the simulator's world
        let wm = sc.world.hosts[0].ifaces[1].mac.to_string();
        assert_eq!(lvs.ifaces[0].mac, wm);
        assert_eq!(t.hosts[1].ifaces[0].mac, "52:54:00:aa:00:01");
        assert_eq!(t.hosts[1].gateway.as_deref(), Some("10.0.0.1"));
        assert_eq!(t.directors(), ["lvs"]);
    }
}
