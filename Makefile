# Two commands for a newcomer: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test test-all lint bench clean venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# the whole job on the openfield mouse shipped in the package; results in ./ethogram-demo/
# (replaced on every run); `ethogram demo --course` runs the course's synthetic experiments
demo: $(STAMP)
	$(VENV)/bin/ethogram demo --overwrite

# Lint first (ruff: pycodestyle, pyflakes, imports, complexity <= 12, line length 100, and the
# format), then the tests on every core (pytest-xdist); the floors' contract (import-linter) runs
# inside the tests (tests/test_architecture.py). The `slow` tests (five-seed versions of tests
# that run one seed here) run with `make test-all`.
# pytest exits 5 when it collects no tests: for us that means the suite went missing,
# so it is a failure, said out loud, not a silent green.
PYTEST_RUN = rc=$$?; if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; failing on purpose" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

test: lint
	@$(PY) -m pytest -q -n auto -m "not slow" tests; $(PYTEST_RUN)

test-all: lint
	@$(PY) -m pytest -q -n auto tests; $(PYTEST_RUN)

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	cd bench && ../$(PY) run_all.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
