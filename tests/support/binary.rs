//! The real `kazi` binary as admins run it: `kazi serve` on a free port (killed when
//! dropped), the enrolment code `user add` prints, and a command's success or one-line
//! refusal. Each test crate uses what it needs.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kazi serve --db DB` on 127.0.0.1:0 with `envs`, once it says where it listens;
/// standard error goes to `stderr`.
pub fn serve(db: &str, envs: &[(&str, &str)], stderr: Stdio) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, url }
}

/// The one-time code in what `kazi admin user add` printed.
pub fn enrolment_code(printed: &str) -> String {
    printed
        .split("enrolment code: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no enrolment code in {printed:?}"))
        .to_string()
}

/// `kazi ARGS` with the profile directory `home`.
pub fn kazi(args: &[&str], home: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(args)
        .env("KAZI_HOME", home)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("kazi runs")
}

/// It succeeded: its standard output.
pub fn ok(out: std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}{err}");
    text
}

/// It failed with one clear `kazi: ...` line on standard error (no panic, no
/// backtrace): that line.
pub fn refused(out: std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "expected a refusal: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(err.starts_with("kazi: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}
