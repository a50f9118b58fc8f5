"""``ethogram stats``: per-syllable usage and duration compared between groups of recordings."""

from __future__ import annotations

import sys
from pathlib import Path

from ..viz._report_files import OUTPUTS as COMMAND_OUTPUTS


def add_parser(subparsers, parents) -> None:
    """Register ``stats``."""
    from ._arguments import add_out_argument, add_overwrite_argument, add_results_argument

    p = subparsers.add_parser(
        "stats",
        parents=parents,
        help="compare syllable usage and duration between groups",
        description=(
            "Test every syllable's usage and mean duration across groups of recordings "
            "(Mann-Whitney for two groups, Kruskal-Wallis and Dunn's test for more; "
            "Benjamini-Hochberg corrected). Writes RESULTS/stats/; an earlier result there is "
            "replaced only with --overwrite."
        ),
    )
    add_results_argument(p)
    p.add_argument(
        "--groups", required=True, metavar="CSV", help="index with columns recording, group"
    )
    p.add_argument(
        "--alpha", type=float, default=0.05, help="level on corrected p-values (default 0.05)"
    )
    add_out_argument(
        p,
        "where to write (default RESULTS/stats; NAME_stats/ beside a results file NAME.h5)",
        default=None,
    )
    add_overwrite_argument(p, "replace an earlier result in that folder (refused without it)")
    p.set_defaults(run=run)


#: the files ``stats`` writes (an earlier run's are refused without --overwrite): the report's
#: list of what ``stats`` writes, so that the two cannot drift apart
OUTPUTS = COMMAND_OUTPUTS["stats"]


def run(args) -> int:
    """Run ``ethogram stats``."""
    import pandas as pd

    from ..analysis.groups import (
        compare_groups,
        group_table,
        plot_group_stats,
        read_groups,
        smallest_p_value,
    )
    from ..results import load_results
    from ..viz._report_files import output_folder
    from ._common import check_output_folder, existing_results_path, files_swapped_in

    path = existing_results_path(args.results)
    if not 0 < args.alpha < 1:
        raise ValueError(f"--alpha must be between 0 and 1, got {args.alpha}")
    out = Path(args.out).expanduser() if args.out else output_folder(path, "stats")
    check_output_folder(out, OUTPUTS, args.overwrite, "stats")
    results = load_results(path)
    groups = read_groups(args.groups, results.names)
    empty = [n for n in groups if not (results[n].syllables >= 0).any()]
    if empty:  # an animal with no labelled frame has no usage to compare, not a usage of 0
        groups = {n: g for n, g in groups.items() if n not in empty}
        print(
            f"ethogram: warning: left out {len(empty)} recording(s) without a labelled frame: "
            f"{', '.join(empty[:5])}{' ...' if len(empty) > 5 else ''}",
            file=sys.stderr,
        )
        if len(set(groups.values())) < 2:
            raise ValueError(
                "fewer than two groups keep a recording with labelled frames; nothing to compare"
            )
    left_out = len(results.names) - len(groups)
    table = group_table(
        results.syllables(), groups, fps=results.fps(), num_states=results.num_states
    )
    sizes = table.groupby("group", sort=False)["recording"].nunique()
    floor = smallest_p_value(sizes.to_list())
    if sizes.max() > 1 and floor >= args.alpha:  # one animal per group is refused by compare_groups
        print(
            f"ethogram: warning: with {' and '.join(map(str, sizes))} recordings per group no "
            f"Mann-Whitney p-value can be below {floor:.2g}, so no difference can be significant "
            f"at alpha={args.alpha:g}; add animals to the groups",
            file=sys.stderr,
        )
    with files_swapped_in(out, OUTPUTS) as build:
        parts = []
        for stat, png in (("usage", "usage.png"), ("duration_s", "duration.png")):
            res = compare_groups(table, stat, alpha=args.alpha)
            parts.append(res)
            plot_group_stats(table, res, stat, path=build / png)
        allres = pd.concat(parts, ignore_index=True)
        table.to_csv(build / "per_recording.csv", index=False)
        allres.to_csv(build / "group_stats.csv", index=False)
    n_groups = len(set(groups.values()))
    test = "Mann-Whitney U" if n_groups == 2 else "Kruskal-Wallis + Dunn"
    skipped = f" ({left_out} left out)" if left_out else ""
    print(
        f"{len(groups)} recordings in {n_groups} groups{skipped}; {test}, Benjamini-Hochberg "
        "corrected",
        file=sys.stdout,
    )
    omni = allres[allres["comparison"] == "all"]
    for stat in ("usage", "duration_s"):
        sig = omni[(omni["stat"] == stat) & omni["significant"]]
        what = "usage" if stat == "usage" else "duration"
        if len(sig):
            items = ", ".join(
                f"{int(r.syllable)} (p_adj={r.p_adjusted:.3g})" for r in sig.itertuples()
            )
            print(f"  {what} differs for syllable(s): {items}", file=sys.stdout)
        else:
            print(f"  {what}: no syllable differs at alpha={args.alpha}", file=sys.stdout)
    print(f"tables and plots: {out}/ ({', '.join(OUTPUTS)})", file=sys.stdout)
    return 0
