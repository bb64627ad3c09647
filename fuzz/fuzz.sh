#!/usr/bin/env bash
# fuzz/fuzz.sh [SECONDS_PER_TARGET] — run every cargo-fuzz target of fuzz/ for a
# bounded time (default 60 s each), one process each, RSS capped at 2 GiB.
#
# Installs what is missing: a nightly toolchain (rustup) and cargo-fuzz
# (`cargo install cargo-fuzz --locked`, about a minute). Seeds are read from
# fuzz/seeds/<target>/ (committed, never written); what libFuzzer finds goes
# to fuzz/corpus/<target>/ (gitignored, kept between runs so later runs start
# further along), crashes to fuzz/artifacts/<target>/, full logs to
# fuzz/logs/<target>.log.
#
# Exits non-zero if any target crashes (or fails to build), after running all
# of them, and prints the crashing input's path. See fuzz/README.md.
#
# Knobs (environment): FUZZ_TOOLCHAIN (default nightly), FUZZ_TARGETS
# (space-separated subset; default: all of `cargo fuzz list`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS_PER_TARGET]   (a positive whole number; default 60)" >&2
  exit 2
fi
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
fuzz_dir=fuzz

# ---- tools
if ! command -v rustup >/dev/null 2>&1; then
  echo "fuzz: ERROR: rustup is required (cargo-fuzz needs a nightly toolchain)" >&2
  exit 1
fi
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
  echo "fuzz: installing the $toolchain toolchain"
  rustup toolchain install "$toolchain" --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)"
  start=$SECONDS
  cargo install cargo-fuzz --locked
  echo "fuzz: cargo-fuzz installed in $((SECONDS - start)) s"
fi
fuzz=(cargo "+$toolchain" fuzz)
echo "fuzz: $("${fuzz[@]}" --version), $(rustup run "$toolchain" rustc --version)"

# ---- targets
if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  mapfile -t targets < <("${fuzz[@]}" list --fuzz-dir "$fuzz_dir")
fi
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: ERROR: no fuzz targets found in $fuzz_dir/" >&2
  exit 1
fi

# Build all targets first, so a compile error is reported as one and the
# time budget below is spent fuzzing. (Release + debug assertions + ASan:
# cargo-fuzz's defaults, the same build `run` uses.)
echo "fuzz: building ${targets[*]}"
"${fuzz[@]}" build --fuzz-dir "$fuzz_dir"

mkdir -p "$fuzz_dir/logs"
summary=()
failed=0
for target in "${targets[@]}"; do
  corpus="$fuzz_dir/corpus/$target"
  seeds="$fuzz_dir/seeds/$target"
  log="$fuzz_dir/logs/$target.log"
  mkdir -p "$corpus" "$fuzz_dir/artifacts/$target"
  # New inputs go to the first corpus directory; the seeds are only read.
  dirs=("$corpus")
  [ -d "$seeds" ] && dirs+=("$seeds")
  flags=(-max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
  [ -f "$fuzz_dir/dicts/$target.dict" ] && flags+=(-dict="$fuzz_dir/dicts/$target.dict")

  echo "fuzz: === $target: ${seconds}s, corpus ${dirs[*]}"
  # --jobs 1: a single fuzzing process (no -fork, no -jobs workers).
  set +e
  "${fuzz[@]}" run --fuzz-dir "$fuzz_dir" --jobs 1 "$target" "${dirs[@]}" -- "${flags[@]}" 2>&1 |
    tee "$log" | grep --line-buffered -E '^#[0-9]+[[:space:]]+(INITED|DONE|pulse)|ERROR|panicked|Test unit written|^Done '
  status=${PIPESTATUS[0]}
  set -e

  # libFuzzer's own numbers: final stats, else the last status line.
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n1)
  if [ -z "$runs" ]; then
    last=$(grep -E '^#[0-9]+' "$log" | tail -n1 || true)
    runs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")
    rate=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")
  fi
  artifact=$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n1)

  line="runs=${runs:-?} exec/s=${rate:-?} peak_rss_mb=${rss:-?} corpus=$(find "$corpus" -type f | wc -l)"
  if [ "$status" -eq 0 ]; then
    summary+=("fuzz: $target: ok, $line")
  else
    failed=1
    if [ -n "$artifact" ]; then
      summary+=("fuzz: $target: CRASH (exit $status), $line, input: $artifact")
      echo "fuzz: $target: crashing input written to $artifact"
      echo "fuzz:   reproduce: cargo +$toolchain fuzz run $target $artifact"
      echo "fuzz:   minimise:  cargo +$toolchain fuzz tmin $target $artifact"
    else
      summary+=("fuzz: $target: FAILED (exit $status, no artifact), $line, log: $log")
    fi
  fi
done

echo
printf '%s\n' "${summary[@]}"
exit "$failed"
