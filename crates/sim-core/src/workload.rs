//! Workloads: who sends requests, when, and how big they are.
//!
//! - [`Dist`]: a distribution of non-negative values (service times in ns,
//!   sizes in bytes, think times in ns): fixed, exponential, lognormal, or
//!   empirical (a list of observed values, e.g. read from a file by the
//!   caller; sim-core reads no files).
//! - [`RateSchedule`]: how an open-loop arrival rate changes over time
//!   (constant, linear ramp, steps, a daily sine curve). Arrivals are a
//!   non-homogeneous Poisson process drawn exactly by thinning.
//! - [`Workload`]: open-loop Poisson arrivals from many client addresses,
//!   closed-loop users with think time, or the tutorial's curl loop (a closed
//!   loop whose think time is the fixed `sleep`).
//! - [`ClientPool`]: client addresses (a count inside a subnet) and their
//!   ephemeral source ports, which hashing schedulers (`sh`, `mh`, `dh`) and
//!   persistence look at.
//!
//! Every draw comes from a named [`crate::rng`] stream, so a scenario and a
//! seed give the same requests on every machine.

use std::net::Ipv4Addr;

use crate::rng::{RngCore, SimRng, unit_f64};

/// A distribution of non-negative values.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    /// Always this value.
    Fixed(f64),
    /// Exponential with this mean.
    Exponential {
        /// Mean.
        mean: f64,
    },
    /// Lognormal: `exp(mu + sigma * N(0,1))`, parameterised by its mean and
    /// `sigma` (the standard deviation of the logarithm).
    Lognormal {
        /// Mean of the distribution (not of its logarithm).
        mean: f64,
        /// Standard deviation of `ln(X)`.
        sigma: f64,
    },
    /// Observed values, sorted; a draw interpolates linearly between
    /// neighbouring order statistics (inverse of the empirical CDF).
    Empirical(Vec<f64>),
}

impl Dist {
    /// The mean of the distribution.
    #[must_use]
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Exponential { mean } | Dist::Lognormal { mean, .. } => *mean,
            Dist::Empirical(v) => {
                if v.is_empty() {
                    0.0
                } else {
                    #[expect(clippy::cast_precision_loss, reason = "sample counts")]
                    let n = v.len() as f64;
                    v.iter().sum::<f64>() / n
                }
            }
        }
    }

    /// One draw.
    #[inline(always)]
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Exponential { mean } => mean * crate::rng::exp1(rng),
            _ => self.sample_other(rng),
        }
    }

    /// [`Dist::sample`] of the rarer kinds (out of line).
    #[inline(never)]
    fn sample_other(&self, rng: &mut SimRng) -> f64 {
        match self {
            Dist::Fixed(v) => *v,
            Dist::Exponential { mean } => mean * crate::rng::exp1(rng),
            Dist::Lognormal { mean, sigma } => {
                let mu = mean.ln() - sigma * sigma / 2.0;
                (mu + sigma * crate::rng::std_normal(rng)).exp()
            }
            Dist::Empirical(v) => empirical(v, unit_f64(rng)),
        }
    }

    /// The value every draw gives, rounded as [`Dist::sample_u64`] rounds,
    /// if the distribution is fixed.
    #[must_use]
    pub fn fixed_u64(&self) -> Option<u64> {
        match self {
            Dist::Fixed(v) => Some(round_u64(*v)),
            _ => None,
        }
    }

    /// One draw rounded to a whole number of nanoseconds/bytes.
    #[inline(always)]
    pub fn sample_u64(&self, rng: &mut SimRng) -> u64 {
        round_u64(self.sample(rng))
    }

    /// Parses the text of an empirical file: one value per line, `#`
    /// comments and blank lines ignored. `parse_one` reads a value (a
    /// duration such as `12.5ms`, or a size).
    ///
    /// # Errors
    /// `(line, message)` for the first bad line, or an empty file.
    pub fn empirical_from_text(
        text: &str,
        parse_one: impl Fn(&str) -> Result<f64, String>,
    ) -> Result<Dist, (usize, String)> {
        let mut v = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let l = raw.split('#').next().unwrap_or("").trim();
            if l.is_empty() {
                continue;
            }
            let x = parse_one(l).map_err(|e| (i + 1, e))?;
            if !x.is_finite() || x < 0.0 {
                return Err((i + 1, format!("`{l}` is not a non-negative value")));
            }
            v.push(x);
        }
        if v.is_empty() {
            return Err((1, "no values".into()));
        }
        v.sort_by(f64::total_cmp);
        Ok(Dist::Empirical(v))
    }
}

fn empirical(v: &[f64], u: f64) -> f64 {
    match v.len() {
        0 => 0.0,
        1 => v[0],
        n => {
            #[expect(clippy::cast_precision_loss, reason = "sample counts")]
            let pos = u * (n - 1) as f64;
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "0 <= pos < n-1"
            )]
            let i = pos as usize;
            let j = (i + 1).min(n - 1);
            #[expect(clippy::cast_precision_loss, reason = "index")]
            let frac = pos - i as f64;
            v[i] + (v[j] - v[i]) * frac
        }
    }
}

