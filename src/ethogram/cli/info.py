"""``ethogram info``: what a recording or a results file holds; without a file, versions."""

from __future__ import annotations

import sys

import numpy as np


def add_parser(subparsers, parents) -> None:
    """Register ``info``."""
    p = subparsers.add_parser(
        "info",
        parents=parents,
        help="describe a recording or results file (or show versions)",
        description="Describe a recording file or an ethogram results file; without FILE, print "
        "versions and thread settings.",
    )
    p.add_argument("file", nargs="?", metavar="FILE", help="a recording or a results file")
    p.add_argument("--format", default=None, help="recording format (guessed when left out)")
    p.add_argument(
        "--fps",
        type=float,
        default=None,
        metavar="HZ",
        help="frame rate, for files without timestamps",
    )
    p.add_argument(
        "--px-per-mm",
        default=None,
        metavar="X|CSV",
        help="pixels per millimetre (a number or a CSV of recording,px_per_mm)",
    )
    p.set_defaults(run=run)


def _is_results(path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return (
                "format_version" in f.attrs
                and "format" in f.attrs
                and "ethogram" in str(f.attrs["format"])
            )
    except OSError:
        return False


def versions(out) -> int:
    """Print versions and thread settings."""
    import numba
    import scipy

    from .._version import __version__
    from ..inference import get_num_threads

    print(f"ethogram {__version__}", file=out)
    print(
        f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"numba {numba.__version__}",
        file=out,
    )
    print(
        f"threads for batches: {get_num_threads()} (set ETHOGRAM_NUM_THREADS or "
        "ethogram.set_num_threads)",
        file=out,
    )
    return 0


def describe_results(path, out) -> int:
    """Print what a results file holds: model, fit, recordings."""
    from ..pipeline.methods import MODEL_NAMES, sweeps_text
    from ..results import load_results

    res = load_results(path)
    cfg, fit = res.config, res.fit
    print(
        f"ethogram results file {path} (created {res.created}, ethogram "
        f"{res.versions.get('ethogram', '?')})",
        file=out,
    )
    kappa = cfg.get("kappa_used", cfg.get("kappa"))
    method = cfg.get("method", "em")
    print(
        f"model: {MODEL_NAMES.get(method, method)}, K = {res.num_states} syllables, lags = "
        f"{cfg.get('num_lags')}, kappa = {kappa if kappa is None else f'{kappa:.4g}'}"
        + (f" (AR-only stage {fit['kappa_ar']:.4g})" if "kappa_ar" in fit else "")
        + f", {'latent pose' if method == 'keypoint-slds' else 'inputs'} D = "
        f"{res.recordings[0].inputs.shape[1] if res.recordings else '?'}",
        file=out,
    )
    sweeps = sweeps_text(cfg, fit)
    if sweeps is not None:
        print(
            f"fit: {sweeps}, final log joint {float(np.asarray(fit['log_joint'])[-1]):.6g}, "
            f"seed {cfg.get('seed')}",
            file=out,
        )
    if "objectives" in fit:
        obj = np.asarray(fit["objectives"])
        print(
            f"fit: {fit.get('num_iters')} EM iterations, converged: {fit.get('converged')}, "
            f"final objective {obj[-1]:.6g}, restarts: "
            f"{len(np.atleast_1d(fit.get('restart_objectives', [])))}, seed {cfg.get('seed')}",
            file=out,
        )
    if cfg.get("command") == "apply":
        print(f"labels from applying the model in {cfg.get('model_file')}", file=out)
    print(f"{len(res.recordings)} recording(s):", file=out)
    for r in res.recordings:
        used = r.syllables[r.syllables >= 0]
        n_used = len(np.unique(used))
        fps = "?" if r.fps is None else f"{r.fps:g}"
        scale = "scale unknown (pixels)" if r.px_per_mm is None else f"{r.px_per_mm:.4g} px/mm"
        print(
            f"  {r.name}: {r.num_frames} frames at {fps} fps, {scale}, {int(r.mask.sum())} usable, "
            f"{n_used} syllables used{'' if r.source is None else f', from {r.source}'}",
            file=out,
        )
    return 0


def run(args) -> int:
    """Run ``ethogram info``."""
    out = sys.stdout
    if args.file is None:
        return versions(out)
    from pathlib import Path

    path = Path(args.file)
    if not path.exists():
        raise FileNotFoundError(f"{args.file!r} does not exist")
    if path.is_dir() and (path / "results.h5").is_file() and _is_results(path / "results.h5"):
        path = (
            path / "results.h5"
        )  # the output folder of 'ethogram fit', as report/movies/stats take it
    if path.is_file() and _is_results(path):
        return describe_results(path, out)
    from ..io import describe, read_recordings
    from ._common import one_line_warnings

    with one_line_warnings():
        recordings = read_recordings(
            [str(path)], format=args.format, fps=args.fps, px_per_mm=args.px_per_mm
        )
    for rec in recordings:
        print(describe(rec), file=out)
    if path.is_file() and path.suffix.lower() == ".nwb":
        from ..io.nwb_export import describe_nwb_syllables

        for line in describe_nwb_syllables(path):  # syllables written by 'ethogram export --nwb'
            print(line, file=out)
    return 0
