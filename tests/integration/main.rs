//! lvslab integration tests: one binary, one module per area.

mod determinism;
mod flow;
mod invalid;
mod keepalived;
mod lvs;
mod parsers;
mod scenarios;
