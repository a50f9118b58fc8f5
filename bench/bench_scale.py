"""Scale: EM over many recordings on threads, a Dask cluster and disk, and float32 log-likelihoods.

One EM iteration over 1M synthetic frames on 1 and 2 threads and on a Dask ``LocalCluster`` of
1 and 2 workers, 50 hours of recordings fitted from disk, and the accuracy a float32
log-likelihood path would cost, each in a fresh process so that its peak memory is its own;
``--write`` replaces the section ``## Scale`` of BENCHMARKS.md. The measurements and how to run
them: ``--help``.
"""

from __future__ import annotations

import os

for _k, _v in {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}.items():
    os.environ.setdefault(_k, _v)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Scale"


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


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        out = ""
    names = [ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")]
    return names[0] if names else (platform.processor() or platform.machine())


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


def run_child(*args) -> dict:
    cmd = [sys.executable, __file__, "--child", *map(str, args)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    line = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    out = json.loads(line[len("RESULT ") :])
    out["wall_s"] = time.perf_counter() - t0
    print(f"  {' '.join(map(str, args))}: {json.dumps(out)}", file=sys.stderr, flush=True)
    return out


# ---------------------------------------------------------------------- the report
_HELP = """\
Usage (from the project root; the machine's OpenBLAS core-type override unset, as on a
user's machine; the BLAS kernel that ran is recorded with threadpoolctl)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        .venv/bin/python bench/bench_scale.py [--small] [--skip-disk] [--write]

Every measurement runs in a fresh process (so its peak RSS, `ru_maxrss`, is its own):

- `em`: 20 recordings x 50000 frames, D = 10, K = 50, L = 1 (synthetic AR data, 1M
  frames), parameters from k-means on two recordings; one EM iteration (E-step over all
  recordings + M-step) timed as the median of 3 after a warm-up, on 1 and 2 threads
  (ethogram's thread pool, BLAS held to one thread per job), and `HMM.fit(num_iters=1,
  init="params")`, which also computes the returned posteriors of every recording;
- `dask`: the same data and iteration on a `LocalCluster` of 1 and of 2 worker processes
  (one thread each): the first iteration (sends the recordings) and the median of 3 more;
  the parameters are checked equal to the 2-thread local iteration's;
- `disk`: 100 recordings x 54000 frames (50 hours at 30 fps), D = 10, K = 50, L = 3, written
  to an HDF5 file by one process and fitted by another from
  `ethogram.fitting.ondisk.OnDiskSequences` on 2 threads (initialised on two
  recordings): one EM iteration's time and the fitting process's peak RSS;
- `float32`: log-likelihoods of the fitted 20 x 50000 model computed in float32 (data and
  parameters rounded to float32, the AR residual and Mahalanobis terms in float32) against
  float64, then the same float64 forward-backward and Viterbi: differences of the objective
  and of the labels (what a float32 path would cost in accuracy; ethogram computes float64).

`--write` replaces (or appends) the section `## Scale` of BENCHMARKS.md and nothing else.
"""


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return 0
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--small", action="store_true", help="tiny sizes (a check that the script runs)")
    p.add_argument(
        "--skip-disk", action="store_true", help="leave out the 100 x 54000 on-disk case"
    )
    p.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    a = p.parse_args()
    n, T, K = (4, 3000, 8) if a.small else (20, 50000, 50)
    dn, dT = (6, 3000) if a.small else (100, 54000)
    t_start = time.perf_counter()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        ref = Path(tmp) / "local2.npz"
        cpu = run_child("cpu")
        em1 = run_child("em", "--n", n, "--T", T, "--K", K, "--threads", 1)
        em2 = run_child("em", "--n", n, "--T", T, "--K", K, "--threads", 2, "--params-out", ref)
        fit2 = run_child("em", "--n", n, "--T", T, "--K", K, "--threads", 2, "--fit")
        dk1 = run_child("dask", "--n", n, "--T", T, "--K", K, "--workers", 1, "--params-in", ref)
        dk2 = run_child("dask", "--n", n, "--T", T, "--K", K, "--workers", 2, "--params-in", ref)
        f32 = run_child("float32", "--n", n, "--T", T, "--K", K)
        disk = None
        if not a.skip_disk:
            path = Path(tmp) / "recordings.h5"
            disk = run_child("disk_write", "--n", dn, "--T", dT, "--K", K, "--file", path)
            disk.update(run_child("disk", "--K", K, "--threads", 2, "--file", path))
    total = time.perf_counter() - t_start
    text = report(
        n,
        T,
        K,
        dn,
        dT,
        cpu,
        em1,
        em2,
        fit2,
        dk1,
        dk2,
        f32,
        disk,
        total,
        (load_before, os.getloadavg()[0]),
    )
    print(text)
    if a.write and not a.small:
        write_section(text)
    return 0


def _med(xs) -> float:
    return float(np.median(xs))


def report(
    n,
    T,
    K,
    dn,
    dT,
    cpu,
    em1,
    em2,
    fit2,
    dk1,
    dk2,
    f32,
    disk,
    total,
    load=(float("nan"), float("nan")),
) -> str:
    import numba
    import scipy

    t1, t2 = _med(em1["seconds"]), _med(em2["seconds"])
    lines = [
        SECTION,
        "",
        "Regenerate with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 "
        ".venv/bin/python bench/bench_scale.py --write`",
        f"({total / 60:.1f} min). Each row is a fresh process; peak RSS is that process's "
        "`ru_maxrss`. Synthetic AR data,",
        "parameters from k-means on two recordings. The machine is shared by several engineers: "
        "times vary by 10-20%.",
        "",
        f"- machine: {cpu_name()}, {os.cpu_count()} cores; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, numba {numba.__version__}",
        f"- load average (1 min) at the start and end of the run: {load[0]:.2f}, {load[1]:.2f} "
        "(2 cores)",
        f"- BLAS kernel that ran (threadpoolctl, OPENBLAS_CORETYPE unset): {em1['blas']}; Dask "
        f"workers: {', '.join(dk2['worker_blas'])}",
        "",
        f"### One EM iteration, {n} recordings x {T} frames, D = 10, K = {K}, L = 1",
        "",
        "| run | time (median of 3) | speed-up | peak RSS | goal |",
        "|---|---|---|---|---|",
        f"| E-step + M-step, 1 thread | {t1:.2f} s | 1.00x | {em1['peak_rss_mb']:.0f} MB | <= 3 "
        "s, <= 1.5 GB |",
        f"| E-step + M-step, 2 threads | {t2:.2f} s | {t1 / t2:.2f}x | {em2['peak_rss_mb']:.0f} "
        "MB | <= 1.7 s |",
        "| `HMM.fit(num_iters=1, init='params')`, 2 threads (1 iteration + the returned "
        f"posteriors of all recordings) | {fit2['seconds']:.2f} s (1 run) | — | "
        f"{fit2['peak_rss_mb']:.0f} MB | — |",
        "",
        "What the second core can add on this machine: a compute-bound BLAS loop takes "
        f"{_med(cpu['alone']):.2f} s alone and",
        f"{_med(cpu['together']):.2f} s when two copies run at once (two processes), i.e. two "
        "cores give "
        f"{2 * _med(cpu['alone']) / _med(cpu['together']):.2f}x the throughput of one.",
        "",
        f"The data are {em1['data_mb']:.0f} MB. An E-step holds one recording's log-likelihoods "
        "and posteriors per thread",
        f"({T} x {K} x 8 bytes = {T * K * 8 / 2**20:.0f} MB each) and sums statistics as they "
        "come; `HMM.fit` then computes",
        "the posterior of every recording for its result (`FitResult.posterior`), which is the "
        "extra memory of the last row",
        "(it is None for `OnDiskSequences`).",
        "",
        "### Dask LocalCluster (worker processes, 1 thread each), same data and iteration",
        "",
        "| workers | first iteration (workers import ethogram, load the numba cache, receive the "
        "recordings) | next iterations (median of 3) | speed-up | same parameters as local | "
        "worker peak RSS |",
        "|---|---|---|---|---|---|",
    ]
    for w, d in ((1, dk1), (2, dk2)):
        lines.append(
            f"| {w} | {d['first']:.2f} s | {_med(d['seconds']):.2f} s | "
            f"{_med(dk1['seconds']) / _med(d['seconds']):.2f}x | "
            f"{'bit-identical' if d['same_as_local'] else 'NO'} | "
            f"{', '.join(f'{x:.0f} MB' for x in d['workers_rss_mb'])} |"
        )
    lines += [
        "",
        f"Against the local thread pool: 1 worker {_med(dk1['seconds']) / t1:.2f}x the 1-thread "
        "time, 2 workers "
        f"{_med(dk2['seconds']) / t2:.2f}x the 2-thread time (the rest is Dask's per-task "
        "overhead and sending parameters",
        "and statistics).",
        "",
    ]
    if disk is not None:
        lines += [
            f"### From disk: {dn} recordings x {dT} frames ({dn * dT / 30 / 3600:.0f} hours at "
            f"30 fps), D = 10, K = {K}, L = 3, 2 threads",
            "",
            "| step | result |",
            "|---|---|",
            f"| HDF5 file (float64), written by another process | {disk['file_mb']:.0f} MB |",
            f"| initialise (k-means) on 2 recordings read from the file | {disk['init_s']:.1f} s |",
            "| `HMM.fit(OnDiskSequences, init='params', num_iters=1)`: read + check every "
            f"recording, 2 E-steps, 1 M-step | {disk['fit_1_iter_s']:.1f} s |",
            f"| one E-step, each recording read by its job | {disk['e_step_s']:.1f} s "
            f"({disk['e_step_s'] / (dn * dT) * 1e6:.2f} s per million frames) |",
            f"| peak RSS of the fitting process | {disk['peak_rss_mb']:.0f} MB (the data alone "
            f"would be {dn * dT * 10 * 8 / 2**20:.0f} MB) |",
            "",
        ]
    else:
        lines += [
            "### From disk: 100 recordings x 54000 frames",
            "",
            "Not run in this pass (`--skip-disk`).",
            "",
        ]
    lines += [
        f"### float32 log-likelihoods (accuracy; {len(f32['objective_diff'])} recordings of {T} "
        "frames, model after 5 EM iterations)",
        "",
        "| measure | worst over recordings |",
        "|---|---|",
        f"| max abs difference of a log-likelihood | {max(f32['max_abs_ll_diff']):.2e} nats |",
        f"| difference of log p(x) | {max(map(abs, f32['objective_diff'])):.2e} nats "
        f"({max(map(abs, f32['per_frame_diff'])):.2e} per frame) |",
        f"| Viterbi labels that differ | {100 * max(f32['label_mismatch']):.3f} % of frames |",
        "",
        "EM's convergence test is 1e-5 nats per frame by default and its monotonicity check is "
        "relative 1e-8 of the",
        "objective, so a float32 E-step would need a float64 re-check near convergence; ethogram "
        "stays float64.",
    ]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    """Replace (or append) our section of BENCHMARKS.md, leaving every other section as it is."""
    from _sections import replace_section

    replace_section(ROOT / "BENCHMARKS.md", SECTION, text)


if __name__ == "__main__":
    sys.exit(main())
