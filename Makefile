# mlnb — developer commands. `make test` and `make demo` work from a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch: the CPU build (a plain `torch` would pull GBs of CUDA wheels)
TORCH  ?= torch==2.13.0
STAMP  := $(VENV)/.mlnb-installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export MPLBACKEND := Agg
# pip warns "Location '…' is ignored" for each local index or wheel folder that this machine's pip
# config names but lacks (pip skips those anyway): drop just those lines, keep pip's exit status
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
NO_ABSENT_LOCATIONS := 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }

.PHONY: install test lint typecheck unit demo lab extension bench clean
# jupyter refuses to run as root unless told; CI and containers often are root
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip $(NO_ABSENT_LOCATIONS)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q "$(TORCH)" $(NO_ABSENT_LOCATIONS)
	$(BIN)/pip install -q -e ".[dev,torch]" $(NO_ABSENT_LOCATIONS)
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check mlnb tests bench example_notebooks/*.py example_notebooks/*/*.py

# settings and the third-party modules without types: [tool.mypy] in pyproject.toml
typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck unit

# the main job: a prepare -> train -> evaluate pipeline (then again, from cache), a sweep
# of the train step, then every example notebook; all runs go to one store the lab reads
DEMO_STORE := $(CURDIR)/example_notebooks/out/.mlnb

demo: $(STAMP)
	MLNB_HOME=$(DEMO_STORE) $(BIN)/python example_notebooks/04_pipeline/run_demo.py
	MLNB_HOME=$(DEMO_STORE) $(BIN)/python example_notebooks/run_examples.py

lab: $(STAMP)
	$(BIN)/pip install -q -e ".[lab]" $(NO_ABSENT_LOCATIONS)
	MLNB_HOME=$(DEMO_STORE) $(BIN)/jupyter lab $(ALLOW_ROOT) example_notebooks

# rebuild the JupyterLab extension after editing extension/src (pip builds it once)
extension: $(STAMP)
	cd extension && npm install --no-audit --no-fund && PATH=$(CURDIR)/$(BIN):$$PATH npm run build:prod
	$(BIN)/pip install -q -e . --no-deps $(NO_ABSENT_LOCATIONS)

bench: $(STAMP)
	$(BIN)/pip install -q -e ".[bench]" $(NO_ABSENT_LOCATIONS)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache example_notebooks/out bench/out mlnb/labextension extension/lib extension/node_modules
