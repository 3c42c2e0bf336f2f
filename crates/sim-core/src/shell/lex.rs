//! Splitting scripts into commands and commands into words, as a POSIX
//! shell would for the subset people paste: quotes, backslashes, `#`
//! comments, `&&` / `;` / `||` lists, `|` pipes, `>`/`>>` redirections and
//! `<<WORD` here-documents. Prompts such as `[root@lvs ~]#` are stripped.

/// One simple command with its redirections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Simple {
    /// Words after quote removal.
    pub argv: Vec<String>,
    /// `> file` / `>> file` (path, append).
    pub redirect: Option<(String, bool)>,
    /// `<<WORD` body.
    pub heredoc: Option<String>,
    /// `2>/dev/null` and friends (ignored).
    pub stderr_redirect: bool,
}

/// A pipeline `a | b | c`.
pub type Pipeline = Vec<Simple>;

/// A command line: pipelines joined by `&&`, `||` or `;`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// (connector before this pipeline: "", "&&", "||", ";"), pipeline.
    pub parts: Vec<(String, Pipeline)>,
}

/// A command line in a script, with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptLine {
    /// 1-based line in the script.
    pub line: usize,
    /// 1-based column where the command starts.
    pub col: usize,
    /// The command text (prompt stripped).
    pub text: String,
    /// Here-document body, if the line has `<<WORD`.
    pub heredoc: Option<String>,
}

/// Strips a copied shell prompt (`[root@lvs ~]#  `, `$ `, `# ` is a comment).
#[must_use]
pub fn strip_prompt(line: &str) -> (usize, &str) {
    let t = line.trim_start();
    let mut off = line.len() - t.len();
    let mut rest = t;
    if t.starts_with('[') {
        if let Some(end) = t.find(']') {
            let after = &t[end + 1..];
            if let Some(a) = after.strip_prefix('#').or_else(|| after.strip_prefix('$')) {
                let a2 = a.trim_start();
                off += end + 2 + (a.len() - a2.len());
                rest = a2;
            }
        }
    } else if let Some(a) = t.strip_prefix("$ ") {
        let a2 = a.trim_start();
        off += t.len() - a2.len();
        rest = a2;
    }
    (off, rest)
}

/// Splits a script into command lines, collecting here-documents.
///
/// # Errors
/// `(line, col, message)` for an unterminated here-document.
pub fn split_script(script: &str) -> Result<Vec<ScriptLine>, (usize, usize, String)> {
    let lines: Vec<&str> = script.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (off, text) = strip_prompt(lines[i]);
        let text = text.trim_end();
        let lineno = i + 1;
        i += 1;
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        // Join backslash continuations.
        let mut full = text.to_string();
        while full.ends_with('\\') && i < lines.len() {
            full.pop();
            full.push(' ');
            full.push_str(lines[i].trim());
            i += 1;
        }
        let mut heredoc = None;
        if let Some(word) = heredoc_word(&full) {
            let mut body = String::new();
            let mut closed = false;
            while i < lines.len() {
                let l = lines[i];
                i += 1;
                if l.trim() == word {
                    closed = true;
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            if !closed {
                return Err((
                    lineno,
                    off + 1,
                    format!("here-document `<<{word}` is never closed by a line `{word}`"),
                ));
            }
            heredoc = Some(body);
        }
        out.push(ScriptLine {
            line: lineno,
            col: off + 1,
            text: full,
            heredoc,
        });
    }
    Ok(out)
}

fn heredoc_word(line: &str) -> Option<String> {
    let idx = line.find("<<")?;
    let rest = line[idx + 2..].trim_start_matches('-').trim_start();
    let w: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ';' && *c != '&' && *c != '|')
        .filter(|c| *c != '\'' && *c != '"')
        .collect();
    if w.is_empty() { None } else { Some(w) }
}

