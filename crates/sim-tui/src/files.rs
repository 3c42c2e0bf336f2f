//! File input and atomic output (write to a temporary file, then rename).

use std::path::Path;

use sim_core::time::SimTime;
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

/// Runs `w` to `end` and writes its frames as a cooked (`tcpdump -i any`)
/// pcap to `path` atomically, one host's or all, piece by piece as the run
/// makes them (a long run's capture is never held whole). The number of
/// packets.
pub fn write_pcap(
    path: &Path,
    w: &mut World,
    end: SimTime,
    host: Option<&str>,
) -> Result<usize, Fail> {
    let mut p = PcapWriter::new(LinkType::LinuxSll);
    reports::write_atomic_with(path, |f| {
        w.step_until_draining(end, crate::tracerun::BATCH, |recs| {
            for r in recs {
                if host.is_some_and(|h| h != &*r.host) {
                    continue;
                }
                match &r.kind {
                    TraceKind::Tx { frame, .. } => {
                        p.push_sll(r.t, frame, SllPacketType::Outgoing);
                    }
                    TraceKind::Rx { frame, .. } => {
                        p.push_sll(r.t, frame, SllPacketType::incoming(frame.dst));
                    }
                    _ => {}
                }
            }
            f.write_all(&p.take_bytes())
        })
    })
    .map_err(|e| Fail(2, format!("lvslab: {e}")))?;
    Ok(p.packets())
}
