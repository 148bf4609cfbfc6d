# TinBáo: `make run` starts everything (with a local Telegram sandbox when no token is set), `make test` checks it.
SHELL := /bin/bash
PYTHON ?= python3
# Use uv from PATH, or install it once into .tools/ (needs only Python and the PyPI registry).
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: run chat test lint typecheck pytest test-integration migrate sandbox bench i18n-check clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	@touch .venv/.synced

run: .venv/.synced  ## migrate, then run bot + officer API (+ sandbox without TELEGRAM_BOT_TOKEN)
	$(UV) run --frozen tinbao run

chat: .venv/.synced  ## chat with the running sandbox bot as a citizen (second terminal)
	$(UV) run --frozen tinbao chat

migrate: .venv/.synced
	$(UV) run --frozen tinbao migrate

sandbox: .venv/.synced  ## only the Telegram emulator
	$(UV) run --frozen tinbao sandbox

lint: .venv/.synced
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: .venv/.synced
	$(UV) run --frozen mypy bot handlers admin_api storage sandbox bench

pytest: .venv/.synced
	$(UV) run --frozen pytest -q -rs

test: lint typecheck pytest  ## ruff, mypy, pytest (SQLite; PostgreSQL/Redis too when TEST_* URLs are set)

test-integration: .venv/.synced  ## the suite against PostgreSQL + Redis
	TEST_POSTGRES_URL=$${TEST_POSTGRES_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
	TEST_REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	$(UV) run --frozen pytest -q -rs

bench: .venv/.synced  ## intake: throughput (50 citizens at once), then latency at about 300 updates/s
	$(UV) run --frozen python -m bench.intake --citizens 50 --repeat 3
	$(UV) run --frozen python -m bench.intake --citizens 720 --think 1.0 --ramp 40 --repeat 3

i18n-check: .venv/.synced
	$(UV) run --frozen python -m bot.i18n_tool check

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache
