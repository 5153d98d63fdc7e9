//! Command implementations: each wires library parts together for one subcommand.

/// Print a line on standard output and hand back the error instead of panicking as
/// `println!` does when the reader went away (`kazi status | head -1`); `main` treats a
/// closed pipe as the end of the output, not as a failure.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

pub mod admin;
pub mod aggregate;
pub mod args;
pub mod demo;
pub mod help;
pub mod impact;
pub mod worker;
