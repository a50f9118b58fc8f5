"""One Gibbs iteration of ethogram's sticky HDP-ARHMM on the open-field mouse, piece by piece.

The recording keypoint-moseq 0.8.1's AR-only iteration was timed on, prepared by ethogram and
fitted with MoSeq's defaults, then one whole iteration through
:func:`ethogram.fitting.gibbs.run_gibbs` and each of its pieces alone, in process CPU time
(median and least over repeats), with float64 and float32 scoring, printed as markdown beside
keypoint-moseq's own figure (``bench/bench_moseq_reference.py``). The setup and how to run it:
``--help``.
"""

from __future__ import annotations

import _common  # noqa: F401  (pins threads before numpy is imported)

# isort: split

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

from ethogram.fitting.executors import SerialExecutor
from ethogram.fitting.gibbs import GibbsSettings, run_gibbs
from ethogram.inference.ffbs import ffbs
from ethogram.io.readers import read_recordings
from ethogram.models.gibbs import arhmm as sweep
from ethogram.models.gibbs.hdp import transition_counts
from ethogram.models.gibbs.mniw import ar_regression_stats
from ethogram.models.moseq_arhmm import StickyHDPARHMM
from ethogram.prep import Preparation, model_inputs
from ethogram.prep.whitening import Whitening

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "openfield" / "keypoints.csv"
KPMS_AR_ONLY_MS = 29.0  # keypoint-moseq 0.8.1, AR-only iteration on this recording (issue 17)


def openfield():
    recs = read_recordings(
        [str(DATA if DATA.exists() else "/work/shared/data/openfield/keypoints.csv")]
    )
    xs, ms, _ = model_inputs(Preparation(variance=0.9).fit_transform(recs))
    return Whitening.fit(xs, ms).transform(xs[0]), ms[0]


def cpu_time(fn, repeats):
    """Median and least process CPU ms, median wall ms, after one warm-up call."""
    fn()
    cpu, wall = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return 1e3 * np.median(cpu), 1e3 * np.min(cpu), 1e3 * np.median(wall)


def pieces(model, run, x, mask, repeats):
    X, M = (a[0] for a in model.clean(x, mask))
    K, L = model.num_states, model.num_lags
    lp = model.local_params()
    ll = sweep.masked_ar_log_likes(X, M, lp["scoring"], lp["half_logdet"], L)
    z = run.local_states[0]["syllables"]
    init = np.full(K, 1.0 / K)
    rng = np.random.default_rng(0)
    snapshot = model.get_params()

    def global_step():
        model.global_step(run.stats, rng)
        model.set_params(snapshot)

    desc = model.describe()
    return [
        ("global step: beta, pi, Ab, Q", cpu_time(global_step, repeats)),
        ("per-iteration scoring rows (local_params)", cpu_time(model.local_params, repeats)),
        (
            "AR log-likelihoods (float64 GEMM)",
            cpu_time(
                lambda: sweep.masked_ar_log_likes(X, M, lp["scoring"], lp["half_logdet"], L),
                repeats,
            ),
        ),
        (
            "FFBS (fused numba forward, backward)",
            cpu_time(
                lambda: ffbs(
                    init,
                    lp["transition_matrix"],
                    ll,
                    rng,
                    transition_T=lp["transition_T"],
                    check=False,
                ),
                repeats,
            ),
        ),
        ("AR statistics", cpu_time(lambda: ar_regression_stats(X, z, K, L, M), repeats)),
        ("transition counts", cpu_time(lambda: transition_counts(z, K, L, M), repeats)),
        (
            "local step (the job: all of the above but the global step)",
            cpu_time(
                lambda: sweep.arhmm_local_step(lp, desc, X, M, None, np.random.SeedSequence(1)),
                repeats,
            ),
        ),
    ]


