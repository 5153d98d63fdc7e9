//! The SSH server's host key: read from its file, or made on first start (Ed25519, from
//! the OS's randomness) and written with mode 0600, never over an existing file.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use russh::keys::ssh_key::LineEnding;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{HashAlg, PrivateKey};

/// A host key that cannot be read or made.
#[derive(Debug, thiserror::Error)]
pub enum HostKeyError {
    #[error("cannot read the SSH host key {path}: {why}")]
    Read { path: String, why: String },
    #[error("the SSH host key {path} is readable by others (mode {mode:o}); chmod 600 {path}")]
    TooOpen { path: String, mode: u32 },
    #[error("cannot write the new SSH host key {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the system's random number source failed: {0}")]
    Random(String),
}

/// The host key and whether it was made just now.
pub fn load_or_create(path: &Path) -> Result<(PrivateKey, bool), HostKeyError> {
    let shown = path.display().to_string();
    match std::fs::metadata(path) {
        Ok(meta) => {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(HostKeyError::TooOpen { path: shown, mode });
            }
            let text = std::fs::read_to_string(path).map_err(|e| HostKeyError::Read {
                path: shown.clone(),
                why: e.to_string(),
            })?;
            let key = PrivateKey::from_openssh(&text).map_err(|e| HostKeyError::Read {
                path: shown,
                why: format!("{e} (expected an OpenSSH private key without a passphrase)"),
            })?;
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((create(path)?, true)),
        Err(e) => Err(HostKeyError::Read {
            path: shown,
            why: e.to_string(),
        }),
    }
}

fn create(path: &Path) -> Result<PrivateKey, HostKeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| HostKeyError::Random(e.to_string()))?;
    let mut key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    key.set_comment("kazi host key");
    let write_error = |source| HostKeyError::Write {
        path: path.display().to_string(),
        source,
    };
    let text = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| write_error(std::io::Error::other(e.to_string())))?;
    // create_new: two servers started at once never overwrite each other's key.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write_error)?;
    file.write_all(text.as_bytes()).map_err(write_error)?;
    file.sync_all().map_err(write_error)?;
    Ok(key)
}

/// `SHA256:...`, as `ssh-keygen -l` and the client's first-connection prompt show it.
pub fn fingerprint(key: &PrivateKey) -> String {
    key.public_key().fingerprint(HashAlg::Sha256).to_string()
}
