#!/usr/bin/env bash
# rename/rename.sh NAME — make a fork of this template your own app: rename the
# crate, the binary, the image and the image labels from "contributors" to NAME.
#
#   rename/rename.sh myapp            (or: make rename NAME=myapp)
#
# The catch: "contributors" is two things in this repository. It is the
# app's name (crate, binary, image) and it is also the app's subject: GitHub's
# API path /repos/{owner}/{repo}/contributors, ContributorLists, the page's
# text, fake-github's fixtures (kelseyhightower/contributors), the
# CONTRIBUTORS_* environment variables. A blanket search-and-replace would
# break the second kind. So every rename below is a precise pattern, listed
# with a comment saying what it matches; whatever matches none of them stays.
#
# What it does, in order:
#   1. checks NAME: ^[a-z][a-z0-9-]{0,38}$, not ending in '-', a usable Rust
#      crate name, and not already taken (a top-level file or directory, a
#      package in Cargo.lock, the old name);
#   2. moves the crate directory contributors/ to NAME/ (git mv in a git tree);
#   3. applies the patterns to every text file of the project (git ls-files,
#      tracked and new; or every file outside target/ dist/ .git/ without
#      git), except this script and rename/rename-test.sh, which are about the
#      template's own name (delete them after renaming);
#   4. lets cargo re-sort Cargo.lock for the renamed package (cargo metadata,
#      offline first); fuzz/Cargo.lock gets the same text edits;
#   5. prints each changed file with a count per pattern, then how many lines
#      still say "contributors" on purpose.
#
# Env: SOURCE_URL   the fork's repository URL for the org.opencontainers.image.source
#                   label and Cargo.toml's `repository` (default: the git remote
#                   "origin" when it is a GitHub URL, else a guess it warns about);
#      DESCRIPTION  replaces "Lists a GitHub repository's contributors" in the
#                   org.opencontainers.image.description labels (default: NAME).
# Run it once, from a clean tree, and read `git diff` afterwards.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OLD=contributors
OLD_SOURCE=https://github.com/contributors-rs/contributors
NAME=${1:-}
die() { printf 'rename: ERROR: %s\n' "$*" >&2; exit 1; }
say() { printf 'rename: %s\n' "$*"; }

