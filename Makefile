# Every target does its own set-up: a fresh clone needs only `make bench` or `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# `make bench MODES="shared raw" AGENTS=900 DURATION=20`, `make demo MODE=per_agent AGENTS=900`
MODES    ?= per_agent shared raw
AGENTS   ?= 400
DURATION ?= 10
MODE     ?= shared

.PHONY: setup test lint format bench demo clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required: set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

test: lint
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(STAMP)
	@for mode in $(MODES); do \
		$(PY) -m bench run --mode $$mode --agents $(AGENTS) --duration $(DURATION) || exit $$?; \
	done

demo: $(STAMP)
	$(PY) -m bench demo --mode $(MODE) --agents $(AGENTS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
