//! Shell completions and the manual page, both made from the command line's own
//! definitions, so they never disagree with `--help`.

use std::io::Write;

use anyhow::{Context, Result};

pub fn completions(mut command: clap::Command, shell: clap_complete::Shell) -> Result<()> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "kazi", &mut out);
    write_out(&out)
}

/// One page: the synopsis, every option, and each subcommand with its description.
pub fn man(command: clap::Command) -> Result<()> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut out)
        .context("cannot make the manual page")?;
    write_out(&out)
}

fn write_out(bytes: &[u8]) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes)?;
    stdout.flush()?;
    Ok(())
}
