# fuzz/fuzz.mk — bounded runs of the cargo-fuzz targets (needs nightly).
# Not part of `make test`. An optional part: delete fuzz/ and it is gone.

FUZZ_SECONDS ?= 60
.PHONY: fuzz

fuzz: ## Run each cargo-fuzz target for FUZZ_SECONDS (nightly; not in make test)
	bash fuzz/fuzz.sh $(FUZZ_SECONDS)
