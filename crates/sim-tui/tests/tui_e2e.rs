//! End to end: the real `lvslab tui` binary in a tmux pane. Start, step,
//! step back, open the inspector, switch language, quit — then check the
//! terminal is restored (main screen, mouse off, canonical mode back).
//!
//! Needs tmux (`.ci/run` installs it). Without tmux the test fails on CI
//! (`CI` set) and is skipped with a message elsewhere.

use std::path::PathBuf;
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

/// A tmux server of our own, so other tmux users are never disturbed.
const SOCKET: &str = "lvslab-e2e";

struct Session(String);

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", SOCKET, "kill-session", "-t", &self.0])
            .status();
    }
}

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(["-L", SOCKET])
        .args(args)
        .output()
        .expect("tmux runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn capture(s: &str) -> String {
    tmux(&["capture-pane", "-p", "-t", s])
}

/// Waits until the pane shows `needle` (or fails with the pane's text).
fn wait_for(s: &str, needle: &str) -> String {
    wait_until(s, needle, |c| c.contains(needle))
}

/// Waits until the pane's text satisfies `ok` (`what` names it in the
/// failure). A capture can catch a frame half drawn: a test waits for
/// everything it then asserts on, not for one part of it.
fn wait_until(s: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    for _ in 0..200 {
        let c = capture(s);
        if ok(&c) {
            return c;
        }
        sleep(Duration::from_millis(50));
    }
    panic!("pane never showed {what}; it shows:\n{}", capture(s));
}

fn keys(s: &str, k: &[&str]) {
    let mut args = vec!["send-keys", "-t", s];
    args.extend_from_slice(k);
    tmux(&args);
}

/// The "event N/" counter in the header.
fn event_no(pane: &str) -> usize {
    let i = pane.find("event ").expect("header shows the event number") + 6;
    pane[i..]
        .split('/')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .expect("a number")
}

fn have_tmux() -> bool {
    if Command::new("tmux").arg("-V").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is required on CI (.ci/run installs it)"
        );
        eprintln!("skipping: tmux not installed");
        return false;
    }
    true
}

/// Starts `lvslab tui` on the DR lab in a 100x30 pane; after it exits the
/// pane prints the exit status and whether the tty is canonical again.
fn start(tag: &str, env: &str) -> Session {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scenario = root.join("scenarios/labs/tutorial-dr.toml");
    let s = format!("lvslab-e2e-{tag}-{}", std::process::id());
    let cmd = format!(
        "{env} {} tui {}; echo LVSLAB-EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?icanon'; sleep 60",
        env!("CARGO_BIN_EXE_lvslab"),
        scenario.display()
    );
    tmux(&["new-session", "-d", "-s", &s, "-x", "100", "-y", "30", &cmd]);
    Session(s)
}

/// The pane shows the program ended with `status` and the terminal is
/// back to normal.
fn assert_restored(s: &str, status: &str) {
    let done = wait_for(s, "LVSLAB-EXIT=");
    assert!(
        done.contains(&format!("LVSLAB-EXIT={status}")),
        "exit status {status}:\n{done}"
    );
    assert_eq!(
        tmux(&["display", "-p", "-t", s, "#{alternate_on}"]).trim(),
        "0",
        "back on the main screen"
    );
    assert_eq!(
        tmux(&["display", "-p", "-t", s, "#{mouse_any_flag}"]).trim(),
        "0",
        "mouse reporting off"
    );
    let after = wait_for(s, "icanon");
    assert!(
        after.lines().any(|l| l.trim() == "icanon"),
        "canonical mode restored:\n{after}"
    );
}

#[test]
fn ctrl_c_and_panic_restore_the_terminal() {
    if !have_tmux() {
        return;
    }
    let g = start("ctrlc", "");
    wait_for(&g.0, "tutorial-dr");
    keys(&g.0, &["C-c"]);
    assert_restored(&g.0, "0");
    let p = start("panic", "LVSLAB_TUI_TEST_PANIC=1");
    let pane = wait_for(&p.0, "LVSLAB-EXIT=");
    assert!(
        pane.contains("panicking on purpose"),
        "the panic message is shown:\n{pane}"
    );
    assert_restored(&p.0, "101");
}

#[test]
fn tui_in_tmux() {
    if !have_tmux() {
        return;
    }
    let guard = start("main", "");
    let s = guard.0.clone();
    let start = wait_for(&s, "tutorial-dr");
    assert_eq!(
        tmux(&["display", "-p", "-t", &s, "#{alternate_on}"]).trim(),
        "1"
    );
    let n0 = event_no(&start);
    keys(&s, &["l", "l", "Right", "n", "l"]);
    wait_for(&s, &format!("event {}/", n0 + 5));
    keys(&s, &["h"]);
    let back = format!("event {}/", n0 + 4);
    wait_until(&s, "the hosts after a step back", |c| {
        c.contains(&back) && c.contains("client")
    });
    keys(&s, &["i"]);
    wait_until(&s, "the inspector with a frame's fields", |c| {
        c.contains("Inspector") && (c.contains("eth.src") || c.contains("netfilter hooks"))
    });
    keys(&s, &["t"]);
    wait_for(&s, "报文检查");
    keys(&s, &["t"]);
    wait_for(&s, "Inspector");
    keys(&s, &["q"]);
    assert_restored(&s, "0");
}
