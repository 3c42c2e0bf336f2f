//! `lvslab kernel`: run scenarios on the Linux kernel's own IPVS and
//! compare with the simulator, request by request (or, where clients'
//! requests overlap in the simulator, as distributions: see [`concur`]).
//!
//! ```text
//!  scenario.toml ──► sim_core::scenario::load ──► simulator run ──► requests + ipvsadm views
//!        │                                              │ (start times)
//!        └─► model::read ─► translate (allow-list) ─► script::generate ─► sh on the host
//!                                                                      └► or qemu VM (vm.rs)
//!                                         results::parse ◄── @@LVL lines ◄┘
//!                                                │
//!                          compare::compare ◄────┘──► report, exit 1 on any difference
//! ```
//!
//! Where it runs: on the host when its kernel has IPVS (`/proc/net/ip_vs`)
//! and we are root; otherwise in a qemu VM booting Debian 12's cloud
//! kernel (see [`vm`]). Many scenarios run in one boot. Each scenario's
//! hosts become namespaces named `<prefix><n>-<host>` (`lvl-` in the VM,
//! `lvl<pid>-` on the host), cabled through bridges inside a separate
//! fabric namespace: the machine's own namespace is never changed.
//!
//! Simplifications (named, as the lab names its own): segments have no
//! latency or bandwidth limit on the kernel (sequential requests do not
//! depend on them; concurrent ones are compared within a tolerance); the
//! HTTP client is busybox wget and the server busybox httpd, so packet and
//! byte counters are shown but not compared. The
//! real keepalived runs where a scenario starts it ([`vrrp`] compares VIP
//! holders and takeover times); timed `[[action]]`s run at their times, and
//! a scenario whose action the kernel backend cannot do is "not run".

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub mod compare;
pub mod concur;
pub mod model;
pub mod results;
pub mod script;
pub mod simside;
pub mod translate;
pub mod vm;
pub mod vrrp;

mod hostrun;

/// Wall-clock time. Only sim-core is clock-free: this crate waits on
/// real processes and qemu, and shows elapsed real time.
pub(crate) fn now() -> Instant {
    Instant::now()
}

/// One request of the replayed sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Client host index.
    pub client: usize,
    /// URL.
    pub url: String,
    /// wget's timeout in seconds.
    pub timeout_s: u64,
}

/// One scenario prepared for the kernel.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// 1-based number in the batch.
    pub id: usize,
    /// The scenario file.
    pub label: String,
    /// Topology and setup lines.
    pub topo: model::Topology,
    /// `(host index, translated setup)`.
    pub setup: Vec<(usize, Vec<translate::Translated>)>,
    /// The request sequence.
    pub requests: Vec<Request>,
    /// Requests and timed actions in the simulator's order, each with the
    /// pause before it in µs (from the end of the previous item to its
    /// start, as the simulator ran them: `sleep N` in a loop) and its start
    /// time in the scenario in µs. Scenarios with keepalived run each item
    /// at its start time (keepalived's timers run on their own clock);
    /// the others pause between items.
    pub timeline: Vec<(u64, u64, Timed)>,
    /// IPVS schedulers the setup uses (checked before running).
    pub schedulers: BTreeSet<String>,
    /// Why the kernel backend does not run this scenario at all (FULLNAT
    /// is not in mainline Linux).
    pub not_run: Option<String>,
    /// Hosts whose ipvsadm views are compared.
    pub directors: Vec<String>,
    /// Hosts that run keepalived (setup or a timed action), by index.
    pub keepalived: Vec<usize>,
    /// keepalived starts and stops as the scenario orders them:
    /// `(time, host index, started)` (setup lines at time 0).
    pub ka_control: Vec<(sim_core::time::SimTime, usize, bool)>,
    /// The IPv4 VIPs of every `vrrp_instance` the keepalived hosts'
    /// configurations name (the addresses the VRRP comparison follows).
    pub ka_vips: BTreeSet<std::net::Ipv4Addr>,
    /// The longest checker `delay_loop` in the keepalived configurations:
    /// how far apart the simulator's and the real checkers' verdicts may be.
    pub ka_check_window: sim_core::time::SimDuration,
    /// Requests of different clients overlap in the simulator: the kernel
    /// runs each client's requests in its own loop, all at once, and the
    /// comparison is by distribution ([`concur`]). `None`: one request at
    /// a time (also for scenarios with keepalived or timed actions, which
    /// keep their sequential timeline).
    pub concurrent: Option<concur::Overlap>,
}

/// One item of the replayed timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timed {
    /// Request number k.
    Request(usize),
    /// A timed `[[action]]`: host index and its translated command.
    Action(usize, Vec<translate::Translated>),
}

/// Where to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The host if it has IPVS and we are root, else the VM.
    Auto,
    /// The host's kernel.
    Host,
    /// A qemu VM.
    Vm,
}

/// What `lvslab kernel` was asked to do.
#[derive(Clone, Debug)]
pub struct Options {
    /// Scenario files or folders (searched for `*.toml`).
    pub paths: Vec<PathBuf>,
    /// Where to run.
    pub backend: Backend,
    /// Also print every setup command the kernel did not run, and why.
    pub verbose: bool,
    /// Print the generated script and stop.
    pub print_script: bool,
    /// Time limit for the whole kernel run (seconds).
    pub timeout: Option<u64>,
}

