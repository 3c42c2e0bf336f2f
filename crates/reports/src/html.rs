//! Self-contained HTML pages: every chart is embedded as a base64 PNG
//! (`data:` URL), styles are inline, there is no script and no network
//! fetch, so `index.html` can be mailed, copied to a USB stick or opened
//! offline. The SVG files next to it are linked for zooming.

use std::fmt::Write as _;

use crate::model::{MarkKind, RunData};

/// One embedded chart.
#[derive(Debug)]
pub struct Figure {
    /// File id (`connections` → `connections.png` / `.svg`).
    pub id: String,
    /// Caption.
    pub caption: String,
    /// PNG bytes.
    pub png: Vec<u8>,
}

/// Escapes text for HTML.
#[must_use]
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Standard base64 (RFC 4648) with padding.
#[must_use]
pub fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if k <= c.len() {
                out.push(char::from(A[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em auto;max-width:1700px;padding:0 1em;color:#222}\
h1{font-size:2.2em;margin-bottom:.2em}h2{font-size:1.6em;margin-top:1.6em;border-bottom:2px solid #ddd}\
table{border-collapse:collapse;font-size:1.15em;margin:.6em 0}td,th{border:1px solid #ccc;padding:.35em .8em;text-align:right}\
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}figure{margin:1.5em 0}\
img{width:100%;max-width:1600px;border:1px solid #ddd}figcaption{font-size:1.2em;margin:.3em 0}\
.ev td,.ev th{text-align:left}.note{color:#555;font-size:1em}.bad{color:#b00;font-weight:bold}";

/// The page head with `title`.
#[must_use]
pub fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(title)
    )
}

/// The figures, each an embedded PNG with a link to its SVG.
#[must_use]
pub fn figures(figs: &[Figure]) -> String {
    let mut s = String::new();
    for f in figs {
        let _ = writeln!(
            s,
            "<figure id=\"{id}\"><figcaption>{cap} (<a href=\"{id}.svg\">SVG</a>, <a href=\"{id}.png\">PNG</a>)</figcaption>\n<img alt=\"{cap}\" src=\"data:image/png;base64,{b64}\"></figure>",
            id = esc(&f.id),
            cap = esc(&f.caption),
            b64 = base64(&f.png)
        );
    }
    s
}

fn pct(a: u64, total: u64) -> String {
    if total == 0 {
        return "–".into();
    }
    #[expect(clippy::cast_precision_loss, reason = "shares for display")]
    let p = a as f64 * 100.0 / total as f64;
    format!("{p:.1} %")
}

/// The report page of one run.
#[must_use]
pub fn report_page(d: &RunData, figs: &[Figure]) -> String {
    let m = &d.meta;
    let t = &d.totals;
    let mut s = head(&format!("lvslab report: {}", m.scenario));
    let _ = writeln!(s, "<h1>lvslab report: {}</h1>", esc(&m.scenario));
    let _ = writeln!(s, "<p>{}</p>", esc(&m.description));
    let _ = writeln!(
        s,
        "<table><tr><th>fidelity</th><th>seed</th><th>scheduler</th><th>forwarding</th><th>simulated</th><th>sample interval</th></tr>\
<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3} s</td><td>{} s</td></tr></table>",
        esc(&m.fidelity),
        m.seed,
        esc(&m.scheduler),
        esc(&m.method),
        m.end_s,
        m.interval_s
    );
    s.push_str("<h2>Summary</h2>\n");
    let bad = if t.failed > 0 { " class=\"bad\"" } else { "" };
    let _ = writeln!(
        s,
        "<table><tr><th>requests</th><th>ok</th><th>failed</th><th>longest time without a successful response</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\
<tr><td>{}</td><td>{}</td><td{bad}>{}</td><td>{:.3} s</td><td>{:.3} ms</td><td>{:.3} ms</td><td>{:.3} ms</td><td>{:.3} ms</td></tr></table>",
        t.requests, t.ok, t.failed, t.longest_gap_s, t.p50_ms, t.p90_ms, t.p99_ms, t.max_ms
    );
    let total: u64 = t.server_conns.iter().sum();
    s.push_str("<table><tr><th>real server</th><th>connections</th><th>share</th><th>ActiveConn at end</th><th>InActConn at end</th></tr>\n");
    for (i, name) in d.servers.iter().enumerate() {
        let c = t.server_conns.get(i).copied().unwrap_or(0);
        let a = d.active.get(i).and_then(|v| v.last()).copied().unwrap_or(0);
        let n = d
            .inactive
            .get(i)
            .and_then(|v| v.last())
            .copied()
            .unwrap_or(0);
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{c}</td><td>{}</td><td>{a}</td><td>{n}</td></tr>",
            esc(name),
            pct(c, total)
        );
    }
    s.push_str("</table>\n");
    let _ = writeln!(
        s,
        "<table><tr><th>director ({})</th><th>packets</th><th>bytes</th></tr>\
<tr><td>in (client → real server)</td><td>{}</td><td>{}</td></tr>\
<tr><td>out (real server → client)</td><td>{}</td><td>{}</td></tr></table>",
        esc(&m.method),
        t.director_in_pkts,
        t.director_in_bytes,
        t.director_out_pkts,
        t.director_out_bytes
    );
    s.push_str("<h2>Charts</h2>\n");
    s.push_str(&figures(figs));
    events_table(&mut s, d);
    notes(&mut s, &m.notes);
    s.push_str("</body>\n</html>\n");
    s
}

fn events_table(s: &mut String, d: &RunData) {
    let ev: Vec<_> = d
        .marks
        .iter()
        .filter(|m| m.kind != MarkKind::Failure)
        .collect();
    if ev.is_empty() {
        return;
    }
    s.push_str("<h2>Events</h2>\n<table class=\"ev\"><tr><th>time (s)</th><th>host</th><th>what</th><th>event</th></tr>\n");
    for m in ev.iter().take(200) {
        let kind = match m.kind {
            MarkKind::Vrrp => "VRRP",
            MarkKind::Health => "health check",
            MarkKind::Action => "scenario action",
            MarkKind::Failure => "failure",
        };
        let _ = writeln!(
            s,
            "<tr><td>{:.3}</td><td>{}</td><td>{kind}</td><td>{}</td></tr>",
            m.t,
            esc(&m.host),
            esc(&m.text)
        );
    }
    s.push_str("</table>\n");
}

/// A "how to read this" list.
pub fn notes(s: &mut String, notes: &[String]) {
    if notes.is_empty() {
        return;
    }
    s.push_str("<h2>How these numbers were made</h2>\n<ul class=\"note\">\n");
    for n in notes {
        let _ = writeln!(s, "<li>{}</li>", esc(n));
    }
    s.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a href=\"x\">&"), "&lt;a href=&quot;x&quot;&gt;&amp;");
    }
}
