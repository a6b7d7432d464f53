# The two commands a new user needs: `make run` and `make test`.
VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8080
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

# llama-cpp-python compiles llama.cpp with -march=native. Some VMs advertise Intel AMX but
# cannot run it (the first decode segfaults in ggml_backend_amx_mul_mat), so the build leaves
# AMX out on x86-64; everything else stays native. A cached or foreign wheel that still cannot
# decode here is rebuilt once (scripts/check-llama.py decides).
LLAMA_ISA := $(if $(filter x86_64,$(shell uname -m)),-mno-amx-tile -mno-amx-int8 -mno-amx-bf16)
LLAMA_ENV := CFLAGS="$(LLAMA_ISA) $$CFLAGS" CXXFLAGS="$(LLAMA_ISA) $$CXXFLAGS"
LLAMA_CHECK := $(BIN)/python scripts/check-llama.py || { \
	$(LLAMA_ENV) $(BIN)/pip install --no-cache-dir --force-reinstall --no-deps \
	  "llama-cpp-python==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')" \
	  && $(BIN)/python scripts/check-llama.py; }

.PHONY: run test install install-dev system-deps bench bench-deps lint clean docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(LLAMA_ENV) $(BIN)/pip install -e '.[docs]'
	$(LLAMA_CHECK)
	touch $@

$(DEVSTAMP): pyproject.toml | $(BIN)/python
	$(LLAMA_ENV) $(BIN)/pip install -e '.[dev,redis,transformers,docs]'
	$(LLAMA_CHECK)
	touch $@ $(STAMP)

install: $(STAMP)

install-dev: $(DEVSTAMP)

## Install into .venv and start the server on the embedded model (http://127.0.0.1:8080).
run: install docs
	$(BIN)/mockvendor serve --host $(HOST) --port $(PORT)

## Debian packages the suite drives for real: chromium, redis-server, wrk.
system-deps:
	bash scripts/install-system-deps.sh

## Install everything (dev extras and system packages) and run the whole suite.
test: system-deps install-dev docs
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks (print ratios against baselines measured in the same run).
bench: system-deps install-dev bench-deps
	$(BIN)/python bench/run.py

## The peer mock the echo benchmark compares against (aimock, from npm; Node.js 20).
bench-deps:
	npm ci --prefix bench/aimock --no-audit --no-fund

## The documentation site (docs/, mkdocs.yml), warnings as errors, into src/mockvendor/web/site (served at /docs).
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

lint: install-dev
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
