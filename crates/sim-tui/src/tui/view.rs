//! `view(&App, &mut Frame)`: pure drawing. Layout is a function of the
//! app and the terminal size, shared with mouse hit-testing in `update`.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use super::app::{App, Focus, Popup, SPEEDS};
use super::classify::Filter;
use super::explain::explain;

pub mod inspector;
pub mod log;
pub mod topology;

/// The screen's regions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    /// Title and status bar.
    pub header: Rect,
    /// The topology.
    pub topology: Rect,
    /// The teaching explanation.
    pub explain: Rect,
    /// The event log (zero-sized when hidden).
    pub log: Rect,
    /// The inspector or host view (zero-sized when hidden).
    pub detail: Rect,
    /// Key hints.
    pub footer: Rect,
}

/// Wide enough to show the log and the detail pane side by side.
const WIDE: u16 = 110;

/// Splits a `w`×`h` screen.
#[must_use]
pub fn layout(app: &App, (w, h): (u16, u16)) -> Areas {
    let area = Rect::new(0, 0, w, h);
    let ex = if h >= 30 { 3 } else { 2 };
    let body = h.saturating_sub(2 + ex);
    // A detail pane on a small screen gets room at the topology's expense.
    let share = if app.focus != Focus::Log && h < 40 {
        2
    } else {
        3
    };
    let topo = topology::wanted_height(app).min(body * share / 5);
    let [header, topology, explain, bottom, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(topo),
        Constraint::Length(ex),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let (log, detail) = if w >= WIDE {
        let [a, b] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(bottom);
        (a, b)
    } else if app.focus == Focus::Log {
        (bottom, Rect::default())
    } else {
        (Rect::default(), bottom)
    };
    Areas {
        header,
        topology,
        explain,
        log,
        detail,
        footer,
    }
}

/// The border style of a pane.
#[must_use]
pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::LightCyan)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

/// The filter's name for titles.
#[must_use]
pub fn filter_name(app: &App) -> String {
    let l = app.lang;
    match &app.filter {
        Filter::All => l.pick("all", "全部").into(),
        Filter::Arp => "ARP".into(),
        Filter::Tcp => "TCP".into(),
        Filter::Vrrp => "VRRP".into(),
        Filter::Checks => l.pick("checks", "健康检查").into(),
        Filter::Conn(a, p) => format!("{} {a}:{p}", l.pick("conn", "连接")),
    }
}

/// Draws the whole screen.
pub fn view(app: &App, f: &mut Frame) {
    let size = f.area();
    let a = layout(app, (size.width, size.height));
    let buf = f.buffer_mut();
    header(app, a.header, buf);
    topology::render(app, a.topology, buf);
    explanation(app, a.explain, buf);
    if !a.log.is_empty() {
        log::render(app, a.log, buf);
    }
    if !a.detail.is_empty() {
        if app.focus == Focus::Host {
            host(app, a.detail, buf);
        } else {
            inspector::render(app, a.detail, buf);
        }
    }
    footer(app, a.footer, buf);
    popup(app, size, buf);
}

fn header(app: &App, area: Rect, buf: &mut Buffer) {
    let l = app.lang;
    let (t, n) = app.tl.entries.get(app.cursor).map_or_else(
        || ("0s".to_string(), 0),
        |e| (e.rec.t.to_string(), app.tl.entries.len()),
    );
    let more = if app.tl.exhausted() { "" } else { "+" };
    let state = if app.play.on { "▶" } else { "⏸" };
    let faults = match app.tl.faults().len() {
        0 => String::new(),
        k => format!("│ {} {k} ", l.pick("faults", "故障")),
    };
    let text = format!(
        " lvslab · {} │ t={t} │ {} {}/{n}{more} │ {state} {}{} │ {}: {} │ {} ",
        app.tl.meta.name,
        l.pick("event", "事件"),
        app.cursor + 1,
        SPEEDS[app.play.speed],
        l.pick(" ev/s", " 事件/秒"),
        l.pick("filter", "过滤"),
        filter_name(app),
        l.pick("EN", "中文"),
    ) + &faults;
    let st = Style::new().fg(Color::Black).bg(Color::Cyan);
    buf.set_style(area, st);
    if area.height > 0 {
        buf.set_stringn(area.x, area.y, text, usize::from(area.width), st);
    }
}

