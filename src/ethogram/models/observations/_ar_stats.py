"""The autoregressive model's prior, centred weights and closed-form M-step, on arrays.

The prior's settings (:func:`prior_settings`) and diagonals (``Lam``, the ridge on the centred
weights, :func:`ridge_diagonal`; ``Psi``, the inverse-Wishart scale, :func:`psi_diagonal`); the
bias moved to and from the reference point of the statistics (:func:`centre_bias`,
:func:`uncentre_bias`); and, from the summed statistics of
:meth:`~.autoregressive.AutoregressiveObservations.sufficient_stats` (the weight ``n_k`` and the
Gram matrix of ``[y_t, u_t]`` per state), the exact MAP of :func:`map_parameters`: ``W^c_k =
S_yx (S_xx + Lam)^-1`` and ``Q_k = (S_yy - W^c_k S_yx^T + Psi) / (n_k + n0)`` per covariance type
(diag: its diagonal; tied: scatters and counts summed over states), or an error naming the
state whose covariance is singular. The derivation and the defaults: ``docs/autoregressive.md``.
"""

from __future__ import annotations

import numpy as np

from ._ar_linalg import map_regression
from ._checks import singular_covariance_error, singular_states
from ._common import symmetrize

#: the covariance types of the AR noise, spelled as the Gaussian model's ``covariance_type``
COVARIANCE_TYPES = ("full", "diag", "tied")
#: relative strength of the default prior (ridge and noise scale, times the data's variance)
DEFAULT_RELATIVE_PRIOR = 1e-4


def prior_settings(prior, prior_ridge, prior_count, prior_scale) -> tuple:
    """The checked ``(prior_ridge, prior_count, prior_scale)`` of an AR model.

    Parameters
    ----------
    prior : {"default", None}
    prior_ridge, prior_scale : float or None
        None: relative to the data's variance.
    prior_count : float

    Returns
    -------
    tuple of (float or None, float, float or None)
        ``(0.0, 0.0, 0.0)`` for ``prior=None`` (maximum likelihood).

    Raises
    ------
    ValueError
        For an unknown ``prior``, or a setting that is not a finite number > 0 (None allowed
        for the ridge and the scale), naming it.
    """
    if prior not in ("default", None):
        raise ValueError(f"prior must be 'default' or None, got {prior!r}")
    if prior is None:
        return 0.0, 0.0, 0.0
    for name, value in (
        ("prior_ridge", prior_ridge),
        ("prior_count", prior_count),
        ("prior_scale", prior_scale),
    ):
        if value is None and name != "prior_count":
            continue
        try:
            ok = np.isfinite(float(value)) and float(value) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                f"{name} must be a finite number > 0 (or None for relative defaults, or "
                f"prior=None), got {value!r}"
            )
    return (
        None if prior_ridge is None else float(prior_ridge),
        float(prior_count),
        None if prior_scale is None else float(prior_scale),
    )


def centre_bias(W: np.ndarray, center: np.ndarray, num_lags: int) -> np.ndarray:
    """Weights ``[A_k1 ... A_kL b_k]`` (K, D, P) with the bias centred: ``b^c_k = b_k - (I -
    sum_l A_kl) c`` (the input itself when ``c`` is zero)."""
    if not np.any(center != 0.0):
        return W
    K, D = W.shape[0], W.shape[1]
    Asum = W[:, :, : num_lags * D].reshape(K, D, num_lags, D).sum(axis=2)
    W = W.copy()
    W[:, :, -1] -= center - Asum @ center
    return W


def uncentre_bias(Wc: np.ndarray, center: np.ndarray, num_lags: int) -> np.ndarray:
    """Raw bias ``b_k = b^c_k + (I - sum_l A_kl) c`` (K, D) from centred weights (K, D, P)."""
    K, D = Wc.shape[0], Wc.shape[1]
    Asum = Wc[:, :, : num_lags * D].reshape(K, D, num_lags, D).sum(axis=2)
    return Wc[:, :, num_lags * D] + (center - Asum @ center)


def ridge_diagonal(
    prior_ridge: float | None, data_scale: np.ndarray, num_lags: int, bias: bool
) -> np.ndarray:
    """Diagonal of ``Lam`` (P,): the ridge on each column of the centred weights.

    Parameters
    ----------
    prior_ridge : float or None
        An absolute ridge, or None for ``1e-4`` times each input's variance (1e-4 on the bias).
    data_scale : ndarray, shape (D,)
        Per-dimension variance of the training frames.
    num_lags : int
    bias : bool

    Returns
    -------
    ndarray, shape (num_lags * D + bias,)
    """
    if prior_ridge is not None:
        return np.full(num_lags * data_scale.shape[0] + int(bias), prior_ridge)
    lam = DEFAULT_RELATIVE_PRIOR
    return np.concatenate([np.tile(lam * data_scale, num_lags), [lam] if bias else []])


