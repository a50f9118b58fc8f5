"""Where one Gibbs sweep of the keypoint SLDS goes (issue 17), AR-only and full, one thread.

cProfile and the process-CPU time of each piece of the sweep on the shared recordings, each
piece timed by wrapping the sweep's functions (a piece nested in another is counted in both),
the sweep total as ``bench_keypoint_slds.py`` times it. How to run it: ``--help``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

# first: the ethogram on PYTHONPATH, e.g. an older commit's
import ethogram

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_keypoint_slds import _load

#: (module, attribute) of the pieces timed; the module's own name is what the sweep calls
PIECES = [
    ("ethogram.models.gibbs.keypoint_slds", "keypoint_global_step"),
    ("ethogram.models.gibbs.arhmm", "sample_hdp_transitions"),
    ("ethogram.models.gibbs.arhmm", "mniw_posterior"),
    ("ethogram.models.gibbs.arhmm", "sample_ar_params"),
    ("ethogram.models.gibbs.keypoint_slds", "keypoint_local_params"),
    ("ethogram.fitting.gibbs", "_local_steps"),
    ("ethogram.fitting.gibbs", "_absorb"),
    ("ethogram.models.gibbs.keypoint_slds", "keypoint_local_step"),
    ("ethogram.models.gibbs.keypoint_slds", "unpack_recording"),
    ("ethogram.models.gibbs.arhmm", "ffbs"),
    ("ethogram.models.gibbs.arhmm", "ffbs_blocked"),
    ("ethogram.models.gibbs.arhmm", "masked_ar_log_likes"),
    ("ethogram.models.gibbs.keypoint_slds", "_draw_pose_and_place"),
    ("ethogram.models.gibbs.keypoint_slds", "sample_ar_lds"),
    ("ethogram.models.gibbs.keypoint_slds", "heading_concentrations"),
    ("ethogram.models.gibbs.keypoint_slds", "sample_heading"),
    ("ethogram.models.gibbs.keypoint_slds", "centroid_pseudo_observations"),
    ("ethogram.models.gibbs.keypoint_slds", "sample_random_walk"),
    ("ethogram.models.gibbs.keypoint_slds", "_draw_scales"),
    ("ethogram.models.gibbs.keypoint_slds", "_emission_summary"),
    ("ethogram.models.gibbs.keypoint_slds", "_summaries"),
    ("ethogram.models.gibbs.arhmm", "ar_regression_stats"),
    ("ethogram.models.gibbs.arhmm", "transition_counts"),
    ("ethogram.models.gibbs.keypoint_slds", "_path_log_like"),
    ("ethogram.models.gibbs.keypoint_slds", "log_prob_syllables"),
]


class Timer:
    def __init__(self):
        self.acc = defaultdict(float)
        self.depth = defaultdict(int)

    def wrap(self, name, fn):
        def timed(*a, **k):
            self.depth[name] += 1
            t0 = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                self.depth[name] -= 1
                if self.depth[name] == 0:
                    self.acc[name] += time.process_time() - t0

        return timed


def profile(name, iters, use_cprofile, seed=0):
    import importlib

    from ethogram.fitting.executors import SerialExecutor
    from ethogram.models import KeypointSLDS

    timer = Timer()
    saved = []
    for mod, attr in PIECES:
        m = importlib.import_module(mod)
        saved.append((m, attr, getattr(m, attr)))
        setattr(m, attr, timer.wrap(attr, getattr(m, attr)))
    Ys, confs, ant, post, fps = _load(name)
    model = KeypointSLDS(num_states=100, anterior=[ant], posterior=[post], fps=fps)
    marks, per_sweep = [], {True: [], False: []}
    profs = {True: cProfile.Profile(), False: cProfile.Profile()}
    real = model.global_step
    state = {"stage": None}

    def global_step(stats, rng):
        if state["stage"] is not None and use_cprofile:
            profs[state["stage"]].disable()
        c = time.process_time()
        if marks:
            per_sweep[marks[-1][1]].append(dict(timer.acc, sweep=c - marks[-1][0]))
        timer.acc.clear()
        marks.append((c, model.ar_only))
        state["stage"] = model.ar_only
        if use_cprofile:
            profs[model.ar_only].enable()
        real(stats, rng)

    model.global_step = global_step
    try:
        model.fit(Ys, confs, num_ar_iters=iters, num_full_iters=iters, seed=seed,
                  executor=SerialExecutor(), progress=False)  # fmt: skip
    finally:
        if use_cprofile:
            profs[state["stage"]].disable()
        c = time.process_time()
        per_sweep[marks[-1][1]].append(dict(timer.acc, sweep=c - marks[-1][0]))
        for m, attr, fn in saved:
            setattr(m, attr, fn)
    out = {}
    for stage, rows in per_sweep.items():
        keys = sorted({k for r in rows for k in r})
        out["ar_only" if stage else "full"] = {
            k: round(1e3 * float(np.median([r.get(k, 0.0) for r in rows[1:]])), 3) for k in keys
        }
        if use_cprofile:
            print(f"== {name} {'AR-only' if stage else 'full'} cProfile (all sweeps)")
            pstats.Stats(profs[stage]).sort_stats("tottime").print_stats(25)
    return out


_HELP = """\
Run::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 \\
        python bench/profile_gibbs_sweep.py [--iters 30] [--cprofile] [-o out.json]

Pieces are timed by wrapping the sweep's functions (`time.process_time` around each call,
summed per sweep, median over sweeps); a piece nested in another is counted in both. The
sweep total is the time between consecutive global steps, as `bench_keypoint_slds.py`.
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--cprofile", action="store_true")
    p.add_argument("--only", action="append")
    p.add_argument("-o", "--output", type=Path)
    args = p.parse_args(argv)
    out = {"load_before": os.getloadavg(), "ethogram": ethogram.__file__}
    profile("openfield", 2, False)  # warm-up: numba compilation
    for name in args.only or ["openfield", "flies"]:
        out[name] = profile(name, args.iters, args.cprofile)
        for stage, d in out[name].items():
            print(name, stage, "sweep", d["sweep"], "ms")
            for k, v in sorted(d.items(), key=lambda kv: -kv[1]):
                print(f"   {k:32s} {v:8.3f}")
    out["load_after"] = os.getloadavg()
    if args.output:
        args.output.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
