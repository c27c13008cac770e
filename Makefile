# Two commands matter: `make run` (try it) and `make test` (prove it).
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
WEB_PORT ?= 8000
export WEB_PORT

# `make test` runs against real PostgreSQL and Redis on this machine unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/oms
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# pytest exits 5 when a selection holds no test (PYTEST_ARGS naming only one kind).
NONE_IS_FINE = || [ $$? -eq 5 ]
TEST_ENV = DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
  REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
  DEBUG=0 SECRET_KEY=test-only-secret SECURE_SSL_REDIRECT=0 EMAIL_URL=consolemail://

.PHONY: run test test-fast lint format install migrate demo clean docker-check audit bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: export DEBUG ?= 1
migrate: $(STAMP)
	mkdir -p var/celery/queue var/celery/processed var/celery/control var/media
	$(PY) manage.py migrate --noinput

demo: export DEBUG ?= 1
demo: migrate
	$(PY) manage.py load_demo

# Web (gunicorn), Celery worker and beat together; Ctrl-C stops all three.
# No DATABASE_URL: SQLite in var/. No REDIS_URL: Celery's filesystem transport in var/.
run: export DEBUG ?= 1
run: demo
	@echo
	@echo "  OMS is starting on http://127.0.0.1:$(WEB_PORT)/"
	@echo "  Log in with password 'demo' as sales@example.com, operations@example.com,"
	@echo "  finance@example.com, manager@example.com or admin@example.com (Django admin)."
	@echo "  Ctrl-C stops the web server, the worker and beat."
	@echo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile

# The whole suite on PostgreSQL and Redis. Two processes share the ordinary tests; tests
# that run real Celery workers and their own Redis servers, measure real time under
# concurrency or count messages on the shared Redis queue follow on their own.
test: $(STAMP)
	$(TEST_ENV) $(BIN)/pytest -n 2 --dist loadgroup -m "not worker and not serial" $(PYTEST_ARGS) $(NONE_IS_FINE)
	$(TEST_ENV) $(BIN)/pytest -m "worker or serial" $(PYTEST_ARGS) $(NONE_IS_FINE)

# Everything except the browser and real-worker tests, for a quick loop while editing.
test-fast: $(STAMP)
	$(TEST_ENV) $(BIN)/pytest -m "not browser and not worker and not serial" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Known vulnerabilities in the installed packages (pip-audit): one with a fixed release fails,
# one without a fix only warns, and packages the advisory service could not check fail loudly.
audit: $(STAMP)
	$(PY) .ci/audit_dependencies.py

# The benchmark at business scale on its own database (created, migrated and filled once):
# `make bench`, `make bench ORDERS=20000`, `make bench BENCH_ARGS="--million"` or "--quick".
ORDERS ?= 100000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/oms_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/13
bench: $(STAMP)
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_REDIS_URL=$(BENCH_REDIS_URL) \
	  $(PY) -m oms.bench.run --orders $(ORDERS) $(BENCH_ARGS)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

docker-check:
	docker-compose config -q

clean:
	rm -rf var/celery var/oms.sqlite3*
