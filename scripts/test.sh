#!/usr/bin/env bash
# Runs every test: the Python suite (real ffmpeg, real servers), then the web unit and
# end-to-end tests. Exits non-zero when any part fails.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
.venv/bin/python -m pytest packages/backend/tests -q -p no:cacheprovider || status=$?
if [ -f packages/web/package.json ]; then
  (cd packages/web && npm test) || status=$?
  (cd packages/web && npm run e2e) || status=$?
fi
exit $status
