//! The keepalived.conf parser: real keepalived 2.x grammar in, a typed
//! [`KeepalivedConfig`] plus keepalived-style [`Diagnostic`]s out.
//!
//! # What is reproduced from keepalived (`lib/parser.c`, `check_parser.c`, `vrrp_parser.c`)
//!
//! * **Lines.** Each line is "decommented" first: leading blanks go, the first `!` or `#`
//!   outside a `"…"` string starts a comment (anywhere on the line, so `weight 1 # x` and
//!   `inhibit_on_failure ! x` work), `\#` and `\!` are literal, trailing spaces/tabs go.
//! * **Braces.** A `{` or `}` outside quotes always ends the current line part: `foo {`,
//!   `foo\n{` and `foo { bar 1 }` are all the same thing.
//! * **Words.** Words are separated by ASCII white space only (` \t\f\n\r\v`); a word that
//!   starts with `"` runs to the next `"` and loses its quotes.
//! * **`@name` / `@^name` prefixes** (see `keepalived.conf.conditional_conf`): the line is
//!   used only when `name` equals (or, with `^`, differs from) the *config id*, which
//!   keepalived takes from `-i`/`--config-id` or else the host name up to the first dot.
//!   Pass it as [`ConfContext::config_id`].
//! * **`$NAME=value` definitions** and `$NAME` / `${NAME}` substitution, including
//!   multi-line definitions whose lines end in `\`. That trailing-`\` form is the only
//!   line continuation keepalived has; elsewhere a trailing `\` is just a character.
//!   `~SEQ(...)` loops are reported as unsupported and skipped.
//! * **`include GLOB`** (exactly two words, allowed anywhere, even inside a block), resolved
//!   through [`ConfLoader`]; relative paths are taken relative to the including file's
//!   directory, as keepalived `chdir`s there while reading it.
//! * **Numbers** are read like keepalived's `read_unsigned`/`read_double`/`read_timer`,
//!   including their non-strict leniency (below). Durations are decimal seconds, kept
//!   exactly (to the microsecond, keepalived's `TIMER_HZ`) in a
//!   [`SimDuration`](crate::time::SimDuration).
//! * **Checks and defaults** from `vrrp_complete_instance` and `validate_check_config`,
//!   with their log wording: nopreempt cleared with `state MASTER`, missing protocol →
//!   UDP, missing scheduler → `wlc`, missing forwarding method → NAT, quorum and
//!   hysteresis clamps, inheritance virtual_server → real_server → checker of
//!   `connect_timeout`, `retry`, `delay_before_retry`, `delay_loop`, `warmup`, `alpha`
//!   and `inhibit_on_failure`.
//!
//! # The full-width spaces in the tutorial (`retry 3　　　　　　      # 旧版本为 nb_get_retry`)
//!
//! keepalived splits words on ASCII white space only (`WHITE_SPACE = " \t\f\n\r\v"` in
//! `lib/parser.c`, and `isblank` for trailing blanks), so U+3000 IDEOGRAPHIC SPACE is part
//! of the word: the value of `retry` is the single word `3　　　　　　`. `retry` (in
//! `check_api.c`) reads it with `read_unsigned_strvec(strvec, 1, &retry, 0, UINT_MAX, true)`;
//! `read_unsigned_func` runs `strtoul`, which stops at the first byte of U+3000, and since
//! `*endptr != '\0'` it logs `WARNING - invalid number '3　　　　　　'`. With
//! `ignore_error == true` in a normal (non-`_STRICT_CONFIG_`, non `--config-test`) build the
//! function still returns true when the parsed prefix is in range, so **keepalived uses 3
//! and logs the warning**. `delay_before_retry` goes through `read_timer` → `read_double`
//! (`strtod`), with the same outcome: 3 s plus `WARNING - invalid number '3　　　'`. This
//! parser does exactly that (the warning carries a hint naming U+3000). Under
//! `keepalived -t` the same lines are errors and the defaults stay. Sources:
//! acassen/keepalived `lib/parser.c` (`read_unsigned_func`, `read_double_func`,
//! `read_timer`, `alloc_strvec_r`, `decomment`) and `keepalived/check/check_api.c`
//! (`retry_handler`, `delay_before_retry_handler`).
//!
//! * **Deprecated names.** `lb_algo`/`lb_kind` are plain aliases of `lvs_sched`/`lvs_method`
//!   (keepalived installs the same handler, no warning). `nb_get_retry` is accepted only in
//!   `HTTP_GET`/`SSL_GET`, with `nb_get_retry is deprecated - please use 'retry'`; elsewhere
//!   keepalived 2.x reports `Unknown keyword 'nb_get_retry'`. `lvs_sync_daemon_interface`
//!   in a `vrrp_instance` warns `(VI_1) Specifying lvs_sync_daemon_interface against a vrrp
//!   is deprecated.`
//!
//! # Deliberate differences
//!
//! * An unknown keyword followed by a `{ … }` block: keepalived logs `Unknown keyword`, then
//!   `Unexpected '{' - ignoring` and reads the block's lines at the outer level; here the
//!   block is skipped as a whole (one diagnostic, no cascade).
//! * Only what can be checked without a host is checked (no interface existence, no MTU).
//!
//! # Result
//!
//! [`parse`] never fails and never panics: it always returns a [`Parsed`] with the
//! configuration as keepalived would run it and every diagnostic. Callers decide what to do
//! with [`Parsed::has_errors`] (errors are what keepalived refuses: the value is dropped or
//! the item removed; warnings are what it fixes up).