/// Progress lines on stderr: boot, setup, traffic, collect.
#[derive(Debug)]
pub struct Progress {
    t0: Instant,
    labels: Vec<String>,
}

impl Progress {
    fn new(labels: Vec<String>) -> Self {
        Progress {
            t0: crate::now(),
            labels,
        }
    }
    /// Prints one progress line.
    pub fn say(&mut self, phase: &str, msg: &str) {
        eprintln!(
            "[{:6.1}s] {phase:<8} {msg}",
            self.t0.elapsed().as_secs_f64()
        );
    }
    /// Interprets a line printed by the guest or the script.
    pub fn guest(&mut self, line: &str) {
        let line = line.trim_end_matches('\r');
        let line = line.find("@@").map_or(line, |i| &line[i..]);
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["@@", "init-start", up] => self.say("boot", &format!("guest /init ({up})")),
            ["@@LVL", "kernel", v] => self.say("boot", &format!("kernel {v}")),
            ["@@LVL", "phase", e, ph] => {
                let n = self.labels.len();
                let i = e.parse::<usize>().unwrap_or(0);
                let label = self
                    .labels
                    .get(i.wrapping_sub(1))
                    .cloned()
                    .unwrap_or_default();
                if *ph == "setup" {
                    self.say(ph, &format!("{i}/{n} {label}"));
                } else {
                    self.say(ph, &format!("{i}/{n}"));
                }
            }
            ["@@LVL", "notrun", e, m @ ..] => {
                self.say("skip", &format!("{e}: not run: {}", m.join(" ")));
            }
            ["@@LVL", "done"] => self.say("done", "script finished"),
            _ => {}
        }
    }
}

