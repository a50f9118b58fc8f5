# Two commands for a newcomer: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: demo test bench clean venv

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

# pytest exits 5 when it collects no tests: for us that means the suite went missing,
# so it is a failure, said out loud, not a silent green.
test: $(STAMP)
	@$(PY) -m pytest -q tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests; failing on purpose" >&2; exit 1; fi; \
	exit $$rc

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	cd bench && ../$(PY) run_all.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
