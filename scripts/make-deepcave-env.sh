#!/usr/bin/env bash
# Builds the isolated DeepCAVE environment .venv-deepcave from requirements-deepcave.lock.
# DeepCAVE 1.4.1 declares Python <3.11 and pins packages that clash with the main
# environment, so it gets its own venv, used only by the export tests and `hpo2nas dashboard`.
# Python 3.10 (pyenv's or python3.10 on PATH) installs the lock as is; pyrfr has a wheel there.
# Otherwise Python 3.11 installs it with --no-deps --ignore-requires-python, building pyrfr
# from source with Debian's swig.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-deepcave
lock=requirements-deepcave.lock
py=$(ls -d "$HOME"/.pyenv/versions/3.10.*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$py" ] || py=$(command -v python3.10 || true)

rm -rf "$venv"
if [ -n "$py" ]; then
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade "pip>=24"
    "$venv/bin/python" -m pip install -q -r "$lock"
else
    echo "make-deepcave-env: no Python 3.10; falling back to python3.11 --ignore-requires-python" >&2
    bash scripts/ensure-debian.sh swig
    python3.11 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade "pip>=24" "setuptools<81" wheel
    "$venv/bin/python" -m pip install -q --no-deps --ignore-requires-python -r "$lock"
fi
"$venv/bin/python" -c "import deepcave, rq, redis; assert deepcave.version == '1.4.1', deepcave.version"
touch "$venv/.installed"
