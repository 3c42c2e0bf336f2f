//! The recorded run and exact time travel.
//!
//! A [`Timeline`] owns the *frontier* world (the furthest the run has gone)
//! and the trace records it produced, each tagged with the [`Pos`] of the
//! world right after it: the number of engine steps taken and the number of
//! injected faults applied. Going back never approximates: the world at any
//! record is rebuilt by replaying the deterministic scenario from time zero
//! (trace off, so replay is fast) to that position, applying the injected
//! faults at the steps where they were injected. Going forward from a
//! rebuilt world just keeps stepping it.
//!
//! `sim_core::world::World` is not `Clone` (IPVS schedulers are trait
//! objects), so checkpoints are not copies but separate live worlds parked
//! at positions spread over the run. The *cursor world* is reused whenever
//! the target lies ahead of it; going back takes the nearest checkpoint at
//! or before the target and steps it forward (a checkpoint used this way is
//! gone, and [`Timeline::maintain`] rebuilds it from time zero in small
//! slices while the UI is idle). Without any checkpoint, going back is a
//! full replay from time zero.

use sim_core::host::HostId;
use sim_core::scenario::{self, Scenario};
use sim_core::time::{SimDuration, SimTime};
use sim_core::trace::{TraceKind, TraceLevel, TraceRecord};
use sim_core::world::World;

/// Where a world is: engine steps taken, injected faults applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// `World::events_handled`.
    pub step: u64,
    /// How many of the timeline's faults have been applied.
    pub faults: usize,
}

/// One trace record and the world position right after it.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The record.
    pub rec: TraceRecord,
    /// The world position after this record.
    pub pos: Pos,
}

/// A command injected by the user (`k`) after a given step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Applied right after this many engine steps.
    pub step: u64,
    /// On which host.
    pub host: HostId,
    /// The command line (`systemctl stop keepalived`, …).
    pub cmd: String,
}

/// The scenario as loaded: what a replay needs.
#[derive(Clone, Debug)]
pub struct Source {
    /// File name (for messages).
    pub file: String,
    /// The TOML text.
    pub text: String,
    /// Seed override.
    pub seed: Option<u64>,
}

/// Scenario metadata shown in the UI.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    /// Scenario name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Teaching text, English.
    pub explain: Option<String>,
    /// Teaching text, Chinese.
    pub explain_zh: Option<String>,
    /// The scenario's run length.
    pub duration: SimDuration,
}

/// The run so far plus the means to revisit any point of it.
#[derive(Debug)]
pub struct Timeline {
    src: Source,
    /// Metadata.
    pub meta: Meta,
    /// Every record so far.
    pub entries: Vec<Entry>,
    faults: Vec<Fault>,
    frontier: World,
    cursor: Option<(Pos, World)>,
    /// Parked worlds, sorted by position.
    ckpts: Vec<(Pos, World)>,
    /// A checkpoint being rebuilt: target, where it is, the world.
    building: Option<(Pos, Pos, World)>,
    /// How many full replays were needed (for the benchmark and tests).
    pub replays: u64,
    /// Least engine steps between checkpoints.
    pub min_spacing: u64,
}

fn load(src: &Source, level: TraceLevel) -> Result<Scenario, String> {
    scenario::load(&src.file, &src.text, level, src.seed).map_err(|e| e.to_string())
}

impl Timeline {
    /// Loads the scenario and records its setup.
    ///
    /// # Errors
    /// The scenario's own error text (`file:line:col: error: …`).
    pub fn open(src: Source) -> Result<Timeline, String> {
        let sc = load(&src, TraceLevel::Full)?;
        let meta = Meta {
            name: sc.name,
            description: sc.description,
            explain: sc.explain,
            explain_zh: sc.explain_zh,
            duration: sc.duration,
        };
        let mut frontier = sc.world;
        let entries = std::mem::take(&mut frontier.trace.records)
            .into_iter()
            .map(|rec| Entry {
                rec,
                pos: Pos::default(),
            })
            .collect();
        Ok(Timeline {
            src,
            meta,
            entries,
            faults: Vec::new(),
            frontier,
            cursor: None,
            ckpts: Vec::new(),
            building: None,
            replays: 0,
            min_spacing: 1000,
        })
    }

