#!/usr/bin/env bash
# Runs every test: the Python suite (real ffmpeg, real servers), then the web unit and
# end-to-end tests. Exits non-zero when any part fails, and ends with one line per suite
# so that the tail of a CI log says which part failed without scrolling back.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
summary=()

run_suite() {
  local name=$1
  shift
  "$@"
  local rc=$?
  if [ "$rc" -eq 0 ]; then
    summary+=("$name: ok")
  else
    summary+=("$name: FAILED (exit $rc)")
    status=$rc
  fi
}

# -rfE lists failed and erroring tests by name at the end of pytest's output.
run_suite pytest .venv/bin/python -m pytest packages/backend/tests -q -p no:cacheprovider -rfE
if [ -f packages/web/package.json ]; then
  # A hang in either must fail the run long before CI's own limit (they take ~10 s and ~1 min).
  run_suite vitest timeout --kill-after=30 900 bash -c 'cd packages/web && npm test'
  run_suite e2e timeout --kill-after=30 1500 bash -c 'cd packages/web && npm run e2e'
fi

echo
echo "== test summary =="
printf '%s\n' "${summary[@]}"
# .ci/run gathers the summaries of the tests and the linters into its last lines.
[ -z "${RIFFROOM_CI_SUMMARY:-}" ] || printf '%s\n' "${summary[@]}" >> "$RIFFROOM_CI_SUMMARY"
exit $status
