//! Lines → words → a tree of keyword nodes, following keepalived's `read_line`,
//! `decomment`, `alloc_strvec_r`, `check_include` and `process_stream`.

use super::{ConfContext, ConfLoader, Diags, Severity};

/// A word of a configuration line and its 1-based column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub(crate) text: String,
    pub(crate) col: usize,
}

/// One logical line: a list of words, or a lone `{` / `}`.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) file: usize,
    pub(crate) line: usize,
    pub(crate) words: Vec<Word>,
}

/// All the lines of a configuration, includes expanded in place.
#[derive(Debug, Default)]
pub(crate) struct Lexed {
    /// File names, indexed by [`Line::file`].
    pub(crate) files: Vec<String>,
    pub(crate) lines: Vec<Line>,
}

/// A keyword line with its optional `{ … }` block.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) file: usize,
    pub(crate) line: usize,
    /// Never empty: `words[0]` is the keyword.
    pub(crate) words: Vec<Word>,
    pub(crate) block: Option<Vec<Node>>,
}

/// Characters of a line with their original columns.
type Text = Vec<(char, usize)>;

const MAX_INCLUDE_DEPTH: usize = 16;
const MAX_BLOCK_DEPTH: usize = 64;
const MAX_SUBSTITUTIONS: usize = 256;

fn is_white(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c' | '\n' | '\r' | '\x0b')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

struct Def {
    name: String,
    value: String,
}

struct Lexer<'a> {
    loader: &'a dyn ConfLoader,
    ctx: &'a ConfContext,
    diags: &'a mut Diags,
    out: Lexed,
    defs: Vec<Def>,
    /// Index of the multi-line definition being continued.
    pending: Option<usize>,
}

/// Reads `text` (and its includes) into lines.
pub(crate) fn lex(
    text: &str,
    file: &str,
    loader: &dyn ConfLoader,
    ctx: &ConfContext,
    diags: &mut Diags,
) -> Lexed {
    let mut lx = Lexer {
        loader,
        ctx,
        diags,
        out: Lexed::default(),
        defs: Vec::new(),
        pending: None,
    };
    lx.file(text, file, 0);
    lx.out
}

