//! The rewrites a sweep axis applies to a scenario's text (see
//! [`super::spec`] for the table). Command rewrites work line by line on
//! `ipvsadm` lines, prompts and all (`[root@lvs ~]#  ipvsadm -A …`), and on
//! keepalived.conf's `lb_algo` / `lb_kind` lines for the same settings.

use super::spec::Rewrite;

fn value_str(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        o => o.to_string(),
    }
}

/// Splits a line into (text before `ipvsadm `, the words after it).
fn ipvsadm_words(line: &str) -> Option<(&str, Vec<String>)> {
    let i = line.find("ipvsadm ")?;
    let before = &line[..i];
    if before.trim_start().starts_with('#') && !before.contains("]#") {
        return None; // a comment, not a prompt
    }
    let words = line[i + 8..]
        .split_whitespace()
        .map(str::to_string)
        .collect();
    Some((before, words))
}

fn has(words: &[String], flags: &[&str]) -> bool {
    words.iter().any(|w| flags.contains(&w.as_str()))
}

/// Sets the value after one of `flags` (or appends `flags[0] value`).
fn set_opt(words: &mut Vec<String>, flags: &[&str], value: &str) {
    if let Some(i) = words.iter().position(|w| flags.contains(&w.as_str())) {
        if i + 1 < words.len() {
            words[i + 1] = value.to_string();
        } else {
            words.push(value.to_string());
        }
    } else if let Some(i) = words
        .iter()
        .position(|w| w.starts_with("--scheduler=") && flags.contains(&"--scheduler"))
    {
        words[i] = format!("--scheduler={value}");
    } else {
        words.push(flags[0].to_string());
        words.push(value.to_string());
    }
}

const ADD_SVC: [&str; 4] = ["-A", "--add-service", "-E", "--edit-service"];
const ADD_DEST: [&str; 4] = ["-a", "--add-server", "-e", "--edit-server"];
const METHODS: [&str; 6] = ["-g", "--gatewaying", "-m", "--masquerading", "-i", "--ipip"];

fn method_flag(v: &str) -> Result<(&'static str, &'static str), String> {
    match v.to_ascii_lowercase().as_str() {
        "dr" | "route" | "g" => Ok(("-g", "DR")),
        "nat" | "masq" | "m" => Ok(("-m", "NAT")),
        "tun" | "tunnel" | "ipip" | "i" => Ok(("-i", "TUN")),
        o => Err(format!(
            "unknown forwarding method `{o}` (use dr, nat or tun)"
        )),
    }
}

/// Applies a text rewrite.
///
/// # Errors
/// The rewrite changed nothing (no matching line), or a bad value.
pub fn text(src: &str, r: &Rewrite, v: &toml::Value) -> Result<String, String> {
    if let Rewrite::Replace { find, with } = r {
        if !src.contains(find.as_str()) {
            return Err(format!("`{find}` does not occur in the base scenario"));
        }
        return Ok(src.replace(find.as_str(), &with.replace("{value}", &value_str(v))));
    }
    let val = value_str(v);
    let weights: Vec<String> = match (r, v) {
        (Rewrite::Weights, toml::Value::Array(a)) => a.iter().map(value_str).collect(),
        (Rewrite::Weights, _) => return Err("weights need an array, e.g. [1, 2, 4]".into()),
        _ => Vec::new(),
    };
    let keep: usize = match r {
        Rewrite::Servers => val
            .parse()
            .map_err(|_| format!("servers needs a number, not `{val}`"))?,
        _ => usize::MAX,
    };
    let mut out = String::with_capacity(src.len());
    let (mut changed, mut dest_k) = (0usize, 0usize);
    for line in src.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let eol = &line[body.len()..];
        let trimmed = body.trim_start();
        // keepalived.conf equivalents
        let kw = trimmed.split_whitespace().next().unwrap_or("");
        let indent = &body[..body.len() - trimmed.len()];
        if kw == "lb_algo" && *r == Rewrite::Scheduler {
            out.push_str(&format!("{indent}lb_algo {val}{eol}"));
            changed += 1;
            continue;
        }
        if kw == "lb_kind" && *r == Rewrite::Method {
            out.push_str(&format!("{indent}lb_kind {}{eol}", method_flag(&val)?.1));
            changed += 1;
            continue;
        }
        let Some((before, mut words)) = ipvsadm_words(body) else {
            out.push_str(line);
            continue;
        };
        match r {
            Rewrite::Scheduler if has(&words, &ADD_SVC) => {
                set_opt(&mut words, &["-s", "--scheduler"], &val);
                changed += 1;
            }
            Rewrite::Method if has(&words, &ADD_DEST) => {
                let (flag, _) = method_flag(&val)?;
                words.retain(|w| !METHODS.contains(&w.as_str()));
                words.push(flag.to_string());
                changed += 1;
            }
            Rewrite::Weights if has(&words, &ADD_DEST) => {
                if let Some(w) = weights.get(dest_k) {
                    set_opt(&mut words, &["-w", "--weight"], w);
                    changed += 1;
                }
                dest_k += 1;
            }
            Rewrite::Servers if has(&words, &["-a", "--add-server"]) => {
                dest_k += 1;
                if dest_k > keep {
                    changed += 1;
                    continue; // drop the line
                }
            }
            _ => {
                out.push_str(line);
                continue;
            }
        }
        out.push_str(&format!("{before}ipvsadm {}{eol}", words.join(" ")));
    }
    if changed == 0 && !(matches!(r, Rewrite::Servers) && dest_k > 0) {
        let what = match r {
            Rewrite::Scheduler => "an `ipvsadm -A` line (or lb_algo)",
            Rewrite::Method => "an `ipvsadm -a` line (or lb_kind)",
            _ => "an `ipvsadm -a` line",
        };
        return Err(format!("found no {what} to rewrite in the base scenario"));
    }
    if matches!(r, Rewrite::Weights) && weights.len() != dest_k {
        return Err(format!(
            "{} weights given for {dest_k} `ipvsadm -a` lines",
            weights.len()
        ));
    }
    Ok(out)
}

/// Sets `path` (dotted; numbers index arrays) in `doc` to `v`.
///
/// # Errors
/// A missing table or array element on the way.
pub fn set(doc: &mut toml::Table, path: &[String], v: toml::Value) -> Result<(), String> {
    let (last, head) = path.split_last().ok_or("empty set path")?;
    let Some((first, rest)) = head.split_first() else {
        doc.insert(last.clone(), v);
        return Ok(());
    };
    let mut cur = doc
        .get_mut(first)
        .ok_or_else(|| format!("no `{first}` in the base scenario"))?;
    let mut walked = first.clone();
    for seg in rest {
        walked = format!("{walked}.{seg}");
        cur = step(cur, seg).ok_or_else(|| format!("no `{walked}` in the base scenario"))?;
    }
    match cur {
        toml::Value::Table(t) => {
            t.insert(last.clone(), v);
            Ok(())
        }
        toml::Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("`{walked}` is an array: index it with a number"))?;
            let slot = a
                .get_mut(i)
                .ok_or_else(|| format!("`{walked}` has no element {i}"))?;
            *slot = v;
            Ok(())
        }
        _ => Err(format!("`{walked}` is not a table")),
    }
}

fn step<'a>(cur: &'a mut toml::Value, seg: &str) -> Option<&'a mut toml::Value> {
    match cur {
        toml::Value::Table(t) => t.get_mut(seg),
        toml::Value::Array(a) => a.get_mut(seg.parse::<usize>().ok()?),
        _ => None,
    }
}
