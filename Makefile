# Quick start: `make report` then `make test`. Everything runs in .venv, created from python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install report test lint lab bench demo-data clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name rolloutkit --display-name "rolloutkit (.venv)" >/dev/null
	touch $(STAMP)

## Render the demo workspaces' weekly report into reports/ (open reports/index.html). The demo data ends on
## 2026-11-22, so the demo is rendered as of that day; a real run defaults to yesterday.
DEMO_AS_OF := 2026-11-22
report: $(STAMP)
	$(BIN)/rolloutkit report --as-of $(DEMO_AS_OF)

## Unit tests, nbval over notebooks/, and the papermill end-to-end run.
test: $(STAMP)
	$(BIN)/ruff check rolloutkit tests benchmarks
	$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env

lint: $(STAMP)
	$(BIN)/ruff check rolloutkit tests benchmarks

## JupyterLab on notebooks/ with the rolloutkit kernel as default; options in LAB_ARGS, e.g.
## make lab LAB_ARGS="--no-browser --port 8899". Root (containers) needs --allow-root, added when id -u is 0.
LAB_ARGS ?=
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks --MappingKernelManager.default_kernel_name=rolloutkit \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

## rolloutkit beside a pandas script and bare polars on 10M canary rows, start-up, the demo's weekly run and the
## largest page: one table with ratios (figures printed, nothing asserted). Another checkout side by side:
## make bench BENCH_ARGS="--before /path/to/old/checkout". Then daily counts from 10M and 100M rows, polars vs DuckDB.
## Off by default (~25 min on 2 cores): whether the weekly run grows linearly with the portfolio, on 5, 10 and 20
## synthetic agents: make bench BENCH_ARGS="--portfolio 5,10,20" (add "--weekly-repeat 0 --rows 200000" for that alone).
BENCH_ARGS ?=
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)
	$(BIN)/python benchmarks/counts.py

## Regenerate the committed demo workspaces in data/demo from rolloutkit.synth.
demo-data: $(STAMP)
	rm -rf data/demo
	$(BIN)/python -c "from rolloutkit import synth; synth.write_demo('data/demo')"

clean:
	rm -rf $(VENV) reports/*/ reports/index.html .pytest_cache
