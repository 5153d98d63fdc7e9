//! A private tmux server for end-to-end tests of a real terminal: start a command in an
//! 80x24 window, send keys, read the screen, wait for it, resize the window. Without tmux
//! `start` says loudly that the test is skipped.
#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    /// A private tmux server running `cmd` in an 80x24 window, or None without tmux.
    pub fn start(cmd: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            // Straight to stderr: the harness swallows eprintln! of a passing test, and a
            // skip must never pass silently.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"\n*** SKIPPED: tmux is not installed; a real-terminal test did not run ***\n",
            );
            return None;
        }
        let socket = format!(
            "kazi-test-{}-{}",
            std::process::id(),
            getrandom::u32().unwrap_or(0)
        );
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "80",
                "-y",
                "24",
                cmd,
            ])
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .status()
            .expect("tmux runs")
            .success();
        assert!(ok, "tmux session starts");
        Some(Tmux { socket })
    }

    /// Make the window `cols` x `rows` (the program sees a window change).
    pub fn resize(&self, cols: u16, rows: u16) {
        let ok = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "resize-window",
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
            ])
            .status()
            .expect("tmux runs")
            .success();
        assert!(ok, "tmux resizes");
    }

    /// The screen with its colours and attributes as escape sequences.
    pub fn screen_styled(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-e"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn title(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "display-message", "-p", "#{pane_title}"])
            .output()
            .expect("display-message");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["-L", self.socket.as_str(), "send-keys"];
        args.extend_from_slice(keys);
        assert!(Command::new("tmux").args(&args).status().unwrap().success());
    }

    /// Wait until the screen satisfies `pred`; panics with the screen after 90 s (a
    /// loaded 2-core machine runs several demos at once).
    pub fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// The task text: the first non-blank line inside the task box.
pub fn task_text(screen: &str) -> String {
    screen
        .lines()
        .skip(2)
        .map(|l| l.trim_matches(|c| c == '│' || c == '|' || c == ' '))
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}
