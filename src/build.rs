//! Places the code a worker's client runs at start together at the front of the `kazi`
//! binary (src/hot-code.ld, made by `.ci/hot-code`). Without it those functions lie all
//! over the 18 MB of code, and the kernel maps 64 KB of the file for each one first
//! called: 9 MB resident for the 2.2 MB that runs.
//!
//! Only where the linker is known to take a script that adds to its default layout
//! (LLD, which Rust uses on x86_64 Linux, or GNU ld): with a linker chosen through
//! RUSTFLAGS or a `CARGO_TARGET_*_LINKER` setting, or `KAZI_PLAIN_LAYOUT=1`, the binary
//! is linked as it would be without this script.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=src/hot-code.ld");
    println!("cargo:rerun-if-env-changed=KAZI_PLAIN_LAYOUT");
    let var = |name: &str| env::var(name).unwrap_or_default();
    let target = var("TARGET");
    let linker_var = format!(
        "CARGO_TARGET_{}_LINKER",
        target.to_uppercase().replace(['-', '.'], "_")
    );
    println!("cargo:rerun-if-env-changed={linker_var}");
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    let own_linker = env::var_os(&linker_var).is_some()
        || ["linker", "fuse-ld"].iter().any(|f| flags.contains(f));
    let linux_gnu = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    if !linux_gnu || own_linker || var("KAZI_PLAIN_LAYOUT") == "1" {
        return;
    }
    let script = Path::new(&var("CARGO_MANIFEST_DIR")).join("src/hot-code.ld");
    if script.exists() {
        println!("cargo:rustc-link-arg-bin=kazi=-Wl,-T,{}", script.display());
    }
}
