"""Shared numerics for observation models: data checks, masked weights, Gaussian pieces.

Kept small and dependency-free (NumPy/SciPy): conversion of one sequence to a float array
with a clear error naming ``data``; the frame weights used by sufficient statistics
(posterior times mask); Cholesky-based Gaussian log densities of many residuals at once;
the weak inverse-Wishart-shaped penalty shared by the Gaussian and autoregressive models;
and the two BLAS-shaped building blocks that make scoring and statistics fast for many
states at once (grouped squared norms of whitened residuals, weighted outer-product sums).
"""

from __future__ import annotations

import threading

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
            f"{name} must have shape (num_timesteps, {data_dim}), got {x.shape}; the model was "
            f"built with data_dim={data_dim} (pass one array of frames x features, or a list of "
            "them)"
        )
    if x.shape[0] == 0:
        raise ValueError(f"{name} has no frames; give at least one time step")
    if np.isinf(x).any():
        t = int(np.argwhere(np.isinf(x))[0, 0])
        raise ValueError(
            f"{name} contains inf at frame {t}; use NaN (or a mask) for missing values"
        )
    return np.ascontiguousarray(x)


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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicated points: sklearn warns, labels stay valid
        km.fit(sub)
    return km.predict(feats).astype(np.intp)


def data_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference point and per-dimension scale of the training frames (for centring and priors).

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Observed, finite frames (N >= 1).

    Returns
    -------
    center : ndarray, shape (D,)
        The mean frame.
    scale : ndarray, shape (D,)
        The variance of each dimension (data units squared). A dimension that is constant
        (variance 0 or at the round-off level of its values) gets the smallest variance of
        the other dimensions, and 1.0 when every dimension is constant, so the scale is
        always > 0 and changes by ``a**2`` when the data become ``a * x + b``.
    """
    x = np.asarray(x, dtype=np.float64)
    center = x.mean(axis=0)
    var = ((x - center) ** 2).mean(axis=0)
    tiny = (1e-12 * np.abs(x).max(axis=0)) ** 2
    real = (var > 0) & (var > tiny)
    scale = var.copy()
    scale[~real] = var[real].min() if real.any() else 1.0
    return center, scale


def check_shape(name: str, value, shape: tuple) -> np.ndarray:
    """``value`` as a finite float64 array of the given shape, or a ValueError naming ``name``."""
    try:
        arr = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a numeric array of shape {shape}, got {type(value).__name__}"
        ) from None
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(
            f"{name} must be finite (no NaN or inf); got {int((~np.isfinite(arr)).sum())} "
            "non-finite entries"
        )
    return arr


def check_covariances(name: str, covs, shape: tuple, kind: str = "full") -> np.ndarray:
    """A stack of covariances checked where it is written, returned exactly symmetric.

    Parameters
    ----------
    name : str
        Parameter name used in the error.
    covs : array_like, shape (K, D, D)
    shape : tuple
        Expected shape (K, D, D).
    kind : {"full", "diag", "spherical", "tied"}
        ``diag`` and ``spherical`` refuse any off-diagonal entry (a full matrix is not
        silently reduced to its diagonal), ``spherical`` needs equal diagonal entries and
        ``tied`` equal matrices for every state.

    Returns
    -------
    ndarray, shape (K, D, D)

    Raises
    ------
    ValueError
        Naming ``name``: wrong shape, not finite, not symmetric (beyond 1e-10 relative),
        not positive definite (which state), or not of the covariance type.
    """
    c = check_shape(name, covs, shape)
    D = shape[-1]
    big = np.abs(c).max(initial=0.0)
    if np.abs(c - np.swapaxes(c, -1, -2)).max(initial=0.0) > 1e-10 * big:
        raise ValueError(f"{name} must be symmetric matrices (C[k] == C[k].T)")
    c = symmetrize(c)
    if kind in ("diag", "spherical"):
        off = c * (1.0 - np.eye(D))
        if np.any(off != 0.0):
            raise ValueError(
                f"{name} must be diagonal for covariance type {kind!r}; got off-diagonal entries "
                f"up to {np.abs(off).max():.3g} (give diag(variances), or use the 'full' type)"
            )
        var = np.diagonal(c, axis1=-2, axis2=-1)
        if kind == "spherical" and not np.allclose(var, var[..., :1], rtol=1e-10, atol=0.0):
            raise ValueError(
                f"{name} must be v_k * I (equal diagonal entries) for covariance type 'spherical'"
            )
    if kind == "tied" and not np.allclose(c, c[:1], rtol=1e-10, atol=0.0):
        raise ValueError(f"{name} must be the same matrix for every state for the 'tied' type")
    for k in range(c.shape[0]):
        try:
            np.linalg.cholesky(c[k])
        except np.linalg.LinAlgError:
            raise ValueError(
                f"{name}[{k}] must be positive definite (smallest eigenvalue "
                f"{np.linalg.eigvalsh(c[k]).min():.3g})"
            ) from None
    return c


def singular_states(covs: np.ndarray, scale: np.ndarray | None = None) -> list[int]:
    """States whose covariance is numerically singular, judged without units.

    A covariance is singular when a variance is not positive, when its correlation matrix
    has a smallest eigenvalue below 1e-10 (constant or collinear dimensions), or, given the
    data's per-dimension variance ``scale``, when the covariance measured in units of the
    data's spread (``C_ij / sqrt(scale_i scale_j)``) has a smallest eigenvalue below 1e-13:
    a state that fits its frames to round-off (its variance is then known only to a few
    digits, and EM loses monotonicity).

    Parameters
    ----------
    covs : ndarray, shape (K, D, D)
    scale : ndarray, shape (D,), optional

    Returns
    -------
    list of int
    """
    bad = []
    for k, c in enumerate(covs):
        d = np.diag(c)
        if not np.all(d > 0) or not np.all(np.isfinite(c)):
            bad.append(k)
            continue
        s = 1.0 / np.sqrt(d)
        if np.linalg.eigvalsh(c * s[:, None] * s[None, :]).min() <= 1e-10:
            bad.append(k)
            continue
        if scale is not None:
            u = 1.0 / np.sqrt(scale)
            if np.linalg.eigvalsh(c * u[:, None] * u[None, :]).min() <= 1e-13:
                bad.append(k)
    return bad


def reference_stats(center: np.ndarray, num_frames: float) -> dict:
    """Bookkeeping statistics of the reference point: ``center * frames`` and ``frames``.

    ``frames`` is the total posterior weight of the scored frames, so that the statistics of
    a sequence cut in pieces still add up to those of the whole sequence, and a masked frame
    counts as a frame of zero weight.
    """
    return {"center": center * float(num_frames), "frames": np.array(float(num_frames))}


def check_stats_reference(
    stats: dict, center: np.ndarray | None, data_dim: int
) -> np.ndarray | None:
    """The reference point summed statistics were accumulated about, checked against the model's.

    Statistics carry ``center`` (each sequence's reference times its frames, summed) and
    ``frames`` (see :func:`reference_stats`), so an M-step can tell statistics accumulated
    about another reference point (another model's, or a mix) from its own.

    Parameters
    ----------
    stats : dict
        Summed statistics (``center`` and ``frames`` optional: without them the model's own
        reference is assumed).
    center : ndarray, shape (D,), or None
        The model's ``data_center`` (None: not set yet).
    data_dim : int

    Returns
    -------
    ndarray, shape (D,), or None
        The statistics' reference (the model's, or the one the statistics bring when the
        model has none).

    Raises
    ------
    ValueError
        If the statistics were accumulated about another reference point.
    """
    if "center" not in stats or "frames" not in stats:
        return center
    count = float(np.asarray(stats["frames"], dtype=np.float64))
    ref = np.asarray(stats["center"], dtype=np.float64).reshape(-1)
    if ref.shape != (data_dim,):
        raise ValueError(f"stats['center'] must have shape ({data_dim},), got {ref.shape}")
    if not count > 0:
        return center
    ref = ref / count
    if center is None:
        return ref if np.any(ref != 0.0) else None
    if not np.allclose(ref, center, rtol=1e-9, atol=1e-9 * (np.abs(center).max() + 1e-300)):
        raise ValueError(
            "stats were accumulated about another reference point (data_center) than this model's: "
            "compute them with this model (or one built from its get_params()), and do not mix "
            "statistics of models initialised on different data"
        )
    return center


def singular_covariance_error(name: str, state: int, count: float, data_dim: int) -> ValueError:
    """The error raised when a maximum-likelihood M-step makes a covariance singular."""
    return ValueError(
        f"{name}[{state}] became singular in the maximum-likelihood M-step (prior=None): state "
        f"{state} holds {count:.4g} expected frames whose spread is degenerate in some direction "
        f"(constant or collinear dimensions, or fewer than data_dim + 1 = {data_dim + 1} distinct "
        "frames). Keep the default prior (prior='default', which keeps every covariance positive "
        "definite), use fewer states, or drop constant / duplicated dimensions from the data."
    )


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


_REFERENCE_LOCK = threading.Lock()


class DataReferenceMixin:
    """``data_center`` / ``data_scale``: the training data's mean and per-dimension variance.

    Shared by the Gaussian and autoregressive models, whose statistics are summed about
    ``data_center`` and whose default priors scale with ``data_scale`` (set once, from the
    first observed frames, under a lock so that threaded E-steps agree).
    """

    def _set_reference(self, x: np.ndarray) -> None:
        """Set ``data_center`` and ``data_scale`` from observed frames (N, D) if not yet set."""
        with _REFERENCE_LOCK:
            if self.data_center is None and x.shape[0] > 0:
                center, scale = data_moments(x)
                self.data_scale = scale
                self.data_center = center

    def _check_reference(self, name: str, value) -> np.ndarray:
        """Validate ``data_center`` (D,) finite or ``data_scale`` (D,) finite and > 0."""
        arr = check_shape(name, value, (self.data_dim,))
        if name == "data_scale" and not np.all(arr > 0):
            raise ValueError(f"data_scale must be > 0 in every dimension, got {arr}")
        return arr
