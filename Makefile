# One command per job, from a fresh clone: `make dev` runs the whole system in the foreground,
# `make test` runs lint and every test against real PostgreSQL and Redis.
# Configuration is the environment (see settings.py); nothing here holds a secret.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The virtualenv is up to date when this stamp is newer than both requirements files.
INSTALLED := $(VENV)/.installed
DEV_ENV := .dev/env

# Tests use a database and a Redis db of their own; CI passes throwaway names.
TEST_DATABASE_URL ?= postgresql+psycopg2://postgres@127.0.0.1:5432/wallet_test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=
# Test processes side by side (tests/fixtures/parallel.py keeps them apart); 0 runs in this process.
TEST_PROCESSES ?= 2

.PHONY: dev test demo verify migrate bench lint venv api-key api-keys revoke-api-key

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(INSTALLED)

# API, one ledger worker (all 16 partitions), the webhooks worker, beat and Flower under honcho;
# Ctrl-C stops them all. The Procfile's commands come from the virtualenv through PATH; exported
# variables win over $(DEV_ENV).
dev: $(INSTALLED)
	$(BIN)/python -m devtools.preflight
	$(BIN)/alembic upgrade head
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m devtools.devenv $(DEV_ENV)

test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	TEST_DATABASE_URL="$(TEST_DATABASE_URL)" TEST_REDIS_URL="$(TEST_REDIS_URL)" $(BIN)/pytest --numprocesses $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

demo: $(INSTALLED)
	$(BIN)/python -m ledger demo

# API keys (docs/api.md, "Authentication"). The new key is printed once, alone on the last line.
api-key: $(INSTALLED)
	@test -n "$(NAME)" || { echo 'usage: make api-key NAME=<client> [SCOPES="wallets:read,..."] [RATE_LIMIT="<n>/<second|minute|hour>"]' >&2; exit 2; }
	@$(BIN)/python -m ledger keys create "$(NAME)" --scopes "$(SCOPES)" --rate-limit "$(RATE_LIMIT)"

api-keys: $(INSTALLED)
	@$(BIN)/python -m ledger keys list $(if $(NAME),--client "$(NAME)")

revoke-api-key: $(INSTALLED)
	@test -n "$(PREFIX)" || { echo 'usage: make revoke-api-key PREFIX=wk_xxxxxxxx' >&2; exit 2; }
	@$(BIN)/python -m ledger keys revoke "$(PREFIX)"

verify: $(INSTALLED)
	$(BIN)/python -m ledger verify

migrate: $(INSTALLED)
	$(BIN)/alembic upgrade head

bench: $(INSTALLED)
	$(BIN)/python -m bench

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
