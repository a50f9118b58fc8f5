"""Sampling and starting values of the Gaussian model: the methods of
:class:`~.gaussian.GaussianObservations` that run outside the EM loop.

:class:`GaussianStartMixin` holds ``sample`` (a state path to frames), ``initialize``
(k-means or random starting parameters, which also set ``data_center`` and
``data_scale``) and ``_project`` (full covariances to the model's covariance type), kept
apart from the scoring and EM of :mod:`.gaussian`, which mixes them in. They rely only on
the model's own attributes (``num_states``, ``data_dim``, ``covariance_type``) and its
``_checked_params``.
"""

from __future__ import annotations

import numpy as np

from ._common import (
    cholesky,
    data_moments,
    kmeans_labels,
    observed_rows,
    singular_states,
    symmetrize,
)
from ._linalg import check_init_method, check_states

__all__ = ["GaussianStartMixin"]


class GaussianStartMixin:
    """``sample``, ``initialize`` and ``_project`` of the Gaussian model (mixed into
    :class:`~.gaussian.GaussianObservations`)."""

    def sample(self, states, rng) -> np.ndarray:
        """Draw observations given a state path.

        Parameters
        ----------
        states : array_like of int, shape (T,)
        rng : numpy.random.Generator

        Returns
        -------
        data : ndarray, shape (T, D)
        """
        z = check_states(states, self.num_states)
        means, covs = self._checked_params()
        chols = cholesky(covs)
        x = rng.standard_normal((z.shape[0], self.data_dim))
        for k in range(self.num_states):
            idx = np.flatnonzero(z == k)
            if idx.size:
                x[idx] = x[idx] @ chols[k].T + means[k]
        return x

    def _project(self, covs: np.ndarray) -> np.ndarray:
        """Constrain full covariances (K, D, D) to the model's covariance type."""
        D = self.data_dim
        if self.covariance_type == "diag":
            return np.diagonal(covs, axis1=1, axis2=2)[:, :, None] * np.eye(D)
        if self.covariance_type == "spherical":
            return (np.trace(covs, axis1=1, axis2=2) / D)[:, None, None] * np.eye(D)
        return covs

    def initialize(self, sequences, masks, rng, method="kmeans") -> None:
        """Set starting parameters from the observed frames of all sequences.

        ``"kmeans"``: scikit-learn k-means (3 starts, seeded from ``rng``) on the observed
        frames, centred and scaled robustly per dimension with numerically constant
        dimensions left out (:func:`._common.standardize_columns`: units, offsets and a body
        part that never moves do not change the clusters); means are the cluster means,
        covariances the per-cluster sample covariances (pooled within-cluster for ``tied``;
        the global covariance for a cluster with fewer than D + 1 frames, and a random
        frame as the mean of an empty cluster, e.g. when there are fewer distinct frames
        than states), plus ``1e-6`` of each dimension's variance on the diagonal.
        ``"random"``: means are distinct random observed frames, covariances the global one.
        Both set ``data_center`` and ``data_scale`` (mean and per-dimension variance of all
        observed frames): the reference of the statistics and the scale of the default prior.

        Parameters
        ----------
        sequences : list of ndarray, each of shape (T_n, D)
        masks : list of (ndarray of bool, shape (T_n,), or None)
        rng : numpy.random.Generator
        method : {"kmeans", "random"}
        """
        check_init_method(method)
        x = observed_rows(sequences, masks)
        K, D = self.num_states, self.data_dim
        if x.shape[0] < K:
            raise ValueError(
                f"initialisation needs at least num_states={K} observed frames, got {x.shape[0]}"
            )
        center, scale = data_moments(x)
        self.data_center, self.data_scale = center, scale
        y = x - center
        glob = (y.T @ y / max(x.shape[0] - 1, 1)).reshape(D, D)
        reg = np.diag(1e-6 * scale)
        glob = symmetrize(glob) + reg
        if method == "random":
            means = x[rng.choice(x.shape[0], K, replace=False)].copy()
            covs = np.tile(glob, (K, 1, 1))
        else:
            labels = kmeans_labels(x, K, rng, standardize=True)
            means = np.empty((K, D))
            covs = np.empty((K, D, D))
            for k in range(K):
                pts = y[labels == k]
                means[k] = center + pts.mean(axis=0) if len(pts) else x[rng.integers(x.shape[0])]
                covs[k] = (
                    symmetrize(np.cov(pts, rowvar=False).reshape(D, D)) + reg
                    if len(pts) > D
                    else glob
                )
            if self.covariance_type == "tied":
                resid = x - means[labels]
                covs = np.tile(symmetrize(resid.T @ resid) / x.shape[0] + reg, (K, 1, 1))
        covs = symmetrize(self._project(covs))
        if self.covariance_type in ("full", "tied"):  # a rank-deficient cluster: fall back
            for k in singular_states(covs):
                covs[k] = glob if self.covariance_type == "full" else covs[k] + glob
        self.emission_means = means
        self.emission_covs = covs
