//! The real `kazi` binary as admins run it: `kazi serve` on a free port (killed when
//! dropped) and the enrolment code `user add` prints.

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
