//! `lvslab`: the command-line front end of the LVS/IPVS lab.
//!
//! Exit status: 0 success, 1 a check or expectation failed, 2 bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sim_core::scenario::{self, Scenario};
use sim_core::time::{SimDuration, SimTime};
use sim_core::trace::TraceLevel;

mod bench;
mod bench_flow;
mod check;
mod files;
mod flowrun;
mod tracerun;
mod tui;

/// A deterministic Linux Virtual Server lab: real commands, simulated hosts.
#[derive(Parser, Debug)]
#[command(name = "lvslab", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TraceFmt {
    /// One tcpdump-like line per hop, hook and decision.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum UiLang {
    /// English.
    En,
    /// Simplified Chinese.
    Zh,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run a scenario and print a summary (and, with --trace, every hop).
    Run {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Override the scenario's root seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Simulate until this time (default: the scenario's duration), e.g. 30s.
        #[arg(long)]
        until: Option<String>,
        /// Print the full trace in this format.
        #[arg(long, value_enum)]
        trace: Option<TraceFmt>,
        /// Run twice and fail (exit 1) unless both traces are byte-identical.
        #[arg(long)]
        check_determinism: bool,
        /// Flow fidelity: write metrics.json and CSV time series into DIR.
        #[arg(long, value_name = "DIR")]
        metrics: Option<PathBuf>,
    },
    /// Run a scenario up to a time and print what a command prints on a host then.
    Exec {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// The host to run the command on.
        host: String,
        /// When to run it (default: the scenario's end), e.g. 25s.
        #[arg(long)]
        at: Option<String>,
        /// The command, e.g. `-- ip neigh` or `-- ipvsadm -Ln`.
        #[arg(last = true, required = true)]
        cmd: Vec<String>,
    },
    /// Write the packets of a run as a pcap file (as `tcpdump -i any` sees them).
    Pcap {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Output pcap file (written atomically).
        #[arg(short, long)]
        output: PathBuf,
        /// Capture on this host only (default: every host, one cooked capture).
        #[arg(long)]
        host: Option<String>,
        /// Simulate until this time (default: the scenario's duration).
        #[arg(long)]
        until: Option<String>,
    },
    /// Run scenarios on the real kernel's IPVS (host or qemu VM) and compare with the simulator.
    Kernel {
        /// Scenario files or folders (every *.toml inside).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Always boot the qemu VM, even if the host kernel has IPVS.
        #[arg(long, conflicts_with = "host")]
        vm: bool,
        /// Always use the host kernel (needs root and IPVS).
        #[arg(long)]
        host: bool,
        /// Also list every setup command the kernel did not run, and why.
        #[arg(short, long)]
        verbose: bool,
        /// Print the generated script and stop.
        #[arg(long)]
        print_script: bool,
        /// Time limit for the kernel run, in seconds.
        #[arg(long)]
        timeout: Option<u64>,
    },
    /// The classroom view: step through the run packet by packet.
    Tui {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Language of the explanations and labels.
        #[arg(long, value_enum, default_value = "en")]
        lang: UiLang,
        /// Override the scenario's root seed.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Scenario regression: run every scenario with [[expect]] tables and check them.
    ///
    /// Exit status 1 when any expectation fails. Directories are searched for
    /// *.toml files (folders named `invalid` are skipped); default: scenarios/.
    Check {
        /// Scenario files or folders.
        paths: Vec<PathBuf>,
        /// Also write the results as JUnit XML (written atomically).
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Rewrite golden files that differ (review the change with git diff).
        #[arg(long)]
        update: bool,
    },
    /// Find classic LVS misconfigurations (DR ARP problem, NAT gateway, ...) and say how to fix them.
    ///
    /// Exit status 1 when there is a warning.
    Lint {
        /// The scenario file (TOML).
        scenario: PathBuf,
    },
    /// Plot a run: PNG + SVG charts and a self-contained index.html in DIR.
    Report {
        /// The scenario file (TOML).
        scenario: PathBuf,
        /// Output folder (created if missing).
        #[arg(short, long)]
        output: PathBuf,
        /// Override the scenario's root seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Simulate until this time (default: the scenario's duration), e.g. 30s.
        #[arg(long)]
        until: Option<String>,
        /// Sample interval (packet fidelity; default: about 120 samples), e.g. 500ms.
        #[arg(long)]
        interval: Option<String>,
    },
    /// Capacity what-if: run a grid of scenario variants in parallel and plot the results.
    Sweep(reports::sweep::SweepArgs),
    /// Measure: the event queue, a packet-level LVS-DR run, flow-level lb-mm (1M requests, best and median of 5 runs; 10M for memory) and the TUI.
    Bench {
        /// A shorter run (for CI smoke tests).
        #[arg(long)]
        quick: bool,
        /// Only run the lb-mm model with N requests and print one line
        /// (used by `lvslab bench` to measure memory in a fresh process).
        #[arg(long, value_name = "N", hide = true)]
        lb_mm: Option<u64>,
    },
}

