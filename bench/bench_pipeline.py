"""Recordings to syllables, end to end: ``ethogram fit`` on the shipped and shared recordings.

Time per stage (read, prepare, fit, label, write) in process, then the whole command in a fresh
process (what "file to syllable CSV" costs a user), and side by side with keypoint-moseq when it
is installed in its own venv (``--kpms-python``); ``--write`` puts the tables in BENCHMARKS.md,
"Recordings to syllables". The stages, keypoint-moseq's part and how to run it: ``--help``.
"""

from __future__ import annotations

import _one_thread  # noqa: F401  (pins threads before numpy is imported)

# isort: split

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

from _pipeline_kpms import kpms_run, side_by_side

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SECTION = "## Recordings to syllables"


def datasets() -> list:
    """(label, argv inputs + options, keypoint-moseq loader spec or None) for each recording set."""
    from ethogram.data import openfield_keypoints

    out = [
        (
            "openfield mouse (DLC csv, shipped; 2330 frames, 4 body parts)",
            [str(openfield_keypoints()), "--fps", "30"],
            {"kind": "deeplabcut", "path": str(openfield_keypoints()), "fps": 30},
        )
    ]
    if (DATA / "jabs").exists():
        out.append(
            (
                "JABS mouse v2 (1800 frames, 12 body parts)",
                [str(DATA / "jabs" / "sample_pose_est_v2.h5")],
                None,
            )
        )
    if (DATA / "flies").exists():
        out.append(
            (
                "SLEAP flies (2 x 1500 frames, 13 body parts)",
                [str(DATA / "flies" / "clip.slp"), "--fps", "25"],
                {"kind": "sleap", "path": str(DATA / "flies" / "clip.slp"), "fps": 25},
            )
        )
    if (DATA / "moseq2").exists():
        out.append(
            (
                "moseq2 depth PCs (908 frames, 10 PCs)",
                [str(DATA / "moseq2" / "proc" / "results_00.h5"), "--pcs", "10"],
                None,
            )
        )
    return out


def blas_info() -> str:
    """Which BLAS library and kernel (core type) numpy runs, from threadpoolctl."""
    from threadpoolctl import threadpool_info

    rows = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')} kernel, "
        f"{i.get('num_threads')} thread(s))"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return "; ".join(rows) or "unknown"


