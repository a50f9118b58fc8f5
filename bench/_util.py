"""Shared benchmark plumbing: single-thread environment, timing medians, machine description.

Importing this module first pins every numerical library to one thread (OpenBLAS, MKL,
OpenMP, XLA's CPU backend) and switches JAX to float64, so that side-by-side timings compare
algorithms, not thread pools. Timings are medians over repeats of the same call in the same
process; the machine is shared, so ratios taken in one run are what we quote.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402

import numpy as np  # noqa: E402


def median_time(func, repeats: int = 7, warmup: int = 1) -> float:
    """Median wall time of ``func()`` in seconds over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def version(pkg: str) -> str:
    """Installed version of ``pkg`` or 'not installed'."""
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict:
    """CPU model, core count, Python and library versions, BLAS and thread settings."""
    cpu = platform.processor() or ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                cpu = line.split(":", 1)[1].strip()
    except OSError:
        pass
    from threadpoolctl import threadpool_info

    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
        f"{i.get('num_threads')} thread)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "versions": {
            p: version(p)
            for p in (
                "ethogram",
                "numpy",
                "scipy",
                "numba",
                "hmmlearn",
                "jax",
                "jaxlib",
                "dynamax",
                "scikit-learn",
            )
        },
        "blas": "; ".join(blas),
        "threads": {
            k: os.environ.get(k)
            for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")
        },
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def fmt_ms(seconds: float) -> str:
    """Seconds as milliseconds with sensible precision."""
    ms = seconds * 1e3
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"
