"""ethogram's keypoint SLDS (issue 17): one Gibbs sweep, AR-only and full model, one thread.

On the shared recordings with keypoint-moseq's tutorial settings, with ethogram's exact pose
sampler and jax-moseq's regularised one, each sweep timed by wall clock and process CPU, for the
side-by-side with keypoint-moseq 0.8.1 (``bench/bench_moseq_reference.py`` in the reference
environment). The settings and how to run it: ``--help``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DATA = Path("/work/shared/data")
DATASETS = {
    "openfield": {
        "path": DATA / "openfield" / "keypoints.csv",
        "fps": 30,
        "ant": "snout",
        "post": "tailbase",
    },
    "flies": {"path": DATA / "flies" / "clip.slp", "fps": 25, "ant": "head", "post": "abdomen"},
}


def _load(name):
    from ethogram.io import read_recordings

    spec = DATASETS[name]
    recs = read_recordings(str(spec["path"]), fps=spec["fps"])
    parts = list(recs[0].bodyparts)
    Ys = [r.data for r in recs]
    confs = [None if r.confidence is None else np.asarray(r.confidence, float) for r in recs]
    return Ys, confs, parts.index(spec["ant"]), parts.index(spec["post"]), spec["fps"]


def _stats(values):
    v = np.asarray(values) * 1e3
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return {"median_ms": round(float(med), 2), "q1_ms": round(float(q1), 2),
            "q3_ms": round(float(q3), 2), "n": len(v)}  # fmt: skip


def time_sweeps(name, ar_iters, full_iters, sampler, seed=0):
    """Per-sweep wall and CPU seconds of one fit, per stage."""
    from ethogram.fitting.executors import SerialExecutor
    from ethogram.models import KeypointSLDS

    Ys, confs, ant, post, fps = _load(name)
    model = KeypointSLDS(num_states=100, anterior=[ant], posterior=[post], fps=fps,
                         latent_sampler=sampler)  # fmt: skip
    marks = []
    real = model.global_step

    def global_step(stats, rng):
        marks.append((time.perf_counter(), time.process_time(), model.ar_only))
        real(stats, rng)

    model.global_step = global_step
    t0 = time.perf_counter()
    model.fit(Ys, confs, num_ar_iters=ar_iters, num_full_iters=full_iters, seed=seed,
              executor=SerialExecutor(), progress=False)  # fmt: skip
    total = time.perf_counter() - t0
    marks.append((time.perf_counter(), time.process_time(), None))
    wall = {True: [], False: []}
    cpu = {True: [], False: []}
    for (w0, c0, stage), (w1, c1, _) in itertools.pairwise(marks):
        wall[stage].append(w1 - w0)
        cpu[stage].append(c1 - c0)
    frames = int(sum(len(Y) for Y in Ys))
    return {
        "frames": frames, "latent_dim": model.latent_dim, "keypoints": model.num_keypoints,
        "sampler": sampler, "fit_seconds": round(total, 2),
        "ar_only": {"wall": _stats(wall[True]), "cpu": _stats(cpu[True])},
        "full": {"wall": _stats(wall[False]), "cpu": _stats(cpu[False])},
    }  # fmt: skip


_HELP = """\
Run single-threaded::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        python bench/bench_keypoint_slds.py [--ar-iters 30] [--full-iters 30] [-o out.json]

As keypoint-moseq's tutorial: 100 states, 3 lags, latent dimension = PCs for 90% of the
variance (at most 10), kappa 1e6 in the AR-only stage and 1e4 in the full one, sigmasq_loc
estimated, the default confidence map; ethogram's exact pose sampler (the default) and, for
comparison, jax-moseq's regularised one (`latent_sampler="moseq"`). Recordings are
sequences on a serial executor (one thread). Each sweep (global step + local steps) is timed
by wall clock and process CPU between consecutive global steps; the JSON gives the median and
quartiles per stage, after a warm-up fit (numba compilation). The load average is recorded.
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--ar-iters", type=int, default=30)
    p.add_argument("--full-iters", type=int, default=30)
    p.add_argument("--only", choices=sorted(DATASETS), action="append")
    p.add_argument("-o", "--output", type=Path)
    args = p.parse_args(argv)
    out = {"load_before": os.getloadavg(), "omp_threads": os.environ.get("OMP_NUM_THREADS")}
    time_sweeps("openfield", 2, 2, "exact")  # warm-up: numba compilation
    for name in args.only or sorted(DATASETS):
        for sampler in ("exact", "moseq"):
            try:
                res = time_sweeps(name, args.ar_iters, args.full_iters, sampler)
            except Exception as exc:  # e.g. no SLEAP reader: said in the JSON
                res = {"error": f"{type(exc).__name__}: {exc}"}
            out[f"{name}/{sampler}"] = res
            print(name, sampler, json.dumps(res), flush=True)
    out["load_after"] = os.getloadavg()
    if args.output:
        args.output.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
