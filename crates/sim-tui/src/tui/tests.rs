//! TUI tests: TestBackend snapshots of every view (golden files under
//! `tests/golden/tui/`, regenerated with `UPDATE_GOLDEN=1`), tiny sizes,
//! exact step-back, input handling and the inspector's highlighting.

use std::path::PathBuf;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;

use super::action::{Action, from_event};
use super::app::{App, Focus, Popup};
use super::classify::Filter;
use super::explain::{Lang, explain};
use super::timeline::{Source, Timeline};
use super::update::{host_view, update};
use super::view::{self, view};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scenario(rel: &str) -> (String, String) {
    let text = std::fs::read_to_string(root().join(rel)).expect("scenario file");
    (rel.to_string(), text)
}

fn app(rel: &str, lang: Lang) -> App {
    let (f, t) = scenario(rel);
    super::open(&f, &t, None, lang).expect("scenario loads")
}

const DR: &str = "scenarios/labs/tutorial-dr.toml";
const ROUTER: &str = "scenarios/basics/router.toml";

/// The buffer as text, one line per row (wide characters counted once).
fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut skip = 0;
        let mut line = String::new();
        for x in 0..buf.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, y)].symbol();
            skip = unicode_cells(sym).saturating_sub(1);
            line.push_str(sym);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn unicode_cells(s: &str) -> usize {
    ratatui::text::Span::raw(s).width()
}

fn render(app: &mut App, w: u16, h: u16) -> Buffer {
    update(app, Action::Resize(w, h));
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    term.draw(|f| view(app, f)).expect("draw");
    term.backend().buffer().clone()
}

/// Compares with `tests/golden/tui/NAME.txt`; `UPDATE_GOLDEN=1` rewrites it.
fn golden(name: &str, got: &str) {
    let dir = root().join("tests/golden/tui");
    let path = dir.join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(&dir).expect("golden dir");
        let tmp = dir.join(format!(".{name}.txt.tmp"));
        std::fs::write(&tmp, got).expect("write golden");
        std::fs::rename(&tmp, &path).expect("rename golden");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}: run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        want == got,
        "{name} differs from {}\n--- want\n{want}\n--- got\n{got}\n(regenerate with UPDATE_GOLDEN=1 if the change is intended)",
        path.display()
    );
}

fn steps(app: &mut App, a: Action, n: usize) {
    for _ in 0..n {
        update(app, a.clone());
    }
}

/// Moves to the first record whose text contains `needle`.
fn seek(app: &mut App, needle: &str) {
    for _ in 0..2000 {
        if app.tl.entries[app.cursor].rec.to_string().contains(needle) {
            return;
        }
        update(app, Action::Forward);
    }
    panic!("no record contains {needle}");
}

#[test]
fn snapshot_start() {
    let mut a = app(DR, Lang::En);
    golden("dr-start-120x40", &text(&render(&mut a, 120, 40)));
}

#[test]
fn snapshot_arp_broadcast_in_flight() {
    let mut a = app(DR, Lang::En);
    seek(&mut a, "TX ens33 00:0c:29:11:11:33 > ff:ff:ff:ff:ff:ff");
    let t = text(&render(&mut a, 120, 40));
    assert!(
        t.contains("●ARP?"),
        "the broadcast is drawn on the wire:\n{t}"
    );
    golden("dr-arp-120x40", &t);
}

#[test]
fn snapshot_inspector_narrow() {
    let mut a = app(DR, Lang::En);
    seek(&mut a, "PREROUTING");
    update(&mut a, Action::Inspect);
    let t = text(&render(&mut a, 80, 24));
    assert!(t.contains("Inspector"));
    golden("dr-inspector-80x24", &t);
}

#[test]
fn snapshot_host_view() {
    let mut a = app(DR, Lang::En);
    seek(&mut a, "NEIGH");
    update(&mut a, Action::HostOfEvent);
    let t = text(&render(&mut a, 120, 40));
    assert!(t.contains("# ip a"), "{t}");
    golden("dr-host-120x40", &t);
}

#[test]
fn snapshot_chinese() {
    let mut a = app(DR, Lang::Zh);
    seek(&mut a, "ARP, Reply");
    let t = text(&render(&mut a, 100, 30));
    assert!(t.contains("应答"), "{t}");
    golden("dr-zh-100x30", &t);
}

