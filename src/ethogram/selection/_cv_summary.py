"""The summary of a cross-validation: per K the mean, spread and standard error of the held-out
log-likelihood per frame, the best K and the smallest K within one standard error of it (the
one-standard-error rule of Hastie, Tibshirani and Friedman, *The Elements of Statistical
Learning*, section 7.10), where the standard error of a difference between two K counts both
the restarts (:func:`summarize`) and the held-out frames, by batch means (:func:`paired_se`).
"""

from __future__ import annotations

import numpy as np

#: contiguous batches of held-out frames whose means give the standard error of a difference
NUM_BATCHES = 10


def paired_se(a, b) -> float:
    """Standard error of ``mean(a - b)`` for per-frame scores of the same held-out frames.

    Batch means (e.g. Flegal and Jones 2010): the differences, in time order, are cut into
    ``NUM_BATCHES`` contiguous batches and the standard error is that of the batch means, so
    frames that depend on each other (a syllable spans many) are not counted as independent.

    Parameters
    ----------
    a, b : ndarray, shape (n,)
        Held-out log-likelihoods per frame of two models on the same frames, in time order.

    Returns
    -------
    float
        NaN when the shapes differ or there are fewer than two frames per batch.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.size < 2 * NUM_BATCHES:
        return float("nan")
    means = np.array([c.mean() for c in np.array_split(a - b, NUM_BATCHES)])
    return float(means.std(ddof=1) / np.sqrt(NUM_BATCHES))


def summarize(table, pointwise=None):
    """Per-K summary of a cross-validation table and the chosen K (see :class:`CrossValidation`).

    The best K has the highest mean held-out log-likelihood per frame; the one-standard-error
    K is the smallest whose mean is at most ``sqrt(sem_best**2 + se_diff**2)`` below the
    best's: ``sem_best`` is the standard error of the best K's mean over restarts and folds
    (how much the fit varies), ``se_diff`` the standard error of the difference between the
    two K's scores over the held-out frames (:func:`paired_se`; how much the held-out data
    decide), so that K which score alike on the data are not told apart by their restarts
    agreeing to the last digit.

    Parameters
    ----------
    table : pandas.DataFrame
        As in :attr:`CrossValidation.table`.
    pointwise : dict, optional
        Per K, the held-out log-likelihood of every held-out frame (averaged over restarts,
        folds one after the other), as :func:`cross_validate` computes; without it
        ``se_diff`` is NaN and only ``sem_best`` counts.

    Returns
    -------
    summary : pandas.DataFrame
        Per K, with ``se_diff`` (against the best K).
    best_num_states : int
    one_se_num_states : int
    """
    import pandas as pd

    rows = []
    for K, g in table.groupby("num_states", sort=True):
        h = g["heldout_ll_per_frame"].to_numpy(dtype=float)
        n = int(np.isfinite(h).sum())
        std = float(np.nanstd(h, ddof=1)) if n > 1 else 0.0
        best = g.loc[g.groupby("fold")["train_objective"].idxmax(), "heldout_ll_per_frame"]
        rows.append(
            {
                "num_states": int(K),
                "n": n,
                "mean": float(np.nanmean(h)),
                "std": std,
                "sem": std / np.sqrt(n) if n > 1 else 0.0,
                "min": float(np.nanmin(h)),
                "max": float(np.nanmax(h)),
                "best_restart_heldout": float(best.mean()),
                "train_ll_per_frame": float(g["train_ll_per_frame"].mean()),
                "aic": float(g["aic"].mean()),
                "bic": float(g["bic"].mean()),
                "states_used": float(g["states_used"].mean()) if "states_used" in g else np.nan,
                "num_parameters": int(g["num_parameters"].iloc[0]),
            }
        )
    summary = pd.DataFrame(rows)
    ib = int(np.nanargmax(summary["mean"].to_numpy()))
    best_K = int(summary["num_states"].iloc[ib])
    pointwise = pointwise or {}

    def se_diff(K):
        if K == best_K:
            return 0.0
        known = K in pointwise and best_K in pointwise
        return paired_se(pointwise[best_K], pointwise[K]) if known else np.nan

    summary["se_diff"] = [se_diff(K) for K in summary["num_states"]]
    se = np.sqrt(summary["sem"].iloc[ib] ** 2 + np.nan_to_num(summary["se_diff"].to_numpy()) ** 2)
    within = summary["mean"].to_numpy() >= summary["mean"].iloc[ib] - se
    one_se = int(summary.loc[within, "num_states"].min())
    return summary, best_K, one_se


def _pointwise(keys, frames) -> dict:
    """Per K, the held-out scores per frame averaged over restarts, folds one after the other
    (a K whose restarts scored different numbers of frames is left out)."""
    by = {}
    for (K, f, _), x in zip(keys, frames):
        by.setdefault(K, {}).setdefault(f, []).append(x)
    out = {}
    for K, folds in by.items():
        if all(len({x.size for x in xs}) == 1 for xs in folds.values()):
            out[K] = np.concatenate([np.mean(folds[f], axis=0) for f in sorted(folds)])
    return out
