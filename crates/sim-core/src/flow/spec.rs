//! Scenario sections for flow fidelity (filled below).
