# remotemedia: `make demo` runs the main example, `make test` runs every check and test.
# Both set up what they need (.venv, the host binary) and are quick when nothing changed.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
HOST := target/release/remotemedia-host
VENV_HOST := $(VENV)/bin/remotemedia-host

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

.PHONY: setup
setup: $(VENV)/bin/python build ## create .venv and put the host binary in .venv/bin

.PHONY: build
build: $(VENV)/bin/python ## build the release host binary
	cargo build --release --locked -p remotemedia-host
	@cmp -s $(HOST) $(VENV_HOST) || install -m 755 $(HOST) $(VENV_HOST)

.PHONY: demo
demo: setup ## run the main example
	@echo '--- examples/quickstart.json: Range -> Multiply -> Add, per-node figures on stderr'
	$(VENV_HOST) run examples/quickstart.json --metrics -
	@echo '--- examples/voice_levels.toml with JSON-lines input, tagged by sink'
	$(VENV_HOST) run examples/voice_levels.toml --input examples/levels.jsonl --tagged
	@echo '--- its graph (mermaid)'
	$(VENV_HOST) graph examples/voice_levels.toml --format mermaid

.PHONY: lint
lint: ## rustfmt check and clippy with warnings as errors
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

.PHONY: test
test: setup lint ## lint, then every test
	cargo test --workspace --locked
	@for f in examples/*.json examples/*.toml; do $(VENV_HOST) validate $$f; done

.PHONY: bench
bench: setup ## per-hop cost and memory against the pure-Python reference
	$(VENV)/bin/python bench/host_hops.py --host $(VENV_HOST)

.PHONY: fmt
fmt: ## format the code
	cargo fmt --all

.PHONY: clean
clean: ## remove build output and .venv
	cargo clean
	rm -rf $(VENV)
