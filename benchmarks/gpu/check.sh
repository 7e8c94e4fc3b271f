#!/usr/bin/env bash
# The prepared GPU check (docs/gpu.md), one device command of at most 8 min:
# installs the carried wheels into a temporary path (the device reaches no
# registry), then runs benchmarks.gpu.gpu_check with that path first.
# Environment: OUT (output folder, default gpu_check_out), WHEELS (default
# wheels), CHECK_PYTHON (default python3; not PYTHON, which `make test
# PYTHON=...` exports for the venv's interpreter). Arguments go to gpu_check.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-gpu_check_out}"
wheels="${WHEELS:-wheels}"
python="${CHECK_PYTHON:-python3}"
mkdir -p "$out"
shopt -s nullglob
files=("$wheels"/*.whl)
if [ "${#files[@]}" -eq 0 ]; then
    echo "gpu-check: no wheels in $wheels/; download them first:" \
        "python -m benchmarks.gpu.device_wheels (docs/gpu.md)" >&2
    exit 2
fi
site="$(mktemp -d "${TMPDIR:-/tmp}/img_gpu_check.XXXXXX")"
trap 'rm -rf "$site"' EXIT
start=$SECONDS
if ! "$python" -m pip install --no-index --no-deps --disable-pip-version-check \
        --target "$site" "${files[@]}" >"$out/install.log" 2>&1; then
    tail -n 30 "$out/install.log" >&2
    echo "gpu-check: pip install of $wheels/*.whl failed ($out/install.log)" >&2
    exit 3
fi
echo "gpu-check: installed ${#files[@]} wheels into $site in" \
    "$((SECONDS - start)) s" | tee -a "$out/install.log"
PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}" \
    "$python" -m benchmarks.gpu.gpu_check --out "$out" --site "$site" "$@"
