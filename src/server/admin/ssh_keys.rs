//! `kazi admin user key add|list|remove`: reading OpenSSH public key files (one key a
//! line, as `id_ed25519.pub` or an `authorized_keys` file), refusing anything else at its
//! line, and registering the keys a reviewer or trainer signs in with over SSH.

use russh::keys::{HashAlg, PublicKey};

use super::{AdminError, check_user_name};
use crate::model::sanitize_line;
use crate::server::Clock;
use crate::server::secret;
use crate::server::store::{NewSshKey, SshKeyAdded, SshKeySummary, Store};

/// A key file that cannot be used, at its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {what}")]
pub struct KeyFileError {
    pub file: String,
    pub line: usize,
    pub what: String,
}

/// The fingerprint every command names a key by (`SHA256:...`, as `ssh-keygen -l`).
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Every key of an OpenSSH public key file, in order. Blank lines and `#` comments are
/// skipped; anything else that is not a public key refuses the whole file.
pub fn parse_key_file(file: &str, text: &str) -> Result<Vec<NewSshKey>, KeyFileError> {
    let mut keys = Vec::new();
    let bad = |line: usize, what: &str| KeyFileError {
        file: file.to_string(),
        line,
        what: what.to_string(),
    };
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("-----BEGIN") {
            return Err(bad(
                i + 1,
                "this is a private key: give the public one (the .pub file beside it), \
                 and keep the private key secret",
            ));
        }
        let mut key = PublicKey::from_openssh(line).map_err(|e| {
            bad(
                i + 1,
                &format!(
                    "not an OpenSSH public key ({e}); expected e.g. 'ssh-ed25519 AAAA... name@host' \
                     as in ~/.ssh/id_ed25519.pub"
                ),
            )
        })?;
        let comment = sanitize_line(key.comment().as_str_lossy()).into_owned();
        key.set_comment("");
        let public_key = key
            .to_openssh()
            .map_err(|e| bad(i + 1, &format!("cannot encode the key: {e}")))?;
        keys.push(NewSshKey {
            fingerprint: fingerprint(&key),
            public_key,
            comment,
        });
    }
    if keys.is_empty() {
        return Err(bad(1, "no public key in the file"));
    }
    Ok(keys)
}

/// Register each key for the user; what became of each, in order.
pub fn add_keys(
    store: &dyn Store,
    user: &str,
    keys: &[NewSshKey],
    clock: &Clock,
) -> Result<Vec<SshKeyAdded>, AdminError> {
    check_user_name(user)?;
    let mut added = Vec::with_capacity(keys.len());
    for key in keys {
        // The key's device token is never shown: nobody can sync with it over HTTP.
        let token = secret::new_token().map_err(|e| AdminError::Random(e.to_string()))?;
        added.push(store.add_ssh_key(user, key, &secret::hash_token(&token), clock.now())?);
    }
    Ok(added)
}

pub fn list_keys(store: &dyn Store, user: &str) -> Result<Vec<SshKeySummary>, AdminError> {
    check_user_name(user)?;
    Ok(store.ssh_keys(user)?)
}

/// Remove a key: a session signed in with it ends within a moment.
pub fn remove_key(store: &dyn Store, user: &str, fingerprint: &str) -> Result<(), AdminError> {
    check_user_name(user)?;
    Ok(store.remove_ssh_key(user, fingerprint, Clock::system().now())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEZ3oTKXfXT7Hvo21nF9yPQ3XcmVxSGyKESYrpSev1Xa ana@laptop";

    #[test]
    fn reads_keys_and_names_them_by_fingerprint() {
        let text = format!("# Ana's keys\n\n{ED}\n");
        let keys = parse_key_file("ana.pub", &text).unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].fingerprint.starts_with("SHA256:"), "{keys:?}");
        assert_eq!(keys[0].comment, "ana@laptop");
        assert!(!keys[0].public_key.contains("ana@laptop"));
        // The same key with another comment is the same key.
        let again = parse_key_file("b.pub", &ED.replace("ana@laptop", "x")).unwrap();
        assert_eq!(again[0].fingerprint, keys[0].fingerprint);
    }

    #[test]
    fn refuses_what_is_not_a_public_key_at_its_line() {
        let e = parse_key_file("k.pub", &format!("{ED}\nssh-ed25519 garbage\n")).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("k.pub", 2));
        assert!(
            e.to_string()
                .starts_with("k.pub:2: not an OpenSSH public key")
        );
        let e = parse_key_file("id", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n").unwrap_err();
        assert!(e.to_string().contains("private key"), "{e}");
        let e = parse_key_file("empty.pub", "\n# nothing\n").unwrap_err();
        assert_eq!(e.to_string(), "empty.pub:1: no public key in the file");
    }
}
