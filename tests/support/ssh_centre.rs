//! A Kazi centre served by the real `kazi serve` over HTTP and SSH, with users who have
//! SSH keys, for the SSH tests and benchmarks: the ssh arguments that connect as a user
//! without asking anything, and the answers a user gave, from the export.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use kazi::model::AnswerValue;
use kazi::protocol::{AnswerUpload, SyncRequest, Want};

pub fn skip(why: &str) {
    // Straight to stderr: the harness swallows eprintln! of a passing test.
    let _ = std::io::stderr().write_all(format!("\n*** SKIPPED: {why} ***\n").as_bytes());
}

pub fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool).arg(arg).output().is_ok()
}

pub fn kazi(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(args)
        .output()
        .expect("kazi runs");
    assert!(
        out.status.success(),
        "kazi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn fixture(name: &str) -> String {
    format!("{}/fixtures/projects/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A centre served by the real binary over HTTP and SSH, with users who have keys.
pub struct Centre {
    pub dir: tempfile::TempDir,
    pub db: String,
    pub server: Child,
    pub ssh_port: u16,
    pub http: String,
    /// The server's first lines (host key made, its fingerprint, the addresses).
    pub said: Vec<String>,
}

impl Drop for Centre {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

impl Centre {
    /// None (after a loud skip) without ssh or ssh-keygen.
    pub fn start(users: &[(&str, &str)]) -> Option<Centre> {
        Centre::start_with(users, &[])
    }

    /// As `start`, with more `kazi serve` arguments (the SSH limits).
    pub fn start_with(users: &[(&str, &str)], serve_args: &[&str]) -> Option<Centre> {
        if !have("ssh", "-V") || !have("ssh-keygen", "-?") {
            skip("the OpenSSH client is not installed; the SSH tests did not run");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let db = format!("sqlite:{}", dir.path().join("centre.db").display());
        kazi(&["admin", "--db", &db, "init"]);
        // Production work over SSH: the demo's products without its qualification gate
        // (training runs in kazi work on the worker's own computer).
        let products = dir.path().join("products.toml");
        let gated = std::fs::read_to_string(fixture("products.toml")).unwrap();
        std::fs::write(
            &products,
            gated.replace(
                "requires_qualification = true",
                "requires_qualification = false",
            ),
        )
        .unwrap();
        kazi(&[
            "admin",
            "--db",
            &db,
            "project",
            "add",
            products.to_str().unwrap(),
        ]);
        kazi(&[
            "admin",
            "--db",
            &db,
            "tasks",
            "import",
            "products",
            &fixture("products.jsonl"),
        ]);
        for (name, role) in users {
            kazi(&["admin", "--db", &db, "user", "add", name, "--role", role]);
            let key = keygen(dir.path(), name);
            let pubkey = format!("{}.pub", key.display());
            kazi(&["admin", "--db", &db, "user", "key", "add", name, &pubkey]);
        }
        let host_key = dir.path().join("host_key");
        let mut server = Command::new(env!("CARGO_BIN_EXE_kazi"))
            .args(["serve", "--db", &db, "--listen", "127.0.0.1:0"])
            .args(["--ssh-listen", "127.0.0.1:0", "--ssh-host-key"])
            .arg(&host_key)
            .args(serve_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kazi serve starts");
        let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
        let mut said = Vec::new();
        let (mut ssh_port, mut http) = (None, None);
        while ssh_port.is_none() || http.is_none() {
            let line = lines
                .next()
                .expect("kazi serve says where it listens")
                .unwrap();
            if let Some(rest) = line.strip_prefix("Kazi SSH server on ") {
                let addr = rest.split(';').next().unwrap();
                ssh_port = Some(addr.rsplit(':').next().unwrap().parse().unwrap());
            }
            if let Some(rest) = line.strip_prefix("Kazi server on ") {
                http = Some(rest.split(' ').next().unwrap().to_string());
            }
            said.push(line);
        }
        // Keep draining what it says, so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Some(Centre {
            dir,
            db,
            server,
            ssh_port: ssh_port.unwrap(),
            http: http.unwrap(),
            said,
        })
    }

    pub fn key(&self, user: &str) -> PathBuf {
        self.dir.path().join(format!("{user}_key"))
    }

    /// The ssh arguments that connect as `user` with `key`, never asking anything.
    pub fn ssh_args(&self, user: &str, key: &Path) -> Vec<String> {
        [
            "-p",
            &self.ssh_port.to_string(),
            "-i",
            &key.display().to_string(),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "IdentityAgent=none",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-o",
            "LogLevel=ERROR",
            &format!("{user}@127.0.0.1"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// A shell command for tmux: ssh -tt as `user`, then its exit status stays shown.
    pub fn ssh_in_tmux(&self, user: &str) -> String {
        format!(
            "ssh -tt {}; echo SSH-EXIT=$?; sleep 60",
            self.ssh_args(user, &self.key(user)).join(" ")
        )
    }

    /// `ssh` run to the end with `extra` arguments before the destination.
    pub fn ssh_output(&self, user: &str, key: &Path, extra: &[&str], command: &[&str]) -> Output {
        let mut args = self.ssh_args(user, key);
        let dest = args.pop().unwrap();
        Command::new("ssh")
            .args(extra)
            .args(&args)
            .arg(dest)
            .args(command)
            .stdin(Stdio::null())
            .output()
            .expect("ssh runs")
    }

    /// Three workers answer the first `each` products three ways, straight into the
    /// centre's database as their SSH sessions would: the tasks all three answered are
    /// disputes. How many there are, from the review queue.
    pub fn seed_disputes(&self, workers: &[&str], each: u32) -> usize {
        let store = kazi::server::open_existing_store(&self.db).unwrap();
        let labels = ["electronics", "computers", "home-kitchen"];
        for (w, name) in workers.iter().enumerate() {
            let listed = kazi(&["admin", "--db", &self.db, "user", "key", "list", name]);
            let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
            let fingerprint = listed.split_whitespace().next().unwrap();
            let who = store
                .ssh_principal(fingerprint)
                .unwrap()
                .expect("the key signs in");
            let now = kazi::server::Clock::system().now();
            let want = SyncRequest {
                want: vec![Want {
                    project: "products".into(),
                    count: each,
                }],
                kinds: vec!["classify".into()],
                ..SyncRequest::default()
            };
            let leases = store.sync(&who, want, now).unwrap().leases;
            let answers = leases
                .iter()
                .enumerate()
                .map(|(i, lease)| AnswerUpload {
                    id: i as u64 + 1,
                    task: lease.task,
                    value: AnswerValue::Labels(vec![labels[w].into()]),
                    ago: 0,
                    replaces: None,
                })
                .collect();
            let send = SyncRequest {
                answers,
                ..SyncRequest::default()
            };
            store.sync(&who, send, now).unwrap();
        }
        let filter = kazi::server::store::review::ReviewFilter::default();
        store.review_list(&filter).unwrap().len()
    }

    /// (task text, label) of every answer `user` gave, from the export.
    pub fn answers_of(&self, user: &str) -> Vec<(String, String)> {
        let out = kazi(&["export", "--db", &self.db, "products", "--with-names"]);
        let mut found = Vec::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let rec: serde_json::Value = serde_json::from_str(line).unwrap();
            for a in rec["answers"].as_array().unwrap() {
                if a["worker"] == user && a.get("superseded").is_none_or(|s| s == false) {
                    found.push((
                        rec["text"].as_str().unwrap().to_string(),
                        a["value"].as_str().unwrap().to_string(),
                    ));
                }
            }
        }
        found
    }
}

pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(format!("{name}_key"));
    let ok = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            &format!("{name}@test"),
            "-f",
        ])
        .arg(&key)
        .status()
        .expect("ssh-keygen runs")
        .success();
    assert!(ok, "ssh-keygen makes a key");
    key
}

/// The export of products as JSON records (workers by user name).
pub fn export_records(db: &str) -> Vec<serde_json::Value> {
    let out = kazi(&["export", "--db", db, "products", "--with-names"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
