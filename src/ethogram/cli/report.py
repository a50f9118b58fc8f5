"""``ethogram report RESULTS``: the HTML report of a fit (plots, tables, movies, configuration)."""

from __future__ import annotations

import sys
from pathlib import Path


def add_parser(subparsers, parents) -> None:
    """Register ``report``."""
    from ._arguments import add_out_argument, add_overwrite_argument, add_results_argument

    p = subparsers.add_parser(
        "report",
        parents=parents,
        help="write the HTML report of a fit",
        description="Write RESULTS/report/index.html: the fit summary, syllable tables, every "
        "plot, the movies and the compare, stats and select outputs written for this fit (only "
        "the files those commands write; nothing else in RESULTS is copied), the configuration "
        "and versions. Links are relative, so the report folder can be zipped and sent. An "
        "earlier report there is replaced only with --overwrite.",
    )
    add_results_argument(p)
    add_out_argument(
        p,
        "report folder (default RESULTS/report; NAME_report/ beside a results file NAME.h5)",
        dest="output",
        default=None,
    )
    add_overwrite_argument(p, "replace an earlier report in that folder (refused without it)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes drawing the plots (default 1)",
    )
    p.add_argument(
        "--no-trajectories", action="store_true", help="skip the syllable trajectory plots"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    """Run ``ethogram report``."""
    from ..viz.report import write_report
    from ._common import check_writable
    from ._errors import RESULTS, option_names

    if args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    given = Path(args.results).expanduser()
    if not given.exists():  # said as the other commands that read a fit say it
        raise FileNotFoundError(
            f"{RESULTS} {str(given)!r} does not exist; give the folder 'ethogram fit -o' wrote, "
            "or its results .h5 file"
        )
    if args.output is not None:  # said in words before any work, as fit says it
        check_writable(Path(args.output).expanduser())
    index = write_report(
        args.results,
        args.output,
        num_workers=args.workers,
        progress=not args.quiet,
        trajectories=not args.no_trajectories,
        overwrite=args.overwrite,
        argument_names=option_names(),
    )
    sys.stdout.write(f"report: {index.resolve()}\n")
    return 0
