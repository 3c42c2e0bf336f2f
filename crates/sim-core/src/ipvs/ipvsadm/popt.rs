//! A small emulation of the popt behaviour ipvsadm relies on: short option
//! clusters (`-Ln`), `-tVIP:80` and `-t VIP:80`, `--long value` and
//! `--long=value`, optional arguments (`-p [timeout]`: the next word is taken
//! unless it starts with `-`), `--` and interleaved positional arguments.

/// Every option ipvsadm 1.31 knows, plus the FULLNAT extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    AddService,
    EditService,
    DelService,
    Clear,
    List,
    Zero,
    AddServer,
    EditServer,
    DelServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    Tcp,
    Udp,
    Sctp,
    Fwmark,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masq,
    Ipip,
    Gate,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastIf,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
    // FULLNAT (Alibaba LVS ipvsadm), not mainline.
    AddLaddr,
    DelLaddr,
    GetLaddr,
    Laddr,
    FullNat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    No,
    Req,
    Opt,
}

use Arg::{No, Opt as Maybe, Req};

const TABLE: &[(&str, Option<char>, Arg, Tag)] = &[
    ("add-service", Some('A'), No, Tag::AddService),
    ("edit-service", Some('E'), No, Tag::EditService),
    ("delete-service", Some('D'), No, Tag::DelService),
    ("clear", Some('C'), No, Tag::Clear),
    ("list", Some('L'), No, Tag::List),
    ("list", Some('l'), No, Tag::List),
    ("zero", Some('Z'), No, Tag::Zero),
    ("add-server", Some('a'), No, Tag::AddServer),
    ("edit-server", Some('e'), No, Tag::EditServer),
    ("delete-server", Some('d'), No, Tag::DelServer),
    ("set", None, No, Tag::Set),
    ("help", Some('h'), No, Tag::Help),
    ("version", Some('v'), No, Tag::Version),
    ("restore", Some('R'), No, Tag::Restore),
    ("save", Some('S'), No, Tag::Save),
    ("start-daemon", None, Req, Tag::StartDaemon),
    ("stop-daemon", None, Req, Tag::StopDaemon),
    ("tcp-service", Some('t'), Req, Tag::Tcp),
    ("udp-service", Some('u'), Req, Tag::Udp),
    ("sctp-service", None, Req, Tag::Sctp),
    ("fwmark-service", Some('f'), Req, Tag::Fwmark),
    ("scheduler", Some('s'), Req, Tag::Scheduler),
    ("persistent", Some('p'), Maybe, Tag::Persistent),
    ("netmask", Some('M'), Req, Tag::Netmask),
    ("real-server", Some('r'), Req, Tag::RealServer),
    ("masquerading", Some('m'), No, Tag::Masq),
    ("ipip", Some('i'), No, Tag::Ipip),
    ("gatewaying", Some('g'), No, Tag::Gate),
    ("weight", Some('w'), Req, Tag::Weight),
    ("u-threshold", Some('x'), Req, Tag::UThreshold),
    ("l-threshold", Some('y'), Req, Tag::LThreshold),
    ("numeric", Some('n'), No, Tag::Numeric),
    ("connection", Some('c'), No, Tag::Connection),
    ("mcast-interface", None, Req, Tag::McastIf),
    ("syncid", None, Req, Tag::SyncId),
    ("timeout", None, No, Tag::Timeout),
    ("daemon", None, No, Tag::Daemon),
    ("stats", None, No, Tag::Stats),
    ("rate", None, No, Tag::Rate),
    ("thresholds", None, No, Tag::Thresholds),
    ("persistent-conn", None, No, Tag::PersistentConn),
    ("nosort", None, No, Tag::NoSort),
    ("sort", None, No, Tag::Sort),
    ("exact", Some('X'), No, Tag::Exact),
    ("ipv6", Some('6'), No, Tag::Ipv6),
    ("ops", Some('o'), No, Tag::Ops),
    ("pe", None, Req, Tag::Pe),
    ("sched-flags", Some('b'), Req, Tag::SchedFlags),
    ("mcast-group", None, Req, Tag::McastGroup),
    ("mcast-port", None, Req, Tag::McastPort),
    ("mcast-ttl", None, Req, Tag::McastTtl),
    ("sync-maxlen", None, Req, Tag::SyncMaxlen),
    ("tun-info", None, No, Tag::TunInfo),
    ("tun-type", None, Req, Tag::TunType),
    ("tun-port", None, Req, Tag::TunPort),
    ("tun-nocsum", None, No, Tag::TunNocsum),
    ("tun-csum", None, No, Tag::TunCsum),
    ("tun-remcsum", None, No, Tag::TunRemcsum),
    ("add-laddr", Some('P'), No, Tag::AddLaddr),
    ("del-laddr", Some('Q'), No, Tag::DelLaddr),
    ("get-laddr", Some('G'), No, Tag::GetLaddr),
    ("laddr", Some('z'), Req, Tag::Laddr),
    ("fullnat", None, No, Tag::FullNat),
];

