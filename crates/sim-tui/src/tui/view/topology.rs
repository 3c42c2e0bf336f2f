//! The topology: hosts as boxes on segment buses, packets in flight.
//!
//! ```text
//!  ┌client──────┐ ┌lvs ★VIP────┐       band 0: clients and directors
//!  │.133/24     │ │.130/24     │
//!  └─────┬──────┘ └─────┬──────┘
//! lan ───┴──────●───────┴──────┬───    a bus per segment
//!  ┌rs1─────────┐ ┌rs2───────┴─┐       band 1: the rest
//! ```
//!
//! Hosts on one segment sit next to its bus; a host on two segments (a
//! router) sits between the two buses.

use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};

use sim_core::host::HostId;
use sim_core::trace::TraceKind;

use crate::tui::app::{App, Focus, HostSnap};
use crate::tui::classify::PacketKind;

/// Where everything goes in a given area.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// Host boxes.
    pub boxes: Vec<(HostId, Rect)>,
    /// Bus rows per segment: (y, x0, x1); `None` when not drawn.
    pub buses: Vec<Option<(u16, u16, u16)>>,
    /// Connectors: (host, segment, x, y of the box edge, y of the bus).
    pub ports: Vec<(HostId, usize, u16, u16, u16)>,
}

/// Host bands: band `b` lies above bus `b` (and below bus `b-1`).
fn bands(app: &App) -> Vec<Vec<HostId>> {
    let c = &app.cabling;
    let nseg = c.segments.len().max(1);
    let mut bands = vec![Vec::new(); nseg + 1];
    for (h, segs) in c.host_segments.iter().enumerate() {
        let b = match segs.as_slice() {
            [] => 0,
            [_] if nseg == 1 => usize::from(!(c.is_client[h] || c.is_director[h])),
            [0] => 0,
            [s] => s + 1,
            [s, ..] => s + 1,
        };
        bands[b].push(h);
    }
    bands
}

/// How many rows the topology would like (boxes with every address).
#[must_use]
pub fn wanted_height(app: &App) -> u16 {
    let bands = bands(app);
    let bh = box_height(app);
    let nb = u16::try_from(bands.iter().filter(|b| !b.is_empty()).count()).unwrap_or(1);
    let nseg = u16::try_from(app.cabling.segments.len()).unwrap_or(1);
    nb * bh + nseg * 3 + 1
}

/// Box height that shows every address line (at most 6 lines).
fn box_height(app: &App) -> u16 {
    let lines = app
        .snap
        .hosts
        .iter()
        .map(|h| box_lines(h).len())
        .max()
        .unwrap_or(1);
    u16::try_from(lines.clamp(1, 6) + 2).unwrap_or(8)
}

/// Lays the topology out in `area`.
#[must_use]
pub fn layout(app: &App, area: Rect) -> Layout {
    let mut out = Layout {
        buses: vec![None; app.cabling.segments.len()],
        ..Layout::default()
    };
    if area.width < 8 || area.height < 3 {
        return out;
    }
    let bands = bands(app);
    let nb = u16::try_from(bands.iter().filter(|b| !b.is_empty()).count()).unwrap_or(1);
    let nseg = u16::try_from(app.cabling.segments.len()).unwrap_or(0);
    // Each nonempty band has a box row; each bus one row plus, when there
    // is room, a connector row on each side; one row for the legend.
    let conn = u16::from(area.height > nb * 3 + nseg * 3);
    let fixed = nseg * (1 + 2 * conn) + 1;
    // A box needs three rows to show an address; with less room it is
    // drawn as one line.
    let bh = (area.height.saturating_sub(fixed) / nb.max(1)).min(box_height(app));
    let bh = if bh < 3 { 1 } else { bh };
    let mut y = area.y;
    for (b, hosts) in bands.iter().enumerate() {
        if !hosts.is_empty() {
            place_band(&mut out, hosts, area, y, bh);
            y += bh + conn;
        }
        if b < app.cabling.segments.len() {
            out.buses[b] = Some((y, area.x, area.right().saturating_sub(1)));
            y += 1 + conn;
        }
    }
    connect(app, &mut out);
    // The last row is the legend's.
    out.boxes.retain(|(_, r)| r.bottom() < area.bottom());
    out
}

