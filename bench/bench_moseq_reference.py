"""keypoint-moseq 0.8.1 timed on the shared recordings, one CPU, for the side-by-side of issue 17.

Runs keypoint-moseq's tutorial with its defaults (its Gibbs iterations, AR-only and full model,
and its recommended fit) in the reference environment, each recording set in a fresh process
pinned to one CPU, timing every sweep inside ``fit_model`` and every step of the workflow, so
that "time to a fitted model" is measured, not extrapolated; writes JSON. The workflow, what is
timed and how to run it: ``--help``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")

DATASETS = {
    "openfield": {
        "label": "openfield mouse (DLC csv; 2330 frames, 4 body parts, 30 fps)",
        "path": str(DATA / "openfield" / "keypoints.csv"),
        "kind": "deeplabcut",
        "fps": 30,
        "anterior": ["snout"],
        "posterior": ["tailbase"],
    },
    "flies": {
        "label": "SLEAP flies (2 x 1500 frames, 13 nodes, 25 fps)",
        "path": str(DATA / "flies" / "clip.slp"),
        "kind": "sleap",
        "fps": 25,
        "anterior": ["head"],
        "posterior": ["abdomen"],
    },
}


def worker(spec: dict) -> dict:
    """One recording set, the tutorial's steps, timed; runs inside the pinned process."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import numpy as np

    t0 = time.perf_counter()
    from importlib import metadata

    import jax
    import keypoint_moseq as kpms  # switches JAX to float64, as it runs by default
    import keypoint_moseq.fitting as kf

    out = {
        "versions": {
            n: metadata.version(n)
            for n in ("keypoint-moseq", "jax-moseq", "jax", "jaxlib", "dynamax", "numba")
        },
        "x64": bool(jax.config.jax_enable_x64),
        "affinity": sorted(os.sched_getaffinity(0)),
        "loadavg_start": os.getloadavg(),
        "steps": {},
    }
    steps = out["steps"]
    steps["import"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    coords, confs, bodyparts = kpms.load_keypoints(spec["path"], spec["kind"])
    # sleap-io gives float32 confidences, which format_data keeps and init_model then refuses
    # under float64 ("32-bit arrays: data"): cast, as a user has to
    out["input_dtypes"] = sorted(
        {str(np.asarray(v).dtype) for v in (*coords.values(), *confs.values())}
    )
    coords = {k: np.asarray(v, dtype=np.float64) for k, v in coords.items()}
    confs = {k: np.asarray(v, dtype=np.float64) for k, v in confs.items()}
    steps["read"] = time.perf_counter() - t0

    project = spec["project"]
    t0 = time.perf_counter()
    kpms.setup_project(
        project,
        overwrite=True,
        bodyparts=bodyparts,
        use_bodyparts=bodyparts,
        skeleton=[],
        anterior_bodyparts=spec["anterior"],
        posterior_bodyparts=spec["posterior"],
        fps=spec["fps"],
        video_dir=project,
    )

    def config():
        return kpms.load_config(project)

    data, meta = kpms.format_data(coords, confs, **config())
    kpms.update_config(
        project,
        sigmasq_loc=kpms.estimate_sigmasq_loc(data["Y"], data["mask"], filter_size=config()["fps"]),
    )
    pca = kpms.fit_pca(**data, **config())
    cs = np.cumsum(pca.explained_variance_ratio_)
    latent_dim = int(min(10, np.searchsorted(cs, 0.9) + 1))
    kpms.update_config(project, latent_dim=latent_dim)
    steps["prepare"] = time.perf_counter() - t0
    out.update(
        latent_dim=latent_dim,
        segments=list(np.asarray(data["mask"]).shape),
        frames_in_segments=int(np.asarray(data["mask"]).sum()),
        frames=int(sum(len(v) for v in coords.values())),
        recordings=len(coords),
        sigmasq_loc=config()["cen_hypparams"]["sigmasq_loc"],
    )

    t0 = time.perf_counter()
    model = kpms.init_model(data, pca=pca, **config())
    jax.block_until_ready(model)
    steps["init"] = time.perf_counter() - t0

    sweeps: list = []
    original = kf._wrapped_resample

    def timed(*a, **k):
        w, c = time.perf_counter(), time.process_time()
        m = original(*a, **k)
        jax.block_until_ready(m)
        sweeps.append((time.perf_counter() - w, time.process_time() - c))
        return m

    kf._wrapped_resample = timed
    n_ar, n_full = spec["ar_iters"], spec["full_iters"]
    fit = {"save_every_n_iters": 25, "generate_progress_plots": False, "verbose": False}

    t0 = time.perf_counter()
    model, name = kpms.fit_model(model, data, meta, project, ar_only=True, num_iters=n_ar, **fit)
    steps["fit_ar"] = time.perf_counter() - t0
    out["ar"] = summary(sweeps, "AR-only")
    sweeps.clear()

    t0 = time.perf_counter()
    model, data, meta, current = kpms.load_checkpoint(project, name, iteration=n_ar)
    model = kpms.update_hypparams(model, kappa=1e4)
    model = kpms.fit_model(
        model,
        data,
        meta,
        project,
        name,
        ar_only=False,
        start_iter=current,
        num_iters=current + n_full,
        **fit,
    )[0]
    steps["fit_full"] = time.perf_counter() - t0
    out["full"] = summary(sweeps, "full")

    t0 = time.perf_counter()
    kpms.reindex_syllables_in_checkpoint(project, name)
    model = kpms.load_checkpoint(project, name)[0]
    results = kpms.extract_results(model, meta, project, name)
    kpms.save_results_as_csv(results, project, name)
    steps["results"] = time.perf_counter() - t0
    steps["fitted_model_total"] = sum(
        steps[k] for k in ("read", "prepare", "init", "fit_ar", "fit_full", "results")
    )

    z = np.concatenate([r["syllable"] for r in results.values()])
    runs = np.diff(np.flatnonzero(np.r_[True, z[1:] != z[:-1], True]))
    out.update(
        model_name=name,
        median_syllable_frames=float(np.median(runs)),
        median_syllable_ms=float(1000 * np.median(runs) / spec["fps"]),
        syllables_used=len(np.unique(z)),
        loadavg_end=os.getloadavg(),
    )
    return out


def summary(sweeps: list, label: str) -> dict:
    import numpy as np

    wall = np.array([w for w, _ in sweeps])
    cpu = np.array([c for _, c in sweeps])
    rest = wall[1:]
    return {
        "stage": label,
        "sweeps": len(wall),
        "first": float(wall[0]),
        "median": float(np.median(rest)) if len(rest) else float("nan"),
        "q25": float(np.percentile(rest, 25)) if len(rest) else float("nan"),
        "q75": float(np.percentile(rest, 75)) if len(rest) else float("nan"),
        "min": float(rest.min()) if len(rest) else float("nan"),
        "cpu_over_wall": float(np.median(cpu[1:] / rest)) if len(rest) else float("nan"),
        # process CPU seconds per sweep: less sensitive than wall time to other load
        "cpu_median": float(np.median(cpu[1:])) if len(rest) else float("nan"),
        "sum": float(wall.sum()),
        # sweeps that recompiled (jax-moseq's pmap outputs change the jit input shardings)
        "slow_sweeps": int((wall > 5 * np.median(rest)).sum()) if len(rest) else 0,
        "slow_sweeps_sum": float(wall[wall > 5 * np.median(rest)].sum()) if len(rest) else 0.0,
    }


def run_pinned(name: str, args) -> dict:
    spec = dict(DATASETS[name], ar_iters=args.ar_iters, full_iters=args.full_iters)
    keep = args.keep_projects
    spec["project"] = (
        str(Path(keep) / name) if keep else tempfile.mkdtemp(prefix=f"kpms-bench-{name}-")
    )
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    env = dict(os.environ, PYTHONPATH="", JAX_PLATFORMS="cpu")
    cmd = pin + [sys.executable, __file__, "--worker", json.dumps(spec)]
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=4 * 3600, check=False
    )
    elapsed = time.perf_counter() - t0
    if not keep:
        shutil.rmtree(spec["project"], ignore_errors=True)
    for line in proc.stdout.splitlines():
        if line.startswith("KPMS_RESULT "):
            res = json.loads(line[len("KPMS_RESULT ") :])
            res.update(label=spec["label"], process_wall=elapsed, pinned=bool(pin))
            return res
    raise RuntimeError(f"keypoint-moseq run on {name} failed:\n{proc.stderr[-3000:]}")


