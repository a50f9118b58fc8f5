"""``ethogram movies``: crowd, grid or skeleton movies of a fit's syllables, one mp4 per
syllable."""

from __future__ import annotations

import sys
from pathlib import Path


def add_parser(subparsers, parents) -> None:
    """Register ``movies``."""
    from ._arguments import add_out_argument, add_overwrite_argument, add_results_argument

    p = subparsers.add_parser(
        "movies",
        parents=parents,
        help="movies of the syllables (crowd, grid or skeleton)",
        description=(
            "Write one movie per syllable under RESULTS/movies/: crowd movies from MoSeq depth "
            "frames, grid movies from keypoints and the tracked video, skeleton movies from "
            "keypoints alone. Movies already there are replaced only with --overwrite; other "
            "syllables or kinds are added beside them."
        ),
    )
    add_results_argument(p)
    p.add_argument(
        "--syllables",
        default=None,
        metavar="LIST",
        help="syllables: a range like 0-9, a list like 1,4,7, or 'all' (default: every syllable "
        "used)",
    )
    p.add_argument(
        "--kind",
        choices=("auto", "crowd", "grid", "skeleton"),
        default="auto",
        help="crowd (depth frames), grid (video + keypoints), skeleton (keypoints); auto picks "
        "what the data allow",
    )
    p.add_argument(
        "--video",
        action="append",
        default=None,
        metavar="PATH",
        help="grid movies: a folder of videos named like the recordings (video.mp4 for "
        "videoDLC_resnet50_...csv), NAME=PATH for one recording (a file name: all "
        "its animals), or the video of a single recording; repeat for more",
    )
    p.add_argument(
        "--instances",
        type=int,
        default=None,
        metavar="N",
        help="instances per movie (default 40 for crowd, rows x cols for grid/skeleton)",
    )
    p.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the instance sampling (default 0)"
    )
    p.add_argument("--rows", type=int, default=4, help="grid rows (default 4)")
    p.add_argument("--cols", type=int, default=6, help="grid columns (default 6)")
    p.add_argument(
        "--skeleton",
        default=None,
        metavar="PAIRS",
        help="body parts to join, e.g. snout-leftear,snout-rightear,leftear-tailbase (default: "
        "guessed)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="movies rendered at the same time (default 1)",
    )
    add_out_argument(
        p,
        "where to write (default RESULTS/movies; NAME_movies/ beside a results file NAME.h5)",
        default=None,
    )
    add_overwrite_argument(
        p, "replace movies of the same kind and syllables already there (refused without it)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    """Run ``ethogram movies``."""
    from ..results import load_results
    from ..viz._instances import parse_syllables
    from ..viz._report_files import output_folder
    from ..viz.movie_files import make_movies
    from ._common import check_writable, existing_results_path, held_warnings, show_warnings

    path = existing_results_path(args.results)
    if args.instances is not None and args.instances < 1:
        raise ValueError(f"--instances must be at least 1, got {args.instances}")
    if args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}")
    results = load_results(path)
    syllables = (
        None if args.syllables is None else parse_syllables(args.syllables, results.num_states)
    )
    out = Path(args.out) if args.out else output_folder(path, "movies")
    check_writable(out)  # said in words before any work, as fit says it
    skeleton = None
    if args.skeleton:
        skeleton = [
            tuple(p.strip() for p in pair.split("-"))
            for pair in args.skeleton.split(",")
            if pair.strip()
        ]
    with held_warnings() as caught:  # said after what was made (a video at another rate)
        manifest = make_movies(
            results,
            out,
            syllables=syllables,
            kind=args.kind,
            video=args.video,
            num_instances=args.instances,
            seed=args.seed,
            num_workers=args.workers,
            progress=not args.quiet,
            rows=args.rows,
            cols=args.cols,
            skeleton=skeleton,
            overwrite=args.overwrite,
        )
    for line in movie_lines(manifest, out):
        print(
            line, file=sys.stdout
        )  # also with --quiet: a syllable without a movie is a result, not chatter
    show_warnings(caught)
    return 0


def movie_lines(manifest, out) -> list:
    """What ``ethogram movies`` prints: the movies made, syllables shown with fewer instances than
    asked for (and why), syllables without a movie (and why)."""
    attrs = manifest.attrs
    counts, rule, requested = (
        attrs.get("instance_counts", {}),
        attrs.get("rule", ""),
        attrs.get("requested"),
    )
    skipped = list(attrs.get("skipped", []))
    shortest = attrs.get("min_duration", 3)
    lines = []
    no_video = list(attrs.get("no_video", []))
    if no_video:
        more = f" and {len(no_video) - 5} more" if len(no_video) > 5 else ""
        shown = ", ".join(no_video[:5]) + more
        total = attrs.get("num_recordings", "?")
        lines.append(
            f"no video for {len(no_video)} of {total} recordings ({shown}): their "
            "instances are not in the grid movies (give --video FOLDER or NAME=PATH)"
        )
    if len(manifest):
        kinds = ", ".join(sorted(set(manifest["kind"])))
        lines.append(
            f"{len(manifest)} {kinds} movie(s) in {out}/ (manifest: movies.csv, instances shown: "
            "instances.csv)"
        )
    few = [
        (int(row.syllable), int(row.num_instances))
        for row in manifest.itertuples()
        if requested and row.num_instances < requested and int(row.syllable) in counts
    ]
    if few:
        lines.append(
            f"fewer than {requested} instances per movie for {len(few)} syllable(s); an instance "
            f"is shown when it is {rule}:"
        )
        for k, shown in few:
            c = counts[k]
            why = _why(c, shortest)
            lines.append(
                f"  syllable {k}: {shown} of {c['all']} instances shown"
                + (f" ({why})" if why else "")
            )
    if skipped:
        never = [k for k in skipped if counts.get(k, {}).get("all", 0) == 0]
        unusable = [k for k in skipped if k not in never]
        made = len(manifest) > 0
        if len(unusable) == 1:
            k = unusable[0]
            head = (
                f"no movie for syllable {k}: it has" if made else f"no movie made: syllable {k} has"
            )
            lines.append(
                f"{head} no instance {rule} (of its {counts[k]['all']} instances, "
                f"{_why(counts[k], shortest)})"
            )
        elif unusable:
            each = "; ".join(
                f"syllable {k}: of its {counts[k]['all']} instances, {_why(counts[k], shortest)}"
                for k in unusable
            )
            lines.append(
                f"no movie {'' if made else 'made '}for syllables "
                f"{', '.join(map(str, unusable))}: none has an instance {rule} ({each})"
            )
        if never:
            one = len(never) == 1
            lines.append(
                f"no movie {'' if made else 'made '}for syllable{'' if one else 's'} "
                f"{', '.join(map(str, never))}: {'it does' if one else 'they do'} not occur in "
                "the recordings"
            )
    return lines


def _why(c: dict, min_duration: int) -> str:
    """``"8 shorter than 3 frames, 2 too close to the recording's start or end"``, from instance
    counts."""
    parts = ([f"{c['short']} shorter than {min_duration} frames"] if c["short"] else []) + (
        [f"{c['edge']} too close to the recording's start or end"] if c["edge"] else []
    )
    return ", ".join(parts)
