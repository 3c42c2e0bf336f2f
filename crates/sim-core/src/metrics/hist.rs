//! A streaming latency histogram: constant memory whatever the number of
//! requests, 1 µs to 1 h, 3 significant digits by default (values within
//! 0.1 %; 2 digits, within 1 %, for the many small per-server and
//! per-interval histograms, which then stay in the CPU caches), plus an
//! exact sum for the mean and the exact maximum.
//!
//! The bucket layout and the quantile rule are HdrHistogram's, to the
//! index: `record` is the `hdrhistogram` crate's `record` without what a
//! flow run never needs (auto-resize, a `Result`, the min/max bookkeeping),
//! which made it a tenth of the flow engine's time with three records per
//! request. A proptest checks every quantile against the crate itself.

use super::Latency;

/// Lowest value told apart (ns): 1 µs.
const LOW_NS: u64 = 1_000;
/// Highest value recorded exactly (ns): 1 h; larger values are clamped.
const HIGH_NS: u64 = 3_600_000_000_000;

/// Response times in nanoseconds.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    counts: Vec<u64>,
    /// `log2(LOW_NS)` rounded down: values below `1 << unit` share a bin.
    unit: u32,
    /// `log2` of half the sub-buckets of a bucket.
    half_mag: u32,
    /// `(2 << half_mag) - 1 << unit`: values under it sit in bucket 0.
    sub_mask: u64,
    /// `64 - unit - half_mag - 1`.
    lz_base: u32,
    total: u64,
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
        // As `Histogram::new_with_bounds(LOW_NS, HIGH_NS, digits)`.
        let digits = u32::from(digits.clamp(1, 5));
        let largest = 2 * 10u64.pow(digits);
        let unit = 63 - LOW_NS.leading_zeros();
        let sub_mag = 64 - (largest - 1).leading_zeros(); // ceil(log2(largest))
        let half_mag = sub_mag - 1;
        let sub_count = 1u64 << sub_mag;
        let sub_mask = (sub_count - 1) << unit;
        // Buckets to cover HIGH_NS.
        let mut untrackable = sub_count << unit;
        let mut buckets = 1u64;
        while untrackable <= HIGH_NS {
            untrackable <<= 1;
            buckets += 1;
        }
        let len = (buckets + 1) << half_mag;
        LatencyHistogram {
            counts: vec![0; usize::try_from(len).unwrap_or(0)],
            unit,
            half_mag,
            sub_mask,
            lz_base: 64 - unit - half_mag - 1,
            total: 0,
            sum: 0,
            max: 0,
        }
    }

    /// The bin of `v` (within LOW_NS..=HIGH_NS).
    #[inline]
    fn index(&self, v: u64) -> usize {
        let bucket = self.lz_base - (v | self.sub_mask).leading_zeros();
        let sub = v >> (bucket + self.unit);
        // (bucket + 1) * half + sub - half, with sub >= half above bucket 0.
        let i = (u64::from(bucket) << self.half_mag) + sub;
        usize::try_from(i).unwrap_or(usize::MAX)
    }

    /// The highest value of bin `i`.
    fn highest_of(&self, i: usize) -> u64 {
        let i = i as u64;
        let half = 1u64 << self.half_mag;
        let (bucket, sub) = match (i >> self.half_mag).checked_sub(1) {
            Some(b) => (b, (i & (half - 1)) + half),
            None => (0, i & (half - 1)),
        };
        let shift = bucket + u64::from(self.unit);
        (sub << shift) + (1 << shift) - 1
    }

    /// Records one value.
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let i = self.index(ns.clamp(LOW_NS, HIGH_NS));
        self.count_in(i, ns);
    }

    /// Counts `ns` in bin `i`.
    #[inline(always)]
    fn count_in(&mut self, i: usize, ns: u64) {
        if let Some(c) = self.counts.get_mut(i) {
            *c += 1;
        }
        self.total += 1;
        self.sum += u128::from(ns);
        self.max = self.max.max(ns);
    }

    /// Records one value in this histogram and in `twin`, which has the
    /// same number of digits (the bin is found once).
    #[inline]
    pub fn record_twin(&mut self, twin: &mut LatencyHistogram, ns: u64) {
        debug_assert_eq!(self.counts.len(), twin.counts.len());
        let i = self.index(ns.clamp(LOW_NS, HIGH_NS));
        self.count_in(i, ns);
        twin.count_in(i, ns);
    }

    /// Number of values.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The value at quantile `q` (0..=1), 0 if empty: the highest value of
    /// the bin holding the `ceil(q * count)`-th value (at least the first),
    /// as HdrHistogram's `value_at_quantile`, never above the maximum.
    #[must_use]
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        #[expect(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "HdrHistogram's own rounding"
        )]
        let target = ((q.min(1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                let v = if q == 0.0 {
                    // The lowest value of the bin.
                    self.highest_of(i) + 1 - self.bin_width(i)
                } else {
                    self.highest_of(i)
                };
                return v.min(self.max);
            }
        }
        self.max
    }

    fn bin_width(&self, i: usize) -> u64 {
        let bucket = ((i as u64) >> self.half_mag).saturating_sub(1);
        1 << (bucket + u64::from(self.unit))
    }

    /// Exact mean (0 if empty).
    #[must_use]
    #[expect(clippy::cast_precision_loss, reason = "mean for display")]
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum as f64 / self.total as f64
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

    /// Forgets every value (keeps the memory).
    pub fn reset(&mut self) {
        self.counts.fill(0);
        self.total = 0;
        self.sum = 0;
        self.max = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Every quantile is the `hdrhistogram` crate's (same bounds and
        /// digits), capped at the exact maximum.
        #[test]
        fn quantiles_are_hdrhistograms(
            digits in 1u8..=3,
            values in proptest::collection::vec(
                proptest::prop_oneof![0u64..5_000, 0u64..50_000_000, 0u64..5_000_000_000_000],
                1..300,
            ),
            qs in proptest::collection::vec(0.0f64..=1.0, 1..8),
        ) {
            let mut ours = LatencyHistogram::with_digits(digits);
            let mut theirs = hdrhistogram::Histogram::<u64>::new_with_bounds(LOW_NS, HIGH_NS, digits)
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            for v in &values {
                ours.record(*v);
                theirs.saturating_record((*v).clamp(LOW_NS, HIGH_NS));
            }
            let max = values.iter().copied().max().unwrap_or(0);
            for q in qs.iter().copied().chain([0.0, 0.5, 0.99, 1.0]) {
                proptest::prop_assert_eq!(ours.quantile(q), theirs.value_at_quantile(q).min(max), "q = {}", q);
            }
            proptest::prop_assert_eq!(ours.count(), theirs.len());
            // Twins: each the same as recording in it alone.
            let (mut t1, mut t2) = (LatencyHistogram::with_digits(digits), LatencyHistogram::with_digits(digits));
            for v in &values { t1.record_twin(&mut t2, *v); }
            for t in [&t1, &t2] {
                proptest::prop_assert_eq!(&t.counts, &ours.counts);
                proptest::prop_assert_eq!((t.total, t.sum, t.max), (ours.total, ours.sum, ours.max));
            }
        }
    }

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
