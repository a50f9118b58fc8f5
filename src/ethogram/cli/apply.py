"""``ethogram apply``: label new recordings with a saved model, without refitting.

Frame rates are checked by :func:`ethogram.pipeline.apply_model`: recordings at another rate
than the model's give one warning line, and recordings without a rate take the model's (one
line says so)."""

from __future__ import annotations

import sys
import time

from ._arguments import add_input_arguments, add_output_arguments, add_results_argument
from ._common import (
    check_output,
    existing_results_path,
    held_warnings,
    print_summary,
    read_inputs,
    results_path,
    show_warnings,
    write,
)


def add_parser(subparsers, parents) -> None:
    """Register ``apply``."""
    p = subparsers.add_parser(
        "apply",
        parents=parents,
        help="label recordings with a saved model",
        description="Prepare recordings exactly as the model's training recordings and label "
        "them with the saved model.",
    )
    add_results_argument(p, dest="model", what=", whose model labels the recordings")
    add_input_arguments(p)
    p._option_string_actions[
        "--fps"
    ].help = "frame rate, for files without timestamps (default: the model's, said in one line)"
    add_output_arguments(p)
    p.add_argument(
        "--expected-states", action="store_true", help="also store the state probabilities"
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar (as 'ethogram fit --quiet'; the summary is still printed)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    """Run ``ethogram apply``."""
    from ..pipeline import apply_model
    from ..results import load_results

    path = results_path(args.output)
    check_output(path, args.overwrite)
    model_path = existing_results_path(args.model)
    fitted = load_results(model_path, recordings=False)
    timings = {}
    recordings = read_inputs(args, timings)
    t0 = time.perf_counter()
    # said after the summary: another frame rate than the model's, the model's rate taken,
    # syllables too short or flickering
    with held_warnings() as caught:
        results = apply_model(fitted, recordings, expected_states=args.expected_states)
    timings["label"] = time.perf_counter() - t0
    results.config["argv"] = list(getattr(args, "argv", sys.argv[1:]))
    t0 = time.perf_counter()
    write(path, results, args.overwrite)
    timings["write"] = time.perf_counter() - t0
    print_summary(results, path, sys.stdout, timings)
    show_warnings(caught)
    return 0
