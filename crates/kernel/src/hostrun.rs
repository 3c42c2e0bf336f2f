//! Running the script on the host's own kernel (it has IPVS, we are root).
//!
//! The script only creates namespaces named `lvl<pid>-…` and deletes them
//! at its end, on Ctrl-C (its trap) and, should it die, here.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::Progress;

fn which(name: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// Runs the script with `sh`; returns its output.
///
/// # Errors
/// Missing tools, the time limit, or no end marker.
pub fn run(
    script: &str,
    work: &Path,
    limit: Duration,
    progress: &mut Progress,
) -> Result<String, String> {
    let need = |n: &str| {
        which(n).ok_or_else(|| {
            format!("`{n}` is not installed (apt-get install busybox-static ipvsadm iproute2)")
        })
    };
    let (ip, bb, ipvsadm) = (need("ip")?, need("busybox")?, need("ipvsadm")?);
    // keepalived is optional: without it keepalived scenarios are "not run".
    let keepalived = which("keepalived")
        .or_else(|| {
            Path::new("/usr/sbin/keepalived")
                .is_file()
                .then(|| "/usr/sbin/keepalived".into())
        })
        .unwrap_or_else(|| "keepalived".into());
    let spath = work.join("script.sh");
    std::fs::write(&spath, script).map_err(|e| format!("cannot write {}: {e}", spath.display()))?;
    let prefix = format!("lvl{}-", std::process::id());
    progress.say(
        "boot",
        "host kernel has IPVS: running in namespaces on the host",
    );
    let mut child = Command::new("sh")
        .arg(&spath)
        .env("LVL_IP", &ip)
        .env("LVL_BB", &bb)
        .env("LVL_IPVSADM", &ipvsadm)
        .env("LVL_KEEPALIVED", &keepalived)
        .env(
            "LVL_IPTABLES",
            which("iptables").unwrap_or_else(|| "iptables".into()),
        )
        .env("LVL_DIR", work.join("fs"))
        .env("LVL_PREFIX", &prefix)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    let (tx, rx) = mpsc::channel::<String>();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
    }
    let t0 = crate::now();
    let mut text = String::new();
    let finished = loop {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
            progress.guest(&l);
            text.push_str(&l);
            text.push('\n');
        }
        if let Ok(Some(_)) = child.try_wait() {
            while let Ok(l) = rx.recv_timeout(Duration::from_millis(50)) {
                text.push_str(&l);
                text.push('\n');
            }
            break true;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break false;
        }
    };
    // Whatever happened, no namespace of ours stays behind.
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "for n in $({ip} netns list | cut -d' ' -f1 | grep '^{prefix}'); do for p in $({ip} netns pids $n); do kill $p; done; {ip} netns del $n; done"
        ))
        .status();
    if !finished {
        return Err(format!(
            "the kernel run did not finish within {} s",
            limit.as_secs()
        ));
    }
    if !text.contains("@@LVL done") {
        return Err("the script ended without its end marker".into());
    }
    Ok(text)
}
