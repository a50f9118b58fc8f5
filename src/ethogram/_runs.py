"""Runs of equal labels (run-length encoding), the one encoder of the package: a syllable
instance is a run of one syllable; ``-1`` (no syllable) breaks runs and is itself no instance.
"""

from __future__ import annotations

import numpy as np

__all__ = ["label_runs", "run_lengths", "syllable_runs"]


def label_runs(labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every maximal run of equal labels of one sequence, runs of -1 included.

    Parameters
    ----------
    labels : array_like, shape (T,)

    Returns
    -------
    starts, stops : ndarray of int64
        First frame and one past the last frame of each run, in order.
    values : ndarray
        The label of each run (the dtype of ``labels``).
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), labels[:0]
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts = np.concatenate([[0], change]).astype(np.int64)
    stops = np.concatenate([change, [labels.size]]).astype(np.int64)
    return starts, stops, labels[starts]


def syllable_runs(labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The runs of one sequence that are syllables (label >= 0): as :func:`label_runs`."""
    starts, stops, values = label_runs(labels)
    keep = values >= 0
    return starts[keep], stops[keep], values[keep]


def run_lengths(labels) -> np.ndarray:
    """Lengths (frames) of the syllable runs of one sequence or of a list of them, in order.

    Parameters
    ----------
    labels : array_like of int, shape (T,), or a list or tuple of them
        Runs never continue across sequences; runs of -1 are skipped.

    Returns
    -------
    ndarray of int64
    """
    seqs = labels if isinstance(labels, (list, tuple)) else [labels]
    out = []
    for lab in seqs:
        starts, stops, _ = syllable_runs(lab)
        out.append(stops - starts)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
