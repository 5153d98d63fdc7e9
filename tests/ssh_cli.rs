//! The SSH admin commands through the real binary: keys added, listed and removed by
//! fingerprint; bad key files refused at their line, a private key with a warning, a
//! key of another user, an unknown user or fingerprint, a host key readable by others,
//! and --ssh-listen without a host key: each one clear line, a non-zero exit, no panic.

use std::path::Path;
use std::process::{Command, Output};

fn kazi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kazi"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("kazi runs")
}

fn ok(args: &[&str]) -> String {
    let out = kazi(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails with one clear line on stderr.
fn refused(args: &[&str]) -> String {
    let out = kazi(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

// Two real Ed25519 public keys (made with ssh-keygen for this test).
const ANA: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEZ3oTKXfXT7Hvo21nF9yPQ3XcmVxSGyKESYrpSev1Xa ana@laptop";
const ANA_FP: &str = "SHA256:r1gwU7jXoqYnuQhCvHDdw+5OKDp5bPctoXGd95qbpro";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn keys_are_added_listed_and_removed_and_bad_input_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("c.db").display());
    ok(&["admin", "--db", &db, "init"]);
    ok(&[
        "admin", "--db", &db, "user", "add", "ana", "--role", "reviewer",
    ]);
    ok(&[
        "admin", "--db", &db, "user", "add", "ben", "--role", "worker",
    ]);

    let file = write(dir.path(), "ana.pub", &format!("# Ana\n{ANA}\n"));
    let said = ok(&["admin", "--db", &db, "user", "key", "add", "ana", &file]);
    assert!(
        said.contains(&format!("Key {ANA_FP} (ana@laptop) of ana added.")),
        "{said}"
    );
    let said = ok(&["admin", "--db", &db, "user", "key", "add", "ana", &file]);
    assert!(said.contains("was already there"), "{said}");
    let listed = ok(&["admin", "--db", &db, "user", "key", "list", "ana"]);
    assert!(
        listed.starts_with(&format!("{ANA_FP} ssh-ed25519 \"ana@laptop\"")),
        "{listed}"
    );
    assert!(listed.contains("signs in"), "{listed}");
    let users = ok(&["admin", "--db", &db, "user", "list"]);
    assert!(users.contains(&format!("ssh key {ANA_FP}")), "{users}");

    let bad = write(
        dir.path(),
        "bad.pub",
        &format!("{ANA}\nssh-rsa AAAAnot-a-key x\n"),
    );
    let err = refused(&["admin", "--db", &db, "user", "key", "add", "ben", &bad]);
    assert!(
        err.contains("bad.pub:2: not an OpenSSH public key"),
        "{err}"
    );
    let private = write(
        dir.path(),
        "id_ed25519",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    let err = refused(&["admin", "--db", &db, "user", "key", "add", "ben", &private]);
    assert!(err.contains("id_ed25519:1: this is a private key"), "{err}");
    let err = refused(&["admin", "--db", &db, "user", "key", "add", "ben", &file]);
    assert!(err.contains("already registered for user 'ana'"), "{err}");
    let err = refused(&["admin", "--db", &db, "user", "key", "add", "zed", &file]);
    assert!(err.contains("no user 'zed'"), "{err}");
    let missing = dir.path().join("nope.pub").display().to_string();
    let err = refused(&["admin", "--db", &db, "user", "key", "add", "ana", &missing]);
    assert!(err.contains("cannot read"), "{err}");
    let err = refused(&[
        "admin",
        "--db",
        &db,
        "user",
        "key",
        "remove",
        "ana",
        "SHA256:nope",
    ]);
    assert!(err.contains("user 'ana' has no key SHA256:nope"), "{err}");

    let said = ok(&["admin", "--db", &db, "user", "key", "remove", "ana", ANA_FP]);
    assert!(said.contains("removed"), "{said}");
    let listed = ok(&["admin", "--db", &db, "user", "key", "list", "ana"]);
    assert!(listed.contains("has no SSH key"), "{listed}");
    // Only ana's: ben never got it, and the key is free for another user now.
    ok(&["admin", "--db", &db, "user", "key", "add", "ben", &file]);
}

#[test]
fn serve_refuses_a_host_key_others_can_read_and_a_listen_without_a_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("c.db").display());
    let key = write(dir.path(), "host_key", "not a key\n");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let args = ["serve", "--db", &db, "--listen", "127.0.0.1:0"];
    let err = refused(
        &[
            &args[..],
            &["--ssh-listen", "127.0.0.1:0", "--ssh-host-key", &key],
        ]
        .concat(),
    );
    assert!(
        err.contains("readable by others") && err.contains("chmod 600"),
        "{err}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = refused(
        &[
            &args[..],
            &["--ssh-listen", "127.0.0.1:0", "--ssh-host-key", &key],
        ]
        .concat(),
    );
    assert!(err.contains("cannot read the SSH host key"), "{err}");

    let out = kazi(&[&args[..], &["--ssh-listen", "127.0.0.1:0"]].concat());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--ssh-host-key"));
}