    /// The injected faults, in order.
    #[must_use]
    pub fn faults(&self) -> &[Fault] {
        &self.faults
    }

    /// Nothing more will happen (the event queue is empty).
    #[must_use]
    pub fn exhausted(&self) -> bool {
        self.frontier.queue.is_empty()
    }

    /// The frontier world (read-only: host names, segments, topology).
    #[must_use]
    pub fn frontier(&self) -> &World {
        &self.frontier
    }

    fn pos_of(w: &World, faults: usize) -> Pos {
        Pos {
            step: w.events_handled,
            faults,
        }
    }

    /// One engine step of the frontier; false when idle.
    fn step_frontier(&mut self) -> bool {
        if self.frontier.step().is_none() {
            return false;
        }
        let pos = Self::pos_of(&self.frontier, self.faults.len());
        let recs = std::mem::take(&mut self.frontier.trace.records);
        self.entries
            .extend(recs.into_iter().map(|rec| Entry { rec, pos }));
        true
    }

    /// Steps the frontier until there are more than `n` records (or the run
    /// is over). Returns whether record `n` exists.
    pub fn ensure(&mut self, n: usize) -> bool {
        while self.entries.len() <= n {
            if !self.step_frontier() {
                return false;
            }
        }
        true
    }

    /// Steps the frontier through every event at or before `t`.
    pub fn extend_to(&mut self, t: SimTime) {
        while self.frontier.queue.peek_time().is_some_and(|x| x <= t) {
            self.step_frontier();
        }
    }

    /// Records the run up to the scenario's duration, or at most `limit`
    /// records, so the log and the header show the whole lesson.
    pub fn prefetch(&mut self, limit: usize) {
        let end = SimTime::ZERO + self.meta.duration;
        while self.entries.len() < limit
            && self.frontier.queue.peek_time().is_some_and(|x| x <= end)
        {
            self.step_frontier();
        }
    }

    /// Index of the last record at or before `t` (extending the run).
    #[must_use]
    pub fn index_at_time(&mut self, t: SimTime) -> usize {
        self.extend_to(t);
        let n = self.entries.partition_point(|e| e.rec.t <= t);
        n.saturating_sub(1)
    }

    /// Advances `w` (at `from`) to `to`, applying faults on the way.
    fn advance(w: &mut World, faults: &[Fault], from: Pos, to: Pos) {
        let mut cur = from;
        while cur < to {
            if cur.faults < to.faults && faults[cur.faults].step == cur.step {
                let f = &faults[cur.faults];
                apply_fault(w, f);
                cur.faults += 1;
            } else if cur.step < to.step && w.step().is_some() {
                cur.step += 1;
            } else {
                break;
            }
        }
    }

    /// A fresh world replayed to `to` with tracing off.
    fn replay(&self, to: Pos) -> Result<World, String> {
        let mut sc = load(&self.src, TraceLevel::Off)?;
        sc.world.trace.level = TraceLevel::Off;
        sc.world.trace.records.clear();
        Self::advance(&mut sc.world, &self.faults, Pos::default(), to);
        Ok(sc.world)
    }

    /// The world exactly as it was right after record `idx`.
    ///
    /// # Errors
    /// Only if the scenario can no longer be loaded (it was loaded once, so
    /// in practice never).
    pub fn world_at(&mut self, idx: usize) -> Result<&mut World, String> {
        let to = self.entries.get(idx).map_or(Pos::default(), |e| e.pos);
        let reuse = matches!(&self.cursor, Some((p, _)) if *p <= to);
        if !reuse {
            let base = self.ckpts.iter().rposition(|(p, _)| *p <= to);
            let (p, w) = match base {
                Some(i) => self.ckpts.remove(i),
                None => {
                    self.replays += 1;
                    (Pos::default(), self.replay(Pos::default())?)
                }
            };
            self.cursor = Some((p, w));
        }
        let (p, w) = self.cursor.as_mut().ok_or("no cursor world")?;
        Self::advance(w, &self.faults, *p, to);
        *p = to;
        Ok(w)
    }

