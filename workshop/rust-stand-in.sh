#!/usr/bin/env bash
# workshop/rust-stand-in.sh IMAGE — make sure the rust image of workshop
# step 1 (e.g. rust:1.95-slim-bookworm) is there: present, else pulled.
#
# Fallback, for an engine that cannot pull (an offline workshop machine, a
# locked-down CI): build a LOCAL STAND-IN under the same tag from this
# machine's Rust toolchain, laid out as the official image lays it out
# (rustup in /usr/local/cargo/bin, toolchains in /usr/local/rustup, gcc).
# So workshop/Dockerfile stays the one a user writes. The stand-in carries
# the label io.contributors.base.stand-in, and needs rustup here, with the
# toolchain version the tag names. It also trusts what this machine trusts
# (its CA bundle, for cargo's downloads): a machine that cannot pull often
# reaches crates.io only through a TLS-inspecting proxy with its own CA.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
image=${1:?usage: workshop/rust-stand-in.sh rust:VERSION-slim-bookworm}
say() { printf 'rust-stand-in: %s\n' "$*"; }

docker image inspect "$image" >/dev/null 2>&1 && exit 0
say "pulling $image"
timeout 600 docker pull -q "$image" >/dev/null 2>&1 && exit 0
say "cannot pull $image: building a local stand-in from this machine's toolchain"

want=${image#rust:}
want=${want%%-*}                                 # 1.95
have=$(rustc --version | awk '{print $2}')       # 1.95.0
case "$have" in "$want" | "$want".*) ;; *) say "ERROR: $image wants Rust $want, this machine has $have" >&2; exit 1 ;; esac
command -v rustup >/dev/null 2>&1 || { say "ERROR: needs rustup on this machine" >&2; exit 1; }
toolchain=$(rustup show active-toolchain | awk '{print $1}')
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}

BASE_IMAGES=debian bash ci/base-images.sh
ctx=target/workshop/rust-stand-in
rm -rf "$ctx"
mkdir -p "$ctx/cargo/bin" "$ctx/rustup/toolchains"
# Hard links where possible: same bytes, no copy. The docs (share/) stay out.
cp -al "$rustup_home/toolchains/$toolchain" "$ctx/rustup/toolchains/" 2>/dev/null ||
  cp -a "$rustup_home/toolchains/$toolchain" "$ctx/rustup/toolchains/"
rm -rf "$ctx/rustup/toolchains/$toolchain/share"
printf 'version = "12"\ndefault_toolchain = "%s"\nprofile = "minimal"\n' "$toolchain" >"$ctx/rustup/settings.toml"
install -m 0755 "$(command -v rustup)" "$ctx/cargo/bin/rustup"
for proxy in cargo rustc rustdoc; do ln -s rustup "$ctx/cargo/bin/$proxy"; done
cp "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/host-ca-certificates.crt"

docker build -q -t "$image" -f - "$ctx" >/dev/null <<DOCKERFILE
FROM debian:bookworm-slim
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev && \
    rm -rf /var/lib/apt/lists/*
COPY rustup/ /usr/local/rustup/
COPY cargo/ /usr/local/cargo/
COPY host-ca-certificates.crt /usr/local/share/host-ca-certificates.crt
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:\$PATH \
    CARGO_HTTP_CAINFO=/usr/local/share/host-ca-certificates.crt
LABEL io.contributors.base.stand-in="built by workshop/rust-stand-in.sh from $toolchain ($have) on debian:bookworm-slim"
DOCKERFILE
say "built $image (local stand-in, $(docker image inspect -f '{{.Size}}' "$image") bytes)"
