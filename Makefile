# contributors: build one fully static binary, then package it three ways.
#
# Read it top to bottom: build, images, run, test. Each recipe is a command
# or two; what takes more than that is a script in ci/, named in the recipe.
#
#   make build    the static binary -> dist/contributors (+ dist/fake-github, a test tool)
#   make image    the FROM scratch image, tagged $(IMAGE):$(TAG) and $(IMAGE):scratch
#   make test     everything CI runs
#   make help     all targets
#
# The target's C compiler and linker live in .cargo/config.toml, the release
# profile in Cargo.toml. On a bare Debian/Ubuntu machine, as root, the scripts
# apt-get what they need (ci/ensure-packages.sh).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --no-print-directory

# ---- knobs, e.g. make image IMAGE=me/contributors TAG=v1
IMAGE    ?= contributors
TAG      ?= latest
DIST     ?= dist
RUN_NAME ?= contributors-run
export IMAGE DIST

# dist/ is rebuilt when a workspace source is newer than it. (CI's second job
# touches the downloaded artifact, so it is newer, and is used as it is.)
RUST_SOURCES := Cargo.toml Cargo.lock .cargo/config.toml $(shell find contributors ca-bundle fake-github -type f)

.PHONY: help build image images image-scratch image-busybox image-debian \
        image-scratch-system-roots base-images run sizes readme-sizes \
        test test-core lint test-rust test-containers test-browser test-redbot test-metrics test-proxy \
        test-cache test-deploy test-without-extras clean

help: ## Show the targets (this list)
	@echo "usage: make <target> [IMAGE=$(IMAGE)] [TAG=$(TAG)]"
	@awk -F ':.*## ' '/^[a-z][a-z0-9-]*:.*## / { printf "  %-26s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- build

build: ## Build the static binary dist/contributors (checked) and dist/fake-github
	bash ci/build.sh app $(DIST)/contributors
	bash ci/chroot-check.sh $(DIST)/contributors
	bash ci/build.sh fake-github $(DIST)/fake-github

$(DIST)/contributors $(DIST)/fake-github &: $(RUST_SOURCES)
	$(MAKE) build

# The CA lesson: a binary that trusts the OS certificate store instead of its
# compiled-in roots (feature system-roots). Never ship it.
$(DIST)/contributors-system-roots: $(RUST_SOURCES)
	bash ci/build.sh app $@ --features system-roots

# ---------------------------------------------------------------- images

image: image-scratch ## The scratch image, tagged IMAGE:TAG and IMAGE:scratch
	docker tag $(IMAGE):scratch $(IMAGE):$(TAG)

images: image-scratch image-busybox image-debian ## All three: IMAGE:scratch, :busybox, :debian

# docker/scratch, docker/busybox, docker/debian: the same binary on three bases.
image-scratch image-busybox image-debian: image-%: $(DIST)/contributors
	bash ci/image.sh $* $(DIST)/contributors $(IMAGE):$*

image-scratch-system-roots: $(DIST)/contributors-system-roots ## The CA lesson: trusts the OS store, so fails in scratch
	bash ci/image.sh scratch $< $(IMAGE):scratch-system-roots

base-images: ## debian and busybox bases: present, pulled, or (engine cannot pull) local stand-ins
	bash ci/base-images.sh

run: image ## Run the image detached with -P; prints the URL to open
	docker rm -f $(RUN_NAME) >/dev/null 2>&1 || true
	docker run -d --rm -P --name $(RUN_NAME) -e GITHUB_TOKEN $(IMAGE):$(TAG) >/dev/null
	@echo "open http://localhost:$$(docker port $(RUN_NAME) 8080/tcp | head -n1 | sed 's/.*://')/ (stop: docker stop $(RUN_NAME))"

sizes: images ## Measure the images and the binary: a table (also target/sizes.md)
	bash ci/sizes.sh

readme-sizes: images ## The same table, written into README.md
	bash ci/sizes.sh readme

# ---------------------------------------------------------------- tests

# The optional parts (below) add their tests to TEST_EXTRAS.
test: ## Everything CI runs: test-core, then the optional parts' tests
	$(MAKE) test-core $(TEST_EXTRAS)

test-core: ## lint, Rust tests, images, browser, HTTP linter, metrics, proxy, shared cache, deploy
	$(MAKE) lint test-rust test-containers test-browser test-redbot test-metrics test-proxy test-cache test-deploy

lint: ## hadolint on the Dockerfiles, shellcheck on the scripts (tools from PyPI, in target/venv)
	bash ci/lint.sh

test-rust: ## cargo fmt --check, clippy -D warnings, cargo test (no network, no Docker)
	bash ci/toolchain.sh
	bash ci/ensure-packages.sh tinyproxy:tinyproxy   # tests/proxy.rs runs a real proxy
	cargo fmt --all -- --check
	cargo clippy $(if $(CI),--locked) --workspace --all-targets -- -D warnings
	cargo test $(if $(CI),--locked) --workspace

test-containers: images image-scratch-system-roots $(DIST)/fake-github ## The three images, black-box (ci/container-tests.sh)
	bash ci/container-tests.sh

test-browser: $(DIST)/contributors $(DIST)/fake-github ## The page in headless Chromium (ci/browser_test.py)
	bash ci/browser-test.sh $(DIST)/contributors $(DIST)/fake-github

test-redbot: $(DIST)/contributors $(DIST)/fake-github ## REDbot, the HTTP linter: gzip and If-None-Match on a page and the CSS
	bash ci/redbot-test.sh $(DIST)/contributors $(DIST)/fake-github

test-metrics: $(DIST)/contributors $(DIST)/fake-github ## /metrics parsed by prometheus_client; the counters move by the right amounts
	bash ci/metrics-test.sh $(DIST)/contributors $(DIST)/fake-github

test-proxy: image-scratch $(DIST)/fake-github ## The scratch image reaching GitHub through a real proxy (tinyproxy)
	bash ci/proxy-container-test.sh

test-cache: $(DIST)/contributors $(DIST)/fake-github ## nginx caching in front of two app processes: one upstream call
	bash ci/nginx-cache-test.sh

test-deploy: image-scratch $(DIST)/fake-github ## deploy/kubernetes rendered and checked (checkov); compose.yaml up and down
	bash ci/deploy-test.sh
	bash ci/compose-test.sh

# With optional parts present, prove they come off: a copy without them
# still passes `make test` and `make image` (ci/without-extras-test.sh).
test-without-extras:
	bash ci/without-extras-test.sh

clean: ## Remove dist/ and this project's images (cargo clean empties target/)
	rm -rf $(DIST) target/sizes.md
	docker rm -f $(RUN_NAME) >/dev/null 2>&1 || true
	for t in scratch busybox debian scratch-system-roots $(TAG); do docker rmi $(IMAGE):$$t >/dev/null 2>&1 || true; done

# ---------------------------------------------------------------- optional parts
# Each is a folder with its own make fragment; delete the folder and it is
# gone, `make test` still passes (README: "What to delete").
-include workshop/workshop.mk rename/rename.mk demo/demo.mk bench/bench.mk fuzz/fuzz.mk
ifneq ($(TEST_EXTRAS),)
TEST_EXTRAS += test-without-extras
endif
