# contributors: build one fully static binary, then package it three ways.
#
# Read it top to bottom: build, images, run, test. Each recipe is a command
# or two; what takes more than that is a script in ci/, named in the recipe.
#
#   make build    the static binary for amd64 and arm64 -> dist/linux-{amd64,arm64}/contributors
#                 (+ dist/contributors, this machine's, and dist/fake-github, a test tool)
#   make image    the FROM scratch image, tagged $(IMAGE):$(TAG) and $(IMAGE):scratch
#   make images   all three bases, both architectures
#   make push     every image, and one multi-arch tag each, to REGISTRY
#   make test     everything CI runs
#   make help     all targets
#
# The targets' C compiler is zig (cargo-zigbuild, from PyPI), their linker
# rust-lld (ci/zig.sh); the release profile is in Cargo.toml. On a bare Debian/Ubuntu
# machine, as root, the scripts apt-get what they need (ci/ensure-packages.sh). A machine without Rust (a
# Mac with Docker Desktop) needs only make, Docker and a shell: the binary is
# then built inside Docker (ci/build.sh says which way it went).

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
REGISTRY ?=
ARCHS    := amd64 arm64
# This machine's architecture, in Docker's words: the unsuffixed tags are its.
HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,amd64)
VARIANTS := scratch busybox debian
export IMAGE DIST

# dist/ is rebuilt when a workspace source is newer than it. (CI's second job
# touches the downloaded artifact, so it is newer, and is used as it is.)
RUST_SOURCES := Cargo.toml Cargo.lock $(shell find contributors ca-bundle fake-github -type f)

.PHONY: help build $(ARCHS:%=build-%) image images $(VARIANTS:%=image-%) \
        $(foreach a,$(ARCHS),$(VARIANTS:%=image-%-$(a))) \
        image-scratch-system-roots base-images push run sizes readme-sizes sbom \
        test test-core lint test-rust test-containers test-auditable test-without-extras clean

help: ## Show the targets (this list)
	@echo "usage: make <target> [IMAGE=$(IMAGE)] [TAG=$(TAG)]"
	@awk -F ':.*## ' '/^[a-z][a-z0-9-]*:.*## / { printf "  %-26s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- build

build: $(ARCHS:%=build-%) $(DIST)/fake-github ## The static binary for amd64 and arm64 (checked), dist/contributors, dist/fake-github
	$(call copy_new,$(DIST)/linux-$(HOST_ARCH)/contributors,$(DIST)/contributors)

# A copy to a temporary name, then a rename: a running dist/contributors
# (make demo's) keeps its old file, and the copy never fails "Text file busy".
copy_new = cp -p $(1) $(2).tmp && mv -f $(2).tmp $(2)

# One architecture: built (here, or in Docker where this machine cannot:
# ci/build.sh says which), checked static (ci/elf.sh), run in an empty
# chroot (arm64 under qemu, ci/qemu.sh).
$(ARCHS:%=build-%): build-%:
	ARCH=$* bash ci/build.sh app $(DIST)/linux-$*/contributors
	bash ci/chroot-check.sh $(DIST)/linux-$*/contributors

$(DIST)/linux-%/contributors: $(RUST_SOURCES)
	$(MAKE) build-$*

# This machine's binary, for the tests that run it here.
$(DIST)/contributors: $(DIST)/linux-$(HOST_ARCH)/contributors
	$(call copy_new,$<,$@)

$(DIST)/fake-github: $(RUST_SOURCES)
	bash ci/build.sh fake-github $@

# The binary's CycloneDX SBOM (cargo-cyclonedx): its crates, for scanners and
# the release, which checks it (make sbom test-auditable). The binary carries
# the same list itself (cargo-auditable), so `make build` and `make test` need
# no SBOM, nor the minutes cargo-cyclonedx takes to compile.
sbom: $(DIST)/contributors.cdx.json ## The CycloneDX SBOM of the binary's crates: dist/contributors.cdx.json
$(DIST)/contributors.cdx.json: $(RUST_SOURCES)
	bash ci/sbom.sh $@

# The CA lesson: a binary that trusts the OS certificate store instead of its
# compiled-in roots (feature system-roots). Never ship it.
$(DIST)/contributors-system-roots: $(RUST_SOURCES)
	ARCH=$(HOST_ARCH) bash ci/build.sh app $@ --features system-roots

# ---------------------------------------------------------------- images

image: image-scratch ## The scratch image, tagged IMAGE:TAG and IMAGE:scratch
	docker tag $(IMAGE):scratch $(IMAGE):$(TAG)

images: $(VARIANTS:%=image-%) $(foreach a,$(ARCHS),$(VARIANTS:%=image-%-$(a))) ## All three bases, both archs: IMAGE:{scratch,busybox,debian}[-amd64|-arm64]