/// How an open-loop arrival rate (requests per second) changes over time.
#[derive(Clone, Debug, PartialEq)]
pub enum RateSchedule {
    /// Always `rate`.
    Constant(f64),
    /// From `from` at `start_ns` linearly to `to` at `start_ns + over_ns`,
    /// then `to`.
    Ramp {
        /// Rate before and at the start.
        from: f64,
        /// Rate at and after the end.
        to: f64,
        /// When the ramp starts.
        start_ns: u64,
        /// How long it lasts.
        over_ns: u64,
    },
    /// `(from_ns, rate)` steps, sorted by time; before the first step the
    /// rate is 0.
    Steps(Vec<(u64, f64)>),
    /// A daily curve: `min + (max - min) * (1 - cos(2π (t - peak + period/2) / period)) / 2`,
    /// which is `max` at `peak_ns` and `min` half a period away.
    Daily {
        /// Lowest rate.
        min: f64,
        /// Highest rate.
        max: f64,
        /// Length of a "day" (often compressed, e.g. 24m).
        period_ns: u64,
        /// Time of the peak within the period.
        peak_ns: u64,
    },
}

impl RateSchedule {
    /// The rate at time `t_ns`.
    #[must_use]
    #[expect(clippy::cast_precision_loss, reason = "times as f64 for rates")]
    pub fn rate_at(&self, t_ns: u64) -> f64 {
        match self {
            RateSchedule::Constant(r) => *r,
            RateSchedule::Ramp {
                from,
                to,
                start_ns,
                over_ns,
            } => {
                if t_ns <= *start_ns {
                    *from
                } else if t_ns >= start_ns + over_ns {
                    *to
                } else {
                    let f = (t_ns - start_ns) as f64 / *over_ns as f64;
                    from + (to - from) * f
                }
            }
            RateSchedule::Steps(s) => s
                .iter()
                .take_while(|(at, _)| *at <= t_ns)
                .last()
                .map_or(0.0, |(_, r)| *r),
            RateSchedule::Daily {
                min,
                max,
                period_ns,
                peak_ns,
            } => {
                let p = (*period_ns).max(1);
                let phase = ((t_ns + p - peak_ns % p + p / 2) % p) as f64 / p as f64;
                min + (max - min) * (1.0 - (std::f64::consts::TAU * phase).cos()) / 2.0
            }
        }
    }

    /// An upper bound of the rate over all time (for thinning).
    #[must_use]
    pub fn max_rate(&self) -> f64 {
        match self {
            RateSchedule::Constant(r) => *r,
            RateSchedule::Ramp { from, to, .. } => from.max(*to),
            RateSchedule::Steps(s) => s.iter().map(|(_, r)| *r).fold(0.0, f64::max),
            RateSchedule::Daily { min, max, .. } => min.max(*max),
        }
    }

    /// The mean gap (ns) of a constant positive rate, if it is one.
    #[must_use]
    pub fn constant_gap_ns(&self) -> Option<f64> {
        match self {
            RateSchedule::Constant(r) if *r > 0.0 && *r < f64::INFINITY => Some(1e9 / r),
            _ => None,
        }
    }

    /// The next arrival strictly after `now_ns` of a Poisson process with
    /// this rate (exact, by thinning); `None` if the rate is 0 from now on.
    pub fn next_arrival(&self, now_ns: u64, rng: &mut SimRng) -> Option<u64> {
        self.next_arrival_gap(self.constant_gap_ns(), now_ns, rng)
    }

    /// [`RateSchedule::next_arrival`], given this schedule's
    /// [`RateSchedule::constant_gap_ns`] computed once by the caller (the
    /// flow loop's hot path).
    #[inline(always)]
    pub fn next_arrival_gap(&self, gap: Option<f64>, now_ns: u64, rng: &mut SimRng) -> Option<u64> {
        match gap {
            Some(mean) => Some(now_ns.saturating_add(gap_ns(mean, rng))),
            None => self.next_arrival_thinned(now_ns, rng),
        }
    }

    /// [`RateSchedule::next_arrival`] of a varying rate (out of line: the
    /// constant rate is the hot case).
    #[inline(never)]
    fn next_arrival_thinned(&self, now_ns: u64, rng: &mut SimRng) -> Option<u64> {
        let lmax = self.max_rate();
        if lmax <= 0.0 || !lmax.is_finite() {
            return None;
        }
        let mean_gap = 1e9 / lmax;
        let mut t = now_ns;
        for _ in 0..1_000_000 {
            t = t.saturating_add(gap_ns(mean_gap, rng));
            if unit_f64(rng) * lmax < self.rate_at(t) {
                return Some(t);
            }
        }
        None
    }
}

/// `x` rounded to the nearest whole number, 0 if negative.
#[inline]
fn round_u64(x: f64) -> u64 {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "rounded; `as` saturates (NaN gives 0; above 2^63 ns, 292 years, stays there)"
    )]
    let v = ((x + 0.5) as i64).max(0) as u64;
    v
}

