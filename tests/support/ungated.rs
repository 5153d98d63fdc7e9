//! The products fixture without its qualification gate, for tests about production work
//! (leases, answers, exports): the demo's products project makes workers pass its exam
//! first, which tests/training_client.rs and the demo test in tests/e2e_tmux.rs cover.

use std::path::{Path, PathBuf};

/// A copy of `fixtures/projects/products.toml` that does not require qualification,
/// written once per test binary under the target's temporary folder.
pub fn products() -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/projects/products.toml");
    let text = std::fs::read_to_string(&fixture).expect("read the products fixture");
    let ungated = text.replace(
        "requires_qualification = true",
        "requires_qualification = false",
    );
    assert_ne!(text, ungated, "the products fixture requires qualification");
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ungated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder for the ungated fixture");
    let path = dir.join("products.toml");
    // Written beside and renamed: tests of one binary running at once never read half.
    let part = dir.join(format!("products.toml.{:?}", std::thread::current().id()));
    std::fs::write(&part, ungated).expect("write the ungated fixture");
    std::fs::rename(&part, &path).expect("put the ungated fixture in place");
    path
}
