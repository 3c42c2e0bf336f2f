//! keepalived's number readers (`read_unsigned_func`, `read_int_func`, `read_double_func`,
//! `read_timer` in `lib/parser.c`), including their non-strict leniency: with
//! `ignore_error`, trailing garbage after an in-range number gives a
//! `WARNING - invalid number '…'` and the number is still used.

use super::Severity;
use crate::time::SimDuration;

/// What a reader found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) severity: Severity,
    pub(crate) message: String,
}

/// A value (if keepalived would use one) and a problem (if keepalived would log one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Read<T> {
    pub(crate) value: Option<T>,
    pub(crate) problem: Option<Problem>,
}

fn is_white(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c' | '\n' | '\r' | '\x0b')
}

fn prefix(ignore_error: bool) -> &'static str {
    if ignore_error { "WARNING - " } else { "" }
}

fn finish<T>(value: T, in_range: bool, ignore_error: bool, message: String) -> Read<T> {
    let accepted = ignore_error && in_range;
    Read {
        value: accepted.then_some(value),
        problem: Some(Problem {
            severity: if accepted {
                Severity::Warning
            } else {
                Severity::Error
            },
            message,
        }),
    }
}

/// Leading decimal digits as a saturating value, and how many bytes they span.
fn digits(s: &str) -> (u128, usize) {
    let mut v: u128 = 0;
    let mut n = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(u128::from(b - b'0'));
        n += 1;
    }
    (v, n)
}

/// `strtoul`/`strtol` in base 10: (negative, magnitude, rest-is-garbage).
fn strtol_like(number: &str) -> (bool, u128, bool) {
    let s = number.trim_start_matches(is_white);
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (v, n) = digits(body);
    if n == 0 {
        // No conversion: endptr = number.
        return (false, 0, !number.is_empty());
    }
    (neg, v, n < body.len())
}

/// keepalived `read_unsigned`.
pub(crate) fn read_unsigned(number: &str, min: u32, max: u32, ignore_error: bool) -> Read<u32> {
    let w = prefix(ignore_error);
    let (neg, mag, garbage) = strtol_like(number);
    let in_range = !neg && mag >= u128::from(min) && mag <= u128::from(max);
    let val = u32::try_from(mag).unwrap_or(u32::MAX);
    let msg = if number.trim_start_matches(is_white).starts_with('-') {
        format!("{w}negative number '{number}'")
    } else if garbage {
        format!("{w}invalid number '{number}'")
    } else if mag > u128::from(u32::MAX) {
        format!("{w}number '{number}' outside unsigned integer range")
    } else if !in_range {
        format!("number '{number}' outside range [{min}, {max}]")
    } else {
        return Read {
            value: Some(val),
            problem: None,
        };
    };
    finish(val, in_range, ignore_error, msg)
}

/// keepalived `read_int`.
pub(crate) fn read_int(number: &str, min: i32, max: i32, ignore_error: bool) -> Read<i32> {
    let w = prefix(ignore_error);
    let (neg, mag, garbage) = strtol_like(number);
    let wide: i128 = if neg {
        -i128::try_from(mag).unwrap_or(i128::MAX)
    } else {
        i128::try_from(mag).unwrap_or(i128::MAX)
    };
    let in_range = wide >= i128::from(min) && wide <= i128::from(max);
    let val = i32::try_from(wide).unwrap_or(if neg { i32::MIN } else { i32::MAX });
    let msg = if garbage {
        format!("{w}invalid number '{number}'")
    } else if wide < i128::from(i32::MIN) || wide > i128::from(i32::MAX) {
        format!("{w}number '{number}' outside integer range")
    } else if !in_range {
        format!("number '{number}' outside range [{min}, {max}]")
    } else {
        return Read {
            value: Some(val),
            problem: None,
        };
    };
    finish(val, in_range, ignore_error, msg)
}

/// A `strtod`-style decimal (sign, digits, `.`, digits, exponent) converted exactly to
/// microseconds (truncated, like keepalived's `(unsigned long)(timer * TIMER_HZ)`).
/// Returns (negative, microseconds, rest-is-garbage).
fn strtod_us(number: &str) -> (bool, u128, bool) {
    let s = number.trim_start_matches(is_white);
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let bytes = body.as_bytes();
    let mut mant: Vec<u8> = Vec::new();
    let mut p = 0;
    let mut int_digits = 0i64;
    while p < bytes.len() && bytes[p].is_ascii_digit() {
        mant.push(bytes[p] - b'0');
        int_digits += 1;
        p += 1;
    }
    let mut frac_digits = 0;
    if p < bytes.len() && bytes[p] == b'.' {
        let mut q = p + 1;
        while q < bytes.len() && bytes[q].is_ascii_digit() {
            mant.push(bytes[q] - b'0');
            frac_digits += 1;
            q += 1;
        }
        if int_digits > 0 || frac_digits > 0 {
            p = q;
        }
    }
    if mant.is_empty() {
        return (false, 0, !number.is_empty());
    }
    let mut exp: i64 = 0;
    if p < bytes.len() && (bytes[p] == b'e' || bytes[p] == b'E') {
        let mut q = p + 1;
        let eneg = match bytes.get(q) {
            Some(b'-') => {
                q += 1;
                true
            }
            Some(b'+') => {
                q += 1;
                false
            }
            _ => false,
        };
        let (e, n) = digits(&body[q.min(body.len())..]);
        if n > 0 {
            let e = i64::try_from(e.min(10_000)).unwrap_or(10_000);
            exp = if eneg { -e } else { e };
            p = q + n;
        }
    }
    // value = 0.mant × 10^(int_digits + exp); in µs: shift by 6 more.
    let point = int_digits + exp + 6;
    let mut us: u128 = 0;
    for (i, d) in mant.iter().enumerate() {
        let pos = i64::try_from(i).unwrap_or(i64::MAX);
        if pos >= point {
            break;
        }
        us = us.saturating_mul(10).saturating_add(u128::from(*d));
    }
    let used = i64::try_from(mant.len()).unwrap_or(i64::MAX);
    let mut extra = point - used;
    while extra > 0 {
        us = us.saturating_mul(10);
        extra -= 1;
    }
    (neg && us > 0, us, p < bytes.len())
}

