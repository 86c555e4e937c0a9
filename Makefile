# One-command set-up for every target: each does all of its own set-up, idempotently.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# System packages: espeak-ng (default Vietnamese voice), ffmpeg (MP3 via pydub), sox (audio checks),
# debootstrap (the Asterisk root), chromium (browser tests), python3-venv (virtualenv on Debian's Python),
# debian-archive-keyring (debootstrap checks Debian unstable's signatures with it, also on Ubuntu hosts),
# fail2ban (bans sources of repeated SIP failures with config/fail2ban/; the tests check its filter),
# systemd (systemd-analyze checks the units `hotline service-units` renders),
# haproxy (spreads Asterisk's per-call WebSockets over the call workers; the tests run it on loopback).
APT_PACKAGES := espeak-ng ffmpeg sox debootstrap chromium python3-venv ca-certificates debian-archive-keyring \
	fail2ban systemd haproxy
STAMP := $(VENV)/.installed

.PHONY: help setup apt venv db models test test-postgres run bench lint clean

help:
	@echo "make run    - set up everything and start the hotline (Asterisk, ARI app, web app)"
	@echo "make test   - set up everything and run the whole test suite"
	@echo "make bench  - run the benchmarks, results in bench/results/*.json"
	@echo "make lint   - ruff, mypy and the import contract"
	@echo "make setup  - only the set-up"

setup: apt venv db models

apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

db: venv
	$(BIN)/hotline db upgrade

# Silero VAD and Smart Turn: two files from the pinned pipecat-ai wheel (pip download --no-deps, sha256
# checked), not its dependency tree; kept when already installed.
models: venv
	$(BIN)/hotline voices turn-models

# The store tests run on SQLite and on PostgreSQL: Debian's server and, as root, a user to run it as
# (tests/postgres-setup.sh); the tests start a throw-away cluster and fail if it cannot start.
test-postgres:
	@bash tests/postgres-setup.sh

test: setup test-postgres
	TEST_POSTGRES=required $(BIN)/python -m pytest -q -rfEs --durations=30

run: setup
	$(BIN)/hotline run

# `make bench BENCH=workers` runs a throw-away PostgreSQL as the tests do.
bench: setup test-postgres
	$(BIN)/python -m bench $(BENCH)

PACKAGES := core voice intents asterisk ivr broadcast sip console web hotline

# ruff (style, bugs, async misuse, formatting), mypy (types, every package), import-linter (layers flow one way).
lint: apt venv
	$(BIN)/ruff check $(PACKAGES) tests bench
	$(BIN)/ruff format --check $(PACKAGES) tests bench
	$(BIN)/mypy $(PACKAGES)
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var
