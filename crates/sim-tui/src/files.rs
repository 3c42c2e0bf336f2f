//! File input and atomic output (write to a temporary file, then rename).

use std::path::Path;

use sim_core::trace::TraceKind;
use sim_core::wire::{LinkType, PcapWriter, SllPacketType};
use sim_core::world::World;

use crate::Fail;

/// Reads a scenario or config file.
pub fn read(path: &Path) -> Result<String, Fail> {
    std::fs::read_to_string(path)
        .map_err(|e| Fail(2, format!("lvslab: cannot read {}: {e}", path.display())))
}

/// Writes `bytes` to `path` atomically: nothing half-written is ever left
/// (one implementation for the whole binary: `reports::write_atomic`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Fail> {
    reports::write_atomic(path, bytes).map_err(|e| Fail(2, format!("lvslab: {e}")))
}

/// The run's frames as a cooked (`tcpdump -i any`) pcap; one host or all.
pub fn pcap_of(w: &World, host: Option<&str>) -> (Vec<u8>, usize) {
    let mut p = PcapWriter::new(LinkType::LinuxSll);
    for r in &w.trace.records {
        if host.is_some_and(|h| h != &*r.host) {
            continue;
        }
        match &r.kind {
            TraceKind::Tx { frame, .. } => p.push_sll(r.t, frame, SllPacketType::Outgoing),
            TraceKind::Rx { frame, .. } => {
                p.push_sll(r.t, frame, SllPacketType::incoming(frame.dst))
            }
            _ => {}
        }
    }
    let n = p.packets();
    (p.into_bytes(), n)
}
