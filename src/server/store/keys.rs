//! SSH public keys of users, as the store keeps them: each key signs in as a device of
//! its own (named after its fingerprint), so an SSH session leases, answers and is
//! revoked exactly as a logged-in computer is.

/// A public key to register, already parsed and checked (`server::admin::ssh_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSshKey {
    /// `SHA256:...`, as `ssh-keygen -l` prints it: the key's name in every command.
    pub fingerprint: String,
    /// The key in OpenSSH form without its comment (`ssh-ed25519 AAAA...`).
    pub public_key: String,
    /// The comment of the key file (often `user@host`); untrusted, shown sanitised.
    pub comment: String,
}

/// A registered key as `kazi admin user key list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKeySummary {
    pub fingerprint: String,
    pub public_key: String,
    pub comment: String,
    /// Server time, unix seconds.
    pub added: i64,
    /// The device the key signs in as.
    pub device_id: i64,
    /// When its device was revoked (`user revoke`): the key no longer signs in.
    pub revoked: Option<i64>,
}

/// What `add_ssh_key` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SshKeyAdded {
    New {
        device_id: i64,
    },
    /// The user already had this key and it signs in: nothing changed.
    AlreadyThere {
        device_id: i64,
    },
    /// The key's device had been revoked: it signs in again, as a new device.
    Renewed {
        device_id: i64,
    },
}
