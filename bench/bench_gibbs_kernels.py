"""Microbenchmark of the keypoint-SLDS Gibbs kernels: latent pose, centroid, conditionals.

One thread (``_common`` pins BLAS before numpy is imported); medians over repeats after a
warm-up call (numba compiles once, cached on disk). Problem: T = 2330 frames (the open-field
mouse keypoint-moseq was timed on), 100 syllables of which the frames use 20, stable random
AR(3) dynamics, a random emission matrix, per-frame diagonal noise, public API with input
checks. Reports microseconds per frame for ``sample_ar_lds`` in jax-moseq's companion mode
(``lag_noise=1e-2, jitter=1e-3``) and in the exact mode (``lag_noise=0, jitter=0``), and for
``sample_random_walk`` (D = 2). Then the pieces of one keypoint-SLDS Gibbs sweep built from
these kernels, each timed alone (4 keypoints in 2-D, M = 4, L = 3, 100 syllables, the
hyperparameters of keypoint-MoSeq), and their sum: an estimate of one iteration without the
loop's own overhead, to hold against keypoint-moseq's own iteration (BENCHMARKS.md). Prints
markdown tables; how to run it: bench/README.md.
"""

from __future__ import annotations

import _common  # noqa: F401  (pins threads before numpy is imported)

# isort: split

import os
import time

import numpy as np

from ethogram.inference import kalman, sample_posterior
from ethogram.models import gibbs as G


