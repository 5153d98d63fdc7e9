//! Kazi: a keyboard-driven terminal workstation for microwork, fed by a central task queue.
//!
//! The folders follow the parts of DESIGN.md: pure `model`, `protocol` and `quality`;
//! `server`, `client` and `tui` do the I/O.

pub mod client;
pub mod media;
pub mod model;
pub mod protocol;
pub mod quality;
pub mod server;
pub mod tui;