/// An exponential gap of mean `mean_gap` ns, rounded, at least 1 ns.
#[inline]
fn gap_ns(mean_gap: f64, rng: &mut SimRng) -> u64 {
    let gap = mean_gap * crate::rng::exp1(rng);
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "non-negative gap in ns (saturating at 2^63 ns, 292 years)"
    )]
    let g = ((gap + 0.5) as i64).max(1) as u64;
    g
}

/// Client addresses and their ephemeral ports.
///
/// Addresses are `count` consecutive host addresses starting at `first`.
/// Each client hands out source ports like Linux `connect()` does for one
/// destination: counting up through `32768..=60999`
/// (`net.ipv4.ip_local_port_range`), starting from a seeded offset.
#[derive(Clone, Debug)]
pub struct ClientPool {
    first: u32,
    ports: Vec<u16>,
}

/// Lowest ephemeral port (`ip_local_port_range`).
pub const PORT_LO: u16 = 32768;
/// Number of ephemeral ports (`32768..=60999`).
pub const PORT_SPAN: u16 = 28232;

impl ClientPool {
    /// `count` clients from `first` with seeded starting ports.
    #[must_use]
    pub fn new(first: Ipv4Addr, count: u32, rng: &mut SimRng) -> ClientPool {
        let ports = (0..count.max(1))
            .map(|_| {
                #[expect(clippy::cast_possible_truncation, reason = "below PORT_SPAN")]
                let p = crate::rng::below(rng, u64::from(PORT_SPAN)) as u16;
                p
            })
            .collect();
        ClientPool {
            first: u32::from(first),
            ports,
        }
    }

    /// Number of clients.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ports.len()
    }

    /// Whether there is no client (never: at least one is made).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    /// Client `i`'s address.
    #[must_use]
    pub fn addr(&self, i: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.first.wrapping_add(i))
    }

    /// A uniformly chosen client.
    #[inline]
    pub fn pick(&self, rng: &mut SimRng) -> u32 {
        #[expect(clippy::cast_possible_truncation, reason = "below len (u32)")]
        let i = crate::rng::below(rng, self.ports.len() as u64) as u32;
        i
    }

    /// The next source port of client `i`.
    #[inline]
    pub fn next_port(&mut self, i: u32) -> u16 {
        let slot = &mut self.ports[i as usize];
        let p = PORT_LO + *slot;
        *slot = if *slot + 1 >= PORT_SPAN { 0 } else { *slot + 1 };
        p
    }
}

/// Where requests come from and when.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrivals {
    /// Open loop: a (possibly time-varying) Poisson process from `clients`
    /// addresses starting at `first`.
    Poisson {
        /// The rate over time.
        schedule: RateSchedule,
        /// First client address.
        first: Ipv4Addr,
        /// Number of client addresses.
        clients: u32,
    },
    /// Closed loop: `users` users, each sends a request, waits for its
    /// outcome, thinks, and sends the next one. The tutorial's curl loop is a
    /// closed loop with a fixed think time (its `sleep`).
    Closed {
        /// Number of users.
        users: u32,
        /// Think time between an outcome and the next request, in ns.
        think: Dist,
        /// Users' addresses: consecutive from `first` (`clients` of them,
        /// users spread round-robin over them).
        first: Ipv4Addr,
        /// Number of client addresses.
        clients: u32,
    },
}

/// A workload aimed at one virtual service.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// A name for reports (`poisson`, `curl@client1`, …).
    pub name: String,
    /// The virtual service (TCP) it targets.
    pub vip: Ipv4Addr,
    /// Virtual port.
    pub vport: u16,
    /// Arrival process.
    pub arrivals: Arrivals,
    /// Stop after this many requests have been sent (`None`: until the end).
    pub requests: Option<u64>,
    /// When the first request may be sent (ns).
    pub start_ns: u64,
    /// Request size in bytes (HTTP request, headers included).
    pub request_size: Dist,
    /// Response size in bytes.
    pub response_size: Dist,
    /// Client gives up after this long (`curl --max-time`); `None` waits
    /// for ever (curl's default).
    pub max_time_ns: Option<u64>,
}

impl Workload {
    /// An open-loop Poisson workload at a constant `rate` from `clients`
    /// addresses in 172.16.0.0/12, with 100-byte requests and 1000-byte responses.
    #[must_use]
    pub fn poisson(vip: Ipv4Addr, vport: u16, rate: f64, clients: u32) -> Workload {
        Workload {
            name: "poisson".into(),
            vip,
            vport,
            arrivals: Arrivals::Poisson {
                schedule: RateSchedule::Constant(rate),
                first: Ipv4Addr::new(172, 16, 0, 1),
                clients,
            },
            requests: None,
            start_ns: 0,
            request_size: Dist::Fixed(100.0),
            response_size: Dist::Fixed(1000.0),
            max_time_ns: None,
        }
    }
}

/// A uniform draw of a `u32` below `n` (n > 0).
pub fn below_u32(rng: &mut SimRng, n: u32) -> u32 {
    let x = rng.next_u32();
    ((u64::from(x) * u64::from(n)) >> 32) as u32
}

#[cfg(test)]
mod tests;
