"""Compare syllables with human behavior annotations (intervals of named behaviors).

Annotations are intervals ``(recording, start, stop, behavior)`` in seconds or frames, read
from a CSV. Each behavior becomes a set of frames; a syllable *covers* a behavior in
proportion to the frames they share. For each behavior this room finds the set of syllables
whose union predicts the behavior's frames with the highest F1 and reports its precision,
recall and F1. The best set is found exactly: F1 = 2 TP / (TP + FP + P) is a ratio of sums
over the chosen syllables, so (by the Dinkelbach argument) the optimal set holds exactly the
syllables whose precision ``tp_k / (tp_k + fp_k)`` exceeds a threshold, i.e. it is one of the
K prefixes of the syllables sorted by precision; all K are scored and the best kept.
The confusion table counts frames per (behavior, syllable), with the frames no annotation
covers in a row ``"(none)"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import ArgumentError

__all__ = ["read_annotations", "annotation_masks", "compare_annotations", "best_syllable_set"]

_SECONDS = {"s", "sec", "secs", "second", "seconds"}
_FRAMES = {"frame", "frames", "f"}
NONE_ROW = "(none)"


def _units_name(value) -> str:
    """``"seconds"``, ``"frames"`` or ``""`` (not a known spelling)."""
    v = str(value).strip().lower()
    return "seconds" if v in _SECONDS else "frames" if v in _FRAMES else ""


def _names(names, limit: int = 5) -> str:
    """``'a', 'b' and 3 more``: a few names, then how many others."""
    names = list(names)
    more = len(names) - limit
    return ", ".join(repr(str(n)) for n in names[:limit]) + (
        f" and {more} more" if more > 0 else ""
    )


def _check_known(recordings, known, where: str) -> None:
    """ValueError naming annotated recordings that are not among ``known`` (and a few known
    ones)."""
    unknown = sorted(set(map(str, recordings)) - set(map(str, known)))
    if unknown:
        raise ValueError(
            f"{where} names recording(s) {_names(unknown)} that are not in the results; the "
            f"results hold {len(known)} recording(s): {_names(sorted(map(str, known)))} (the "
            "recording column must use these names)"
        )


def read_annotations(path_or_frame, units: str | None = None, fps=None):
    """Read behavior intervals and convert them to frames.

    Parameters
    ----------
    path_or_frame : str, Path or pandas.DataFrame
        CSV with columns ``recording``, ``start``, ``stop``, ``behavior`` and optionally
        ``units`` (``"seconds"`` or ``"frames"`` per row).
    units : {"seconds", "frames"}, optional
        Units of ``start`` and ``stop`` for rows without a ``units`` column value.
    fps : float or mapping of str to float, optional
        Frames per second (one for all recordings or per recording), needed for seconds. A
        mapping also names the known recordings: others are refused.

    Returns
    -------
    pandas.DataFrame
        Columns ``recording``, ``behavior``, ``start_frame``, ``stop_frame`` (exclusive).
        A frame ``t`` (time ``t / fps``) is inside ``[start, stop)`` seconds when
        ``start <= t / fps < stop``; in frames ``start`` is the first frame and ``stop``
        one past the last.

    Raises
    ------
    ValueError
        When a column is missing, units are unknown or missing (no units column and no
        ``units``; an empty or unknown value in the column), a recording is not among the keys
        of a mapping ``fps``, fps is missing for seconds, or ``stop < start``.
    """
    import pandas as pd

    if isinstance(path_or_frame, pd.DataFrame):
        df, where = path_or_frame.copy(), "annotations"
    else:
        p = Path(path_or_frame)
        if not p.is_file():
            raise FileNotFoundError(f"annotations file {str(p)!r} not found")
        df, where = pd.read_csv(p), str(p)
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("recording", "start", "stop", "behavior") if c not in df.columns]
    if missing:
        raise ValueError(
            f"{where}: missing column(s) {missing}; need recording, start, stop, behavior (and "
            "optionally units)"
        )
    recs = df["recording"].astype(str).to_numpy()
    if isinstance(
        fps, Mapping
    ):  # the recordings are known: name the unknown ones before anything else
        _check_known(recs, fps, where)
    u = _row_units(df, units, where)
    start = df["start"].to_numpy(dtype=np.float64)
    stop = df["stop"].to_numpy(dtype=np.float64)
    if np.any(~np.isfinite(start) | ~np.isfinite(stop)) or np.any(stop < start):
        raise ValueError(f"{where}: every interval needs finite start <= stop")
    s_frame, e_frame = _frames(start, stop, (u == "seconds").to_numpy(), recs, fps, where)
    return pd.DataFrame(
        {
            "recording": recs,
            "behavior": df["behavior"].astype(str).to_numpy(),
            "start_frame": s_frame,
            "stop_frame": e_frame,
        }
    )


def _row_units(df, units, where):
    """The unit of each row, ``"seconds"`` or ``"frames"``: its ``units`` column, else ``units``."""
    import pandas as pd

    given = _units_name(units) if units is not None else ""
    if units is not None and not given:
        raise ArgumentError(f"{{units}} must be 'seconds' or 'frames', got {units!r}", "units")
    accepted = "'seconds' (or s, sec, second) or 'frames' (or frame, f)"
    if "units" in df.columns:
        u = df["units"].astype("string").str.strip().str.lower().fillna("").map(_units_name)
        u = u.where(u != "", given)
    else:
        if not given:
            raise ArgumentError(
                f"{where} has no units column, so start/stop could be seconds or frames; add a "
                f"units column with {accepted} on every row, or give units for all rows "
                "({units:seconds} or {units:frames})",
                "units",
            )
        u = pd.Series([given] * len(df), index=df.index)
    bad = np.flatnonzero((u == "").to_numpy())
    if bad.size:
        i = int(bad[0])
        raw = str(df["units"].iloc[i]) if pd.notna(df["units"].iloc[i]) else ""
        row = f"row {i + 1} (line {i + 2})" if where != "annotations" else f"row {i}"
        more = (
            f" ({bad.size - 1} more row(s) with an empty or unknown unit)" if bad.size > 1 else ""
        )
        what = "is empty" if not raw.strip() else f"is {raw.strip()!r}"
        empty = not raw.strip()
        raise ArgumentError(
            f"{where}: the units column {what} in {row}{more}; accepted values are {accepted}"
            + (" (or give units for the rows left empty: {units})" if empty else ""),
            ("units",) if empty else (),
        )
    return u


def _frames(start, stop, is_sec, recs, fps, where):
    """First frames and stop frames (exclusive) of intervals in seconds (``is_sec``) or frames."""
    s_frame = np.empty(len(recs), dtype=np.int64)
    e_frame = np.empty(len(recs), dtype=np.int64)
    for i in range(len(recs)):
        if is_sec[i]:
            rate = fps.get(recs[i]) if isinstance(fps, Mapping) else fps
            if rate is None:
                if isinstance(fps, Mapping):
                    raise ValueError(
                        f"{where}: recording {recs[i]!r} is annotated in seconds but has no "
                        "frame rate in the results; give its start/stop in frames (units "
                        "'frames')"
                    )
                raise ValueError(
                    f"{where}: recording {recs[i]!r} is annotated in seconds but fps is not given; "
                    "give fps= (frames per second), or start/stop in frames"
                )
            s_frame[i] = int(np.ceil(start[i] * float(rate) - 1e-9))
            e_frame[i] = int(np.ceil(stop[i] * float(rate) - 1e-9))
        else:
            s_frame[i], e_frame[i] = int(round(start[i])), int(round(stop[i]))
    return s_frame, e_frame


def annotation_masks(annotations, lengths: Mapping) -> dict[str, dict[str, np.ndarray]]:
    """Frames of each behavior.

    Parameters
    ----------
    annotations : pandas.DataFrame
        As returned by :func:`read_annotations`.
    lengths : mapping of str to int
        Number of frames of each recording.

    Returns
    -------
    dict of behavior -> dict of recording -> ndarray of bool, shape (T,)

    Raises
    ------
    ValueError
        When an annotated recording is not among ``lengths``.
    """
    _check_known(annotations["recording"], lengths, "annotations")
    out: dict = {}
    for row in annotations.itertuples(index=False):
        T = int(lengths[row.recording])
        m = out.setdefault(row.behavior, {}).setdefault(row.recording, np.zeros(T, dtype=bool))
        m[max(row.start_frame, 0) : min(row.stop_frame, T)] = True
    return out


def best_syllable_set(tp, fp, positives: int):
    """The set of syllables whose union predicts a behavior with the highest F1 (exact).

    Parameters
    ----------
    tp : array_like, shape (K,)
        Frames of the behavior labelled with each syllable.
    fp : array_like, shape (K,)
        Frames outside the behavior labelled with each syllable.
    positives : int
        Frames of the behavior (including frames with no syllable).

    Returns
    -------
    syllables : list of int
        The chosen syllables, sorted.
    precision, recall, f1 : float
    """
    tp, fp = np.asarray(tp, dtype=np.float64), np.asarray(fp, dtype=np.float64)
    used = np.flatnonzero(tp > 0)
    if positives <= 0 or used.size == 0:
        return [], np.nan, 0.0 if positives > 0 else np.nan, 0.0
    prec = tp[used] / (tp[used] + fp[used])
    order = used[np.lexsort((-tp[used], -prec))]
    ctp, cfp = np.cumsum(tp[order]), np.cumsum(fp[order])
    f1 = 2 * ctp / (ctp + cfp + positives)
    j = int(np.argmax(f1))
    chosen = order[: j + 1]
    return (
        sorted(int(k) for k in chosen),
        float(ctp[j] / (ctp[j] + cfp[j])),
        float(ctp[j] / positives),
        float(f1[j]),
    )


def compare_annotations(syllables: Mapping, annotations, num_states: int | None = None):
    """Syllables against human annotations: coverage, best syllable sets, confusion table.

    Parameters
    ----------
    syllables : mapping of str to ndarray of int, shape (T,)
        Syllables per recording (-1 = none). Only annotated recordings are compared.
    annotations : pandas.DataFrame
        From :func:`read_annotations`.
    num_states : int, optional
        Number of syllables K (default: largest label + 1).

    Returns
    -------
    summary : pandas.DataFrame
        One row per behavior: ``behavior``, ``frames``, ``syllables`` (the best set, as
        ``"3 7"``), ``precision``, ``recall``, ``f1``, and ``top_syllables``: the syllables
        covering at least 10% of the behavior's frames with their share (``"3:0.62 7:0.21"``).
    coverage : pandas.DataFrame
        Rows behaviors, columns syllables: fraction of the behavior's frames labelled with
        each syllable (rows need not sum to 1: frames with no syllable are left out).
    confusion : pandas.DataFrame
        Frame counts, rows behaviors plus ``"(none)"`` (frames no annotation covers),
        columns syllables; a frame annotated with two behaviors counts in both rows.
    """
    import pandas as pd

    syl = {k: np.asarray(v) for k, v in syllables.items() if k in set(annotations["recording"])}
    masks = annotation_masks(annotations, {k: len(v) for k, v in syllables.items()})
    if num_states is None:
        num_states = int(max((v.max() for v in syllables.values() if v.size), default=-1)) + 1
    K = max(int(num_states), 1)
    behaviors = sorted(masks)
    counts = np.zeros((len(behaviors), K), dtype=np.int64)
    totals = np.zeros(K, dtype=np.int64)
    positives = np.zeros(len(behaviors), dtype=np.int64)
    any_mask = {k: np.zeros(len(v), dtype=bool) for k, v in syl.items()}
    for name, lab in syl.items():
        ok = lab >= 0
        totals += np.bincount(lab[ok], minlength=K)[:K]
        for i, b in enumerate(behaviors):
            m = masks[b].get(name)
            if m is None:
                continue
            any_mask[name] |= m
            positives[i] += int(m.sum())
            counts[i] += np.bincount(lab[m & ok], minlength=K)[:K]
    none_row = np.zeros(K, dtype=np.int64)
    for name, lab in syl.items():
        sel = ~any_mask[name] & (lab >= 0)
        none_row += np.bincount(lab[sel], minlength=K)[:K]
    rows = []
    with np.errstate(invalid="ignore", divide="ignore"):
        cover = counts / positives[:, None]
    for i, b in enumerate(behaviors):
        chosen, p, r, f = best_syllable_set(counts[i], totals - counts[i], int(positives[i]))
        top = np.argsort(-cover[i])
        top = [k for k in top if cover[i, k] >= 0.1]
        rows.append(
            {
                "behavior": b,
                "frames": int(positives[i]),
                "syllables": " ".join(map(str, chosen)),
                "precision": p,
                "recall": r,
                "f1": f,
                "top_syllables": " ".join(f"{k}:{cover[i, k]:.2f}" for k in top),
            }
        )
    cols = pd.Index(np.arange(K), name="syllable")
    coverage = pd.DataFrame(cover, index=pd.Index(behaviors, name="behavior"), columns=cols)
    confusion = pd.DataFrame(
        np.vstack([counts, none_row[None]]),
        index=pd.Index(behaviors + [NONE_ROW], name="behavior"),
        columns=cols,
    )
    return pd.DataFrame(rows), coverage, confusion