fn place_band(out: &mut Layout, hosts: &[HostId], area: Rect, y: u16, bh: u16) {
    let k = u16::try_from(hosts.len()).unwrap_or(1).max(1);
    let slot = area.width / k;
    let bw = slot.saturating_sub(1).clamp(3, 28);
    for (i, h) in hosts.iter().enumerate() {
        let i = u16::try_from(i).unwrap_or(0);
        let x = area.x + i * slot + (slot.saturating_sub(bw)) / 2;
        out.boxes.push((*h, Rect::new(x, y, bw, bh)));
    }
}

fn connect(app: &App, out: &mut Layout) {
    for (h, r) in &out.boxes {
        for s in &app.cabling.host_segments[*h] {
            let Some((by, _, _)) = out.buses[*s] else {
                continue;
            };
            let x = r.x + r.width / 2;
            let edge = if by > r.y {
                r.bottom().saturating_sub(1)
            } else {
                r.y
            };
            out.ports.push((*h, *s, x, edge, by));
        }
    }
}

/// The host whose box contains (x, y).
#[must_use]
pub fn hit(app: &App, area: Rect, x: u16, y: u16) -> Option<HostId> {
    let l = layout(app, area);
    l.boxes
        .iter()
        .find(|(_, r)| r.contains(Position { x, y }))
        .map(|(h, _)| *h)
}

fn put(buf: &mut Buffer, area: Rect, x: u16, y: u16, s: &str, st: Style) {
    if area.contains(Position { x, y }) {
        let w = usize::from(area.right() - x);
        buf.set_stringn(x, y, s, w, st);
    }
}

/// The colour of a packet kind.
#[must_use]
pub fn color(k: PacketKind) -> Color {
    match k {
        PacketKind::Arp => Color::Yellow,
        PacketKind::Request => Color::Green,
        PacketKind::Reply => Color::LightBlue,
        PacketKind::Vrrp => Color::Magenta,
        PacketKind::Check => Color::Cyan,
        PacketKind::Other => Color::Red,
    }
}

/// Draws the topology.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let l = layout(app, area);
    if l.boxes.is_empty() {
        put(
            buf,
            area,
            area.x,
            area.y,
            "(enlarge the terminal for the topology)",
            Style::new().fg(Color::DarkGray),
        );
        return;
    }
    for (s, bus) in l.buses.iter().enumerate() {
        if let Some((y, x0, x1)) = *bus {
            let line: String = "─".repeat(usize::from(x1.saturating_sub(x0) + 1));
            put(buf, area, x0, y, &line, Style::new().fg(Color::Gray));
            let name = format!(" {} ", app.cabling.segments[s]);
            put(
                buf,
                area,
                x0,
                y,
                &name,
                Style::new().fg(Color::White).add_modifier(Modifier::BOLD),
            );
        }
    }
    for (_, _, x, edge, by) in &l.ports {
        let (a, b) = if by > edge {
            (edge + 1, *by)
        } else {
            (*by + 1, *edge)
        };
        for y in a..b {
            put(buf, area, *x, y, "│", Style::new().fg(Color::Gray));
        }
        put(
            buf,
            area,
            *x,
            *by,
            if by > edge { "┴" } else { "┬" },
            Style::new().fg(Color::Gray),
        );
    }
    let cur_host = app.tl.entries.get(app.cursor).map(|e| e.rec.host.clone());
    for (h, r) in &l.boxes {
        let Some(hs) = app.snap.hosts.get(*h) else {
            continue;
        };
        let is_cur = cur_host.as_deref() == Some(hs.name.as_str());
        let selected = app.focus == Focus::Host && app.host == *h;
        let web_down = app.lab.web.contains(&hs.name) && !hs.httpd;
        draw_box(buf, area, *r, hs, is_cur, selected, web_down);
    }
    draw_packets(app, &l, area, buf);
    legend(app, area, buf);
}

