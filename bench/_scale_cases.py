"""What bench_scale.py runs in each child process: the synthetic data, the model and the cases.

``python bench/bench_scale.py --child CASE ...`` lands in :func:`child`, which runs one case of
``CASES`` (the compute-bound loop that shows what a second core adds, one EM iteration on threads,
on a Dask cluster or from disk, the float32 log-likelihoods) and prints its ``RESULT`` line;
bench_scale.py pins the thread counts before it imports this module (so import it only there).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np


# ---------------------------------------------------------------------- data and model
def make_data(n: int, T: int, D: int, K: int, seed: int = 0) -> list:
    """``n`` recordings of ``T`` frames: AR(1) per dimension around state-dependent levels."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    levels = rng.normal(size=(K, D))
    out = []
    for _ in range(n):
        durations = rng.geometric(1 / 12, size=T // 4 + 10)
        z = np.repeat(rng.integers(0, K, durations.size), durations)[:T]
        drive = 0.1 * levels[z] + 0.05 * rng.normal(size=(T, D))
        out.append(lfilter([1.0], [1.0, -0.9], drive, axis=0))
    return out


def make_model(sequences, K: int, L: int, seed: int = 0):
    from ethogram import HMM

    model = HMM(K, "autoregressive", dict(data_dim=sequences[0].shape[1], num_lags=L), kappa=1e4)
    model.initialize(
        sequences[:2], seed=seed
    )  # k-means on two recordings: bounded, as in docs/scale.md
    return model


def blas() -> str:
    from threadpoolctl import threadpool_info

    return "; ".join(
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def one_iteration(model, sequences, ms, executor, params):
    from ethogram.fitting import e_step

    model.set_params(params)
    stats = e_step(model, sequences, ms, executor=executor)
    model.m_step_from_stats(stats)
    return stats


def timed(fn, repeats: int) -> list:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


# ---------------------------------------------------------------------- cases (child processes)
def case_em(a) -> dict:
    from ethogram.fitting import ThreadExecutor

    sequences = make_data(a.n, a.T, 10, a.K)
    model = make_model(sequences, a.K, 1)
    ms = [model.observations.effective_mask(d, None) for d in sequences]
    params = model.get_params()
    ex = ThreadExecutor(a.threads)
    if a.fit:
        from ethogram import HMM

        fresh = HMM.from_description(model.describe(), params)
        fresh.fit(
            sequences[:1], init="params", num_iters=1, progress=False, num_threads=a.threads
        )  # compile
        rss0 = peak_rss_mb()
        fresh = HMM.from_description(model.describe(), params)
        t0 = time.perf_counter()
        fresh.fit(sequences, init="params", num_iters=1, progress=False, num_threads=a.threads)
        return dict(
            seconds=time.perf_counter() - t0,
            peak_rss_mb=peak_rss_mb(),
            rss_before_mb=rss0,
            blas=blas(),
        )
    one_iteration(model, sequences, ms, ex, params)  # warm-up (numba cache, rebuilt models)
    times = timed(lambda: one_iteration(model, sequences, ms, ex, params), 3)
    out = dict(
        seconds=times,
        peak_rss_mb=peak_rss_mb(),
        blas=blas(),
        data_mb=sum(d.nbytes for d in sequences) / 2**20,
    )
    if a.params_out:
        one_iteration(model, sequences, ms, ex, params)
        np.savez(a.params_out, **model.get_params())
    return out


def _worker_rss():
    import resource as r

    return r.getrusage(r.RUSAGE_SELF).ru_maxrss / 1024.0


def _worker_blas():
    from threadpoolctl import threadpool_info

    return "; ".join(
        f"{i.get('internal_api')} ({i.get('architecture')})"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )


def case_dask(a) -> dict:
    from distributed import Client, LocalCluster

    from ethogram.fitting.distributed import DaskExecutor

    sequences = make_data(a.n, a.T, 10, a.K)
    model = make_model(sequences, a.K, 1)
    ms = [model.observations.effective_mask(d, None) for d in sequences]
    params = model.get_params()
    with (
        LocalCluster(
            n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        ex = DaskExecutor(client)
        t0 = time.perf_counter()
        one_iteration(model, sequences, ms, ex, params)
        first = time.perf_counter() - t0
        times = timed(lambda: one_iteration(model, sequences, ms, ex, params), 3)
        same = None
        if a.params_in:
            ref = np.load(a.params_in)
            got = model.get_params()
            same = all(np.array_equal(ref[k], got[k]) for k in got)
        workers_rss = sorted(client.run(_worker_rss).values())
        worker_blas = sorted(set(client.run(_worker_blas).values()))
    return dict(
        first=first,
        seconds=times,
        same_as_local=same,
        workers_rss_mb=workers_rss,
        client_rss_mb=peak_rss_mb(),
        worker_blas=worker_blas,
    )


def case_disk_write(a) -> dict:
    """Write the on-disk recordings (in its own process, so the fit's peak RSS is its own)."""
    from ethogram.fitting.ondisk import write_sequences

    t0 = time.perf_counter()
    write_sequences(a.file, make_data(a.n, a.T, 10, a.K, seed=1), overwrite=True)
    return dict(seconds=time.perf_counter() - t0, file_mb=Path(a.file).stat().st_size / 2**20)


def case_disk(a) -> dict:
    from ethogram.fitting import ThreadExecutor, e_step
    from ethogram.fitting.ondisk import OnDiskSequences

    seqs = OnDiskSequences(a.file)
    t0 = time.perf_counter()
    model = make_model(
        [seqs[0].read_sequence(), seqs[1].read_sequence()], a.K, 3
    )  # bounded initialisation
    init_s = time.perf_counter() - t0
    ex = ThreadExecutor(a.threads)
    t0 = time.perf_counter()
    res = model.fit(seqs, init="params", num_iters=1, progress=False, executor=ex)
    fit_s = time.perf_counter() - t0
    # every frame is observed here: the effective masks only leave out the first L frames
    ms = [model.observations.effective_mask(np.zeros((s.shape[0], 10)), None) for s in seqs]
    t0 = time.perf_counter()
    e_step(model, list(seqs), ms, executor=ex)
    estep_s = time.perf_counter() - t0
    assert res.posterior is None and res.num_iters == 1
    return dict(
        init_s=init_s, fit_1_iter_s=fit_s, e_step_s=estep_s, peak_rss_mb=peak_rss_mb(), blas=blas()
    )


def case_float32(a) -> dict:
    """float32 log-likelihoods against float64 on a fitted model (accuracy only)."""
    from ethogram import forward_backward, viterbi

    sequences = make_data(a.n, a.T, 10, a.K)
    model = make_model(sequences, a.K, 1)
    model.fit(sequences, init="params", num_iters=5, progress=False)
    obs = model.observations
    p = model.get_params()
    A, b, S = p["emission_dynamics"], p["emission_bias"], p["emission_covs"]
    out = dict(objective_diff=[], per_frame_diff=[], label_mismatch=[], max_abs_ll_diff=[])
    for x in sequences[: a.float32_recordings]:
        ll64 = obs.log_likelihoods(x, None)
        ll32 = _ar_log_likes_float32(x, A, b, S, ll64)
        post64 = forward_backward(model.initial_probs, model.transition_matrix, ll64)
        post32 = forward_backward(
            model.initial_probs, model.transition_matrix, ll32.astype(np.float64)
        )
        z64 = viterbi(model.initial_probs, model.transition_matrix, ll64)
        z32 = viterbi(model.initial_probs, model.transition_matrix, ll32.astype(np.float64))
        d = float(post32.marginal_ll - post64.marginal_ll)
        out["objective_diff"].append(d)
        out["per_frame_diff"].append(d / x.shape[0])
        out["label_mismatch"].append(float(np.mean(z32 != z64)))
        out["max_abs_ll_diff"].append(float(np.nanmax(np.abs(ll32[1:] - ll64[1:]))))
    return out


def _ar_log_likes_float32(x, A, b, S, ll64):
    """Gaussian AR(1) log-likelihoods with every array op in float32 (frames t >= 1).

    Uses the model's centring-free form ``x_t ~ N(A_k x_{t-1} + b_k, S_k)``; checked against
    the model's float64 values (same formula in float64 agrees to 1e-8) before use.
    """
    K, D = b.shape
    x32, A32, b32 = x.astype(np.float32), A.astype(np.float32), b.astype(np.float32)
    out = np.zeros((x.shape[0], K), dtype=np.float32)
    chol = np.linalg.cholesky(S)
    for k in range(K):
        Linv = np.linalg.inv(chol[k]).astype(np.float32)
        r = x32[1:] - x32[:-1] @ A32[k].T - b32[k]
        m = r @ Linv.T
        logdet = np.float32(2.0 * np.log(np.diag(chol[k])).sum())
        out[1:, k] = np.float32(-0.5) * (
            np.sum(m * m, axis=1) + logdet + np.float32(D * np.log(2 * np.pi))
        )
    out[0] = ll64[0]
    # same formula in float64 must equal the model's log-likelihoods, else the comparison is void
    x64 = x
    k = 0
    r = x64[1:] - x64[:-1] @ A[k].T - b[k]
    m = np.linalg.solve(chol[k], r.T).T
    check = -0.5 * (
        np.sum(m * m, axis=1) + 2.0 * np.log(np.diag(chol[k])).sum() + D * np.log(2 * np.pi)
    )
    if not np.allclose(check, ll64[1:, 0], rtol=1e-8, atol=1e-6):
        raise RuntimeError(
            "the float64 reference formula does not reproduce the model's log-likelihoods"
        )
    return out


def _blas_loop(n: int = 3000) -> float:
    """A compute-bound loop (128 x 128 matrix products, in cache): seconds."""
    rng = np.random.default_rng(0)
    x, y = rng.random((128, 128)), rng.random((128, 128))
    t0 = time.perf_counter()
    for _ in range(n):
        x @ y
    return time.perf_counter() - t0


def case_cpu(a) -> dict:
    """What the second core adds: the same compute-bound loop alone, then two copies at once."""
    import multiprocessing

    alone = [_blas_loop() for _ in range(3)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_blas_loop, [300, 300])  # start-up
        together = [max(pool.map(_blas_loop, [3000, 3000])) for _ in range(3)]
    return dict(alone=alone, together=together)


CASES = {
    "cpu": case_cpu,
    "em": case_em,
    "dask": case_dask,
    "disk_write": case_disk_write,
    "disk": case_disk,
    "float32": case_float32,
}


def child(argv) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("case", choices=sorted(CASES))
    p.add_argument("--n", type=int)
    p.add_argument("--T", type=int)
    p.add_argument("--K", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--fit", action="store_true")
    p.add_argument("--params-out")
    p.add_argument("--params-in")
    p.add_argument("--file", default=None)
    p.add_argument("--float32-recordings", type=int, default=4)
    a = p.parse_args(argv)
    print("RESULT " + json.dumps(CASES[a.case](a)))