def machine() -> dict:
    """CPU, versions, thread settings."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("ethogram", "numpy", "scipy", "numba", "scikit-learn", "h5py", "movement"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    env = {
        k: os.environ.get(k)
        for k in (
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "ETHOGRAM_NUM_THREADS",
            "OPENBLAS_CORETYPE",
            "OPENBLAS_L2_SIZE",
        )
    }
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "blas": blas_info(),
        "env": env,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"),
    }


def stages(argv: list, out_dir: Path) -> dict:
    """One run of the stages of ``ethogram fit`` in this process; seconds per stage and the fit."""
    from ethogram.cli import build_parser
    from ethogram.cli._common import results_path, syllable_tables
    from ethogram.cli.fit import make_preparation
    from ethogram.io import read_recordings
    from ethogram.pipeline import fit_recordings
    from ethogram.results import write_results

    args = build_parser().parse_args(["fit", *argv, "-o", str(out_dir), "--quiet", "--overwrite"])
    t = {}
    t0 = time.perf_counter()
    recs = read_recordings(list(args.inputs), format=args.format, fps=args.fps)
    t["read"] = time.perf_counter() - t0
    res = fit_recordings(
        recs,
        num_states=args.states,
        num_lags=args.lags,
        kappa=args.kappa,
        prep=make_preparation(args),
        num_iters=args.iters,
        num_restarts=args.restarts,
        seed=args.seed,
        progress=False,
        timings=t,
    )
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    write_results(results_path(out_dir), res, overwrite=True, tables=syllable_tables(res))
    t["write"] = time.perf_counter() - t0
    t["total"] = sum(t[k] for k in ("read", "prepare", "fit", "label", "write"))
    z = np.concatenate([r.syllables for r in res.recordings])
    starts = np.flatnonzero(np.r_[True, z[1:] != z[:-1]])
    fps = res.recordings[0].fps
    t.update(
        frames=int(sum(r.num_frames for r in res.recordings)),
        D=int(res.recordings[0].inputs.shape[1]),
        iters=int(res.fit["num_iters"]),
        converged=bool(res.fit["converged"]),
        per_iter=res.fit["seconds"] / max(res.fit["num_iters"], 1),
        median_ms=float(1000 * np.median(np.diff(np.r_[starts, len(z)])[z[starts] >= 0]) / fps)
        if fps
        else float("nan"),
    )
    return t


def whole_command(argv: list, out_dir: Path) -> float:
    """Wall time of ``python -m ethogram.cli fit ...`` in a fresh process (numba cache warm)."""
    cmd = [
        sys.executable,
        "-m",
        "ethogram.cli",
        "fit",
        *argv,
        "-o",
        str(out_dir),
        "--quiet",
        "--overwrite",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return elapsed


def cold_demo(out_dir: Path) -> float:
    """Wall time of ``ethogram demo`` in a fresh process with an empty numba cache.

    Compilation included.
    """
    env = os.environ.copy()
    env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="ethogram-numba-")
    cmd = [
        sys.executable,
        "-m",
        "ethogram.cli",
        "demo",
        "-o",
        str(out_dir),
        "--quiet",
        "--overwrite",
    ]
    try:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        elapsed = time.perf_counter() - t0
    finally:
        shutil.rmtree(env["NUMBA_CACHE_DIR"], ignore_errors=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return elapsed


_HELP = """\
Usage (from the project root; one thread everywhere, BLAS kernel recorded)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 ETHOGRAM_NUM_THREADS=1 \\
        .venv/bin/python bench/bench_pipeline.py [--kpms-python /tmp/kpms-venv/bin/python] [--write]

Stages (in process, after one warm-up run that compiles the kernels): read (the reader),
prepare (`Preparation.fit_transform`), fit (EM with the default settings: K = 20, 3 lags,
kappa from the data, up to 100 iterations, 1 restart), label (Viterbi with the renumbered
model), write (HDF5 + per-recording CSV + tables). Then the whole command in a fresh process
(`python -m ethogram.cli fit ...`: interpreter start, imports, numba cache load, all
stages), which is what "file to syllable CSV" costs a user. `--write` appends (or replaces)
the section `## Recordings to syllables` of BENCHMARKS.md; the rest of the file is left as
it is.

keypoint-moseq (`--kpms-python`, a Python with `keypoint-moseq` installed, never this
project's .venv): the same keypoints, its PCA, then its recommended fit (50 AR-HMM-only Gibbs
iterations, then the full keypoint-SLDS model, 500 iterations in its tutorial); a few
iterations of each are timed after JAX's compilation and the full fit is extrapolated from the
time per iteration (the table says which numbers are measured and which extrapolated).
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="in-process runs per recording set (median)"
    )
    parser.add_argument(
        "--kpms-python", default=None, help="a Python with keypoint-moseq installed (separate venv)"
    )
    parser.add_argument(
        "--kpms-ar-iters", type=int, default=10, help="AR-only iterations timed (after compilation)"
    )
    parser.add_argument(
        "--kpms-full-iters",
        type=int,
        default=5,
        help="full-model iterations timed (after compilation)",
    )
    parser.add_argument("--write", action="store_true", help="write the section into BENCHMARKS.md")
    args = parser.parse_args(argv)

    info = machine()
    print(json.dumps(info, indent=1))
    tmp = Path(tempfile.mkdtemp(prefix="ethogram-bench-"))
    rows, side = [], []
    try:
        info["cold_demo"] = cold_demo(tmp / "cold")
        for label, inputs, kpms_spec in datasets():
            stages(inputs, tmp / "warm")  # compile / warm caches
            runs = [stages(inputs, tmp / f"r{i}") for i in range(args.repeats)]
            med = {
                k: float(np.median([r[k] for r in runs]))
                for k in ("read", "prepare", "fit", "label", "write", "total", "per_iter")
            }
            cmd = float(
                np.median([whole_command(inputs, tmp / f"c{i}") for i in range(args.repeats)])
            )
            row = dict(
                name=label,
                cmd=cmd,
                **med,
                **{k: runs[0][k] for k in ("frames", "D", "iters", "converged", "median_ms")},
            )
            rows.append(row)
            print(json.dumps(row))
            if args.kpms_python and kpms_spec is not None:
                try:
                    k = kpms_run(
                        args.kpms_python, kpms_spec, args.kpms_ar_iters, args.kpms_full_iters
                    )
                except RuntimeError as exc:
                    k = {"error": str(exc).splitlines()[-1][:300]}
                side.append((label, row, k))
                print(json.dumps(k))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    info["load_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = render(info, rows, side, args)
    print(text)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "pipeline.json").write_text(
        json.dumps({"machine": info, "rows": rows, "kpms": side}, indent=1, default=str)
    )
    if args.write:
        write_section(text)
    return 0


