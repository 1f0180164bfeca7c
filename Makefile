# The two commands of the README, `make run` and `make test`, and `make lint` (CI runs test and lint).
.PHONY: setup run test test-python lint lint-ruff lint-format lint-types lint-web

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

# Every check runs even when an earlier one fails, and the last lines say which failed (also appended
# to $RIFFROOM_CI_SUMMARY when .ci/run sets it). The same checks run as pre-commit hooks.
LINT_CHECKS = lint-ruff lint-format lint-types lint-web
lint: setup
	@failed=""; for check in $(LINT_CHECKS); do $(MAKE) --no-print-directory $$check || failed="$$failed $$check"; done; \
	echo; echo "== lint summary =="; \
	for check in $(LINT_CHECKS); do \
	  case " $$failed " in *" $$check "*) line="$$check: FAILED" ;; *) line="$$check: ok" ;; esac; \
	  echo "$$line"; [ -z "$${RIFFROOM_CI_SUMMARY:-}" ] || echo "$$line" >> "$$RIFFROOM_CI_SUMMARY"; \
	done; \
	[ -z "$$failed" ]

lint-ruff:
	.venv/bin/ruff check --config packages/backend/pyproject.toml packages/backend bench

lint-format:
	.venv/bin/ruff format --check --config packages/backend/pyproject.toml packages/backend bench

lint-types:  # strict: see [tool.mypy] in packages/backend/pyproject.toml
	.venv/bin/mypy --config-file packages/backend/pyproject.toml packages/backend/src/riffroom

lint-web:
	@if [ -f packages/web/package.json ]; then cd packages/web && npm run typecheck && npm run lint; fi
