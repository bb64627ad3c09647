# demo/demo.mk — the offline demo: the app against the fake GitHub.
# An optional part: delete demo/ and it is gone.

DEMO ?= native
DEMO_PORT ?= 8080
.PHONY: demo

demo: $(DIST)/contributors $(DIST)/fake-github ## Offline demo against the fake GitHub (DEMO=native|scratch|busybox|debian)
	if [ "$(DEMO)" != native ]; then $(MAKE) image-$(DEMO); fi
	PORT=$(DEMO_PORT) bash demo/demo.sh $(DEMO)