#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    Op(&'static str),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                has = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                has = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => cur.push(x),
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(x) => cur.push(x),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                has = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            '#' if !has => {
                break;
            }
            c if c.is_whitespace() || c == '\u{3000}' => {
                if has {
                    toks.push(Tok::Word(std::mem::take(&mut cur)));
                    has = false;
                }
            }
            '&' | '|' | ';' | '>' | '<' => {
                let op: &'static str = match (c, chars.peek()) {
                    ('&', Some('&')) => {
                        chars.next();
                        "&&"
                    }
                    ('|', Some('|')) => {
                        chars.next();
                        "||"
                    }
                    ('>', Some('>')) => {
                        chars.next();
                        ">>"
                    }
                    ('<', Some('<')) => {
                        chars.next();
                        "<<"
                    }
                    ('|', _) => "|",
                    (';', _) => ";",
                    ('>', _) => ">",
                    ('<', _) => "<",
                    _ => "&",
                };
                // `2>` redirects stderr.
                if op == ">" && has && cur == "2" {
                    cur.clear();
                    has = false;
                    toks.push(Tok::Op("2>"));
                    continue;
                }
                if has {
                    toks.push(Tok::Word(std::mem::take(&mut cur)));
                    has = false;
                }
                toks.push(Tok::Op(op));
            }
            c => {
                has = true;
                cur.push(c);
            }
        }
    }
    if has {
        toks.push(Tok::Word(cur));
    }
    Ok(toks)
}

/// Parses one command line.
///
/// # Errors
/// A message for quoting or redirection syntax errors.
pub fn parse_line(text: &str, heredoc: Option<&str>) -> Result<CommandLine, String> {
    let toks = tokenize(text)?;
    let mut line = CommandLine::default();
    let mut conn = String::new();
    let mut pipe: Pipeline = Vec::new();
    let mut cur = Simple::default();
    let mut it = toks.into_iter().peekable();
    while let Some(t) = it.next() {
        match t {
            Tok::Word(w) => cur.argv.push(w),
            Tok::Op(op @ (">" | ">>")) => match it.next() {
                Some(Tok::Word(f)) => cur.redirect = Some((f, op == ">>")),
                _ => return Err(format!("syntax error: `{op}` needs a file name")),
            },
            Tok::Op("2>") => {
                it.next();
                cur.stderr_redirect = true;
            }
            Tok::Op("<<") => {
                it.next();
                cur.heredoc = Some(heredoc.unwrap_or_default().to_string());
            }
            Tok::Op("<") => {
                it.next();
            }
            Tok::Op("|") => {
                pipe.push(std::mem::take(&mut cur));
            }
            Tok::Op(op) => {
                pipe.push(std::mem::take(&mut cur));
                line.parts
                    .push((std::mem::take(&mut conn), std::mem::take(&mut pipe)));
                conn = op.to_string();
            }
        }
    }
    if !cur.argv.is_empty() || cur.redirect.is_some() {
        pipe.push(cur);
    }
    if !pipe.is_empty() {
        line.parts.push((conn, pipe));
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_and_quotes() {
        let (off, t) =
            strip_prompt("[root@rs1 ~]#  echo \"1\" >/proc/sys/net/ipv4/conf/lo/arp_ignore");
        assert_eq!(off, 15);
        let l = parse_line(t, None).unwrap();
        assert_eq!(l.parts.len(), 1);
        let s = &l.parts[0].1[0];
        assert_eq!(s.argv, ["echo", "1"]);
        assert_eq!(
            s.redirect,
            Some(("/proc/sys/net/ipv4/conf/lo/arp_ignore".into(), false))
        );
    }

    #[test]
    fn lists_and_pipes() {
        let l = parse_line("iptables -F && iptables -X && iptables -Z", None).unwrap();
        assert_eq!(l.parts.len(), 3);
        assert_eq!(l.parts[1].0, "&&");
        let l = parse_line("ip a | grep 192.168.59.135", None).unwrap();
        assert_eq!(l.parts[0].1.len(), 2);
        let l = parse_line(
            "while true;do curl http://192.168.59.135;sleep 1;done",
            None,
        )
        .unwrap();
        assert_eq!(l.parts.len(), 4);
    }

    #[test]
    fn heredocs_are_collected() {
        let s = "cat > /etc/x.conf <<EOF\na b\n  c\nEOF\nls\n";
        let v = split_script(s).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].heredoc.as_deref(), Some("a b\n  c\n"));
        assert!(split_script("cat <<EOF\nnever closed\n").is_err());
    }

    #[test]
    fn comments_are_skipped() {
        let v = split_script("### set the VIP\n  [root@lvs ~]#  ipvsadm -C # clear\n").unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].line, 2);
        let l = parse_line(&v[0].text, None).unwrap();
        assert_eq!(l.parts[0].1[0].argv, ["ipvsadm", "-C"]);
    }
}
