"""``ethogram demo``: the whole job on the openfield mouse shipped with ethogram.

Reads the DeepLabCut keypoints in ``ethogram/data/openfield`` (MIT licence), fits syllables,
writes the results file and CSVs into ``./ethogram-demo/`` and prints the syllable table.
``--course`` instead runs the course's two synthetic experiments.
"""

from __future__ import annotations

import sys

def add_parser(subparsers, parents) -> None:
    """Register ``demo``."""
    from ..pipeline import DEFAULT_NUM_ITERS, DEFAULT_NUM_STATES
    from ._common import add_output_arguments
    from .fit import add_model_arguments

    p = subparsers.add_parser(
        "demo", parents=parents, help="fit syllables to the openfield mouse shipped with ethogram",
        description="Fit syllables to the openfield mouse shipped with ethogram (DeepLabCut, 4 body parts, 2330 "
        "frames at 30 fps) and write the results into ./ethogram-demo/. --course runs the course's synthetic experiments instead.",
    )
    p.add_argument("--course", action="store_true", help="run the course's synthetic HMM and ARHMM experiments instead")
    add_output_arguments(p, required=False, default="ethogram-demo")
    add_model_arguments(p, DEFAULT_NUM_STATES, DEFAULT_NUM_ITERS)
    p.set_defaults(run=run)


def run(args) -> int:
    """Run ``ethogram demo``."""
    import time

    out = sys.stdout
    if args.course:
        from ._course import run_course_demo

        return run_course_demo(args.seed, out)
    from ..data import openfield_keypoints
    from ..io import read_recordings
    from ._common import check_output, results_path
    from .fit import fit_and_write

    path = results_path(args.output)
    check_output(path, args.overwrite)
    source = openfield_keypoints()
    print(f"ethogram demo: syllables of one mouse in an open field ({source.name}, DeepLabCut, shipped with ethogram)", file=out)
    t0 = time.perf_counter()
    recordings = read_recordings([str(source)], format="dlc", fps=30.0)  # DLC csv stores no frame rate; the video is 30 fps
    timings = {"read": time.perf_counter() - t0}
    return fit_and_write(args, recordings, path, out, timings)
