# The whole setup: `make book` and `make test`. Each creates .venv from requirements.txt when it is
# missing or stale (requirements.txt or pyproject.toml changed), then does its job.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# One torch thread per process unless asked for more (`make bench THREADS=2`): on a small or busy
# machine torch's threads spin and small problems run up to 100x slower. The book build pins the
# notebook kernels to MATFILL_BUILD_THREADS (default 1) itself, so every build shows the same numbers.
THREADS ?= 1
export OMP_NUM_THREADS := $(THREADS)
export MKL_NUM_THREADS := $(THREADS)
export PYTHONHASHSEED := 0

.PHONY: help venv lint unit test book book-student pdf browser-deps browser lab bench bench-quick \
	repository clean clean-book

help:
	@echo "make book    build the HTML book into _build/html (executes every notebook)"
	@echo "make book-student  the same book without solutions: $(STUDENT)/_build/html"
	@echo "make test    run every test: lint, helpers, launch path, book build, pages in Chromium"
	@echo "make unit    helper tests only (fast)"
	@echo "make lint    ruff (package, tests, notebooks), actionlint (workflows), repository copies"
	@echo "make pdf     the whole book as one PDF: _build/pdf/matfill.pdf"
	@echo "make lab     open the notebooks in JupyterLab"
	@echo "make bench   run the benchmark (make bench ARGS='--quick --device cuda --out table.md')"
	@echo "make repository URL=https://github.com/you/matfill [BRANCH=main]   point the book at a fork"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

venv: $(STAMP)

# style and consistency: formatting and lint of the package, tests and notebooks; the GitHub
# workflow; every copy of the repository URL agrees with _config.yml
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/actionlint
	$(BIN)/python tools/repository.py

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not book and not browser and not launch" -q

# every test, in order: lint; the helpers (with doctests) and the launch path (a chapter run in a
# fresh environment without the helpers); the strict book build, on purpose with MPLBACKEND=Agg (the
# build must not depend on it), and its student edition (from the same execution cache); then the
# checks of the built pages, with headless Chromium
test: $(STAMP)
	$(MAKE) lint
	$(BIN)/python -m pytest -q -m "not book and not browser"
	MPLBACKEND=Agg $(MAKE) book
	$(MAKE) book-student
	$(MAKE) browser-deps
	$(BIN)/python tools/pdf.py
	$(BIN)/python -m pytest -q -m "book or browser"

# the built pages in headless Chromium (fails, not skips, when a page is missing)
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
# (sphinx-exercise's hide_solutions, gated code solutions included: _ext/student_edition.py).
# Its generated _config.yml points at the execution cache of `make book`, so notebooks that
# `make book` has executed are not executed again.
STUDENT := _build/student
book-student: $(STAMP)
	$(BIN)/python _ext/student_edition.py _config.yml $(STUDENT)/_config.yml
	$(BIN)/jupyter-book build . --builder html -W --keep-going \
		--config $(STUDENT)/_config.yml --path-output $(STUDENT)
	@echo "The student edition is at $(STUDENT)/_build/html/index.html"

# every page of the HTML book printed by headless Chromium (offline), joined by pypdf
pdf: book browser-deps
	$(BIN)/python tools/pdf.py

lab: $(STAMP)
	$(BIN)/jupyter lab book/

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(ARGS)

bench-quick: $(STAMP)
	$(BIN)/python benchmarks/run.py --quick $(ARGS)

# point the book (launch buttons, setup cells, clone instructions) at another repository
repository: $(STAMP)
	@test -n "$(URL)" || { echo "usage: make repository URL=https://github.com/you/matfill [BRANCH=main]" >&2; exit 2; }
	$(BIN)/python tools/repository.py "$(URL)" "$(or $(BRANCH),main)"

clean-book:
	rm -rf _build

clean: clean-book
	rm -rf $(VENV) .pytest_cache
