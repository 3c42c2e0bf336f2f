//! The packet inspector: headers before and after this hop with changed
//! fields highlighted, the netfilter hooks crossed on this host in order,
//! routing and the IPVS decision.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use sim_core::packet::{ArpOp, Frame, FramePayload, IpPayload, Ipv4Packet};
use sim_core::trace::{TraceKind, TraceRecord};

use crate::tui::app::{App, Focus};
use crate::tui::classify::{PacketKey, packet_key};
use crate::tui::timeline::Entry;

/// Header fields of a frame, outermost first: (name, value).
#[must_use]
pub fn fields(f: &Frame) -> Vec<(String, String)> {
    let mut v = vec![
        ("eth.src".into(), f.src.to_string()),
        ("eth.dst".into(), f.dst.to_string()),
    ];
    match &f.payload {
        FramePayload::Arp(a) => {
            v.push(("eth.type".into(), "ARP (0x0806)".into()));
            let op = if a.op == ArpOp::Request {
                "request"
            } else {
                "reply"
            };
            v.push(("arp.op".into(), op.into()));
            v.push(("arp.sha".into(), a.sha.to_string()));
            v.push(("arp.spa".into(), a.spa.to_string()));
            v.push(("arp.tha".into(), a.tha.to_string()));
            v.push(("arp.tpa".into(), a.tpa.to_string()));
        }
        FramePayload::Ipv4(p) => {
            v.push(("eth.type".into(), "IPv4 (0x0800)".into()));
            ip_fields(&mut v, "ip", p);
        }
    }
    v
}

fn ip_fields(v: &mut Vec<(String, String)>, pre: &str, p: &Ipv4Packet) {
    v.push((format!("{pre}.src"), p.src.to_string()));
    v.push((format!("{pre}.dst"), p.dst.to_string()));
    v.push((format!("{pre}.proto"), format!("{:?}", p.proto())));
    v.push((format!("{pre}.ttl"), p.ttl.to_string()));
    v.push((format!("{pre}.id"), p.id.to_string()));
    v.push((format!("{pre}.len"), p.total_len().to_string()));
    match &p.payload {
        IpPayload::Ipip(inner) => ip_fields(v, "inner", inner),
        IpPayload::Tcp(t) => {
            v.push(("tcp.sport".into(), t.sport.to_string()));
            v.push(("tcp.dport".into(), t.dport.to_string()));
            v.push(("tcp.flags".into(), format!("[{}]", t.flags)));
            v.push(("tcp.seq".into(), t.seq.to_string()));
            v.push(("tcp.ack".into(), t.ack.to_string()));
            v.push(("tcp.win".into(), t.window.to_string()));
            v.push(("tcp.len".into(), t.data.len().to_string()));
        }
        IpPayload::Udp(u) => {
            v.push(("udp.sport".into(), u.sport.to_string()));
            v.push(("udp.dport".into(), u.dport.to_string()));
            v.push(("udp.len".into(), u.data.len().to_string()));
        }
        IpPayload::Vrrp(a) => {
            v.push(("vrrp.vrid".into(), a.vrid.to_string()));
            v.push(("vrrp.prio".into(), a.priority.to_string()));
            let addrs: Vec<String> = a.addrs.iter().map(ToString::to_string).collect();
            v.push(("vrrp.addrs".into(), addrs.join(",")));
        }
        IpPayload::Icmp(_) | IpPayload::Other { .. } => {}
    }
}

