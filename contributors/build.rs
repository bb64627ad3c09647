//! Records the target triple the binary is built for, so `--version` and
//! `doctor` can say whether this is the static musl build or another one.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=BUILD_TARGET={target}");
}
