"""A fitted model's inference (predict, posterior) with BLAS on one thread against its own count.

A user's loop over recordings with a fitted model: ``predict`` and ``posterior`` of ten
recordings (2330 frames each, 4 dimensions) under an autoregressive HMM (20 states, 3 lags),
in fresh processes whose OpenBLAS starts with a thread per core (no ``*_NUM_THREADS``: a
user's default), alternating the code as shipped (the observation log-likelihoods under
``ethogram.inference.one_blas_thread``) with the same code whose guard is a no-op (BLAS at its
own count, as before). Prints the median process CPU and wall of seven passes per run, per
variant, and the BLAS kernel that ran.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

_CHILD = r"""
import contextlib, json, resource, sys, time
import numpy as np
if sys.argv[1] == "own-count":
    import ethogram.models._hmm_inference as h
    h.one_blas_thread = contextlib.nullcontext
from threadpoolctl import threadpool_info
from ethogram.models.families import AutoregressiveHMM

rng = np.random.default_rng(0)
xs = [np.cumsum(rng.standard_normal((2330, 4)), 0) * 0.1 for _ in range(10)]
model = AutoregressiveHMM(num_states=20, data_dim=4, num_lags=3)
model.fit(xs, num_iters=3, seed=0, progress=False)


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


walls, cpus = [], []
for _ in range(7):
    t, c = time.perf_counter(), cpu()
    for x in xs:
        model.predict(x)
        model.posterior(x)
    walls.append(time.perf_counter() - t)
    cpus.append(cpu() - c)
blas = [
    (i["internal_api"], i.get("architecture"), i["num_threads"])
    for i in threadpool_info()
    if i["user_api"] == "blas"
]
print(json.dumps({"cpu": float(np.median(cpus)), "wall": float(np.median(walls)), "blas": blas}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="pairs of runs (default 2)")
    args = parser.parse_args()
    seen = {"one-thread": [], "own-count": []}
    for _ in range(args.rounds):
        for variant in seen:
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, variant], capture_output=True, text=True, check=True
            )
            row = json.loads(out.stdout.strip().splitlines()[-1])
            seen[variant].append(row)
            print(variant, json.dumps(row), flush=True)
    cpu = {v: statistics.median(r["cpu"] for r in rows) for v, rows in seen.items()}
    wall = {v: statistics.median(r["wall"] for r in rows) for v, rows in seen.items()}
    print(
        f"medians: one thread {cpu['one-thread']:.3f} s CPU / {wall['one-thread']:.3f} s wall; "
        f"own count {cpu['own-count']:.3f} s / {wall['own-count']:.3f} s; ratio "
        f"{cpu['own-count'] / cpu['one-thread']:.1f}x CPU / "
        f"{wall['own-count'] / wall['one-thread']:.1f}x wall"
    )


if __name__ == "__main__":
    main()
