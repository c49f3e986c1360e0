# The whole setup: `make book` and `make test`. Each creates .venv from requirements.txt when it is
# missing or stale (requirements.txt or pyproject.toml changed), then does its job.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch uses every core by default; keep runs reproducible and the machine responsive
export OMP_NUM_THREADS ?= 2
export PYTHONHASHSEED := 0

.PHONY: help venv unit test book book-student book-strict browser-deps browser lab bench bench-quick clean clean-book

help:
	@echo "make book    build the HTML book into _build/html (executes every notebook)"
	@echo "make book-student  the same book without solutions, into $(STUDENT)/_build/html"
	@echo "make test    run every test: helpers, notebooks/book build, browser"
	@echo "make unit    helper tests only (fast)"
	@echo "make lab     open the notebooks in JupyterLab"
	@echo "make bench   run the benchmark (make bench ARGS='--quick --device cuda --out table.md')"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not book and not browser" -q

# every test: the helpers (with doctests), then the strict builds of the book and of its student
# edition (execute every notebook, fail on any cell error or Sphinx warning) and the checks of
# the built pages, then the browser tests
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not browser and not book"
	$(MAKE) book
	$(MAKE) book-student
	$(BIN)/python -m pytest -q -m book
	$(MAKE) browser

# the built experiment page in headless Chromium (fails, not skips, when the page is missing)
browser: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q -m browser

# Debian's Chromium for the browser test (playwright's own browser download is not used)
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
		elif command -v sudo >/dev/null; then sudo apt-get update && sudo apt-get install -y chromium; \
		else echo "Chromium is missing and this user cannot install it: apt-get install chromium" >&2; exit 1; fi; \
	fi

book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html -W --keep-going
	@echo "The book is at _build/html/index.html"

# The student edition: the same strict build without the solutions to the exercises
# (sphinx-exercise's hide_solutions, gated code solutions included: book/_ext/student_edition.py).
# Its generated _config.yml points at the execution cache of `make book`, so notebooks that
# `make book` has executed are not executed again.
STUDENT := _build/student
book-student: $(STAMP)
	$(BIN)/python book/_ext/student_edition.py _config.yml $(STUDENT)/_config.yml
	$(BIN)/jupyter-book build . --builder html -W --keep-going \
		--config $(STUDENT)/_config.yml --path-output $(STUDENT)
	@echo "The student edition is at $(STUDENT)/_build/html/index.html"

lab: $(STAMP)
	$(BIN)/jupyter lab book/

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(ARGS)

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick $(ARGS)

clean-book:
	rm -rf _build

clean: clean-book
	rm -rf $(VENV) .pytest_cache
