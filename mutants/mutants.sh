#!/usr/bin/env bash
# mutants/mutants.sh — `make mutants`: mutation testing of the guard and
# parsing modules with cargo-mutants, then MUTANTS.md (mutants/report.py).
#
#   bash mutants/mutants.sh              # every module of mutants/modules.txt
#   bash mutants/mutants.sh FILE...      # only these (e.g. while writing tests);
#                                        # MUTANTS.md then reports the others'
#                                        # outcomes as last run
#   bash mutants/mutants.sh --report     # MUTANTS.md from the outcomes in target/mutants/
#
# cargo-mutants changes one thing in the code (a `<` into `<=`, a body into
# `Default::default()`, ...) and runs the tests: a mutant they still pass
# is a behaviour no test pins. It runs in place, in this work tree, so the
# warm target/ is reused (its scratch copy leaves target/ out: a cold build
# per module), one mutant at a time, each a rebuild: do not edit the code
# meanwhile. cargo-mutants restores the file after each mutant, and this
# script checks that it did (and restores it if a run is cut short). The
# tests built and run against each mutant are the module's line in
# modules.txt. A mutant whose tests run five times as long as the
# unmutated ones, and at least a minute (a loaded machine's slow run is no
# hang), counts as a timeout: a hang the tests caught. Outcomes go to
# target/mutants/<module>/mutants.out/.
#
# Fails when a mutant survives that mutants/accepted.txt does not accept.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VERSION=27.1.0   # cargo-mutants, pinned: its mutants and outcomes differ between versions
OUT=target/mutants

if [ "${1:-}" != --report ]; then
  if [ "$(cargo mutants --version 2>/dev/null)" != "cargo-mutants $VERSION" ]; then
    cargo install --locked "cargo-mutants@$VERSION"
  fi
  # The modules and their tests, from modules.txt (or the FILEs given).
  declare -A tests=()
  while read -r file args; do
    case $file in '' | '#'*) continue ;; esac
    tests[$file]=$args
  done <mutants/modules.txt
  if [ $# -eq 0 ]; then
    mapfile -t files < <(grep -v '^#' mutants/modules.txt | awk 'NF { print $1 }')
  else
    files=("$@")
  fi
  bash ci/ensure-packages.sh tinyproxy:tinyproxy   # tests/app/proxy.rs, as make test-rust
  for file in "${files[@]}"; do
    [ -n "${tests[$file]+set}" ] || { echo "mutants: $file is not in mutants/modules.txt" >&2; exit 1; }
    key=${file#contributors/src/}
    key=${key%.rs}
    key=${key//\//-}
    mkdir -p "$OUT/$key"
    cp -p "$file" "$OUT/$key/original.rs"
    # However the run ends, the file is left as it was. (The session has
    # usually ended already: pkill then finds nothing and fails, which
    # must not stop the trap, under set -e, before the restore.)
    trap '[ -z "${session:-}" ] || pkill -KILL -s "$session" || true; cmp -s "$file" "$OUT/$key/original.rs" || { cp -p "$OUT/$key/original.rs" "$file"; echo "mutants: $file restored" >&2; }' EXIT
    echo "mutants: $file (cargo test ${tests[$file]})" >&2
    # MUTANTS_ITERATE=1 (while writing tests): only the mutants the last
    # run did not catch are tried again, the others keep their outcome (the
    # report merges the runs, keeping each mutant's latest). Only while the
    # module's code is unchanged; tests added below it do not move it.
    iterate=()
    if [ "${MUTANTS_ITERATE:-}" = 1 ] && [ -f "$OUT/$key/mutants.out/outcomes.json" ]; then
      iterate=(--iterate)
      mkdir -p "$OUT/$key/earlier"
      cp "$OUT/$key/mutants.out/outcomes.json" "$OUT/$key/earlier/$(date +%s).json"
    else
      rm -rf "$OUT/$key/earlier"
    fi
    # The test selection goes to the build as well as the test run
    # (`cargo test --no-run` then `cargo test`): what is not run is not built.
    cargo_args=()
    for word in ${tests[$file]}; do cargo_args+=("--cargo-arg=$word"); done
    # In a session of its own, ended whole when it returns: a mutant that
    # hangs can leave its test process running after cargo-mutants has
    # timed it out, and that would slow every later run on the machine.
    status=0
    setsid --wait cargo mutants --in-place --no-shuffle --minimum-test-timeout 60 \
      --file "$file" --output "$OUT/$key" "${iterate[@]}" "${cargo_args[@]}" &
    session=$!
    wait "$session" || status=$?
    pkill -KILL -s "$session" 2>/dev/null || true
    cmp -s "$file" "$OUT/$key/original.rs" || { echo "mutants: cargo mutants left $file changed" >&2; exit 1; }
    # 2: mutants missed, 3: timeouts (the report counts both); else a failure.
    case $status in 0 | 2 | 3) ;; *) echo "mutants: cargo mutants failed on $file ($status)" >&2; exit "$status" ;; esac
  done
fi
python3 mutants/report.py --out MUTANTS.md --outcomes "$OUT"
