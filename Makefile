# contributors: build a fully static binary once, then package it three ways.
#
#   make build     static binary -> dist/contributors (+ dist/fake-github, a test tool)
#   make image     the FROM scratch image, tagged $(IMAGE):$(TAG) and $(IMAGE):scratch
#   make test      fmt, clippy, cargo test, then the container tests
#   make help      everything else
#
# The binary is built here, outside Docker (as CI does, where it is an artifact
# of the build job); the Dockerfiles under docker/ only COPY it in.
# On a bare Debian/Ubuntu machine, run as root, this Makefile installs what it
# needs with apt-get (musl-tools, file, curl, debootstrap, busybox-static).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules --no-print-directory

# ---- knobs (override on the command line: make image IMAGE=me/contributors TAG=v1)
# Rust target of the shipped binary (musl: the C library is linked in).
TARGET ?= x86_64-unknown-linux-musl
# Image repository name, and the tag `make image` gives besides :scratch.
IMAGE  ?= contributors
TAG    ?= latest
CARGO  ?= cargo
DIST   := dist
# CI builds exactly what Cargo.lock says; locally cargo may update it.
CARGO_LOCKED := $(if $(CI),--locked,)
# fake-github is a test tool: a plain release build is plenty (no fat LTO).
FAKE_GITHUB_CARGO_FLAGS ?= --config profile.release.lto=false --config profile.release.codegen-units=16
RUN_NAME ?= contributors-run
ENSURE := bash ci/ensure-packages.sh
VARIANTS := scratch busybox debian

# Label values for the images, computed only when an image is built.
VERSION  = $(or $(shell $(CARGO) metadata --no-deps --format-version 1 2>/dev/null | grep -o '"name":"contributors","version":"[^"]*"' | sed 's/.*:"//; s/"$$//'),$(shell $(DIST)/contributors --version 2>/dev/null | awk '{print $$2}'),dev)
REVISION = $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
CREATED  = $(shell date -u +%Y-%m-%dT%H:%M:%SZ)

# dist/ is rebuilt when any workspace source is newer than it; a dist/ that
# came from elsewhere (a CI artifact downloaded after checkout) is reused as
# is, and REUSE_DIST=1 says never to rebuild it.
RUST_SOURCES := Cargo.toml Cargo.lock $(shell find contributors ca-bundle fake-github -type f 2>/dev/null)

.PHONY: help build image images image-scratch image-busybox image-debian base-images \
        run demo sizes readme-sizes test test-rust test-containers clean \
        image-scratch-system-roots doctor test-browser fuzz bench

help: ## Show the targets (this list)
	@echo "Usage: make <goal> [IMAGE=$(IMAGE)] [TAG=$(TAG)] [TARGET=$(TARGET)]"
	awk -v image='$(IMAGE)' -v tag='$(TAG)' 'BEGIN {FS = ":.*## "}
	  /^[a-zA-Z0-9][a-zA-Z0-9_-]*:.*## / { d = $$2; gsub(/\$$\(IMAGE\)/, image, d); gsub(/\$$\(TAG\)/, tag, d)
	                              printf "  %-27s %s\n", $$1, d }' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- build

