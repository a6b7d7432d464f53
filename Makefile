# The two commands a new user needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8080
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test install install-dev system-deps bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[dev,redis,transformers]'
	touch $@ $(STAMP)

install: $(STAMP)

install-dev: $(DEVSTAMP)

## Install into .venv and start the server on the embedded model (http://127.0.0.1:8080).
run: install
	$(BIN)/mockvendor serve --host $(HOST) --port $(PORT)

## Debian packages the suite drives for real: chromium, redis-server, wrk.
system-deps:
	bash scripts/install-system-deps.sh

## Install everything (dev extras and system packages) and run the whole suite.
test: system-deps install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks (print ratios against baselines measured in the same run).
bench: system-deps install-dev
	$(BIN)/python bench/run.py

lint: install-dev
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
