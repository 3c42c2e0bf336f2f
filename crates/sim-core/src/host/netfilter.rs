//! Netfilter: the five hooks and users' iptables rules (filter and mangle
//! tables), plus the `iptables` command that edits them.
//!
//! Hook order on a host (IPv4), as in the kernel:
//! PREROUTING (mangle −150) → routing → INPUT (mangle −150, filter 0,
//! IPVS 99) or FORWARD (mangle −150, filter 0, IPVS 100) → … and for locally
//! sent packets OUTPUT (mangle −150, filter 0) → POSTROUTING (mangle −150).
//! The world calls [`Netfilter::run`] for the user tables at each hook and
//! records every traversal in the trace.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::packet::in_subnet;

/// A netfilter hook point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hook {
    /// NF_INET_PRE_ROUTING
    PreRouting,
    /// NF_INET_LOCAL_IN
    Input,
    /// NF_INET_FORWARD
    Forward,
    /// NF_INET_LOCAL_OUT
    Output,
    /// NF_INET_POST_ROUTING
    PostRouting,
}

impl Hook {
    /// The iptables chain name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Hook::PreRouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::PostRouting => "POSTROUTING",
        }
    }
}

/// The outcome of a hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Continue.
    Accept,
    /// Silently discard.
    Drop,
    /// Discard and answer with ICMP port unreachable (or TCP RST).
    Reject,
    /// Taken over by a hook (IPVS transmits DR/TUN/NAT requests itself).
    Stolen,
}

impl Verdict {
    /// Upper-case name for traces.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Accept => "ACCEPT",
            Verdict::Drop => "DROP",
            Verdict::Reject => "REJECT",
            Verdict::Stolen => "STOLEN",
        }
    }
}

/// The fields rules match on.
#[derive(Clone, Debug, Default)]
pub struct PktInfo {
    /// IP protocol number.
    pub proto: u8,
    /// Source address.
    pub src: Option<Ipv4Addr>,
    /// Destination address.
    pub dst: Option<Ipv4Addr>,
    /// Source port (TCP/UDP).
    pub sport: Option<u16>,
    /// Destination port (TCP/UDP).
    pub dport: Option<u16>,
    /// Input interface.
    pub in_if: Option<String>,
    /// Output interface.
    pub out_if: Option<String>,
    /// skb mark (fwmark).
    pub mark: u32,
    /// IP total length (for counters).
    pub len: u32,
}

/// A rule target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// ACCEPT
    Accept,
    /// DROP
    Drop,
    /// REJECT (icmp-port-unreachable)
    Reject,
    /// MARK --set-mark N
    Mark(u32),
    /// LOG [--log-prefix P]
    Log(String),
    /// Jump to a user chain.
    Jump(String),
}

/// One rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rule {
    /// `-p`, with `!`.
    pub proto: Option<(bool, u8)>,
    /// `-s`, with `!`.
    pub src: Option<(bool, Ipv4Addr, u8)>,
    /// `-d`, with `!`.
    pub dst: Option<(bool, Ipv4Addr, u8)>,
    /// `--sport`.
    pub sport: Option<(u16, u16)>,
    /// `--dport`.
    pub dport: Option<(u16, u16)>,
    /// `-i`.
    pub in_if: Option<String>,
    /// `-o`.
    pub out_if: Option<String>,
    /// `-j`.
    pub target: Option<Target>,
    /// Packets matched.
    pub pkts: u64,
    /// Bytes matched.
    pub bytes: u64,
}

impl Rule {
    fn matches(&self, p: &PktInfo) -> bool {
        fn ifm(pat: &str, v: Option<&String>) -> bool {
            v.is_some_and(|v| match pat.strip_suffix('+') {
                Some(pre) => v.starts_with(pre),
                None => v == pat,
            })
        }
        if let Some((neg, n)) = self.proto
            && (p.proto == n) == neg
        {
            return false;
        }
        for (m, a) in [(self.src, p.src), (self.dst, p.dst)] {
            if let Some((neg, net, pre)) = m {
                let hit = a.is_some_and(|a| in_subnet(a, net, pre));
                if hit == neg {
                    return false;
                }
            }
        }
        for (m, v) in [(self.sport, p.sport), (self.dport, p.dport)] {
            if let Some((lo, hi)) = m
                && !v.is_some_and(|v| v >= lo && v <= hi)
            {
                return false;
            }
        }
        if let Some(i) = &self.in_if
            && !ifm(i, p.in_if.as_ref())
        {
            return false;
        }
        if let Some(o) = &self.out_if
            && !ifm(o, p.out_if.as_ref())
        {
            return false;
        }
        true
    }

