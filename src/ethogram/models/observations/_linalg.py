"""Shared numerics of the frame-independent emission models (Gaussian, Poisson, categorical).

Each helper does one thing the three models would otherwise repeat: turn one sequence and
its mask into a finite array (masked rows zeroed, NaN in an observed row refused with an
error naming ``data``), check a state path or an initialisation method, and score every
frame under every Gaussian state (full covariances: whitening by inverse Cholesky factors
as one GEMM per block of frames; diagonal and spherical: a small numba kernel summing
``((x - mu) / sd)^2``; tied: one whitening GEMM, then the same kernel). No square is ever
expanded: frames are shifted by the mean of the state means and the residuals are formed
before squaring, so data far from the origin (UTM coordinates, keypoints in pixels) and
states far apart relative to their spread lose no precision.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from ...inference import check_mask
from ._common import LOG_2PI, cholesky, grouped_squares, scaled_sq_dists

#: frames scored per GEMM block (bounds the (block, K * D) temporary)
BLOCK = 8192


def observed_frames(data, mask, data_dim: int) -> tuple[np.ndarray, np.ndarray | None]:
    """One (T, D) sequence as float64 with masked rows set to 0, and its checked mask.

    Parameters
    ----------
    data : array_like, shape (T, D) (or (T,) when D == 1)
    mask : array_like of bool, shape (T,), or None
    data_dim : int

    Returns
    -------
    x : ndarray, shape (T, D)
        Finite wherever it is used (a copy only when rows had to be zeroed).
    mask : ndarray of bool, shape (T,), or None
    """
    x = np.asarray(data, dtype=np.float64)
    if x.ndim == 1 and data_dim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != data_dim:
        raise ValueError(f"data must have shape (num_timesteps, {data_dim}), got {x.shape}")
    mask = check_mask(mask, x.shape[0])
    if mask is not None and not mask.all():
        x = x.copy()
        x[~mask] = 0.0
    if np.isnan(x).any():
        t = int(np.argwhere(np.isnan(x))[0, 0])
        raise ValueError(
            f"data has NaN at frame {t}, which the mask marks as observed; mask that frame "
            "(mask[t] = False) or let the HMM mask NaN frames for you"
        )
    return x, mask


def check_states(states, num_states: int) -> np.ndarray:
    """A state path as an int (T,) array with values in [0, K), error naming ``states``."""
    z = np.asarray(states)
    if z.ndim != 1 or not (np.issubdtype(z.dtype, np.integer) or z.size == 0):
        raise ValueError(
            f"states must be a 1-D array of integer state indices, got shape {z.shape}, dtype "
            f"{z.dtype}"
        )
    if z.size and (z.min() < 0 or z.max() >= num_states):
        raise ValueError(
            f"states must lie in [0, {num_states}), got values from {z.min()} to {z.max()}"
        )
    return z.astype(np.intp, copy=False)


def check_init_method(method: str) -> str:
    """``method`` of ``initialize``: "kmeans" or "random"."""
    if method not in ("kmeans", "random"):
        raise ValueError(f"method must be 'kmeans' or 'random', got {method!r}")
    return method


def gaussian_log_likes_full(x: np.ndarray, means: np.ndarray, covs: np.ndarray) -> np.ndarray:
    """``log N(x_t; means[k], covs[k])`` for full covariances, shape (T, K).

    ``z_tk = L_k^-1 (x_t - c) - L_k^-1 (mu_k - c)`` for all states at once as
    ``[x_t - c, 1] @ W`` with W of shape (D + 1, K D), one GEMM per block of frames; the
    squared norms of the K groups of D columns are summed by a small numba kernel.

    Parameters
    ----------
    x : ndarray, shape (T, D)
    means : ndarray, shape (K, D)
    covs : ndarray, shape (K, D, D)
        Symmetric positive definite.

    Returns
    -------
    log_likes : ndarray, shape (T, K)
    """
    T, D = x.shape
    K = means.shape[0]
    chols = cholesky(covs)
    c = means.mean(axis=0)
    inv = np.stack([solve_triangular(L, np.eye(D), lower=True, check_finite=False) for L in chols])
    W = np.empty((D + 1, K * D))
    W[:D] = inv.reshape(K * D, D).T
    W[D] = -np.einsum("kij,kj->ki", inv, means - c).reshape(K * D)
    out = np.empty((T, K))
    xa = np.empty((min(T, BLOCK), D + 1))
    xa[:, D] = 1.0
    for start in range(0, T, BLOCK):
        n = min(BLOCK, T - start)
        np.subtract(x[start : start + n], c, out=xa[:n, :D])
        grouped_squares(xa[:n] @ W, K, D, out[start : start + n])
    half_logdet = np.log(np.diagonal(chols, axis1=1, axis2=2)).sum(axis=1)
    out *= -0.5
    out -= 0.5 * D * LOG_2PI + half_logdet
    return out


def gaussian_log_likes_tied(x: np.ndarray, means: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``log N(x_t; means[k], cov)`` with one shared covariance, shape (T, K).

    Whitens the frames once (``z = L^-1 (x - c)``, one GEMM) and sums
    ``|z_t - m_k|^2`` directly (no expanded square, see :func:`._common.scaled_sq_dists`).

    Parameters
    ----------
    x : ndarray, shape (T, D)
    means : ndarray, shape (K, D)
    cov : ndarray, shape (D, D)

    Returns
    -------
    log_likes : ndarray, shape (T, K)
    """
    D = x.shape[1]
    K = means.shape[0]
    L = cholesky(cov[None])[0]
    c = means.mean(axis=0)
    Linv = solve_triangular(L, np.eye(D), lower=True, check_finite=False)
    z = (x - c) @ Linv.T
    m = solve_triangular(L, (means - c).T, lower=True, check_finite=False)  # (D, K)
    maha = np.empty((x.shape[0], K))
    scaled_sq_dists(z, np.ascontiguousarray(m), np.ones((D, K)), maha)
    return -0.5 * (D * LOG_2PI + maha) - np.log(np.diag(L)).sum()


def gaussian_log_likes_diag(x: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """``log N(x_t; means[k], diag(variances[k]))``, shape (T, K), by the cheap formula.

    ``sum_d ((x_td - mu_kd) / sd_kd)^2`` summed directly by a small numba kernel (no
    expanded square: exact however far the frames are from the means).

    Parameters
    ----------
    x : ndarray, shape (T, D)
    means : ndarray, shape (K, D)
    variances : ndarray, shape (K, D)
        Strictly positive.

    Returns
    -------
    log_likes : ndarray, shape (T, K)
    """
    if not np.all(variances > 0):
        raise ValueError("emission_covs must have strictly positive variances on the diagonal")
    D = x.shape[1]
    maha = np.empty((x.shape[0], means.shape[0]))
    scaled_sq_dists(
        np.ascontiguousarray(x),
        np.ascontiguousarray(means.T),
        np.ascontiguousarray(1.0 / np.sqrt(variances).T),
        maha,
    )
    return -0.5 * (D * LOG_2PI + np.log(variances).sum(axis=1) + maha)
