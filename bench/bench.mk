# bench/bench.mk — measurements, not tests: writes BENCHMARKS.md.
# An optional part: delete bench/ (and BENCHMARKS.md) and it is gone.

.PHONY: bench

bench: ## Measure the binary (both allocators) against the fake GitHub; writes BENCHMARKS.md (its duration is recorded there)
	bash bench/bench.sh
