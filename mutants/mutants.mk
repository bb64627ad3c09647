# mutants/mutants.mk — mutation testing of the guard and parsing modules:
# writes MUTANTS.md. Not part of `make test` (a rebuild and a test run per
# mutant; MUTANTS.md records how long); run it when a module of mutants/modules.txt
# changes, as bench/ is run for BENCHMARKS.md. An optional part: delete
# mutants/ (and MUTANTS.md, .github/workflows/mutants.yml) and it is gone.

.PHONY: mutants

mutants: ## Mutation-test the guard and parsing modules (cargo-mutants, pinned; in place); writes MUTANTS.md, fails on an unexplained survivor
	bash mutants/mutants.sh
