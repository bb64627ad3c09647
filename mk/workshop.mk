# mk/workshop.mk — the workshop (docs/workshop.md) and the template tools.
# Included by the Makefile (`include mk/workshop.mk`); uses its IMAGE, DIST,
# VARIANTS and its image-* targets.
#
#   make workshop-1 ... workshop-5   the steps; each prints a few measured lines
#   make workshop-test               runs steps 2-5 and checks docs/workshop.md's
#                                    expected output (WORKSHOP_FULL=1: step 1 too)
#   make rename NAME=myapp           make a fork your own app (ci/rename.sh)
#   make rename-test                 rename a copy to myapp, build and test it

WORKSHOP = IMAGE=$(IMAGE) DIST=$(DIST) bash ci/workshop.sh

.PHONY: workshop workshop-1 workshop-2 workshop-3 workshop-4 workshop-5 \
        workshop-test workshop-clean rename rename-test

workshop: ## The workshop's steps (docs/workshop.md)
	@echo "docs/workshop.md, one make target per step:"
	echo "  make workshop-1   build inside the image: the big one (slow: minutes)"
	echo "  make workshop-2   $(IMAGE):debian, the prebuilt binary on debian:bookworm-slim"
	echo "  make workshop-3   $(IMAGE):busybox"
	echo "  make workshop-4   $(IMAGE):scratch, and the ladder of sizes"
	echo "  make workshop-5   what scratch lacks, and how the app copes"
	echo "  make doctor       the doctor report of the three images, side by side"

workshop-1: ## Workshop step 1: build inside a Debian image, show its size (slow; NO_CACHE=1 for a cold build)
	@NO_CACHE=$(NO_CACHE) $(WORKSHOP) build-inside

workshop-2: image-debian ## Workshop step 2: the prebuilt binary on debian:bookworm-slim
	@$(WORKSHOP) debian

workshop-3: image-busybox ## Workshop step 3: the same binary on busybox
	@$(WORKSHOP) busybox

workshop-4: images ## Workshop step 4: the same binary on scratch; the ladder of sizes
	@$(WORKSHOP) scratch

workshop-5: image-scratch image-busybox image-scratch-system-roots $(DIST)/fake-github ## Workshop step 5: what breaks in scratch, and how this app copes
	@$(WORKSHOP) lessons

workshop-test: ## Run workshop steps 2-5, compare with docs/workshop.md (WORKSHOP_FULL=1: step 1 too)
	@IMAGE=$(IMAGE) bash ci/workshop-test.sh

workshop-clean: ## Remove step 1's image and build context (target/workshop/)
	@docker rmi $(IMAGE):build-inside >/dev/null 2>&1 || true
	rm -rf target/workshop
	echo "workshop-clean: removed $(IMAGE):build-inside and target/workshop/"

rename: ## Rename the app for a fork: make rename NAME=myapp (ci/rename.sh)
	@if [ -z "$(NAME)" ]; then echo "usage: make rename NAME=myapp" >&2; exit 2; fi
	bash ci/rename.sh '$(NAME)'

rename-test: ## Rename a copy of the project to myapp, then build and test it
	@bash ci/rename-test.sh
