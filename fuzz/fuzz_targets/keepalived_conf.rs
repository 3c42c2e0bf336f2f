//! `cargo +nightly fuzz run keepalived_conf`: the keepalived.conf parser must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_core::keepalived::conf::{ConfContext, ConfLoader, parse};

/// Every include resolves to the same small file, so include handling is exercised too.
struct Loader;

impl ConfLoader for Loader {
    fn load(&self, path: &str) -> Option<String> {
        (path.len() % 2 == 0).then(|| "vrrp_instance I {\n virtual_router_id 1\n}\n".to_string())
    }
    fn glob(&self, pattern: &str) -> Vec<String> {
        vec![pattern.to_string(), format!("{pattern}.d")]
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ctx = ConfContext::for_host("high");
    let parsed = parse(&text, "fuzz.conf", &Loader, &ctx);
    let _ = parsed.summary();
    let _ = parsed.has_errors();
});
