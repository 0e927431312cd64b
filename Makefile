# Every target does its own set-up: a fresh clone needs only `make bench` or `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

# `make bench BENCH_PROFILE=quick`, `make bench MODES="shared raw" AGENTS="400 900" REPEAT=5`
BENCH_PROFILE ?= default
MODES    ?=
AGENTS   ?=
DURATION ?=
REPEAT   ?=
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

# The scale profile keeps its own folder, so that results/latest.* stay the default suite's.
RESULTS := $(if $(filter scale,$(BENCH_PROFILE)),results/scale,results)

bench: $(STAMP)
	$(PY) -m bench suite --profile $(BENCH_PROFILE) --results-dir $(RESULTS) \
		$(if $(MODES),--modes "$(MODES)") $(if $(AGENTS),--agents "$(AGENTS)") \
		$(if $(DURATION),--duration $(DURATION)) $(if $(REPEAT),--repeat $(REPEAT))
	$(PY) -m bench report $(RESULTS)/latest.json --out-dir $(RESULTS)

demo: $(STAMP)
	$(PY) -m bench demo --mode $(MODE) $(if $(AGENTS),--agents $(AGENTS))

# results/report.html + report.md from results/latest.json, or from SUITES: one suite, or
# two to compare, e.g. `make report SUITES="results/old.json results/latest.json"`.
SUITES ?=

.PHONY: report

report: $(STAMP)
	$(PY) -m bench report $(SUITES)

# Profiles of one configuration in results/profiles/ (py-spy; see docs/profiling.md):
# `make profile MODE=shared AGENTS=2500 DURATION=15`; PROFILE_ARGS="--memory" traces the
# set-up with memray instead, PROFILE_ARGS="--compare per_agent shared" diffs two modes.
PROFILE_ARGS ?=

.PHONY: profile

profile: $(STAMP)
	$(PY) -m bench profile --mode $(MODE) $(if $(AGENTS),--agents $(AGENTS)) \
		$(if $(DURATION),--duration $(DURATION)) $(PROFILE_ARGS)

# asv, across commits: `make asv` (HEAD), `make asv ASV_RANGE=HEAD~3..HEAD`,
# `make asv-compare BASE=HEAD~1 HEAD=HEAD`, `make asv-quick` (this checkout, no builds).
# Sizes: BENCH_ASV_AGENTS="16,36" BENCH_ASV_DURATION=1. ASV_MACHINE names this machine
# in the results (default: the host name); CI runners should set a stable one.
ASV         := $(VENV)/bin/asv
ASV_CONFIG  ?= asv.conf.json
ASV_MACHINE ?=
ASV_RANGE   ?= HEAD^!
BASE        ?= HEAD~1
HEAD        ?= HEAD
ASV_OPTS     = --config $(ASV_CONFIG) $(if $(ASV_MACHINE),--machine $(ASV_MACHINE))
# Non-interactive entry in ~/.asv-machine.json: `--yes` describes this host under its host
# name; with ASV_MACHINE a second call copies that description under the given name.
ASV_SET_MACHINE  = $(ASV) machine --yes --config $(ASV_CONFIG) >/dev/null \
	$(if $(ASV_MACHINE),&& $(ASV) machine --yes $(ASV_OPTS) >/dev/null)

.PHONY: asv asv-compare asv-quick

# Publishes even when a benchmark failed (a commit older than it fails it, as asv expects),
# then exits with `asv run`'s status (2 when any failed).
asv: $(STAMP)
	$(ASV_SET_MACHINE)
	$(ASV) run $(ASV_OPTS) --show-stderr '$(ASV_RANGE)'; status=$$?; \
		$(ASV) publish --config $(ASV_CONFIG) && exit $$status

# After the full table, exits with `asv continuous`'s status: 1 when a benchmark got worse,
# 2 when one failed (continuous then prints no table of its own).
asv-compare: $(STAMP)
	$(ASV_SET_MACHINE)
	$(ASV) continuous $(ASV_OPTS) --show-stderr '$(BASE)' '$(HEAD)'; status=$$?; \
		$(ASV) compare $(ASV_OPTS) '$(BASE)' '$(HEAD)' && exit $$status

asv-quick: $(STAMP)
	$(ASV_SET_MACHINE)
	$(ASV) run $(ASV_OPTS) --python=same --quick --show-stderr

# Micro-benchmarks of the engine's primitives (pytest-benchmark, bench/micro/, ~30 s):
# `make micro` saves a run to MICRO_SAVES; `make micro-compare` compares against the latest
# save (or MICRO_BASE=0001) and fails on a median 15 % slower (MICRO_FAIL=min:15% on a
# busy machine). More pytest options: MICRO_ARGS="-k broker --benchmark-max-time=0.2".
MICRO_SAVES ?= results/micro
MICRO_BASE  ?=
MICRO_FAIL  ?= median:15%
MICRO_ARGS  ?=
# The project's addopts turn looptime's virtual clock on; the benchmarks need the real one.
MICRO_PYTEST = $(PY) -m pytest bench/micro --no-looptime --benchmark-storage=$(MICRO_SAVES) \
	--benchmark-warmup=on --benchmark-warmup-iterations=1 --benchmark-sort=name \
	--benchmark-columns=min,median,mean,iqr,rounds,iterations $(MICRO_ARGS)

.PHONY: micro micro-compare

micro: $(STAMP)
	$(MICRO_PYTEST) --benchmark-autosave

micro-compare: $(STAMP)
	@ls $(MICRO_SAVES)/*/*.json >/dev/null 2>&1 || \
		{ echo "no saved micro-benchmark run in $(MICRO_SAVES)/: run 'make micro' first" >&2; exit 2; }
	$(MICRO_PYTEST) --benchmark-compare$(if $(MICRO_BASE),=$(MICRO_BASE)) \
		--benchmark-compare-fail=$(MICRO_FAIL)

# A long run judged for flat memory (docs/soak.md): shared at 2,500 agents for SOAK_MINUTES;
# fails when, over the second half, RSS grows faster than 1 KiB/s or the gc-tracked objects
# by more than 1%. `make soak SOAK_MINUTES=5` for a quick look; SOAK_ARGS for more options.
SOAK_MINUTES ?= 30
SOAK_ARGS    ?=

.PHONY: soak

soak: $(STAMP)
	$(PY) -m bench soak --minutes $(SOAK_MINUTES) $(SOAK_ARGS)

# The regression gate (docs/gate.md): the base (merge-base with main, else
# HEAD~1) against the working tree, side by side. Exit 0 pass, 1 regression, 2 could not
# run. `make gate GATE_ARGS="--base v1.0"`, `GATE_ARGS=--validate` (false alarms, catch),
# `GATE_ARGS="--inject-slowdown 0.15"` (proves a slowdown fails). GATE_SOFT=1 turns exit 2
# into a message and success (CI: no base to compare with is not a failure). The message
# names no file: `bench gate` prints where it wrote (GATE_ARGS may hold --results-dir).
GATE_ARGS ?=
GATE_SOFT ?=

.PHONY: gate

gate: $(STAMP)
	@status=0; $(PY) -m bench gate $(GATE_ARGS) || status=$$?; \
	if [ $$status -eq 2 ] && [ -n "$(GATE_SOFT)" ]; then \
		echo "gate: could not run (exit 2, the reason is above); not a failure"; \
		status=0; \
	fi; \
	exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
