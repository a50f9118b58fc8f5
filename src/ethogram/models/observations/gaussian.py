"""Gaussian emissions ``x_t | z_t = k ~ N(emission_means[k], emission_covs[k])``.

Covariance types: ``full`` (one matrix per state), ``diag`` (diagonal per state), ``tied``
(one full matrix shared by all states) and ``spherical`` (``sigma_k^2 I`` per state);
``emission_covs`` is always stored as full (K, D, D) matrices. The prior is flat on the means
and, on each covariance, a weak inverse-Wishart-shaped penalty with ``prior_count`` (n0)
pseudo-observations of covariance ``prior_scale * I`` (s0):
``log p(S) = -n0/2 log|S| - n0 s0/2 tr(S^-1)``. Its MAP is the convex combination
``S_k = (N_k Sigma_hat_k + n0 s0 I) / (N_k + n0)`` of the weighted sample covariance and
``s0 I``, which plays the role of the course's ``0.5 (S + S^T) + 1e-4 I`` (covariances stay
positive definite even for a state with almost no data) while remaining a true MAP, so EM is
monotone. Defaults n0 = 1, s0 = 1e-4; ``prior=None`` is maximum likelihood.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from ._common import (
    LOG_2PI,
    check_float_data,
    check_positive_int,
    cholesky,
    filled,
    frame_weights,
    grouped_squares,
    iw_penalty,
    kmeans_labels,
    observed_rows,
    symmetrize,
    weighted_outer_sums,
)
from .base import ObservationModel, register

COVARIANCE_TYPES = ("full", "diag", "tied", "spherical")


@register("gaussian")
class GaussianObservations(ObservationModel):
    """Multivariate normal emissions.

    Parameters
    ----------
    num_states : int
        Number of states K.
    data_dim : int
        Dimension D of each frame.
    covariance_type : {"full", "diag", "tied", "spherical"}, default "full"
    prior : {"default", None}, default "default"
        ``None`` gives maximum-likelihood M-steps (and ``log_prior() == 0``).
    prior_count : float, default 1.0
        Pseudo-observations n0 of the covariance prior.
    prior_scale : float, default 1e-4
        Prior covariance scale s0 (the prior pulls towards ``s0 I``).
    """

    param_names = ("emission_means", "emission_covs")

    def __init__(self, num_states, data_dim, covariance_type="full", prior="default", prior_count=1.0, prior_scale=1e-4):
        super().__init__(num_states)
        self.data_dim = check_positive_int(data_dim, "data_dim")
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}")
        self.covariance_type = covariance_type
        if prior not in ("default", None):
            raise ValueError(f"prior must be 'default' or None, got {prior!r}")
        self.prior = prior
        self.prior_count = 0.0 if prior is None else float(prior_count)
        self.prior_scale = 0.0 if prior is None else float(prior_scale)
        if prior is not None and (self.prior_count <= 0 or self.prior_scale <= 0):
            raise ValueError("prior_count and prior_scale must be > 0 (or use prior=None)")
        K, D = self.num_states, self.data_dim
        self.emission_means = np.zeros((K, D))
        self.emission_covs = np.tile(np.eye(D), (K, 1, 1))

    def state_param_names(self):
        """Per-state parameters (the tied covariance is shared, so it is not permuted)."""
        return ("emission_means",) if self.covariance_type == "tied" else self.param_names

    # ------------------------------------------------------------------ data
    def check_data(self, data) -> np.ndarray:
        """Validate one sequence: float (T, D), NaN allowed (masked), no inf."""
        return check_float_data(data, self.data_dim)

    # ------------------------------------------------------------------ likelihoods
    def log_likelihoods(self, data, mask=None) -> np.ndarray:
        """``log N(x_t; mu_k, Sigma_k)`` for every frame and state, shape (T, K)."""
        x = filled(data, mask)
        T, K = x.shape[0], self.num_states
        out = np.empty((T, K))
        if self.covariance_type in ("diag", "spherical"):
            var = np.diagonal(self.emission_covs, axis1=1, axis2=2)  # (K, D)
            if np.any(var <= 0):
                raise ValueError("emission_covs must have positive variances")
            prec = 1.0 / var
            # sum_d (x - mu)^2 / var = x^2 @ prec - 2 x @ (mu prec) + sum(mu^2 prec)
            maha = (x * x) @ prec.T - 2.0 * x @ (self.emission_means * prec).T + (self.emission_means**2 * prec).sum(1)
            out[:] = -0.5 * (self.data_dim * LOG_2PI + np.log(var).sum(1) + np.maximum(maha, 0.0))
        else:
            # whiten all states at once: z_tk = L_k^-1 x_t - L_k^-1 mu_k, one GEMM per chunk
            D = self.data_dim
            chols = cholesky(self.emission_covs)
            inv = np.stack([solve_triangular(c, np.eye(D), lower=True, check_finite=False) for c in chols])
            # [x_t, 1] @ [[L_k^-T], [-(L_k^-1 mu_k)^T]]: the shift rides along in the product
            WT = np.empty((D + 1, K * D))
            WT[:D] = inv.reshape(K * D, D).T
            WT[D] = -np.einsum("kij,kj->ki", inv, self.emission_means).reshape(K * D)
            xa = np.empty((min(T, 8192), D + 1))
            xa[:, D] = 1.0
            for start in range(0, T, 8192):
                n = min(8192, T - start)
                xa[:n, :D] = x[start:start + n]
                grouped_squares(xa[:n] @ WT, K, D, out[start:start + n])
            half_logdet = np.log(np.diagonal(chols, axis1=1, axis2=2)).sum(axis=1)
            out *= -0.5
            out -= 0.5 * D * LOG_2PI + half_logdet
        if mask is not None and not mask.all():
            out[~mask] = 0.0
        return out

    # ------------------------------------------------------------------ EM
    def sufficient_stats(self, data, expected_states, mask=None) -> dict:
        """Weighted counts ``n`` (K,), sums ``x`` (K, D) and outer products ``xx`` (K, D, D)."""
        x = filled(data, mask)
        w = frame_weights(expected_states, mask, x.shape[0], self.num_states)
        n = w.sum(axis=0)
        sx = w.T @ x
        if self.covariance_type in ("diag", "spherical"):
            xx = np.zeros((self.num_states, self.data_dim, self.data_dim))
            diag = w.T @ (x * x)
            idx = np.arange(self.data_dim)
            xx[:, idx, idx] = diag
        else:
            xx = weighted_outer_sums(w, x)
        return {"n": n, "x": sx, "xx": xx}

    def m_step(self, stats) -> None:
        """Closed-form MAP (flat prior on means, weak IW-shaped prior on covariances)."""
        n, sx, xx = stats["n"], stats["x"], stats["xx"]
        K, D = self.num_states, self.data_dim
        used = n > 0
        means = self.emission_means.copy()
        means[used] = sx[used] / n[used, None]
        # scatter about the new means: S_k = xx_k - n_k mu_k mu_k^T
        scatter = xx - n[:, None, None] * np.einsum("ki,kj->kij", means, means)
        scatter = symmetrize(scatter)
        n0, s0 = self.prior_count, self.prior_scale
        eye = np.eye(D)
        covs = self.emission_covs.copy()
        if self.covariance_type == "full":
            ok = (n + n0) > 0
            covs[ok] = (scatter[ok] + n0 * s0 * eye) / (n[ok] + n0)[:, None, None]
        elif self.covariance_type == "diag":
            ok = (n + n0) > 0
            var = (np.diagonal(scatter, axis1=1, axis2=2) + n0 * s0) / (n + n0)[:, None]
            covs[ok] = np.einsum("kd,de->kde", var[ok], eye)
        elif self.covariance_type == "spherical":
            ok = (n + n0) > 0
            var = (np.trace(scatter, axis1=1, axis2=2) + D * n0 * s0) / (D * (n + n0))
            covs[ok] = var[ok, None, None] * eye
        else:  # tied
            total = n.sum()
            shared = (scatter.sum(axis=0) + n0 * s0 * eye) / (total + n0)
            covs = np.tile(symmetrize(shared), (K, 1, 1))
        self.emission_means = means
        self.emission_covs = symmetrize(covs)

    def log_prior(self) -> float:
        """The covariance penalty at the current parameters (0 for ``prior=None``)."""
        n0, s0 = self.prior_count, self.prior_scale
        if n0 == 0.0:
            return 0.0
        if self.covariance_type == "tied":
            return iw_penalty(self.emission_covs[:1], n0, s0)
        if self.covariance_type in ("diag", "spherical"):
            var = np.diagonal(self.emission_covs, axis1=1, axis2=2)
            if self.covariance_type == "spherical":
                var = var[:, :1]
                return float(self.data_dim * np.sum(-0.5 * n0 * np.log(var) - 0.5 * n0 * s0 / var))
            return float(np.sum(-0.5 * n0 * np.log(var) - 0.5 * n0 * s0 / var))
        return iw_penalty(self.emission_covs, n0, s0)

    # ------------------------------------------------------------------ generation
    def sample(self, states, rng) -> np.ndarray:
        """Draw (T, D) observations given a state path (T,)."""
        states = np.asarray(states)
        chols = cholesky(self.emission_covs)
        eps = rng.standard_normal((states.shape[0], self.data_dim))
        return self.emission_means[states] + np.einsum("tij,tj->ti", chols[states], eps)

    def _project(self, covs: np.ndarray) -> np.ndarray:
        """Constrain full covariances to the model's covariance type."""
        D = self.data_dim
        if self.covariance_type == "diag":
            return np.einsum("kd,de->kde", np.diagonal(covs, axis1=1, axis2=2), np.eye(D))
        if self.covariance_type == "spherical":
            return np.trace(covs, axis1=1, axis2=2)[:, None, None] / D * np.eye(D)
        return covs

    def initialize(self, datas, masks, rng, method="kmeans") -> None:
        """k-means (scikit-learn) centroids and per-cluster covariances, or random frames."""
        x = observed_rows(datas, masks)
        K, D = self.num_states, self.data_dim
        if x.shape[0] < K:
            raise ValueError(f"initialisation needs at least {K} observed frames, got {x.shape[0]}")
        glob = np.atleast_2d(np.cov(x, rowvar=False)) + 1e-6 * np.eye(D) if x.shape[0] > 1 else np.eye(D)
        if method == "random":
            self.emission_means = x[rng.choice(x.shape[0], K, replace=False)].copy()
            covs = np.tile(glob, (K, 1, 1))
        else:
            labels = kmeans_labels(x, K, rng)
            means = np.empty((K, D))
            covs = np.empty((K, D, D))
            for k in range(K):
                pts = x[labels == k]
                means[k] = pts.mean(0) if len(pts) else x[rng.integers(x.shape[0])]
                covs[k] = np.cov(pts, rowvar=False) + 1e-6 * np.eye(D) if len(pts) > D else glob
            self.emission_means = means
            if self.covariance_type == "tied":
                resid = x - means[labels]
                covs = np.tile(resid.T @ resid / x.shape[0] + 1e-6 * np.eye(D), (K, 1, 1))
        if self.covariance_type == "tied" and method == "random":
            covs = np.tile(glob, (K, 1, 1))
        self.emission_covs = symmetrize(self._project(np.atleast_3d(covs).reshape(K, D, D)))

    def num_parameters(self) -> int:
        """Means plus covariance entries by type."""
        K, D = self.num_states, self.data_dim
        cov = {"full": K * D * (D + 1) // 2, "diag": K * D, "tied": D * (D + 1) // 2, "spherical": K}
        return K * D + cov[self.covariance_type]
