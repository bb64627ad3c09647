#!/usr/bin/env bash
# ci/qemu.sh [ARCH] — let this machine run programs of another architecture
# (default arm64, on an amd64 machine): the arm64 binary's chroot check,
# `docker run --platform linux/arm64`, the arm64 stand-in bases. Quick when
# all is ready; nothing to do when ARCH is this machine's own.
#
# The kernel's binfmt_misc hands each foreign ELF file to an emulator;
# Debian's qemu-user-static registers qemu-aarch64 (and qemu-x86_64) there
# with the "F" flag (the kernel opens the emulator once, at registration), so
# it works inside containers and chroots too, where its path does not exist.
#
# Exit 0: ARCH programs run here. Exit 3: they cannot, and the message says
# why (no root to mount binfmt_misc or register, a kernel without it);
# callers skip their ARCH checks with that message.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
arch=${1:-arm64}
say() { printf 'qemu: %s\n' "$*"; }
cannot() { say "CANNOT run $arch programs here: $*"; exit 3; }

case $arch in
  arm64) machine=aarch64 ;;
  amd64) machine=x86_64 ;;
  *) echo "usage: ci/qemu.sh [arm64|amd64]" >&2; exit 2 ;;
esac
[ "$(uname -m)" = "$machine" ] && exit 0
entry=/proc/sys/fs/binfmt_misc/qemu-$machine
registered() { [ -f "$entry" ] && grep -qx enabled "$entry"; }
registered && exit 0

[ "$(id -u)" = 0 ] || cannot "registering qemu-$machine in binfmt_misc needs root"
grep -qw binfmt_misc /proc/filesystems || cannot "this kernel has no binfmt_misc"
bash ci/ensure-packages.sh "qemu-$machine-static:qemu-user-static" update-binfmts:binfmt-support
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null ||
    cannot "mount -t binfmt_misc failed (a container without that privilege?)"
fi
update-binfmts --enable "qemu-$machine" >/dev/null 2>&1 || true
registered || cannot "update-binfmts --enable qemu-$machine did not register it"
say "qemu-$machine registered in binfmt_misc (flags: $(sed -n 's/^flags: //p' "$entry"))"
