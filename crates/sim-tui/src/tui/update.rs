//! `update(&mut App, Action)`: the only code that changes the app.

use sim_core::host::IfKind;
use sim_core::time::{SimDuration, SimTime};
use sim_core::world::World;

use super::action::Action;
use super::app::{AddrSnap, App, FaultMenu, Focus, HostSnap, Popup, SPEEDS, Snap};
use super::classify::{Filter, client_end};
use super::view;

/// Commands shown in the host view, in order.
pub const HOST_COMMANDS: [&str; 6] = [
    "ip a",
    "ip neigh",
    "ip route",
    "ipvsadm -Ln",
    "ipvsadm -lnc",
    "systemctl status keepalived",
];

/// How many records past the cursor are kept computed (packets in flight
/// are drawn from them).
const LOOKAHEAD: usize = 64;

/// Engine steps of checkpoint rebuilding per idle slice (about a
/// millisecond of work).
const IDLE_BUDGET: u64 = 300;

/// Applies one action.
pub fn update(app: &mut App, a: Action) {
    if a == Action::Idle {
        match app.tl.maintain(IDLE_BUDGET) {
            Ok(more) => app.busy = more,
            Err(e) => app.status = Some(e),
        }
        return;
    }
    app.status = None;
    app.busy = true;
    match a {
        Action::Quit => app.quit = true,
        Action::Resize(w, h) => app.size = (w, h),
        Action::Tick(dt) => tick(app, dt),
        Action::Type(_) | Action::Erase | Action::Confirm | Action::Cancel | Action::Scroll(_)
            if app.popup != Popup::None =>
        {
            popup_key(app, a);
        }
        a => navigate(app, a),
    }
    refresh(app);
}

fn navigate(app: &mut App, a: Action) {
    match a {
        Action::TogglePlay => {
            app.play.on = !app.play.on;
            app.play.phase = 0.0;
        }
        Action::Forward => {
            app.play.on = false;
            step(app, true);
        }
        Action::Back => {
            app.play.on = false;
            step(app, false);
        }
        Action::Speed(d) => {
            let s = app.play.speed.saturating_add_signed(isize::from(d));
            app.play.speed = s.min(SPEEDS.len() - 1);
        }
        Action::GotoPrompt => app.popup = Popup::Goto(String::new(), None),
        Action::CycleFilter => cycle_filter(app),
        Action::FocusNext => app.focus = app.focus.next(),
        Action::FocusPrev => app.focus = app.focus.prev(),
        Action::Inspect => app.focus = Focus::Inspector,
        Action::HostOfEvent => {
            if let Some(h) = app
                .tl
                .entries
                .get(app.cursor)
                .and_then(|e| app.tl.frontier().host_id(&e.rec.host))
            {
                app.host = h;
            }
            app.focus = Focus::Host;
        }
        Action::CycleHost(d) => {
            let n = app.cabling.host_segments.len().max(1);
            app.host = (app.host + n).saturating_add_signed(isize::from(d)) % n;
            app.focus = Focus::Host;
        }
        Action::FaultMenu => app.popup = Popup::Faults(0),
        Action::Help => app.popup = Popup::Help,
        Action::ToggleLang => app.lang = app.lang.toggled(),
        Action::Scroll(n) => scroll(app, n),
        Action::Confirm => {
            if let Some(s) = app.log_sel.take() {
                app.cursor = s;
            }
        }
        Action::Cancel => app.log_sel = None,
        Action::Home => app.cursor = 0,
        Action::End => {
            app.tl.ensure(app.cursor + 1);
            app.cursor = app.tl.entries.len().saturating_sub(1);
        }
        Action::Click(x, y) => click(app, x, y),
        _ => {}
    }
}

/// How far a filtered step looks for the next match before giving up (a
/// run with VRRP adverts never ends).
pub const MAX_SCAN: usize = 100_000;

/// Moves the cursor one matching record forward or back.
pub fn step(app: &mut App, forward: bool) -> bool {
    match next_match(app, app.cursor, forward) {
        Some(i) => {
            app.cursor = i;
            app.log_sel = None;
            true
        }
        None => {
            let msg = if forward {
                app.lang
                    .pick("no further matching event", "后面没有匹配的事件")
            } else {
                app.lang
                    .pick("no earlier matching event", "前面没有匹配的事件")
            };
            app.status = Some(msg.into());
            false
        }
    }
}

