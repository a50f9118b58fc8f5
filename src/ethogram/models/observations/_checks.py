"""Checks of what users, files and M-steps hand the observation models: positive integers,
sequences of frames, parameter arrays of the right shape, covariances of the right kind, and the
states whose covariance is (numerically) singular, each failing with a ``ValueError`` or
``TypeError`` that names the argument.
"""

from __future__ import annotations

import numpy as np

from ._common import symmetrize


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


def singular_covariance_error(name: str, state: int, count: float, data_dim: int) -> ValueError:
    """The error raised when a maximum-likelihood M-step makes a covariance singular."""
    return ValueError(
        f"{name}[{state}] became singular in the maximum-likelihood M-step (prior=None): state "
        f"{state} holds {count:.4g} expected frames whose spread is degenerate in some direction "
        f"(constant or collinear dimensions, or fewer than data_dim + 1 = {data_dim + 1} distinct "
        "frames). Keep the default prior (prior='default', which keeps every covariance positive "
        "definite), use fewer states, or drop constant / duplicated dimensions from the data."
    )
