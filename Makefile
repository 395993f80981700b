# Two entry points for a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format services browser

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/nuanliu demo

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Start PostgreSQL and Mosquitto if this machine has them and they are down.
services:
	@bash scripts/ensure-services.sh

# Debian's Chromium for the browser tests, a CJK font so Chinese pages and PDFs render,
# poppler-utils (pdftotext, pdftoppm) to read generated PDFs; nginx, openssl, logrotate
# and systemd-analyze for the deployment config checks (tests/deploy).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi wenquanyi \
		|| ! command -v pdftotext >/dev/null 2>&1 || ! command -v nginx >/dev/null 2>&1 \
		|| ! command -v openssl >/dev/null 2>&1 || ! command -v logrotate >/dev/null 2>&1 \
		|| ! command -v systemd-analyze >/dev/null 2>&1; then \
		apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei poppler-utils \
		nginx-light openssl logrotate systemd >/dev/null; fi

test: install services browser lint
	$(PY) -m pytest
