//! `lvslab run` at packet fidelity with `--trace` or `--check-determinism`:
//! the trace streams out as the run makes it (in batches of records), so a
//! long run's trace never sits in memory, and the determinism check
//! compares two runs by hashes of fixed-size chunks of lines, going back
//! to the lines themselves only to name the first that differs.

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::io::{self, Write};

use sim_core::scenario::Scenario;
use sim_core::time::SimTime;
use sim_core::trace::TraceRecord;

/// Records handed over at a time.
pub const BATCH: usize = 4096;
/// Lines per hashed chunk of the determinism check.
pub const CHUNK: u64 = 4096;

/// How trace lines are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `TraceRecord`'s display, one per line.
    Text,
    /// One JSON object per line.
    Json,
}

/// Writes one record (`text`: its display) as an output line.
fn write_line(out: &mut impl Write, r: &TraceRecord, text: &str, f: Format) -> io::Result<()> {
    match f {
        Format::Text => writeln!(out, "{text}"),
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::json!({
                "t_ns": r.t.as_nanos(),
                "host": &*r.host,
                "kind": r.kind.category(),
                "text": text,
            })
        ),
    }
}

/// What prints each record of a run: `write_line` in `format`, or
/// nothing without one.
fn printer<'a>(
    out: &'a mut impl Write,
    format: Option<Format>,
) -> impl FnMut(&TraceRecord, &str) -> io::Result<()> + 'a {
    move |r, text| match format {
        Some(f) => write_line(out, r, text, f),
        None => Ok(()),
    }
}

/// What a run's trace digests to: a hash per chunk of [`CHUNK`] lines
/// (the last one partial) and the number of lines.
#[derive(Debug, PartialEq, Eq)]
struct Digest {
    chunks: Vec<u64>,
    lines: u64,
}

/// Runs `sc` to `end`, passing each trace record with its 0-based
/// number and its text line to `each`, and digests the lines.
fn run_lines(
    sc: &mut Scenario,
    end: SimTime,
    chunk: u64,
    mut each: impl FnMut(u64, &TraceRecord, &str) -> io::Result<()>,
) -> io::Result<Digest> {
    let mut d = Digest {
        chunks: Vec::new(),
        lines: 0,
    };
    let mut h = DefaultHasher::new();
    sc.world.step_until_draining(end, BATCH, |recs| {
        for r in recs {
            let text = r.to_string();
            each(d.lines, r, &text)?;
            h.write(text.as_bytes());
            h.write_u8(b'\n');
            d.lines += 1;
            if d.lines.is_multiple_of(chunk) {
                d.chunks.push(h.finish());
                h = DefaultHasher::new();
            }
        }
        Ok::<(), io::Error>(())
    })?;
    if !d.lines.is_multiple_of(chunk) {
        d.chunks.push(h.finish());
    }
    Ok(d)
}

/// Runs `sc` to `end`, writing its trace to `out` in `format` if given
/// (without one, the records are dropped unread: nothing is formatted).
/// Returns the number of records.
///
/// # Errors
/// Writing to `out` failed.
pub fn stream(
    sc: &mut Scenario,
    end: SimTime,
    format: Option<Format>,
    out: &mut impl Write,
) -> io::Result<u64> {
    let mut n = 0u64;
    let mut print = printer(out, format);
    sc.world.step_until_draining(end, BATCH, |recs| {
        n += u64::try_from(recs.len()).unwrap_or(u64::MAX);
        if format.is_some() {
            for r in recs {
                print(r, &r.to_string())?;
            }
        }
        Ok::<(), io::Error>(())
    })?;
    Ok(n)
}