impl Lexer<'_> {
    fn diag(&mut self, fidx: usize, line: usize, col: usize, sev: Severity, msg: String) {
        let name = self.out.files.get(fidx).cloned().unwrap_or_default();
        self.diags.push(&name, line, col, sev, msg, None);
    }

    fn file(&mut self, text: &str, name: &str, depth: usize) {
        let fidx = self.out.files.len();
        self.out.files.push(name.to_string());
        for (i, raw) in text.split('\n').enumerate() {
            let ln = i + 1;
            let raw = raw.trim_end_matches('\r');
            let chars: Text = raw.chars().zip(1..).collect();
            let (t, cont) = self.decomment(chars, fidx, ln);
            if let Some(d) = self.pending {
                self.continue_definition(d, &t, cont);
                continue;
            }
            if t.is_empty() {
                continue;
            }
            self.logical(t, cont, fidx, ln, depth);
        }
        // A multi-line definition ends with its file.
        self.pending = None;
    }

    /// keepalived's `decomment`: strips leading blanks, comments, trailing blanks; returns
    /// whether the line ended in a continuation `\`.
    fn decomment(&mut self, chars: Text, fidx: usize, ln: usize) -> (Text, bool) {
        let start = chars.iter().take_while(|c| is_blank(c.0)).count();
        let mut t: Text = chars[start..].to_vec();
        let mut quote = false;
        let mut cont = false;
        let mut skip: Option<usize> = None;
        let mut p = 0;
        while p < t.len() {
            let c = t[p].0;
            match c {
                '"' => {
                    if skip.is_none() {
                        quote = !quote;
                    }
                    p += 1;
                }
                '\\' => {
                    if p + 1 < t.len() {
                        let n = t[p + 1].0;
                        if !quote && (n == '#' || n == '!') {
                            t.remove(p);
                            p += 1;
                        } else {
                            p += 2;
                        }
                    } else {
                        t.truncate(p);
                        cont = true;
                        break;
                    }
                }
                '!' | '#' => {
                    if !quote && skip.is_none() {
                        skip = Some(p);
                    }
                    p += 1;
                }
                _ => p += 1,
            }
        }
        if quote {
            let s: String = t.iter().map(|c| c.0).collect();
            let col = t.first().map_or(1, |c| c.1);
            self.diag(
                fidx,
                ln,
                col,
                Severity::Warning,
                format!("Unterminated quote '{s}'"),
            );
        }
        if let Some(s) = skip {
            t.truncate(s);
        }
        while t.last().is_some_and(|c| is_blank(c.0)) {
            t.pop();
        }
        (t, cont)
    }

    fn continue_definition(&mut self, d: usize, t: &Text, cont: bool) {
        let mut s: String = t.iter().map(|c| c.0).collect();
        if cont {
            while s.ends_with(is_blank) {
                s.pop();
            }
            s.push('\n');
        } else {
            self.pending = None;
        }
        if (s.len() >= 2 || (!s.is_empty() && !cont))
            && let Some(def) = self.defs.get_mut(d)
        {
            def.value.push_str(&s);
        }
    }

    fn logical(&mut self, mut t: Text, cont: bool, fidx: usize, ln: usize, depth: usize) {
        // `@id` / `@^id` conditional prefix.
        if t.first().is_some_and(|c| c.0 == '@') {
            let rev = t.get(1).is_some_and(|c| c.0 == '^');
            let ofs = if rev { 2 } else { 1 };
            let Some(end) = t.iter().skip(ofs).position(|c| is_blank(c.0)) else {
                return;
            };
            let end = end + ofs;
            let id: String = t[ofs..end].iter().map(|c| c.0).collect();
            let matches = self.ctx.config_id.as_deref() == Some(id.as_str());
            if matches == rev {
                return;
            }
            let rest = t[end..].iter().take_while(|c| is_blank(c.0)).count();
            t.drain(..end + rest);
            if t.is_empty() {
                return;
            }
        }
        // `$NAME=value` definition.
        if t.first().is_some_and(|c| c.0 == '$') && self.definition(&t, cont) {
            return;
        }
        if t.first().is_some_and(|c| c.0 == '~') {
            let col = t[0].1;
            self.diag(
                fidx,
                ln,
                col,
                Severity::Warning,
                "~SEQ is not supported by lvslab - line ignored".to_string(),
            );
            return;
        }
        if cont {
            let col = t.last().map_or(1, |c| c.1 + 1);
            t.push(('\\', col));
        }
        if !self.defs.is_empty() && t.iter().any(|c| c.0 == '$') {
            t = self.substitute(t);
        }
        let mut part: Text = Vec::new();
        for c in t {
            if c.0 == '\n' {
                self.emit(std::mem::take(&mut part), fidx, ln, depth);
            } else {
                part.push(c);
            }
        }
        self.emit(part, fidx, ln, depth);
    }

    /// keepalived's `check_definition`; true if the line was a definition.
    fn definition(&mut self, t: &Text, cont: bool) -> bool {
        let s: Vec<char> = t.iter().map(|c| c.0).collect();
        if !s
            .get(1)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_')
        {
            return false;
        }
        let mut p = 2;
        while p < s.len() && s[p] != '=' {
            if !(s[p].is_ascii_alphanumeric() || s[p] == '_') {
                return false;
            }
            p += 1;
        }
        if p >= s.len() {
            return false;
        }
        let name: String = s[1..p].iter().collect();
        let mut value: String = s[p + 1..].iter().skip_while(|c| is_blank(**c)).collect();
        if cont {
            while value.ends_with(is_blank) {
                value.pop();
            }
            if !value.is_empty() {
                value.push('\n');
            }
        }
        let idx = if let Some(i) = self.defs.iter().position(|d| d.name == name) {
            self.defs[i].value = value;
            i
        } else {
            self.defs.push(Def { name, value });
            self.defs.len() - 1
        };
        if cont {
            self.pending = Some(idx);
        }
        true
    }

    /// keepalived's `replace_param`: `$NAME` (followed by a blank or the end) and `${NAME}`.
    fn substitute(&self, mut t: Text) -> Text {
        let mut pos = 0;
        let mut count = 0;
        while pos < t.len() && count < MAX_SUBSTITUTIONS {
            if t[pos].0 != '$' || pos + 1 >= t.len() {
                pos += 1;
                continue;
            }
            let braces = t[pos + 1].0 == '{';
            let name_start = pos + 1 + usize::from(braces);
            let mut name_end = name_start;
            while name_end < t.len()
                && (t[name_end].0.is_ascii_alphanumeric() || t[name_end].0 == '_')
            {
                name_end += 1;
            }
            let valid_start = t
                .get(name_start)
                .is_some_and(|c| c.0.is_ascii_alphabetic() || c.0 == '_');
            let end_ok = if braces {
                t.get(name_end).is_some_and(|c| c.0 == '}')
            } else {
                t.get(name_end).is_none_or(|c| is_blank(c.0))
            };
            let name: String = t[name_start.min(t.len())..name_end.min(t.len())]
                .iter()
                .map(|c| c.0)
                .collect();
            let value = if !valid_start || !end_ok {
                None
            } else if name == "_INSTANCE" {
                self.ctx.config_id.clone()
            } else {
                self.defs
                    .iter()
                    .find(|d| d.name == name)
                    .map(|d| d.value.trim_end_matches('\n').to_string())
            };
            match value {
                Some(v) => {
                    let col = t[pos].1;
                    let end = if braces { name_end + 1 } else { name_end };
                    let repl: Text = v.chars().map(|c| (c, col)).collect();
                    t.splice(pos..end, repl);
                    count += 1;
                }
                None => pos += 1,
            }
        }
        t
    }

    fn emit(&mut self, part: Text, fidx: usize, ln: usize, depth: usize) {
        let words = self.words(&part, fidx, ln);
        if words.len() == 2 && words[0].text == "include" {
            self.include(&words[1], fidx, ln, depth);
            return;
        }
        // Split at `{` / `}` outside quotes.
        let mut rest: &[(char, usize)] = &part;
        loop {
            let lead = rest.iter().take_while(|c| is_blank(c.0)).count();
            rest = &rest[lead..];
            let Some(first) = rest.first() else {
                break;
            };
            if first.0 == '{' || first.0 == '}' {
                self.push(
                    fidx,
                    ln,
                    vec![Word {
                        text: first.0.to_string(),
                        col: first.1,
                    }],
                );
                rest = &rest[1..];
                continue;
            }
            let mut p = 0;
            let mut split = None;
            while p < rest.len() {
                match rest[p].0 {
                    '"' => match rest[p + 1..].iter().position(|c| c.0 == '"') {
                        Some(q) => p += q + 2,
                        None => break,
                    },
                    '{' | '}' => {
                        split = Some(p);
                        break;
                    }
                    _ => p += 1,
                }
            }
            match split {
                Some(s) => {
                    let w = self.words(&rest[..s], fidx, ln);
                    self.push(fidx, ln, w);
                    rest = &rest[s..];
                }
                None => {
                    let w = self.words(rest, fidx, ln);
                    self.push(fidx, ln, w);
                    break;
                }
            }
        }
    }

    fn push(&mut self, file: usize, line: usize, words: Vec<Word>) {
        if !words.is_empty() {
            self.out.lines.push(Line { file, line, words });
        }
    }

    /// keepalived's `alloc_strvec_r`.
    fn words(&mut self, t: &[(char, usize)], fidx: usize, ln: usize) -> Vec<Word> {
        let mut out = Vec::new();
        let mut p = 0;
        loop {
            while p < t.len() && is_white(t[p].0) {
                p += 1;
            }
            if p >= t.len() {
                break;
            }
            let col = t[p].1;
            if t[p].0 == '"' {
                match t[p + 1..].iter().position(|c| c.0 == '"') {
                    Some(q) => {
                        let text = t[p + 1..p + 1 + q].iter().map(|c| c.0).collect();
                        out.push(Word { text, col });
                        p += q + 2;
                    }
                    None => {
                        let s: String = t.iter().map(|c| c.0).collect();
                        self.diag(
                            fidx,
                            ln,
                            col,
                            Severity::Warning,
                            format!("Unmatched quote: '{s}'"),
                        );
                        break;
                    }
                }
            } else {
                let start = p;
                while p < t.len() && !is_white(t[p].0) && t[p].0 != '"' {
                    p += 1;
                }
                let text = t[start..p].iter().map(|c| c.0).collect();
                out.push(Word { text, col });
            }
        }
        out
    }

    fn include(&mut self, pattern: &Word, fidx: usize, ln: usize, depth: usize) {
        if depth >= MAX_INCLUDE_DEPTH {
            self.diag(
                fidx,
                ln,
                pattern.col,
                Severity::Error,
                format!("include '{}' nested too deeply - skipping", pattern.text),
            );
            return;
        }
        let current = self.out.files.get(fidx).cloned().unwrap_or_default();
        let resolved = match current.rfind('/') {
            Some(slash) if !pattern.text.starts_with('/') => {
                format!("{}/{}", &current[..slash], pattern.text)
            }
            _ => pattern.text.clone(),
        };
        let mut matched = 0;
        for path in self.loader.glob(&resolved) {
            match self.loader.load(&path) {
                Some(text) => {
                    matched += 1;
                    self.file(&text, &path, depth + 1);
                }
                None => self.diag(
                    fidx,
                    ln,
                    pattern.col,
                    Severity::Warning,
                    format!("Configuration file '{path}' open problem (No such file or directory) - skipping"),
                ),
            }
        }
        if matched == 0 {
            self.diag(
                fidx,
                ln,
                pattern.col,
                Severity::Warning,
                format!("No config files matched '{resolved}'."),
            );
        }
    }
}