build: ## Build the fully static binary into dist/contributors (and dist/fake-github), then check it
	@$(ENSURE) file:file curl:curl
	target='$(TARGET)'
	rustflags="$${RUSTFLAGS:-}"
	# 1. Get the target's standard library (rustup), or fall back to glibc + crt-static.
	have_target() {
	  if command -v rustup >/dev/null 2>&1; then
	    rustup target list --installed 2>/dev/null | grep -qx "$$1" && return 0
	    echo "build: rustup target add $$1"
	    timeout 300 rustup target add "$$1" && return 0
	    return 1
	  fi
	  [ -d "$$(rustc --print sysroot)/lib/rustlib/$$1/lib" ]
	}
	if ! have_target "$$target"; then
	  case "$$target" in
	    *-linux-musl)
	      echo "build: WARNING: the $$target target is not available here;"
	      echo "build:          falling back to x86_64-unknown-linux-gnu with -C target-feature=+crt-static"
	      echo "build:          (static glibc works too, but makes a larger binary than musl)"
	      target=x86_64-unknown-linux-gnu
	      rustflags="$${rustflags:+$$rustflags }-C target-feature=+crt-static" ;;
	    *) echo "build: ERROR: Rust target $$target is not installed" >&2; exit 1 ;;
	  esac
	fi
	# 2. musl: ring's C and assembly must be compiled against musl, by musl-gcc.
	case "$$target" in
	  *-linux-musl)
	    $(ENSURE) musl-gcc:musl-tools
	    export "CC_$${target//-/_}=musl-gcc" ;;
	esac
	echo "build: target $$target$${rustflags:+ RUSTFLAGS='$$rustflags'}"
	# An explicit --target keeps RUSTFLAGS off build scripts and proc-macros.
	RUSTFLAGS="$$rustflags" $(CARGO) build $(CARGO_LOCKED) --release -p contributors --target "$$target"
	mkdir -p $(DIST)
	tdir=$${CARGO_TARGET_DIR:-target}
	install -m 0755 "$$tdir/$$target/release/contributors" $(DIST)/contributors
	echo "$$target" > $(DIST)/contributors.target
	# 3. The test tool, for the host, an ordinary dynamic binary.
	$(CARGO) build $(CARGO_LOCKED) --release -p fake-github $(FAKE_GITHUB_CARGO_FLAGS)
	install -m 0755 "$$tdir/release/fake-github" $(DIST)/fake-github
	# 4. Check the artifact: statically linked (static-pie counts: no interpreter,
	#    no shared libraries, just position-independent for ASLR) ...
	info=$$(file -L $(DIST)/contributors)
	echo "build: $$info"
	if ! grep -Eq 'statically linked|static-pie linked' <<<"$$info" || grep -q 'interpreter' <<<"$$info"; then
	  echo "build: ERROR: $(DIST)/contributors is not statically linked" >&2; exit 1
	fi
	# ... and it runs and serves from an empty root file system, like FROM scratch.
	bash ci/chroot-check.sh $(DIST)/contributors
	echo "build: OK $(DIST)/contributors ($$(stat -c %s $(DIST)/contributors) bytes, $$target) and $(DIST)/fake-github"

ifeq ($(REUSE_DIST),1)
# REUSE_DIST=1: dist/ comes from elsewhere (CI's build job); never rebuild it.
$(DIST)/contributors $(DIST)/fake-github:
	@echo "$@ is missing; REUSE_DIST=1 means: download the build artifact, or run make build" >&2
	exit 1
else
$(DIST)/contributors $(DIST)/fake-github &: $(RUST_SOURCES)
	@$(MAKE) build
endif

# ---------------------------------------------------------------- images

base-images: ## Make sure debian:bookworm-slim and busybox exist (pull, or build a local stand-in)
	@bash ci/base-images.sh

image: image-scratch ## Build the scratch image, tagged $(IMAGE):$(TAG) and $(IMAGE):scratch
	@docker tag $(IMAGE):scratch $(IMAGE):$(TAG)
	echo "image: $(IMAGE):$(TAG) = $(IMAGE):scratch"

images: image-scratch image-busybox image-debian ## Build all three images: $(IMAGE):scratch, :busybox, :debian

image-scratch: ## Build $(IMAGE):scratch (FROM scratch: the binary alone)
image-busybox: ## Build $(IMAGE):busybox (FROM busybox)
image-debian: ## Build $(IMAGE):debian (FROM debian:bookworm-slim)
image-scratch image-busybox image-debian: image-%: $(DIST)/contributors
	@variant=$*
	[ "$$variant" = scratch ] || BASE_IMAGES=$$variant bash ci/base-images.sh
	# The build context is a temp dir holding the binary and nothing else:
	# nothing to send but 2 MB, nothing to leak into the image by mistake.
	ctx=$$(mktemp -d)
	trap 'rm -rf "$$ctx"' EXIT
	install -m 0555 $(DIST)/contributors "$$ctx/contributors"
	echo "image: building $(IMAGE):$$variant from docker/$$variant/Dockerfile"
	if ! docker build -q -f docker/$$variant/Dockerfile \
	    --build-arg VERSION='$(VERSION)' \
	    --build-arg REVISION='$(REVISION)' \
	    --build-arg CREATED='$(CREATED)' \
	    -t $(IMAGE):$$variant "$$ctx" >"$$ctx.out" 2>&1; then
	  cat "$$ctx.out" >&2; rm -f "$$ctx.out"; exit 1
	fi
	rm -f "$$ctx.out"
	# Each build is a new image (CREATED changed): drop our untagged old ones.
	docker image prune -f --filter label=org.opencontainers.image.title=contributors >/dev/null
	echo "image: $(IMAGE):$$variant $$(docker image inspect -f '{{.Size}}' $(IMAGE):$$variant) bytes"

