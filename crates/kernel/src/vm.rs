//! Running the script inside a qemu VM when the host kernel has no IPVS.
//!
//! The base image (Debian 12's cloud kernel, unpacked, and an initramfs
//! with busybox, ip, ipvsadm, keepalived and the modules) is built once by
//! `guest/build-base.sh` into the cache folder (`$LVSLAB_CACHE`, else
//! `$XDG_CACHE_HOME/lvslab`, else `~/.cache/lvslab`). Each run passes only
//! the generated script, with `-fw_cfg`. The guest has no network device;
//! qemu is killed when the time limit passes, and a run counts only if the
//! guest printed the script's end marker.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::Progress;

const BUILD_BASE: &str = include_str!("../guest/build-base.sh");
const INIT: &str = include_str!("../guest/init");

/// The apt packages the VM path needs on the host.
pub const APT_PACKAGES: &str =
    "qemu-system-x86 busybox-static ipvsadm iproute2 kmod cpio keepalived iptables";

/// The cache folder.
#[must_use]
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("LVSLAB_CACHE") {
        return PathBuf::from(d).join("kernel-vm");
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("target"));
    base.join("lvslab").join("kernel-vm")
}

/// A small, stable hash (FNV-1a) naming the base image version.
fn stamp() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in BUILD_BASE.bytes().chain(INIT.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h >> 32)
}

/// Kernel and initramfs paths.
#[derive(Clone, Debug)]
pub struct Base {
    /// vmlinuz.
    pub kernel: PathBuf,
    /// Base initramfs.
    pub initrd: PathBuf,
    /// Kernel version.
    pub version: String,
}

/// Builds the base image if needed.
///
/// # Errors
/// A message saying what failed and what to install.
pub fn base(progress: &mut Progress) -> Result<Base, String> {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write_atomic(&dir.join("build-base.sh"), BUILD_BASE)?;
    write_atomic(&dir.join("init"), INIT)?;
    progress.say("base", &format!("base image in {}", dir.display()));
    let out = Command::new("bash")
        .arg(dir.join("build-base.sh"))
        .arg(&dir)
        .arg(stamp())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "building the VM base image failed ({}); the VM needs: apt-get install {APT_PACKAGES}",
            out.status
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k))
            .map(str::to_string)
            .ok_or_else(|| format!("build-base.sh printed no {k}"))
    };
    Ok(Base {
        kernel: PathBuf::from(get("KERNEL=")?),
        initrd: PathBuf::from(get("INITRD=")?),
        version: get("KV=")?,
    })
}

fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// How long the guest's `/init` may take to announce itself before the
/// boot counts as stalled (`LVSLAB_BOOT_TIMEOUT` seconds, default 120; a
/// normal TCG boot reaches it within 20 s even on a loaded machine).
fn boot_limit() -> Duration {
    let s = std::env::var("LVSLAB_BOOT_TIMEOUT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    Duration::from_secs(s)
}

/// The marker [`run_once`] returns when the guest never printed anything.
const STALLED: &str = "the guest's /init never started";

/// Boots the VM with `script` and returns what the script printed. A boot
/// whose kernel never reaches `/init` (seen once here under TCG: SeaBIOS,
/// then silence for minutes) is killed and tried once more.
///
/// # Errors
/// qemu missing, the time limit passed, or no end marker.
pub fn run(
    base: &Base,
    script: &str,
    work: &Path,
    limit: Duration,
    smp: usize,
    progress: &mut Progress,
) -> Result<String, String> {
    match run_once(base, script, work, limit, smp, progress) {
        Err(e) if e.starts_with(STALLED) => {
            progress.say("boot", &format!("{e}; booting once more"));
            run_once(base, script, work, limit, smp, progress)
        }
        r => r,
    }
}

fn run_once(
    base: &Base,
    script: &str,
    work: &Path,
    limit: Duration,
    smp: usize,
    progress: &mut Progress,
) -> Result<String, String> {
    let spath = work.join("script.sh");
    let rpath = work.join("results.log");
    write_atomic(&spath, script)?;
    let _ = std::fs::remove_file(&rpath);
    let accel = match std::env::var("LVSLAB_QEMU_ACCEL").as_deref() {
        Ok("kvm") => "kvm".to_string(),
        _ => "tcg,tb-size=64".to_string(),
    };
    let mem = std::env::var("LVSLAB_QEMU_MEM").unwrap_or_else(|_| "384".into());
    let smp = smp.to_string();
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(["-accel", &accel, "-cpu", "max", "-m", &mem, "-smp", &smp])
        .args([
            "-nographic",
            "-no-reboot",
            "-nic",
            "none",
            "-monitor",
            "none",
        ])
        .args(["-serial", "stdio", "-serial"])
        .arg(format!("file:{}", rpath.display()))
        .arg("-kernel")
        .arg(&base.kernel)
        .arg("-initrd")
        .arg(&base.initrd)
        .arg("-fw_cfg")
        .arg(format!("name=opt/lvslab/script,file={}", spath.display()))
        .args([
            "-append",
            "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    progress.say(
        "boot",
        &format!(
            "qemu ({accel}, {smp} vCPUs, {mem} MiB), kernel {}",
            base.version
        ),
    );
    let mut child = cmd.spawn().map_err(|e| {
        format!("cannot start qemu-system-x86_64: {e} (apt-get install {APT_PACKAGES})")
    })?;
    let (tx, rx) = mpsc::channel::<String>();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
    }
    let mut err_text = String::new();
    let err_reader = child.stderr.take().map(|e| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::Read::read_to_string(&mut BufReader::new(e), &mut s);
            s
        })
    });
    drop(tx);
    let t0 = crate::now();
    let mut console = String::new();
    let mut heard = false;
    let status = loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(l) => {
                // SeaBIOS prints first; the guest's /init announces itself
                // with `@@ init-start`.
                heard |= l.contains("@@ ");
                let l = l.trim_end_matches('\r').to_string();
                progress.guest(&l);
                console.push_str(&l);
                console.push('\n');
            }
            Err(mpsc::RecvTimeoutError::Timeout | mpsc::RecvTimeoutError::Disconnected) => {}
        }
        if let Ok(Some(st)) = child.try_wait() {
            while let Ok(l) = rx.try_recv() {
                progress.guest(&l);
            }
            break Some(st);
        }
        if !heard && t0.elapsed() > boot_limit() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{STALLED} within {} s of starting",
                boot_limit().as_secs()
            ));
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
    };
    if let Some(h) = err_reader {
        err_text = h.join().unwrap_or_default();
    }
    let _ = std::fs::write(work.join("console.log"), &console);
    let results = std::fs::read_to_string(&rpath).unwrap_or_default();
    match status {
        None => Err(format!(
            "the VM did not finish within {} s and was stopped (console in {})",
            limit.as_secs(),
            work.join("console.log").display()
        )),
        Some(st) if !results.contains("@@LVL done") => Err(format!(
            "the VM ended ({st}) without the script's end marker; qemu said: {}; console: {}",
            err_text.trim(),
            console
                .lines()
                .rev()
                .take(8)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join(" | ")
        )),
        Some(_) => Ok(results),
    }
}
