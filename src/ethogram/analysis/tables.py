"""Syllable tables: usage, durations, transitions and a per-syllable summary (pandas).

Every function takes ``labels``: a dict mapping recording names to (T,) integer arrays of
syllables (-1 = no syllable, e.g. masked frames; a single array or a list of arrays is also
accepted and named ``"0"``, ``"1"``, ...). A syllable *instance* is a maximal run of
consecutive frames with the same syllable; frames labelled -1 are not a syllable and break
runs, so ``[2, 2, -1, 2]`` holds two instances of syllable 2 and no transition. Counting
instances rather than frames is MoSeq's convention (keypoint-moseq's ``get_frequencies`` and
``compute_stats_df``, moseq2-viz's usage); frame-based columns are given beside them.
Transitions are between consecutive instances (self-transitions never occur, as in MoSeq's
``get_transition_matrix``), and only between instances that touch: they are counted in
:mod:`ethogram.analysis.transitions`, and the labels checked and renumbered in
:mod:`ethogram.analysis._labels` (all importable from here).
"""

from __future__ import annotations

import numpy as np

from .._runs import syllable_runs
from ._labels import as_label_dict, count_states, per_recording, relabel, relabel_by_frequency
from .transitions import bigram_counts, transition_probabilities

__all__ = [
    "runs",
    "syllable_usage",
    "syllable_durations",
    "bigram_counts",
    "transition_probabilities",
    "syllable_summary",
    "relabel_by_frequency",
    "relabel",
    "frame_speed",
]


def runs(labels):
    """Every syllable instance: where it starts and stops.

    Parameters
    ----------
    labels : dict of str -> ndarray of int, shape (T,)
        Syllables per recording, -1 = none.

    Returns
    -------
    pandas.DataFrame
        One row per instance, in recording then time order, with columns ``recording``,
        ``syllable``, ``start`` (first frame) and ``stop`` (one past the last frame). Runs of
        -1 are not listed.
    """
    import pandas as pd

    labs = as_label_dict(labels)
    parts = []
    for name, a in labs.items():
        s, e, k = syllable_runs(a)
        parts.append(pd.DataFrame({"recording": name, "syllable": k, "start": s, "stop": e}))
    if not parts:
        return pd.DataFrame(columns=["recording", "syllable", "start", "stop"])
    return pd.concat(parts, ignore_index=True)


