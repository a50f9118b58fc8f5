"""The k-means behind the starting values of the Gaussian and autoregressive models: the
observed frames of all sequences pooled (:func:`observed_rows`), standardised robustly per column
with constant columns left out (:func:`standardize_columns`), and clustered by scikit-learn's
k-means seeded from the caller's generator (:func:`kmeans_labels`).
"""

from __future__ import annotations

import numpy as np


def observed_rows(sequences: list[np.ndarray], masks: list) -> np.ndarray:
    """Concatenate the observed, finite rows of all sequences (for initialisation)."""
    rows = []
    for d, m in zip(sequences, masks):
        d2 = d.reshape(d.shape[0], -1)
        keep = np.isfinite(d2).all(axis=1)
        if m is not None:
            keep &= m
        rows.append(d2[keep])
    return np.concatenate(rows, axis=0) if rows else np.empty((0, 0))


def standardize_columns(points: np.ndarray) -> np.ndarray:
    """Features centred and scaled per column, with numerically constant columns dropped.

    Each column is centred at its mean and divided by its standard deviation. A column whose
    standard deviation is 0 or at the round-off level of its own magnitude (``<= 1e-12 max
    |column|``) carries no information and is dropped, so a body part that never moves, a
    column of zeros or a huge offset cannot dominate or collapse the clustering, and
    columns in wildly different units weigh the same. (Scaling by the interquartile range
    instead was measured on the course spiral's AR features: EM from that start found the
    states in 0 of 6 seeds, against 6 of 6 with the standard deviation.)

    Parameters
    ----------
    points : ndarray, shape (N, P)

    Returns
    -------
    ndarray, shape (N, P') with P' <= P (P' = 0 when every column is constant)
    """
    points = np.asarray(points, dtype=np.float64)
    if points.shape[0] == 0:
        return points
    mean = points.mean(axis=0)
    sd = np.sqrt(((points - mean) ** 2).mean(axis=0))
    big = np.abs(points).max(axis=0)
    keep = (sd > 0) & (sd > 1e-12 * big)
    return (points[:, keep] - mean[keep]) / sd[keep]


def kmeans_labels(
    points: np.ndarray,
    num_clusters: int,
    rng: np.random.Generator,
    standardize: bool = False,
    max_rows: int | None = None,
) -> np.ndarray:
    """k-means labels (scikit-learn) of ``points`` (N, P), reproducible from ``rng``.

    Parameters
    ----------
    points : ndarray, shape (N, P)
    num_clusters : int
        K; N must be at least K.
    rng : numpy.random.Generator
    standardize : bool, default False
        Cluster :func:`standardize_columns` of the points (robust scaling, constant
        columns dropped) instead of the raw points.
    max_rows : int, optional
        Fit the centroids on at most this many randomly chosen rows, then label all.

    Returns
    -------
    ndarray of int, shape (N,)
        Values in [0, K). When the points have fewer distinct values than K (duplicated
        frames, constant data) each distinct point is its own cluster and the remaining
        clusters are empty; callers give empty clusters a starting value of their own.
    """
    import warnings

    from sklearn.cluster import KMeans

    from ...inference import one_openmp_thread

    if points.shape[0] < num_clusters:
        raise ValueError(
            f"initialisation needs at least num_states={num_clusters} observed frames, got "
            f"{points.shape[0]}"
        )
    feats = standardize_columns(points) if standardize else np.asarray(points, dtype=np.float64)
    if feats.shape[1] == 0:
        return np.zeros(points.shape[0], dtype=np.intp)
    sub = feats
    if max_rows is not None and feats.shape[0] > max_rows:
        sub = feats[rng.choice(feats.shape[0], max_rows, replace=False)]
    # at most K distinct rows is rare: more than K among the first rows rules it out without
    # sorting every row (np.unique of 10^4 rows costs several ms, as much as the k-means)
    few = np.unique(sub[: 64 * num_clusters], axis=0).shape[0] <= num_clusters
    if few:
        distinct, inverse = np.unique(sub, axis=0, return_inverse=True)
        few = distinct.shape[0] <= num_clusters
    seed = int(rng.integers(2**31 - 1))
    if few:
        if sub is feats:
            return inverse.reshape(-1).astype(np.intp)
        d2 = ((feats[:, None, :] - distinct[None]) ** 2).sum(axis=2)
        return d2.argmin(axis=1).astype(np.intp)
    km = KMeans(n_clusters=num_clusters, n_init=3, random_state=seed)
    # one OpenMP thread, as one BLAS thread in the fits (inference.one_blas_thread): on a few
    # thousand frames scikit-learn's threads only cost, and their count could change labels
    with warnings.catch_warnings(), one_openmp_thread():
        warnings.simplefilter("ignore")  # duplicated points: sklearn warns, labels stay valid
        km.fit(sub)
        return km.predict(feats).astype(np.intp)
