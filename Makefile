# Two commands matter: `make run` (try it) and `make test` (prove it).
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

# `make test` runs against real PostgreSQL and Redis on this machine unless told otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/oms
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test lint format install migrate demo worker beat web bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: export DEBUG ?= 1
run: $(STAMP)
	mkdir -p var/celery/queue var/celery/processed var/media
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "OMS on http://127.0.0.1:$${WEB_PORT:-8000}/ (Ctrl-C stops web, worker and beat)"
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile

test: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	  DEBUG=0 SECRET_KEY=test-only-secret SECURE_SSL_REDIRECT=0 \
	  $(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/celery var/oms.sqlite3*
