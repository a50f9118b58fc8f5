"""Syllable labels as the tables take them, and their renumbering by frequency.

Kept apart from the tables (:mod:`ethogram.analysis.tables`,
:mod:`ethogram.analysis.transitions`): ``labels`` (a dict of recording name -> (T,) integer
syllables, -1 = none; one array or a list is named ``"0"``, ``"1"``, ...) are checked into a dict
of int64 arrays, the number of syllables is found or checked, and a setting given once, per name
or as a list (``fps``, ``centroid``, ``px_per_mm``) is spread over the recordings.
:func:`relabel_by_frequency` gives the order that numbers syllables from most to least used
(MoSeq's convention) and :func:`relabel` applies it.
"""

from __future__ import annotations

import numpy as np

from .._runs import syllable_runs


def as_label_dict(labels) -> dict:
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


def count_states(labs: dict, num_states) -> int:
    top = max((int(a.max()) for a in labs.values() if a.size), default=-1)
    if num_states is None:
        return top + 1
    K = int(num_states)
    if K < 1 or K != num_states:
        raise ValueError(f"num_states must be a positive integer, got {num_states!r}")
    if top >= K:
        raise ValueError(f"labels hold syllable {top} but num_states={K}; give num_states > {top}")
    return K


def per_recording(value, names, what):
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
    labs = as_label_dict(labels)
    K = count_states(labs, num_states)
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
