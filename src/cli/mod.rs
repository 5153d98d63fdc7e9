//! Command implementations: each wires library parts together for one subcommand.

pub mod admin;
pub mod demo;
pub mod worker;
