//! keepalived 2.x in the lab: its configuration language, VRRP and checkers.
//!
//! Reference: `shared/reference/lvs-semantics.md` §4–6.

pub mod conf;
