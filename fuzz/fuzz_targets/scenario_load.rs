//! `cargo +nightly fuzz run scenario_load`: loading a scenario (TOML, the
//! setup scripts through the shell, expectations) must never panic, and a
//! scenario that loads must run for a simulated second without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_core::scenario;
use sim_core::time::{SimDuration, SimTime};
use sim_core::trace::TraceLevel;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(mut sc) = scenario::load("fuzz.toml", &text, TraceLevel::Events, None) {
        // The trace is dropped as it comes (a benchmark-sized input would
        // otherwise hold gigabytes of it).
        let end = SimTime::ZERO + SimDuration::from_secs(1);
        let _ = sc.world.step_until_draining(end, 4096, |_| Ok::<(), ()>(()));
    }
});
