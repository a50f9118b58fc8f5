"""Transitions between syllables: bigram counts and transition probabilities.

Transitions are between consecutive instances (maximal runs of one syllable), so a
self-transition never occurs, as in MoSeq's ``get_transition_matrix``; only instances that touch
count (a frame labelled -1 between them breaks the pair). :func:`bigram_counts` counts the pairs
per recording and in total; :func:`transition_probabilities` normalises them over all pairs, per
row or per column.
"""

from __future__ import annotations

import numpy as np

from .._runs import syllable_runs
from ._labels import as_label_dict, count_states


def _transition_pairs(a: np.ndarray):
    """(from, to) syllables of consecutive instances that touch (no -1 frame between)."""
    starts, stops, syl = syllable_runs(a)
    touch = stops[:-1] == starts[1:]
    return syl[:-1][touch], syl[1:][touch]


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

    labs = as_label_dict(labels)
    K = count_states(labs, num_states)
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
    labs = as_label_dict(labels)
    K = count_states(labs, num_states)
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
