#!/usr/bin/env bash
# ci/base-images.sh — make sure the base images our Dockerfiles start FROM exist
# in the local Docker engine.
#
# For each base image:
#   1. already in the engine (`docker image inspect`)   -> nothing to do;
#   2. else `docker pull` it (short timeout)              -> the real image;
#   3. else build an honest local stand-in from Debian's own packages and
#      `docker import` it under the same name:
#        debian:bookworm-slim  <- debootstrap --variant=minbase bookworm, trimmed
#                                 the way the official "slim" image is trimmed;
#        busybox:<pinned tag>  <- Debian's busybox-static binary + applet links,
#                                 /etc/passwd and /etc/group with root and nobody.
#
# Step 3 exists for machines whose Docker engine cannot reach any registry (an
# offline CI box, an air-gapped lab). With registry access it never runs, and
# the Dockerfiles are exactly what you would build anywhere else.
# Stand-ins carry the label io.contributors.base.stand-in=<what was used>, which
# also shows up in `docker image inspect` of the images built on top of them.
#
# Idempotent: a second run finds both images and returns at once. The Debian
# stand-in takes a few minutes (debootstrap downloads ~100 packages); once.
#
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian),
#      PULL_TIMEOUT seconds (default 60), BASE_IMAGES (default: both, by name).
set -euo pipefail

DEBIAN_IMAGE=debian:bookworm-slim
# Keep in sync with the FROM line of docker/busybox/Dockerfile (checked below).
BUSYBOX_IMAGE=busybox:1.36.1
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PULL_TIMEOUT=${PULL_TIMEOUT:-60}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$HERE")

say() { printf 'base-images: %s\n' "$*"; }
die() { printf 'base-images: ERROR: %s\n' "$*" >&2; exit 1; }

