# App Marketplace portal. `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
PYTEST := .venv/bin/pytest
PG_URL ?= postgres://postgres@127.0.0.1:5432/marketplace
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help venv run serve migrate seed test test-sqlite test-postgres fuzz matrix services lint format bench faults clean

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
	DEMO_CALLBACKS=on $(PY) manage.py seed_demo

run: seed ## Set up everything and start the portal with a Celery worker and beat
	./scripts/run.sh

serve: venv ## Production profile: gunicorn, a Celery worker per queue group and beat on DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis)
	./scripts/serve.sh

services: ## Start (or install) PostgreSQL, Redis and Chromium for the tests
	./scripts/ensure_services.sh

test: venv services ## Run the whole suite: SQLite, then the database part on PostgreSQL
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: venv ## The suite on SQLite (integration tests run in the PostgreSQL phase)
	$(PYTEST) -m "not integration" $(PYTEST_ARGS)

test-postgres: venv ## Database and integration tests on PostgreSQL and Redis
	DATABASE_URL=$(PG_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(PYTEST) -m "database or integration" $(PYTEST_ARGS)

matrix: venv ## The authorization matrix alone (every route x every role; prints the request count)
	$(PYTEST) tests/security/test_authorization_matrix.py -q -s -p no:cacheprovider $(PYTEST_ARGS) | grep -v '^$$'

fuzz: venv services ## Fuzz the API from its OpenAPI schema with more cases (FUZZ_EXAMPLES=100) on PostgreSQL
	DATABASE_URL=$(PG_URL) FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} FUZZ_SECONDS_PER_OPERATION=$${FUZZ_SECONDS_PER_OPERATION:-120} \
		$(PYTEST) tests/security/test_api_fuzzing.py -q -s -p no:cacheprovider $(PYTEST_ARGS)

lint: venv ## ruff check and format check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: venv ## Format the code with ruff
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench: venv ## Every #14 figure beside its goal (portal vs floor under gunicorn, wrk); writes var/bench/results.json
	WITH_WRK=1 ./scripts/ensure_services.sh
	DATABASE_URL=$(PG_URL) $(PY) -m bench $(BENCH_ARGS)

FAULT_RUNS ?= 10
faults: venv services ## Fault injection at full size: 10,000 installations, 5 SIGKILLs, Redis restart, cut connections; prints a table
	DATABASE_URL=$(PG_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) FAULT_RUNS=$(FAULT_RUNS) FAULT_INSTALLATIONS=10000 \
	  FAULT_KILLS=5 FAULT_REDIS_RESTART=1 FAULT_TERMINATE_DB=1 FAULT_BOUND_SECONDS=900 \
	  $(PYTEST) tests/integration/test_faults.py -p no:cacheprovider -q $(PYTEST_ARGS); status=$$?; \
	  echo; echo "fault injection, $(FAULT_RUNS) runs (each: one rollout to 10,000 installations, half needing consent)"; \
	  cat var/faults-table.txt; exit $$status

clean: ## Remove the virtualenv and var/
	rm -rf .venv var
