//! Same scenario + same seed → byte-identical trace; another seed differs.

use lvslab_tests::run;
use sim_core::trace::TraceLevel;

fn trace(rel: &str) -> String {
    run(rel, TraceLevel::Full).world.trace.to_text()
}

#[test]
fn same_seed_same_trace() {
    for rel in [
        "scenarios/basics/router.toml",
        "scenarios/labs/tutorial-dr.toml",
        "scenarios/labs/nat.toml",
        "scenarios/labs/tun.toml",
        "scenarios/labs/fullnat.toml",
    ] {
        let a = trace(rel);
        let b = trace(rel);
        assert!(!a.is_empty());
        assert_eq!(a, b, "{rel}: two runs with the same seed differ");
    }
}

#[test]
fn the_seed_matters() {
    let rel = "scenarios/basics/router.toml";
    let text = std::fs::read_to_string(lvslab_tests::root().join(rel)).unwrap();
    let mut a = sim_core::scenario::load(rel, &text, TraceLevel::Full, Some(1)).unwrap();
    let mut b = sim_core::scenario::load(rel, &text, TraceLevel::Full, Some(2)).unwrap();
    let end = sim_core::time::SimTime::ZERO + a.duration;
    a.world.step_until(end);
    b.world.step_until(end);
    // Different ISNs and ephemeral ports.
    assert_ne!(a.world.trace.to_text(), b.world.trace.to_text());
}
