"""Syllable tables: usage, durations, transitions and a per-syllable summary (pandas).

Every function takes ``labels``: a dict mapping recording names to (T,) integer arrays of
syllables (-1 = no syllable, e.g. masked frames; a single array or a list of arrays is also
accepted and named ``"0"``, ``"1"``, ...). A syllable *instance* is a maximal run of
consecutive frames with the same syllable; frames labelled -1 are not a syllable and break
runs, so ``[2, 2, -1, 2]`` holds two instances of syllable 2 and no transition. Counting
instances rather than frames is MoSeq's convention (keypoint-moseq's ``get_frequencies`` and
``compute_stats_df``, moseq2-viz's usage); frame-based columns are given beside them.
Transitions are between consecutive instances (self-transitions never occur, as in MoSeq's
``get_transition_matrix``), and only between instances that touch.
"""

from __future__ import annotations

import numpy as np

from .._runs import syllable_runs

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


# ---------------------------------------------------------------------- inputs
def _as_dict(labels) -> dict:
    if isinstance(labels, dict):
        items = list(labels.items())
    elif (
        isinstance(labels, np.ndarray)
        and labels.ndim == 1
        or (isinstance(labels, (list, tuple)) and labels and np.ndim(labels[0]) == 0)
    ):
        items = [("0", labels)]
    elif isinstance(labels, (list, tuple)):
        items = [(str(i), x) for i, x in enumerate(labels)]
    else:
        raise TypeError(
            f"labels must be a dict of name -> (T,) int array, got {type(labels).__name__}"
        )
    out = {}
    for name, x in items:
        a = np.asarray(x)
        if a.ndim != 1:
            raise ValueError(f"labels[{name!r}] must be 1-D (T,), got shape {a.shape}")
        if a.size and not np.issubdtype(a.dtype, np.integer):
            if a.dtype == bool or not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
                raise ValueError(
                    f"labels[{name!r}] must hold integer syllables (-1 = none), got dtype {a.dtype}"
                )
        a = a.astype(np.int64)
        if a.size and a.min() < -1:
            raise ValueError(
                f"labels[{name!r}] has {a.min()}; syllables are >= 0 and -1 means no syllable"
            )
        out[str(name)] = a
    return out


def _num_states(labs: dict, num_states) -> int:
    top = max((int(a.max()) for a in labs.values() if a.size), default=-1)
    if num_states is None:
        return top + 1
    K = int(num_states)
    if K < 1 or K != num_states:
        raise ValueError(f"num_states must be a positive integer, got {num_states!r}")
    if top >= K:
        raise ValueError(f"labels hold syllable {top} but num_states={K}; give num_states > {top}")
    return K


def _per_recording(value, names, what):
    """fps or centroid given once, per name (dict) or as a list in the labels' order."""
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if missing:
            raise ValueError(f"{what} has no entry for recording(s) {missing}")
        vals = [value[n] for n in names]
    elif (
        what in ("fps", "px_per_mm")
        and np.ndim(value) == 1
        or what == "centroid"
        and isinstance(value, (list, tuple))
    ):
        if len(value) != len(names):
            raise ValueError(f"{what} has {len(value)} entries for {len(names)} recordings")
        vals = list(value)
    elif what == "centroid" and len(names) != 1:
        raise ValueError(
            "centroid must be a dict of name -> (T, 2) array when there are several recordings"
        )
    else:
        vals = [value] * len(names)
    if what == "fps":
        for n, v in zip(names, vals):
            if v is not None and not (np.isfinite(float(v)) and float(v) > 0):
                raise ValueError(
                    f"fps for recording {n!r} must be a positive number of frames per second, "
                    f"got {v!r}"
                )
    if what == "px_per_mm":
        for n, v in zip(names, vals):
            if v is None or not (np.isfinite(float(v)) and float(v) > 0):
                raise ValueError(
                    f"px_per_mm for recording {n!r} must be a positive number of "
                    f"pixels per millimetre, got {v!r}"
                )
    return vals


def _transition_pairs(a: np.ndarray):
    """(from, to) syllables of consecutive instances that touch (no -1 frame between)."""
    starts, stops, syl = syllable_runs(a)
    touch = stops[:-1] == starts[1:]
    return syl[:-1][touch], syl[1:][touch]


# ---------------------------------------------------------------------- tables
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

    labs = _as_dict(labels)
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

    labs = _as_dict(labels)
    K = _num_states(labs, num_states)
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

    labs = _as_dict(labels)
    names = list(labs)
    rates = _per_recording(fps, names, "fps")
    cents = _per_recording(centroid, names, "centroid") if centroid is not None else None
    scales = _per_recording(px_per_mm, names, "px_per_mm") if px_per_mm is not None else None
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


def _bigram_matrix(labs: dict, K: int) -> np.ndarray:
    counts = np.zeros((K, K), dtype=np.int64)
    for a in labs.values():
        i, j = _transition_pairs(a)
        np.add.at(counts, (i, j), 1)
    return counts


