# remotemedia: `make demo` runs the main example, `make test` runs every check and test.
# Both set up what they need (.venv, the host binary) and are quick when nothing changed.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
# The real interpreter behind any shim (pyenv): PyO3 links against its libpython.
export PYO3_PYTHON ?= $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
# What maturin also sets when it builds the host wheel (host/pyproject.toml): with the same
# value, cargo's build of pyo3 serves both `make build` and that wheel instead of being redone.
export PYO3_ENVIRONMENT_SIGNATURE ?= $(shell $(PYO3_PYTHON) -c 'import struct, sys; v = sys.version_info; print("%s-%d.%d-%dbit" % (sys.implementation.name, v.major, v.minor, struct.calcsize("P") * 8))')
# RustPython 0.6's parser crates declare rustc 1.96 and build with 1.95: they are pinned in
# Cargo.lock at a version known to build, and cargo is told not to refuse them. maturin's
# PEP 517 builds (`pip install` of the repository) take the flag from MATURIN_PEP517_ARGS.
CARGO_FLAGS := --locked --ignore-rust-version
export MATURIN_PEP517_ARGS ?= --ignore-rust-version
VENV := .venv
HOST := target/release/remotemedia-host
VENV_HOST := $(VENV)/bin/remotemedia-host

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

$(VENV)/bin/python:
	$(PYO3_PYTHON) -m venv $(VENV)

# The distribution (editable: the SDK from sdk/python, the native module built by maturin)
# and the test tools; redone when the packaging changes.
$(VENV)/.installed: $(VENV)/bin/python pyproject.toml sdk/Cargo.toml
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]' maturin
	touch $@

# The plugins of plugins/ (editable, with their test extras). The Silero model ships in the
# `silero-vad` package, whose requirements (torch) the plugin never imports: it is installed
# alone, and remotemedia-silero finds the model file through its metadata.
PLUGIN_DIRS := $(wildcard plugins/*)
SILERO_VAD := silero-vad==6.2.3
$(VENV)/.plugins: $(VENV)/.installed $(wildcard plugins/*/pyproject.toml)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(foreach d,$(PLUGIN_DIRS),-e '$(d)[test]')
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps '$(SILERO_VAD)'
	touch $@

# espeak-ng speaks the demo's and the tests' speech; installed with the system's package
# manager when it is missing (root, or sudo).
.PHONY: espeak
espeak:
	@command -v espeak-ng >/dev/null || { \
	  echo 'installing espeak-ng (apt-get)'; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq espeak-ng >/dev/null; \
	} || { echo 'error: espeak-ng is missing and could not be installed: install it (apt-get install espeak-ng)' >&2; exit 1; }

# The native module again whenever the Rust code changes (cargo makes it quick otherwise).
RUST_SOURCES := $(shell find host/src vm-sandbox/src sdk/src -name '*.rs') Cargo.lock
$(VENV)/.native: $(VENV)/.installed $(RUST_SOURCES)
	$(VENV)/bin/maturin develop --release --quiet --ignore-rust-version
	touch $@

.PHONY: setup
setup: $(VENV)/.native $(VENV)/.plugins espeak build ## create .venv with the SDK, native module and plugins, and the host binary in .venv/bin

.PHONY: build
build: $(VENV)/bin/python ## build the release host binary
	cargo build --release $(CARGO_FLAGS) -p remotemedia-host
	@cmp -s $(HOST) $(VENV_HOST) || install -m 755 $(HOST) $(VENV_HOST)

.PHONY: demo
demo: setup ## run the main example
	@echo '--- examples/voice/demo.py: speech -> audio.WavSource -> audio.Resample -> SileroVad -> audio.SegmentWriter'
	$(VENV)/bin/python examples/voice/demo.py --out build/voice
	@echo '--- examples/quickstart.json: Range -> Multiply -> Add, per-node figures on stderr'
	$(VENV_HOST) run examples/quickstart.json --metrics -
	@echo '--- examples/voice_levels.toml with JSON-lines input, tagged by sink'
	$(VENV_HOST) run examples/voice_levels.toml --input examples/levels.jsonl --tagged
	@echo '--- its graph (mermaid)'
	$(VENV_HOST) graph examples/voice_levels.toml --format mermaid
	@echo '--- examples/mixed_python.json: Python nodes of the SDK inside the host, between Rust nodes'
	$(VENV_HOST) run examples/mixed_python.json --metrics -
	@echo '--- examples/sdk_pipeline.py: a pipeline built in Python, run in-process on both engines'
	$(VENV)/bin/python examples/sdk_pipeline.py

.PHONY: lint
lint: $(VENV)/.native ## rustfmt, clippy -D warnings, ruff, mypy, stubtest
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets $(CARGO_FLAGS) -- -D warnings
	$(VENV)/bin/ruff check sdk tests bench examples plugins
	$(VENV)/bin/ruff format --check sdk tests bench examples plugins
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m mypy.stubtest remotemedia_runtime._native

.PHONY: test
test: setup lint ## lint, then every test
	# In the release profile, where `make build` and the native module compiled RustPython
	# already: a debug build of it would take as long again.
	cargo test --workspace --release $(CARGO_FLAGS)
	$(VENV)/bin/pytest -q
	@for f in examples/*.json examples/*.toml; do $(VENV_HOST) validate $$f; done

.PHONY: bench
bench: setup ## per-hop cost, frame latency and memory against the pure-Python reference
	$(VENV)/bin/python bench/host_hops.py --host $(VENV_HOST)
	$(VENV)/bin/python bench/python_hops.py --host $(VENV_HOST) --venv $(VENV)
	$(VENV)/bin/python bench/rustpython_vm.py --host $(VENV_HOST) --venv $(VENV)
	$(VENV)/bin/python bench/sdk_run.py
	$(VENV)/bin/python bench/live_frames.py --host $(VENV_HOST) --venv $(VENV)
	$(VENV)/bin/python bench/worker_frames.py
	$(VENV)/bin/python bench/media_size.py
	$(VENV)/bin/python bench/voice_vad.py --host $(VENV_HOST)

.PHONY: fmt
fmt: ## format the code
	cargo fmt --all

.PHONY: clean
clean: ## remove build output and .venv
	cargo clean
	rm -rf $(VENV)
