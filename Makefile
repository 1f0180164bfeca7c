# The two commands of the README: `make run` and `make test`.
.PHONY: setup run test test-python lint

PORT ?= 8000
HOST ?= 127.0.0.1

setup:
	bash scripts/setup.sh

run: setup
	@if [ -f packages/web/package.json ]; then cd packages/web && npm run build; fi
	.venv/bin/riffroom serve --host $(HOST) --port $(PORT)

test:
	WITH_TEST_SERVICES=1 bash scripts/setup.sh
	bash scripts/test.sh

test-python:
	bash scripts/setup.sh
	.venv/bin/python -m pytest packages/backend/tests -q

lint:
	.venv/bin/ruff check --config packages/backend/pyproject.toml packages/backend bench
	.venv/bin/mypy --config-file packages/backend/pyproject.toml packages/backend/src/riffroom
	cd packages/web && npm run typecheck && npm run lint
