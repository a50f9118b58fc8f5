"""``ethogram demo``: the whole job on the openfield mouse shipped with ethogram.

Reads the DeepLabCut keypoints in ``ethogram/data/openfield`` (MIT licence), fits syllables,
writes the results file and CSVs into ``./ethogram-demo/``, prints the syllable table, makes
grid movies of the most frequent syllables from the shipped video (LGPL-3.0) and writes the
HTML report (``./ethogram-demo/report/index.html``). ``--course`` instead runs the course's
two synthetic experiments.
"""

from __future__ import annotations

import sys


def add_parser(subparsers, parents) -> None:
    """Register ``demo``."""
    from ..pipeline import DEFAULT_NUM_ITERS, DEFAULT_NUM_STATES
    from ._arguments import add_output_arguments
    from ._fit_options import add_model_arguments

    p = subparsers.add_parser(
        "demo",
        parents=parents,
        help="fit syllables to the openfield mouse shipped with ethogram",
        description="Fit syllables to the openfield mouse shipped with ethogram (DeepLabCut, 4 "
        "body parts, 2330 frames at 30 fps) and write the results into ./ethogram-demo/. "
        "--course runs the course's synthetic experiments instead.",
    )
    p.add_argument(
        "--course",
        action="store_true",
        help="run the course's synthetic HMM and ARHMM experiments instead",
    )
    add_output_arguments(p, required=False, default="ethogram-demo")
    add_model_arguments(p, DEFAULT_NUM_STATES, DEFAULT_NUM_ITERS)
    p.add_argument(
        "--movies",
        type=int,
        default=4,
        metavar="N",
        help="grid movies of the N most frequent syllables (default 4; 0 for none)",
    )
    p.add_argument(
        "--no-report", action="store_true", help="stop after the results (no movies, no report)"
    )
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
    from ._fit_options import check_method_options
    from .fit import fit_and_write

    path = results_path(args.output)
    check_output(path, args.overwrite)
    check_method_options(args)  # as `ethogram fit`: before reading
    source = openfield_keypoints()
    print(
        f"ethogram demo: syllables of one mouse in an open field ({source.name}, DeepLabCut, "
        "shipped with ethogram)",
        file=out,
    )
    t0 = time.perf_counter()
    recordings = read_recordings(
        [str(source)], format="dlc", fps=30.0
    )  # DLC csv stores no frame rate; the video is 30 fps
    timings = {"read": time.perf_counter() - t0}
    rc = fit_and_write(args, recordings, path, out, timings)
    if rc != 0 or args.no_report:
        return rc
    return _views(args, path, out)


def _views(args, path, out) -> int:
    """Grid movies of the most frequent syllables from the shipped video, then the report."""
    import time

    from ..data import data_path
    from ..results import load_results
    from ..viz.movie_files import make_movies
    from ..viz.report import write_report
    from ._errors import option_names

    if args.movies < 0:
        raise ValueError(f"--movies must be 0 or more, got {args.movies}")
    t0 = time.perf_counter()
    results = load_results(path)
    used = sorted({int(s) for r in results.recordings for s in r.syllables if s >= 0})
    syllables = used[: args.movies]  # syllable 0 is the most frequent
    if syllables:
        make_movies(
            results,
            kind="grid",
            video=data_path("openfield/video.mp4"),
            syllables=syllables,
            seed=args.seed,
            num_workers=2,
            progress=not args.quiet,
            overwrite=args.overwrite,
        )
    t1 = time.perf_counter()
    index = write_report(
        path, progress=not args.quiet, overwrite=args.overwrite, argument_names=option_names()
    )
    t2 = time.perf_counter()
    print(
        f"grid movies of syllables {syllables}: {t1 - t0:.1f} s; report: {t2 - t1:.1f} s", file=out
    )
    print(f"open the report: {index.resolve()}", file=out)
    return 0