# ---- 1. check NAME
[ $# -eq 1 ] || die "usage: rename/rename.sh NAME   (e.g. rename/rename.sh myapp)"
[[ $NAME =~ ^[a-z][a-z0-9-]{0,38}$ ]] ||
  die "'$NAME' is not a valid name: lower-case letters, digits and '-', starting with a letter, at most 39 characters"
[[ $NAME == *- ]] && die "'$NAME' ends with '-': image names cannot"
[ "$NAME" != "$OLD" ] || die "'$NAME' is the current name"
NAME_RS=${NAME//-/_}   # the crate's name in Rust code: `use my_app::...`
# Rust keywords and the built-in crates: `use NAME::...` must compile.
RUST_RESERVED=" as async await box break const continue crate dyn else enum extern false fn for gen if impl in let loop macro match mod move mut priv pub ref return self static struct super trait true try type typeof unsafe unsized use virtual where while yield abstract become do final override alloc core proc_macro std test "
[[ $RUST_RESERVED == *" $NAME_RS "* ]] &&
  die "'$NAME' cannot be a Rust crate name (keyword or built-in crate)"
[ -f "$OLD/Cargo.toml" ] ||
  die "no $OLD/ crate here: already renamed? (this script renames the template once)"
[ ! -e "$NAME" ] || die "'$NAME' is taken: ./$NAME already exists"
if grep -Eq "^name = \"($NAME|$NAME_RS)\"$" Cargo.lock 2>/dev/null; then
  die "'$NAME' is taken: a package of that name is already in Cargo.lock (a dependency or workspace member)"
fi

# The fork's source URL: given, else origin's, else a guess.
if [ -z "${SOURCE_URL:-}" ]; then
  origin=$(git remote get-url origin 2>/dev/null || true)
  case "$origin" in
    git@github.com:*) origin="https://github.com/${origin#git@github.com:}" ;;
  esac
  origin=${origin%.git}
  if [[ $origin == https://github.com/*/* && $origin != "$OLD_SOURCE" ]]; then
    SOURCE_URL=$origin
  else
    SOURCE_URL=https://github.com/contributors-rs/$NAME
    say "WARNING: no fork remote found; the image source label will say $SOURCE_URL (set SOURCE_URL=... to fix)"
  fi
fi
DESCRIPTION=${DESCRIPTION:-$NAME}
say "$OLD -> $NAME (crate $NAME, Rust path ${NAME_RS}::, binary $NAME, image $NAME; source $SOURCE_URL)"

# ---- 2. the crate directory
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && [ -n "$(git ls-files "$OLD/Cargo.toml")" ]; then
  git mv "$OLD" "$NAME"
  # git mv leaves untracked (new) files behind; bring them along.
  if [ -d "$OLD" ]; then cp -a "$OLD/." "$NAME/" && rm -rf "$OLD"; fi
  in_git=1
else
  mv "$OLD" "$NAME"
  in_git=0
fi
say "moved   $OLD/ -> $NAME/"

# ---- 3. the files to edit
list_files() {
  if [ "$in_git" = 1 ]; then
    git ls-files -z --cached --others --exclude-standard
  else
    find . \( -path ./target -o -path ./dist -o -path ./.git -o -path ./fuzz/target \
              -o -path ./fuzz/corpus -o -path ./fuzz/artifacts -o -path ./fuzz/logs \) -prune \
           -o -type f -print0 | sed -z 's|^\./||'
  fi
}
files=()
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue                     # deleted, or a directory git still lists
  case "$f" in
    rename/rename.sh | rename/rename-test.sh) continue ;;   # they speak of the template's own name
    */__pycache__/* | *.png | *.pyc) continue ;;
  esac
  grep -Iq . "$f" 2>/dev/null || continue         # binary (or empty): skip
  grep -q "$OLD" "$f" || continue
  files+=("$f")
done < <(list_files)

# ---- the patterns (perl, applied in this order; first line = file filter)
# Each rule: [id, files it applies to (regex on the path), pattern, replacement].
# N = NAME, R = NAME with '-' -> '_', S = SOURCE_URL, D = DESCRIPTION.
export RN_NAME=$NAME RN_RS=$NAME_RS RN_SOURCE=$SOURCE_URL RN_DESC=$DESCRIPTION RN_OLD_SOURCE=$OLD_SOURCE
report=$(perl -e '
use strict; use warnings;
my ($N, $R, $S, $D, $OS) = @ENV{qw(RN_NAME RN_RS RN_SOURCE RN_DESC RN_OLD_SOURCE)};
my $any = qr/./;
my $rs  = qr/\.rs$/;
my $toml = qr/(^|\/)Cargo\.toml$/;
my $lock = qr/(^|\/)Cargo\.lock$/;
my @rules = (
  # -- the crate (Rust and Cargo)
  # `use contributors::x`, `contributors::config::Config`: paths into the library
  # crate, in Rust and where docs quote them (a profile in BENCHMARKS.md).
  ["crate-path",   qr/\.(rs|md)$/, qr/(?<![\w:])contributors::/,         sub { "${R}::" }],
  # env!("CARGO_BIN_EXE_contributors") in integration tests: cargo names it after the binary.
  ["bin-exe-env",  $rs,   qr/\bCARGO_BIN_EXE_contributors\b/,           sub { "CARGO_BIN_EXE_$N" }],
  # [package] name = "contributors" in the app manifest (and its Cargo.lock entry).
  ["package-name", qr/$toml|$lock/, qr/^name = "contributors"$/m,       sub { "name = \"$N\"" }],
  # members = ["contributors", ...] and default-members in the workspace manifest.
  ["ws-members",   $toml, qr/^(\s*(?:default-)?members\s*=.*?)"contributors"/m, sub { "$1\"$N\"" }],
  # a dependency on the app crate (fuzz/Cargo.toml): contributors = { path = ... }.
  ["dep-key",      $toml, qr/^contributors(?=\s*=\s*\{)/m,              sub { $N }],
  # "../contributors": the crate directory, seen from a sibling (fuzz/).
  ["dep-path",     $any,  qr/\.\.\/contributors\b/,                      sub { "../$N" }],
  # the fuzz package of the app crate, and its Cargo.lock entry.
  ["fuzz-package", qr/$toml|$lock/, qr/"contributors-fuzz"/,            sub { "\"$N-fuzz\"" }],
  # a lock file entry listing the app crate as a dependency:  "contributors",
  ["lock-dep",     $lock, qr/^ "contributors",?$/m,                     sub { my $m = $&; $m =~ s/contributors/$N/; $m }],
  # -- the binary: its name where the program speaks
  # "contributors {} (...)": the --version line and the doctor report header;
  # concat!("contributors ", ...): a test of that line.
  ["version-line", $rs,   qr/"contributors (?=\{|")/,                    sub { "\"$N " }],
  # "contributors: ..." error prefixes, and the first line of the usage text.
  ["msg-prefix",   $rs,   qr/(?:(?<=")|^)contributors: /m,              sub { "$N: " }],
  # //! contributors: ... (the crate doc first line).
  ["doc-title",    $rs,   qr/^(\/\/!\s*)contributors: /m,               sub { "$1$N: " }],
  # "contributors/": the User-Agent product token (and the test that checks it).
  ["user-agent",   $rs,   qr/"contributors\//,                           sub { "\"$N/" }],
  # the doctor'"'"'s /tmp probe file name.
  ["probe-file",   $rs,   qr/\.contributors-doctor-/,                    sub { ".$N-doctor-" }],
  # the usage line "  contributors [serve] [OPTIONS]     serve ...": renamed, and
  # re-padded so its help column stays where the other lines have theirs.
  ["usage-align",  $rs,   qr/^(  )contributors (\S.*?)( {2,})(?=\S)/m,
                   sub { $1 . "$N $2" . (" " x (length($3) + length("contributors") - length($N) > 0 ? length($3) + length("contributors") - length($N) : 1)) }],
  # the command with a subcommand or flag: `contributors doctor`, Try '"'"'contributors --help'"'"',
  # usage lines "  contributors [serve]", "contributors healthcheck".
  ["command",      $any,  qr/(?<![\w\/.:-])contributors (?=\[serve\]|serve\b|healthcheck\b|doctor\b|--help\b|--version\b|--port\b)/, sub { "$N " }],
  # `contributors` in backticks: the crate, the command, the binary, in docs and comments.
  ["backticked",   $any,  qr/`contributors`/,                             sub { "`$N`" }],
  # -- the binary: file names and paths
  # the crate directory at the start of a path: contributors/src/main.rs, "contributors/  the web app".
  ["crate-dir",    $any,  qr/(?<![\w\/.\$-])contributors\/(?!")/,         sub { "$N/" }],
  # the binary under a known directory: dist/contributors (+ .target, -system-roots),
  # $(DIST)/, $DIST/, target/.../release/, $BENCH_DIR/, a build context ($ctx/, $$ctx/), a chroot ($root/);
  # and the one of each architecture, dist/linux-amd64/contributors.
  ["bin-path",     $any,  qr/((?:\bdist|\brelease|\$\(DIST\)|\$\{?DIST\}?|\$\$?\{?ctx\}?|\$\{?root\}?|\$\{?BENCH_DIR\}?"?)\/(?:linux-[^\/\s"]+\/)?)contributors\b/, sub { "$1$N" }],
  # the binary at the root of an image or chroot: COPY ... /contributors, ["/contributors", ...],
  # " /contributors --version". Not /repos/{o}/{r}/contributors, not `/contributors` (the API, in docs).
  ["abs-path",     $any,  qr/(?<![\w.`}\/)-])\/contributors\b/,          sub { "/$N" }],
  # a line that is just the file name of the binary: the expected `docker export`
  # list of the scratch image in ci/container-tests.sh.
  ["file-list",    qr/\.sh$/, qr/^contributors$/m,                       sub { $N }],
  # Dockerfile: COPY contributors /...: the file name in the build context.
  ["copy-source",  qr/Dockerfile$/, qr/^(COPY\s+)contributors(?=\s)/m,   sub { "$1$N" }],
  # -- the image
  # image references: contributors:scratch, contributors:$v, contributors:IMAGE, contributors:<tag>.
  ["image-ref",    $any,  qr/(?<![\w\/.:-])contributors:(?=[A-Za-z0-9<\$\{\(])/, sub { "$N:" }],
  # the Makefile default: IMAGE ?= contributors.
  ["image-knob",   $any,  qr/^(IMAGE\s*\?=\s*)contributors\s*$/m,        sub { "$1$N" }],
  # scripts'"'"' default image: ${IMAGE:-contributors}; bench.py: --image default.
  ["image-default",$any,  qr/\$\{IMAGE:-contributors\}|("--image", default=")contributors"/, sub { defined $1 ? "$1$N\"" : "\${IMAGE:-$N}" }],
  # usage notes in scripts: "IMAGE (default contributors)".
  ["image-doc",    $any,  qr/\(default contributors\)/,                 sub { "(default $N)" }],
  # examples: IMAGE=me/contributors, docker run -P contributors.
  ["image-example",$any,  qr/(IMAGE=me\/|docker run -P )contributors\b(?![:\/])/, sub { "$1$N" }],
  # container names the Makefile and the demo give: contributors-run, contributors-demo.
  ["container",    $any,  qr/\bcontributors-(run|demo)\b/,               sub { "$N-$1" }],
  # "contributors is running in container ...": make run'"'"'s message.
  ["run-message",  $any,  qr/\bcontributors is running\b/,              sub { "$N is running" }],
  # -- the image labels (OCI)
  # org.opencontainers.image.title="contributors", and the Makefile'"'"'s prune filter on it.
  ["label-title",  $any,  qr/(image\.title=)("?)contributors\2(?![\w-])/, sub { "$1$2$N$2" }],
  # org.opencontainers.image.description="Lists a GitHub repository'"'"'s contributors; ...".
  ["label-desc",   $any,  qr/(image\.description=")Lists a GitHub repository.s contributors(?=;)/, sub { "$1$D" }],
  # the source URL: the label and Cargo.toml'"'"'s repository.
  ["source-url",   $any,  qr/\Q$OS\E\b/,                                 sub { $S }],
  # OWNER, the placeholder for the fork'"'"'s GitHub account: the published image
  # ghcr.io/OWNER/contributors (the release pushes ghcr.io/OWNER/REPO, in lower
  # case) and github.com/OWNER/contributors, both from the source URL.
  ["owner",        $any,  qr/\b(ghcr\.io|github\.com)\/OWNER\/contributors\b/,
                   sub { my $host = $1; my ($path) = $S =~ m{^https://github\.com/([^/]+/[^/]+)}; $path //= "OWNER/$N";
                         $host eq "ghcr.io" ? "ghcr.io/" . lc $path : "github.com/$path" }],
  # -- cargo and make
  # cargo -p contributors: the package to build/run.
  ["cargo-p",      $any,  qr/(?<=-p )contributors\b(?![_-])/,           sub { $N }],
  # Makefile VERSION: grep of cargo metadata for "name":"contributors".
  ["metadata-name",$any,  qr/"name":"contributors"/,                     sub { "\"name\":\"$N\"" }],
  # the crate directory in a list of the source directories:
  # `find contributors ca-bundle fake-github` (Makefile RUST_SOURCES).
  ["dir-list",     $any,  qr/(?<![\w\/.:-])contributors(?= +ca-bundle\b)/, sub { $N }],
  # the copies bench/bench.sh makes of the binary: contributors-musl, contributors-mimalloc.
  ["bench-copy",   $any,  qr/(?<![\w\/.:-])contributors-(musl|mimalloc)\b/, sub { "$N-$1" }],
  # first-line titles: "# contributors" (README), "# contributors: ..." (Makefile),
  # "# contributors FROM scratch" (Dockerfiles).
  ["title-line",   $any,  qr/\A# (The )?contributors\b/,                sub { "# " . ($1 // "") . $N }],
);
my (%total, $files, $n_all);
for my $f (@ARGV) {
  open my $in, "<", $f or die "$f: $!";
  local $/; my $all = <$in>; close $in;
  # A markdown section "## Use this as a template" describes this very rename
  # in the template'"'"'s own words: it is kept as written (a fork deletes it).
  my ($text, $kept, $rest) = ($all, "", "");
  if ($f =~ /\.md$/ && $all =~ /^## Use this as a template *$/m) {
    my $at = $-[0];
    my $end = (substr($all, $at + 1) =~ /^## /m) ? $at + 1 + $-[0] : length $all;
    ($text, $kept, $rest) = (substr($all, 0, $at), substr($all, $at, $end - $at), substr($all, $end));
  }
  my %count;
  for my $part (\$text, \$rest) {
    for my $r (@rules) {
      my ($id, $filter, $re, $repl) = @$r;
      next unless $f =~ $filter;
      next if $id eq "title-line" && $part == \$rest;
      my $n = ($$part =~ s/$re/$repl->()/ge);
      $count{$id} += $n if $n;
    }
  }
  $text = $text . $kept . $rest;
  next unless %count;
  open my $out, ">", $f or die "$f: $!"; print $out $text; close $out;
  my $sum = 0; $sum += $_ for values %count;
  $files++; $n_all += $sum;
  printf "changed %s: %d (%s)\n", $f, $sum, join(", ", map { "$_ $count{$_}" } sort keys %count);
}
printf "TOTAL %d %d\n", $files // 0, $n_all // 0;
' -- "${files[@]}")
grep -v '^TOTAL ' <<<"$report" | sed 's/^/rename: /'
read -r _ nfiles nrepl < <(grep '^TOTAL ' <<<"$report")

# ---- 4. Cargo.lock: the package moved in the sorted list; let cargo re-sort.
if command -v cargo >/dev/null 2>&1; then
  if cargo metadata --offline --format-version 1 >/dev/null 2>&1 ||
     cargo metadata --format-version 1 >/dev/null 2>&1; then
    say "Cargo.lock: re-sorted by cargo"
  else
    say "WARNING: cargo could not read the renamed workspace; run 'cargo metadata' and read its error"
  fi
else
  say "WARNING: no cargo here; run 'cargo metadata' once so Cargo.lock is re-sorted (CI's --locked needs it)"
fi

# ---- 5. what stays
left=0
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  case "$f" in rename/rename.sh | rename/rename-test.sh | *.lock) continue ;; esac
  grep -Iq . "$f" 2>/dev/null || continue
  left=$((left + $(grep -c "$OLD" "$f" || true)))
done < <(list_files)
say "$nfiles files changed, $nrepl replacements"
say "left as is: $left lines still say '$OLD' on purpose: the GitHub API path /repos/{o}/{r}/contributors,"
say "  ContributorLists and contributor_lists, page text and templates, fake-github's fixtures,"
say "  the CONTRIBUTORS_* variables, io.contributors.* label keys (see README: Use this as a template)"
say "next: read 'git diff', run 'make test', then delete rename/rename.sh and rename/rename-test.sh"