#[test]
fn snapshot_popups() {
    let mut a = app(DR, Lang::En);
    update(&mut a, Action::Help);
    golden("dr-help-100x30", &text(&render(&mut a, 100, 30)));
    update(&mut a, Action::Cancel);
    update(&mut a, Action::FaultMenu);
    let t = text(&render(&mut a, 100, 30));
    assert!(t.contains("systemctl stop httpd"), "{t}");
    golden("dr-faults-100x30", &t);
    update(&mut a, Action::Cancel);
    update(&mut a, Action::GotoPrompt);
    for c in "2xs".chars() {
        update(&mut a, Action::Type(c));
    }
    update(&mut a, Action::Confirm);
    golden("dr-goto-error-100x30", &text(&render(&mut a, 100, 30)));
}

#[test]
fn snapshot_router_topology_and_filter() {
    let mut a = app(ROUTER, Lang::En);
    update(&mut a, Action::CycleFilter);
    assert_eq!(a.filter, Filter::Arp);
    update(&mut a, Action::Forward);
    golden("router-arp-filter-120x40", &text(&render(&mut a, 120, 40)));
}

#[test]
fn tiny_sizes_do_not_panic() {
    let mut a = app(DR, Lang::En);
    seek(&mut a, "PREROUTING");
    for (w, h) in [(0, 0), (1, 1), (20, 5), (5, 20), (80, 24), (300, 100)] {
        for focus in [Focus::Log, Focus::Inspector, Focus::Host] {
            a.focus = focus;
            for p in [Popup::None, Popup::Help, Popup::Faults(0)] {
                a.popup = p;
                render(&mut a, w, h);
            }
        }
    }
    a.popup = Popup::None;
    a.focus = Focus::Log;
    golden("dr-20x5", &text(&render(&mut a, 20, 5)));
}

/// Everything observable about a world: time, events, each host's views.
fn digest(w: &mut sim_core::world::World) -> String {
    let mut s = format!("{} {} {}\n", w.now, w.events_handled, w.queue.len());
    for h in 0..w.hosts.len() {
        s.push_str(&host_view(w, h));
    }
    s
}

fn fresh_digest(src: &Source, faults: &[(usize, usize, &str)], idx: usize) -> String {
    let mut tl = Timeline::open(src.clone()).expect("open");
    for (at, h, cmd) in faults {
        tl.ensure(*at);
        tl.inject(*at, *h, cmd).expect("inject");
    }
    tl.ensure(idx);
    digest(tl.world_at(idx).expect("world"))
}

#[test]
fn step_back_equals_replay() {
    let (file, text) = scenario(DR);
    let src = Source {
        file,
        text,
        seed: None,
    };
    let mut tl = Timeline::open(src.clone()).expect("open");
    tl.min_spacing = 5;
    tl.ensure(400);
    let rs1 = tl.frontier().host_id("rs1").expect("rs1");
    let fault_at = tl
        .entries
        .iter()
        .position(|e| e.pos.step > 30)
        .expect("a later step");
    let faults = [(fault_at, rs1, "systemctl stop httpd")];
    tl.inject(fault_at, rs1, "systemctl stop httpd")
        .expect("inject");
    tl.ensure(400);
    // Forward, recording the state at every 7th record...
    let mut seen = Vec::new();
    for i in (0..400).step_by(7) {
        seen.push((i, digest(tl.world_at(i).expect("world"))));
    }
    // ...then backwards: each one rebuilt (from checkpoints, rebuilt in
    // between, or from time zero), each equal to a fresh replay.
    let mut used_ckpt = false;
    for (n, (i, d)) in seen.iter().rev().enumerate() {
        if n % 2 == 0 {
            while tl.maintain(3).expect("maintain") {}
            used_ckpt |= tl.checkpoints() > 0;
        }
        let back = digest(tl.world_at(*i).expect("world"));
        assert_eq!(&back, d, "state at record {i} after stepping back");
        if i % 49 == 0 {
            assert_eq!(&fresh_digest(&src, &faults, *i), d, "fresh replay to {i}");
        }
    }
    assert!(used_ckpt, "checkpoints were parked and used");
    assert!(
        tl.entries
            .iter()
            .any(|e| e.rec.to_string().contains("CMD systemctl stop httpd"))
    );
}

