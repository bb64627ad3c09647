# rename/rename.mk — the template tool: make a fork your own app.
# An optional part: delete rename/ once the fork has its name.

TEST_EXTRAS += rename-test
.PHONY: rename rename-test

rename: ## Rename the app for a fork: make rename NAME=myapp
	bash rename/rename.sh '$(NAME)'

rename-test: ## Rename a copy to myapp and delete its optional parts: it builds, cargo test passes, make image works
	bash rename/rename-test.sh