/// The diff table: (field, before, after, changed).
#[must_use]
pub fn diff(before: Option<&Frame>, after: Option<&Frame>) -> Vec<(String, String, String, bool)> {
    let b = before.map(fields).unwrap_or_default();
    let a = after.map(fields).unwrap_or_default();
    let mut names: Vec<String> = b.iter().map(|x| x.0.clone()).collect();
    for (n, _) in &a {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let get = |v: &[(String, String)], n: &str| {
        v.iter()
            .find(|x| x.0 == n)
            .map_or_else(|| "—".to_string(), |x| x.1.clone())
    };
    names
        .into_iter()
        .map(|n| {
            let (x, y) = (get(&b, &n), get(&a, &n));
            let changed = before.is_some() && after.is_some() && x != y;
            (n, x, y, changed)
        })
        .collect()
}

/// The records of this host's handling of one packet, around `idx`.
#[derive(Debug, Default)]
pub struct Hop<'a> {
    /// The frame as received (Rx), if it arrived here.
    pub rx: Option<(&'a str, &'a Frame)>,
    /// The frame as sent on (Tx), if it left.
    pub tx: Option<(&'a str, &'a Frame)>,
    /// Hooks crossed, in order.
    pub hooks: Vec<&'a TraceRecord>,
    /// Route, IPVS, rewrite and drop records.
    pub notes: Vec<&'a TraceRecord>,
}

/// How far the inspector looks for the other end of a hop (a packet may
/// wait for ARP on a host before it leaves).
const REACH: usize = 400;

/// Gathers the hop the record `idx` belongs to: the packet's arrival on
/// this host, its departure, the hooks in between and the decisions taken.
#[must_use]
pub fn hop(es: &[Entry], idx: usize) -> Hop<'_> {
    let Some(sel) = es.get(idx) else {
        return Hop::default();
    };
    let host = &sel.rec.host;
    let group = |i: usize| es[i].pos == sel.pos && es[i].rec.host == *host;
    let key: Option<PacketKey> = sel.rec.kind.frame().map(packet_key).or_else(|| {
        let (mut lo, mut hi) = (idx, idx);
        while lo > 0 && group(lo - 1) {
            lo -= 1;
        }
        while hi + 1 < es.len() && group(hi + 1) {
            hi += 1;
        }
        es[lo..=hi]
            .iter()
            .find_map(|e| e.rec.kind.frame())
            .map(packet_key)
    });
    let Some(key) = key else {
        return Hop::default();
    };
    let ours = |i: usize| {
        es[i].rec.host == *host && es[i].rec.kind.frame().is_some_and(|f| packet_key(f) == key)
    };
    let is_rx = |i: usize| matches!(es[i].rec.kind, TraceKind::Rx { .. }) && ours(i);
    let is_tx = |i: usize| matches!(es[i].rec.kind, TraceKind::Tx { .. }) && ours(i);
    let is_hook = |i: usize| matches!(es[i].rec.kind, TraceKind::Hook { .. }) && ours(i);
    // Back to the arrival (or the first hook of a packet made here), forward
    // to the departure (or the last hook), never into another traversal.
    let mut start = idx;
    for i in (idx.saturating_sub(REACH)..idx).rev() {
        if is_rx(i) || is_hook(i) {
            start = i;
        }
        if is_rx(i) || is_tx(i) {
            break;
        }
    }
    let mut end = idx;
    for i in idx + 1..es.len().min(idx + REACH) {
        if is_tx(i) || is_hook(i) {
            end = i;
        }
        if is_rx(i) || is_tx(i) {
            break;
        }
    }
    let mut h = Hop::default();
    let poses = [es[start].pos, es[end].pos, sel.pos];
    for e in &es[start..=end.max(start)] {
        if e.rec.host != *host {
            continue;
        }
        match &e.rec.kind {
            TraceKind::Rx { iface, frame } if packet_key(frame) == key && h.rx.is_none() => {
                h.rx = Some((iface, frame))
            }
            TraceKind::Tx { iface, frame } if packet_key(frame) == key => {
                h.tx = Some((iface, frame))
            }
            TraceKind::Hook { frame, .. } if packet_key(frame) == key => h.hooks.push(&e.rec),
            TraceKind::Route { .. }
            | TraceKind::Ipvs { .. }
            | TraceKind::Rewrite { .. }
            | TraceKind::Drop { .. }
                if poses.contains(&e.pos) =>
            {
                h.notes.push(&e.rec);
            }
            _ => {}
        }
    }
    h
}

