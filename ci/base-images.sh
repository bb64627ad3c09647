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
# The other architecture (BASE_ARCH=arm64 on an amd64 machine): an engine
# that pulls fetches the right variant itself when `docker build --platform`
# asks for it, so there is nothing to do. An engine that cannot pull keeps
# one image per tag, so the stand-ins of the other architecture get their
# own tag, NAME-ARCH (debian:bookworm-slim-arm64, busybox:1.36.1-arm64),
# imported with --platform, and ci/image.sh builds FROM that tag. They are
# made from arm64 packages: the busybox-static package of arm64, and
# debootstrap's first stage only (`--foreign`: the same packages fetched
# and unpacked, in under a minute). Its second stage would run every
# package's install script under qemu, ten minutes for what a container
# that runs one static binary never reads; the one thing those scripts
# make that it does, /etc/passwd and /etc/group, is copied from
# base-passwd's master files, as that package's own script does. Nor is
# the upgrade below applied (apt would run under qemu too). The label
# says which way a stand-in was made.
#
# Env: DEBIAN_MIRROR (default http://deb.debian.org/debian),
#      PULL_TIMEOUT seconds (default 60), BASE_IMAGES (default: both, by name),
#      BASE_ARCH (amd64 or arm64; default this machine's).
set -euo pipefail