mod build;
mod checker;
mod lexer;
mod lvs;
mod model;
mod numbers;
mod summary;
mod vrrp;

pub use model::*;

use std::fmt;

/// Where configuration text comes from: sim-core does no I/O, the caller does.
pub trait ConfLoader {
    /// The text of the file at `path`, or `None` if it cannot be read.
    fn load(&self, path: &str) -> Option<String>;

    /// The paths matching `pattern` (a glob such as `/etc/keepalived/conf.d/*.conf`), sorted.
    /// The default treats the pattern as a plain path.
    fn glob(&self, pattern: &str) -> Vec<String> {
        vec![pattern.to_string()]
    }
}

/// A loader with no files: every `include` finds nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoFiles;

impl ConfLoader for NoFiles {
    fn load(&self, _path: &str) -> Option<String> {
        None
    }
    fn glob(&self, _pattern: &str) -> Vec<String> {
        Vec::new()
    }
}

/// Facts about the host the configuration is read on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfContext {
    /// keepalived's config id (`-i`, default: host name up to the first dot), matched by
    /// `@id` line prefixes. `None` makes every `@id` line inactive (and `@^id` lines active).
    pub config_id: Option<String>,
}

impl ConfContext {
    /// The context of a lab host: the config id is the host name up to its first dot.
    pub fn for_host(host_name: &str) -> Self {
        let id = host_name.split('.').next().unwrap_or(host_name);
        ConfContext {
            config_id: Some(id.to_string()),
        }
    }
}

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// keepalived logs it and carries on (often after fixing the value up).
    Warning,
    /// keepalived refuses the value or the item.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One message about the configuration, at a 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name as given to [`parse`] or to `include`.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// Warning or error.
    pub severity: Severity,
    /// keepalived's own log text where it has one.
    pub message: String,
    /// The lab's explanation or suggested fix, if any.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    /// `file:line:col: warning: message` (plus `  hint: …` on a second line).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.severity, self.message
        )?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// The outcome of [`parse`]: always a configuration, plus what keepalived would have said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The configuration as keepalived would run it (defaults applied, bad items dropped).
    pub config: KeepalivedConfig,
    /// Every warning and error, in the order keepalived would report them (roughly: parse
    /// order, then the end-of-config checks).
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// Whether any diagnostic is an [`Severity::Error`].
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// A stable, human-readable, line-oriented summary (used by the golden tests).
    pub fn summary(&self) -> String {
        summary::render(self)
    }
}

/// Parses keepalived.conf text named `file`, reading includes through `loader` and
/// resolving `@id` prefixes with `ctx`. Never panics; see the module documentation.
pub fn parse(text: &str, file: &str, loader: &dyn ConfLoader, ctx: &ConfContext) -> Parsed {
    let mut diags = Diags::default();
    let lexed = lexer::lex(text, file, loader, ctx, &mut diags);
    let nodes = lexer::tree(&lexed, &mut diags);
    let config = build::build(&lexed.files, &nodes, &mut diags);
    Parsed {
        config,
        diagnostics: diags.list,
    }
}

/// The diagnostics being collected.
#[derive(Debug, Default)]
pub(crate) struct Diags {
    pub(crate) list: Vec<Diagnostic>,
}

impl Diags {
    pub(crate) fn push(
        &mut self,
        file: &str,
        line: usize,
        column: usize,
        severity: Severity,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.list.push(Diagnostic {
            file: file.to_string(),
            line,
            column,
            severity,
            message: message.into(),
            hint,
        });
    }
}
