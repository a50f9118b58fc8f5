"""Sampling and starting values of the Gaussian model, as functions of arrays: frames drawn
along a state path (:func:`sample_frames`), full covariances constrained to a covariance type
(:func:`project_covariances`) and the k-means or random start (:func:`start_parameters`).
:class:`~.gaussian.GaussianObservations` calls them with its own parameters and keeps what they
return; they hold no state and know no model class.
"""

from __future__ import annotations

import numpy as np

from ._checks import singular_states
from ._common import cholesky, symmetrize
from ._kmeans import kmeans_labels, observed_rows
from ._linalg import check_init_method
from ._reference import data_moments

__all__ = ["project_covariances", "sample_frames", "start_parameters"]


def sample_frames(z: np.ndarray, means: np.ndarray, covs: np.ndarray, rng) -> np.ndarray:
    """Draw one frame per step of a state path.

    Parameters
    ----------
    z : ndarray of int, shape (T,)
        Checked state path, values in ``[0, K)``.
    means : ndarray, shape (K, D)
    covs : ndarray, shape (K, D, D)
        Symmetric positive definite.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (T, D)
    """
    chols = cholesky(covs)
    x = rng.standard_normal((z.shape[0], means.shape[1]))
    for k in range(means.shape[0]):
        idx = np.flatnonzero(z == k)
        if idx.size:
            x[idx] = x[idx] @ chols[k].T + means[k]
    return x


def project_covariances(covs: np.ndarray, covariance_type: str) -> np.ndarray:
    """Constrain full covariances (K, D, D) to ``covariance_type`` (``diag``: the diagonal;
    ``spherical``: the mean variance times the identity; ``full`` and ``tied``: unchanged)."""
    D = covs.shape[-1]
    if covariance_type == "diag":
        return np.diagonal(covs, axis1=1, axis2=2)[:, :, None] * np.eye(D)
    if covariance_type == "spherical":
        return (np.trace(covs, axis1=1, axis2=2) / D)[:, None, None] * np.eye(D)
    return covs


def _kmeans_start(x, center, glob, reg, K, covariance_type, rng):
    """Means and covariances of the k-means clusters of the frames ``x`` (n, D)."""
    D = x.shape[1]
    y = x - center
    labels = kmeans_labels(x, K, rng, standardize=True)
    means = np.empty((K, D))
    covs = np.empty((K, D, D))
    for k in range(K):
        pts = y[labels == k]
        means[k] = center + pts.mean(axis=0) if len(pts) else x[rng.integers(x.shape[0])]
        covs[k] = (
            symmetrize(np.cov(pts, rowvar=False).reshape(D, D)) + reg if len(pts) > D else glob
        )
    if covariance_type == "tied":
        resid = x - means[labels]
        covs = np.tile(symmetrize(resid.T @ resid) / x.shape[0] + reg, (K, 1, 1))
    return means, covs


def start_parameters(sequences, masks, K: int, covariance_type: str, rng, method="kmeans"):
    """Starting parameters from the observed frames of all sequences.

    The choices are those documented in
    :meth:`~.gaussian.GaussianObservations.initialize` (``"kmeans"``: per-cluster means and
    covariances on robustly standardised frames; ``"random"``: distinct random frames as means,
    the global covariance for every state).

    Parameters
    ----------
    sequences : list of ndarray, each of shape (T_n, D)
    masks : list of (ndarray of bool, shape (T_n,), or None)
    K : int
        Number of states.
    covariance_type : {"full", "diag", "tied", "spherical"}
    rng : numpy.random.Generator
    method : {"kmeans", "random"}

    Returns
    -------
    data_center : ndarray, shape (D,)
    data_scale : ndarray, shape (D,)
    means : ndarray, shape (K, D)
    covs : ndarray, shape (K, D, D)

    Raises
    ------
    ValueError
        An unknown ``method``, or fewer than K observed frames.
    """
    check_init_method(method)
    x = observed_rows(sequences, masks)
    D = x.shape[1]
    if x.shape[0] < K:
        raise ValueError(
            f"initialisation needs at least num_states={K} observed frames, got {x.shape[0]}"
        )
    center, scale = data_moments(x)
    y = x - center
    glob = (y.T @ y / max(x.shape[0] - 1, 1)).reshape(D, D)
    reg = np.diag(1e-6 * scale)
    glob = symmetrize(glob) + reg
    if method == "random":
        means = x[rng.choice(x.shape[0], K, replace=False)].copy()
        covs = np.tile(glob, (K, 1, 1))
    else:
        means, covs = _kmeans_start(x, center, glob, reg, K, covariance_type, rng)
    covs = symmetrize(project_covariances(covs, covariance_type))
    if covariance_type in ("full", "tied"):  # a rank-deficient cluster: fall back
        for k in singular_states(covs):
            covs[k] = glob if covariance_type == "full" else covs[k] + glob
    return center, scale, means, covs