fn explanation(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(e) = app.tl.entries.get(app.cursor) else {
        return;
    };
    let mut spans = vec![Span::styled("» ", Style::new().fg(Color::Yellow))];
    let m = &app.tl.meta;
    let intro = app.lang.pick(
        m.explain.as_ref(),
        m.explain_zh.as_ref().or(m.explain.as_ref()),
    );
    let text = match intro {
        Some(t) if e.pos == super::timeline::Pos::default() => format!("{} — {t}", m.description),
        _ => explain(&e.rec, &app.lab, app.lang),
    };
    spans.push(Span::styled(text, Style::new().fg(Color::White)));
    if let Some(s) = &app.status {
        spans.push(Span::styled(
            format!("  [{s}]"),
            Style::new().fg(Color::Red),
        ));
    }
    Paragraph::new(Line::from(spans))
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

fn footer(app: &App, area: Rect, buf: &mut Buffer) {
    let keys = app.lang.pick(
        "space play · ←/→ step · +/- speed · g time · f filter · tab pane · i inspect · o host · k fault · t 中文 · ? help · q quit",
        "空格 播放 · ←/→ 单步 · +/- 速度 · g 跳转 · f 过滤 · tab 窗格 · i 检查 · o 主机 · k 故障 · t English · ? 帮助 · q 退出",
    );
    Paragraph::new(Line::styled(keys, Style::new().fg(Color::DarkGray))).render(area, buf);
}

fn host(app: &App, area: Rect, buf: &mut Buffer) {
    let name = app
        .snap
        .hosts
        .get(app.host)
        .map_or("?", |h| h.name.as_str());
    let title = format!(
        " {} {name} ([ ] {}) ",
        app.lang.pick("Host", "主机"),
        app.lang.pick("other hosts", "切换主机")
    );
    let block = Block::new()
        .borders(Borders::ALL)
        .title(title)
        .border_style(border(true));
    let text = app.snap.host_view.as_ref().map_or("", |(_, s)| s.as_str());
    let lines: Vec<Line> = text
        .lines()
        .map(|l| {
            if l.starts_with("[root@") {
                Line::styled(
                    l,
                    Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
                )
            } else {
                Line::raw(l)
            }
        })
        .collect();
    Paragraph::new(lines)
        .block(block)
        .scroll((app.scroll[1], 0))
        .render(area, buf);
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn popup(app: &App, area: Rect, buf: &mut Buffer) {
    let (title, lines): (String, Vec<Line>) = match &app.popup {
        Popup::None => return,
        Popup::Help => (app.lang.pick(" Keys ", " 按键 ").into(), help_lines(app)),
        Popup::Faults(sel) => (
            app.lang
                .pick(" Inject a fault now ", " 现在注入故障 ")
                .into(),
            fault_lines(app, *sel),
        ),
        Popup::Goto(s, err) => {
            let mut v = vec![
                Line::raw(app.lang.pick(
                    "Jump to time (e.g. 2s, 1500ms):",
                    "跳转到时间（如 2s、1500ms）：",
                )),
                Line::styled(format!("> {s}█"), Style::new().fg(Color::Yellow)),
            ];
            if let Some(e) = err {
                v.push(Line::styled(e.clone(), Style::new().fg(Color::Red)));
            }
            (" g ".into(), v)
        }
    };
    let h = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let r = centered(area, 76, h);
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(
            Block::new()
                .borders(Borders::ALL)
                .title(title)
                .border_style(Style::new().fg(Color::Yellow)),
        )
        .wrap(Wrap { trim: false })
        .render(r, buf);
}

/// The help: (keys, English, Chinese).
const HELP: [(&str, &str, &str); 17] = [
    ("space", "play / pause", "播放 / 暂停"),
    ("→ n l", "one event forward", "前进一个事件"),
    (
        "← p h",
        "one event back (exact replay)",
        "后退一个事件（精确重放）",
    ),
    ("+ -", "faster / slower", "加速 / 减速"),
    ("g", "jump to a time", "跳转到时间"),
    (
        "f",
        "filter: all, ARP, TCP, VRRP, checks, this connection",
        "过滤：全部、ARP、TCP、VRRP、健康检查、当前连接",
    ),
    (
        "tab",
        "next pane (log, inspector, host)",
        "切换窗格（事件、检查、主机）",
    ),
    (
        "i / o",
        "inspector / host view of this event's host",
        "报文检查 / 当前事件主机视图",
    ),
    (
        "[ ]",
        "previous / next host; click a host box",
        "上一个 / 下一个主机；可点击主机",
    ),
    (
        "↑ ↓ j",
        "move in the log (Enter jumps) / scroll",
        "在事件列表中移动（回车跳转）/ 滚动",
    ),
    ("Home End", "first / last event", "第一个 / 最后一个事件"),
    (
        "k",
        "inject a fault (keepalived, httpd, link)",
        "注入故障（keepalived、httpd、链路）",
    ),
    ("t", "English / 中文", "English / 中文"),
    ("?", "this help", "本帮助"),
    ("q", "quit (Ctrl-C too)", "退出（也可 Ctrl-C）"),
    (
        "",
        "simplified: no TCP options, no IP fragments",
        "简化：无 TCP 选项、无 IP 分片",
    ),
    (
        "",
        "host view: state after the whole engine event",
        "主机视图：整个引擎事件之后的状态",
    ),
];

fn help_lines(app: &App) -> Vec<Line<'static>> {
    HELP.iter()
        .map(|(k, en, zh)| {
            Line::from(vec![
                Span::styled(format!("{k:>9}  "), Style::new().fg(Color::Yellow)),
                Span::raw(app.lang.pick(*en, *zh).to_string()),
            ])
        })
        .collect()
}

fn fault_lines(app: &App, sel: usize) -> Vec<Line<'static>> {
    let w = app.tl.frontier();
    let mut v: Vec<Line> = app
        .snap
        .faults
        .iter()
        .enumerate()
        .map(|(i, (h, cmd))| {
            let name = w.hosts.get(*h).map_or("?", |x| x.name.as_str());
            let st = if i == sel {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Line::styled(format!("{:>2}. [root@{name} ~]# {cmd}", i + 1), st)
        })
        .collect();
    if v.is_empty() {
        v.push(Line::raw(
            app.lang.pick("nothing to break here", "没有可注入的故障"),
        ));
    }
    v.push(Line::styled(
        app.lang.pick(
            "↑↓ choose · Enter run · Esc cancel",
            "↑↓ 选择 · 回车 执行 · Esc 取消",
        ),
        Style::new().fg(Color::DarkGray),
    ));
    v
}
