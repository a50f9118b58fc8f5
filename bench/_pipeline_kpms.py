"""keypoint-moseq's part of bench_pipeline.py: its timed run in its own interpreter and its table.

``KPMS_SCRIPT`` runs keypoint-moseq's recommended fit on one recording set in a Python that has
keypoint-moseq installed (never this project's venv), timing every Gibbs iteration inside its
own ``fit_model`` loop; :func:`kpms_run` starts it pinned to one CPU and reads its result line;
:func:`side_by_side` writes the section's table that holds it against ethogram's fit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

KPMS_SCRIPT = r"""
import json, os, sys, time, tempfile
spec = json.loads(sys.argv[1])
os.environ.setdefault("JAX_PLATFORMS", "cpu")
import numpy as np
import keypoint_moseq as kpms  # switches JAX to float64, as it runs by default
from importlib import metadata
out = {"version": metadata.version("keypoint-moseq"), "jax": metadata.version("jax")}
t0 = time.perf_counter()
coordinates, confidences, bodyparts = kpms.load_keypoints(spec["path"], spec["kind"])
coordinates = {k: np.asarray(v, dtype=np.float64) for k, v in coordinates.items()}
confidences = {k: np.asarray(v, dtype=np.float64) for k, v in confidences.items()}
out["read"] = time.perf_counter() - t0
project = tempfile.mkdtemp()
kpms.setup_project(project, overwrite=True, bodyparts=bodyparts, use_bodyparts=bodyparts,
                   skeleton=[], anterior_bodyparts=[bodyparts[0]],
                   posterior_bodyparts=[bodyparts[-1]], fps=spec["fps"], video_dir=project)
config = kpms.load_config(project)
t0 = time.perf_counter()
data, metadata_ = kpms.format_data(coordinates, confidences, **config)
pca = kpms.fit_pca(**data, **config)
cs = np.cumsum(pca.explained_variance_ratio_)
latent_dim = int(np.searchsorted(cs, 0.9) + 1)
kpms.update_config(project, latent_dim=latent_dim)
config = kpms.load_config(project)
out["prepare"] = time.perf_counter() - t0
out["latent_dim"] = latent_dim
out["frames"] = int(np.asarray(data["mask"]).sum())
t0 = time.perf_counter()
model = kpms.init_model(data, pca=pca, **config)
out["init"] = time.perf_counter() - t0
model = kpms.update_hypparams(model, kappa=spec.get("kappa_ar", 1e6))

# time every Gibbs iteration inside keypoint-moseq's own fit_model loop
import jax
import keypoint_moseq.fitting as kf
times = []
_orig = kf._wrapped_resample
def _timed(*a, **k):
    t0 = time.perf_counter()
    m = _orig(*a, **k)
    jax.block_until_ready(m)
    times.append(time.perf_counter() - t0)
    return m
kf._wrapped_resample = _timed

def run(ar_only, start, n):
    # fit_model runs iterations start..num_iters inclusive: n iterations
    global model
    del times[:]
    t0 = time.perf_counter()
    model, name = kpms.fit_model(model, data, metadata_, project, start_iter=start,
                                 num_iters=start + n - 1, ar_only=ar_only, save_every_n_iters=None,
                                 generate_progress_plots=False, verbose=False)
    return time.perf_counter() - t0, list(times)