fn tick(app: &mut App, dt: f64) {
    if !app.play.on || app.popup != Popup::None {
        return;
    }
    app.play.phase += dt * f64::from(SPEEDS[app.play.speed]);
    let mut n = 0;
    while app.play.phase >= 1.0 && n < 2000 {
        app.play.phase -= 1.0;
        n += 1;
        if !step(app, true) {
            app.play.on = false;
            app.play.phase = 0.0;
            return;
        }
    }
    app.play.phase = app.play.phase.min(0.999);
}

fn cycle_filter(app: &mut App) {
    app.filter = match &app.filter {
        Filter::All => Filter::Arp,
        Filter::Arp => Filter::Tcp,
        Filter::Tcp => Filter::Vrrp,
        Filter::Vrrp => Filter::Checks,
        Filter::Checks => {
            let conn = app
                .tl
                .entries
                .get(app.cursor)
                .and_then(|e| e.rec.kind.frame().and_then(client_end));
            match conn {
                Some((a, p)) => Filter::Conn(a, p),
                None => Filter::All,
            }
        }
        Filter::Conn(..) => Filter::All,
    };
}

fn scroll(app: &mut App, n: i32) {
    match app.focus {
        Focus::Log => {
            let mut i = app.log_sel.unwrap_or(app.cursor);
            for _ in 0..n.unsigned_abs() {
                match next_match(app, i, n > 0) {
                    Some(j) => i = j,
                    None => break,
                }
            }
            app.log_sel = Some(i);
        }
        Focus::Inspector | Focus::Host => {
            let k = usize::from(app.focus == Focus::Host);
            let v = i32::from(app.scroll[k]).saturating_add(n).max(0);
            app.scroll[k] = u16::try_from(v).unwrap_or(u16::MAX);
        }
    }
}

/// The next (or previous) record index matching the filter, looking at
/// most [`MAX_SCAN`] records away.
fn next_match(app: &mut App, from: usize, forward: bool) -> Option<usize> {
    let mut i = from;
    for _ in 0..MAX_SCAN {
        if forward {
            i += 1;
            if !app.tl.ensure(i) {
                return None;
            }
        } else {
            i = i.checked_sub(1)?;
        }
        if app.lab.matches(&app.filter, &app.tl.entries[i].rec) {
            return Some(i);
        }
    }
    None
}

fn click(app: &mut App, x: u16, y: u16) {
    let areas = view::layout(app, app.size);
    if let Some(h) = view::topology::hit(app, areas.topology, x, y) {
        app.host = h;
        app.focus = Focus::Host;
        return;
    }
    if let Some(i) = view::log::hit(app, areas.log, x, y) {
        app.cursor = i;
        app.log_sel = None;
        app.focus = Focus::Log;
    }
}

fn popup_key(app: &mut App, a: Action) {
    match (&mut app.popup, a) {
        (_, Action::Cancel) => app.popup = Popup::None,
        (Popup::Goto(s, _), Action::Type(c)) => s.push(c),
        (Popup::Goto(s, _), Action::Erase) => {
            s.pop();
        }
        (Popup::Goto(s, err), Action::Confirm) => match SimDuration::parse(s.trim()) {
            Ok(d) => {
                app.cursor = app.tl.index_at_time(SimTime::ZERO + d);
                app.log_sel = None;
                app.popup = Popup::None;
            }
            Err(e) => *err = Some(e.to_string()),
        },
        (Popup::Faults(i), Action::Scroll(n)) => {
            let len = app.snap.faults.len().max(1);
            *i = usize::try_from(
                (i64::try_from(*i).unwrap_or(0) + i64::from(n))
                    .rem_euclid(i64::try_from(len).unwrap_or(1)),
            )
            .unwrap_or(0);
        }
        (Popup::Faults(i), Action::Type(c)) => {
            if let Some(d) = c.to_digit(10) {
                *i = (d as usize).saturating_sub(1);
                inject(app);
            }
        }
        (Popup::Faults(_), Action::Confirm) => inject(app),
        _ => {}
    }
}