# The CA-bundle lesson: the same scratch image, but with a binary built to
# trust the operating system's certificate store (cargo feature system-roots)
# instead of its compiled-in roots. scratch has no store, so it fails at start,
# like Go's "x509: failed to load system roots". Never ship this variant.
$(DIST)/contributors-system-roots: $(DIST)/contributors
	@target=$$(cat $(DIST)/contributors.target)
	case "$$target" in *-linux-musl) export "CC_$${target//-/_}=musl-gcc" ;; *) export RUSTFLAGS="-C target-feature=+crt-static" ;; esac
	# Same target dir as `make build`: cargo keeps both feature sets' binaries
	# side by side, so switching between them relinks nothing.
	$(CARGO) build $(CARGO_LOCKED) --release -p contributors --features system-roots --target "$$target"
	install -m 0755 "$${CARGO_TARGET_DIR:-target}/$$target/release/contributors" $@

image-scratch-system-roots: $(DIST)/contributors-system-roots ## The CA lesson: $(IMAGE):scratch-system-roots trusts the OS store (and fails in scratch)
	@ctx=$$(mktemp -d)
	trap 'rm -rf "$$ctx"' EXIT
	install -m 0555 $(DIST)/contributors-system-roots "$$ctx/contributors"
	if ! docker build -q -f docker/scratch/Dockerfile --build-arg VERSION='$(VERSION)' \
	    --build-arg REVISION='$(REVISION)' --build-arg CREATED='$(CREATED)' \
	    -t $(IMAGE):scratch-system-roots "$$ctx" >"$$ctx/.out" 2>&1; then
	  cat "$$ctx/.out" >&2; exit 1
	fi
	echo "image: $(IMAGE):scratch-system-roots (trusts the OS store: expect it to fail in scratch)"

DOCTOR_ARGS ?= --offline
doctor: images ## Run `contributors doctor` in each image, side by side (DOCTOR_ARGS=--offline)
	@tmp=$$(mktemp -d)
	trap 'rm -rf "$$tmp"' EXIT
	for v in $(VARIANTS); do
	  docker run --rm $(IMAGE):$$v doctor $(DOCTOR_ARGS) >"$$tmp/$$v" 2>&1 || true
	done
	# A compact matrix first: one row per check, one column per image.
	printf '%-9s' check; for v in $(VARIANTS); do printf ' %-8s' "$$v"; done; echo
	awk 'NF >= 2 && $$1 ~ /^(ok|note|FAIL)$$/ { print $$2 }' "$$tmp/scratch" | while read -r name; do
	  printf '%-9s' "$$name"
	  for v in $(VARIANTS); do printf ' %-8s' "$$(awk -v n="$$name" '$$2 == n { print $$1; exit }' "$$tmp/$$v")"; done
	  echo
	done
	for v in $(VARIANTS); do echo; echo "== $(IMAGE):$$v"; cat "$$tmp/$$v"; done

run: image ## Build the image and run it detached with -P; prints the URL to open
	@docker rm -f $(RUN_NAME) >/dev/null 2>&1 || true
	docker run -d --rm -P --name $(RUN_NAME) -e GITHUB_TOKEN $(IMAGE):$(TAG) >/dev/null
	port=$$(docker port $(RUN_NAME) 8080/tcp | head -n1 | sed 's/.*://')
	echo "contributors is running in container $(RUN_NAME): open http://localhost:$$port/"
	echo "  logs: docker logs -f $(RUN_NAME)    stop: docker stop $(RUN_NAME)"

DEMO ?= native
DEMO_PORT ?= 8080
demo: $(DIST)/contributors $(DIST)/fake-github ## Offline demo against the fake GitHub (DEMO=native|scratch|busybox|debian)
	@if [ "$(DEMO)" != native ]; then $(MAKE) image-$(DEMO); fi
	IMAGE=$(IMAGE) PORT=$(DEMO_PORT) bash ci/demo.sh $(DEMO)

