#!/usr/bin/env bash
# Build the reference environment for benchmarks and log-joint checks against MoSeq's own code:
# keypoint-moseq 0.8.1 + jax-moseq 0.3.7 + CPU jax, in bench/.venv-moseq (gitignored), never in
# the project's .venv (jax stays out of ethogram's dependencies).
#
#   bash bench/make_reference_env.sh            # create or complete the env, print versions
#   MOSEQ_VENV=/tmp/venv-moseq bash bench/make_reference_env.sh   # elsewhere
#
# Idempotent: an env whose versions already match is left alone (pip is not run again).
# float64: keypoint_moseq switches jax to float64 when imported; the scripts in bench/ that
# import jax_moseq alone set JAX_ENABLE_X64=1 themselves. CPU only: jaxlib's PyPI wheel is
# CPU-only, and JAX_PLATFORMS=cpu is set by the scripts.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${MOSEQ_VENV:-$HERE/.venv-moseq}"
PYTHON="${PYTHON:-python3}"
CONSTRAINTS="$HERE/moseq_reference_constraints.txt"
want_kpms=0.8.1
want_jm=0.3.7

versions() {
    "$VENV/bin/python" - <<'PY'
import os
os.environ.setdefault("JAX_PLATFORMS", "cpu")
from importlib import metadata
names = ["keypoint-moseq", "jax-moseq", "jax", "jaxlib", "dynamax", "numpy", "scipy", "numba",
         "scikit-learn", "h5py", "pandas", "sleap-io", "tfp-nightly"]
for n in names:
    try:
        print(f"{n}=={metadata.version(n)}")
    except metadata.PackageNotFoundError:
        print(f"{n} missing")
import jax
jax.config.update("jax_enable_x64", True)
print("jax devices:", jax.devices(), "x64:", jax.numpy.zeros(1).dtype)
PY
}

current_ok() {
    [ -x "$VENV/bin/python" ] || return 1
    "$VENV/bin/python" - "$want_kpms" "$want_jm" <<'PY' 2>/dev/null
import sys
from importlib import metadata
ok = (metadata.version("keypoint-moseq") == sys.argv[1] and metadata.version("jax-moseq") == sys.argv[2])
metadata.version("jax"), metadata.version("jaxlib")
sys.exit(0 if ok else 1)
PY
}

t0=$(date +%s)
if current_ok; then
    echo "reference env at $VENV is complete (keypoint-moseq $want_kpms, jax-moseq $want_jm)"
else
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    pin=()
    [ -f "$CONSTRAINTS" ] && pin=(-c "$CONSTRAINTS")
    "$VENV/bin/python" -m pip install -q "${pin[@]}" \
        "keypoint-moseq==$want_kpms" "jax-moseq==$want_jm" jax jaxlib
fi
versions
echo "seconds: $(( $(date +%s) - t0 ))"
echo "size: $(du -sh "$VENV" | cut -f1)"
