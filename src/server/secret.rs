//! Secrets: device tokens and one-time enrolment codes, made from OS randomness and
//! stored only as SHA-256 hashes.

use sha2::{Digest, Sha256};

use crate::server::store::SecretHash;

/// Letters of enrolment codes: no 0/O, 1/I/L or U, so a code read aloud or copied from
/// paper is typed right.
const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKMNPQRSTVWXYZ0123456789";
const CODE_CHARS: usize = 16;

#[derive(Debug, thiserror::Error)]
#[error("the system's random number source failed: {0}")]
pub struct RandomError(String);

fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
    Ok(buf)
}

/// A new device token: 32 random bytes as 64 hex digits.
pub fn new_token() -> Result<String, RandomError> {
    Ok(random_bytes::<32>()?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// A new enrolment code, 80 random bits, shown in groups of four: `ABCD-EFGH-JKMN-PQRS`.
pub fn new_enrolment_code() -> Result<String, RandomError> {
    let bytes = random_bytes::<CODE_CHARS>()?;
    let mut code = String::with_capacity(CODE_CHARS + 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(char::from(CODE_ALPHABET[usize::from(b & 31)]));
    }
    Ok(code)
}

pub fn hash_token(token: &str) -> SecretHash {
    Sha256::digest(token.trim().as_bytes()).into()
}

/// Hash of a code as typed: case, spaces and dashes do not matter.
pub fn hash_enrolment_code(code: &str) -> SecretHash {
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    Sha256::digest(normal.as_bytes()).into()
}

/// Compare hashes in constant time.
pub fn same_hash(stored: &[u8], given: &SecretHash) -> bool {
    stored.len() == given.len()
        && stored
            .iter()
            .zip(given.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_hash_stably() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
        // The hash is SHA-256 of the token text.
        assert_eq!(
            hash_token("abc")[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "SHA-256(\"abc\") starts ba7816bf"
        );
    }

    #[test]
    fn codes_are_forgiving_to_type() {
        let code = new_enrolment_code().unwrap();
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(hash_enrolment_code(&typed), hash_enrolment_code(&code));
        assert_ne!(
            hash_enrolment_code("AAAA-AAAA-AAAA-AAAB"),
            hash_enrolment_code("AAAA-AAAA-AAAA-AAAA")
        );
    }

    #[test]
    fn hash_comparison() {
        let h = hash_token("x");
        assert!(same_hash(&h, &h));
        assert!(!same_hash(&h[..31], &h));
        assert!(!same_hash(&hash_token("y"), &h));
    }
}