n_ar, n_full = spec["ar_iters"], spec["full_iters"]
call, t = run(True, 0, 1 + n_ar)
out["ar_first"], out["ar_timed"], out["ar_call"] = t[0], float(np.median(t[1:])), call
model = kpms.update_hypparams(model, kappa=spec.get("kappa_full", 1e4))
call, t = run(False, 1 + n_ar, 1 + n_full)
out["full_first"], out["full_timed"], out["full_call"] = t[0], float(np.median(t[1:])), call
print("KPMS_RESULT " + json.dumps(out))
"""


def kpms_run(python: str, spec: dict, ar_iters: int, full_iters: int) -> dict:
    """Time keypoint-moseq in its own interpreter.

    Raises RuntimeError with its stderr on failure.
    """
    spec = dict(spec, ar_iters=ar_iters, full_iters=full_iters)
    env = os.environ.copy()
    env["PYTHONPATH"] = ""
    # one core, as ethogram here: XLA sizes its thread pool from the process's CPU affinity
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    proc = subprocess.run(
        pin + [python, "-c", KPMS_SCRIPT, json.dumps(spec)],
        capture_output=True,
        text=True,
        env=env,
        timeout=7200,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("KPMS_RESULT "):
            return json.loads(line[len("KPMS_RESULT ") :])
    raise RuntimeError(f"keypoint-moseq run failed: {proc.stderr.strip()[-2000:]}")


def side_by_side(side: list, args) -> list[str]:
    """The side-by-side subsection: one row per recording set, then the goal line.

    Adds ``extrapolated_total`` to each successful keypoint-moseq result in ``side``.
    """
    L = [
        "### Side by side with keypoint-moseq (CPU, one thread)",
        "",
        "keypoint-moseq's recommended fit is 50 AR-HMM-only Gibbs iterations, then the full "
        "keypoint-SLDS model "
        "(500 iterations in its tutorial). Timed here inside its own `fit_model` loop (each "
        "Gibbs iteration, waited "
        "for): the first iteration of each stage (JAX compilation included), then the "
        "median of the next "
        f"{args.kpms_ar_iters} AR-only and {args.kpms_full_iters} full iterations; the time "
        "to a fitted model is "
        "extrapolated as read + PCA + init + the measured AR-only call + the remaining "
        "AR-only iterations x their "
        "median + the measured full call + the remaining full iterations x their median (so "
        "every compilation and "
        "per-call cost it paid is counted once, as in its workflow). ethogram: the "
        "whole fit, measured. keypoint-moseq runs pinned to one CPU (`taskset -c 0`; XLA "
        "sizes its thread pool "
        "from the CPU affinity), float64 as it sets itself. Different models (Gibbs sampling "
        "of an SLDS vs. EM for a MAP ARHMM): the comparison "
        "is of the time each tool's recommended workflow takes to a fitted model on the same "
        "file.",
        "",
        "| recordings | keypoint-moseq version | read + PCA + init | first AR-only iteration "
        "(compile) | AR-only iteration | first full iteration (compile) | full iteration | "
        "keypoint-moseq to a fitted model (extrapolated) | ethogram per EM iteration | "
        "ethogram to a fitted model (measured) | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, row, k in side:
        if "error" in k:
            L.append(f"| {label} | failed: {k['error']} | | | | | | | | | |")
            continue
        n_ar, n_full = 1 + args.kpms_ar_iters, 1 + args.kpms_full_iters
        total = (
            k["read"]
            + k["prepare"]
            + k["init"]
            + k["ar_call"]
            + (50 - n_ar) * k["ar_timed"]
            + k["full_call"]
            + (500 - n_full) * k["full_timed"]
        )
        k["extrapolated_total"] = total
        ours = row["read"] + row["prepare"] + row["fit"] + row["label"]
        L.append(
            f"| {label} | {k['version']} (jax {k['jax']}) | "
            f"{k['read'] + k['prepare'] + k['init']:.1f} s | {k['ar_first']:.1f} s | "
            f"{1000 * k['ar_timed']:.0f} ms | {k['full_first']:.1f} s | "
            f"{1000 * k['full_timed']:.0f} ms | "
            f"{total:.0f} s | {1000 * row['per_iter']:.1f} ms | {ours:.2f} s | "
            f"{total / ours:.0f}x |"
        )
    L.append("")
    ok = [(label, row, k) for label, row, k in side if "extrapolated_total" in k]
    if ok:

        def ours_of(row):
            return row["read"] + row["prepare"] + row["fit"] + row["label"]

        L.append(
            "Goal: at least 10x less time to a fitted model than keypoint-moseq's "
            "recommended fit on the same recordings: "
            + "; ".join(
                f"{label.split(' (')[0]}: {k['extrapolated_total'] / ours_of(row):.0f}x "
                f"(whole `ethogram fit` command {row['cmd']:.1f} s)"
                for label, row, k in ok
            )
            + "."
        )
        L.append("")
    return L