def render(info: dict, rows: list, side: list, args) -> str:
    """The markdown section."""
    L = [
        SECTION,
        "",
        "`ethogram fit` end to end with its defaults (K = 20, 3 lags, kappa from the data, up to "
        "100 EM iterations, 1 restart, seed 0) on one thread; regenerate with "
        "`bench/bench_pipeline.py --write` (command in its docstring). Stages are medians of "
        f'{args.repeats} in-process runs after a warm-up; "whole command" is '
        "`python -m ethogram.cli fit ...` in a "
        "fresh process (interpreter, imports, numba cache load, every stage, results file, CSVs "
        "and tables).",
        "",
        f"- machine: {info['cpu']}, {info['cores']} cores, shared (1-minute load average "
        f"{info['load_start']:.1f} at the start, "
        f"{info.get('load_end', float('nan')):.1f} at the end); {info['date']}",
        f"- python {info['python']}; " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        f"- BLAS: {info['blas']}",
        f"- environment: `{json.dumps(info['env'])}`",
        "",
        "| recordings | frames | D | read | prepare | fit (EM iterations) | per iteration | "
        "label | write | stages total | whole command | median syllable |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        L.append(
            f"| {r['name']} | {r['frames']} | {r['D']} | {r['read']:.2f} s | {r['prepare']:.2f} "
            f"s | {r['fit']:.2f} s ({r['iters']}"
            f"{', converged' if r['converged'] else ''}) | {1000 * r['per_iter']:.1f} ms | "
            f"{r['label']:.2f} s | {r['write']:.2f} s | "
            f"{r['total']:.2f} s | {r['cmd']:.2f} s | {r['median_ms']:.0f} ms |"
        )
    L.append("")
    if rows:
        L.append(
            "`ethogram demo` in a fresh process with an empty numba cache (every kernel "
            f"compiled): {info['cold_demo']:.1f} s. "
            "Goal: the openfield recording from file to syllable CSV in under 10 s on one core "
            "once compiled: "
            f"{rows[0]['cmd']:.1f} s for the whole command, {rows[0]['total']:.2f} s of it in "
            "the stages (the rest is "
            "starting Python and importing numpy, scipy, scikit-learn, pandas, h5py and movement)."
        )
        L.append("")
    if side:
        L += side_by_side(side, args)
    return "\n".join(L) + "\n"


def write_section(text: str) -> None:
    """Replace (or append) our section of BENCHMARKS.md, leaving every other section as it is."""
    from _sections import replace_section

    replace_section(ROOT / "BENCHMARKS.md", SECTION, text)


if __name__ == "__main__":
    sys.exit(main())