    /// Engine steps between checkpoints (at least `min_spacing`; at most 48
    /// parked worlds over the run).
    fn spacing(&self) -> u64 {
        (self.frontier.events_handled / 48).max(self.min_spacing.max(1))
    }

    /// The next checkpoint worth building: the first gap wider than the
    /// spacing between time zero, the checkpoints and the frontier.
    fn next_gap(&self) -> Option<Pos> {
        let c = self.spacing();
        let mut prev = 0;
        let ends = self.ckpts.iter().map(|(p, _)| p.step);
        for s in ends.chain(std::iter::once(self.frontier.events_handled)) {
            if s > prev + c {
                let step = prev + c;
                let faults = self.faults.iter().filter(|f| f.step < step).count();
                return Some(Pos { step, faults });
            }
            prev = s;
        }
        None
    }

    /// Does up to `budget` engine steps of checkpoint rebuilding; returns
    /// whether more work remains. Call it while the UI is idle.
    ///
    /// # Errors
    /// As [`Timeline::world_at`].
    pub fn maintain(&mut self, budget: u64) -> Result<bool, String> {
        if self.building.is_none() {
            let Some(target) = self.next_gap() else {
                return Ok(false);
            };
            let w = self.replay(Pos::default())?;
            self.building = Some((target, Pos::default(), w));
        }
        let Some((target, at, mut w)) = self.building.take() else {
            return Ok(false);
        };
        let step = at.step.saturating_add(budget).min(target.step);
        let faults = self.faults.iter().filter(|f| f.step < step).count();
        let to = Pos { step, faults }.min(target);
        Self::advance(&mut w, &self.faults, at, to);
        if to == target {
            let i = self.ckpts.partition_point(|(p, _)| *p < target);
            self.ckpts.insert(i, (target, w));
        } else {
            self.building = Some((target, to, w));
        }
        Ok(true)
    }

    /// How many checkpoints are parked (for tests and the benchmark).
    #[must_use]
    pub fn checkpoints(&self) -> usize {
        self.ckpts.len()
    }

    /// Forgets every checkpoint (the benchmark's worst case).
    pub fn drop_checkpoints(&mut self) {
        self.ckpts.clear();
        self.building = None;
    }

    /// Injects `cmd` on `host` right after record `idx`: the run after that
    /// point is discarded and recomputed with the fault.
    ///
    /// # Errors
    /// As [`Timeline::world_at`].
    pub fn inject(&mut self, idx: usize, host: HostId, cmd: &str) -> Result<usize, String> {
        let at = self.entries.get(idx).map_or(Pos::default(), |e| e.pos);
        self.world_at(idx)?;
        let (_, mut w) = self.cursor.take().ok_or("no cursor world")?;
        self.faults.truncate(at.faults);
        self.entries.retain(|e| e.pos <= at);
        // Checkpoints past this point saw a future that no longer happens.
        self.ckpts.retain(|(p, _)| *p <= at);
        self.building = None;
        w.trace.level = TraceLevel::Full;
        w.trace.records.clear();
        let f = Fault {
            step: at.step,
            host,
            cmd: cmd.to_string(),
        };
        apply_fault(&mut w, &f);
        self.faults.push(f);
        let pos = Pos {
            step: at.step,
            faults: self.faults.len(),
        };
        let recs = std::mem::take(&mut w.trace.records);
        self.entries
            .extend(recs.into_iter().map(|rec| Entry { rec, pos }));
        self.frontier = w;
        Ok(self.entries.len() - 1)
    }
}

/// Runs a fault command as a timed action would, and records it.
fn apply_fault(w: &mut World, f: &Fault) {
    let note = match sim_core::shell::run_line(w, f.host, &f.cmd) {
        Ok(o) => o.note_or_output(),
        Err(e) => format!("error: {e}"),
    };
    if w.trace.events() {
        let name = std::sync::Arc::clone(&w.host_names[f.host]);
        let now = w.now;
        w.trace.push(
            now,
            &name,
            TraceKind::Command {
                cmd: f.cmd.clone(),
                note,
            },
        );
    }
}
