//! `ipvsadm` 1.31 over an [`Ipvs`]: the same options, checks, messages,
//! exit statuses and output layouts as `ipvsadm.c` + libipvs.
//!
//! Exit statuses: `fail()` exits 2; a failed kernel operation prints
//! libipvs's `ipvs_strerror` text and `main` returns -1 (status 255); popt
//! errors and `tryhelp_exit` also give 255; `list_service` on an unknown
//! service exits 1.
//!
//! FULLNAT extensions (Alibaba LVS ipvsadm, not mainline): `-P|--add-laddr`,
//! `-Q|--del-laddr`, `-G|--get-laddr` with `-z|--laddr LIP`, and
//! `--fullnat` as the dest forwarding option (Alibaba uses `-b`, which
//! mainline uses for `--sched-flags`).

mod names;
mod popt;
pub(crate) mod print;

use std::net::Ipv4Addr;

pub use names::{Names, NoNames, port_to_service, service_to_port};

use self::popt::{Opt, Tag};
use self::print::{
    EXACT, NOSORT, NUMERIC, PERSISTENTCONN, RATE, RULE, STATS, THRESHOLDS, TUN_INFO,
};
use super::Protocol;
use super::dest::TunCfg;
use super::sched::SchedFlags;
use super::table::{DestSpec, Ipvs, IpvsError, ServiceSpec, SyncDaemon};
use super::types::{FwdMethod, ServiceKey};
use crate::time::SimTime;

/// What a run of the command printed and returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CmdOutput {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit status.
    pub status: i32,
}

/// Runs `ipvsadm` with `args` (with or without a leading `ipvsadm`);
/// `stdin` feeds `-R`. Host names are never resolved (see [`run_with`]).
pub fn run(ipvs: &mut Ipvs, now: SimTime, args: &[&str], stdin: Option<&str>) -> CmdOutput {
    run_with(ipvs, now, args, stdin, &NoNames)
}

/// [`run`] with a host name resolver for output without `-n`.
pub fn run_with(
    ipvs: &mut Ipvs,
    now: SimTime,
    args: &[&str],
    stdin: Option<&str>,
    names: &dyn Names,
) -> CmdOutput {
    ipvs.advance(now);
    let argv = match args.first() {
        Some(a) if *a == "ipvsadm" || a.ends_with("/ipvsadm") => &args[1..],
        _ => args,
    };
    let mut cx = Cx {
        ipvs,
        now,
        names,
        stdin,
        out: CmdOutput::default(),
    };
    if argv.is_empty() {
        print::list_all(&mut cx.out.stdout, cx.ipvs, 0, names);
        return cx.out;
    }
    let status = match cx.process(argv, false) {
        Ok(s) => s,
        Err(Exit(s)) => s,
    };
    cx.out.status = status;
    cx.out
}

/// Leaving the program with a status.
struct Exit(i32);

struct Cx<'a> {
    ipvs: &'a mut Ipvs,
    now: SimTime,
    names: &'a dyn Names,
    stdin: Option<&'a str>,
    out: CmdOutput,
}

const MAX_TIMEOUT: i64 = 86400 * 31;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    Timeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
    AddLaddr,
    DelLaddr,
    GetLaddr,
}

const CMDNAMES: [&str; 17] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
    "add-laddr",
    "del-laddr",
    "get-laddr",
];

const OPTNAMES: [&str; 35] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
    "laddr",
];

// Option indices (OPTC_*).
const O_NUMERIC: usize = 0;
const O_CONNECTION: usize = 1;
const O_SERVICE: usize = 2;
const O_SCHEDULER: usize = 3;
const O_PERSISTENT: usize = 4;
const O_NETMASK: usize = 5;
const O_SERVER: usize = 6;
const O_FORWARD: usize = 7;
const O_WEIGHT: usize = 8;
const O_UTHRESHOLD: usize = 9;
const O_LTHRESHOLD: usize = 10;
const O_MCAST: usize = 11;
const O_TIMEOUT: usize = 12;
const O_DAEMON: usize = 13;
const O_STATS: usize = 14;
const O_RATE: usize = 15;
const O_THRESHOLDS: usize = 16;
const O_PERSISTENTCONN: usize = 17;
const O_NOSORT: usize = 18;
const O_SYNCID: usize = 19;
const O_EXACT: usize = 20;
const O_ONEPACKET: usize = 21;
const O_PE: usize = 22;
const O_SCHED_FLAGS: usize = 23;
const O_MCAST_GROUP: usize = 24;
const O_MCAST_PORT: usize = 25;
const O_MCAST_TTL: usize = 26;
const O_SYNC_MAXLEN: usize = 27;
const O_TUN_INFO: usize = 28;
const O_TUN_TYPE: usize = 29;
const O_TUN_PORT: usize = 30;
const O_TUN_NOCSUM: usize = 31;
const O_TUN_CSUM: usize = 32;
const O_TUN_REMCSUM: usize = 33;
const O_LADDR: usize = 34;