/// One parsed option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opt {
    /// Which option.
    pub tag: Tag,
    /// Its argument.
    pub arg: Option<String>,
    /// The argv word it came from (what `poptBadOption` reports).
    pub word: String,
}

/// A popt error: the word and `poptStrerror`'s text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoptError {
    /// The offending argv word.
    pub word: String,
    /// `unknown option`, `missing argument`, ….
    pub msg: &'static str,
}

/// The parse: options in order (ending at the first error) and positional
/// arguments.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// Options in order.
    pub opts: Vec<Opt>,
    /// The first error, after `opts`.
    pub error: Option<PoptError>,
    /// Non-option words.
    pub args: Vec<String>,
}

/// Parses `argv` (without the program name).
#[must_use]
pub fn parse(argv: &[&str]) -> Parsed {
    let mut p = Parsed::default();
    let mut i = 0;
    let mut only_args = false;
    while i < argv.len() {
        let w = argv[i];
        i += 1;
        if only_args || w == "-" || !w.starts_with('-') {
            p.args.push(w.to_string());
            continue;
        }
        if w == "--" {
            only_args = true;
            continue;
        }
        let err = |msg| {
            Some(PoptError {
                word: w.to_string(),
                msg,
            })
        };
        if let Some(long) = w.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let Some(&(_, _, kind, tag)) = TABLE.iter().find(|e| e.0 == name) else {
                p.error = err("unknown option");
                return p;
            };
            let arg = match (kind, inline) {
                (No, Some(_)) => {
                    p.error = err("option does not take an argument");
                    return p;
                }
                (No, None) => None,
                (_, Some(v)) => Some(v),
                (Req, None) => match argv.get(i) {
                    Some(v) => {
                        i += 1;
                        Some((*v).to_string())
                    }
                    None => {
                        p.error = err("missing argument");
                        return p;
                    }
                },
                (Maybe, None) => match argv.get(i) {
                    Some(v) if !v.starts_with('-') => {
                        i += 1;
                        Some((*v).to_string())
                    }
                    _ => None,
                },
            };
            p.opts.push(Opt {
                tag,
                arg,
                word: w.to_string(),
            });
            continue;
        }
        // A cluster of short options.
        let chars: Vec<char> = w.chars().skip(1).collect();
        let mut k = 0;
        while k < chars.len() {
            let c = chars[k];
            k += 1;
            let Some(&(_, _, kind, tag)) = TABLE.iter().find(|e| e.1 == Some(c)) else {
                p.error = err("unknown option");
                return p;
            };
            let rest: String = chars[k..].iter().collect();
            let arg = match kind {
                No => None,
                Req | Maybe if !rest.is_empty() => {
                    k = chars.len();
                    Some(rest)
                }
                Req => match argv.get(i) {
                    Some(v) => {
                        i += 1;
                        Some((*v).to_string())
                    }
                    None => {
                        p.error = err("missing argument");
                        return p;
                    }
                },
                Maybe => match argv.get(i) {
                    Some(v) if !v.starts_with('-') => {
                        i += 1;
                        Some((*v).to_string())
                    }
                    _ => None,
                },
            };
            p.opts.push(Opt {
                tag,
                arg,
                word: w.to_string(),
            });
        }
    }
    p
}