/// Every `*.toml` under the paths, sorted within each folder.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("lvslab: cannot read {}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            v.sort();
            let files: Vec<PathBuf> = v
                .iter()
                .filter(|f| f.extension().is_some_and(|x| x == "toml"))
                .cloned()
                .collect();
            out.extend(files);
            let dirs: Vec<PathBuf> = v.into_iter().filter(|d| d.is_dir()).collect();
            out.extend(expand(&dirs)?);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn prepare(id: usize, path: &Path) -> Result<(Experiment, simside::SimRun), String> {
    let name = path.display().to_string();
    let src =
        std::fs::read_to_string(path).map_err(|e| format!("lvslab: cannot read {name}: {e}"))?;
    let sc = sim_core::scenario::load(&name, &src, sim_core::trace::TraceLevel::Off, None)
        .map_err(|e| e.to_string())?;
    let topo = model::read(&src, &sc.world).map_err(|e| format!("{name}: {e}"))?;
    for h in &topo.hosts {
        let ok = h
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        let ifok = h.ifaces.iter().all(|i| {
            i.name.len() <= 15
                && i.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        });
        if !ok || !ifok {
            return Err(format!(
                "{name}: host `{}`: the kernel backend needs host names of letters, digits, `_.-` and interface names of at most 15 characters",
                h.name
            ));
        }
    }
    let mut setup = Vec::new();
    let mut schedulers = BTreeSet::new();
    let mut not_run = None;
    for (hi, h) in topo.hosts.iter().enumerate() {
        let tr = translate::translate(&h.setup, &h.files);
        for t in &tr {
            for st in &t.steps {
                if let translate::Step::Run {
                    prog: translate::Prog::Ipvsadm,
                    args,
                    ..
                } = st
                {
                    if args
                        .iter()
                        .any(|a| a == "--fullnat" || a == "-P" || a == "--add-laddr")
                    {
                        not_run = Some(
                            "FULLNAT (--fullnat, local addresses -P) is Alibaba's LVS extension, not in mainline Linux".to_string(),
                        );
                    }
                    for w in args.windows(2) {
                        if matches!(w[0].as_str(), "-s" | "--scheduler") {
                            schedulers.insert(w[1].clone());
                        }
                    }
                }
            }
        }
        setup.push((hi, tr));
    }
    // The directors: hosts that run ipvsadm or keepalived (whose
    // virtual_server blocks build the IPVS table).
    let actions: Vec<(usize, Vec<translate::Translated>)> = topo
        .actions
        .iter()
        .enumerate()
        .map(|(i, (line, text))| {
            let host = sc.world.actions.get(i).map_or(usize::MAX, |a| a.host);
            let l = model::SetupLine {
                line: *line,
                text: text.clone(),
                heredoc: None,
            };
            let files = topo.hosts.get(host).map(|h| &h.files);
            (
                host,
                translate::translate(&[l], files.unwrap_or(&Default::default())),
            )
        })
        .collect();
    // A timed action the kernel cannot do changes the experiment: say so
    // and do not run it (e.g. `iptables -t nat …`).
    for ((line, text), (_, tr)) in topo.actions.iter().zip(&actions) {
        let steps: Vec<&translate::Step> = tr.iter().flat_map(|t| &t.steps).collect();
        if let Some(translate::Step::Skip(why)) = steps.first()
            && steps.iter().all(|s| matches!(s, translate::Step::Skip(_)))
        {
            not_run.get_or_insert_with(|| {
                format!(
                    "its [[action]] at line {line} (`{text}`) cannot run on the kernel backend ({why})"
                )
            });
        }
    }
    let runs_ka = |tr: &[translate::Translated]| {
        tr.iter().flat_map(|t| &t.steps).any(|st| {
            matches!(
                st,
                translate::Step::KeepalivedStart(_) | translate::Step::KeepalivedStop
            )
        })
    };
    let keepalived: Vec<usize> = (0..topo.hosts.len())
        .filter(|h| {
            setup.iter().any(|(hi, tr)| hi == h && runs_ka(tr))
                || actions.iter().any(|(hi, tr)| hi == h && runs_ka(tr))
        })
        .collect();
    let directors: Vec<String> = topo
        .hosts
        .iter()
        .enumerate()
        .filter(|(i, h)| topo.directors().contains(&h.name.as_str()) || keepalived.contains(i))
        .map(|(_, h)| h.name.clone())
        .collect();
    let dref: Vec<&str> = directors.iter().map(String::as_str).collect();
    let sim = simside::run(&name, &src, &dref).map_err(|e| e.to_string())?;
    let mut ka_vips = BTreeSet::new();
    let mut ka_check_window = sim_core::time::SimDuration::ZERO;
    for &h in &keepalived {
        let mut confs: Vec<String> = setup
            .iter()
            .chain(&actions)
            .filter(|(hi, _)| *hi == h)
            .flat_map(|(_, tr)| tr.iter().flat_map(|t| &t.steps))
            .filter_map(|st| match st {
                translate::Step::KeepalivedStart(c) => Some(c.clone()),
                _ => None,
            })
            .collect();
        confs.dedup();
        for c in confs {
            if let Some(p) = sim_core::world::keepalived::read_conf(&sc.world, h, &c) {
                for vs in &p.config.virtual_servers {
                    ka_check_window = ka_check_window.max(vs.delay_loop);
                    for rs in &vs.real_servers {
                        for c in &rs.checkers {
                            ka_check_window = ka_check_window.max(c.delay_loop);
                        }
                    }
                }
                for i in &p.config.vrrp_instances {
                    for e in &i.virtual_ipaddress {
                        if let std::net::IpAddr::V4(a) = e.address {
                            ka_vips.insert(a);
                        }
                    }
                }
            }
        }
    }
    let mut ka_control = Vec::new();
    for (hi, tr) in &setup {
        ka_control.extend(
            ka_changes(tr)
                .into_iter()
                .map(|on| (sim_core::time::SimTime::ZERO, *hi, on)),
        );
    }
    let requests = sim
        .requests
        .iter()
        .map(|r| Request {
            client: r.client,
            url: r.url.clone(),
            timeout_s: r.max_time.as_secs().clamp(1, 5),
        })
        .collect();
    // (start, end, action first at equal times, item)
    let mut items: Vec<(u64, u64, u8, Timed)> = sim
        .requests
        .iter()
        .enumerate()
        .map(|(k, r)| (r.start.as_nanos(), r.end.as_nanos(), 1, Timed::Request(k)))
        .collect();
    for (i, at, host) in &sim.actions {
        let Some((_, tr)) = actions.get(*i) else {
            continue;
        };
        ka_control.extend(ka_changes(tr).into_iter().map(|on| (*at, *host, on)));
        items.push((
            at.as_nanos(),
            at.as_nanos(),
            0,
            Timed::Action(*host, tr.clone()),
        ));
    }
    items.sort_by_key(|a| (a.0, a.2));
    let mut prev_end = items.first().map_or(0, |i| i.0);
    let mut timeline = Vec::new();
    for (start, end, _, what) in items {
        timeline.push((start.saturating_sub(prev_end) / 1000, start / 1000, what));
        prev_end = prev_end.max(end);
    }
    let sequential_only = !keepalived.is_empty() || !sim.actions.is_empty();
    let concurrent = if sequential_only {
        None
    } else {
        let spans: Vec<(usize, u64, u64)> = sim
            .requests
            .iter()
            .map(|r| (r.client, r.start.as_nanos(), r.end.as_nanos()))
            .collect();
        concur::overlap(&spans)
    };
    Ok((
        Experiment {
            id,
            label: name,
            topo,
            setup,
            requests,
            timeline,
            schedulers,
            not_run,
            directors,
            keepalived,
            ka_control,
            ka_vips,
            ka_check_window,
            concurrent,
        },
        sim,
    ))
}

/// keepalived starts (`true`) and stops (`false`) in translated lines.
fn ka_changes(tr: &[translate::Translated]) -> Vec<bool> {
    tr.iter()
        .flat_map(|t| &t.steps)
        .filter_map(|st| match st {
            translate::Step::KeepalivedStart(_) => Some(true),
            translate::Step::KeepalivedStop => Some(false),
            _ => None,
        })
        .collect()
}

/// True when this process may use the host kernel's IPVS.
#[must_use]
pub fn host_has_ipvs() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false);
    root && Path::new("/proc/net/ip_vs").exists()
}