# docker/scratch, docker/busybox, docker/debian: the same binary on three
# bases, for each architecture: IMAGE:scratch-amd64, IMAGE:scratch-arm64, ...
$(VARIANTS:%=image-%-amd64): image-%-amd64: $(DIST)/linux-amd64/contributors
	bash ci/image.sh $* amd64 $(IMAGE):$*-amd64
$(VARIANTS:%=image-%-arm64): image-%-arm64: $(DIST)/linux-arm64/contributors
	bash ci/image.sh $* arm64 $(IMAGE):$*-arm64

# The unsuffixed tags are this machine's architecture: `docker run -P IMAGE`.
# (dist/contributors is its binary, for what looks inside the image.)
$(VARIANTS:%=image-%): image-%: image-%-$(HOST_ARCH) $(DIST)/contributors
	docker tag $(IMAGE):$*-$(HOST_ARCH) $(IMAGE):$*

image-scratch-system-roots: $(DIST)/contributors-system-roots ## The CA lesson: trusts the OS store, so fails in scratch
	bash ci/image.sh scratch $(HOST_ARCH) $(IMAGE):scratch-system-roots $<

push: images ## Push to REGISTRY=host:port: each arch's images, one multi-arch tag per variant, :latest, :TAG
	bash ci/push.sh $(REGISTRY)

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

# Each suite is a make target, run in turn by ci/suites.sh, which prints
# "== suite NAME: N s" after each and all the times at the end. (The +
# makes `make -n test` list what every suite would run.) The optional parts
# (below) add their suites to TEST_EXTRAS, or to TEST_BESIDE: those run in
# a second lane, beside the others (a build inside Docker beside suites that
# mostly wait on containers and downloads; ci/suites.sh).
CORE_TESTS := lint test-rust test-containers test-auditable

test: ## Everything CI runs: test-core, then the optional parts' suites (checks/, workshop/, rename/), each timed
	+MAKE='$(MAKE)' bash ci/suites.sh $(CORE_TESTS) $(TEST_BESIDE:%=beside:%) $(TEST_EXTRAS)

test-core: ## lint, the Rust tests, the images of both archs tested as black boxes, the embedded dependency list; each timed
	+MAKE='$(MAKE)' bash ci/suites.sh $(CORE_TESTS)

lint: ## hadolint on the Dockerfiles, shellcheck on the scripts (tools from PyPI, in target/venv)
	bash ci/lint.sh

test-rust: ## cargo fmt --check, clippy -D warnings, cargo test (no network, no Docker)
	bash ci/toolchain.sh
	bash ci/ensure-packages.sh tinyproxy:tinyproxy   # tests/app/proxy.rs runs a real proxy
	cargo fmt --all -- --check
	cargo clippy $(if $(CI),--locked) --workspace --all-targets -- -D warnings
	cargo test $(if $(CI),--locked) --workspace

test-containers: images image-scratch-system-roots $(DIST)/contributors $(DIST)/fake-github ## The three images of both archs, black-box (arm64 under qemu)
	ARCH=both bash ci/container-tests.sh

test-auditable: $(DIST)/contributors ## The dependency list embedded in dist/contributors (and the SBOM, once made) name the crates Cargo.lock pins
	bash ci/auditable-test.sh

# With optional parts present, prove they come off: a copy without them
# still builds, passes `cargo test` and makes its image.
test-without-extras: ## Delete the optional parts in a copy: it builds, cargo test passes, make image works
	bash ci/without-extras-test.sh

clean: ## Remove dist/ and IMAGE's images, no one else's (cargo clean empties target/)
	rm -rf $(DIST) target/sizes.md
	docker rm -f $(RUN_NAME) >/dev/null 2>&1 || true
	for t in $(VARIANTS) $(foreach a,$(ARCHS),$(VARIANTS:%=%-$(a)) build-$(a)) scratch-system-roots $(TAG); do docker rmi $(IMAGE):$$t >/dev/null 2>&1 || true; done
	docker image prune -f --filter label=io.contributors.image=$(IMAGE) >/dev/null 2>&1 || true

# ---------------------------------------------------------------- optional parts
# Each is a folder with its own make fragment; delete the folder and it is
# gone, `make test` still passes (README: "What to delete").
-include checks/checks.mk workshop/workshop.mk rename/rename.mk demo/demo.mk bench/bench.mk fuzz/fuzz.mk mutants/mutants.mk
# While rename/ is here, rename-test checks that in its renamed copy instead.
ifeq ($(filter rename-test,$(TEST_EXTRAS)),)
ifneq ($(TEST_EXTRAS)$(TEST_BESIDE),)
TEST_EXTRAS += test-without-extras
endif
endif
