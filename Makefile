# Two commands on a fresh machine: `make run` serves, `make test` tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi
SOURCES := ledger tests bench migrations sandbox config.py wsgi.py gunicorn.conf.py

.PHONY: install run test lint format migrate verify expire-lots expire-holds resume-refunds sync-topups deliver-events bench profile chaos stop clean

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

install: $(BIN)/activate

migrate: install
	$(BIN)/flask db upgrade

# Each gunicorn worker writes its metrics here; /metrics adds them up. gunicorn starts
# the event delivery worker beside itself and stops it with itself.
run: export PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/instance/prometheus
run: export DELIVER_EVENTS_WITH_GUNICORN = 1
run: migrate
	mkdir -p $(PROMETHEUS_MULTIPROC_DIR)
	$(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(PORT) wsgi:app

test: install /usr/bin/chromium
	$(BIN)/pytest

# The browser tests drive Debian's chromium (Playwright never downloads a browser).
/usr/bin/chromium:
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq chromium

# A sandbox to pay in: the service on the embedded database, local stand-ins for Stripe
# and PortOne, a demo organisation; prints a console link and a portal link.
.PHONY: demo
demo: install
	$(BIN)/python -m sandbox

# The README's pictures of the console and the portal (docs/*.png), from headless chromium.
.PHONY: screenshots
screenshots: install
	$(BIN)/pytest -m screenshots tests/pages

# 16 clients against gunicorn vs pgbench running the deduction's SQL (the ceiling), in one
# table; writes bench/results/latest.md.
bench: install /usr/bin/wrk
	$(BIN)/python -m bench.run

# The bench's clients are Debian's wrk (C, as lean as pgbench), installed when missing.
/usr/bin/wrk:
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq wrk

# Where a deduction request spends its time (pyinstrument); writes bench/results/profile.txt.
profile: install
	$(BIN)/python -m bench.profile

# Two service instances on one database, a minute of SIGKILLed workers and terminated
# backends; exits non-zero on any violation.
chaos: install
	$(BIN)/python -m bench.chaos 60

verify: install
	$(BIN)/flask ledger verify

expire-lots: install
	$(BIN)/flask ledger expire-lots

expire-holds: install
	$(BIN)/flask ledger expire-holds

resume-refunds: install
	$(BIN)/flask ledger resume-refunds

sync-topups: install
	$(BIN)/flask ledger sync-topups

# Delivers events to webhook endpoints until stopped (`make run` starts one already).
deliver-events: install
	$(BIN)/flask ledger deliver-events

lint: install
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy

format: install
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

# Stops the embedded PostgreSQL (of `make run` and of the tests) if it is running.
stop:
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m ledger.embedded_db stop instance/pg instance/test-pg; fi

clean: stop
	rm -rf $(VENV) instance/pg instance/test-pg
