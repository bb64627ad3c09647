# checks/checks.mk — the optional test suites: the app as browsers, HTTP
# linters, Prometheus, nginx, registries, Kubernetes and Compose see it, and
# a second build compared byte for byte. Each needs a tool from outside the
# project (Chromium, REDbot, nginx, checkov, ...), installed by its script.
# An optional part: delete checks/ and they are gone; `make test` keeps
# lint, test-rust and test-containers (checks/README.md lists each suite).

# The suites that mostly wait first, then the one that builds (the
# workshop's Docker build runs beside them: Makefile, TEST_BESIDE).
TEST_EXTRAS += test-registry test-browser test-redbot test-metrics test-proxy test-cache test-deploy test-reproducible
.PHONY: test-registry test-reproducible test-browser test-redbot test-metrics test-proxy test-cache test-deploy

test-registry: images $(DIST)/fake-github ## make push into a real registry on 127.0.0.1; pull and run each arch from it
	bash checks/registry-test.sh

test-reproducible: image-scratch-amd64 ## Two clean builds of this commit: the same binary bytes, the same image ID
	bash checks/reproducible-test.sh

test-browser: $(DIST)/contributors $(DIST)/fake-github ## The page in headless Chromium (checks/browser_test.py)
	bash checks/browser-test.sh $(DIST)/contributors $(DIST)/fake-github

test-redbot: $(DIST)/contributors $(DIST)/fake-github ## REDbot, the HTTP linter: gzip and If-None-Match on a page and the CSS
	bash checks/redbot-test.sh $(DIST)/contributors $(DIST)/fake-github

test-metrics: $(DIST)/contributors $(DIST)/fake-github ## /metrics parsed by prometheus_client; the counters move by the right amounts
	bash checks/metrics-test.sh $(DIST)/contributors $(DIST)/fake-github

test-proxy: image-scratch $(DIST)/fake-github ## The scratch image reaching GitHub through a real proxy (tinyproxy)
	bash checks/proxy-container-test.sh

test-cache: $(DIST)/contributors $(DIST)/fake-github ## nginx caching in front of two app processes: one upstream call
	bash checks/nginx-cache-test.sh

test-deploy: image-scratch $(DIST)/fake-github ## deploy/kubernetes rendered and checked (checkov); compose.yaml up and down
	bash checks/deploy-test.sh
	bash checks/compose-test.sh
