"""One Gibbs iteration of ethogram's sticky HDP-ARHMM on the open-field mouse, piece by piece.

Run from the project root with one thread (``_common`` pins BLAS and OpenMP before numpy is
imported)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=src .venv/bin/python \
        bench/bench_gibbs_arhmm.py [--iters 30] [--jax-moseq PYTHON]

The recording keypoint-moseq 0.8.1's AR-only iteration was timed on (2330 frames, 4 body
parts, 30 fps) is prepared by ethogram (egocentric PCA keeping 90% of the variance: 3 PCs),
whitened, and fitted with MoSeq's defaults (100 states, 3 lags, kappa 1e6; 20 warm-up
iterations from the prior, so the parameters are those of a running fit). Then, in process
CPU time (the machine is shared: CPU time is the fairer measure of a one-thread call; the
wall time and the load average are printed too), median and least over ``--iters`` repeats:
one whole iteration through :func:`ethogram.fitting.gibbs.run_gibbs` (global step, the local
step as a job on the serial executor, statistics, log joint, the loop's bookkeeping), and each
piece alone; microseconds per frame; the same with float32 scoring. With ``--jax-moseq`` (a
Python with jax-moseq 0.3.7, e.g. ``bench/.venv-moseq/bin/python``) jax-moseq's
``arhmm.resample_model`` is timed on the same whitened frames (``bench/jax_moseq_arhmm.py
time``). Prints markdown.
"""

from __future__ import annotations

import _common  # noqa: F401  (pins threads before numpy is imported)

import argparse
import json
import os
import subprocess
import sys
import tempfile
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


def whole_iteration(model, run, x, mask, repeats):
    X, M = model.clean(x, mask)
    snapshot = model.get_params()

    def one():
        model.set_params(snapshot)
        run_gibbs(
            model,
            X,
            M,
            GibbsSettings(num_iters=run.iteration + 1),
            start=_copy(run),
            executor=SerialExecutor(),
            progress=False,
        )

    return cpu_time(one, repeats)


def _copy(run):
    from dataclasses import replace

    return replace(run, log_joint={k: list(v) for k, v in run.log_joint.items()})


def jax_moseq_time(python, x, mask, repeats):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npz"
        X, M = StickyHDPARHMM(x.shape[1]).clean(x, mask)
        np.savez(path, x=X[0], mask=M[0])
        script = Path(__file__).with_name("jax_moseq_arhmm.py")
        out = subprocess.run(
            [python, str(script), "time", str(path), str(repeats)],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--jax-moseq", default=None, help="a Python with jax-moseq 0.3.7")
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
    print("\n| piece (float64) | CPU ms median / least | wall ms median |")
    print("|---|---|---|")
    for name, (med, least, wall) in rows[0][2]:
        print(f"| {name} | {med:.3f} / {least:.3f} | {wall:.3f} |")
    if args.jax_moseq:
        r = jax_moseq_time(args.jax_moseq, x, mask, args.iters)
        print(
            f"\njax-moseq {r['jax_moseq']} (jax {r['jax']}) arhmm.resample_model on the same "
            f"frames: CPU ms median {r['cpu_ms_median']:.1f} / least {r['cpu_ms_least']:.1f}, "
            f"wall ms median {r['wall_ms_median']:.1f} (load {r['load']:.1f})"
        )


if __name__ == "__main__":
    sys.exit(main())