/// `commands_v_options` of ipvsadm.c ('+' compulsory, 'x' illegal, '1'
/// exclusive, ' ' optional), plus the FULLNAT rows and the `laddr` column.
const COMMANDS_V_OPTIONS: [&[u8; 35]; 17] = [
    /*ADD*/ b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxx",
    /*EDIT*/ b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxxx",
    /*DEL*/ b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*FLUSH*/ b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*LIST*/ b" 11xxxxxxxxx11       xxxxxxx xxxxxx",
    /*ADDSRV*/ b"xx+xxx+    xxxxxxxxxxxxxxxxxx     x",
    /*DELSRV*/ b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*EDITSRV*/ b"xx+xxx+    xxxxxxxxxxxxxxxxxx     x",
    /*TIMEOUT*/ b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*STARTD*/ b"xxxxxxxxxxx xxxxxxx xxxx    xxxxxxx",
    /*STOPD*/ b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxxx",
    /*RESTORE*/ b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*SAVE*/ b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*ZERO*/ b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    /*ADDLADDR*/ b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+",
    /*DELLADDR*/ b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+",
    /*GETLADDR*/ b" x xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// `tunnel_types_v_options` (columns tun-port, nocsum, csum, remcsum).
const TUNNEL_V_OPTIONS: [&[u8; 4]; 3] = [b"xxxx", b"+111", b"x11x"];
const TUNOPTS: [usize; 4] = [O_TUN_PORT, O_TUN_NOCSUM, O_TUN_CSUM, O_TUN_REMCSUM];
const TUNNAMES: [&str; 3] = ["ipip", "gue", "gre"];

/// The fields of `struct ipvs_command_entry` the lab uses.
#[derive(Debug)]
struct Entry {
    cmd: Option<Cmd>,
    proto: Protocol,
    addr: Ipv4Addr,
    port: u16,
    fwmark: u32,
    sched: String,
    persistent: Option<u32>,
    netmask: Ipv4Addr,
    ops: bool,
    pe: Option<String>,
    daddr: Ipv4Addr,
    dport: u16,
    fwd: FwdMethod,
    weight: u32,
    u_threshold: u32,
    l_threshold: u32,
    tun: TunCfg,
    timeouts: (u32, u32, u32),
    daemon_master: bool,
    mcast_ifn: String,
    syncid: u32,
    sync_maxlen: u16,
    mcast_group: Option<Ipv4Addr>,
    mcast_port: u16,
    mcast_ttl: u8,
    laddr: Ipv4Addr,
}

fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    // strtol: optional leading whitespace and sign, decimal digits, nothing after.
    let t = s.trim_start();
    if t.is_empty() {
        return None;
    }
    let n: i64 = t.parse().ok()?;
    (min..=max).contains(&n).then_some(n)
}

fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// `inet_aton` for the dotted forms people type (a.b.c.d only).
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    s.parse().ok()
}

