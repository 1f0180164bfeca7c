#!/usr/bin/env bash
# Installs everything RiffRoom and its tests need, idempotently, on a fresh Debian machine
# with Python 3.11 and Node 20. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WITH_WEB=${WITH_WEB:-1}
WITH_TEST_SERVICES=${WITH_TEST_SERVICES:-0}

apt_packages=(ffmpeg fluidsynth fluid-soundfont-gm bubblewrap)  # bubblewrap: sandboxed ffmpeg
[ "$WITH_WEB" = 1 ] && [ "$WITH_TEST_SERVICES" = 1 ] && apt_packages+=(chromium)
# The scale-out tests start their own redis-server and PostgreSQL on loopback ports.
[ "$WITH_TEST_SERVICES" = 1 ] && apt_packages+=(redis-server postgresql)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python: a venv with the CPU build of torch pinned first, so nothing pulls a CUDA build.
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=.venv/.riffroom-installed
want=$(cat packages/backend/pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages"
  .venv/bin/pip install -q --disable-pip-version-check "torch==2.13.0"
  .venv/bin/pip install -q --disable-pip-version-check -e "packages/backend[demucs,server,scale,test]"
  echo "$want" > "$stamp"
fi

# Web app: dependencies from the lock file, then the production build the server serves.
if [ "$WITH_WEB" = 1 ] && [ -f packages/web/package-lock.json ]; then
  web_stamp=packages/web/node_modules/.riffroom-installed
  web_want=$(sha256sum packages/web/package-lock.json | cut -c1-16)
  if [ "$(cat "$web_stamp" 2>/dev/null)" != "$web_want" ]; then
    echo "setup: installing web dependencies"
    (cd packages/web && npm ci --no-audit --no-fund --loglevel=error)
    echo "$web_want" > "$web_stamp"
  fi
fi
echo "setup: ready ($ROOT)"
