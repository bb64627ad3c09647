# bench/bench.mk — measurements, not tests: writes BENCHMARKS.md.
# An optional part: delete bench/ (and BENCHMARKS.md) and it is gone.
# For work on the scripts themselves, `BENCH_QUICK=1 make bench` makes every
# run short and writes target/bench/BENCHMARKS-quick.md (not a benchmark), and
# `python3 bench/bench.py --only many ...` runs one section alone (see --help).

.PHONY: bench

bench: ## Measure the binary (both allocators, and against bare hyper) on a fake GitHub; writes BENCHMARKS.md (its duration is recorded there)
	bash bench/bench.sh