def problem(T, M, L, p, S=100, used=20, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(S, M, M * L)) * (0.3 / np.sqrt(M * L))
    A[:, :, -M:] += 0.9 * np.eye(M)
    Ab = np.concatenate([A, rng.normal(size=(S, M, 1)) * 0.1], axis=2)
    Q = np.broadcast_to(0.05 * np.eye(M), (S, M, M)).copy()
    z = np.repeat(rng.integers(0, used, size=T // 10 + 1), 10)[: T - L]
    return dict(
        obs=rng.normal(size=(T, p)) * 10,
        obs_var=rng.uniform(1, 5, size=(T, p)),
        emission_matrix=rng.normal(size=(p, M)) * 10,
        emission_offset=np.zeros(p),
        ar_weights=Ab,
        ar_covs=Q,
        syllables=z,
    )


def median_time(fn, repeats=30):
    """Median wall, median CPU and least CPU (process) seconds per call; on a loaded machine
    CPU time, and its minimum, are the fairer measures of a single-threaded call."""
    fn()
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(wall)), float(np.median(cpu)), float(np.min(cpu))


def sweep_pieces(T=2330, K=4, D=2, M=4, L=3, S=100, seed=0):
    """Callables for each update of one sweep, on a synthetic recording of the given size."""
    rng = np.random.default_rng(seed)
    pr = problem(T, M, L, K * D, S=S)
    z = np.asarray(pr["syllables"])
    x = rng.normal(size=(T, M))
    Y = rng.normal(size=(T, K, D)) * 20
    v, h = Y.mean(axis=1), rng.uniform(-np.pi, np.pi, T)
    s = rng.uniform(1, 5, (T, K))
    s0 = G.noise_prior_from_confidence(rng.uniform(0, 1, (T, K)))
    C, d = rng.normal(size=((K - 1) * D, M)) * 5, rng.normal(size=(K - 1) * D)
    prior = G.moseq_ar_prior(M, L)
    beta = np.full(S, 1.0 / S)
    pi = G.init_hdp_transitions(rng, S, 5.7, 1e4, 1e3).transition_matrix
    Ab, Q = pr["ar_weights"], pr["ar_covs"]

    def transitions():
        n = G.transition_counts(z, S, L)
        return G.sample_hdp_transitions(rng, n, beta, 5.7, 1e4, 1e3)

    def ar_params():
        post = G.mniw_posterior(G.ar_regression_stats(x, z, S, L), **prior)
        return G.sample_ar_params(rng, post)

    def syllables():
        return sample_posterior(np.full(S, 1.0 / S), pi, G.ar_log_likes(x, Ab, Q), seed=rng)

    def latent(**opts):
        H, off = G.slds_emission(C, d, K, D)
        obs = G.egocentric(Y, v, h).reshape(T, K * D)
        return kalman.sample_ar_lds(rng, obs, np.repeat(s, D, axis=1), H, off, Ab, Q, z, **opts)

    def heading():
        kc, ks = G.heading_concentrations(G.aligned_pose(x, C, d, K), Y - v[:, None], s)
        return G.sample_heading(rng, kc, ks)

    def centroid():
        mu, g = G.centroid_pseudo_observations(Y, G.rotate(G.aligned_pose(x, C, d, K), h), s)
        return kalman.sample_random_walk(rng, mu, g, 0.5)

    def scales():
        e = G.squared_errors(Y, G.estimate_keypoints(x, v, h, C, d))
        return G.sample_noise_scales(rng, e, s0, 5.0, D)

    return [
        ("beta, pi (table counts, Dirichlet)", transitions),
        ("Ab, Q (statistics, MNIW draws)", ar_params),
        ("z (AR log-likelihoods, FFBS)", syllables),
        ("x companion (jax-moseq)", lambda: latent()),
        ("x exact", lambda: latent(lag_noise=0.0, jitter=0.0)),
        ("h (von Mises)", heading),
        ("v (random walk)", centroid),
        ("s (inverse gamma)", scales),
    ]


def main():
    T = 2330
    rng = np.random.default_rng(1)
    rows = []
    for M, L, p in [(4, 3, 8), (6, 3, 8), (10, 3, 26)]:
        pr = problem(T, M, L, p)
        for name, opts in [
            ("companion (jax-moseq: lag_noise 1e-2, jitter 1e-3)", {}),
            ("exact (lag_noise 0, jitter 0)", dict(lag_noise=0.0, jitter=0.0)),
        ]:
            sec = median_time(lambda pr=pr, opts=opts: kalman.sample_ar_lds(rng, **pr, **opts))
            rows.append((f"sample_ar_lds {name}", f"({M}, {L}, {p})", sec))
    y = rng.normal(size=(T, 2))
    sec = median_time(lambda: kalman.sample_random_walk(rng, y, rng.uniform(0.5, 2, T), 0.5))
    rows.append(("sample_random_walk", "D = 2", sec))
    pieces = [(name, median_time(fn)) for name, fn in sweep_pieces()]
    load = os.getloadavg()[0]
    print(f"T = {T} frames, one thread, load average {load:.1f} on {os.cpu_count()} cores\n")
    print("| kernel | (M, L, obs_dim) | wall ms | CPU ms (median / least) | CPU us per frame |")
    print("|---|---|---|---|---|")
    for name, shape, (wall, cpu, least) in rows:
        print(
            f"| {name} | {shape} | {wall * 1e3:.2f} | {cpu * 1e3:.2f} / {least * 1e3:.2f} | "
            f"{cpu / T * 1e6:.2f} / {least / T * 1e6:.2f} |"
        )
    print(
        "\nOne sweep, piece by piece (T = 2330, 4 keypoints in 2-D, M = 4, L = 3, 100 syllables)\n"
    )
    print("| update | wall ms | CPU ms (median / least) |")
    print("|---|---|---|")
    for name, (wall, cpu, least) in pieces:
        print(f"| {name} | {wall * 1e3:.2f} | {cpu * 1e3:.2f} / {least * 1e3:.2f} |")
    cost = dict((name, cpu) for name, (wall, cpu, least) in pieces)
    ar_only = sum(cost[k] for k in list(cost)[:3])
    rest = sum(cost[k] for k in list(cost)[5:])
    for label, xname in (("companion", "x companion (jax-moseq)"), ("exact", "x exact")):
        print(
            f"\nsum of median CPU times: AR-only {ar_only * 1e3:.2f} ms; full with x {label} "
            f"{(ar_only + cost[xname] + rest) * 1e3:.2f} ms"
        )


if __name__ == "__main__":
    from _cli import no_options

    no_options(__doc__)
    main()