fn inject(app: &mut App) {
    let Popup::Faults(i) = app.popup else { return };
    app.popup = Popup::None;
    let Some((h, cmd)) = app.snap.faults.get(i).cloned() else {
        return;
    };
    match app.tl.inject(app.cursor, h, &cmd) {
        Ok(idx) => {
            app.cursor = idx;
            app.snap.pos = None;
        }
        Err(e) => app.status = Some(e),
    }
}

/// Recomputes what the view needs from the world at the cursor.
pub fn refresh(app: &mut App) {
    app.tl.ensure(app.cursor + LOOKAHEAD);
    if app.tl.entries.is_empty() {
        return;
    }
    app.cursor = app.cursor.min(app.tl.entries.len() - 1);
    let pos = app.tl.entries[app.cursor].pos;
    let want_host = (app.focus == Focus::Host).then_some(app.host);
    let have_host = app.snap.host_view.as_ref().map(|(h, _)| *h);
    if app.snap.pos == Some(pos) && want_host == have_host {
        return;
    }
    let host = app.host;
    let w = match app.tl.world_at(app.cursor) {
        Ok(w) => w,
        Err(e) => {
            app.status = Some(e);
            return;
        }
    };
    app.snap = Snap {
        pos: Some(pos),
        hosts: host_snaps(w, &app.lab.vips),
        host_view: want_host.map(|_| (host, host_view(w, host))),
        faults: fault_menu(w, &app.lab.web),
    };
}

fn host_snaps(w: &World, vips: &std::collections::BTreeSet<std::net::Ipv4Addr>) -> Vec<HostSnap> {
    w.hosts
        .iter()
        .map(|h| {
            let mut addrs = Vec::new();
            for i in &h.ifaces {
                for a in i.addrs.iter().filter(|a| !a.addr.is_loopback()) {
                    addrs.push(AddrSnap {
                        label: a.label.clone(),
                        addr: a.addr,
                        prefix: a.prefix,
                        vip: vips.contains(&a.addr),
                        on_nic: i.kind == IfKind::Ether && i.up,
                    });
                }
            }
            HostSnap {
                name: h.name.clone(),
                powered: h.powered,
                addrs,
                down: h
                    .ifaces
                    .iter()
                    .filter(|i| i.kind == IfKind::Ether && !i.up)
                    .map(|i| i.name.clone())
                    .collect(),
                httpd: h.services.httpd,
            }
        })
        .collect()
}

/// The host view text: each command as typed at a prompt, then its output.
pub fn host_view(w: &mut World, h: usize) -> String {
    let name = w.hosts.get(h).map_or_else(String::new, |x| x.name.clone());
    let mut out = String::new();
    for cmd in HOST_COMMANDS {
        out.push_str(&format!("[root@{name} ~]# {cmd}\n"));
        match sim_core::shell::run_line(w, h, cmd) {
            Ok(o) => {
                out.push_str(&o.stdout);
                out.push_str(&o.stderr);
                if let Some(n) = o.note {
                    out.push_str(&format!("(lab note: {n})\n"));
                }
            }
            Err(e) => out.push_str(&format!("{e}\n")),
        }
    }
    out
}

fn fault_menu(w: &World, web: &std::collections::BTreeSet<String>) -> FaultMenu {
    let mut m = Vec::new();
    for h in &w.hosts {
        if h.files.contains_key("/etc/keepalived/keepalived.conf") {
            m.push((h.id, "systemctl stop keepalived".to_string()));
        }
    }
    for h in &w.hosts {
        if h.services.httpd {
            m.push((h.id, "systemctl stop httpd".to_string()));
        } else if web.contains(&h.name) {
            m.push((h.id, "systemctl start httpd".to_string()));
        }
    }
    for h in &w.hosts {
        for i in h.ifaces.iter().filter(|i| i.kind == IfKind::Ether) {
            let verb = if i.up { "down" } else { "up" };
            m.push((h.id, format!("ip link set {} {verb}", i.name)));
        }
    }
    m
}