#[test]
fn back_and_forth_through_update_is_exact() {
    let mut a = app(DR, Lang::En);
    steps(&mut a, Action::Forward, 40);
    let at40 = (a.cursor, a.snap.hosts.clone());
    steps(&mut a, Action::Forward, 25);
    steps(&mut a, Action::Back, 25);
    assert_eq!((a.cursor, a.snap.hosts.clone()), at40);
}

#[test]
fn explanations_exist_in_both_languages() {
    let mut a = app(DR, Lang::En);
    a.tl.ensure(300);
    for e in &a.tl.entries {
        let en = explain(&e.rec, &a.lab, Lang::En);
        let zh = explain(&e.rec, &a.lab, Lang::Zh);
        assert!(
            !en.is_empty() && en.is_ascii() || en.contains('→') || en.contains('“'),
            "{en}"
        );
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "not Chinese: {zh}"
        );
        assert_ne!(en, zh);
    }
}

#[test]
fn inspector_highlights_only_changed_fields() {
    use sim_core::packet::MacAddr;
    let mut a = app(DR, Lang::En);
    seek(&mut a, "TX ens33 00:0c:29:11:11:33 > 00:0c:29:e6:67:b6");
    let f = a.tl.entries[a.cursor]
        .rec
        .kind
        .frame()
        .expect("frame")
        .clone();
    let mut g = f.clone();
    g.dst = MacAddr([0, 0x0c, 0x29, 0x11, 0x11, 0x31]);
    let d = view::inspector::diff(Some(&f), Some(&g));
    let changed: Vec<&str> = d.iter().filter(|x| x.3).map(|x| x.0.as_str()).collect();
    assert_eq!(
        changed,
        ["eth.dst"],
        "DR-style rewrite changes only the destination MAC"
    );
    // Rendered: a forwarded hop on the router has its changed cells on yellow.
    let mut r = app(ROUTER, Lang::En);
    seek(&mut r, "FORWARD");
    update(&mut r, Action::Inspect);
    let buf = render(&mut r, 120, 40);
    let ttl_row = (0..40).find(|y| {
        text(&buf)
            .lines()
            .nth(*y as usize)
            .is_some_and(|l| l.contains("ip.ttl"))
    });
    let y = ttl_row.expect("ttl row shown");
    assert!(
        (0..120).any(|x| buf[(x, y)].bg == Color::Yellow),
        "ttl change highlighted"
    );
    let src_row = text(&buf)
        .lines()
        .position(|l| l.contains("ip.src"))
        .expect("ip.src row");
    let yy = u16::try_from(src_row).unwrap_or(0);
    assert!(
        !(0..120).any(|x| buf[(x, yy)].bg == Color::Yellow),
        "unchanged ip.src not highlighted"
    );
}

#[test]
fn keys_map_to_actions() {
    let a = app(DR, Lang::En);
    let key = |c| Event::Key(KeyEvent::new(c, KeyModifiers::NONE));
    assert_eq!(from_event(&a, &key(KeyCode::Right)), Some(Action::Forward));
    assert_eq!(
        from_event(&a, &key(KeyCode::Char('l'))),
        Some(Action::Forward)
    );
    assert_eq!(from_event(&a, &key(KeyCode::Char('h'))), Some(Action::Back));
    assert_eq!(
        from_event(&a, &key(KeyCode::Char(' '))),
        Some(Action::TogglePlay)
    );
    assert_eq!(
        from_event(&a, &key(KeyCode::Char('k'))),
        Some(Action::FaultMenu)
    );
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(from_event(&a, &ctrl_c), Some(Action::Quit));
}