/// The determinism check: `first` runs (printing its trace to `out` in
/// `format` if given), then `second`, each digested in chunks of `chunk`
/// lines ([`CHUNK`]); `again` makes a fresh pair of the same scenario,
/// run only when the two differ, to find the first line that differs.
/// `Ok(Ok(records))` when identical, `Ok(Err(line))` (1-based) when not.
///
/// # Errors
/// Writing to `out` failed.
pub fn check(
    chunk: u64,
    first: &mut Scenario,
    second: &mut Scenario,
    end: SimTime,
    format: Option<Format>,
    out: &mut impl Write,
    again: impl FnOnce() -> Option<(Scenario, Scenario)>,
) -> io::Result<Result<u64, u64>> {
    let mut print = printer(out, format);
    let a = run_lines(first, end, chunk, |_, r, text| print(r, text))?;
    let b = run_lines(second, end, chunk, |_, _, _| Ok(()))?;
    if a == b {
        return Ok(Ok(a.lines));
    }
    // The first chunk that differs holds the first line that differs (or
    // one run's trace ends there).
    let k = a
        .chunks
        .iter()
        .zip(&b.chunks)
        .position(|(x, y)| x != y)
        .unwrap_or(a.chunks.len().min(b.chunks.len()));
    let from = u64::try_from(k).unwrap_or(u64::MAX).saturating_mul(chunk);
    let shortest = a.lines.min(b.lines);
    let Some((mut x, mut y)) = again() else {
        return Ok(Err(from.min(shortest) + 1));
    };
    let lines_of = |sc: &mut Scenario| -> io::Result<String> {
        let mut v = String::new();
        run_lines(sc, end, chunk, |n, _, text| {
            if (from..from + chunk).contains(&n) {
                v.push_str(text);
                v.push('\n');
            }
            Ok(())
        })?;
        Ok(v)
    };
    let (la, lb) = (lines_of(&mut x)?, lines_of(&mut y)?);
    let i =
        crate::first_difference(&la, &lb).unwrap_or(la.lines().count().min(lb.lines().count()) + 1);
    Ok(Err(from + u64::try_from(i).unwrap_or(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::scenario;
    use sim_core::trace::TraceLevel;

    const DR: &str = include_str!("../../../scenarios/labs/tutorial-dr.toml");

    fn lab(seed: u64) -> Scenario {
        scenario::load("tutorial-dr.toml", DR, TraceLevel::Full, Some(seed)).expect("loads")
    }

    fn end() -> SimTime {
        SimTime::ZERO + sim_core::time::SimDuration::from_secs(8)
    }

    /// The whole trace of a run held in memory, the old way.
    fn held(seed: u64) -> String {
        let mut sc = lab(seed);
        sc.world.step_until(end());
        sc.world.trace.to_text()
    }

    #[test]
    fn a_streamed_trace_is_the_held_one() {
        // Long enough to be handed over in more than one batch.
        let src = include_str!("../../../scenarios/labs/keepalived-split-brain.toml");
        let load = || scenario::load("split.toml", src, TraceLevel::Full, None).expect("loads");
        let mut sc = load();
        let end = SimTime::ZERO + sc.duration;
        let mut out = Vec::new();
        let n = stream(&mut sc, end, Some(Format::Text), &mut out).expect("writes");
        assert!(sc.world.trace.records.is_empty(), "nothing left held");
        let text = String::from_utf8(out).expect("utf-8");
        let mut whole = load();
        whole.world.step_until(end);
        assert_eq!(text, whole.world.trace.to_text());
        assert_eq!(n, u64::try_from(text.lines().count()).expect("fits"));
        assert!(n > BATCH as u64, "more than one batch: {n} records");
    }

    #[test]
    fn the_check_passes_on_equal_runs_and_names_the_first_different_line() {
        let mut out = Vec::new();
        let same = check(7, &mut lab(1), &mut lab(1), end(), None, &mut out, || None);
        assert_eq!(
            same.expect("no i/o"),
            Ok(u64::try_from(held(1).lines().count()).expect("fits"))
        );
        assert!(out.is_empty(), "nothing printed without a format");
        // Two seeds: the first line that differs, found through chunks of
        // 7 lines and a second pair of runs, is the one a line-by-line
        // comparison of the held traces finds.
        let (a, b) = (held(1), held(2));
        let want = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .expect("differ")
            + 1;
        assert!(
            want > 7,
            "the difference is past the first chunk (line {want})"
        );
        for chunk in [7, 4096] {
            let got = check(
                chunk,
                &mut lab(1),
                &mut lab(2),
                end(),
                None,
                &mut out,
                || Some((lab(1), lab(2))),
            );
            assert_eq!(
                got.expect("no i/o"),
                Err(u64::try_from(want).expect("fits"))
            );
        }
    }
}