    /// The rule as `iptables -S` prints it (after `-A CHAIN`).
    #[must_use]
    pub fn spec(&self) -> String {
        let mut s = String::new();
        let net = |neg: bool, a: Ipv4Addr, p: u8| format!("{}{a}/{p}", if neg { "! " } else { "" });
        if let Some((neg, a, p)) = self.src {
            let _ = write!(s, " -s {}", net(neg, a, p));
        }
        if let Some((neg, a, p)) = self.dst {
            let _ = write!(s, " -d {}", net(neg, a, p));
        }
        if let Some(i) = &self.in_if {
            let _ = write!(s, " -i {i}");
        }
        if let Some(o) = &self.out_if {
            let _ = write!(s, " -o {o}");
        }
        if let Some((neg, p)) = self.proto {
            let _ = write!(s, " {}-p {}", if neg { "! " } else { "" }, proto_name(p));
            let _ = write!(s, " -m {}", proto_name(p));
        }
        for (flag, v) in [("--sport", self.sport), ("--dport", self.dport)] {
            if let Some((lo, hi)) = v {
                if lo == hi {
                    let _ = write!(s, " {flag} {lo}");
                } else {
                    let _ = write!(s, " {flag} {lo}:{hi}");
                }
            }
        }
        match &self.target {
            Some(Target::Accept) => s.push_str(" -j ACCEPT"),
            Some(Target::Drop) => s.push_str(" -j DROP"),
            Some(Target::Reject) => s.push_str(" -j REJECT --reject-with icmp-port-unreachable"),
            Some(Target::Mark(m)) => {
                let _ = write!(s, " -j MARK --set-xmark 0x{m:x}/0xffffffff");
            }
            Some(Target::Log(p)) if p.is_empty() => s.push_str(" -j LOG"),
            Some(Target::Log(p)) => {
                let _ = write!(s, " -j LOG --log-prefix \"{p}\"");
            }
            Some(Target::Jump(c)) => {
                let _ = write!(s, " -j {c}");
            }
            None => {}
        }
        s
    }
}

fn proto_name(p: u8) -> String {
    match p {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        112 => "vrrp".into(),
        n => n.to_string(),
    }
}

/// A chain: built-in ones have a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    /// Name.
    pub name: String,
    /// Policy for built-in chains (`None` for user chains).
    pub policy: Option<Verdict>,
    /// Rules in order.
    pub rules: Vec<Rule>,
    /// Packets and bytes that ended at the policy (counted while the host
    /// has any rule or non-ACCEPT policy; see ARCHITECTURE "Simplifications").
    pub policy_counts: (u64, u64),
}

/// `xtables_print_num` with `FMT_KILOMEGAGIGA` (what `-L -v` prints).
fn kmg(n: u64) -> String {
    if n <= 99_999 {
        return format!("{n:>5} ");
    }
    let mut v = n;
    for suffix in ['K', 'M', 'G', 'T'] {
        v /= 1000;
        if v <= 9_999 || suffix == 'T' {
            return format!("{v:>4}{suffix} ");
        }
    }
    format!("{n} ")
}

/// `-s`/`-d` as `iptables -L` prints it.
fn list_addr(m: Option<(bool, Ipv4Addr, u8)>, numeric: bool) -> String {
    let (neg, text) = match m {
        None | Some((_, _, 0)) if !numeric => (m.is_some_and(|x| x.0), "anywhere".to_string()),
        None => (false, "0.0.0.0/0".to_string()),
        Some((neg, a, 32)) => (neg, a.to_string()),
        Some((neg, a, p)) => (neg, format!("{a}/{p}")),
    };
    format!("{}{text:<19} ", if neg { '!' } else { ' ' })
}

impl Rule {
    /// The match and target text after the destination column.
    fn list_extra(&self, numeric: bool) -> String {
        let mut s = String::new();
        let port = |v: u16| {
            let name = (!numeric)
                .then(|| crate::ipvs::ipvsadm::port_to_service(v, self.proto.map_or(6, |p| p.1)))
                .flatten();
            name.map_or(v.to_string(), str::to_string)
        };
        if let Some((_, p @ (6 | 17))) = self.proto {
            let _ = write!(s, " {}", proto_name(p));
            for (name, v) in [("spt", self.sport), ("dpt", self.dport)] {
                match v {
                    Some((lo, hi)) if lo == hi => {
                        let _ = write!(s, " {name}:{}", port(lo));
                    }
                    Some((lo, hi)) => {
                        let _ = write!(s, " {name}s:{}:{}", port(lo), port(hi));
                    }
                    None => {}
                }
            }
        }
        match &self.target {
            Some(Target::Reject) => s.push_str(" reject-with icmp-port-unreachable"),
            Some(Target::Mark(m)) => {
                let _ = write!(s, " MARK set 0x{m:x}");
            }
            Some(Target::Log(p)) => {
                s.push_str(" LOG flags 0 level 4");
                if !p.is_empty() {
                    let _ = write!(s, " prefix \"{p}\"");
                }
            }
            _ => {}
        }
        s
    }