def bigram_counts(labels, num_states=None):
    """How often syllable ``i`` is directly followed by syllable ``j``, over all recordings.

    Parameters
    ----------
    labels : dict of str -> ndarray of int, shape (T,)
        Pass a one-recording dict for one recording's counts.
    num_states : int, optional
        K (default: largest label + 1).

    Returns
    -------
    pandas.DataFrame, shape (K, K)
        Integer counts; index ``from`` syllable, columns ``to`` syllable. The diagonal is zero
        (a syllable followed by itself is the same instance), and instances separated by -1
        frames are not counted.
    """
    import pandas as pd

    labs = _as_dict(labels)
    K = _num_states(labs, num_states)
    idx = pd.Index(np.arange(K), name="from")
    return pd.DataFrame(
        _bigram_matrix(labs, K), index=idx, columns=pd.Index(np.arange(K), name="to")
    )


def transition_probabilities(labels, num_states=None, normalize="bigram"):
    """Transition probabilities between consecutive syllable instances.

    Parameters
    ----------
    labels : dict of str -> ndarray of int, shape (T,)
    num_states : int, optional
        K (default: largest label + 1).
    normalize : {"bigram", "rows", "columns"}, default "bigram"
        As in MoSeq's ``get_transition_matrix`` (moseq2-viz, keypoint-moseq; "bigram" is their
        default): "bigram" divides the counts by their total (probability of the pair),
        "rows" by each row sum (probability of the next syllable given the current one),
        "columns" by each column sum (of the previous given the next).

    Returns
    -------
    pandas.DataFrame, shape (K, K)
        Index ``from``, columns ``to``; zero diagonal. Rows (columns) without any transition
        are NaN under "rows" ("columns"); all entries are NaN when there is no transition.

    Raises
    ------
    ValueError
        For another ``normalize``.
    """
    import pandas as pd

    if normalize not in ("bigram", "rows", "columns"):
        raise ValueError(f"normalize must be 'bigram', 'rows' or 'columns', got {normalize!r}")
    labs = _as_dict(labels)
    K = _num_states(labs, num_states)
    c = _bigram_matrix(labs, K).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalize == "bigram":
            p = c / c.sum() if c.sum() else np.full_like(c, np.nan)
        elif normalize == "rows":
            s = c.sum(axis=1, keepdims=True)
            p = np.where(s > 0, c / np.where(s > 0, s, 1), np.nan)
        else:
            s = c.sum(axis=0, keepdims=True)
            p = np.where(s > 0, c / np.where(s > 0, s, 1), np.nan)
    return pd.DataFrame(
        p, index=pd.Index(np.arange(K), name="from"), columns=pd.Index(np.arange(K), name="to")
    )


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

    labs = _as_dict(labels)
    K = _num_states(labs, num_states)
    names = list(labs)
    rates = _per_recording(fps, names, "fps")
    inst = np.zeros(K, dtype=np.int64)
    frames = np.zeros(K, dtype=np.int64)
    dur_f, dur_s, syl_all = [], [], []
    speed_sum = np.zeros(K)
    speed_n = np.zeros(K, dtype=np.int64)
    cents = (
        _per_recording(centroid, names, "centroid") if centroid is not None else [None] * len(names)
    )
    scales = _per_recording(px_per_mm, names, "px_per_mm") if px_per_mm is not None else None
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


def relabel_by_frequency(labels, num_states=None) -> np.ndarray:
    """The order that renumbers syllables from most to least used.

    Parameters
    ----------
    labels : dict of str -> ndarray of int, shape (T,)
    num_states : int, optional
        K (default: largest label + 1).

    Returns
    -------
    order : ndarray of int, shape (K,)
        ``order[i]`` is the old syllable that becomes syllable ``i``: sorted by number of
        instances (MoSeq's frequency, as keypoint-moseq's ``reindex_syllables``), then by
        frames, then by old label, most used first. Feed it to ``HMM.permute`` and to
        :func:`relabel`.
    """
    labs = _as_dict(labels)
    K = _num_states(labs, num_states)
    inst = np.zeros(K, dtype=np.int64)
    frames = np.zeros(K, dtype=np.int64)
    for a in labs.values():
        inst += np.bincount(syllable_runs(a)[2], minlength=K)
        frames += np.bincount(a[a >= 0], minlength=K)
    return np.lexsort((np.arange(K), -frames, -inst)).astype(np.intp)


def relabel(labels, order):
    """Apply an ``order`` (new ``i`` = old ``order[i]``) to labels; -1 stays -1.

    Parameters
    ----------
    labels : dict of str -> ndarray of int, shape (T,), or one ndarray
    order : array_like of int, shape (K,)
        A permutation of ``range(K)``, e.g. from :func:`relabel_by_frequency`.

    Returns
    -------
    dict of str -> ndarray, or ndarray
        Same structure as ``labels``.
    """
    order = np.asarray(order, dtype=np.int64)
    K = order.shape[0]
    if order.ndim != 1 or not np.array_equal(np.sort(order), np.arange(K)):
        raise ValueError(f"order must be a permutation of range(K), got {order!r}")
    inverse = np.empty(K + 1, dtype=np.int64)
    inverse[order] = np.arange(K)
    inverse[K] = -1  # index -1 maps here

    def one(a):
        a = np.asarray(a)
        if a.size and a.max() >= K:
            raise ValueError(f"labels hold syllable {a.max()} but order has only {K} entries")
        return inverse[np.where(a < 0, K, a)]

    if isinstance(labels, dict):
        return {k: one(v) for k, v in labels.items()}
    return one(labels)
