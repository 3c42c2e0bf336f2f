//! # sim-core — the pure heart of lvslab
//!
//! A deterministic discrete-event simulator of Linux hosts running LVS/IPVS
//! and keepalived. This crate does no I/O, reads no clock, starts no thread:
//! callers pass text in and read traces, metrics and command outputs back.

pub mod engine;
pub mod flow;
pub mod host;
pub mod ipvs;
pub mod keepalived;
pub mod lint;
pub mod metrics;
pub mod packet;
pub mod rng;
pub mod scenario;
pub mod server_model;
pub mod shell;
pub mod time;
pub mod trace;
pub mod wire;
pub mod workload;
pub mod world;
