# mk/deploy.mk — beyond one machine: Kubernetes, Compose, a shared cache.
# Included by the Makefile (`include mk/deploy.mk`); uses its IMAGE, DIST,
# ENSURE and image-scratch. DEPLOY-README.md tells the story.
#
#   make deploy-test        render deploy/kubernetes; checkov on it and docker/*/Dockerfile
#   make compose-test       compose.yaml (demo profile) up, a page, down
#   make nginx-cache-test   nginx in front of two app processes: one upstream call
#   make test-deploy        all three

.PHONY: test-deploy deploy-test compose-test nginx-cache-test

test-deploy: deploy-test compose-test nginx-cache-test ## Kubernetes manifests, compose file and shared-cache tests

deploy-test: ## Render deploy/kubernetes (kubectl kustomize) and run checkov on it and the Dockerfiles
	@bash ci/deploy-test.sh

compose-test: image-scratch $(DIST)/fake-github ## Bring compose.yaml up (demo profile), get a page, take it down
	@BASE_IMAGES=debian bash ci/base-images.sh
	IMAGE=$(IMAGE) DIST=$(DIST) bash ci/compose-test.sh

nginx-cache-test: $(DIST)/contributors $(DIST)/fake-github ## nginx caching in front of two app processes: 1,000 views, 1 upstream call
	@DIST=$(DIST) bash ci/nginx-cache-test.sh
