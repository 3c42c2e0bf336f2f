//! A streaming latency histogram: constant memory whatever the number of
//! requests (HdrHistogram, 1 µs to 1 h, 3 significant digits by default:
//! values within 0.1 %; 2 digits, within 1 %, for the many small
//! per-server and per-interval histograms, which then stay in the CPU
//! caches) plus an exact sum for the mean.

use hdrhistogram::Histogram;

use super::Latency;

/// Lowest value told apart (ns): 1 µs.
const LOW_NS: u64 = 1_000;
/// Highest value recorded exactly (ns): 1 h; larger values are clamped.
const HIGH_NS: u64 = 3_600_000_000_000;

/// Response times in nanoseconds.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    h: Histogram<u64>,
    sum: u128,
    max: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram with 3 significant digits.
    #[must_use]
    pub fn new() -> LatencyHistogram {
        Self::with_digits(3)
    }

    /// An empty histogram with `digits` (1..=5) significant digits.
    #[must_use]
    pub fn with_digits(digits: u8) -> LatencyHistogram {
        let h =
            Histogram::new_with_bounds(LOW_NS, HIGH_NS, digits.clamp(1, 5)).unwrap_or_else(|_| {
                // The bounds above are constants that hdrhistogram accepts.
                unreachable!("valid histogram bounds")
            });
        LatencyHistogram { h, sum: 0, max: 0 }
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        self.h.saturating_record(ns.clamp(LOW_NS, HIGH_NS));
        self.sum += u128::from(ns);
        self.max = self.max.max(ns);
    }

    /// Number of values.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.h.len()
    }

    /// The value at quantile `q` (0..=1), 0 if empty.
    #[must_use]
    pub fn quantile(&self, q: f64) -> u64 {
        if self.h.is_empty() {
            0
        } else {
            self.h.value_at_quantile(q).min(self.max)
        }
    }

    /// Exact mean (0 if empty).
    #[must_use]
    #[expect(clippy::cast_precision_loss, reason = "mean for display")]
    pub fn mean(&self) -> f64 {
        let n = self.count();
        if n == 0 {
            0.0
        } else {
            self.sum as f64 / n as f64
        }
    }

    /// The summary statistics.
    #[must_use]
    pub fn latency(&self) -> Latency {
        Latency {
            count: self.count(),
            mean_ns: self.mean(),
            p50_ns: self.quantile(0.5),
            p90_ns: self.quantile(0.9),
            p99_ns: self.quantile(0.99),
            p999_ns: self.quantile(0.999),
            max_ns: self.max,
        }
    }

    /// Adds every value of `other`.
    pub fn add(&mut self, other: &LatencyHistogram) {
        // Same bounds on both sides: adding cannot fail.
        let _ = self.h.add(&other.h);
        self.sum += other.sum;
        self.max = self.max.max(other.max);
    }

    /// Forgets every value (keeps the memory).
    pub fn reset(&mut self) {
        self.h.reset();
        self.sum = 0;
        self.max = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_within_a_tenth_of_a_percent() {
        let mut h = LatencyHistogram::new();
        for i in 1..=100_000u64 {
            h.record(i * 1_000);
        }
        let l = h.latency();
        assert_eq!(l.count, 100_000);
        assert!((l.mean_ns - 50_000_500.0).abs() < 1e-6);
        for (got, want) in [(l.p50_ns, 50_000_000.0), (l.p99_ns, 99_000_000.0)] {
            #[expect(clippy::cast_precision_loss, reason = "test")]
            let rel = (got as f64 - want).abs() / want;
            assert!(rel < 1e-3, "{got} vs {want}");
        }
        assert_eq!(l.max_ns, 100_000_000);
        h.reset();
        assert_eq!(h.latency(), Latency::default());
    }
}
