//! Virtual time: integer nanoseconds, never floating point, never a wall clock.
//!
//! [`SimTime`] is an instant since the start of the run, [`SimDuration`] a span.
//! Durations are written in scenario files and on the command line as `1s`,
//! `250ms`, `3m`, `1.5s`, `20us`, `100ns`, `1h`; [`SimDuration::parse`] reads them.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Nanoseconds per microsecond, millisecond and second.
pub const NS_PER_US: u64 = 1_000;
/// Nanoseconds per millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds per second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// An instant of virtual time, in nanoseconds since the start of the simulation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of virtual time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The far future (used for "never").
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Nanoseconds since the start.
    #[must_use]
    pub fn as_nanos(self) -> u64 {
        self.0
    }

    /// Whole seconds since the start (truncated).
    #[must_use]
    pub fn as_secs(self) -> u64 {
        self.0 / NS_PER_S
    }

    /// Time elapsed since `earlier`, zero if `earlier` is later.
    #[must_use]
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// Seconds as a float, for display and plotting only (never for logic).
    #[must_use]
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of `s` seconds.
    #[must_use]
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NS_PER_S)
    }
    /// A duration of `ms` milliseconds.
    #[must_use]
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * NS_PER_MS)
    }
    /// A duration of `us` microseconds.
    #[must_use]
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us * NS_PER_US)
    }
    /// A duration of `ns` nanoseconds.
    #[must_use]
    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    /// Nanoseconds.
    #[must_use]
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    /// Whole seconds (truncated).
    #[must_use]
    pub fn as_secs(self) -> u64 {
        self.0 / NS_PER_S
    }
    /// Seconds as a float, for display only.
    #[must_use]
    #[expect(clippy::cast_precision_loss, reason = "display only")]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }

    /// Parses `1s`, `250ms`, `3m`, `1.5s`, `20us`, `100ns`, `2h`, `1m30s`.
    ///
    /// A bare number is refused (the unit is required), as are negative
    /// values and values that overflow 584 years.
    ///
    /// # Errors
    /// A message saying what is wrong, suitable for a `file:line:col` report.
    pub fn parse(text: &str) -> Result<SimDuration, String> {
        let s = text.trim();
        if s.is_empty() {
            return Err("empty duration (write it like `1s`, `250ms`, `3m`)".into());
        }
        let mut total: u64 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if num_len == 0 {
                return Err(format!(
                    "bad duration `{text}`: expected a number (write it like `1s`, `250ms`, `3m`)"
                ));
            }
            let (num, after) = rest.split_at(num_len);
            let unit_len = after
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(after.len());
            let (unit, next) = after.split_at(unit_len);
            let scale: u64 = match unit {
                "ns" => 1,
                "us" | "µs" => NS_PER_US,
                "ms" => NS_PER_MS,
                "s" => NS_PER_S,
                "m" | "min" => 60 * NS_PER_S,
                "h" => 3600 * NS_PER_S,
                "" => {
                    return Err(format!(
                        "duration `{text}` has no unit (write `{num}s` or `{num}ms`)"
                    ));
                }
                other => {
                    return Err(format!(
                        "unknown unit `{other}` in duration `{text}` (use ns, us, ms, s, m or h)"
                    ));
                }
            };
            total = total
                .checked_add(
                    scale_decimal(num, scale)
                        .ok_or_else(|| format!("bad number `{num}` in duration `{text}`"))?,
                )
                .ok_or_else(|| format!("duration `{text}` is too long"))?;
            rest = next;
        }
        Ok(SimDuration(total))
    }
}

/// `num` (decimal, at most one dot) times `scale`, exactly, in integers.
fn scale_decimal(num: &str, scale: u64) -> Option<u64> {
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if frac.contains('.') || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let int_v: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut v = int_v.checked_mul(scale)?;
    let mut div = scale;
    for d in frac.chars() {
        div /= 10;
        let digit = u64::from(d.to_digit(10)?);
        v = v.checked_add(digit.checked_mul(div)?)?;
        if div == 0 {
            break;
        }
    }
    Some(v)
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}
impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}
impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    fn sub(self, other: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(other.0))
    }
}
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for SimTime {
    /// `12.000250000s`-style: seconds with nanosecond precision.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}s", self.0 / NS_PER_S, self.0 % NS_PER_S)
    }
}

impl fmt::Display for SimDuration {
    /// The shortest exact form among `s`, `ms`, `us`, `ns`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n == 0 {
            write!(f, "0s")
        } else if n.is_multiple_of(NS_PER_S) {
            write!(f, "{}s", n / NS_PER_S)
        } else if n.is_multiple_of(NS_PER_MS) {
            write!(f, "{}ms", n / NS_PER_MS)
        } else if n.is_multiple_of(NS_PER_US) {
            write!(f, "{}us", n / NS_PER_US)
        } else {
            write!(f, "{n}ns")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(SimDuration::parse("1s"), Ok(SimDuration::from_secs(1)));
        assert_eq!(
            SimDuration::parse("250ms"),
            Ok(SimDuration::from_millis(250))
        );
        assert_eq!(SimDuration::parse("3m"), Ok(SimDuration::from_secs(180)));
        assert_eq!(
            SimDuration::parse("1.5s"),
            Ok(SimDuration::from_millis(1500))
        );
        assert_eq!(SimDuration::parse("1m30s"), Ok(SimDuration::from_secs(90)));
        assert_eq!(SimDuration::parse("20us"), Ok(SimDuration::from_micros(20)));
        assert_eq!(
            SimDuration::parse("0.609375s"),
            Ok(SimDuration(609_375_000))
        );
    }

    #[test]
    fn refuses_bad_durations() {
        assert!(SimDuration::parse("10").unwrap_err().contains("no unit"));
        assert!(SimDuration::parse("5 parsecs").is_err());
        assert!(SimDuration::parse("").is_err());
        assert!(SimDuration::parse("-1s").is_err());
        assert!(SimDuration::parse("1..2s").is_err());
        assert!(SimDuration::parse("99999999999999h").is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in ["1s", "250ms", "20us", "7ns", "0s"] {
            assert_eq!(SimDuration::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(SimTime(1_000_250_000).to_string(), "1.000250000s");
    }
}