#[test]
fn clicks_open_hosts_and_jump_in_the_log() {
    let mut a = app(DR, Lang::En);
    render(&mut a, 120, 40);
    let areas = view::layout(&a, (120, 40));
    let l = view::topology::layout(&a, areas.topology);
    let (h, r) = l.boxes[2];
    update(&mut a, Action::Click(r.x + 1, r.y + 1));
    assert_eq!((a.focus, a.host), (Focus::Host, h));
    assert!(a.snap.host_view.as_ref().is_some_and(|(x, _)| *x == h));
    update(&mut a, Action::FocusNext);
    let areas = view::layout(&a, (120, 40));
    let rows = view::log::window(&a, usize::from(areas.log.height - 2));
    update(&mut a, Action::Click(areas.log.x + 3, areas.log.y + 1));
    assert_eq!(a.cursor, rows[0]);
}

#[test]
fn play_advances_and_stops_at_the_end() {
    let mut a = app(DR, Lang::En);
    let c0 = a.cursor;
    update(&mut a, Action::TogglePlay);
    update(&mut a, Action::Tick(1.0));
    assert_eq!(a.cursor, c0 + 5, "5 events per second by default");
    update(&mut a, Action::Speed(1));
    update(&mut a, Action::Tick(0.5));
    assert_eq!(a.cursor, c0 + 10);
    steps(&mut a, Action::Tick(100.0), 30);
    assert!(!a.play.on, "play stops when the run is over");
}

#[test]
fn goto_time_and_fault_injection() {
    let mut a = app(DR, Lang::En);
    update(&mut a, Action::GotoPrompt);
    for c in "3s".chars() {
        update(&mut a, Action::Type(c));
    }
    update(&mut a, Action::Confirm);
    let t = a.tl.entries[a.cursor].rec.t;
    assert!(t <= sim_core::time::SimTime::ZERO + sim_core::time::SimDuration::from_secs(3));
    assert!(
        a.tl.entries[a.cursor + 1].rec.t
            > sim_core::time::SimTime::ZERO + sim_core::time::SimDuration::from_secs(3)
    );
    update(&mut a, Action::FaultMenu);
    let i = a
        .snap
        .faults
        .iter()
        .position(|(_, c)| c == "ip link set ens33 down")
        .expect("link fault");
    let host = a.snap.faults[i].0;
    a.popup = Popup::Faults(i);
    update(&mut a, Action::Confirm);
    assert!(
        a.tl.entries[a.cursor]
            .rec
            .to_string()
            .contains("CMD ip link set ens33 down")
    );
    assert_eq!(a.snap.hosts[host].down, vec!["ens33".to_string()]);
    update(&mut a, Action::Back);
    assert!(
        a.snap.hosts[host].down.is_empty(),
        "before the fault the link is up"
    );
}

#[test]
fn explanations_follow_the_forwarding_method() {
    let find = |a: &mut App, host: &str, needle: &str| -> String {
        a.tl.ensure(2000);
        let e =
            a.tl.entries
                .iter()
                .find(|e| &*e.rec.host == host && e.rec.to_string().contains(needle))
                .unwrap_or_else(|| panic!("no {needle} on {host}"));
        explain(&e.rec, &a.lab, Lang::En)
    };
    let mut dr = app(DR, Lang::En);
    let rs = find(
        &mut dr,
        "rs1",
        "RX ens33 00:0c:29:e6:67:b6 > 00:0c:29:11:11:31, IP 192.168.59.133",
    );
    assert!(rs.contains("VIP is configured on its lo"), "{rs}");
    let lvs = find(
        &mut dr,
        "lvs",
        "RX ens33 00:0c:29:11:11:33 > 00:0c:29:e6:67:b6, IP",
    );
    assert!(lvs.contains("holds the VIP on a NIC"), "{lvs}");
    assert!(find(&mut dr, "lvs", "REWRITE").starts_with("DR:"));
    let reply = find(
        &mut dr,
        "rs1",
        "TX ens33 00:0c:29:11:11:31 > 00:0c:29:11:11:33, IP 192.168.59.135.80",
    );
    assert!(reply.contains("straight to"), "{reply}");
    let mut nat = app("scenarios/labs/nat.toml", Lang::En);
    assert!(find(&mut nat, "lvs", "REWRITE IPVS NAT:").starts_with("NAT:"));
    assert!(find(&mut nat, "lvs", "REWRITE IPVS NAT reply").starts_with("NAT reply:"));
    let mut tun = app("scenarios/labs/tun.toml", Lang::En);
    assert!(find(&mut tun, "lvs", "REWRITE").starts_with("TUN:"));
}