DEBIAN_IMAGE=debian:bookworm-slim
# Keep in sync with the FROM line of docker/busybox/Dockerfile (checked below).
BUSYBOX_IMAGE=busybox:1.36.1
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PULL_TIMEOUT=${PULL_TIMEOUT:-60}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$HERE")
HOST_ARCH=$(dpkg --print-architecture 2>/dev/null || uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
BASE_ARCH=${BASE_ARCH:-$HOST_ARCH}

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

# One run at a time per machine, as the engine is one: .ci/run starts one in
# the background while the first suites compile, and `make images` waits
# for it here rather than building the same stand-in beside it. (No flock,
# as on a Mac: no lock, and no .ci/run either.)
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/contributors-base-images.lock"
  flock -w 1800 9 || die "another ci/base-images.sh has held its lock for 30 minutes"
fi

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

# build_debian TAG: the stand-in of debian:bookworm-slim for $BASE_ARCH, as TAG.
build_debian() {
  local tag=$1
  [ "$(id -u)" = 0 ] || die "building the $tag stand-in needs root (debootstrap)"
  ensure_cmd debootstrap debootstrap
  WORK=$(mktemp -d /var/tmp/base-debian.XXXXXX)
  local root=$WORK/rootfs t0=$SECONDS how=(--variant=minbase --arch="$BASE_ARCH")
  # Another architecture: unpacked, not configured (see the top).
  local native=true
  [ "$BASE_ARCH" = "$HOST_ARCH" ] || { native=false; how=(--foreign "${how[@]}"); }
  say "$tag: debootstrap ${how[*]} bookworm from $DEBIAN_MIRROR (minutes)"
  debootstrap "${how[@]}" bookworm "$root" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  if ! $native; then
    cp "$root/usr/share/base-passwd/passwd.master" "$root/etc/passwd"
    cp "$root/usr/share/base-passwd/group.master" "$root/etc/group"
  fi

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
  if ! $native; then
    say "$tag: not upgraded (the first stage's packages are plain bookworm)"
  elif chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y -qq upgrade' >"$WORK/upgrade.log" 2>&1; then
    say "$tag: applied bookworm-updates and bookworm-security"
  else
    say "$tag: WARNING: upgrade inside the chroot failed; the stand-in is plain bookworm (see below)"
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

  tar --numeric-owner -C "$root" -c . | docker import --platform "linux/$BASE_ARCH" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL io.contributors.base.stand-in=\"debootstrap ${how[*]} bookworm$($native || echo ' (unpacked, not configured)'), slimmed, by ci/base-images.sh\"" \
    --message "local stand-in for $DEBIAN_IMAGE, linux/$BASE_ARCH (ci/base-images.sh)" \
    - "$tag" >/dev/null
  mark_arch "$tag"
  say "$tag: imported stand-in ($(du -sh --apparent-size "$root" | cut -f1) root fs) in $((SECONDS - t0))s"
  rm -rf "$WORK"; WORK=""
}

# busybox_of_arch: the path of Debian's busybox-static binary for $BASE_ARCH:
# this machine's, or one unpacked from the package of that architecture
# (fetched with apt into a private state dir, signatures checked as usual).
busybox_of_arch() {
  if [ "$BASE_ARCH" = "$HOST_ARCH" ]; then
    ensure_cmd busybox busybox-static >&2
    command -v busybox
    return
  fi
  local apt=$WORK/apt
  mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial"
  : >"$apt/state/status"
  echo "deb $DEBIAN_MIRROR bookworm main" >"$apt/sources.list"
  local opts=(-q -o "Dir::State=$apt/state" -o "Dir::State::status=$apt/state/status"
              -o "Dir::Cache=$apt/cache" -o "Dir::Etc::SourceList=$apt/sources.list"
              -o Dir::Etc::SourceParts=- -o "APT::Architecture=$BASE_ARCH"
              -o "APT::Architectures=$BASE_ARCH" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update >"$apt/log" 2>&1 || { cat "$apt/log" >&2; die "apt-get update ($BASE_ARCH) failed"; }
  (cd "$apt" && apt-get "${opts[@]}" download busybox-static >>"$apt/log" 2>&1) ||
    { cat "$apt/log" >&2; die "apt-get download busybox-static ($BASE_ARCH) failed"; }
  dpkg-deb -x "$apt"/busybox-static_*.deb "$apt/pkg"
  echo "$apt/pkg/bin/busybox"
}

# build_busybox TAG: the stand-in of busybox for $BASE_ARCH, as TAG.
build_busybox() {
  local tag=$1
  ensure_cmd file file
  [ "$BASE_ARCH" = "$HOST_ARCH" ] || bash "$HERE/qemu.sh" "$BASE_ARCH" || die "cannot run $BASE_ARCH programs here"
  WORK=$(mktemp -d /var/tmp/base-busybox.XXXXXX)
  local bb; bb=$(busybox_of_arch)
  # Debian's busybox-static package's binary is statically linked: it runs on
  # an empty root. A dynamic busybox (package "busybox") would not.
  if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked'; then
    die "$bb is not statically linked; install Debian's busybox-static (apt-get install -y busybox-static)"
  fi
  local version; version=$("$bb" 2>&1 | sed -n '1s/^BusyBox v\([^ ]*\).*/\1/p')
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
  tar --numeric-owner --owner=0 --group=0 -C "$root" -c . | docker import --platform "linux/$BASE_ARCH" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["sh"]' \
    --change "LABEL io.contributors.base.stand-in=\"Debian busybox-static ${version:-unknown} ($BASE_ARCH) + $n applet links, by ci/base-images.sh\"" \
    --message "local stand-in for $BUSYBOX_IMAGE, linux/$BASE_ARCH (ci/base-images.sh)" \
    - "$tag" >/dev/null
  mark_arch "$tag"
  say "$tag: imported stand-in (Debian busybox-static ${version:-?}, $n applets)"
  rm -rf "$WORK"; WORK=""
}

# mark_arch TAG: docker import records the engine's architecture, whatever
# --platform says; an image of another architecture gets its own.
mark_arch() { [ "$BASE_ARCH" = "$HOST_ARCH" ] || python3 "$HERE/image-config.py" "$1" --arch "$BASE_ARCH"; }

is_stand_in() {
  local note
  note=$(docker image inspect -f '{{index .Config.Labels "io.contributors.base.stand-in"}}' "$1" 2>/dev/null || true)
  [ -n "$note" ] && [ "$note" != "<no value>" ]
}

ensure() {
  local img=$1 builder=$2
  if [ "$BASE_ARCH" != "$HOST_ARCH" ]; then
    # Present and real (pulled): `docker build --platform` pulls the other
    # architecture's variant itself. A stand-in: this engine cannot pull, so
    # the other architecture needs its own stand-in, under NAME-ARCH.
    BASE_ARCH=$HOST_ARCH ensure "$img" "$builder"
    is_stand_in "$img" || return 0
    img=$img-$BASE_ARCH
  fi
  if have_image "$img"; then
    local note; note=$(docker image inspect -f '{{index .Config.Labels "io.contributors.base.stand-in"}}' "$img" 2>/dev/null || true)
    [ "$note" = "<no value>" ] && note=""
    say "$img: present${note:+ (local stand-in: $note)}"
    return 0
  fi
  [ "$BASE_ARCH" != "$HOST_ARCH" ] || ! try_pull "$img" || return 0
  "$builder" "$img"
}

for which in ${BASE_IMAGES:-debian busybox}; do
  case $which in
    debian) ensure "$DEBIAN_IMAGE" build_debian ;;
    busybox) ensure "$BUSYBOX_IMAGE" build_busybox ;;
    *) die "unknown base image '$which' (debian|busybox)" ;;
  esac
done
