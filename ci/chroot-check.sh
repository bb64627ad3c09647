#!/usr/bin/env bash
# ci/chroot-check.sh BINARY — does BINARY run, and serve, with nothing around it?
#
# Copies BINARY alone into an empty temp dir and runs it there with chroot:
# the same world as a FROM scratch image (no /lib, no /etc, no shell), without
# needing Docker. It checks `--version`, then starts the server on a free
# loopback port and asks it `healthcheck` (the binary's own HTTP client, also
# run inside the chroot), then stops it with SIGTERM. About a second.
# Needs root (chroot), or unprivileged user namespaces (`unshare -r`);
# otherwise it says so and skips (exit 0). A binary of the other
# architecture (arm64 on amd64) runs under qemu (ci/qemu.sh), slower but the
# same checks; where qemu cannot be registered, it says so and skips.
set -euo pipefail
# shellcheck source=ci/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bin=${1:?usage: ci/chroot-check.sh BINARY}
say() { printf 'chroot-check: %s\n' "$*"; }

arch=$(bash "$(dirname "${BASH_SOURCE[0]}")/elf.sh" "$bin") || arch=""
arch=${arch%% *}   # amd64 or arm64 (ci/elf.sh)
if [ -n "$arch" ] && ! qemu=$(bash "$(dirname "${BASH_SOURCE[0]}")/qemu.sh" "$arch"); then
  say "SKIPPED: $qemu"; exit 0
fi

# Absolute paths: `env -i` below empties PATH, and chroot lives in /usr/sbin.
chroot_bin=$(PATH=$PATH:/usr/sbin:/sbin command -v chroot || true)
if [ -z "$chroot_bin" ]; then
  say "SKIPPED: no chroot command"; exit 0
elif [ "$(id -u)" = 0 ]; then
  jail=("$chroot_bin")
elif command -v unshare >/dev/null 2>&1 && unshare -r true 2>/dev/null; then
  jail=("$(command -v unshare)" -r "$chroot_bin")
else
  say "SKIPPED: needs root or unprivileged user namespaces for chroot"
  exit 0
fi

root=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$root"
}
trap cleanup EXIT
cp "$bin" "$root/contributors" && chmod 0555 "$root/contributors"

out=$(env -i "${jail[@]}" "$root" /contributors --version 2>&1) ||
  { say "FAILED: /contributors --version in an empty root: $out"; exit 1; }
say "runs in an empty root: $out"

port=$(free_port) || { say "FAILED: no free port found"; exit 1; }

env -i PORT="$port" "${jail[@]}" "$root" /contributors serve >"$root.log" 2>&1 &
pid=$!
healthy() {
  env -i PORT="$port" "${jail[@]}" "$root" /contributors healthcheck >/dev/null 2>&1
}
if ! retry 150 0.1 healthy; then   # up to ~15 s (under qemu: slower)
  say "FAILED: the server in an empty root did not pass 'healthcheck' on 127.0.0.1:$port; its output:"
  sed 's/^/    /' "$root.log" || true
  rm -f "$root.log"
  exit 1
fi
kill -TERM "$pid"
rc=0
gone() { ! kill -0 "$pid" 2>/dev/null; }
if ! retry 50 0.1 gone; then
  say "FAILED: still running 5 s after SIGTERM"; rm -f "$root.log"; exit 1
fi
wait "$pid" || rc=$?
pid=""
rm -f "$root.log"
[ "$rc" = 0 ] || { say "FAILED: exit code $rc after SIGTERM (want 0)"; exit 1; }
say "serves from an empty root: healthcheck on 127.0.0.1:$port passed; SIGTERM -> exit 0"