_HELP = """\
Run with the reference environment's Python (`bash bench/make_reference_env.sh`)::

    bench/.venv-moseq/bin/python bench/bench_moseq_reference.py [-o moseq_reference.json]
        [--ar-iters 50] [--full-iters 500] [--only openfield|flies] [--keep-projects DIR]

Each recording set runs in a fresh process pinned to CPU 0 (`taskset -c 0`: XLA sizes its
thread pool from the affinity, and keypoint-moseq's CRT draws run in numba on the same core),
following keypoint-moseq's tutorial with its defaults: load_keypoints (cast to float64: 0.8.1's
init_model refuses the float32 confidences sleap-io returns for .slp files), format_data,
estimate_sigmasq_loc (filter = fps), fit_pca, latent_dim = PCs for 90% of the variance (at
most 10), init_model (num_states 100, nlags 3, kappa 1e6), fit_model AR-only with
`num_iters=ar_iters` (it runs ar_iters + 1 sweeps), load_checkpoint of that iteration,
kappa 1e4, fit_model full model from there to `ar_iters + full_iters` (full_iters + 1
sweeps), reindex_syllables_in_checkpoint, extract_results, save_results_as_csv. Checkpoints are
saved every 25 iterations as by default; progress plots are off (`generate_progress_plots=
False`, a display choice). Every Gibbs sweep is timed inside fit_model (its
`_wrapped_resample`, with `block_until_ready`); the JSON gives per stage the first sweep
(compilation included), the median of the others with their quartiles, the median process CPU
time per sweep and CPU over wall (1 = one busy thread; below 1 when other processes share the
core), the sweeps that recompiled, and per step the wall time, so "time to a fitted model" is
measured, not extrapolated. The machine's load average is recorded before and after each set.
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument(
        "--ar-iters",
        type=int,
        default=50,
        help="fit_model num_iters of the AR-only stage (tutorial: 50)",
    )
    p.add_argument(
        "--full-iters",
        type=int,
        default=500,
        help="further iterations of the full model (tutorial: 500)",
    )
    p.add_argument(
        "--only", choices=sorted(DATASETS), action="append", help="run only these recording sets"
    )
    p.add_argument(
        "--keep-projects",
        help="keep the keypoint-moseq projects (results.h5, CSVs) under this folder",
    )
    p.add_argument("-o", "--output", type=Path, help="JSON file (default: stdout only)")
    args = p.parse_args(argv)
    if args.worker:
        print("KPMS_RESULT " + json.dumps(worker(json.loads(args.worker))))
        return 0
    import platform

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    out = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg_start": os.getloadavg(),
        "ar_iters": args.ar_iters,
        "full_iters": args.full_iters,
        "runs": {},
    }
    for name in args.only or list(DATASETS):
        out["runs"][name] = run_pinned(name, args)
        print(json.dumps({name: out["runs"][name]}), flush=True)
    out["loadavg_end"] = os.getloadavg()
    text = json.dumps(out, indent=1)
    if args.output:
        args.output.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
