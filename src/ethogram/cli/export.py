"""``ethogram export RESULTS --nwb``: a fit's syllables written into copies of its NWB files."""

from __future__ import annotations

import sys
from pathlib import Path


def add_parser(subparsers, parents) -> None:
    """Register ``export``."""
    from ._arguments import add_out_argument, add_overwrite_argument, add_results_argument

    p = subparsers.add_parser(
        "export",
        parents=parents,
        help="write the syllables into copies of the recordings' NWB files (DANDI)",
        description=(
            "With --nwb: for every NWB file the fit read, write a copy into RESULTS/nwb/ (same "
            "file name) with a processing module 'ethogram': a TimeIntervals table 'syllables' "
            "(one row per syllable instance: start_time, stop_time, syllable, start_frame, "
            "stop_frame) and a TimeSeries 'syllable' (the syllable of every frame, -1 = not "
            "usable), so that the syllables go to DANDI with the pose and neural data. Recordings "
            "read from other formats are named and left out. 'ethogram info FILE.nwb' reads them "
            "back."
        ),
    )
    add_results_argument(p)
    p.add_argument(
        "--nwb",
        action="store_true",
        help="write NWB copies with the syllables (the one export so far)",
    )
    add_out_argument(
        p,
        "where to write (default RESULTS/nwb; NAME_nwb/ beside a results file NAME.h5)",
        default=None,
    )
    add_overwrite_argument(p, "replace NWB files of an earlier export there (refused without it)")
    p.set_defaults(run=run)


def run(args) -> int:
    """Run ``ethogram export``."""
    from ..io.nwb_export import copy_names, export_nwb, nwb_sources
    from ..results import load_results
    from ..viz._report_files import output_folder
    from ._common import check_output_folder, existing_results_path, files_swapped_in, listed

    if not args.nwb:
        raise ValueError(
            "say what to export: --nwb (syllables into copies of the recordings' NWB files)"
        )
    path = existing_results_path(args.results)
    out = Path(args.out).expanduser() if args.out else output_folder(path, "nwb")
    results = load_results(path)
    sources, skipped = nwb_sources(results)
    if not sources:
        formats = sorted({r.format or "unknown" for r in results.recordings})
        raise ValueError(
            f"no recording of {path} was read from an NWB file (formats: {', '.join(formats)}): "
            f"{skipped[0][1] if skipped else 'nothing to export'}"
        )
    names = list(copy_names(sources).values())
    check_output_folder(out, names, args.overwrite, "export")
    for name, why in skipped:
        print(f"ethogram: warning: {name}: not exported: {why}", file=sys.stderr)
    with files_swapped_in(out, names) as build:
        written, _ = export_nwb(results, build)
    for file, recs in written:
        print(
            f"{out / file.name}: syllables of {listed(recs)} in processing/ethogram",
            file=sys.stdout,
        )
    return 0