fn draw_box(
    buf: &mut Buffer,
    area: Rect,
    r: Rect,
    hs: &HostSnap,
    cur: bool,
    sel: bool,
    web_down: bool,
) {
    let mut st = Style::new().fg(Color::Gray);
    if hs.holds_vip() {
        st = Style::new().fg(Color::Yellow);
    }
    if cur {
        st = st.add_modifier(Modifier::BOLD).fg(Color::White);
    }
    if sel {
        st = st.fg(Color::LightCyan).add_modifier(Modifier::BOLD);
    }
    if !hs.powered {
        st = Style::new().fg(Color::DarkGray);
    }
    let w = usize::from(r.width.saturating_sub(2));
    if r.height == 1 {
        let first = box_lines(hs)
            .into_iter()
            .next()
            .map(|(t, _)| t)
            .unwrap_or_default();
        let star = if hs.holds_vip() { "★" } else { "" };
        let text = format!("[{}{star}] {first}", hs.name);
        put(
            buf,
            area,
            r.x,
            r.y,
            &truncate(&text, usize::from(r.width)),
            st.add_modifier(Modifier::BOLD),
        );
        return;
    }
    let top = format!("┌{}┐", "─".repeat(w));
    let bot = format!("└{}┘", "─".repeat(w));
    put(buf, area, r.x, r.y, &top, st);
    let mut title = hs.name.clone();
    if hs.holds_vip() {
        title.push_str(" ★VIP");
    }
    if !hs.powered {
        title.push_str(" (off)");
    }
    if web_down {
        title.push_str(" httpd✗");
    }
    put(
        buf,
        area,
        r.x + 1,
        r.y,
        &title,
        st.add_modifier(Modifier::BOLD),
    );
    let rows = usize::from(r.height.saturating_sub(2));
    let lines = box_lines(hs);
    for i in 0..rows {
        let y = r.y + 1 + u16::try_from(i).unwrap_or(0);
        put(buf, area, r.x, y, "│", st);
        put(buf, area, r.right().saturating_sub(1), y, "│", st);
        if let Some((text, ls)) = lines.get(i) {
            put(buf, area, r.x + 1, y, &truncate(text, w), *ls);
        }
    }
    if r.height >= 2 {
        put(buf, area, r.x, r.bottom() - 1, &bot, st);
    }
}

fn box_lines(hs: &HostSnap) -> Vec<(String, Style)> {
    let mut v = Vec::new();
    // Most telling first: a VIP held on a NIC, then NIC addresses, then a
    // VIP hidden on lo (DR real servers).
    let rank = |a: &crate::tui::app::AddrSnap| match (a.vip, a.on_nic) {
        (true, true) => 0,
        (false, _) => 1,
        (true, false) => 2,
    };
    let mut addrs: Vec<_> = hs.addrs.iter().collect();
    addrs.sort_by_key(|a| rank(a));
    for a in addrs {
        let st = match (a.vip, a.on_nic && hs.powered) {
            (true, true) => Style::new().fg(Color::Black).bg(Color::Yellow),
            (true, false) => Style::new().fg(Color::Yellow).add_modifier(Modifier::DIM),
            _ => Style::new(),
        };
        v.push((format!("{}/{} {}", a.addr, a.prefix, a.label), st));
    }
    for d in &hs.down {
        v.push((format!("{d} DOWN"), Style::new().fg(Color::Red)));
    }
    v
}

fn truncate(s: &str, w: usize) -> String {
    s.chars().take(w).collect()
}

/// A frame on a wire: the path cells and how far along it is.
struct Flight {
    kind: PacketKind,
    label: String,
    path: Vec<(u16, u16)>,
    frac: f64,
}

fn draw_packets(app: &App, l: &Layout, area: Rect, buf: &mut Buffer) {
    for f in flights(app, l).iter().take(12) {
        if f.path.is_empty() {
            continue;
        }
        let last = f.path.len() - 1;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "a cell index"
        )]
        let i = ((f.frac * last as f64).round() as usize).min(last);
        let (x, y) = f.path[i];
        let st = Style::new().fg(color(f.kind)).add_modifier(Modifier::BOLD);
        put(buf, area, x, y, "●", st);
        put(buf, area, x + 1, y, &f.label, st);
    }
}

