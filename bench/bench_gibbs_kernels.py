"""Microbenchmark of the keypoint-SLDS Gibbs kernels: latent pose, centroid, conditionals.

Run from the project root: ``.venv/bin/python bench/bench_gibbs_kernels.py`` (under a minute).
One thread (``_common`` pins BLAS before numpy is imported); medians over repeats after a
warm-up call (numba compiles once, cached on disk). Problem: T = 2330 frames (the open-field
mouse keypoint-moseq was timed on), 100 syllables of which the frames use 20, stable random
AR(3) dynamics, a random emission matrix, per-frame diagonal noise, public API with input
checks. Reports microseconds per frame for ``sample_ar_lds`` in jax-moseq's companion mode
(``lag_noise=1e-2, jitter=1e-3``) and in the exact mode (``lag_noise=0, jitter=0``), and for
``sample_random_walk`` (D = 2). Prints a markdown table.
"""

from __future__ import annotations

import _common  # noqa: F401  (pins threads before numpy is imported)

import os
import time

import numpy as np

from ethogram.inference import kalman as K


def problem(T, M, L, p, S=100, used=20, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(S, M, M * L)) * (0.3 / np.sqrt(M * L))
    A[:, :, -M:] += 0.9 * np.eye(M)
    Ab = np.concatenate([A, rng.normal(size=(S, M, 1)) * 0.1], axis=2)
    Q = np.broadcast_to(0.05 * np.eye(M), (S, M, M)).copy()
    z = np.repeat(rng.integers(0, used, size=T // 10 + 1), 10)[: T - L]
    return dict(obs=rng.normal(size=(T, p)) * 10, obs_var=rng.uniform(1, 5, size=(T, p)),
                emission_matrix=rng.normal(size=(p, M)) * 10, emission_offset=np.zeros(p),
                ar_weights=Ab, ar_covs=Q, syllables=z)


def median_time(fn, repeats=30):
    """Median wall and CPU (process) seconds per call; on a loaded machine CPU time is the
    fairer measure of a single-threaded call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu))


def main():
    T = 2330
    rng = np.random.default_rng(1)
    rows = []
    for M, L, p in [(4, 3, 8), (6, 3, 8), (10, 3, 26)]:
        pr = problem(T, M, L, p)
        for name, opts in [("companion (jax-moseq: lag_noise 1e-2, jitter 1e-3)", {}),
                           ("exact (lag_noise 0, jitter 0)", dict(lag_noise=0.0, jitter=0.0))]:
            sec = median_time(lambda: K.sample_ar_lds(rng, **pr, **opts))
            rows.append((f"sample_ar_lds {name}", f"({M}, {L}, {p})", sec))
    y = rng.normal(size=(T, 2))
    sec = median_time(lambda: K.sample_random_walk(rng, y, rng.uniform(0.5, 2, T), 0.5))
    rows.append(("sample_random_walk", "D = 2", sec))
    load = os.getloadavg()[0]
    print(f"T = {T} frames, one thread, load average {load:.1f} on {os.cpu_count()} cores\n")
    print("| kernel | (M, L, obs_dim) | wall ms per call | CPU ms per call | CPU us per frame |")
    print("|---|---|---|---|---|")
    for name, shape, (wall, cpu) in rows:
        print(f"| {name} | {shape} | {wall * 1e3:.2f} | {cpu * 1e3:.2f} | {cpu / T * 1e6:.2f} |")


if __name__ == "__main__":
    main()