def syllable_usage(labels, num_states=None):
    """Usage of each syllable in each recording.

    Parameters
    ----------
    labels : dict of str -> ndarray of int, shape (T,)
    num_states : int, optional
        K; every syllable 0..K-1 gets a row even when unused (default: largest label + 1).

    Returns
    -------
    pandas.DataFrame
        One row per (recording, syllable), K rows per recording, columns:

        - ``instances``: number of instances (runs) of the syllable;
        - ``usage``: instances / all instances of the recording (MoSeq's usage);
        - ``frames``: number of frames labelled with the syllable;
        - ``frame_usage``: frames / frames with a syllable (label >= 0).

        Fractions are NaN for a recording with no syllable at all.
    """
    import pandas as pd

    labs = as_label_dict(labels)
    K = count_states(labs, num_states)
    parts = []
    for name, a in labs.items():
        _, _, syl = syllable_runs(a)
        inst = np.bincount(syl, minlength=K).astype(np.int64)
        frames = np.bincount(a[a >= 0], minlength=K).astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            usage = inst / inst.sum() if inst.sum() else np.full(K, np.nan)
            fusage = frames / frames.sum() if frames.sum() else np.full(K, np.nan)
        parts.append(
            pd.DataFrame(
                {
                    "recording": name,
                    "syllable": np.arange(K),
                    "instances": inst,
                    "usage": usage,
                    "frames": frames,
                    "frame_usage": fusage,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def syllable_durations(labels, fps=None, centroid=None, px_per_mm=None):
    """Duration of every syllable instance (and the distance the centroid travelled in it).

    Parameters
    ----------
    labels : dict of str -> ndarray of int, shape (T,)
    fps : float, dict of str -> float, or None
        Frames per second, one for all recordings or one per recording; None gives NaN
        seconds.
    centroid : dict of str -> ndarray (T, 2), optional
        Centroids in pixels; adds ``distance_px``.
    px_per_mm : float or dict of str -> float, optional
        Pixels per millimetre (every recording's); with ``centroid`` adds ``distance_cm``.

    Returns
    -------
    pandas.DataFrame
        One row per instance with columns ``recording``, ``syllable``, ``start`` (frame),
        ``duration_frames`` and ``duration_s`` (= duration_frames / fps); with ``centroid``
        ``distance_px``, the path length of the centroid from the instance's first to its last
        frame (NaN when a centroid is missing in it), and with ``px_per_mm`` also
        ``distance_cm``. Instances cut by the start or end of a recording or by -1 frames
        are counted as they are.
    """
    import pandas as pd

    labs = as_label_dict(labels)
    names = list(labs)
    rates = per_recording(fps, names, "fps")
    cents = per_recording(centroid, names, "centroid") if centroid is not None else None
    scales = per_recording(px_per_mm, names, "px_per_mm") if px_per_mm is not None else None
    parts = []
    for i, (name, rate, a) in enumerate(zip(names, rates, labs.values())):
        s, e, k = syllable_runs(a)
        d = e - s
        sec = d / float(rate) if rate is not None else np.full(d.shape, np.nan)
        part = pd.DataFrame(
            {"recording": name, "syllable": k, "start": s, "duration_frames": d, "duration_s": sec}
        )
        if cents is not None:
            part["distance_px"] = _path_lengths(cents[i], s, e, a.shape[0], name)
            if scales is not None:
                part["distance_cm"] = part["distance_px"] / (10.0 * float(scales[i]))
        parts.append(part)
    if not parts:
        return pd.DataFrame(
            columns=["recording", "syllable", "start", "duration_frames", "duration_s"]
        )
    return pd.concat(parts, ignore_index=True)


def _path_lengths(centroid, starts, stops, T: int, name) -> np.ndarray:
    """Path length (pixels) of the centroid over frames [start, stop) of each run."""
    c = np.asarray(centroid, dtype=np.float64)
    if c.shape != (T, 2):
        raise ValueError(f"centroid[{name!r}] must have shape ({T}, 2), got {c.shape}")
    step = np.linalg.norm(np.diff(c, axis=0), axis=1) if T > 1 else np.zeros(0)
    cum = np.concatenate([[0.0], np.cumsum(np.where(np.isfinite(step), step, 0.0))])
    bad = np.concatenate([[0], np.cumsum(~np.isfinite(step))])
    last = np.asarray(stops) - 1
    out = cum[last] - cum[starts]
    out[(bad[last] - bad[starts]) > 0] = np.nan
    return out


def frame_speed(centroid, fps) -> np.ndarray:
    """Centroid speed of each frame in pixels per second.

    ``|d centroid / d t|`` with ``numpy.gradient`` (central differences inside the recording,
    one-sided at its two ends) times ``fps``; NaN next to missing centroids.

    Parameters
    ----------
    centroid : ndarray, shape (T, 2)
        Pixels.
    fps : float

    Returns
    -------
    ndarray, shape (T,)
    """
    c = np.asarray(centroid, dtype=np.float64)
    if c.ndim != 2 or c.shape[1] != 2:
        raise ValueError(f"centroid must have shape (T, 2), got {c.shape}")
    if c.shape[0] < 2:
        return np.full(c.shape[0], np.nan)
    return np.linalg.norm(np.gradient(c, axis=0), axis=1) * float(fps)


def syllable_summary(labels, fps=None, centroid=None, num_states=None, px_per_mm=None):
    """One row per syllable: how often, how long, how fast.

    Parameters
    ----------
    labels : dict of str -> ndarray of int, shape (T,)
    fps : float, dict of str -> float, or None
        Frames per second (per recording when a dict); None gives NaN seconds and speeds.
    centroid : dict of str -> ndarray (T, 2), optional
        Centroids in pixels; adds the mean speed (a single array is accepted for one
        recording).
    num_states : int, optional
        K (default: largest label + 1).
    px_per_mm : float or dict of str -> float, optional
        Pixels per millimetre of every recording; with ``centroid`` adds ``mean_speed_mm_s``.

    Returns
    -------
    pandas.DataFrame
        Index ``syllable`` (0..K-1), columns ``instances`` (all recordings), ``frequency``
        (instances / all instances: MoSeq's frequency), ``frames``, ``frame_fraction``
        (frames / labelled frames), ``median_duration_frames``, ``median_duration_s``
        (median over instances, each in its recording's fps) and, with ``centroid``,
        ``mean_speed_px_s`` (mean of :func:`frame_speed` over the syllable's frames with a
        finite speed) and, with ``px_per_mm`` too, ``mean_speed_mm_s`` (each frame's speed in
        its recording's scale). NaN where a syllable never occurs.
    """
    import pandas as pd

    labs = as_label_dict(labels)
    K = count_states(labs, num_states)
    names = list(labs)
    rates = per_recording(fps, names, "fps")
    inst = np.zeros(K, dtype=np.int64)
    frames = np.zeros(K, dtype=np.int64)
    dur_f, dur_s, syl_all = [], [], []
    speed_sum = np.zeros(K)
    speed_n = np.zeros(K, dtype=np.int64)
    cents = (
        per_recording(centroid, names, "centroid") if centroid is not None else [None] * len(names)
    )
    scales = per_recording(px_per_mm, names, "px_per_mm") if px_per_mm is not None else None
    mm_sum = np.zeros(K)
    for i, (name, rate, cen, a) in enumerate(zip(names, rates, cents, labs.values())):
        s, e, k = syllable_runs(a)
        inst += np.bincount(k, minlength=K)
        frames += np.bincount(a[a >= 0], minlength=K)
        syl_all.append(k)
        dur_f.append(e - s)
        dur_s.append((e - s) / float(rate) if rate is not None else np.full(k.shape, np.nan))
        if cen is not None:
            cen = np.asarray(cen, dtype=np.float64)
            if cen.shape != (a.shape[0], 2):
                raise ValueError(
                    f"centroid[{name!r}] must have shape ({a.shape[0]}, 2), got {cen.shape}"
                )
            sp = frame_speed(cen, rate) if rate is not None else np.full(a.shape[0], np.nan)
            ok = (a >= 0) & np.isfinite(sp)
            speed_sum += np.bincount(a[ok], weights=sp[ok], minlength=K)
            speed_n += np.bincount(a[ok], minlength=K)
            if scales is not None:
                mm_sum += np.bincount(a[ok], weights=sp[ok] / float(scales[i]), minlength=K)
    syl_all = np.concatenate(syl_all) if syl_all else np.zeros(0, dtype=np.int64)
    dur_f = np.concatenate(dur_f) if dur_f else np.zeros(0)
    dur_s = np.concatenate(dur_s) if dur_s else np.zeros(0)
    df = (
        pd.DataFrame(
            {
                "syllable": pd.Series(syl_all),
                "f": pd.Series(dur_f, dtype=float),
                "s": pd.Series(dur_s, dtype=float),
            }
        )
        .groupby("syllable")[["f", "s"]]
        .median()
        .reindex(np.arange(K))
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out = pd.DataFrame(
            {
                "instances": inst,
                "frequency": inst / inst.sum() if inst.sum() else np.full(K, np.nan),
                "frames": frames,
                "frame_fraction": frames / frames.sum() if frames.sum() else np.full(K, np.nan),
                "median_duration_frames": df["f"].to_numpy(),
                "median_duration_s": df["s"].to_numpy(),
            },
            index=pd.Index(np.arange(K), name="syllable"),
        )
        if centroid is not None:
            out["mean_speed_px_s"] = np.where(
                speed_n > 0, speed_sum / np.maximum(speed_n, 1), np.nan
            )
            if scales is not None:
                out["mean_speed_mm_s"] = np.where(
                    speed_n > 0, mm_sum / np.maximum(speed_n, 1), np.nan
                )
    return out
