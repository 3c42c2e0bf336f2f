//! keepalived.conf parser: the tutorial configs, the sample corpus (golden), robustness.

use sim_core::keepalived::conf::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

fn parse_str(text: &str, file: &str) -> Parsed {
    parse(text, file, &NoFiles, &ConfContext::for_host("lvs-master"))
}

#[test]
fn dump_tutorial() {
    for f in ["tutorial-master.conf", "tutorial-backup.conf"] {
        let p = parse_str(&read(&format!("scenarios/keepalived/{f}")), f);
        println!("{}", p.summary());
    }
}