/// Runs `lvslab kernel`. Returns the exit status (0 same, 1 differences
/// or the kernel run failed); `Err` is bad input (exit 2).
///
/// # Errors
/// A message for the user (unreadable or invalid scenario).
pub fn main(opts: &Options) -> Result<u8, String> {
    let files = expand(&opts.paths)?;
    if files.is_empty() {
        return Err("lvslab kernel: no scenario files given".into());
    }
    let mut exps = Vec::new();
    let mut sims = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let (x, s) = prepare(i + 1, f)?;
        exps.push(x);
        sims.push(s);
    }
    // Experiments run two at a time (the VM gets as many vCPUs).
    let jobs = std::env::var("LVSLAB_KERNEL_JOBS")
        .ok()
        .and_then(|j| j.parse::<usize>().ok())
        .unwrap_or(2)
        .clamp(1, 8);
    let script = script::generate(&exps, 8, jobs);
    if opts.print_script {
        print!("{script}");
        return Ok(0);
    }
    let mut progress = Progress::new(exps.iter().map(|x| x.label.clone()).collect());
    let use_host = match opts.backend {
        Backend::Host => true,
        Backend::Vm => false,
        Backend::Auto => host_has_ipvs(),
    };
    // 30 s per scenario, plus the scenario time of those that run
    // keepalived (they wait for its timers in real time).
    let real_time: u64 = exps
        .iter()
        .filter(|x| !x.keepalived.is_empty())
        .map(|x| x.timeline.last().map_or(0, |t| t.1 / 1_000_000))
        .sum();
    let limit = Duration::from_secs(
        opts.timeout
            .unwrap_or(120 + 30 * u64::try_from(exps.len()).unwrap_or(0) + real_time),
    );
    let work = std::env::temp_dir().join(format!("lvslab-kernel-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let t0 = crate::now();
    let (where_, out) = if use_host {
        (
            "host kernel",
            hostrun::run(&script, &work, limit, &mut progress),
        )
    } else {
        let out = vm::base(&mut progress)
            .and_then(|b| vm::run(&b, &script, &work, limit, jobs, &mut progress));
        ("qemu VM", out)
    };
    let text = match out {
        Ok(t) => t,
        Err(e) => {
            eprintln!("lvslab kernel: {e}");
            eprintln!(
                "lvslab kernel: the script and logs are kept in {}",
                work.display()
            );
            return Ok(1);
        }
    };
    let _ = std::fs::write(work.join("results.log"), &text);
    let run = results::parse(&text);
    let mut total = 0;
    let mut unsupported = 0;
    for (x, s) in exps.iter().zip(&sims) {
        let r = compare::compare(x, s, run.exps.get(&x.id), opts.verbose);
        let verdict = if r.unsupported {
            unsupported += 1;
            "not run".to_string()
        } else {
            format!("{} differences", r.differences)
        };
        println!("== {}: {verdict}", x.label);
        print!("{}", r.text);
        total += r.differences;
    }
    if run.leftover != Some(0) {
        total += 1;
        println!(
            "DIFF namespaces left behind after the run: {}",
            run.leftover.map_or("unknown".into(), |n| n.to_string())
        );
    }
    println!(
        "lvslab kernel: {} scenarios on {} {} ({:.1} s): {total} differences{}",
        exps.len(),
        where_,
        run.kernel,
        t0.elapsed().as_secs_f64(),
        if unsupported > 0 {
            format!(", {unsupported} not run (see above)")
        } else {
            String::new()
        }
    );
    if total == 0 {
        let _ = std::fs::remove_dir_all(&work);
        Ok(0)
    } else {
        eprintln!(
            "lvslab kernel: the script and logs are kept in {}",
            work.display()
        );
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenarios() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
    }

    /// `sh -n` accepts the generated script `s` (written to a temp dir
    /// named after `tag` and the process).
    fn assert_valid_sh(s: &str, tag: &str) {
        let dir = std::env::temp_dir().join(format!("lvslab-{tag}-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("s.sh");
        std::fs::write(&f, s).unwrap();
        let st = std::process::Command::new("sh")
            .arg("-n")
            .arg(&f)
            .status()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(st.success(), "generated script is not valid sh");
    }

    /// Compares `actual` with `tests/golden/kernel/<name>`; `UPDATE_GOLDEN=1`
    /// rewrites it (temp file + rename) instead.
    fn golden(name: &str, actual: &str) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/golden/kernel")
            .join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, actual).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "missing {}: run with UPDATE_GOLDEN=1 and review the diff",
                path.display()
            )
        });
        assert!(
            expected == actual,
            "{} differs (UPDATE_GOLDEN=1 regenerates; review with git diff)\n--- expected\n{expected}--- actual\n{actual}",
            path.display()
        );
    }

    /// keepalived labs: both directors run the real keepalived on the
    /// configuration the setup wrote; the stop and start actions become
    /// `ka_stop`/`ka_start` at their scenario times; the VIPs and checker
    /// window come from the configuration.
    #[test]
    fn keepalived_lab_runs_the_real_keepalived() {
        use sim_core::time::{SimDuration, SimTime};
        let (x, sim) = prepare(1, &scenarios().join("labs/tutorial-keepalived-dr.toml")).unwrap();
        assert_eq!(x.not_run, None);
        assert_eq!(x.keepalived, [0, 1]);
        assert_eq!(x.directors, ["lvs-master", "lvs-backup"]);
        let at = |s| SimTime::ZERO + SimDuration::from_secs(s);
        assert_eq!(
            x.ka_control,
            [
                (at(0), 0, true),
                (at(0), 1, true),
                (at(15), 0, false),
                (at(25), 0, true)
            ]
        );
        assert_eq!(
            x.ka_vips
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["192.168.59.135"]
        );
        assert_eq!(x.ka_check_window, SimDuration::from_secs(3));
        // the simulator's VIP moves: master, backup at 15.609 s, master again
        let adds: Vec<(u64, usize)> = sim
            .vips
            .iter()
            .filter(|v| v.3)
            .map(|v| (v.0.as_nanos() / 1_000_000, v.1))
            .collect();
        assert_eq!(adds, [(3218, 0), (15609, 1), (28218, 0)]); // 3.21875 s
        assert!(!sim.checks.is_empty());
        let s = script::generate(std::slice::from_ref(&x), 8, 2);
        for want in [
            "ka_start 121 /etc/keepalived/keepalived.conf",
            "ka_start 203 /etc/keepalived/keepalived.conf",
            "ka_stop 286",
            "ka_start 292 /etc/keepalived/keepalived.conf",
            "\"$LVL_IP\" -n \"$LVL_P\"1-lvs-backup -ts -o monitor address",
            "lvl_at \"$lvl_t0\" 1500\n{ printf",
            "lvl_file 1 lvs-master ka-events \"$LVL_DIR/1/lvs-master/ka-events.log\"",
        ] {
            assert!(s.contains(want), "missing {want}");
        }
        let (n, _) = prepare(1, &scenarios().join("lessons/keepalived-nopreempt.toml")).unwrap();
        let text = script::generate(std::slice::from_ref(&n), 8, 2);
        let here = scenarios().display().to_string();
        golden("keepalived-nopreempt.sh", &text.replace(&here, "scenarios"));
        // the configuration is written, exactly as the scenario has it
        assert!(s.contains("/etc/keepalived/keepalived.conf"));
        assert!(s.contains("virtual_router_id 62"));
        assert_valid_sh(&s, "ka");
    }

    /// The comparison of a keepalived lab against a kernel run that behaves
    /// like the simulator: VRRP agrees; a request near a checker verdict
    /// that differs is timing, not counted; one far from any is a
    /// difference; a slow takeover is a difference.
    #[test]
    fn keepalived_comparison_policy() {
        let (x, sim) = prepare(1, &scenarios().join("labs/tutorial-keepalived-dr.toml")).unwrap();
        let mut k = kernel_like_sim(&x, &sim);
        ka_logs_like_sim(&x, &sim, &mut k, DIRECTORS, None);
        let r = compare::compare(&x, &sim, Some(&k), false);
        assert_eq!(r.differences, 0, "{}", r.text);
        golden("tutorial-keepalived-dr.report", &r.text);
        assert!(r.text.contains("same: VRRP takeover of 192.168.59.135 after `systemctl stop keepalived` on lvs-master (stop #1, 15.000s): sim 0.609 s (lvs-backup), kernel 0.6"), "{}", r.text);
        assert!(r.text.contains("same: VRRP: VIP 192.168.59.135 held by lvs-master → lvs-backup → lvs-master in turn"), "{}", r.text);
        // one request near rs2's checker verdict, one far from everything
        let near = sim
            .requests
            .iter()
            .position(|q| q.start.as_secs_f64() > sim.checks[0].as_secs_f64() + 0.5)
            .unwrap();
        let far = sim
            .requests
            .iter()
            .position(|q| q.start.as_secs_f64() > 8.0)
            .unwrap();
        for i in [near, far] {
            k.reqs.insert(
                i,
                results::KReq {
                    rc: 0,
                    body: "rs9\n".into(),
                },
            );
        }
        let r = compare::compare(&x, &sim, Some(&k), false);
        assert_eq!(r.differences, 1, "{}", r.text);
        assert!(
            r.text.contains(&format!("  DIFF request {} ", far + 1)),
            "{}",
            r.text
        );
        assert!(
            r.text
                .contains(&format!("timing (not counted): request {} ", near + 1)),
            "{}",
            r.text
        );
        // the backup taking 1 s longer than the simulator's skew time
        let key = ("lvs-backup".to_string(), "ka-addr".to_string());
        let slow = k.outs[&key].replacen("12:00:15.669", "12:00:16.669", 1);
        assert_ne!(slow, k.outs[&key]);
        k.outs.insert(key, slow);
        let r = compare::compare(&x, &sim, Some(&k), false);
        assert!(r.text.contains("DIFF VRRP takeover"), "{}", r.text);
        assert!(r.text.contains("beyond ±0.25 s"), "{}", r.text);
    }

    /// The two keepalived directors of the keepalived scenarios (host
    /// index, name).
    const DIRECTORS: &[(usize, &str)] = &[(0, "lvs-master"), (1, "lvs-backup")];

    /// The keepalived logs (`ka-events`, `ka-addr`) a kernel run would
    /// write for `hosts` (index, name) had it moved the VIPs at the
    /// simulator's times (+20 ms for `up` after a start, +60 ms for an
    /// address), on a wall clock from 12:00:00. `dead`: a host powered off
    /// at that time (s), whose address monitor dies with it, so nothing it
    /// held is logged as deleted from then on.
    fn ka_logs_like_sim(
        x: &Experiment,
        sim: &simside::SimRun,
        k: &mut results::KExp,
        hosts: &[(usize, &str)],
        dead: Option<(usize, f64)>,
    ) {
        use std::fmt::Write as _;
        let iso = |t: f64| {
            let ms = (t * 1000.0).round() as u64;
            format!(
                "2026-12-03T12:{:02}:{:02}.{:03}000",
                ms / 60_000,
                ms / 1000 % 60,
                ms % 1000
            )
        };
        for &(h, name) in hosts {
            let mut ev = String::new();
            for (at, hi, on) in &x.ka_control {
                if *hi == h {
                    let t = at.as_secs_f64();
                    let _ = writeln!(ev, "{} {}", iso(t), if *on { "start" } else { "stop" });
                    if *on {
                        let _ = writeln!(ev, "{} up", iso(t + 0.02));
                    }
                }
            }
            let mut addr = String::new();
            for (at, hi, a, added) in &sim.vips {
                let t = at.as_secs_f64();
                if *hi != h || dead.is_some_and(|(d, off)| d == h && t >= off) {
                    continue;
                }
                let _ = writeln!(
                    addr,
                    "[{}] {}3: ens33    inet {a}/32 scope global ens33",
                    iso(t + 0.06),
                    if *added { "" } else { "Deleted " }
                );
            }
            k.outs.insert((name.into(), "ka-events".into()), ev);
            k.outs.insert((name.into(), "ka-addr".into()), addr);
        }
    }

    /// The MASTER loses power: on the kernel its address monitor dies with
    /// it and logs no deletion, yet it no longer holds the VIP; the
    /// comparison counts the VIP as gone at the power-off, as in the
    /// simulator.
    #[test]
    fn a_powered_off_director_holds_no_vip() {
        let (x, sim) = prepare(1, &scenarios().join("kernel/keepalived-poweroff-dr.toml")).unwrap();
        let off = x
            .timeline
            .iter()
            .find_map(|(_, at, what)| match what {
                Timed::Action(h, tr)
                    if tr
                        .iter()
                        .flat_map(|t| &t.steps)
                        .any(|st| matches!(st, translate::Step::Poweroff)) =>
                {
                    #[allow(clippy::cast_precision_loss)]
                    Some((*h, *at as f64 / 1e6))
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(x.topo.hosts[off.0].name, "lvs-master");
        assert_eq!(x.topo.hosts[1].name, "lvs-backup");
        let mut k = kernel_like_sim(&x, &sim);
        ka_logs_like_sim(&x, &sim, &mut k, DIRECTORS, Some(off));
        let r = compare::compare(&x, &sim, Some(&k), false);
        assert_eq!(r.differences, 0, "{}", r.text);
        assert!(r.text.contains("same: VRRP"), "{}", r.text);
    }

    /// A kernel run that answers every request as the simulator did and
    /// prints the simulator's ipvsadm views and setup skips.
    fn kernel_like_sim(x: &Experiment, sim: &simside::SimRun) -> results::KExp {
        let mut k = results::KExp {
            ok: true,
            ..Default::default()
        };
        for (i, r) in sim.requests.iter().enumerate() {
            let (rc, body) = match r.status {
                Some(200) => (0, r.printed.clone()),
                _ => (1, String::new()),
            };
            k.reqs.insert(i, results::KReq { rc, body });
        }
        k.outs.clone_from(&sim.outs);
        for (_, tr) in &x.setup {
            for t in tr {
                for st in &t.steps {
                    if let translate::Step::Skip(why) = st {
                        k.skipped.push((t.line, why.clone()));
                    }
                }
            }
        }
        k
    }

    /// Overlapping clients: the mode is concurrent, each client's requests
    /// run in their own background loop, and the comparison counts the
    /// distribution within ±max(2, 10 %), not each request's server.
    #[test]
    fn concurrent_clients_compare_as_distributions() {
        let (x, sim) = prepare(1, &scenarios().join("kernel/concurrent-lc-dr.toml")).unwrap();
        assert_eq!(
            x.concurrent,
            Some(concur::Overlap {
                clients: 3,
                requests: 24
            })
        );
        let s = script::generate(std::slice::from_ref(&x), 8, 2);
        for want in [
            "lvl_pids=\"\"; lvl_t0=$(lvl_cs)\n(\n  lvl_at \"$lvl_t0\" 0; lvl_req 0 1-c1 http://10.0.0.100 5\n",
            ") > \"$LVL_DIR/1/c3/requests\" 2> \"$LVL_DIR/1/c3/requests.err\" 3>&- &\nlvl_pids=\"$lvl_pids $!\"",
            "wait $lvl_pids\ncat \"$LVL_DIR/1/c1/requests\" \"$LVL_DIR/1/c2/requests\" \"$LVL_DIR/1/c3/requests\"",
        ] {
            assert!(s.contains(want), "missing {want}");
        }
        // every request runs once, at its time from the first (cs)
        assert_eq!(s.matches("; lvl_req ").count(), 24);
        assert!(
            s.contains("  lvl_at \"$lvl_t0\" 70; lvl_req 23 1-c3 "),
            "{s}"
        );
        let here = scenarios().display().to_string();
        golden("concurrent-lc-dr.sh", &s.replace(&here, "scenarios"));
        // the kernel swaps which client reached which server: not counted
        let mut k = kernel_like_sim(&x, &sim);
        let swap = |k: &mut results::KExp, i: usize, j: usize| {
            let (a, b) = (k.reqs[&i].clone(), k.reqs[&j].clone());
            k.reqs.insert(i, b);
            k.reqs.insert(j, a);
        };
        swap(&mut k, 0, 1);
        swap(&mut k, 5, 7);
        let r = compare::compare(&x, &sim, Some(&k), false);
        assert_eq!(r.differences, 0, "{}", r.text);
        golden("concurrent-lc-dr.report", &r.text);
        assert!(
            r.text.contains("within ±3 (max(2, 10 % of 24))"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("concurrent (not counted): request 1 "),
            "{}",
            r.text
        );
        // Every answer moved one request on: the same distribution, many
        // requests answered differently; five are listed, the rest counted.
        let same = kernel_like_sim(&x, &sim);
        let mut rotated = kernel_like_sim(&x, &sim);
        for i in 0..24 {
            rotated.reqs.insert(i, same.reqs[&((i + 1) % 24)].clone());
        }
        let moved = (0..24)
            .filter(|i| rotated.reqs[i].body != same.reqs[i].body)
            .count();
        assert!(moved > 5, "{moved}");
        let r = compare::compare(&x, &sim, Some(&rotated), false);
        assert_eq!(r.differences, 0, "{}", r.text);
        assert_eq!(
            r.text.matches("concurrent (not counted): request ").count(),
            5,
            "{}",
            r.text
        );
        let more = format!(
            "concurrent (not counted): {} more requests answered differently",
            moved - 5
        );
        assert!(r.text.contains(&more), "{}", r.text);
        // one more on rs1: the first request answered by another server
        let to_rs1 = |k: &mut results::KExp| {
            let i = (0..24)
                .find(|i| k.reqs[i].rc == 0 && k.reqs[i].body.trim_end() != "rs1")
                .unwrap();
            let rs1 = results::KReq {
                rc: 0,
                body: "rs1\n".into(),
            };
            k.reqs.insert(i, rs1);
        };
        // three more on rs1 and a failure: within ±3
        for _ in 0..3 {
            to_rs1(&mut k);
        }
        let rs2 = (0..24)
            .find(|i| k.reqs[i].body.trim_end() == "rs2")
            .unwrap();
        k.reqs.insert(
            rs2,
            results::KReq {
                rc: 1,
                body: String::new(),
            },
        );
        let r = compare::compare(&x, &sim, Some(&k), false);
        assert_eq!(r.differences, 0, "{}", r.text);
        assert!(r.text.contains("(failed) 0/1, rs1 8/11"), "{}", r.text);
        // four more: beyond
        to_rs1(&mut k);
        let r = compare::compare(&x, &sim, Some(&k), false);
        assert!(r.differences > 0, "{}", r.text);
        assert!(
            r.text
                .contains("DIFF requests per answer beyond ±3 for rs1"),
            "{}",
            r.text
        );
        // counters within ±3 pass; a weight never does
        let mut k = kernel_like_sim(&x, &sim);
        let key = ("lvs".to_string(), "Ln".to_string());
        let ln = k.outs[&key].clone();
        let bump = |t: &str, from: &str, to: &str| {
            let out = t.replacen(from, to, 1);
            assert_ne!(out, t, "{t}");
            out
        };
        let near = bump(
            &ln,
            "Route   1      0          8",
            "Route   1      0          10",
        );
        k.outs.insert(key.clone(), near);
        let r = compare::compare(&x, &sim, Some(&k), false);
        assert_eq!(r.differences, 0, "{}", r.text);
        assert!(
            r.text.contains("concurrent (within ±3): lvs: ipvsadm -Ln"),
            "{}",
            r.text
        );
        let far = bump(
            &ln,
            "Route   1      0          8",
            "Route   1      0          12",
        );
        k.outs.insert(key.clone(), far);
        assert!(compare::compare(&x, &sim, Some(&k), false).differences > 0);
        let weight = bump(
            &ln,
            "Route   1      0          8",
            "Route   2      0          8",
        );
        k.outs.insert(key, weight);
        assert!(compare::compare(&x, &sim, Some(&k), false).differences > 0);
        // -lnc: clients swapped between the real servers: same per server;
        // another state is a difference
        let mut k = kernel_like_sim(&x, &sim);
        let key = ("lvs".to_string(), "lnc".to_string());
        let lnc = k.outs[&key].clone();
        let swapped = lnc
            .replace("10.0.0.51:", "10.0.0.XX:")
            .replace("10.0.0.52:", "10.0.0.51:")
            .replace("10.0.0.XX:", "10.0.0.52:");
        assert_ne!(swapped, lnc);
        k.outs.insert(key.clone(), swapped);
        let r = compare::compare(&x, &sim, Some(&k), false);
        assert_eq!(r.differences, 0, "{}", r.text);
        assert!(r.text.contains("concurrent (within ±3): lvs: ipvsadm -lnc: the same states; entries per real server (simulator/kernel): 10.0.0.11:80 8/8, 10.0.0.12:80 8/8, 10.0.0.13:80 8/8"), "{}", r.text);
        k.outs.insert(key, bump(&lnc, "FIN_WAIT", "ESTABLISHED"));
        let r = compare::compare(&x, &sim, Some(&k), false);
        assert!(r.text.contains("DIFF lvs: ipvsadm -lnc"), "{}", r.text);
    }

    /// The shipped sequential scenarios stay sequential (their clients are
    /// staggered): only the concurrent one switches mode.
    #[test]
    fn concurrent_mode_only_where_clients_overlap() {
        let dir = |d: &str| -> Vec<PathBuf> { expand(&[scenarios().join(d)]).unwrap() };
        let mut files = dir("conformance");
        files.extend(dir("kernel"));
        files.extend(
            ["labs/tutorial-dr.toml", "labs/nat.toml", "labs/tun.toml"]
                .map(|f| scenarios().join(f)),
        );
        let mut concurrent = Vec::new();
        for f in &files {
            let (x, _) = prepare(1, f).unwrap();
            if x.concurrent.is_some() {
                concurrent.push(f.file_name().unwrap().to_string_lossy().to_string());
            }
        }
        assert!(files.len() > 40);
        assert_eq!(concurrent, ["concurrent-lc-dr.toml"]);
    }

    /// An experiment running keepalived runs alone; the others two at a
    /// time, in order.
    #[test]
    fn keepalived_experiments_run_alone() {
        let f = |n: &str, id| prepare(id, &scenarios().join(n)).unwrap().0;
        let v = vec![
            f("labs/tutorial-dr.toml", 1),
            f("labs/tutorial-keepalived-dr.toml", 2),
            f("labs/nat.toml", 3),
            f("labs/tun.toml", 4),
            f("labs/keepalived-split-brain.toml", 5),
        ];
        let ids: Vec<Vec<usize>> = script::sets(&v, 2)
            .iter()
            .map(|s| s.iter().map(|x| x.id).collect())
            .collect();
        // split-brain is "not run": it need not wait alone
        assert_eq!(ids, [vec![1], vec![2], vec![3, 4], vec![5]]);
    }

    /// A timed action the kernel cannot do makes the scenario "not run",
    /// naming it; the split-brain lab's `iptables` rule and the checker
    /// lesson's `poweroff` run.
    #[test]
    fn unrunnable_actions_are_named() {
        let (x, _) = prepare(1, &scenarios().join("labs/keepalived-split-brain.toml")).unwrap();
        assert_eq!(x.not_run, None);
        let s = script::generate(std::slice::from_ref(&x), 8, 2);
        assert!(s.contains("x 270 \"$LVL_IPTABLES\" -A INPUT -p vrrp -j DROP"));
        let (x, _) = prepare(
            1,
            &scenarios().join("lessons/keepalived-checker-timing.toml"),
        )
        .unwrap();
        assert_eq!(x.not_run, None);
        let s = script::generate(std::slice::from_ref(&x), 8, 2);
        assert!(s.contains("lvl_off 128"), "rs2's poweroff runs");
        let (x, _) = prepare(1, &scenarios().join("lessons/weight0-drain.toml")).unwrap();
        assert_eq!(x.not_run, None);
        // The split-brain lab with a nat-table rule instead: not run, named.
        let lab = std::fs::read_to_string(scenarios().join("labs/keepalived-split-brain.toml"))
            .unwrap()
            .replace(
                "run = \"iptables -A INPUT -p vrrp -j DROP\"",
                "run = \"iptables -t nat -A POSTROUTING -j MASQUERADE\"",
            );
        let dir = std::env::temp_dir().join(format!("lvslab-unrunnable-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("split-brain-nat.toml");
        std::fs::write(&f, lab).unwrap();
        let (x, _) = prepare(1, &f).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let why = x.not_run.unwrap();
        assert!(
            why.contains("line 270") && why.contains("iptables -t nat"),
            "{why}"
        );
    }

    /// The generated script for real shipped scenarios is valid `sh`, keeps
    /// every network change inside its prefixed namespaces and replays the
    /// simulator's requests.
    #[test]
    fn script_for_shipped_scenarios() {
        let files = [
            scenarios().join("labs/tutorial-dr.toml"),
            scenarios().join("conformance/persist-netmask-dr.toml"),
        ];
        let mut exps = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let (x, sim) = prepare(i + 1, f).unwrap();
            assert_eq!(x.requests.len(), sim.requests.len());
            assert!(!x.requests.is_empty());
            exps.push(x);
        }
        // tutorial: 6 requests 1 s apart; conformance: 3 clients x 3
        assert_eq!(exps[0].requests.len(), 6);
        assert!(exps[0].timeline[1].0 > 900_000);
        let gap = exps[0].timeline[1].1 - exps[0].timeline[0].1;
        assert!((1_000_000..1_010_000).contains(&gap), "{gap}");
        assert_eq!(exps[1].requests.len(), 9);
        assert_eq!(exps[0].directors, ["lvs"]);
        assert!(exps[1].schedulers.contains("rr"));
        let s = script::generate(&exps, 8, 2);
        assert_valid_sh(&s, "kernel");
        // Every `ip` call names a namespace (-n, netns, or a netns batch).
        for l in s.lines().filter(|l| l.contains("\"$LVL_IP\"")) {
            assert!(
                l.contains(" -n ") || l.contains("netns") || l.contains("LVL_IP\" -force -batch"),
                "ip outside a namespace: {l}"
            );
        }
        // the tutorial's `yum` is skipped, its ipvsadm lines run
        assert!(s.contains("@@LVL skip 32 nothing to install"));
        assert!(s.contains("x 49 \"$LVL_IPVSADM\" -A -t 192.168.59.135:80 -s rr"));
        assert!(s.ends_with("echo \"@@LVL done\"\n"));
    }
}