fn is_brace(line: &Line, brace: &str) -> bool {
    line.words.len() == 1 && line.words[0].text == brace
}

/// Groups lines into keyword nodes with their `{ … }` blocks.
pub(crate) fn tree(lexed: &Lexed, diags: &mut Diags) -> Vec<Node> {
    let mut t = Tree {
        lexed,
        diags,
        i: 0,
        unclosed: 0,
    };
    let (nodes, _) = t.seq(0);
    if t.unclosed > 0 {
        let (file, line) = lexed
            .lines
            .last()
            .map_or((String::new(), 1), |l| (t.file(l.file), l.line));
        t.diags.push(
            &file,
            line,
            1,
            Severity::Error,
            format!("There are {} missing '}}'s or extra '{{'s", t.unclosed),
            None,
        );
    }
    nodes
}

struct Tree<'a> {
    lexed: &'a Lexed,
    diags: &'a mut Diags,
    i: usize,
    unclosed: usize,
}

impl Tree<'_> {
    fn file(&self, idx: usize) -> String {
        self.lexed.files.get(idx).cloned().unwrap_or_default()
    }

    fn diag_at(&mut self, idx: usize, sev: Severity, msg: &str) {
        let l = &self.lexed.lines[idx];
        let (file, line, col) = (self.file(l.file), l.line, l.words[0].col);
        self.diags.push(&file, line, col, sev, msg, None);
    }

    /// Reads nodes up to the `}` closing this level; returns whether it was closed.
    fn seq(&mut self, depth: usize) -> (Vec<Node>, bool) {
        let lines = &self.lexed.lines;
        let mut out = Vec::new();
        while self.i < lines.len() {
            let idx = self.i;
            let line = &lines[idx];
            self.i += 1;
            if is_brace(line, "}") {
                if depth > 0 {
                    return (out, true);
                }
                self.diag_at(idx, Severity::Warning, "Extra '}' found");
                continue;
            }
            if is_brace(line, "{") {
                self.diag_at(idx, Severity::Warning, "Unexpected '{' - ignoring");
                self.block(depth);
                continue;
            }
            let mut node = Node {
                file: line.file,
                line: line.line,
                words: line.words.clone(),
                block: None,
            };
            if self.i < lines.len() && is_brace(&lines[self.i], "{") {
                self.i += 1;
                node.block = Some(self.block(depth));
            }
            out.push(node);
        }
        (out, false)
    }

    /// The contents of a block whose `{` was just consumed.
    fn block(&mut self, depth: usize) -> Vec<Node> {
        if depth + 1 >= MAX_BLOCK_DEPTH {
            let start = self.i.saturating_sub(1);
            self.diag_at(
                start,
                Severity::Error,
                "Configuration nested too deeply - block skipped",
            );
            let mut level = 1usize;
            while self.i < self.lexed.lines.len() {
                let l = &self.lexed.lines[self.i];
                self.i += 1;
                if is_brace(l, "{") {
                    level += 1;
                } else if is_brace(l, "}") {
                    level -= 1;
                    if level == 0 {
                        return Vec::new();
                    }
                }
            }
            self.unclosed += level;
            return Vec::new();
        }
        let (nodes, closed) = self.seq(depth + 1);
        if !closed {
            self.unclosed += 1;
        }
        nodes
    }
}
