//! `cargo fuzz run wire_parse`: the byte parser never panics, and whatever
//! it accepts can be emitted, printed and quoted again without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sim_core::packet::FramePayload;
use sim_core::wire::{LinkType, PcapWriter, emit_frame, icmp_quote, parse_frame};

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = parse_frame(data) else {
        return;
    };
    let bytes = emit_frame(&frame);
    assert_eq!(bytes.len(), frame.wire_len() as usize);
    let _ = parse_frame(&bytes);
    let _ = frame.to_string();
    if let FramePayload::Ipv4(p) = &frame.payload {
        let _ = icmp_quote(p);
    }
    let mut w = PcapWriter::new(LinkType::LinuxSll);
    w.push(sim_core::time::SimTime(0), &frame);
    let _ = w.into_bytes();
});
