# rename/rename.mk — the template tool: make a fork your own app.
# An optional part: delete rename/ once the fork has its name.

TEST_EXTRAS += rename-test
.PHONY: rename rename-test

rename: ## Rename the app for a fork: make rename NAME=myapp
	bash rename/rename.sh '$(NAME)'

rename-test: ## Rename a copy of the project to myapp, then build and test the copy
	bash rename/rename-test.sh
