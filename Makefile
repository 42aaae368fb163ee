# App Marketplace portal. `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
PYTEST := .venv/bin/pytest
PG_URL ?= postgres://postgres@127.0.0.1:5432/marketplace
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help venv run migrate seed test test-sqlite test-postgres services lint format bench clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

.venv/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements-dev.txt
	touch $@

venv: .venv/.installed ## Create the virtualenv and install the pinned requirements

migrate: venv ## Apply database migrations
	mkdir -p var/mail var/log
	$(PY) manage.py migrate --noinput

seed: migrate ## Load the demo data (idempotent)
	PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://$${HOST:-127.0.0.1}:$${PORT:-8000}} $(PY) manage.py seed_demo

run: seed ## Set up everything and start the portal with a Celery worker and beat
	./scripts/run.sh

services: ## Start (or install) PostgreSQL, Redis and Chromium for the tests
	./scripts/ensure_services.sh

test: venv services ## Run the whole suite: SQLite, then the database part on PostgreSQL
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: venv ## The suite on SQLite (integration tests run in the PostgreSQL phase)
	$(PYTEST) -m "not integration" $(PYTEST_ARGS)

test-postgres: venv ## Database and integration tests on PostgreSQL and Redis
	DATABASE_URL=$(PG_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(PYTEST) -m "database or integration" $(PYTEST_ARGS)

lint: venv ## ruff check and format check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: venv ## Format the code with ruff
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench: venv services ## Benchmarks (print figures)
	DATABASE_URL=$(PG_URL) $(PY) -m bench

clean: ## Remove the virtualenv and var/
	rm -rf .venv var