fn lines<'a>(app: &'a App, width: u16) -> Vec<Line<'a>> {
    let es = &app.tl.entries;
    let Some(sel) = es.get(app.cursor) else {
        return vec![];
    };
    let l = app.lang;
    let h = hop(es, app.cursor);
    let (k, rest) = super::log::summary(&sel.rec);
    let mut out = vec![Line::from(vec![
        Span::styled(
            format!("#{} {} {} ", app.cursor, sel.rec.t, sel.rec.host),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!("{k} "),
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
        ),
        Span::raw(rest),
    ])];
    let chain: Vec<String> = h
        .hooks
        .iter()
        .filter_map(|r| match &r.kind {
            TraceKind::Hook { hook, verdict, .. } => {
                Some(format!("{} {}", hook.name(), verdict.name()))
            }
            _ => None,
        })
        .collect();
    out.push(Line::styled(
        l.pick(
            "netfilter hooks on this host:",
            "本机经过的 netfilter 钩子：",
        ),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    out.push(Line::raw(if chain.is_empty() {
        "—".to_string()
    } else {
        chain.join(" → ")
    }));
    note_lines(&mut out, &h.notes);
    table_lines(&mut out, app, &h, width);
    out
}

/// Route, IPVS, rewrite and drop records, with each rewrite's changes.
fn note_lines(out: &mut Vec<Line<'_>>, notes: &[&TraceRecord]) {
    for r in notes {
        let (k, rest) = super::log::summary(r);
        let st = match r.kind {
            TraceKind::Ipvs { .. } | TraceKind::Rewrite { .. } => {
                Style::new().fg(Color::LightGreen)
            }
            TraceKind::Drop { .. } => Style::new().fg(Color::Red),
            _ => Style::new(),
        };
        out.push(Line::from(vec![
            Span::styled(format!("{k} "), st.add_modifier(Modifier::BOLD)),
            Span::styled(rest, st),
        ]));
        if let TraceKind::Rewrite { before, after, .. } = &r.kind {
            for (n, b, a, c) in diff(Some(before), Some(after)) {
                if c {
                    out.push(Line::styled(
                        format!("  {n}: {b} → {a}"),
                        Style::new().fg(Color::Black).bg(Color::Yellow),
                    ));
                }
            }
        }
    }
}

/// The before/after header table with changed values highlighted.
fn table_lines(out: &mut Vec<Line<'_>>, app: &App, h: &Hop<'_>, width: u16) {
    let l = app.lang;
    let rx_name = h.rx.map_or_else(
        || l.pick("(made here)", "（本机产生）").to_string(),
        |(i, _)| format!("{} {i}", l.pick("in", "收")),
    );
    let tx_name = h.tx.map_or_else(
        || l.pick("(not sent on)", "（未转出）").to_string(),
        |(i, _)| format!("{} {i}", l.pick("out", "发")),
    );
    let col = usize::from(width.saturating_sub(12) / 2).clamp(8, 22);
    out.push(Line::styled(
        format!(
            "{:<11} {:<col$} {:<col$}",
            l.pick("field", "字段"),
            rx_name,
            tx_name
        ),
        Style::new().add_modifier(Modifier::UNDERLINED),
    ));
    for (n, b, a, changed) in diff(h.rx.map(|x| x.1), h.tx.map(|x| x.1)) {
        let st = if changed {
            Style::new().fg(Color::Black).bg(Color::Yellow)
        } else {
            Style::new()
        };
        out.push(Line::from(vec![
            Span::styled(format!("{n:<11} "), Style::new().fg(Color::DarkGray)),
            Span::raw(format!("{b:<col$.col$} ")),
            Span::styled(format!("{a:<col$.col$}"), st),
        ]));
    }
}

/// Draws the inspector.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let block = Block::new()
        .borders(Borders::ALL)
        .title(app.lang.pick(" Inspector ", " 报文检查 "))
        .border_style(super::border(app.focus == Focus::Inspector));
    let inner = block.inner(area);
    Paragraph::new(lines(app, inner.width))
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((app.scroll[0], 0))
        .render(area, buf);
}