#[test]
fn every_shipped_scenario_opens_steps_and_renders() {
    let mut n = 0;
    for dir in ["scenarios/labs", "scenarios/lessons", "scenarios/basics"] {
        let Ok(rd) = std::fs::read_dir(root().join(dir)) else {
            continue;
        };
        let mut files: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        for p in files
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        {
            let rel = format!(
                "{dir}/{}",
                p.file_name().and_then(|f| f.to_str()).unwrap_or("")
            );
            let mut a = app(&rel, Lang::Zh);
            // Short runs (e.g. basics/iptables, ~65 records) must not hit
            // the end, where a forward step cannot move.
            steps(&mut a, Action::Forward, 30);
            let at = (a.cursor, a.snap.hosts.clone());
            steps(&mut a, Action::Forward, 10);
            steps(&mut a, Action::Back, 10);
            assert_eq!(
                (a.cursor, a.snap.hosts.clone()),
                at,
                "{rel}: back after forward"
            );
            for act in [Action::Inspect, Action::HostOfEvent, Action::FocusNext] {
                update(&mut a, act);
                let t = text(&render(&mut a, 100, 30));
                assert!(t.contains(&a.tl.meta.name), "{rel}: header shown");
            }
            n += 1;
        }
    }
    assert!(n >= 4, "found the shipped scenarios ({n})");
}

#[test]
fn stopping_a_real_server_shows_on_its_box_and_can_be_undone() {
    let mut a = app(DR, Lang::En);
    steps(&mut a, Action::Forward, 30);
    let i = a
        .snap
        .faults
        .iter()
        .position(|(h, c)| a.snap.hosts[*h].name == "rs1" && c == "systemctl stop httpd")
        .expect("stop httpd offered");
    a.popup = Popup::Faults(i);
    update(&mut a, Action::Confirm);
    let rs1 = a
        .snap
        .hosts
        .iter()
        .position(|h| h.name == "rs1")
        .expect("rs1");
    assert!(!a.snap.hosts[rs1].httpd);
    assert!(text(&render(&mut a, 120, 40)).contains("rs1 httpd✗"));
    assert!(
        a.snap
            .faults
            .contains(&(rs1, "systemctl start httpd".to_string()))
    );
    update(&mut a, Action::Back);
    assert!(a.snap.hosts[rs1].httpd, "before the fault httpd runs");
}

#[test]
fn failing_the_master_moves_the_vip_and_back_restores_it() {
    let ka = "scenarios/labs/tutorial-keepalived-dr.toml";
    let mut a = app(ka, Lang::En);
    let holder = |a: &App| {
        a.snap
            .hosts
            .iter()
            .filter(|h| h.holds_vip())
            .map(|h| h.name.clone())
            .collect::<Vec<_>>()
    };
    update(&mut a, Action::GotoPrompt);
    for c in "5s".chars() {
        update(&mut a, Action::Type(c));
    }
    update(&mut a, Action::Confirm);
    assert_eq!(holder(&a), ["lvs-master"]);
    let before = a.cursor;
    let i = a
        .snap
        .faults
        .iter()
        .position(|(h, c)| {
            a.snap.hosts[*h].name == "lvs-master" && c == "systemctl stop keepalived"
        })
        .expect("stop keepalived on the master is offered");
    a.popup = Popup::Faults(i);
    update(&mut a, Action::Confirm);
    assert!(holder(&a).is_empty(), "the master released the VIP");
    a.filter = Filter::Vrrp;
    let mut n = 0;
    while holder(&a) != ["lvs-backup"] {
        assert!(
            update_forward(&mut a) && n < 500,
            "the backup never took the VIP"
        );
        n += 1;
    }
    let t = text(&render(&mut a, 120, 40));
    assert!(t.contains("lvs-backup ★VIP"), "{t}");
    golden("ka-takeover-120x40", &t);
    a.filter = Filter::All;
    while a.cursor > before {
        update(&mut a, Action::Back);
    }
    assert_eq!(
        holder(&a),
        ["lvs-master"],
        "stepping back restores the master"
    );
}

fn update_forward(a: &mut App) -> bool {
    let c = a.cursor;
    update(a, Action::Forward);
    a.cursor != c
}
