# The course's commands. `make book` and `make test` are the two a newcomer needs;
# both create .venv from requirements.txt on first use and update it when that file changes.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Written after a successful install, holding requirements.txt's checksum. When requirements.txt
# changes, the environment is rebuilt from scratch (so a dropped pin cannot linger); when only
# pyproject.toml or the file's date changes, the install is refreshed in place.
STAMP := $(VENV)/.installed
REQ_SUM = $(shell sha256sum requirements.txt | cut -d' ' -f1)

$(STAMP): requirements.txt pyproject.toml
	@if [ -f $(STAMP) ] && [ "$$(cat $(STAMP))" != "$(REQ_SUM)" ]; then \
		echo "requirements.txt changed: rebuilding $(VENV)"; rm -rf $(VENV); fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@echo "$(REQ_SUM)" > $(STAMP)

.PHONY: book test test-fast lint check release autograde feedback grades bench bench-autograde clean

book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The site is built: open $(CURDIR)/_build/html/index.html"

# Installs bubblewrap and Chromium first when they are missing and it runs as root; without them
# their tests are skipped with one line saying what to install (under CI=true they fail). The
# fifteen slowest tests are listed at the end: the whole run must stay under 20 minutes on 2 cores.
test: $(STAMP) lint
	bash .ci/system-packages
	$(PY) -m pytest --durations=15

# Everything but the site build, the browser and the grading pipeline (the tests marked slow,
# tests/conftest.py says which): under a minute.
test-fast: $(STAMP) lint
	$(PY) -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# One notebook, checked as the notebook's Validate button checks it (nbgrader validate with the
# course's settings); exits non-zero when a test fails: make check NB=exercises/ex03_forget_gate/forget_gate.ipynb
check: $(STAMP)
	@test -n "$(NB)" || { echo "usage: make check NB=path/to/notebook.ipynb" >&2; exit 2; }
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) -m lstm_course.check "$(NB)"

# The gradebook: gradebook.db (SQLite) unless DB names a PostgreSQL database, the same for every
# command of the cycle: make release DB=postgresql://grader@db.example.org/lstm_course (and
# autograde, feedback, grades with the same DB=; the password in ~/.pgpass, never here).
# postgresql:// means the pinned driver, psycopg 3 (SQLAlchemy's own default is psycopg2).
DB ?=
DB_URL = $(patsubst postgres://%,postgresql+psycopg://%,$(patsubst postgresql://%,postgresql+psycopg://%,$(DB)))
DB_OPT = $(if $(DB),'--CourseDirectory.db_url=$(DB_URL)')

release: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_assignment '*' --force $(DB_OPT)

# Every submission under submitted/, in parallel, each in a bubblewrap sandbox, into nbgrader's
# gradebook and autograded/. Options: make autograde AUTOGRADE_ARGS="--jobs 4 --timeout 120"
# (python -m lstm_course.autograde --help lists them). On a Dask cluster:
# AUTOGRADE_ARGS="--scheduler tls://scheduler:8786" ("--workers 4": a local one); see the book.
autograde: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) -m lstm_course.autograde --course-dir $(CURDIR) $(if $(DB),--db '$(DB_URL)') $(AUTOGRADE_ARGS)

feedback: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_feedback '*' --force $(DB_OPT)

grades: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader export --to=grades.csv $(DB_OPT)

# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (set on the course machines) hold NumPy's OpenBLAS to
# older kernels than readers' machines run: unset for the benchmark alone, never for the tests.
bench: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) benchmarks/bench_lstm.py $(BENCH_ARGS)

# 40 submissions graded by `make autograde`'s command (sandbox on) against serial nbgrader autograde.
# make bench-autograde BENCH_AUTOGRADE_ARGS="--distributed --n 200": the Dask engine, one worker
# process against two, and against the local pool ("--sizing": seconds per submission of each
# assignment, for the instructors' sizing table).
bench-autograde: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(PY) benchmarks/bench_autograde.py $(BENCH_AUTOGRADE_ARGS)

clean:
	rm -rf _build .pytest_cache
