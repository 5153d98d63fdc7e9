//! The centre's ed25519 key and the signature of a work record. A record is signed as a
//! manifest: the SHA-256 of each of its parts (a line of the text, a field of the JSON),
//! so a verifier that finds the signature good but a part's hash different can say
//! exactly which part was altered, added or removed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// What a signed manifest starts with: a record of another format never verifies as this.
const MANIFEST_TAG: &str = "kazi-work-record/1";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the centre's key {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write the centre's key {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a Kazi centre key (64 hex digits)")]
    Malformed { path: String },
    #[error("the centre's key {path} can be read by others (mode {mode:o}); chmod 600 {path}")]
    Exposed { path: String, mode: u32 },
    #[error("the system's random number source failed: {0}")]
    Random(String),
}

/// The key a centre signs work records with. Only its public half leaves the server.
pub struct CentreKey {
    signing: SigningKey,
}

impl CentreKey {
    /// The key at `path`, made there (mode 0600) with its public half beside it
    /// (`PATH.pub`) when there is none yet. True when it was made now.
    pub fn load_or_create(path: &Path) -> Result<(CentreKey, bool), KeyError> {
        let shown = path.display().to_string();
        match fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                let seed =
                    from_hex::<32>(text.trim()).ok_or(KeyError::Malformed { path: shown })?;
                Ok((
                    CentreKey {
                        signing: SigningKey::from_bytes(&seed),
                    },
                    false,
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut seed = [0u8; 32];
                getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
                let key = CentreKey {
                    signing: SigningKey::from_bytes(&seed),
                };
                let write = |e| KeyError::Write {
                    path: shown.clone(),
                    source: e,
                };
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(write)?;
                file.write_all(format!("{}\n", hex(&seed)).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(write)?;
                fs::write(public_path(path), format!("{}\n", key.public_hex())).map_err(|e| {
                    KeyError::Write {
                        path: public_path(path).display().to_string(),
                        source: e,
                    }
                })?;
                Ok((key, true))
            }
            Err(e) => Err(KeyError::Read {
                path: shown,
                source: e,
            }),
        }
    }

    pub fn public_hex(&self) -> String {
        hex(self.signing.verifying_key().as_bytes())
    }

    /// The signature (hex) of a manifest of `(part name, part hash)`.
    pub fn sign(&self, kind: &str, parts: &[(String, String)]) -> String {
        hex(&self
            .signing
            .sign(manifest(kind, parts).as_bytes())
            .to_bytes())
    }
}

/// Where the public half of the key at `path` is written.
pub fn public_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|e| KeyError::Read {
            path: path.display().to_string(),
            source: e,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed {
            path: path.display().to_string(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<(), KeyError> {
    Ok(())
}

/// SHA-256 of a part, hex.
pub fn part_hash(content: &str) -> String {
    hex(&Sha256::digest(content.as_bytes()))
}

/// The text that is signed: the format tag, the kind of file, then one part a line.
fn manifest(kind: &str, parts: &[(String, String)]) -> String {
    let mut text = format!("{MANIFEST_TAG}\n{kind}\n");
    for (name, hash) in parts {
        text.push_str(name);
        text.push('\t');
        text.push_str(hash);
        text.push('\n');
    }
    text
}

/// Whether `signature` (hex) is `public` (hex)'s signature of the manifest.
pub fn signature_holds(
    public: &str,
    signature: &str,
    kind: &str,
    parts: &[(String, String)],
) -> bool {
    let (Some(public), Some(signature)) = (from_hex::<32>(public), from_hex::<64>(signature))
    else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&public) else {
        return false;
    };
    key.verify(
        manifest(kind, parts).as_bytes(),
        &Signature::from_bytes(&signature),
    )
    .is_ok()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_private_and_signs_what_it_signed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("centre.key");
        let (key, made) = CentreKey::load_or_create(&path).unwrap();
        assert!(made);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let (again, made) = CentreKey::load_or_create(&path).unwrap();
        assert!(!made);
        assert_eq!(key.public_hex(), again.public_hex());
        let public = fs::read_to_string(public_path(&path)).unwrap();
        assert_eq!(public.trim(), key.public_hex());
        let parts = vec![("line 1".to_string(), part_hash("Worker: amina"))];
        let sig = key.sign("text", &parts);
        assert!(signature_holds(&key.public_hex(), &sig, "text", &parts));
        assert!(!signature_holds(&key.public_hex(), &sig, "json", &parts));
        let other = vec![("line 1".to_string(), part_hash("Worker: amina!"))];
        assert!(!signature_holds(&key.public_hex(), &sig, "text", &other));
    }
}