impl Cx<'_> {
    fn fail(&mut self, msg: &str) -> Exit {
        self.out.stderr.push_str(msg);
        self.out.stderr.push('\n');
        Exit(2)
    }

    fn tryhelp(&mut self) -> Exit {
        self.out
            .stderr
            .push_str("Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n");
        Exit(255)
    }

    /// `parse_service`: `Ok(with_port)`, `Err(())` for SERVICE_NONE.
    fn parse_service(&self, buf: &str, proto: u8) -> Result<(Ipv4Addr, Option<u16>), ()> {
        if buf.is_empty() || buf.bytes().all(|b| b.is_ascii_digit()) || buf.starts_with('[') {
            return Err(());
        }
        let (host, port) = match buf.rfind(':') {
            Some(i) => (&buf[..i], Some(&buf[i + 1..])),
            None => (buf, None),
        };
        let addr = inet_aton(host)
            .or_else(|| self.names.addr(host))
            .ok_or(())?;
        let port = match port {
            None => None,
            Some(p) => Some(match string_to_number(p, 0, 65535) {
                Some(n) => u16::try_from(n).map_err(|_| ())?,
                None => names::service_to_port(p, proto).ok_or(())?,
            }),
        };
        Ok((addr, port))
    }

    /// `process_options`: returns the exit status.
    #[expect(
        clippy::too_many_lines,
        reason = "a port of process_options/parse_options"
    )]
    fn process(&mut self, argv: &[&str], reading_stdin: bool) -> Result<i32, Exit> {
        let parsed = popt::parse(argv);
        let mut ce = Entry {
            cmd: None,
            proto: Protocol::Tcp,
            addr: Ipv4Addr::UNSPECIFIED,
            port: 0,
            fwmark: 0,
            sched: String::new(),
            persistent: None,
            netmask: Ipv4Addr::BROADCAST,
            ops: false,
            pe: None,
            daddr: Ipv4Addr::UNSPECIFIED,
            dport: 0,
            fwd: FwdMethod::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun: TunCfg::default(),
            timeouts: (0, 0, 0),
            daemon_master: true,
            mcast_ifn: String::new(),
            syncid: 0,
            sync_maxlen: 0,
            mcast_group: None,
            mcast_port: 0,
            mcast_ttl: 0,
            laddr: Ipv4Addr::UNSPECIFIED,
        };
        let mut options: u64 = 0;
        let mut format: u32 = 0;
        let mut sched_flags_arg = String::new();

        let mut opts = parsed.opts.iter();
        let Some(first) = opts.next() else {
            return Err(self.tryhelp());
        };
        let cmd = match first.tag {
            Tag::AddService => Cmd::Add,
            Tag::EditService => Cmd::Edit,
            Tag::DelService => Cmd::Del,
            Tag::AddServer => Cmd::AddDest,
            Tag::EditServer => Cmd::EditDest,
            Tag::DelServer => Cmd::DelDest,
            Tag::Clear => Cmd::Flush,
            Tag::List => Cmd::List,
            Tag::Zero => Cmd::Zero,
            Tag::Set => Cmd::Timeout,
            Tag::Restore => Cmd::Restore,
            Tag::Save => Cmd::Save,
            Tag::AddLaddr => Cmd::AddLaddr,
            Tag::DelLaddr => Cmd::DelLaddr,
            Tag::GetLaddr => Cmd::GetLaddr,
            Tag::StartDaemon | Tag::StopDaemon => {
                let start = first.tag == Tag::StartDaemon;
                ce.daemon_master = match first.arg.as_deref() {
                    Some("master") => true,
                    Some("backup") => false,
                    _ => {
                        return Err(self.fail(if start {
                            "illegal start-daemon parameter specified"
                        } else {
                            "illegal start_daemon specified"
                        }));
                    }
                };
                if start {
                    Cmd::StartDaemon
                } else {
                    Cmd::StopDaemon
                }
            }
            Tag::Help => {
                self.out.stdout.push_str(&usage());
                return Err(Exit(0));
            }
            Tag::Version => {
                self.out.stdout.push_str(VERSION);
                return Err(Exit(0));
            }
            _ => return Err(self.tryhelp()),
        };
        ce.cmd = Some(cmd);

        for o in opts {
            self.option(o, &mut ce, &mut options, &mut format, &mut sched_flags_arg)?;
        }
        if let Some(e) = &parsed.error {
            if parsed.opts.is_empty() {
                return Err(self.tryhelp());
            }
            self.out
                .stderr
                .push_str(&format!("{}: {}\n", e.word, e.msg));
            return Ok(255);
        }
        let mut args = parsed.args.iter();
        if cmd == Cmd::Timeout {
            let (Some(a), Some(b), Some(c)) = (args.next(), args.next(), args.next()) else {
                return Err(self.fail("--set option requires 3 timeout values"));
            };
            let t = self.parse_timeout(Some(a), 0)?;
            let f = self.parse_timeout(Some(b), 0)?;
            let u = self.parse_timeout(Some(c), 0)?;
            ce.timeouts = (t, f, u);
        }
        if let Some(a) = args.next() {
            return Err(self.fail(&format!("unexpected argument {a}")));
        }
        let mut flags = SchedFlags::default();
        if !sched_flags_arg.is_empty() {
            flags = self.parse_sched_flags(&ce.sched, &sched_flags_arg)?;
        }

        self.generic_opt_check(cmd, options)?;

        if matches!(cmd, Cmd::Add | Cmd::Edit) {
            if ce.fwmark == 0 && ce.port == 0 && ce.persistent.is_none() {
                return Err(self.fail("Zero port specified for non-persistent service"));
            }
            if ce.ops && ce.fwmark == 0 && ce.proto != Protocol::Udp {
                return Err(self.fail("One-Packet Scheduling is only for UDP virtual services"));
            }
            if ce.sched.is_empty() {
                ce.sched = "wlc".into();
            }
        }
        if cmd == Cmd::StartDaemon && ce.mcast_ifn.is_empty() {
            ce.mcast_ifn = "eth0".into();
        }
        if matches!(cmd, Cmd::AddDest | Cmd::EditDest) {
            if ce.fwmark == 0 && matches!(ce.fwd, FwdMethod::Tunnel | FwdMethod::Route) {
                ce.dport = ce.port;
            }
            let tun_opts = (1 << O_TUN_TYPE)
                | (1 << O_TUN_PORT)
                | (1 << O_TUN_NOCSUM)
                | (1 << O_TUN_CSUM)
                | (1 << O_TUN_REMCSUM);
            if options & tun_opts != 0 && ce.fwd != FwdMethod::Tunnel {
                return Err(self.fail("Tunnel options conflict with forward method"));
            }
            self.tunnel_opt_check(ce.tun.kind, options)?;
        }

        let key = if ce.fwmark != 0 {
            ServiceKey::Fwmark(ce.fwmark)
        } else {
            ServiceKey::Addr {
                proto: ce.proto,
                addr: ce.addr,
                port: ce.port,
            }
        };
        let has = |o: usize| options & (1 << o) != 0;
        let result: Result<(), IpvsError> = match cmd {
            Cmd::List => {
                if (has(O_CONNECTION) || has(O_TIMEOUT) || has(O_DAEMON))
                    && (has(O_STATS) || has(O_RATE) || has(O_THRESHOLDS))
                    || (has(O_TIMEOUT) || has(O_DAEMON)) && has(O_PERSISTENTCONN)
                {
                    return Err(self.fail("options conflicts in the list command"));
                }
                let out = &mut self.out.stdout;
                if has(O_CONNECTION) {
                    print::list_conn(out, self.ipvs, self.now, format, self.names);
                } else if has(O_SERVICE) {
                    let Some(id) = self.ipvs.find_service(&key) else {
                        self.out.stderr.push_str("No such service\n");
                        return Err(Exit(1));
                    };
                    print::title(out, format);
                    print::service_entry(out, self.ipvs, id, format, self.names);
                } else if has(O_TIMEOUT) {
                    print::list_timeout(out, self.ipvs);
                } else if has(O_DAEMON) {
                    print::list_daemon(out, self.ipvs);
                } else {
                    print::list_all(out, self.ipvs, format, self.names);
                }
                return Ok(0);
            }
            Cmd::Restore => return self.restore(argv, reading_stdin),
            Cmd::Save => {
                print::list_all(&mut self.out.stdout, self.ipvs, format | RULE, self.names);
                return Ok(0);
            }
            Cmd::GetLaddr => {
                let only = if has(O_SERVICE) {
                    let Some(id) = self.ipvs.find_service(&key) else {
                        self.out.stderr.push_str("No such service\n");
                        return Err(Exit(1));
                    };
                    Some(id)
                } else {
                    None
                };
                print::list_laddrs(&mut self.out.stdout, self.ipvs, only, format, self.names);
                return Ok(0);
            }
            Cmd::Flush => {
                self.ipvs.flush();
                Ok(())
            }
            Cmd::Add | Cmd::Edit => {
                let spec = ServiceSpec {
                    key,
                    sched: ce.sched.clone(),
                    flags,
                    persistent: ce.persistent,
                    netmask: ce.netmask,
                    ops: ce.ops,
                    pe: ce.pe.clone(),
                };
                if cmd == Cmd::Add {
                    self.ipvs.add_service(&spec).map(|_| ())
                } else {
                    self.ipvs.edit_service(&spec)
                }
            }
            Cmd::Del => self.ipvs.del_service(&key),
            Cmd::Zero => self.ipvs.zero(has(O_SERVICE).then_some(&key)),
            Cmd::AddDest | Cmd::EditDest => {
                let spec = DestSpec {
                    addr: ce.daddr,
                    port: ce.dport,
                    fwd: ce.fwd,
                    tun: ce.tun,
                    weight: ce.weight,
                    u_threshold: ce.u_threshold,
                    l_threshold: ce.l_threshold,
                };
                if cmd == Cmd::AddDest {
                    self.ipvs.add_dest(&key, &spec).map(|_| ())
                } else {
                    self.ipvs.edit_dest(&key, &spec)
                }
            }
            Cmd::DelDest => self.ipvs.del_dest(&key, ce.daddr, ce.dport),
            Cmd::Timeout => {
                let (t, f, u) = ce.timeouts;
                self.ipvs.timeouts.set(t, f, u);
                Ok(())
            }
            Cmd::StartDaemon => self.ipvs.start_daemon(SyncDaemon {
                master: ce.daemon_master,
                ifname: ce.mcast_ifn.clone(),
                syncid: ce.syncid,
                sync_maxlen: ce.sync_maxlen,
                mcast_group: ce.mcast_group,
                mcast_port: ce.mcast_port,
                mcast_ttl: ce.mcast_ttl,
            }),
            Cmd::StopDaemon => self.ipvs.stop_daemon(ce.daemon_master),
            Cmd::AddLaddr => self.ipvs.add_laddr(&key, ce.laddr),
            Cmd::DelLaddr => self.ipvs.del_laddr(&key, ce.laddr),
        };
        match result {
            Ok(()) => Ok(0),
            Err(e) => {
                self.out.stderr.push_str(&format!("{e}\n"));
                Ok(255)
            }
        }
    }

    fn set_option(&mut self, options: &mut u64, optc: usize) -> Result<(), Exit> {
        let bit = 1u64 << optc;
        if *options & bit != 0 {
            return Err(self.fail(&format!("multiple '{}' options specified", OPTNAMES[optc])));
        }
        *options |= bit;
        Ok(())
    }

    fn parse_timeout(&mut self, buf: Option<&String>, min: i64) -> Result<u32, Exit> {
        let Some(b) = buf else {
            return Ok(360);
        };
        match string_to_number(b, min, MAX_TIMEOUT) {
            Some(n) => Ok(to_u32(n)),
            None => Err(self.fail(&format!("invalid timeout value `{b}' specified"))),
        }
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one arm per option, as parse_options"
    )]
    fn option(
        &mut self,
        o: &Opt,
        ce: &mut Entry,
        options: &mut u64,
        format: &mut u32,
        sched_flags_arg: &mut String,
    ) -> Result<(), Exit> {
        let arg = o.arg.clone().unwrap_or_default();
        let num = |s: &str, min: i64, max: i64| string_to_number(s, min, max);
        match o.tag {
            Tag::Tcp | Tag::Udp | Tag::Sctp => {
                self.set_option(options, O_SERVICE)?;
                ce.proto = match o.tag {
                    Tag::Tcp => Protocol::Tcp,
                    Tag::Udp => Protocol::Udp,
                    _ => Protocol::Sctp,
                };
                match self.parse_service(&arg, ce.proto.number()) {
                    Ok((a, p)) => {
                        ce.addr = a;
                        if let Some(p) = p {
                            ce.port = p;
                        }
                    }
                    Err(()) => {
                        return Err(self.fail("illegal virtual server address[:port] specified"));
                    }
                }
            }
            Tag::Fwmark => {
                self.set_option(options, O_SERVICE)?;
                ce.proto = Protocol::Tcp;
                match num(&arg, 1, i64::from(u32::MAX)) {
                    Some(n) => ce.fwmark = to_u32(n),
                    None => {
                        return Err(self.fail(&format!("invalid fwmark value `{arg}' specified")));
                    }
                }
            }
            Tag::Scheduler => {
                self.set_option(options, O_SCHEDULER)?;
                ce.sched = arg.chars().take(15).collect();
            }
            Tag::Persistent => {
                self.set_option(options, O_PERSISTENT)?;
                ce.persistent = Some(self.parse_timeout(o.arg.as_ref(), 1)?);
            }
            Tag::Netmask => {
                self.set_option(options, O_NETMASK)?;
                match inet_aton(&arg).or_else(|| self.names.addr(&arg)) {
                    Some(m) => ce.netmask = m,
                    None => {
                        return Err(self.fail("illegal virtual server persistent mask specified"));
                    }
                }
            }
            Tag::RealServer => {
                self.set_option(options, O_SERVER)?;
                match self.parse_service(&arg, ce.proto.number()) {
                    Ok((a, p)) => {
                        ce.daddr = a;
                        ce.dport = p.unwrap_or(ce.port);
                    }
                    Err(()) => {
                        return Err(self.fail("illegal real server address[:port] specified"));
                    }
                }
            }
            Tag::Ipip | Tag::Gate | Tag::Masq | Tag::FullNat => {
                self.set_option(options, O_FORWARD)?;
                ce.fwd = match o.tag {
                    Tag::Ipip => FwdMethod::Tunnel,
                    Tag::Gate => FwdMethod::Route,
                    Tag::Masq => FwdMethod::Masq,
                    _ => FwdMethod::FullNat,
                };
            }
            Tag::Weight => {
                self.set_option(options, O_WEIGHT)?;
                match num(&arg, 0, 65535) {
                    Some(n) => ce.weight = to_u32(n),
                    None => return Err(self.fail("illegal weight specified")),
                }
            }
            Tag::UThreshold | Tag::LThreshold => {
                let u = o.tag == Tag::UThreshold;
                self.set_option(options, if u { O_UTHRESHOLD } else { O_LTHRESHOLD })?;
                match num(&arg, 0, i64::from(i32::MAX)) {
                    Some(n) if u => ce.u_threshold = to_u32(n),
                    Some(n) => ce.l_threshold = to_u32(n),
                    None if u => return Err(self.fail("illegal u_threshold specified")),
                    None => return Err(self.fail("illegal l_threshold specified")),
                }
            }
            Tag::Connection => self.set_option(options, O_CONNECTION)?,
            Tag::Numeric => {
                self.set_option(options, O_NUMERIC)?;
                *format |= NUMERIC;
            }
            Tag::McastIf => {
                self.set_option(options, O_MCAST)?;
                ce.mcast_ifn = arg.chars().take(15).collect();
            }
            Tag::SyncId => {
                self.set_option(options, O_SYNCID)?;
                match num(&arg, 0, 255) {
                    Some(n) => ce.syncid = to_u32(n),
                    None => return Err(self.fail("illegal syncid specified")),
                }
            }
            Tag::Timeout => self.set_option(options, O_TIMEOUT)?,
            Tag::Daemon => self.set_option(options, O_DAEMON)?,
            Tag::Stats => {
                self.set_option(options, O_STATS)?;
                *format |= STATS;
            }
            Tag::Rate => {
                self.set_option(options, O_RATE)?;
                *format |= RATE;
            }
            Tag::Thresholds => {
                self.set_option(options, O_THRESHOLDS)?;
                *format |= THRESHOLDS;
            }
            Tag::PersistentConn => {
                self.set_option(options, O_PERSISTENTCONN)?;
                *format |= PERSISTENTCONN;
            }
            Tag::NoSort => {
                self.set_option(options, O_NOSORT)?;
                *format |= NOSORT;
            }
            Tag::Sort => {}
            Tag::Exact => {
                self.set_option(options, O_EXACT)?;
                *format |= EXACT;
            }
            Tag::Ipv6 => {
                if ce.fwmark == 0 {
                    return Err(self.fail("-6 used before -f\n"));
                }
                self.out
                    .stderr
                    .push_str("Operation not supported with IPv6\n");
                return Err(Exit(255));
            }
            Tag::Ops => {
                self.set_option(options, O_ONEPACKET)?;
                ce.ops = true;
            }
            Tag::Pe => {
                self.set_option(options, O_PE)?;
                ce.pe = Some(arg.chars().take(16).collect());
            }
            Tag::SchedFlags => {
                self.set_option(options, O_SCHED_FLAGS)?;
                *sched_flags_arg = arg.chars().take(127).collect();
            }
            Tag::McastGroup => {
                self.set_option(options, O_MCAST_GROUP)?;
                match inet_aton(&arg).filter(Ipv4Addr::is_multicast) {
                    Some(g) => ce.mcast_group = Some(g),
                    None => {
                        let v = if arg.contains(':') { "IPv6" } else { "IPv4" };
                        return Err(self.fail(&format!("invalid {v} mcast-group `{arg}'")));
                    }
                }
            }
            Tag::McastPort => {
                self.set_option(options, O_MCAST_PORT)?;
                match num(&arg, 1, 65535) {
                    Some(n) => ce.mcast_port = u16::try_from(n).unwrap_or(0),
                    None => return Err(self.fail("illegal mcast-port specified")),
                }
            }
            Tag::McastTtl => {
                self.set_option(options, O_MCAST_TTL)?;
                match num(&arg, 1, 255) {
                    Some(n) => ce.mcast_ttl = u8::try_from(n).unwrap_or(0),
                    None => return Err(self.fail("illegal mcast-ttl specified")),
                }
            }
            Tag::SyncMaxlen => {
                self.set_option(options, O_SYNC_MAXLEN)?;
                match num(&arg, 1, 65535 - 20 - 8) {
                    Some(n) => ce.sync_maxlen = u16::try_from(n).unwrap_or(0),
                    None => return Err(self.fail("illegal sync-maxlen specified")),
                }
            }
            Tag::TunInfo => {
                self.set_option(options, O_TUN_INFO)?;
                *format |= TUN_INFO;
            }
            Tag::TunType => {
                self.set_option(options, O_TUN_TYPE)?;
                match TUNNAMES.iter().position(|n| *n == arg) {
                    Some(k) => ce.tun.kind = u8::try_from(k).unwrap_or(0),
                    None => return Err(self.fail("illegal tunnel type specified")),
                }
            }
            Tag::TunPort => {
                self.set_option(options, O_TUN_PORT)?;
                match num(&arg, 1, 65535) {
                    Some(n) => ce.tun.port = u16::try_from(n).unwrap_or(0),
                    None => return Err(self.fail("illegal tunnel port specified")),
                }
            }
            Tag::TunNocsum => self.set_option(options, O_TUN_NOCSUM)?,
            Tag::TunCsum => {
                self.set_option(options, O_TUN_CSUM)?;
                ce.tun.csum |= 1;
            }
            Tag::TunRemcsum => {
                self.set_option(options, O_TUN_REMCSUM)?;
                ce.tun.csum |= 2;
            }
            Tag::Laddr => {
                self.set_option(options, O_LADDR)?;
                match inet_aton(&arg) {
                    Some(a) => ce.laddr = a,
                    None => return Err(self.fail("illegal local address specified")),
                }
            }
            _ => return Err(self.fail(&format!("invalid option `{}'", o.word))),
        }
        Ok(())
    }

    fn parse_sched_flags(&mut self, sched: &str, arg: &str) -> Result<SchedFlags, Exit> {
        let sched = if sched.is_empty() { "wlc" } else { sched };
        let mut f = SchedFlags::default();
        let toks: Vec<&str> = arg.split(',').filter(|t| !t.is_empty()).collect();
        if toks.is_empty() {
            return Err(self.fail("invalid scheduler flag `'"));
        }
        for t in toks {
            let (bit, need) = match t {
                "flag-1" => (1, None),
                "flag-2" => (2, None),
                "flag-3" => (3, None),
                "sh-fallback" => (1, Some("sh")),
                "sh-port" => (2, Some("sh")),
                "mh-fallback" => (1, Some("mh")),
                "mh-port" => (2, Some("mh")),
                _ => return Err(self.fail(&format!("invalid scheduler flag `{t}'"))),
            };
            match bit {
                1 => f.flag1 = true,
                2 => f.flag2 = true,
                _ => f.flag3 = true,
            }
            if need.is_some_and(|n| n != sched) {
                return Err(self.fail(&format!("incompatible scheduler flag `{t}'")));
            }
        }
        Ok(f)
    }

    fn generic_opt_check(&mut self, cmd: Cmd, options: u64) -> Result<(), Exit> {
        let i = cmd as usize;
        let row = COMMANDS_V_OPTIONS[i];
        let mut last = 0;
        let mut count = 0;
        for (j, &rule) in row.iter().enumerate() {
            if options & (1 << j) == 0 {
                if rule == b'+' {
                    return Err(self.fail(&format!(
                        "You need to supply the '{}' option for the '{}' command",
                        OPTNAMES[j], CMDNAMES[i]
                    )));
                }
            } else {
                if rule == b'x' {
                    return Err(self.fail(&format!(
                        "Illegal '{}' option with the '{}' command",
                        OPTNAMES[j], CMDNAMES[i]
                    )));
                }
                if rule == b'1' {
                    count += 1;
                    if count == 1 {
                        last = j;
                        continue;
                    }
                    return Err(self.fail(&format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' command",
                        OPTNAMES[j], OPTNAMES[last], CMDNAMES[i]
                    )));
                }
            }
        }
        Ok(())
    }

    fn tunnel_opt_check(&mut self, kind: u8, options: u64) -> Result<(), Exit> {
        let i = usize::from(kind.min(2));
        let mut last = 0;
        let mut count = 0;
        for (j, &k) in TUNOPTS.iter().enumerate() {
            let rule = TUNNEL_V_OPTIONS[i][j];
            if options & (1 << k) == 0 {
                if rule == b'+' {
                    return Err(self.fail(&format!(
                        "You need to supply the '{}' option for the '{}' tunnel type",
                        OPTNAMES[k], TUNNAMES[i]
                    )));
                }
            } else {
                if rule == b'x' {
                    return Err(self.fail(&format!(
                        "Illegal '{}' option with the '{}' tunnel type",
                        OPTNAMES[k], TUNNAMES[i]
                    )));
                }
                if rule == b'1' {
                    count += 1;
                    if count == 1 {
                        last = k;
                        continue;
                    }
                    return Err(self.fail(&format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' tunnel type",
                        OPTNAMES[k], OPTNAMES[last], TUNNAMES[i]
                    )));
                }
            }
        }
        Ok(())
    }

    /// `restore_table` over `config_stream_read`: one command per stdin
    /// line, words split at space, tab and CR; **every** word that is exactly
    /// `ipvsadm` is dropped, and a line with no other word is skipped. As in
    /// ipvsadm 1.31, `#` starts no comment (`config_stream_read` looks for it
    /// in the delimiter, never in a word), so a `# …` line is a command
    /// without an option: "Try `ipvsadm -h'…", status 255, restore ends.
    /// A `fail()` ends everything, a kernel error does not; the status is the
    /// last line's.
    fn restore(&mut self, _argv: &[&str], reading_stdin: bool) -> Result<i32, Exit> {
        if reading_stdin {
            return Err(self.tryhelp());
        }
        let input = self.stdin.unwrap_or("").to_string();
        let mut result = 0;
        for line in input.split('\n') {
            let words: Vec<&str> = line
                .split([' ', '\t', '\r'])
                .filter(|w| !w.is_empty() && *w != "ipvsadm")
                .collect();
            if words.is_empty() {
                continue;
            }
            result = self.process(&words, true)?;
        }
        Ok(result)
    }
}