    /// The target's name in `iptables -L`.
    fn target_name(&self) -> String {
        match &self.target {
            None => String::new(),
            Some(Target::Accept) => "ACCEPT".into(),
            Some(Target::Drop) => "DROP".into(),
            Some(Target::Reject) => "REJECT".into(),
            Some(Target::Mark(_)) => "MARK".into(),
            Some(Target::Log(_)) => "LOG".into(),
            Some(Target::Jump(c)) => c.clone(),
        }
    }
}

impl Table {
    /// `iptables [-t T] -L [CHAIN] [-n] [-v] [--line-numbers]`, laid out as
    /// iptables 1.8 prints it (`print_header` / `print_firewall`).
    #[must_use]
    pub fn list(&self, chain: Option<&str>, numeric: bool, verbose: bool, lines: bool) -> String {
        let mut out = String::new();
        for (i, c) in self
            .chains
            .iter()
            .filter(|c| chain.is_none_or(|n| n == c.name))
            .enumerate()
        {
            if i > 0 {
                out.push('\n');
            }
            let _ = write!(out, "Chain {}", c.name);
            match c.policy {
                Some(p) if verbose => {
                    let _ = write!(
                        out,
                        " (policy {} {} packets, {} bytes)",
                        p.name(),
                        c.policy_counts.0,
                        c.policy_counts.1
                    );
                }
                Some(p) => {
                    let _ = write!(out, " (policy {})", p.name());
                }
                None => {
                    let refs = self
                        .chains
                        .iter()
                        .flat_map(|x| &x.rules)
                        .filter(|r| matches!(&r.target, Some(Target::Jump(j)) if *j == c.name))
                        .count();
                    let _ = write!(out, " ({refs} references)");
                }
            }
            out.push('\n');
            if lines {
                out.push_str("num  ");
            }
            if verbose {
                out.push_str(" pkts bytes ");
            }
            out.push_str("target     prot opt");
            if verbose {
                out.push_str(" in     out    ");
            }
            out.push_str(" source               destination         \n");
            for (k, r) in c.rules.iter().enumerate() {
                if lines {
                    let _ = write!(out, "{:<4} ", k + 1);
                }
                if verbose {
                    out.push_str(&kmg(r.pkts));
                    out.push_str(&kmg(r.bytes));
                }
                let (neg, p) = r.proto.unwrap_or((false, 0));
                let pname = if p == 0 {
                    "all".to_string()
                } else {
                    proto_name(p)
                };
                let _ = write!(
                    out,
                    "{:<9} {}{pname:<5}-- ",
                    r.target_name(),
                    if neg { '!' } else { ' ' }
                );
                if verbose {
                    let any = if numeric { "*" } else { "any" };
                    let _ = write!(
                        out,
                        " {:<6} {:<6} ",
                        r.in_if.as_deref().unwrap_or(any),
                        r.out_if.as_deref().unwrap_or(any)
                    );
                }
                out.push_str(&list_addr(r.src, numeric));
                out.push_str(&list_addr(r.dst, numeric));
                out.push_str(&r.list_extra(numeric));
                out.push('\n');
            }
        }
        out
    }
}

/// One table (`filter` or `mangle`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// Table name.
    pub name: &'static str,
    /// Chains, built-ins first.
    pub chains: Vec<Chain>,
    /// The hooks of the built-in chains, in their order (built-ins can be
    /// neither deleted nor moved).
    builtins: &'static [Hook],
}

impl Table {
    fn new(name: &'static str, builtins: &'static [Hook]) -> Table {
        Table {
            name,
            builtins,
            chains: builtins
                .iter()
                .map(|h| Chain {
                    name: h.name().into(),
                    policy: Some(Verdict::Accept),
                    rules: vec![],
                    policy_counts: (0, 0),
                })
                .collect(),
        }
    }

