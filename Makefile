# The README's commands. Everything a fresh machine needs is installed from here.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: translations install assets demo demo-stop test test-unit test-calendar soak services-up services-down lint typecheck openapi bench clean lock audit

install: $(VENV)/.installed

# requirements.lock pins every dependency's version (a constraints file: it pins, it does not add).
$(VENV)/.installed: pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c requirements.lock -e '.[dev]'
	touch $@

# Refresh the pins from the working venv after changing pyproject.toml (review the diff).
lock:
	$(VENV)/bin/pip install -q -e '.[dev]'
	{ echo "# Pinned from a working venv by 'make lock'; 'make install' uses it as constraints."; \
	  $(VENV)/bin/pip freeze --exclude-editable; } > requirements.lock

# pip-audit against the pins; says "audit NOT run" (exit 2) when no vulnerability source answers.
audit: install
	$(PY) deploy/audit.py requirements.lock

assets:
	bash deploy/local/assets.sh

# The Welsh catalogue: extract every string (babel.cfg), update messages.po (new strings arrive
# with an empty msgstr, removed ones are dropped), compile messages.mo. Translate, then run again.
translations: install
	$(PY) deploy/translations.py

services-up:
	bash deploy/local/services.sh up

services-down:
	bash deploy/local/services.sh down

demo: install
	bash deploy/local/demo.sh up

demo-stop:
	bash deploy/local/demo.sh down

test: install
	bash deploy/local/test.sh $(PYTEST_ARGS)

test-unit: install
	$(VENV)/bin/pytest tests/unit -q

# The date-sensitive tests at every awkward date of the calendar (deploy/local/calendar.sh).
test-calendar: install
	bash deploy/local/calendar.sh

# R8/R9: the scaled-out services under random SIGKILLs for BRIDGES_SOAK_SECONDS (600), then the
# history oracle (deploy/local/soak.sh). Not part of `make test`.
soak: install
	bash deploy/local/soak.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy shared services

openapi: install
	$(VENV)/bin/bridges ledger openapi --write services/ledger/openapi.json
	$(VENV)/bin/bridges notifier openapi --write services/notifier/openapi.json

bench: install
	bash deploy/local/bench.sh

clean:
	bash deploy/local/services.sh down || true
	bash deploy/local/postgres.sh purge || true
	rm -rf var
