# The course's commands. `make book` and `make test` are the two a newcomer needs;
# both create .venv from requirements.txt on first use and update it when that file changes.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Touched after a successful install: make re-installs whenever requirements.txt or
# pyproject.toml is newer than this file.
STAMP := $(VENV)/.installed

.PHONY: book test lint release autograde feedback grades bench bench-autograde clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The site is built: open $(CURDIR)/_build/html/index.html"

test: $(STAMP) lint
	$(PY) -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

release: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_assignment '*' --force

# Every submission under submitted/, in parallel, each in a bubblewrap sandbox, into nbgrader's
# gradebook and autograded/. Options: make autograde AUTOGRADE_ARGS="--jobs 4 --timeout 120"
# (python -m lstm_ref.autograde --help lists them).
autograde: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) -m lstm_ref.autograde --course-dir $(CURDIR) $(AUTOGRADE_ARGS)

feedback: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_feedback '*' --force

grades: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader export --to=grades.csv

bench: $(STAMP)
	$(PY) benchmarks/bench_lstm.py $(BENCH_ARGS)

# 40 submissions graded by `make autograde`'s command (sandbox on) against serial nbgrader autograde.
bench-autograde: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) benchmarks/bench_autograde.py

clean:
	rm -rf _build .pytest_cache
