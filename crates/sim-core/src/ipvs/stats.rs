//! Per-service / per-dest / total counters (§2.7) and the rate estimator (§2.8).

/// The five cumulative counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// New (non-template) connections.
    pub conns: u64,
    /// Packets client → director that matched an entry.
    pub inpkts: u64,
    /// Packets real server → client through the director (NAT/FULLNAT).
    pub outpkts: u64,
    /// Bytes (IP total length) in.
    pub inbytes: u64,
    /// Bytes out.
    pub outbytes: u64,
}

impl Counters {
    fn minus(&self, o: &Counters) -> Counters {
        Counters {
            conns: self.conns.wrapping_sub(o.conns),
            inpkts: self.inpkts.wrapping_sub(o.inpkts),
            outpkts: self.outpkts.wrapping_sub(o.outpkts),
            inbytes: self.inbytes.wrapping_sub(o.inbytes),
            outbytes: self.outbytes.wrapping_sub(o.outbytes),
        }
    }
}

/// Rates as `ipvsadm --rate` shows them (per second, bytes for BPS).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rates {
    /// Connections per second.
    pub cps: u64,
    /// Incoming packets per second.
    pub inpps: u64,
    /// Outgoing packets per second.
    pub outpps: u64,
    /// Incoming bytes per second.
    pub inbps: u64,
    /// Outgoing bytes per second.
    pub outbps: u64,
}

/// Counters plus the `-Z` zero point and the estimator state.
///
/// The kernel counts per CPU and copies the sums into the counters that
/// `ipvsadm` reads (`kstats`) only at an estimator tick, every 2 s
/// (`estimation_timer`, `ip_vs_read_cpu_stats`): `--stats` shows the
/// counters as of the last tick, and `-Z` takes those as its zero point,
/// so what was counted after the last tick and before a `-Z` shows after
/// the next tick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Everything counted (the per-CPU sums).
    raw: Counters,
    /// The `-Z` zero point (`kstats0`).
    zero: Counters,
    /// `raw` at the last estimator tick (`kstats`).
    last: Counters,
    // Scaled averages: cps/pps ×1024, bps ×32 (kernel `ip_vs_estimator`).
    cps: i64,
    inpps: i64,
    outpps: i64,
    inbps: i64,
    outbps: i64,
}

fn ewma(avg: &mut i64, delta: u64, shift: u32) {
    let rate = i64::try_from(delta).unwrap_or(i64::MAX >> 10) << shift;
    *avg += (rate - *avg) >> 2;
}

fn shown(avg: i64, round: i64, shift: u32) -> u64 {
    u64::try_from((avg + round) >> shift).unwrap_or(0)
}

impl Stats {
    /// The counters `ipvsadm --stats` shows: as of the last estimator
    /// tick, since the `-Z` zero point (`ip_vs_copy_stats`).
    #[must_use]
    pub fn counters(&self) -> Counters {
        self.last.minus(&self.zero)
    }
    /// Everything counted since the stats were made, up to now (no `-Z`,
    /// no wait for a tick): what a report plots.
    #[must_use]
    pub fn counted(&self) -> Counters {
        self.raw
    }
    /// Counts one new connection.
    pub fn add_conn(&mut self) {
        self.raw.conns += 1;
    }
    /// Counts one incoming packet of `len` bytes.
    pub fn add_in(&mut self, len: u32) {
        self.raw.inpkts += 1;
        self.raw.inbytes += u64::from(len);
    }
    /// Counts one outgoing packet of `len` bytes.
    pub fn add_out(&mut self, len: u32) {
        self.raw.outpkts += 1;
        self.raw.outbytes += u64::from(len);
    }
    /// `-Z` (`ip_vs_zero_stats`): the counters as of the last tick become
    /// the zero point; the rate averages restart from zero. The kernel
    /// also zeroes a dest this way when it comes back from the trash into
    /// a re-created service.
    pub fn zero(&mut self) {
        self.zero = self.last;
        self.cps = 0;
        self.inpps = 0;
        self.outpps = 0;
        self.inbps = 0;
        self.outbps = 0;
    }
    /// One 2-second estimator tick (`estimation_timer`).
    pub fn tick(&mut self) {
        let d = self.raw.minus(&self.last);
        self.last = self.raw;
        ewma(&mut self.cps, d.conns, 9);
        ewma(&mut self.inpps, d.inpkts, 9);
        ewma(&mut self.outpps, d.outpkts, 9);
        ewma(&mut self.inbps, d.inbytes, 4);
        ewma(&mut self.outbps, d.outbytes, 4);
    }
    /// Whether a tick would leave everything unchanged (all averages zero
    /// and nothing new counted).
    #[must_use]
    pub fn idle(&self) -> bool {
        self.raw == self.last
            && self.cps == 0
            && self.inpps == 0
            && self.outpps == 0
            && self.inbps == 0
            && self.outbps == 0
    }
    /// The rates `ipvsadm --rate` prints (rounded half up).
    #[must_use]
    pub fn rates(&self) -> Rates {
        Rates {
            cps: shown(self.cps, 0x1FF, 10),
            inpps: shown(self.inpps, 0x1FF, 10),
            outpps: shown(self.outpps, 0x1FF, 10),
            inbps: shown(self.inbps, 0xF, 5),
            outbps: shown(self.outbps, 0xF, 5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_rate_converges() {
        // 10 conns/s, 100 pkt/s of 100 bytes: per 2 s tick 20 conns, 200 pkts.
        let mut s = Stats::default();
        for _ in 0..40 {
            for _ in 0..20 {
                s.add_conn();
            }
            for _ in 0..200 {
                s.add_in(100);
            }
            s.tick();
        }
        let r = s.rates();
        assert_eq!(r.cps, 10);
        assert_eq!(r.inpps, 100);
        assert_eq!(r.inbps, 10_000);
        assert_eq!(r.outpps, 0);
    }

    #[test]
    fn first_tick_is_a_quarter() {
        let mut s = Stats::default();
        for _ in 0..8 {
            s.add_conn();
        }
        s.tick();
        // avg = (8<<9)>>2 = 1024 → (1024+511)>>10 = 1 (4 cps × 1/4).
        assert_eq!(s.rates().cps, 1);
        s.zero();
        assert_eq!(s.rates().cps, 0);
        assert_eq!(s.counters().conns, 0);
    }

    #[test]
    fn counters_show_as_of_the_last_tick_and_zero_takes_those() {
        let mut s = Stats::default();
        s.add_conn();
        s.add_in(60);
        assert_eq!(s.counters(), Counters::default(), "no tick yet");
        assert_eq!(s.counted().conns, 1);
        s.tick();
        assert_eq!(s.counters().conns, 1);
        assert_eq!(s.counters().inbytes, 60);
        // A connection after the tick, then -Z: the zero point is the
        // tick's, so that connection shows after the next tick.
        s.add_conn();
        s.zero();
        assert_eq!(s.counters(), Counters::default());
        s.tick();
        assert_eq!(s.counters().conns, 1);
        assert_eq!(s.counters().inpkts, 0);
        assert_eq!(s.counted().conns, 2);
    }
}
