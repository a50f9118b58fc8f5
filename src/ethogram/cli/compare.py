"""``ethogram compare``: a fit's syllables against reference labels or human annotations."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..viz._report_files import OUTPUTS as COMMAND_OUTPUTS


def add_parser(subparsers, parents) -> None:
    """Register ``compare``."""
    from ._arguments import add_out_argument, add_overwrite_argument, add_results_argument

    p = subparsers.add_parser(
        "compare",
        parents=parents,
        help="compare syllables with reference labels or human annotations",
        description=(
            "Score the syllables of a fit against reference labels of the same frames (MoSeq "
            "labels_clean, another results file, keypoint-moseq's results.h5 or CSVs, a CSV of "
            "labels: Hungarian matched accuracy, NMI, ARI, boundary precision/recall, the "
            "matched confusion table and syllable durations on both sides) or against human "
            "annotations (a CSV with recording, start, stop, behavior: the best syllable set per "
            "behavior with precision/recall/F1, and a confusion table). Writes RESULTS/compare/; "
            "tables of an earlier comparison of the same kind there are replaced only with "
            "--overwrite."
        ),
    )
    add_results_argument(p)
    p.add_argument(
        "--labels",
        required=True,
        metavar="FILE",
        help="reference labels (another fit: its folder or results .h5; keypoint-moseq "
        "results.h5 or its CSV folder, MoSeq NWB, an NWB file of 'ethogram export', CSV "
        "with a label column) or annotations CSV",
    )
    p.add_argument(
        "--units",
        choices=("seconds", "frames"),
        default=None,
        help="units of annotation start/stop (when the CSV has no units column)",
    )
    p.add_argument(
        "--tolerance",
        type=int,
        default=2,
        metavar="FRAMES",
        help="boundary tolerance in frames (default 2)",
    )
    add_out_argument(
        p,
        "where to write (default RESULTS/compare; NAME_compare/ beside a results file NAME.h5)",
        default=None,
    )
    add_overwrite_argument(
        p, "replace the tables of an earlier comparison of the same kind there (refused without it)"
    )
    p.set_defaults(run=run)


#: the files one comparison writes (and an earlier one of the same kind is refused for): the
#: report's list of what ``compare`` writes, so that the two cannot drift apart
ANNOTATION_TABLES = COMMAND_OUTPUTS["compare"][:3]
LABEL_TABLES = COMMAND_OUTPUTS["compare"][3:]


def _is_annotations(path: Path) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    import pandas as pd

    cols = {str(c).strip().lower() for c in pd.read_csv(path, nrows=0).columns}
    return {"start", "stop", "behavior"} <= cols


def run(args) -> int:
    """Run ``ethogram compare``."""
    from ..results import load_results
    from ..viz._report_files import output_folder
    from ._common import check_output_folder, existing_results_path, files_swapped_in

    path = existing_results_path(args.results)
    labels_path = Path(args.labels).expanduser()
    if not labels_path.exists():
        raise FileNotFoundError(f"--labels {str(labels_path)!r} not found")
    if args.tolerance < 0:
        raise ValueError(f"--tolerance must be >= 0 frames, got {args.tolerance}")
    annotations = _is_annotations(labels_path)
    names = ANNOTATION_TABLES if annotations else LABEL_TABLES
    out = Path(args.out).expanduser() if args.out else output_folder(path, "compare")
    check_output_folder(out, names, args.overwrite, "compare")
    results = load_results(path)
    if annotations:
        from ..analysis.annotations import compare_annotations, read_annotations

        ann = read_annotations(labels_path, units=args.units, fps=results.fps())
        summary, coverage, confusion = compare_annotations(
            results.syllables(), ann, results.num_states
        )
        with files_swapped_in(out, names) as build:
            summary.to_csv(build / "annotations_summary.csv", index=False)
            coverage.to_csv(build / "annotations_coverage.csv")
            confusion.to_csv(build / "annotations_confusion.csv")
        print(
            f"{len(summary)} behavior(s) in {labels_path.name} against {results.num_states} "
            "syllables",
            file=sys.stdout,
        )
        for r in summary.itertuples():
            print(
                f"  {r.behavior:<20} syllables {r.syllables or '-':<12} precision "
                f"{r.precision:.3f}  recall {r.recall:.3f}  F1 {r.f1:.3f}",
                file=sys.stdout,
            )
        print(f"tables: {out}/ ({', '.join(names)})", file=sys.stdout)
        return 0
    from ..analysis.labels_compare import compare_durations, compare_labels, pair_labels
    from ..results import read_labels

    unpaired = []
    ref, pred = pair_labels(read_labels(labels_path), results.syllables(), unpaired)
    if unpaired:
        more = " ..." if len(unpaired) > 3 else ""
        print(
            f"ethogram: warning: no labels in {labels_path.name} for {len(unpaired)} "
            f"recording(s) of the fit ({', '.join(unpaired[:3])}{more}); compared the other "
            f"{len(pred)}",
            file=sys.stderr,
        )
    res = compare_labels(ref, pred, tolerance=args.tolerance)
    durations = compare_durations(ref, pred, res.mapping, fps=results.fps())
    scores = res.scores()
    rows = [scores.assign(recording="all")]
    if len(ref) > 1:
        rows += [
            compare_labels(ref[k], pred[k], tolerance=args.tolerance).scores().assign(recording=k)
            for k in ref
        ]
    import pandas as pd

    table = pd.concat(rows, ignore_index=True)
    table = table[["recording"] + [c for c in table.columns if c != "recording"]]
    with files_swapped_in(out, names) as build:
        table.to_csv(build / "labels_scores.csv", index=False)
        res.matched_confusion().to_csv(build / "labels_confusion.csv")
        pd.DataFrame(sorted(res.mapping.items()), columns=["syllable", "reference"]).to_csv(
            build / "labels_mapping.csv", index=False
        )
        durations.to_csv(build / "labels_durations.csv", index=False)
    print(
        f"{res.num_frames} frames of {len(ref)} recording(s) compared with {labels_path.name}",
        file=sys.stdout,
    )
    print(
        f"  matched accuracy {res.accuracy:.3f}   NMI {res.nmi:.3f}   ARI {res.ari:.3f}",
        file=sys.stdout,
    )
    used, refs = len(res.confusion.columns), len(res.confusion.index)
    if used > len(res.mapping) or refs > len(res.mapping):  # what the accuracy leaves out
        print(
            f"  (one-to-one matching pairs {len(res.mapping)} of the {used} syllables with "
            f"{len(res.mapping)} of the {refs} reference labels; the frames of the unpaired "
            "ones count as wrong in the matched accuracy; NMI and ARI need no pairing; "
            "labels_confusion.csv has them all)",
            file=sys.stdout,
        )
    print(
        f"  boundaries within {res.tolerance} frames: precision {res.boundary_precision:.3f}   "
        f"recall {res.boundary_recall:.3f}   F1 {res.boundary_f1:.3f}",
        file=sys.stdout,
    )
    d = durations.iloc[0]
    unit, f = ("ms", 1000.0) if np.isfinite(d["syllable_median_s"]) else ("frames", None)

    def median(side):
        return f"{d[f'{side}_median_s'] * f:.0f}" if f else f"{d[f'{side}_median_frames']:g}"

    print(
        f"  median duration ({unit}): syllables {median('syllable')} "
        f"({int(d['syllable_instances'])} instances), reference {median('reference')} "
        f"({int(d['reference_instances'])} instances)",
        file=sys.stdout,
    )
    print(f"tables: {out}/ ({', '.join(names)})", file=sys.stdout)
    return 0
