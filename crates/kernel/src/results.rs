//! Reading what the generated script printed (`@@LVL` lines).

use std::collections::BTreeMap;

/// One request as the kernel run saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KReq {
    /// wget's exit status (0 = a 200 response).
    pub rc: i32,
    /// Response body.
    pub body: String,
}

/// What one experiment printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KExp {
    /// Modules the kernel lacks (`ip_vs_twos`): the experiment did not run.
    pub unsupported: Vec<String>,
    /// `(scenario line, text)` for setup commands that printed something.
    pub said: Vec<(usize, String)>,
    /// `(scenario line, status)` of setup commands that failed.
    pub failed: Vec<(usize, String)>,
    /// `(scenario line, why)` for skipped setup commands.
    pub skipped: Vec<(usize, String)>,
    /// Requests by index.
    pub reqs: BTreeMap<usize, KReq>,
    /// `(host, tag)` → ipvsadm output (`Ln`, `Sn`, `lnc`, `stats`).
    pub outs: BTreeMap<(String, String), String>,
    /// The experiment finished (stats read).
    pub ok: bool,
}

/// What a whole batch printed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KRun {
    /// `uname -r` of the kernel.
    pub kernel: String,
    /// Experiments by id.
    pub exps: BTreeMap<usize, KExp>,
    /// Namespaces still present after cleanup.
    pub leftover: Option<usize>,
    /// The script reached its end marker.
    pub done: bool,
}

/// Parses the script's output.
#[must_use]
pub fn parse(text: &str) -> KRun {
    let mut run = KRun::default();
    let mut cur = 0usize;
    // (experiment, host, tag, text); host is empty for a request body,
    // whose tag is `k rc`.
    let mut capture: Option<(usize, String, String, String)> = None;
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some((e, h, t, buf)) = &mut capture {
            if line == "@@LVL end" {
                let (e, h, t, buf) = (*e, h.clone(), t.clone(), std::mem::take(buf));
                let x = run.exps.entry(e).or_default();
                if h.is_empty() {
                    let (k, rc) = t.split_once(' ').unwrap_or((&t, ""));
                    let (k, rc) = (k.parse().unwrap_or(0), rc.parse().unwrap_or(-1));
                    x.reqs.insert(k, KReq { rc, body: buf });
                } else {
                    x.outs.insert((h, t), buf);
                }
                capture = None;
            } else {
                buf.push_str(line);
                buf.push('\n');
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("@@LVL ") else {
            continue;
        };
        let mut w = rest.splitn(2, ' ');
        let kind = w.next().unwrap_or_default();
        let arg = w.next().unwrap_or_default();
        let num = |s: &str| s.parse::<usize>().unwrap_or(0);
        match kind {
            "kernel" => run.kernel = arg.to_string(),
            "begin" => {
                cur = num(arg);
                run.exps.entry(cur).or_default();
            }
            "unsupported" => {
                if let Some((e, m)) = arg.split_once(' ') {
                    run.exps
                        .entry(num(e))
                        .or_default()
                        .unsupported
                        .push(m.to_string());
                }
            }
            "say" | "fail" | "skip" => {
                let (l, t) = arg.split_once(' ').unwrap_or((arg, ""));
                let x = run.exps.entry(cur).or_default();
                let v = (num(l), t.to_string());
                match kind {
                    "say" => x.said.push(v),
                    "fail" => x.failed.push(v),
                    _ => x.skipped.push(v),
                }
            }
            "req" => capture = Some((cur, String::new(), arg.to_string(), String::new())),
            "out" => {
                let p: Vec<&str> = arg.split(' ').collect();
                if let [e, h, t] = p.as_slice() {
                    capture = Some((num(e), (*h).to_string(), (*t).to_string(), String::new()));
                }
            }
            "ok" => run.exps.entry(num(arg)).or_default().ok = true,
            "leftover" => run.leftover = arg.trim().parse().ok(),
            "done" => run.done = true,
            _ => {}
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_run() {
        let t = "noise\n@@LVL kernel 6.1.0\r\n@@LVL begin 1\n@@LVL skip 12 why not\n\
                 @@LVL fail 14 rc=1\n@@LVL say 14 SIOCADDRT: File exists\n@@LVL req 0 0\nrs1\n@@LVL end\n\
                 @@LVL req 1 1\n@@LVL end\n@@LVL out 1 lvs Ln\nIP Virtual Server\n  -> x\n@@LVL end\n\
                 @@LVL begin 2\n@@LVL unsupported 2 ip_vs_twos\n@@LVL ok 1\n@@LVL leftover 0\n@@LVL done\n";
        let r = parse(t);
        assert_eq!(r.kernel, "6.1.0");
        assert!(r.done);
        assert_eq!(r.leftover, Some(0));
        let e = &r.exps[&1];
        assert!(e.ok);
        assert_eq!(e.skipped, [(12, "why not".to_string())]);
        assert_eq!(e.failed, [(14, "rc=1".to_string())]);
        assert_eq!(e.reqs[&0].body, "rs1\n");
        assert_eq!(e.reqs[&1].rc, 1);
        assert_eq!(
            e.outs[&("lvs".into(), "Ln".into())],
            "IP Virtual Server\n  -> x\n"
        );
        assert_eq!(r.exps[&2].unsupported, ["ip_vs_twos"]);
        assert!(!r.exps[&2].ok);
    }
}
