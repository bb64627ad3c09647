#!/usr/bin/env bash
# ci/elf.sh BINARY — what a Linux executable is, read from its ELF headers
# with `od` alone (POSIX; busybox and macOS have it), so that the build's
# checks need neither `file` nor a Linux host. Prints one line:
#   ARCH LINK      ARCH: amd64 or arm64 (Docker's names); LINK: static or dynamic
# and exits 0; exits 1, saying why, for anything else (not ELF, not 64-bit
# little-endian, another machine).
#
# "static" means no PT_INTERP program header: the kernel runs the file
# without asking a dynamic loader (/lib/ld-*.so, absent from a scratch
# image) to map it. A static-pie binary (position-independent, for address
# randomisation) has a PT_DYNAMIC header for its own relocations but no
# PT_INTERP: static too. Both targets are little-endian, as every machine
# that builds them is, so od's native byte order reads them right.
set -eu
bin=${1:?usage: ci/elf.sh BINARY}
die() { echo "elf: $bin: $*" >&2; exit 1; }
[ -f "$bin" ] || die "no such file"
# num OFFSET SIZE: the unsigned integer of SIZE bytes at OFFSET.
num() { od -A n -t "u$2" -j "$1" -N "$2" "$bin" | tr -d ' \n'; }

[ "$(od -A n -t x1 -N 4 "$bin" | tr -d ' \n')" = 7f454c46 ] || die "not an ELF file"
[ "$(num 4 1)" = 2 ] || die "not a 64-bit ELF file"
[ "$(num 5 1)" = 1 ] || die "not little-endian"
case $(num 18 2) in   # e_machine
  62) arch=amd64 ;;
  183) arch=arm64 ;;
  *) die "machine $(num 18 2) is neither x86-64 (62) nor aarch64 (183)" ;;
esac
phoff=$(num 32 8) phentsize=$(num 54 2) phnum=$(num 56 2)
link=static
i=0
while [ "$i" -lt "$phnum" ]; do
  [ "$(num $((phoff + i * phentsize)) 4)" = 3 ] && link=dynamic   # PT_INTERP
  i=$((i + 1))
done
echo "$arch $link"
