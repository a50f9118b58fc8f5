"""Shared Gaussian numerics of the observation models: the frame weights of sufficient statistics
(posterior times mask), Cholesky-based log densities of many residuals at once, the weak
inverse-Wishart-shaped penalties shared by the Gaussian and autoregressive models, and the
compiled or BLAS-shaped blocks that make scoring and statistics fast for many states at once
(grouped squared norms of whitened residuals, exact scaled distances, weighted outer-product
sums). Checks are in :mod:`._checks`, the data's reference point in :mod:`._reference`, the
k-means of the starting values in :mod:`._kmeans`.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.linalg import solve_triangular

LOG_2PI = np.log(2.0 * np.pi)


def frame_weights(
    expected_states: np.ndarray, mask: np.ndarray | None, num_timesteps: int, num_states: int
) -> np.ndarray:
    """Posterior weights with masked frames zeroed, shape (T, K)."""
    w = np.asarray(expected_states, dtype=np.float64)
    if w.shape != (num_timesteps, num_states):
        raise ValueError(
            f"expected_states must have shape ({num_timesteps}, {num_states}), got {w.shape}"
        )
    if mask is not None and not mask.all():
        w = w * mask[:, None]
    return w


def filled(x: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """``x`` with masked rows (and any NaN) replaced by 0, so nothing non-finite leaks."""
    if mask is None or mask.all():
        return x if not np.isnan(x).any() else np.nan_to_num(x, nan=0.0)
    out = x.copy()
    out[~mask] = 0.0
    return np.nan_to_num(out, nan=0.0, copy=False)


def cholesky(covs: np.ndarray, name: str = "emission_covs") -> np.ndarray:
    """Lower Cholesky factors of a stack of covariances (K, D, D), with a clear error."""
    try:
        return np.linalg.cholesky(covs)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} must be symmetric positive definite") from None


def gaussian_log_density(resid: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """``log N(resid; 0, L L^T)`` for every row of ``resid`` (T, D) given lower ``chol`` (D, D)."""
    D = resid.shape[1]
    z = solve_triangular(chol, resid.T, lower=True, check_finite=False)
    maha = np.einsum("ij,ij->j", z, z)
    half_logdet = np.log(np.diag(chol)).sum()
    return -0.5 * (D * LOG_2PI + maha) - half_logdet


def iw_penalty(covs: np.ndarray, count: float, scale: float) -> float:
    """Weak inverse-Wishart-shaped log prior:
    ``sum_k -count/2 log|S_k| - count*scale/2 tr(S_k^-1)``."""
    if count == 0.0:
        return 0.0
    covs = np.asarray(covs)
    sign, logdet = np.linalg.slogdet(covs)
    inv_trace = np.trace(np.linalg.inv(covs), axis1=-2, axis2=-1)
    return float(np.sum(-0.5 * count * logdet - 0.5 * count * scale * inv_trace))


def psi_kernel(covs: np.ndarray, count: float, psi: np.ndarray) -> float:
    """Inverse-Wishart kernel with a diagonal scale matrix.

    ``sum_k -count/2 log|S_k| - 1/2 tr(diag(psi) S_k^-1)`` for covs (K, D, D), psi (D,).
    """
    covs = np.asarray(covs, dtype=np.float64)
    _, logdet = np.linalg.slogdet(covs)
    inv_diag = np.diagonal(np.linalg.inv(covs), axis1=-2, axis2=-1)
    return float(
        np.sum(-0.5 * count * logdet - inv_diag @ (0.5 * np.asarray(psi, dtype=np.float64)))
    )


def symmetrize(m: np.ndarray) -> np.ndarray:
    """``0.5 (M + M^T)`` over the last two axes."""
    return 0.5 * (m + np.swapaxes(m, -1, -2))


@njit(cache=True, nogil=True)
def grouped_squares(R, num_states, data_dim, out):
    """``out[t, k] = sum_d R[t, k * D + d] ** 2``: squared norms of whitened residuals.

    Parameters
    ----------
    R : ndarray, shape (n, K * D)
    num_states, data_dim : int
    out : ndarray, shape (n, K), written in place
    """
    for t in range(R.shape[0]):
        for k in range(num_states):
            s = 0.0
            base = k * data_dim
            for d in range(data_dim):
                v = R[t, base + d]
                s += v * v
            out[t, k] = s


@njit(cache=True, nogil=True)
def scaled_sq_dists(x, centers_t, inv_sd_t, out):  # pragma: no cover - compiled
    """``out[t, k] = sum_d ((x[t, d] - centers_t[d, k]) * inv_sd_t[d, k]) ** 2``, exactly.

    No square is expanded, so frames far from the centres (states far apart relative to
    their spread, e.g. UTM coordinates) lose no precision; the inner loop runs over the
    states (contiguous), so it vectorises.

    Parameters
    ----------
    x : ndarray, shape (n, D)
    centers_t, inv_sd_t : ndarray, shape (D, K)
    out : ndarray, shape (n, K), written in place
    """
    n, D = x.shape
    K = centers_t.shape[1]
    for t in range(n):
        for k in range(K):
            out[t, k] = 0.0
        for d in range(D):
            v = x[t, d]
            for k in range(K):
                r = (v - centers_t[d, k]) * inv_sd_t[d, k]
                out[t, k] += r * r


def weighted_outer_sums(w: np.ndarray, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """``sum_t w[t, k] x_t x_t^T`` for every k, shape (K, D, D), as chunked GEMMs.

    Forms the row-wise outer products of a chunk of frames (n, D*D) once and multiplies by
    the weights, instead of K separate weighted Gram matrices.
    """
    T, D = x.shape
    out = np.zeros((w.shape[1], D * D))
    for start in range(0, T, chunk):
        xc = x[start : start + chunk]
        outer = (xc[:, :, None] * xc[:, None, :]).reshape(xc.shape[0], D * D)
        out += w[start : start + chunk].T @ outer
    return out.reshape(w.shape[1], D, D)