/// An error for the user: message and exit code.
struct Fail(u8, String);

fn duration(s: &str, what: &str) -> Result<SimDuration, Fail> {
    SimDuration::parse(s).map_err(|e| Fail(2, format!("lvslab: bad {what}: {e}")))
}

fn load(path: &Path, level: TraceLevel, seed: Option<u64>) -> Result<Scenario, Fail> {
    let text = files::read(path)?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let read = |p: &str| std::fs::read_to_string(base.join(p)).ok();
    let sc = scenario::load_with(&path.display().to_string(), &text, level, seed, &read)
        .map_err(|e| Fail(2, e.to_string()))?;
    for w in &sc.warnings {
        eprintln!(
            "{}:{}: warning: on {}: {}",
            path.display(),
            w.line,
            w.host,
            w.message
        );
    }
    Ok(sc)
}

/// A reader that leaves early (`lvslab check scenarios/ | head`) ends the
/// program quietly, as it ends `cat` or `grep`: Rust ignores SIGPIPE and
/// `println!` then panics with "failed printing to stdout: Broken pipe";
/// this hook turns exactly that panic into exit status 0 and leaves every
/// other panic to the default hook (the TUI chains its own on top).
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let p = info.payload();
        let msg = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(Fail(code, msg)) => {
            eprintln!("{msg}");
            ExitCode::from(code)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Fail> {
    match cli.cmd {
        Cmd::Run {
            scenario,
            seed,
            until,
            trace,
            check_determinism,
            metrics,
        } => {
            let level = if trace.is_some() || check_determinism {
                TraceLevel::Full
            } else {
                TraceLevel::Events
            };
            let mut sc = load(&scenario, level, seed)?;
            for f in sim_core::lint::lint(&sc) {
                eprintln!("{}: lint: {}", scenario.display(), f.one_line());
            }
            if sc.fidelity == sim_core::flow::spec::Fidelity::Flow {
                if let (Some(u), Some(c)) = (&until, sc.flow.as_mut()) {
                    c.until_ns = duration(u, "--until")?.as_nanos();
                }
                let mut again = None;
                if check_determinism {
                    let mut b = load(&scenario, level, seed)?;
                    if let (Some(c), Some(a)) = (b.flow.as_mut(), sc.flow.as_ref()) {
                        c.until_ns = a.until_ns;
                    }
                    again = Some(b);
                }
                return flowrun::run(&mut sc, again, metrics.as_deref());
            }
            let end = SimTime::ZERO
                + match until {
                    Some(u) => duration(&u, "--until")?,
                    None => sc.duration,
                };
            let format = trace.map(|t| match t {
                TraceFmt::Text => tracerun::Format::Text,
                TraceFmt::Json => tracerun::Format::Json,
            });
            // The trace goes out as the run makes it (never all in memory).
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let written = if check_determinism {
                let mut second = load(&scenario, level, seed)?;
                let again = || {
                    Some((
                        load(&scenario, level, seed).ok()?,
                        load(&scenario, level, seed).ok()?,
                    ))
                };
                tracerun::check(
                    tracerun::CHUNK,
                    &mut sc,
                    &mut second,
                    end,
                    format,
                    &mut out,
                    again,
                )
                .map(|r| {
                    r.map(|n| {
                        eprintln!("determinism: two runs gave identical traces ({n} records)");
                    })
                })
            } else {
                tracerun::stream(&mut sc, end, format, &mut out).map(|_| Ok(()))
            };
            // Then the summary, through the same writer (a full disk or a
            // closed pipe is an error or a quiet end, not a panic).
            let written = written.and_then(|r| {
                use std::io::Write as _;
                if r.is_ok() {
                    writeln!(out, "scenario {} — {}", sc.name, sc.description)?;
                    write!(out, "{}", sc.world.summary())?;
                }
                out.flush().map(|()| r)
            });
            match written {
                Ok(Ok(())) => {}
                Ok(Err(line)) => {
                    return Err(Fail(
                        1,
                        format!(
                            "lvslab: non-determinism detected: traces differ first at line {line}"
                        ),
                    ));
                }
                // `lvslab run … --trace text | head`: the reader left.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
                Err(e) => return Err(Fail(1, format!("lvslab: writing the output: {e}"))),
            }
            Ok(0)
        }
        Cmd::Exec {
            scenario,
            host,
            at,
            cmd,
        } => {
            let mut sc = load(&scenario, TraceLevel::Events, None)?;
            let h = sc.world.host_id(&host).ok_or_else(|| {
                let known: Vec<&str> = sc.world.hosts.iter().map(|h| h.name.as_str()).collect();
                Fail(
                    2,
                    format!(
                        "lvslab: unknown host `{host}` (hosts: {})",
                        known.join(", ")
                    ),
                )
            })?;
            let end = SimTime::ZERO
                + match at {
                    Some(a) => duration(&a, "--at")?,
                    None => sc.duration,
                };
            sc.world.step_until(end);
            let line = cmd
                .iter()
                .map(|w| shell_quote(w))
                .collect::<Vec<_>>()
                .join(" ");
            let out = sim_core::shell::run_line(&mut sc.world, h, &line)
                .map_err(|e| Fail(2, format!("lvslab: {e}")))?;
            print!("{}", out.stdout);
            eprint!("{}", out.stderr);
            if let Some(n) = out.note {
                eprintln!("lvslab: note: {n}");
            }
            Ok(u8::try_from(out.status.clamp(0, 255)).unwrap_or(1))
        }
        Cmd::Pcap {
            scenario,
            output,
            host,
            until,
        } => {
            let mut sc = load(&scenario, TraceLevel::Full, None)?;
            let end = SimTime::ZERO
                + match until {
                    Some(u) => duration(&u, "--until")?,
                    None => sc.duration,
                };
            if let Some(hn) = &host
                && sc.world.host_id(hn).is_none()
            {
                return Err(Fail(2, format!("lvslab: unknown host `{hn}`")));
            }
            let n = files::write_pcap(&output, &mut sc.world, end, host.as_deref())?;
            eprintln!("wrote {n} packets to {}", output.display());
            Ok(0)
        }
        Cmd::Kernel {
            paths,
            vm,
            host,
            verbose,
            print_script,
            timeout,
        } => {
            let backend = match (vm, host) {
                (true, _) => lvslab_kernel::Backend::Vm,
                (_, true) => lvslab_kernel::Backend::Host,
                _ => lvslab_kernel::Backend::Auto,
            };
            lvslab_kernel::main(&lvslab_kernel::Options {
                paths,
                backend,
                verbose,
                print_script,
                timeout,
            })
            .map_err(|e| Fail(2, e))
        }
        Cmd::Tui {
            scenario,
            lang,
            seed,
        } => {
            let text = files::read(&scenario)?;
            let lang = match lang {
                UiLang::En => tui::explain::Lang::En,
                UiLang::Zh => tui::explain::Lang::Zh,
            };
            tui::run(&scenario.display().to_string(), &text, seed, lang).map_err(|e| Fail(2, e))?;
            Ok(0)
        }
        Cmd::Check {
            paths,
            junit,
            update,
        } => check::run(&paths, junit.as_deref(), update),
        Cmd::Lint { scenario } => {
            let sc = load(&scenario, TraceLevel::Events, None)?;
            let found = sim_core::lint::lint(&sc);
            for f in &found {
                println!("{}: {f}", scenario.display());
            }
            let warnings = found
                .iter()
                .filter(|f| f.severity == sim_core::lint::Severity::Warning)
                .count();
            println!(
                "{}: {warnings} warnings, {} notes",
                scenario.display(),
                found.len() - warnings
            );
            Ok(u8::from(warnings > 0))
        }
        Cmd::Report {
            scenario,
            output,
            seed,
            until,
            interval,
        } => {
            let opts = reports::adapt::RunOpts {
                seed,
                until: until.map(|u| duration(&u, "--until")).transpose()?,
                interval: interval.map(|u| duration(&u, "--interval")).transpose()?,
            };
            let msg =
                reports::report::run_cli(&scenario, &output, &opts).map_err(|(c, m)| Fail(c, m))?;
            eprintln!("{msg}");
            Ok(0)
        }
        Cmd::Sweep(args) => reports::sweep::run_cli(&args).map_err(|(c, m)| Fail(c, m)),
        Cmd::Bench { quick, lb_mm } => {
            if let Some(n) = lb_mm {
                bench_flow::child(n).map_err(|e| Fail(2, format!("lvslab: {e}")))?;
                return Ok(0);
            }
            bench::run(quick);
            Ok(0)
        }
    }
}

/// The first line (1-based) where `a` and `b` differ, `None` if equal
/// (where one ends, if the other goes on alike).
fn first_difference(a: &str, b: &str) -> Option<usize> {
    if a == b {
        return None;
    }
    let (mut x, mut y) = (a.split_inclusive('\n'), b.split_inclusive('\n'));
    let mut line = 1;
    loop {
        match (x.next(), y.next()) {
            (Some(p), Some(q)) if p == q => line += 1,
            _ => return Some(line),
        }
    }
}

/// Quotes a word for the lab's shell when it has spaces or quotes.
fn shell_quote(w: &str) -> String {
    if w.is_empty()
        || w.chars()
            .any(|c| c.is_whitespace() || "'\"\\|&;<>".contains(c))
    {
        format!("'{}'", w.replace('\'', "'\\''"))
    } else {
        w.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn first_difference_names_the_line() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        assert_eq!(first_difference("a\nb\nc\n", "a\nx\nc\n"), Some(2));
        // One ends where the other goes on.
        assert_eq!(first_difference("a\nb\n", "a\nb\nc\n"), Some(3));
        assert_eq!(first_difference("a\nb", "a\nb\n"), Some(2));
    }
}
