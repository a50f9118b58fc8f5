"""Shared numerics for observation models: data checks, masked weights, Gaussian pieces.

Kept small and dependency-free (NumPy/SciPy): conversion of one sequence to a float array
with a clear error naming ``data``; the frame weights used by sufficient statistics
(posterior times mask); Cholesky-based Gaussian log densities of many residuals at once;
the weak inverse-Wishart-shaped penalty shared by the Gaussian and autoregressive models;
and the two BLAS-shaped building blocks that make scoring and statistics fast for many
states at once (grouped squared norms of whitened residuals, weighted outer-product sums).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.linalg import solve_triangular

LOG_2PI = np.log(2.0 * np.pi)


def check_positive_int(value, name: str) -> int:
    """Return ``value`` as a positive int or raise a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_float_data(data, data_dim: int, name: str = "data") -> np.ndarray:
    """One sequence as a float64 (T, D) array; 1-D input is accepted when D == 1.

    NaN is allowed (the HMM masks NaN rows); +-inf is not.
    """
    try:
        x = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (T, {data_dim}): {exc}") from exc
    if x.ndim == 1 and data_dim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != data_dim:
        raise ValueError(
            f"{name} must have shape (num_timesteps, {data_dim}), got {x.shape}; the model was built "
            f"with data_dim={data_dim} (pass one array of frames x features, or a list of them)"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} has no frames; give at least one time step")
    if np.isinf(x).any():
        t = int(np.argwhere(np.isinf(x))[0, 0])
        raise ValueError(f"{name} contains inf at frame {t}; use NaN (or a mask) for missing values")
    return np.ascontiguousarray(x)


def frame_weights(expected_states: np.ndarray, mask: np.ndarray | None, num_timesteps: int, num_states: int) -> np.ndarray:
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
    """Weak inverse-Wishart-shaped log prior: ``sum_k -count/2 log|S_k| - count*scale/2 tr(S_k^-1)``."""
    if count == 0.0:
        return 0.0
    covs = np.asarray(covs)
    sign, logdet = np.linalg.slogdet(covs)
    inv_trace = np.trace(np.linalg.inv(covs), axis1=-2, axis2=-1)
    return float(np.sum(-0.5 * count * logdet - 0.5 * count * scale * inv_trace))


def symmetrize(m: np.ndarray) -> np.ndarray:
    """``0.5 (M + M^T)`` over the last two axes."""
    return 0.5 * (m + np.swapaxes(m, -1, -2))


def observed_rows(datas: list[np.ndarray], masks: list) -> np.ndarray:
    """Concatenate the observed, finite rows of all sequences (for initialisation)."""
    rows = []
    for d, m in zip(datas, masks):
        d2 = d.reshape(d.shape[0], -1)
        keep = np.isfinite(d2).all(axis=1)
        if m is not None:
            keep &= m
        rows.append(d2[keep])
    return np.concatenate(rows, axis=0) if rows else np.empty((0, 0))


def kmeans_labels(points: np.ndarray, num_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """k-means labels (scikit-learn) of ``points`` (N, P), reproducible from ``rng``."""
    from sklearn.cluster import KMeans

    if points.shape[0] < num_clusters:
        raise ValueError(
            f"initialisation needs at least num_states={num_clusters} observed frames, got {points.shape[0]}"
        )
    km = KMeans(n_clusters=num_clusters, n_init=3, random_state=int(rng.integers(2**31 - 1)))
    return km.fit_predict(points)


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


def weighted_outer_sums(w: np.ndarray, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """``sum_t w[t, k] x_t x_t^T`` for every k, shape (K, D, D), as chunked GEMMs.

    Forms the row-wise outer products of a chunk of frames (n, D*D) once and multiplies by
    the weights, instead of K separate weighted Gram matrices.
    """
    T, D = x.shape
    out = np.zeros((w.shape[1], D * D))
    for start in range(0, T, chunk):
        xc = x[start:start + chunk]
        outer = (xc[:, :, None] * xc[:, None, :]).reshape(xc.shape[0], D * D)
        out += w[start:start + chunk].T @ outer
    return out.reshape(w.shape[1], D, D)