def psi_diagonal(count: float, prior_scale: float | None, data_scale: np.ndarray) -> np.ndarray:
    """Diagonal of the inverse-Wishart scale ``Psi`` (D,): ``n0 s0`` times the data's variance
    (``prior_scale`` None) or times one (a number); zeros when ``count`` (n0) is 0."""
    D = data_scale.shape[0]
    if count == 0.0:
        return np.zeros(D)
    if prior_scale is not None:
        return np.full(D, count * prior_scale)
    return count * DEFAULT_RELATIVE_PRIOR * data_scale


def _pooled_covariances(scatter, n, ok, n0, psi, covs, covariance_type):
    """``(S + Psi) / (n + n0)`` per state (diag: its diagonal; tied: pooled over states)."""
    Psi = np.diag(psi)
    if covariance_type == "tied":
        if n[ok].sum() + n0 > 0:
            covs[:] = (scatter[ok].sum(axis=0) + Psi) / (n[ok].sum() + n0)
    else:
        for k in np.flatnonzero(ok & (n + n0 > 0)):
            Q = (scatter[k] + Psi) / (n[k] + n0)
            covs[k] = np.diag(np.diag(Q)) if covariance_type == "diag" else Q
    return symmetrize(covs)


def _check_definite(covs, n, ok, n0, covariance_type, data_scale) -> None:
    """Raise ValueError naming the first state whose new covariance is singular."""
    tied = covariance_type == "tied"
    check = covs[:1] if tied else covs
    if n0 == 0.0:
        bad = [k for k in singular_states(check, data_scale) if tied or (ok[k] and n[k] > 0)]
    else:
        bad = [k for k in range(check.shape[0]) if np.any(np.linalg.eigvalsh(check[k]) <= 0)]
    if not bad:
        return
    k = bad[0]
    count = float(n.sum() if tied else n[k])
    if n0 == 0.0:
        raise singular_covariance_error("emission_covs", k, count, covs.shape[1])
    raise ValueError(
        f"emission_covs[{k}] is not positive definite after the M-step although the prior "
        f"is on (state {k} holds {count:.4g} expected frames); raise prior_count, leave "
        "prior_scale at None (relative to the data), or drop constant dimensions"
    )


def map_parameters(
    n: np.ndarray,
    G: np.ndarray,
    ridge: np.ndarray,
    psi: np.ndarray,
    n0: float,
    covariance_type: str,
    weights: np.ndarray,
    covs: np.ndarray,
    data_scale: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The MAP (or least-squares) centred weights and noise covariances.

    Parameters
    ----------
    n : ndarray, shape (K,)
        Expected scored frames per state.
    G : ndarray, shape (K, D + P, D + P)
        Symmetric Gram matrices of ``[y_t, u_t]``.
    ridge : ndarray, shape (P,)
        Diagonal of ``Lam`` (:func:`ridge_diagonal`).
    psi : ndarray, shape (D,)
        Diagonal of ``Psi`` (:func:`psi_diagonal`).
    n0 : float
        Pseudo-observations of the noise prior (0: maximum likelihood).
    covariance_type : {"full", "diag", "tied"}
    weights : ndarray, shape (K, D, P)
        Current centred weights, kept for a state without data under ``prior=None``.
    covs : ndarray, shape (K, D, D)
        Current noise covariances, kept likewise.
    data_scale : ndarray, shape (D,), or None
        Scale against which a covariance counts as singular.

    Returns
    -------
    weights : ndarray, shape (K, D, P)
    covs : ndarray, shape (K, D, D)

    Raises
    ------
    ValueError
        When a new covariance is singular (under ``prior=None``: constant or collinear
        dimensions, a noise-free stretch, too few frames), naming the state and the remedies.
    """
    K, D = n.shape[0], covs.shape[1]
    W = weights.copy()
    scatter = np.zeros((K, D, D))
    # under prior=None a state needs data (a Gram of zeros: all its weights negligible)
    ok = ((n > 0) & (np.trace(G, axis1=1, axis2=2) > 0)) | np.any(ridge > 0)
    for k in np.flatnonzero(ok):
        W[k], scatter[k] = map_regression(G[k], D, ridge)
    covs = _pooled_covariances(
        scatter, n, ok, n0, psi, np.array(covs, dtype=np.float64, copy=True), covariance_type
    )
    _check_definite(covs, n, ok, n0, covariance_type, data_scale)
    return W, covs