sizes: images ## Measure the three images and the binary: a markdown table (also target/sizes.md)
	@mkdir -p target
	mib() { awk -v b="$$1" 'BEGIN { printf "%.2f MiB (%d bytes)", b / 1048576, b }'; }
	bin=$$(stat -c %s $(DIST)/contributors)
	{
	  echo "| image | base | image size | binary size |"
	  echo "| --- | --- | --- | --- |"
	  for v in $(VARIANTS); do
	    base=$$(sed -n 's/^FROM //p' docker/$$v/Dockerfile | head -n1)
	    standin=$$(docker image inspect -f '{{index .Config.Labels "io.contributors.base.stand-in"}}' $(IMAGE):$$v 2>/dev/null || true)
	    case "$$standin" in ""|"<no value>") ;; *) base="$$base (local stand-in)" ;; esac
	    size=$$(docker image inspect -f '{{.Size}}' $(IMAGE):$$v)
	    echo "| $(IMAGE):$$v | $$base | $$(mib $$size) | $$(mib $$bin) |"
	  done
	} | tee target/sizes.md

readme-sizes: sizes ## Put the measured table into README.md between its sizes:begin/end markers
	@grep -q '<!-- sizes:begin -->' README.md && grep -q '<!-- sizes:end -->' README.md
	awk 'FNR == NR { table = table $$0 "\n"; next }
	     /<!-- sizes:begin -->/ { print; printf "%s", table; skip = 1; next }
	     /<!-- sizes:end -->/ { skip = 0 }
	     !skip' target/sizes.md README.md > README.md.tmp
	mv README.md.tmp README.md
	echo "readme-sizes: README.md updated from target/sizes.md"

# ---------------------------------------------------------------- tests

test: ## Run everything: fmt, clippy, cargo test, container, browser, workshop and rename tests
	@$(MAKE) test-rust
	$(MAKE) test-containers
	$(MAKE) test-browser
	$(MAKE) workshop-test
	$(MAKE) rename-test

test-rust: ## fmt --check, clippy -D warnings, cargo test (no network, no Docker)
	@if command -v rustup >/dev/null 2>&1; then
	  for c in rustfmt clippy; do
	    rustup component list --installed 2>/dev/null | grep -q "^$$c" || timeout 300 rustup component add "$$c" ||
	      echo "test-rust: WARNING: rustup component add $$c failed" >&2
	  done
	fi
	echo "== cargo fmt --all -- --check"
	$(CARGO) fmt --all -- --check
	echo "== cargo clippy --workspace --all-targets -- -D warnings"
	$(CARGO) clippy $(CARGO_LOCKED) --workspace --all-targets -- -D warnings
	echo "== cargo test --workspace"
	$(CARGO) test $(CARGO_LOCKED) --workspace

test-containers: ## Container tests on the three images (reuses dist/; SKIP_CONTAINER_TESTS=1 skips)
	@if [ "$${SKIP_CONTAINER_TESTS:-}" != 1 ] && docker version >/dev/null 2>&1; then
	  $(ENSURE) curl:curl
	  $(MAKE) $(DIST)/contributors $(DIST)/fake-github images image-scratch-system-roots
	fi
	IMAGE=$(IMAGE) DIST=$(DIST) bash ci/container-tests.sh

test-browser: $(DIST)/contributors $(DIST)/fake-github ## The page in headless Chromium: avatars decode, phone layout holds (screenshots in target/screenshots/)
	@$(ENSURE) chromium:chromium chromedriver:chromium-driver python3:python3
	python3 -c 'import selenium' 2>/dev/null || python3 -m pip install -q --disable-pip-version-check selenium
	python3 ci/browser_test.py $(DIST)/contributors $(DIST)/fake-github

bench: ## Measure the musl build with both allocators against the fake GitHub; writes BENCHMARKS.md (~4 min)
	@IMAGE=$(IMAGE) bash ci/bench.sh

FUZZ_SECONDS ?= 60
fuzz: ## Run each cargo-fuzz target for FUZZ_SECONDS (needs nightly; not part of make test)
	@bash ci/fuzz.sh $(FUZZ_SECONDS)

clean: workshop-clean ## Remove dist/, target/sizes.md and this project's images (cargo clean empties target/)
	@rm -rf $(DIST) target/sizes.md
	docker rm -f $(RUN_NAME) >/dev/null 2>&1 || true
	for t in $(VARIANTS) $(TAG) scratch-system-roots; do docker rmi $(IMAGE):$$t >/dev/null 2>&1 || true; done
	echo "clean: removed $(DIST)/ and the images $(IMAGE):TAG for TAG in $(VARIANTS) $(TAG) (where present)"

include mk/workshop.mk
