//! lvslab integration tests: one binary.
