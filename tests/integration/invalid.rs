//! Every fixture under scenarios/invalid/ is refused with its message,
//! exactly as pinned in tests/golden/invalid/<name>.txt.

use lvslab_tests::{golden, root};
use sim_core::scenario;
use sim_core::trace::TraceLevel;

#[test]
fn every_invalid_fixture_gives_its_message() {
    let dir = root().join("scenarios/invalid");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "expected the invalid fixtures");
    for p in names {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = format!("scenarios/invalid/{name}.toml");
        let text = std::fs::read_to_string(&p).unwrap();
        let err = scenario::load(&rel, &text, TraceLevel::Events, None)
            .err()
            .unwrap_or_else(|| panic!("{rel} was accepted"));
        golden(&format!("invalid/{name}.txt"), &format!("{err}\n"));
    }
}