const VERSION: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

fn usage() -> String {
    let p = "ipvsadm";
    let mut s = String::from(VERSION);
    s.push_str("Usage:\n");
    for l in [
        "-A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]",
        "-D virtual-service",
        "-C",
        "-R",
        "-S [-n]",
        "-a|e virtual-service -r server-address [options]",
        "-d virtual-service -r server-address",
        "-L|l [virtual-service] [options]",
        "-Z [virtual-service]",
        "--set tcp tcpfin udp",
        "--start-daemon {master|backup} [daemon-options]",
        "--stop-daemon {master|backup}",
        "-h",
    ] {
        s.push_str(&format!("  {p} {l}\n"));
    }
    s.push('\n');
    s.push_str(USAGE_BODY);
    s
}

const USAGE_BODY: &str = "Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                      the default scheduler is wlc.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre,
                                      the default tunnel type is ipip.
  --tun-port      port                tunnel destination port
  --tun-nocsum                        tunnel encapsulation without checksum
  --tun-csum                          tunnel encapsulation with checksum
  --tun-remcsum                       tunnel encapsulation with remote checksum
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
Daemon Options:
  --syncid sid                        syncid for connection sync (default=255)
  --sync-maxlen length                Max sync message length (default=1472)
  --mcast-interface interface         multicast interface for connection sync
  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)
  --mcast-port port                   UDP port (default=8848)
  --mcast-ttl ttl                     Multicast TTL (default=1)
FULLNAT (lab extension, Alibaba LVS style):
  --add-laddr    -P                   add a local address (-z) to a service
  --del-laddr    -Q                   delete a local address (-z) from a service
  --get-laddr    -G                   list local addresses
  --laddr        -z local-address     local address for FULLNAT
  --fullnat                           full NAT forwarding method
";