fn flights(app: &App, l: &Layout) -> Vec<Flight> {
    let es = &app.tl.entries;
    let Some(cur) = es.get(app.cursor) else {
        return vec![];
    };
    let next_t = es.get(app.cursor + 1).map_or(cur.rec.t, |e| e.rec.t);
    let now = cur.rec.t.as_nanos() as f64
        + app.play.phase * (next_t.as_nanos().saturating_sub(cur.rec.t.as_nanos())) as f64;
    let mut out = Vec::new();
    let lo = app.cursor.saturating_sub(48);
    for i in lo..=app.cursor {
        let TraceKind::Tx { frame, .. } = &es[i].rec.kind else {
            continue;
        };
        let hi = (i + 96).min(es.len());
        for j in i + 1..hi {
            let TraceKind::Rx { frame: g, .. } = &es[j].rec.kind else {
                continue;
            };
            if g != frame || j < app.cursor || es[j].rec.host == es[i].rec.host {
                continue;
            }
            let (t0, t1) = (es[i].rec.t.as_nanos() as f64, es[j].rec.t.as_nanos() as f64);
            let frac = if j == app.cursor {
                1.0
            } else if t1 > t0 {
                ((now - t0) / (t1 - t0)).clamp(0.1, 0.9)
            } else {
                0.5
            };
            if let Some(path) = path(app, l, &es[i].rec.host, &es[j].rec.host) {
                out.push(Flight {
                    kind: app.lab.kind(frame),
                    label: short_label(frame),
                    path,
                    frac,
                });
            }
        }
    }
    out
}

fn path(app: &App, l: &Layout, from: &str, to: &str) -> Option<Vec<(u16, u16)>> {
    let w = app.tl.frontier();
    let (a, b) = (w.host_id(from)?, w.host_id(to)?);
    let pa = l.ports.iter().filter(|p| p.0 == a);
    let (_, seg, xa, ea, by) = *pa
        .clone()
        .find(|p| l.ports.iter().any(|q| q.0 == b && q.1 == p.1))?;
    let &(_, _, xb, eb, _) = l.ports.iter().find(|q| q.0 == b && q.1 == seg)?;
    let mut v = Vec::new();
    let step = |a: u16, b: u16| -> Vec<u16> {
        if a <= b {
            (a..=b).collect()
        } else {
            (b..=a).rev().collect()
        }
    };
    v.extend(step(ea, by).into_iter().map(|y| (xa, y)));
    v.extend(step(xa, xb).into_iter().map(|x| (x, by)));
    v.extend(step(by, eb).into_iter().map(|y| (xb, y)));
    Some(v)
}

/// A few characters naming a frame: `ARP?`, `ARP!`, `S`, `S.`, `VRRP`.
fn short_label(f: &sim_core::packet::Frame) -> String {
    use sim_core::packet::{ArpOp, FramePayload, IpPayload};
    match &f.payload {
        FramePayload::Arp(a) => if a.op == ArpOp::Request {
            "ARP?"
        } else {
            "ARP!"
        }
        .into(),
        FramePayload::Ipv4(p) => match &crate::tui::classify::innermost(p).payload {
            IpPayload::Tcp(t) => format!("{}", t.flags),
            IpPayload::Vrrp(_) => "VRRP".into(),
            IpPayload::Udp(_) => "UDP".into(),
            IpPayload::Icmp(_) => "ICMP".into(),
            _ => "IP".into(),
        },
    }
}

fn legend(app: &App, area: Rect, buf: &mut Buffer) {
    let y = area.bottom().saturating_sub(1);
    let items = [
        (PacketKind::Arp, "ARP"),
        (PacketKind::Request, app.lang.pick("request", "请求")),
        (PacketKind::Reply, app.lang.pick("reply", "响应")),
        (PacketKind::Vrrp, "VRRP"),
        (PacketKind::Check, app.lang.pick("check", "健康检查")),
    ];
    let mut x = area.x;
    for (k, name) in items {
        put(buf, area, x, y, "●", Style::new().fg(color(k)));
        put(buf, area, x + 1, y, name, Style::new().fg(Color::DarkGray));
        let w = ratatui::text::Span::raw(name).width();
        x += 3 + u16::try_from(w).unwrap_or(4);
    }
}