    /// The chain called `name`.
    #[must_use]
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }

    /// Mutable chain.
    pub fn chain_mut(&mut self, name: &str) -> Option<&mut Chain> {
        self.chains.iter_mut().find(|c| c.name == name)
    }

    fn eval(
        &mut self,
        chain: &str,
        p: &mut PktInfo,
        logs: &mut Vec<String>,
        depth: u32,
    ) -> Option<Verdict> {
        if depth > 16 {
            return None;
        }
        let idx = self.chains.iter().position(|c| c.name == chain)?;
        let n = self.chains[idx].rules.len();
        for r in 0..n {
            let rule = &mut self.chains[idx].rules[r];
            if !rule.matches(p) {
                continue;
            }
            rule.pkts += 1;
            rule.bytes += u64::from(p.len);
            let target = rule.target.clone();
            match target {
                None => {}
                Some(Target::Accept) => return Some(Verdict::Accept),
                Some(Target::Drop) => return Some(Verdict::Drop),
                Some(Target::Reject) => return Some(Verdict::Reject),
                Some(Target::Mark(m)) => p.mark = m,
                Some(Target::Log(prefix)) => logs.push(format!(
                    "{prefix}IN={} OUT={} SRC={} DST={} PROTO={}{}{} MARK=0x{:x}",
                    p.in_if.clone().unwrap_or_default(),
                    p.out_if.clone().unwrap_or_default(),
                    p.src.map(|a| a.to_string()).unwrap_or_default(),
                    p.dst.map(|a| a.to_string()).unwrap_or_default(),
                    proto_name(p.proto).to_uppercase(),
                    p.sport.map(|v| format!(" SPT={v}")).unwrap_or_default(),
                    p.dport.map(|v| format!(" DPT={v}")).unwrap_or_default(),
                    p.mark
                )),
                Some(Target::Jump(c)) => {
                    if let Some(v) = self.eval(&c, p, logs, depth + 1) {
                        return Some(v);
                    }
                }
            }
        }
        let c = &mut self.chains[idx];
        if c.policy.is_some() {
            c.policy_counts.0 += 1;
            c.policy_counts.1 += u64::from(p.len);
        }
        c.policy
    }
}

/// The user-visible iptables state of a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Netfilter {
    /// `-t filter`.
    pub filter: Table,
    /// `-t mangle`.
    pub mangle: Table,
}

impl Default for Netfilter {
    fn default() -> Self {
        use Hook::{Forward, Input, Output, PostRouting, PreRouting};
        Netfilter {
            filter: Table::new("filter", &[Input, Forward, Output]),
            mangle: Table::new("mangle", &[PreRouting, Input, Forward, Output, PostRouting]),
        }
    }
}

/// What the user tables decided at one hook.
#[derive(Clone, Debug)]
pub struct HookResult {
    /// Final verdict of mangle then filter.
    pub verdict: Verdict,
    /// LOG target lines.
    pub logs: Vec<String>,
    /// Whether any user rule exists at this hook (to keep traces short).
    pub has_rules: bool,
}

impl Netfilter {
    /// Runs mangle then filter at `hook`; `p.mark` may change (MARK).
    pub fn run(&mut self, hook: Hook, p: &mut PktInfo) -> HookResult {
        let mut logs = Vec::new();
        let mut has_rules = false;
        for t in [&mut self.mangle, &mut self.filter] {
            let Some(c) = t.chain(hook.name()) else {
                continue;
            };
            has_rules |= !c.rules.is_empty() || c.policy != Some(Verdict::Accept);
            match t.eval(hook.name(), p, &mut logs, 0) {
                Some(Verdict::Accept) | None => {}
                Some(v) => {
                    return HookResult {
                        verdict: v,
                        logs,
                        has_rules: true,
                    };
                }
            }
        }
        HookResult {
            verdict: Verdict::Accept,
            logs,
            has_rules,
        }
    }

    /// The fast path's traversal of `hook` on a host with no rule: each
    /// built-in chain's ACCEPT policy counts the packet, as `run` would.
    pub fn count_policies(&mut self, hook: Hook, len: u32) {
        for t in [&mut self.mangle, &mut self.filter] {
            let k = t.builtins.iter().position(|h| *h == hook);
            if let Some(c) = k.and_then(|k| t.chains.get_mut(k))
                && c.policy.is_some()
            {
                c.policy_counts.0 += 1;
                c.policy_counts.1 += u64::from(len);
            }
        }
    }

    /// Are there no user rules at all (fast path)?
    #[must_use]
    pub fn is_empty(&self) -> bool {
        [&self.filter, &self.mangle].iter().all(|t| {
            t.chains
                .iter()
                .all(|c| c.rules.is_empty() && c.policy.is_none_or(|p| p == Verdict::Accept))
        })
    }
}
