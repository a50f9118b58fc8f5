"""``ethogram apply``: label new recordings with a saved model, without refitting."""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from ..pipeline import frame_rate
from ._common import (add_input_arguments, add_output_arguments, check_output, one_line_warnings, print_summary,
                      read_inputs, results_path, write)

#: relative difference of frame rates above which ``apply`` warns
FPS_TOLERANCE = 0.01


def add_parser(subparsers, parents) -> None:
    """Register ``apply``."""
    p = subparsers.add_parser(
        "apply", parents=parents, help="label recordings with a saved model",
        description="Prepare recordings exactly as the model's training recordings and label them with the saved model.",
    )
    p.add_argument("model", metavar="MODEL", help="the output folder of 'ethogram fit' (or its results .h5 file)")
    add_input_arguments(p)
    add_output_arguments(p)
    p.add_argument("--expected-states", action="store_true", help="also store the state probabilities")
    p.add_argument("--quiet", action="store_true", help="no progress bar (as 'ethogram fit --quiet'; the summary is still printed)")
    p.set_defaults(run=run)


def run(args) -> int:
    """Run ``ethogram apply``."""
    from ..io.results import load_results
    from ..pipeline import apply_model

    path = results_path(args.output)
    check_output(path, args.overwrite)
    model_path = results_path(args.model)
    fitted = load_results(model_path, recordings=False)
    timings = {}
    recordings = read_inputs(args, timings)
    with one_line_warnings():
        warn_other_frame_rate(recordings, training_fps(model_path), model_path)
    t0 = time.perf_counter()
    with one_line_warnings():  # e.g. a recording too short for the model's lags, labelled -1
        results = apply_model(fitted, recordings, expected_states=args.expected_states)
    timings["label"] = time.perf_counter() - t0
    results.config["argv"] = list(getattr(args, "argv", sys.argv[1:]))
    t0 = time.perf_counter()
    write(path, results, args.overwrite)
    timings["write"] = time.perf_counter() - t0
    print_summary(results, path, sys.stdout, timings)
    return 0


def training_fps(path) -> float | None:
    """The frame rate of the recordings a results file holds (for a fit: its training recordings).

    Read from the file's per-recording ``fps`` attributes (the timestamps where it is missing),
    without loading the arrays; the median when they differ; None when none is known.
    """
    import h5py

    rates = []
    with h5py.File(path, "r") as f:
        group = f.get("recordings")
        for i in range(int(group.attrs.get("count", 0)) if group is not None else 0):
            g = group[str(i)]
            ts = g["timestamps"][()] if "timestamps" in g and np.isnan(float(g.attrs.get("fps", np.nan))) else None
            rate = frame_rate(float(g.attrs.get("fps", np.nan)), ts)
            if rate is not None:
                rates.append(rate)
    return float(np.median(rates)) if rates else None


def warn_other_frame_rate(recordings, trained_at: float | None, model_path) -> None:
    """One warning when recordings run at another frame rate than the model's training recordings
    (relative difference above :data:`FPS_TOLERANCE`): the model's stickiness and dynamics are
    per frame, so syllable durations in seconds would mean something else."""
    if not trained_at:
        return
    other = [(r.name, rate) for r in recordings
             if (rate := frame_rate(r.fps, r.timestamps)) is not None and abs(rate - trained_at) > FPS_TOLERANCE * trained_at]
    if not other:
        return
    rates = " / ".join(f"{v:g}" for v in sorted({round(rate, 3) for _, rate in other}))
    if len(other) == 1:
        which = f"recording {other[0][0]!r} is"
    else:
        which = (f"{len(other)} recordings ({', '.join(repr(n) for n, _ in other[:3])}"
                 f"{f' and {len(other) - 3} more' if len(other) > 3 else ''}) are")
    warnings.warn(
        f"{which} at {rates} fps, but the model "
        f"({model_path}) was fitted on recordings at {trained_at:g} fps: its syllables' stickiness and dynamics are "
        "per frame, so their durations mean something else here; resample the recordings to the model's frame rate, "
        "check --fps, or fit a model at this frame rate", UserWarning, stacklevel=2)
