#!/usr/bin/env bash
# ci/zig.sh COMMAND [ARGS...] — runs COMMAND (in the current directory) with
# the musl targets' C toolchain set up, for both architectures, on Linux or
# macOS, with nothing from apt:
#   - cargo-zigbuild and zig itself (PyPI's ziglang package: the released
#     zig, wrapped), at the versions pinned here and nowhere else, in the
#     project's venv (ci/venv.sh), first on PATH. `cargo zigbuild` finds zig
#     there (`python3 -m ziglang`) and makes `zig cc -target ARCH-linux-musl`
#     the C compiler of ring's C and assembly.
#   - rust-lld, which every rustup toolchain ships, as the linker (cargo
#     zigbuild keeps a linker that is already set). zig's own linker driver
#     refuses `-z pack-relative-relocs` (contributors/build.rs), and without
#     packed relocations the amd64 binary grows by about 100 KB; rustc links
#     the musl targets with their own self-contained C runtime either way.
# Used by ci/build.sh (the shipped binaries) and bench/sizes-options.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$(cd "$root" && bash ci/venv.sh cargo-zigbuild==0.24.1 ziglang==0.17.1)
case $venv in /*) ;; *) venv=$root/$venv ;; esac
export PATH=$venv/bin:$PATH
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld
exec "$@"
