"""Differences between groups of animals: per-syllable usage and duration, tested across groups.

An index (a CSV with columns ``recording`` and ``group``) puts each recording in a group. For
every recording and syllable this room measures usage (MoSeq's: instances of the syllable /
all instances of the recording; also the fraction of frames) and the mean duration of its
instances in seconds, then tests each syllable across groups with rank tests that assume no
distribution: Mann-Whitney U for two groups, Kruskal-Wallis for more, followed by Dunn's
pairwise test (mean ranks of the pooled sample, normal approximation, tie-corrected
variance; Dunn 1964). p-values are corrected for the number of tests with Benjamini-Hochberg
(scipy's ``false_discovery_control``): the omnibus tests across syllables, Dunn's tests across
all syllables and pairs together. The same rank tests and corrections are keypoint-moseq's
and moseq2-viz's choices for syllable statistics.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from pathlib import Path

import numpy as np

__all__ = [
    "read_groups",
    "group_table",
    "dunn_test",
    "compare_groups",
    "plot_group_stats",
    "smallest_p_value",
    "STATS",
]

#: the per-recording measures that can be tested
STATS = ("usage", "frame_usage", "duration_s")


def read_groups(path_or_frame, recordings=None) -> dict[str, str]:
    """Read an index of recordings and their groups.

    Parameters
    ----------
    path_or_frame : str, Path, pandas.DataFrame or mapping
        CSV (or table) with columns ``recording`` and ``group``.
    recordings : iterable of str, optional
        Recording names of the results; every one must be in the index (a ValueError names
        those missing), and index rows for other recordings are an error too. A row with an
        empty group leaves its recording out of the comparison.

    Returns
    -------
    dict of str to str
        Recording -> group, in index order.
    """
    import pandas as pd

    if isinstance(path_or_frame, Mapping):
        groups = {str(k): str(v) for k, v in path_or_frame.items()}
        where = "groups"
    else:
        if isinstance(path_or_frame, pd.DataFrame):
            df, where = path_or_frame, "groups"
        else:
            p = Path(path_or_frame)
            if not p.is_file():
                raise FileNotFoundError(f"groups index {str(p)!r} not found")
            df, where = pd.read_csv(p, dtype=str), str(p)
        cols = {str(c).strip().lower(): c for c in df.columns}
        if "recording" not in cols or "group" not in cols:
            raise ValueError(
                f"{where}: needs columns 'recording' and 'group', got {list(df.columns)}"
            )
        rec = df[cols["recording"]].astype(str).str.strip()
        grp = df[cols["group"]].fillna("").astype(str).str.strip()
        dup = rec[rec.duplicated()]
        if len(dup):
            raise ValueError(
                f"{where}: recording {dup.iloc[0]!r} appears twice; give each recording one group"
            )
        listed = set(rec)
        groups = {r: g for r, g in zip(rec, grp) if g}  # an empty group leaves the recording out
    if recordings is not None:
        recordings = [str(r) for r in recordings]
        listed = listed if not isinstance(path_or_frame, Mapping) else set(groups)
        missing = [r for r in recordings if r not in listed]
        extra = [r for r in listed if r not in set(recordings)]
        if missing:
            raise ValueError(
                f"{where}: no group for recording(s) {_names(missing)}; add them to the index "
                "(an empty group leaves a recording out)"
            )
        if extra:
            raise ValueError(
                f"{where}: recording(s) {_names(extra)} are not in the results (known: "
                f"{_names(recordings)})"
            )
    if len(set(groups.values())) < 2:
        raise ValueError(
            f"{where}: comparing groups needs at least two groups, got "
            f"{sorted(set(groups.values()))}"
        )
    return groups


def _names(names, limit: int = 5) -> str:
    """``'a', 'b', 'c' and 4 more``."""
    more = len(names) - limit
    return ", ".join(repr(n) for n in names[:limit]) + (f" and {more} more" if more > 0 else "")


def group_table(labels: Mapping, groups: Mapping, fps=None, num_states: int | None = None):
    """Usage and duration of every syllable in every recording, with its group.

    Parameters
    ----------
    labels : mapping of str to ndarray of int, shape (T,)
        Syllables per recording (-1 = none).
    groups : mapping of str to str
        Recording -> group (recordings not in it are left out).
    fps : float or mapping of str to float, optional
        For durations in seconds (NaN without).
    num_states : int, optional

    Returns
    -------
    pandas.DataFrame
        One row per (recording, syllable): ``recording``, ``group``, ``syllable``,
        ``instances``, ``usage``, ``frames``, ``frame_usage``, ``duration_s`` (mean over the
        recording's instances; NaN when the syllable is unused), ``duration_frames``.
    """
    from .tables import syllable_durations, syllable_usage

    labs = {k: np.asarray(v) for k, v in labels.items() if k in groups}
    if not labs:
        raise ValueError("no recording of the results is in the groups index")
    rates = {k: (fps.get(k) if isinstance(fps, Mapping) else fps) for k in labs}
    usage = syllable_usage(labs, num_states)
    durs = syllable_durations(labs, rates)
    mean = durs.groupby(["recording", "syllable"], as_index=False)[
        ["duration_frames", "duration_s"]
    ].mean()
    table = usage.merge(mean, on=["recording", "syllable"], how="left")
    table.insert(1, "group", table["recording"].map(dict(groups)))
    return table


def dunn_test(samples) -> list[tuple[int, int, float, float]]:
    """Dunn's pairwise test after Kruskal-Wallis (two-sided, tie-corrected).

    Parameters
    ----------
    samples : list of array_like
        One sample per group (at least one value each).

    Returns
    -------
    list of (i, j, z, p)
        For each pair of groups i < j: z = (mean rank i - mean rank j) / sigma with
        sigma^2 = (N (N + 1) / 12 - sum(t^3 - t) / (12 (N - 1))) (1 / n_i + 1 / n_j), and
        p = 2 (1 - Phi(|z|)); uncorrected.

    Notes
    -----
    Dunn, O. J. (1964) Multiple comparisons using rank sums. Technometrics 6, 241-252; the
    tie correction as in scikit-posthocs ``posthoc_dunn``. For two groups z^2 equals the
    tie-corrected Kruskal-Wallis H.
    """
    from scipy.stats import norm, rankdata

    samples = [np.asarray(s, dtype=np.float64).ravel() for s in samples]
    if any(s.size == 0 for s in samples):
        raise ValueError("every group needs at least one value for Dunn's test")
    pooled = np.concatenate(samples)
    N = pooled.size
    ranks = rankdata(pooled)
    _, ties = np.unique(pooled, return_counts=True)
    tie_sum = float(np.sum(ties.astype(np.float64) ** 3 - ties))
    base = N * (N + 1) / 12.0 - (tie_sum / (12.0 * (N - 1)) if N > 1 else 0.0)
    bounds = np.cumsum([0] + [s.size for s in samples])
    means = [ranks[bounds[g] : bounds[g + 1]].mean() for g in range(len(samples))]
    out = []
    for i, j in combinations(range(len(samples)), 2):
        var = base * (1.0 / samples[i].size + 1.0 / samples[j].size)
        if var <= 0:
            z, p = 0.0, 1.0
        else:
            z = (means[i] - means[j]) / np.sqrt(var)
            p = float(2 * norm.sf(abs(z)))
        out.append((i, j, float(z), p))
    return out


def _bh(p: np.ndarray) -> np.ndarray:
    from scipy.stats import false_discovery_control

    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = false_discovery_control(p[ok], method="bh")
    return out


def compare_groups(table, stat: str = "usage", alpha: float = 0.05):
    """Test every syllable's ``stat`` across groups.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`group_table`.
    stat : {"usage", "frame_usage", "duration_s"}, default "usage"
    alpha : float, default 0.05
        Level for the ``significant`` column (on corrected p-values).

    Returns
    -------
    pandas.DataFrame
        One row per syllable for the omnibus test (``comparison`` = ``"all"``) and, with
        three or more groups, one per syllable and pair (``comparison`` = ``"A vs B"``):
        ``syllable``, ``stat``, ``test`` (``mann-whitney``, ``kruskal-wallis``, ``dunn``),
        ``comparison``, ``statistic`` (U, H or z), ``p_value``, ``p_adjusted`` (BH),
        ``significant``, and the mean, SEM and n of each group (``mean_<group>``, ...).
        Recordings where the syllable is unused have NaN duration and are left out of the
        duration tests; a syllable with fewer than one value per group gets NaN p-values.

    Raises
    ------
    ValueError
        Fewer than two groups, or every group with one recording (no test is possible:
        Mann-Whitney's p is 1 whatever the data).
    """
    import pandas as pd
    from scipy.stats import kruskal, mannwhitneyu

    if stat not in STATS:
        raise ValueError(f"stat must be one of {STATS}, got {stat!r}")
    groups = list(dict.fromkeys(table["group"]))
    if len(groups) < 2:
        raise ValueError(f"comparing groups needs at least two groups, got {groups}")
    _check_group_sizes(table)
    rows, pair_rows = [], []
    for k, sub in table.groupby("syllable", sort=True):
        samples = [sub.loc[sub["group"] == g, stat].to_numpy(dtype=np.float64) for g in groups]
        samples = [s[np.isfinite(s)] for s in samples]
        desc = {}
        for g, s in zip(groups, samples):
            desc[f"mean_{g}"] = float(s.mean()) if s.size else np.nan
            desc[f"sem_{g}"] = float(s.std(ddof=1) / np.sqrt(s.size)) if s.size > 1 else np.nan
            desc[f"n_{g}"] = int(s.size)
        ok = all(s.size >= 1 for s in samples) and np.unique(np.concatenate(samples)).size > 1
        if len(groups) == 2:
            res = mannwhitneyu(samples[0], samples[1], alternative="two-sided") if ok else None
            rows.append(
                {
                    "syllable": int(k),
                    "stat": stat,
                    "test": "mann-whitney",
                    "comparison": "all",
                    "statistic": float(res.statistic) if res else np.nan,
                    "p_value": float(res.pvalue) if res else np.nan,
                    **desc,
                }
            )
        else:
            res = kruskal(*samples) if ok else None
            rows.append(
                {
                    "syllable": int(k),
                    "stat": stat,
                    "test": "kruskal-wallis",
                    "comparison": "all",
                    "statistic": float(res.statistic) if res else np.nan,
                    "p_value": float(res.pvalue) if res else np.nan,
                    **desc,
                }
            )
            pairs = (
                dunn_test(samples)
                if ok
                else [(i, j, np.nan, np.nan) for i, j in combinations(range(len(groups)), 2)]
            )
            for i, j, z, p in pairs:
                pair_rows.append(
                    {
                        "syllable": int(k),
                        "stat": stat,
                        "test": "dunn",
                        "comparison": f"{groups[i]} vs {groups[j]}",
                        "statistic": z,
                        "p_value": p,
                        **desc,
                    }
                )
    omni = pd.DataFrame(rows)
    omni["p_adjusted"] = _bh(omni["p_value"].to_numpy())
    parts = [omni]
    if pair_rows:
        pw = pd.DataFrame(pair_rows)
        pw["p_adjusted"] = _bh(pw["p_value"].to_numpy())
        parts.append(pw)
    out = pd.concat(parts, ignore_index=True)
    out["significant"] = out["p_adjusted"] < alpha
    first = [
        "syllable",
        "stat",
        "test",
        "comparison",
        "statistic",
        "p_value",
        "p_adjusted",
        "significant",
    ]
    return (
        out[first + [c for c in out.columns if c not in first]]
        .sort_values(["syllable", "test"], kind="stable")
        .reset_index(drop=True)
    )


def _check_group_sizes(table) -> None:
    """Refuse groups of one recording each: no rank test can say anything then."""
    members = table.groupby("group", sort=False)["recording"].unique()
    if members.map(len).max() > 1:
        return
    shown = ", ".join(f"{g}: {list(r)[0]!r}" for g, r in list(members.items())[:4])
    raise ValueError(
        f"every group holds one recording ({shown}{' ...' if len(members) > 4 else ''}): with one "
        "animal per group no test is possible (a rank test compares the differences between groups "
        "with those between animals of a group; Mann-Whitney's p would be 1 whatever the data); "
        "add animals to the groups (at least 4 per group for a two-group test at 0.05)"
    )


def smallest_p_value(sizes) -> float:
    """The smallest two-sided p-value a rank test can reach with these group sizes (no ties).

    Two groups: Mann-Whitney's exact ``2 / C(n1 + n2, n1)`` (every ordering of the pooled
    values is equally likely under the null, and only the two extreme ones reach the minimum).
    More groups: NaN (Kruskal-Wallis's p is asymptotic).

    Parameters
    ----------
    sizes : sequence of int
        Recordings per group.

    Returns
    -------
    float
    """
    from math import comb

    sizes = [int(n) for n in sizes]
    if len(sizes) != 2 or min(sizes) < 1:
        return float("nan")
    return min(1.0, 2.0 / comb(sizes[0] + sizes[1], sizes[0]))


def _stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def plot_group_stats(table, results, stat: str = "usage", path=None, ax=None):
    """Per-syllable mean and SEM of ``stat`` for each group, stars where groups differ.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`group_table`.
    results : pandas.DataFrame
        From :func:`compare_groups` with the same ``stat``; stars mark the omnibus corrected
        p-value (* < 0.05, ** < 0.01, *** < 0.001).
    stat : str, default "usage"
    path : str or Path, optional
        Write a PNG there.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    groups = list(dict.fromkeys(table["group"]))
    syllables = np.sort(table["syllable"].unique())
    if ax is None:
        fig = Figure(
            figsize=(max(6.0, 0.35 * len(syllables) * max(len(groups), 2) / 2 + 2), 4), dpi=100
        )
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    width = 0.8 / len(groups)
    for gi, g in enumerate(groups):
        sub = table[table["group"] == g].groupby("syllable")[stat]
        mean = sub.mean().reindex(syllables)
        sem = sub.sem().reindex(syllables)
        ax.errorbar(
            syllables + (gi - (len(groups) - 1) / 2) * width,
            mean.to_numpy(),
            yerr=sem.to_numpy(),
            fmt="o",
            ms=4,
            capsize=2,
            label=str(g),
            color=f"C{gi}",
        )
    omni = results[(results["comparison"] == "all") & (results["stat"] == stat)].set_index(
        "syllable"
    )
    top = (
        np.nanmax(table.groupby(["syllable", "group"])[stat].mean().to_numpy())
        if len(table)
        else 1.0
    )
    for k in syllables:
        if k in omni.index:
            s = _stars(float(omni.loc[k, "p_adjusted"]))
            if s:
                ax.text(k, top * 1.05, s, ha="center", va="bottom", fontsize=10)
    ax.set_ylim(top=top * 1.2 if np.isfinite(top) and top > 0 else None)
    ax.set_xticks(syllables)
    ax.set_xlabel("syllable")
    label = {
        "usage": "usage (fraction of instances)",
        "frame_usage": "usage (fraction of frames)",
        "duration_s": "mean duration (s)",
    }.get(stat, stat)
    ax.set_ylabel(label)
    ax.set_title(f"{label}: mean ± SEM over recordings", fontsize=10)
    ax.text(
        1.0,
        -0.16,
        "* ** ***: BH-corrected p < 0.05, 0.01, 0.001",
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=7,
        color="0.4",
    )
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
    return fig
