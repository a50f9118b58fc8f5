"""Compare two labelings of the same frames: best one-to-one matching of state labels.

HMM states are only defined up to relabeling, so accuracy against known labels is computed
after the Hungarian matching (scipy's ``linear_sum_assignment``) of the confusion matrix.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["match_states"]


def match_states(true_states, pred_states, num_states: int | None = None):
    """Match predicted labels to true labels to maximise agreement.

    Parameters
    ----------
    true_states : array_like of int, shape (T,)
    pred_states : array_like of int, shape (T,)
    num_states : int, optional
        Number of labels (default: one more than the largest label seen).

    Returns
    -------
    accuracy : float
        Fraction of frames whose matched predicted label equals the true label.
    order : ndarray of int, shape (num_states,)
        ``order[i]`` is the predicted label matched to true label ``i``; passing it to
        ``HMM.permute`` relabels a fitted model to line up with the truth.

    Raises
    ------
    ValueError
        Arrays of different shapes, not 1-D, empty, negative or non-integer labels, or labels
        not below ``num_states``.
    """
    a = np.asarray(true_states)
    b = np.asarray(pred_states)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"true_states and pred_states must be 1-D of equal length, got {a.shape} and {b.shape}"
        )
    if a.size == 0:
        raise ValueError("true_states is empty")
    for name, x in (("true_states", a), ("pred_states", b)):
        if not np.issubdtype(x.dtype, np.integer) or x.min() < 0:
            raise ValueError(f"{name} must hold non-negative integer labels")
    K = int(max(a.max(), b.max()) + 1) if num_states is None else int(num_states)
    if max(a.max(), b.max()) >= K:
        raise ValueError(f"labels must be < num_states={K}")
    confusion = np.zeros((K, K), dtype=np.int64)
    np.add.at(confusion, (a, b), 1)
    rows, cols = linear_sum_assignment(-confusion)
    order = np.empty(K, dtype=np.intp)
    order[rows] = cols
    return float(confusion[rows, cols].sum() / a.size), order
