//! A process in a pseudo-terminal of a given size, for measuring what a real terminal
//! sees: start-up time to the first frame, bytes written per key, resident memory.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Device status report: "where is the cursor?".
const CURSOR_QUERY: &[u8] = b"\x1b[6n";

pub struct PtyChild {
    pub child: Child,
    master: File,
    output: mpsc::Receiver<Vec<u8>>,
    pub seen: Vec<u8>,
}

impl PtyChild {
    pub fn spawn(mut cmd: Command, cols: u16, rows: u16) -> std::io::Result<PtyChild> {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two fds into the given ints; null name/termios are allowed.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: both fds were just returned by openpty and are owned here.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let slave_fd = slave.as_raw_fd();
        cmd.stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            use std::os::unix::process::CommandExt;
            cmd.pre_exec(move || {
                libc::setsid();
                libc::ioctl(slave_fd, libc::TIOCSCTTY as _, 0);
                Ok(())
            });
        }
        let child = cmd.spawn()?;
        drop(cmd);
        let master = File::from(master);
        let mut reader = master.try_clone()?;
        let mut answerer = master.try_clone()?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                // Answer a cursor position query at once, as a terminal does; a program
                // waiting for the answer would otherwise stall.
                if contains(&buf[..n], CURSOR_QUERY) {
                    let _ = answerer.write_all(b"\x1b[1;1R");
                }
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Ok(PtyChild {
            child,
            master,
            output: rx,
            seen: Vec::new(),
        })
    }

    /// Read until `needle` appears in the output; returns when it was seen.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            if contains(&self.seen, needle.as_bytes()) {
                return Some(Instant::now());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match self.output.recv_timeout(left) {
                Ok(chunk) => self.seen.extend_from_slice(&chunk),
                Err(_) => return None,
            }
        }
    }

    /// Everything written since the last call, waiting `quiet` for more.
    pub fn drain(&mut self, quiet: Duration) -> Vec<u8> {
        let mut out = Vec::new();
        while let Ok(chunk) = self.output.recv_timeout(quiet) {
            out.extend_from_slice(&chunk);
        }
        self.seen.extend_from_slice(&out);
        out
    }

    /// Everything written during the next `period` (however busy or quiet).
    pub fn collect_for(&mut self, period: Duration) -> Vec<u8> {
        let deadline = Instant::now() + period;
        let mut out = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.output.recv_timeout(left) {
                Ok(chunk) => out.extend_from_slice(&chunk),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(left);
                    break;
                }
            }
        }
        self.seen.extend_from_slice(&out);
        out
    }

    pub fn send(&mut self, bytes: &[u8]) {
        let _ = self.master.write_all(bytes);
    }

    /// Resident memory from one read of /proc/PID/status, in KiB. With
    /// `KAZI_BENCH_SMAPS=FILE` set, the process's full /proc smaps is copied to FILE as
    /// well (each call overwrites it), to see which mapping grew.
    pub fn memory(&self) -> Option<Memory> {
        let pid = self.child.id();
        if let Some(dest) = std::env::var_os("KAZI_BENCH_SMAPS") {
            let _ = std::fs::copy(format!("/proc/{pid}/smaps"), dest);
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kb = |key: &str| -> Option<u64> {
            status
                .lines()
                .find(|l| l.starts_with(key))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        };
        Some(Memory {
            rss_kb: kb("VmRSS:")?,
            anon_kb: kb("RssAnon:")?,
            file_kb: kb("RssFile:")?,
        })
    }
}

/// A process's resident memory as the kernel counts it, in KiB: all of it, the anonymous
/// pages (heap, stacks, relocated tables) and the file-backed ones (mapped code and data).
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss_kb: u64,
    pub anon_kb: u64,
    pub file_kb: u64,
}

/// The resident memory of several runs of a client, for one figure (the median of the
/// totals) and a line showing each run's split.
#[derive(Debug, Default)]
pub struct MemoryRuns {
    rss_kb: Vec<f64>,
    split: Vec<(u64, u64)>,
}

impl MemoryRuns {
    /// Reads `child`'s memory now.
    pub fn take(&mut self, child: &PtyChild) -> anyhow::Result<()> {
        use anyhow::Context;
        let memory = child
            .memory()
            .context("no memory figures in /proc for the kazi process")?;
        self.rss_kb.push(memory.rss_kb as f64);
        self.split.push((memory.anon_kb, memory.file_kb));
        Ok(())
    }

    /// Each run's total, in KiB.
    pub fn rss_kb(&self) -> &[f64] {
        &self.rss_kb
    }
}

impl std::fmt::Display for MemoryRuns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RSS (KB): {:?}, (anonymous, file) {:?}",
            self.rss_kb, self.split
        )
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len().max(1)).any(|w| w == needle)
}

impl Drop for PtyChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
