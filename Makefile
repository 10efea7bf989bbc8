# segmentation-workbook: `make help` lists the targets.
# Every target bootstraps its own environment: an active virtualenv ($VIRTUAL_ENV) is used as is,
# otherwise a local .venv is created. Dependencies come from requirements.lock (exact pins with
# hashes, installed with --require-hashes); `make lock` regenerates it from pyproject.toml.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip's notices about this machine's extra package indexes are noise, not errors
QUIET_PIP := grep -v -e "is ignored: it is neither a file nor a directory" || true
PYTHON_BOOT ?= python3
ifdef VIRTUAL_ENV
VENV := $(VIRTUAL_ENV)
else
VENV := .venv
endif
PY := $(VENV)/bin/python
STAMP := $(VENV)/.workbook-installed
PARAMS ?= params/demo.yaml
RUN_ID ?= demo-2026Q3
ARGS ?=
PYTEST_ARGS ?=
LAB_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help env report test lint demo-data lab bench clean-runs lock

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock 2>&1 | { $(QUIET_PIP); }
	$(PY) -m pip install --quiet --no-deps -e . 2>&1 | { $(QUIET_PIP); }
	@touch $(STAMP)

env: $(STAMP) ## Create/refresh the environment (locked versions + the helpers package)

report: $(STAMP) ## Run the whole chain on the demo data and print the report path
	$(VENV)/bin/workbook run --params $(PARAMS) --run-id $(RUN_ID) $(ARGS)

test: $(STAMP) ## Run the test suite (unit, property, end-to-end)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff over code, tests and notebooks
	$(VENV)/bin/ruff check src tests notebooks benchmarks

demo-data: $(STAMP) ## Regenerate the bundled demo data room in data/raw/demo
	$(PY) -m helpers demo --out data/raw/demo

lab: $(STAMP) ## Open JupyterLab on the project (params/, reports/ ...) with notebooks/ shown first
	$(VENV)/bin/workbook kernel
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

lock: ## Regenerate requirements.lock (hashed, from pyproject.toml) and environment.yml
	bash tools/lock.sh

bench: $(STAMP) ## Benchmark the chain at several sizes (not part of the tests)
	$(PY) benchmarks/bench.py