# The Dockerfiles are the source of truth for the tags; fail loudly on drift.
for pair in "debian:$DEBIAN_IMAGE" "busybox:$BUSYBOX_IMAGE"; do
  dir=${pair%%:*} img=${pair#*:}
  grep -qx "FROM $img" "$ROOT_DIR/docker/$dir/Dockerfile" ||
    die "docker/$dir/Dockerfile does not say 'FROM $img'; update BUSYBOX_IMAGE/DEBIAN_IMAGE here"
done

docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "no Docker engine answers (is dockerd running, may this user use it?)"

# ensure_cmd CMD PACKAGE: install a Debian package if CMD is missing (root only).
ensure_cmd() { bash "$HERE/ensure-packages.sh" "$1:$2"; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

try_pull() {
  say "$1: not in the engine; trying docker pull (timeout ${PULL_TIMEOUT}s)"
  if timeout "$PULL_TIMEOUT" docker pull -q "$1" >/dev/null 2>&1; then
    say "$1: pulled from the registry"
    return 0
  fi
  say "$1: pull failed (no registry reachable); building a local stand-in"
  return 1
}

WORK=""
cleanup() { if [ -n "$WORK" ] && [ -d "$WORK" ]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

build_debian() {
  [ "$(id -u)" = 0 ] || die "building the $DEBIAN_IMAGE stand-in needs root (debootstrap)"
  ensure_cmd debootstrap debootstrap
  WORK=$(mktemp -d /var/tmp/base-debian.XXXXXX)
  local root=$WORK/rootfs t0=$SECONDS
  say "$DEBIAN_IMAGE: debootstrap --variant=minbase bookworm from $DEBIAN_MIRROR (a few minutes)"
  debootstrap --variant=minbase --arch=amd64 bookworm "$root" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }

  # Sources like the official image: main + updates + security, deb822 format.
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $DEBIAN_MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC

  # Slim trimming, as the official images do it (debuerreotype-slimify): tell
  # dpkg never to install docs/man/info/locales, so later apt-get installs in
  # derived images stay slim too, then delete what is already there.
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
# Drop files a container never reads (as in the official debian:*-slim images).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
CFG
  # apt settings the official image ships: no caches of .debs, no translations,
  # no "suggests" kept by autoremove.
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"

  # Bring in the security and point-release updates the official image has.
  # (No services may start inside the chroot while we do it.)
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  if chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y -qq upgrade' >"$WORK/upgrade.log" 2>&1; then
    say "$DEBIAN_IMAGE: applied bookworm-updates and bookworm-security"
  else
    say "$DEBIAN_IMAGE: WARNING: upgrade inside the chroot failed; the stand-in is plain bookworm (see below)"
    tail -n 5 "$WORK/upgrade.log" | sed 's/^/    /'
  fi
  rm -f "$root/usr/sbin/policy-rc.d"

  # Delete what the trimming rules above exclude, keeping copyright files.
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{groff,info,linda,man,locale}/* "$root"/usr/share/lintian/overrides/*
  # Caches, package lists and logs: regenerated by apt-get update, useless in a layer.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
         "$root"/var/lib/dpkg/*-old "$root"/var/cache/ldconfig/aux-cache "$root"/debootstrap
  find "$root/var/log" -type f -delete
  # Host-specific files: Docker bind-mounts its own at run time.
  : >"$root/etc/resolv.conf"; : >"$root/etc/hostname"; : >"$root/etc/machine-id" 2>/dev/null || true

  tar --numeric-owner -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL io.contributors.base.stand-in=\"debootstrap --variant=minbase bookworm, slimmed, by ci/base-images.sh\"" \
    --message "local stand-in for $DEBIAN_IMAGE (ci/base-images.sh)" \
    - "$DEBIAN_IMAGE" >/dev/null
  say "$DEBIAN_IMAGE: imported stand-in ($(du -sh --apparent-size "$root" | cut -f1) root fs) in $((SECONDS - t0))s"
  rm -rf "$WORK"; WORK=""
}

build_busybox() {
  ensure_cmd busybox busybox-static
  ensure_cmd file file
  local bb; bb=$(command -v busybox)
  # Debian's busybox-static package's binary is statically linked: it runs on
  # an empty root. A dynamic busybox (package "busybox") would not.
  if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
    die "$bb is not statically linked; install Debian's busybox-static (apt-get install -y busybox-static)"
  fi
  local version; version=$("$bb" 2>&1 | head -n1 | sed -n 's/^BusyBox v\([^ ]*\).*/\1/p')
  WORK=$(mktemp -d /var/tmp/base-busybox.XXXXXX)
  local root=$WORK/rootfs
  mkdir -p "$root"/{bin,dev,etc,home,proc,root,sys,tmp,usr/bin,usr/sbin,var/spool/mail,var/www}
  chmod 1777 "$root/tmp"; chmod 700 "$root/root"
  install -m 0755 "$bb" "$root/bin/busybox"
  # One symlink per applet, all in /bin as in the official image.
  local applet n=0
  for applet in $("$bb" --list); do
    [ "$applet" = busybox ] && continue
    ln -sf busybox "$root/bin/$applet"; n=$((n + 1))
  done
  # Users and groups like the official image (root and nobody are what matter:
  # our containers run as 65534:65534 = nobody:nobody).
  cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
PW
  cat >"$root/etc/group" <<'GR'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:12:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65533:
nobody:x:65534:
GR
  printf 'root:*::0:::::\nnobody:*::0:::::\n' >"$root/etc/shadow"; chmod 640 "$root/etc/shadow"
  chmod 644 "$root/etc/passwd" "$root/etc/group"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["sh"]' \
    --change "LABEL io.contributors.base.stand-in=\"Debian busybox-static ${version:-unknown} + $n applet links, by ci/base-images.sh\"" \
    --message "local stand-in for $BUSYBOX_IMAGE (ci/base-images.sh)" \
    - "$BUSYBOX_IMAGE" >/dev/null
  say "$BUSYBOX_IMAGE: imported stand-in (Debian busybox-static ${version:-?}, $n applets)"
  rm -rf "$WORK"; WORK=""
}

ensure() {
  local img=$1 builder=$2
  if have_image "$img"; then
    local note; note=$(docker image inspect -f '{{index .Config.Labels "io.contributors.base.stand-in"}}' "$img" 2>/dev/null || true)
    [ "$note" = "<no value>" ] && note=""
    say "$img: present${note:+ (local stand-in: $note)}"
    return 0
  fi
  try_pull "$img" && return 0
  "$builder"
}

for which in ${BASE_IMAGES:-debian busybox}; do
  case $which in
    debian) ensure "$DEBIAN_IMAGE" build_debian ;;
    busybox) ensure "$BUSYBOX_IMAGE" build_busybox ;;
    *) die "unknown base image '$which' (debian|busybox)" ;;
  esac
done