def whole_iteration(model, run, x, mask, repeats, chunk=10):
    """CPU ms per iteration of ``run_gibbs`` continuing ``run`` for ``chunk`` iterations (the
    loop's one-off costs, such as copying ``run``, spread over them): median and least over
    ``repeats // chunk`` chunks, and the median wall ms."""
    X, M = model.clean(x, mask)
    snapshot = model.get_params()
    settings = GibbsSettings(num_iters=run.iteration + chunk)
    cpu, wall = [], []
    for _ in range(max(repeats // chunk, 3)):
        model.set_params(snapshot)
        t0, c0 = time.perf_counter(), time.process_time()
        run_gibbs(model, X, M, settings, start=run, executor=SerialExecutor(), progress=False)
        cpu.append((time.process_time() - c0) / chunk)
        wall.append((time.perf_counter() - t0) / chunk)
    return 1e3 * np.median(cpu), 1e3 * np.min(cpu), 1e3 * np.median(wall)


_HELP = """\
Run from the project root with one thread (`_common` pins BLAS and OpenMP before numpy is
imported)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=src .venv/bin/python \\
        bench/bench_gibbs_arhmm.py [--iters 30]

The recording keypoint-moseq 0.8.1's AR-only iteration was timed on (2330 frames, 4 body
parts, 30 fps) is prepared by ethogram (egocentric PCA keeping 90% of the variance: 3 PCs),
whitened, and fitted with MoSeq's defaults (100 states, 3 lags, kappa 1e6; 20 warm-up
iterations from the prior, so the parameters are those of a running fit). Then, in process
CPU time (the machine is shared: CPU time is the fairer measure of a one-thread call; the
wall time and the load average are printed too), median and least over `--iters` repeats:
one whole iteration through `ethogram.fitting.gibbs.run_gibbs` (global step, the local
step as a job on the serial executor, statistics, log joint, the loop's bookkeeping; chunks of
10 iterations), and each piece alone; microseconds per frame; the same with float32 scoring.
keypoint-moseq's own AR-only iteration is timed by `bench/bench_moseq_reference.py` (inside
its `fit_model`, in its reference environment); its figure is quoted (`KPMS_AR_ONLY_MS`).
Prints markdown.
"""


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--iters", type=int, default=30)
    args = ap.parse_args(argv)
    x, mask = openfield()
    T = x.shape[0]
    rows = []
    for dtype in ("float64", "float32"):
        model = StickyHDPARHMM(x.shape[1], score_dtype=dtype)
        fit = model.fit(
            x, mask, GibbsSettings(num_iters=20), seed=0, executor=SerialExecutor(), progress=False
        )
        whole = whole_iteration(model, fit.run, x, mask, args.iters)
        rows.append(
            (
                dtype,
                whole,
                pieces(model, fit.run, x, mask, args.iters) if dtype == "float64" else [],
            )
        )
    t0, c0 = time.perf_counter(), time.process_time()
    StickyHDPARHMM(x.shape[1]).fit(x, mask, GibbsSettings(num_iters=50), seed=1, progress=False)
    fit50 = (time.process_time() - c0, time.perf_counter() - t0)
    load = os.getloadavg()
    print(
        f"open-field mouse: T = {T} frames, D = {x.shape[1]} (whitened PCs, 90% variance), "
        f"100 states, 3 lags, one thread; load average {load[0]:.1f} on {os.cpu_count()} cores\n"
    )
    print(
        "| ethogram | CPU ms median / least | wall ms median | us per frame (median CPU) | "
        f"vs keypoint-moseq's {KPMS_AR_ONLY_MS:.0f} ms |"
    )
    print("|---|---|---|---|---|")
    for dtype, (med, least, wall), _ in rows:
        print(
            f"| one iteration, {dtype} scoring | {med:.2f} / {least:.2f} | {wall:.2f} | "
            f"{1e3 * med / T:.2f} | {KPMS_AR_ONLY_MS / med:.1f}x |"
        )
    print(
        f"\nA fit as keypoint-moseq's AR-only stage is run (init from the prior, 50 iterations), "
        f"threads as by default: {fit50[0]:.2f} s CPU, {fit50[1]:.2f} s wall"
    )
    print("\n| piece (float64) | CPU ms median / least | wall ms median |")
    print("|---|---|---|")
    for name, (med, least, wall) in rows[0][2]:
        print(f"| {name} | {med:.3f} / {least:.3f} | {wall:.3f} |")


if __name__ == "__main__":
    sys.exit(main())
