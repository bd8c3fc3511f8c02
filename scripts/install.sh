#!/bin/sh
# The one way newsbot is installed into a virtual environment. `make` (development) and
# the Dockerfile (the image) both run it, so the image is built by the steps the tests
# run against; only the last one differs: editable with the dev tools for `make`, the
# package itself for the image.
#
#   scripts/install.sh VENV          the package (the compiled matcher core is built
#                                    when a C compiler is there; pure Python otherwise)
#   scripts/install.sh VENV --dev    editable, with the dev extra (tests, linters)
#
# PYTHON names the interpreter (default python3). Run from the repository's root.
set -eu
venv=${1:?usage: scripts/install.sh VENV [--dev]}
mode=${2:-}
python=${PYTHON:-python3}

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
case "$mode" in
    --dev) "$venv/bin/python" -m pip install --quiet -e '.[dev]' ;;
    "") "$venv/bin/python" -m pip install --quiet --no-cache-dir . ;;
    *) echo "scripts/install.sh: unknown option $mode (expected --dev or nothing)" >&2; exit 2 ;;
esac