/// `%g` as C prints it (6 significant digits).
pub(crate) fn fmt_g(x: f64) -> String {
    if x == 0.0 {
        return "0".to_string();
    }
    let exp = x.abs().log10().floor();
    if !(-4.0..6.0).contains(&exp) {
        let m = x / 10f64.powf(exp);
        let mut ms = format!("{m:.5}");
        while ms.contains('.') && ms.ends_with('0') {
            ms.pop();
        }
        if ms.ends_with('.') {
            ms.pop();
        }
        let e = exp as i64;
        format!("{ms}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
    } else {
        let decimals = (5.0 - exp).max(0.0) as usize;
        let mut s = format!("{x:.decimals$}");
        if s.contains('.') {
            while s.ends_with('0') {
                s.pop();
            }
            if s.ends_with('.') {
                s.pop();
            }
        }
        s
    }
}

/// keepalived `read_timer`: decimal seconds within [min_us, max_us] (max 0 = unbounded).
pub(crate) fn read_timer(
    number: &str,
    min_us: u64,
    max_us: u64,
    ignore_error: bool,
) -> Read<SimDuration> {
    let w = prefix(ignore_error);
    let (neg, us, garbage) = strtod_us(number);
    let max = if max_us == 0 {
        u128::from(u64::MAX / 1000)
    } else {
        u128::from(max_us)
    };
    let in_range = !neg && us >= u128::from(min_us) && us <= max;
    let ns = u64::try_from(us.min(u128::from(u64::MAX / 1000))).unwrap_or(0) * 1000;
    let val = SimDuration(ns);
    let msg = if garbage {
        format!("{w}invalid number '{number}'")
    } else if !in_range {
        let hi = if max_us == 0 {
            // TIMER_MAXIMUM / TIMER_HZ
            fmt_g(u64::MAX as f64 / 1e6)
        } else {
            fmt_g(max_us as f64 / 1e6)
        };
        format!(
            "number '{number}' outside range [{}, {hi}]",
            fmt_g(min_us as f64 / 1e6)
        )
    } else {
        return Read {
            value: Some(val),
            problem: None,
        };
    };
    finish(val, in_range, ignore_error, msg)
}

/// keepalived `check_true_false`: Some(bool) for on/true/yes and off/false/no.
pub(crate) fn true_false(s: &str) -> Option<bool> {
    match s {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_trailing_garbage_warns_and_keeps_value() {
        let r = read_unsigned("3\u{3000}\u{3000}", 0, u32::MAX, true);
        assert_eq!(r.value, Some(3));
        let p = r.problem.unwrap();
        assert_eq!(p.severity, Severity::Warning);
        assert_eq!(p.message, "WARNING - invalid number '3\u{3000}\u{3000}'");
        let strict = read_unsigned("3x", 1, 255, false);
        assert_eq!(strict.value, None);
        assert_eq!(strict.problem.unwrap().message, "invalid number '3x'");
        let range = read_unsigned("0", 1, 255, false);
        assert_eq!(
            range.problem.unwrap().message,
            "number '0' outside range [1, 255]"
        );
        assert_eq!(read_unsigned("-1", 0, 9, true).value, None);
        assert_eq!(read_unsigned("42", 0, 99, false).value, Some(42));
    }

    #[test]
    fn timers_are_exact() {
        assert_eq!(
            read_timer("0.5", 0, 0, true).value,
            Some(SimDuration::from_millis(500))
        );
        assert_eq!(
            read_timer("3", 0, 0, true).value,
            Some(SimDuration::from_secs(3))
        );
        assert_eq!(
            read_timer("1e-3", 0, 0, true).value,
            Some(SimDuration::from_millis(1))
        );
        assert_eq!(
            read_timer("0.0000019", 0, 0, true).value,
            Some(SimDuration::from_micros(1))
        );
        let r = read_timer("3\u{3000}", 0, 0, true);
        assert_eq!(r.value, Some(SimDuration::from_secs(3)));
        assert!(r.problem.unwrap().message.starts_with("WARNING - invalid"));
        let r = read_timer("0", 1_000_000, 0, true);
        assert_eq!(r.value, None);
        assert!(r.problem.unwrap().message.contains("outside range [1, "));
    }

    #[test]
    fn g_format() {
        assert_eq!(fmt_g(1.0), "1");
        assert_eq!(fmt_g(0.01), "0.01");
        assert_eq!(fmt_g(255.0), "255");
        assert_eq!(fmt_g(4_294_967_295.0), "4.29497e+09");
    }
}
