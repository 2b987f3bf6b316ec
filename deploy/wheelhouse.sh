#!/usr/bin/env bash
# Fills wheelhouse/ with sendmako's wheel and every dependency's, for the image's Python
# (Debian 12's 3.11.2, glibc 2.36, x86_64) rather than this machine's: the Dockerfile
# installs from it without a registry.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
rm -rf wheelhouse
"$PYTHON" -m pip wheel -q --no-deps -w wheelhouse .
platforms=()
for tag in 2_36 2_35 2_34 2_33 2_32 2_31 2_28 2_27 2_26 2_24 2_17; do
    platforms+=(--platform "manylinux_${tag}_x86_64")
done
platforms+=(--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64)
# async-timeout: redis needs it below Python 3.11.3, a marker pip's --python-version misses.
"$PYTHON" -m pip download -q -d wheelhouse --only-binary=:all: --python-version 3.11.2 \
    --implementation cp --abi cp311 --abi abi3 --abi none "${platforms[@]}" \
    wheelhouse/sendmako-*.whl 'async-timeout>=4.0.3'
