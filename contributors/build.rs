//! Build settings that travel with the crate, wherever it is built (`make
//! build`, the Dockerfiles, a plain `cargo build --target …-musl`):
//!
//! 1. The target triple the binary is built for, so `--version` and
//!    `doctor` can say whether this is the static musl build or another one.
//! 2. For the static musl binary (the one the images ship), two link
//!    options that make the file smaller without changing what it does
//!    (`bench/sizes-options.sh` measures what each saves):
//!    - `-z pack-relative-relocs`: a static-pie binary relocates itself at
//!      start (that is what lets the kernel load it at a random address).
//!      Its list of pointers to fix up shrinks from 24 bytes per pointer
//!      (`.rela.dyn`) to a bitmap (`.relr.dyn`). musl has read this format
//!      since 1.2.4; Rust's musl targets ship a newer one.
//!    - `no-unwind-tables.ld`: leaves out the unwind tables (`.eh_frame`).
//!      The release profile (`Cargo.toml`) says `panic = "abort"`, so
//!      nothing ever unwinds; the tables would only feed a backtrace, and a
//!      stripped binary has no names to print in one. A panic still prints
//!      its message and where it happened.
//!
//! Who reads those options decides how they are spelled: a C compiler
//! driver (`cc`, `gcc`: the Dockerfiles, a plain `cargo build`) passes them on
//! behind `-Wl,`; `rust-lld`, the linker of `make build` (`ci/zig.sh`: zig's
//! own linker driver refuses `-z pack-relative-relocs`), takes them as they
//! are. Cargo tells the configured linker in `RUSTC_LINKER`.

use std::env;
use std::path::Path;

fn main() {
    let target = env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=BUILD_TARGET={target}");

    let musl = env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|e| e == "musl");
    // Only the release profile aborts on panic: a debug build keeps its
    // tables. (Build scripts are not told the profile's panic setting.)
    let release = env::var("PROFILE").is_ok_and(|p| p == "release");
    if musl && release {
        let dir = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo:rerun-if-changed=no-unwind-tables.ld");
        println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
        let lld = env::var("RUSTC_LINKER").is_ok_and(|l| is_lld(&l));
        let script = format!("{dir}/no-unwind-tables.ld");
        for words in [
            &["-z", "pack-relative-relocs"][..],
            &["--no-eh-frame-hdr"],
            &["-T", &script],
        ] {
            if lld {
                for word in words {
                    println!("cargo:rustc-link-arg-bins={word}");
                }
            } else {
                println!("cargo:rustc-link-arg-bins=-Wl,{}", words.join(","));
            }
        }
    }
}

/// Is LINKER an LLD called directly (rustc then passes the arguments as
/// they are), not a C compiler driver?
fn is_lld(linker: &str) -> bool {
    Path::new(linker)
        .file_name()
        .is_some_and(|name| name == "rust-lld" || name == "ld.lld")
}
