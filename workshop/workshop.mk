# workshop/workshop.mk — the workshop (docs/workshop.md), one target per step.
# An optional part: delete workshop/ and docs/workshop.md, and it is gone.
# Uses the main Makefile's image targets; workshop/workshop.sh does the measuring.

WORKSHOP := bash workshop/workshop.sh
# docker-only-test after workshop-test: it reuses step 2's Docker layers.
# Beside the other suites (ci/suites.sh): step 2 is a release build inside
# Docker, minutes of both cores, while the checks mostly wait.
TEST_BESIDE += workshop-test docker-only-test
.PHONY: workshop workshop-1 workshop-2 workshop-3 workshop-4 workshop-5 workshop-6 doctor workshop-test docker-only-test workshop-clean

workshop: ## The workshop's steps (docs/workshop.md): make workshop-1 ... workshop-6
	@sed -n 's/^## Step \([0-9]\): /  make workshop-\1   /p' docs/workshop.md
	@echo "  make doctor       contributors doctor in the three images, side by side"

workshop-1: ## Step 1: build inside a FROM rust image; its size (slow; NO_CACHE=1 for a cold build)
	NO_CACHE=$(NO_CACHE) $(WORKSHOP) build-inside

workshop-2: image-scratch ## Step 2: the same build in two stages, FROM scratch; its size (slow)
	$(WORKSHOP) multistage

workshop-3: image-debian ## Step 3: the prebuilt binary on debian:bookworm-slim
	$(WORKSHOP) debian

workshop-4: image-busybox ## Step 4: the same binary on busybox
	$(WORKSHOP) busybox

workshop-5: $(VARIANTS:%=image-%) ## Step 5: the same binary on scratch; the ladder of sizes
	$(WORKSHOP) scratch

workshop-6: image-scratch image-busybox image-scratch-system-roots $(DIST)/fake-github ## Step 6: what scratch lacks
	$(WORKSHOP) lessons

doctor: $(VARIANTS:%=image-%) ## `contributors doctor` in the three images, side by side (DOCTOR_ARGS=--offline)
	$(WORKSHOP) doctor $(or $(DOCTOR_ARGS),--offline)

workshop-test: ## Run workshop steps 2-6, compare with docs/workshop.md (WORKSHOP_FULL=1: step 1 too)
	bash workshop/workshop-test.sh

docker-only-test: ## make image with PATH = busybox + make, docker, git, bash (no Rust): builds in Docker, serves /healthz
	bash workshop/docker-only-test.sh

workshop-clean: ## Remove steps 1 and 2's images and build context
	docker rmi $(IMAGE):build-inside $(IMAGE):multistage >/dev/null 2>&1 || true
	rm -rf target/workshop

clean: workshop-clean
