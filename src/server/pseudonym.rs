//! Per-project pseudonyms: how reviewers' screens and exports name a worker. Stable
//! (the same worker is the same name in a project, every time) and different in every
//! project, so lists from two projects cannot be joined on it; never the user's name.
//! Keyed with the centre's secret (`PseudonymKey`, kept in the database): without it,
//! nobody can try user ids until a pseudonym matches.

use sha2::{Digest, Sha256};

/// The centre's secret for pseudonyms: 32 random bytes made on first use.
#[derive(Clone, PartialEq, Eq)]
pub struct PseudonymKey(pub [u8; 32]);

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PseudonymKey(..)")
    }
}

impl PseudonymKey {
    /// A fresh key from the system's randomness.
    pub fn random() -> Result<PseudonymKey, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(PseudonymKey(key))
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(text: &str) -> Option<PseudonymKey> {
        let text = text.trim();
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(PseudonymKey(key))
    }
}

/// HMAC-SHA-256 (RFC 2104) of `message` under `key` (32 bytes, under SHA-256's block).
fn hmac(key: &[u8; 32], message: &[&[u8]]) -> [u8; 32] {
    let mut inner_pad = [0x36u8; 64];
    let mut outer_pad = [0x5cu8; 64];
    for (i, k) in key.iter().enumerate() {
        inner_pad[i] ^= k;
        outer_pad[i] ^= k;
    }
    let mut inner = Sha256::new();
    inner.update(inner_pad);
    for part in message {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(outer_pad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// `w-` and six hex digits of a keyed hash of the project and the user's id.
pub fn pseudonym(key: &PseudonymKey, project: &str, user_id: i64) -> String {
    let digest = hmac(
        &key.0,
        &[
            b"kazi pseudonym\0",
            project.as_bytes(),
            &[0],
            &user_id.to_le_bytes(),
        ],
    );
    let hex: String = digest[..3].iter().map(|b| format!("{b:02x}")).collect();
    format!("w-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_keeps_one_name_per_project_and_another_elsewhere() {
        let key = PseudonymKey([9; 32]);
        assert_eq!(pseudonym(&key, "shop", 7), pseudonym(&key, "shop", 7));
        assert_ne!(pseudonym(&key, "shop", 7), pseudonym(&key, "shop", 8));
        assert_ne!(pseudonym(&key, "shop", 7), pseudonym(&key, "receipts", 7));
        assert!(pseudonym(&key, "shop", 7).starts_with("w-"));
        assert_eq!(pseudonym(&key, "shop", 7).len(), 8);
        // Another centre's key gives other names: they come from the secret.
        let other = PseudonymKey([10; 32]);
        assert_ne!(pseudonym(&key, "shop", 7), pseudonym(&other, "shop", 7));
        assert_eq!(PseudonymKey::from_hex(&key.to_hex()), Some(key));
    }

    #[test]
    fn hmac_matches_rfc_4231_shape() {
        // RFC 4231 test case 2 uses a 4-byte key; padded with zeros to 32 bytes the
        // HMAC is the same (keys shorter than the block are zero-padded).
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        let mac = hmac(&key, &[b"what do ya want ", b"for nothing?"]);
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
