//! Per-project pseudonyms: how reviewers' screens and exports name a worker. Stable
//! (the same worker is the same name in a project, every time) and different in every
//! project, so lists from two projects cannot be joined on it; never the user's name.

use sha2::{Digest, Sha256};

/// `w-` and six hex digits of a hash of the project and the user's id.
pub fn pseudonym(project: &str, user_id: i64) -> String {
    let mut hash = Sha256::new();
    hash.update(b"kazi pseudonym\0");
    hash.update(project.as_bytes());
    hash.update([0]);
    hash.update(user_id.to_le_bytes());
    let digest = hash.finalize();
    let hex: String = digest[..3].iter().map(|b| format!("{b:02x}")).collect();
    format!("w-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_keeps_one_name_per_project_and_another_elsewhere() {
        assert_eq!(pseudonym("shop", 7), pseudonym("shop", 7));
        assert_ne!(pseudonym("shop", 7), pseudonym("shop", 8));
        assert_ne!(pseudonym("shop", 7), pseudonym("receipts", 7));
        assert!(pseudonym("shop", 7).starts_with("w-"));
        assert_eq!(pseudonym("shop", 7).len(), 8);
    }
}
