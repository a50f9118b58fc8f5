"""AR(L) parameters under a matrix-normal inverse-Wishart prior: statistics, posterior, draws.

The conjugate update of MoSeq's autoregressive dynamics per syllable (section 3.2 of
../shared/models/keypoint_moseq_model.md; jax-moseq ``models/arhmm/gibbs.py``,
``_resample_regression_params``, and ``utils/distributions.py``): ``Q ~ IW(nu_0, S_0)``,
``Ab | Q ~ MN(M_0, Q, K_0)`` with ``Ab = [A_1 ... A_L | b]`` (lag blocks oldest first) and
regressors ``u_t = [x_{t-L}; ...; x_{t-1}; 1]``. Everything is batched over syllables
(arrays with a leading ``num_states`` axis) so that one Gibbs sweep makes a handful of numpy
calls, not one per syllable. Randomness comes from a ``numpy.random.Generator``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "ARStats",
    "MNIWPosterior",
    "ar_regression_stats",
    "mniw_posterior",
    "moseq_ar_prior",
    "sample_ar_params",
    "sample_invwishart",
    "sample_matrix_normal",
]


class ARStats(NamedTuple):
    """Per-syllable sufficient statistics of the AR regression; they add across sequences.

    Attributes
    ----------
    S_ii : ndarray, shape (num_states, P, P)
        ``sum u u^T`` with ``P = latent_dim * num_lags + 1``.
    S_oi : ndarray, shape (num_states, M, P)
        ``sum x_t u_t^T``.
    S_oo : ndarray, shape (num_states, M, M)
        ``sum x_t x_t^T``.
    counts : ndarray, shape (num_states,)
        Number of frames per syllable.
    """

    S_ii: np.ndarray
    S_oi: np.ndarray
    S_oo: np.ndarray
    counts: np.ndarray

    def __add__(self, other):  # statistics of two sequences add entry by entry
        return ARStats(*(a + b for a, b in zip(self, other, strict=True)))


class MNIWPosterior(NamedTuple):
    """Parameters of ``Q ~ IW(nu, S)``, ``Ab | Q ~ MN(M, Q, K)``, batched over syllables.

    Attributes
    ----------
    M : ndarray, shape (num_states, M, P)
    K : ndarray, shape (num_states, P, P)
    S : ndarray, shape (num_states, M, M)
    nu : ndarray, shape (num_states,)
    """

    M: np.ndarray
    K: np.ndarray
    S: np.ndarray
    nu: np.ndarray


def moseq_ar_prior(
    latent_dim: int, num_lags: int, S_0_scale: float = 0.01, K_0_scale: float = 10.0
) -> dict:
    """keypoint-MoSeq's MNIW prior (jax-moseq ``arhmm/initialize.py``, ``init_hyperparams``).

    Parameters
    ----------
    latent_dim, num_lags : int
        ``M`` and ``L``.
    S_0_scale : float, default 0.01
        ``S_0 = S_0_scale * I_M`` (config ``ar_hypparams.S_0_scale``).
    K_0_scale : float, default 10
        ``K_0 = K_0_scale * I_{ML+1}`` (bias column included).

    Returns
    -------
    dict
        ``M_0`` (M, ML+1): identity on the most recent lag, zero elsewhere and zero bias;
        ``K_0``, ``S_0`` and ``nu_0 = M + 2`` (hard-coded in jax-moseq).
    """
    M, L = int(latent_dim), int(num_lags)
    if M < 1 or L < 1:
        raise ValueError(f"latent_dim and num_lags must be >= 1, got {latent_dim}, {num_lags}")
    M_0 = np.zeros((M, M * L + 1))
    M_0[:, M * (L - 1) : M * L] = np.eye(M)
    return dict(
        M_0=M_0, K_0=K_0_scale * np.eye(M * L + 1), S_0=S_0_scale * np.eye(M), nu_0=float(M + 2)
    )


def _lag_matrix(x: np.ndarray, L: int) -> np.ndarray:
    """Rows ``u_t = [x_{t-L}, ..., x_{t-1}, 1]`` for t = L .. T-1, shape (T-L, ML+1)."""
    T = x.shape[0]
    return np.concatenate(
        [x[lag : T - L + lag] for lag in range(L)] + [np.ones((T - L, 1))], axis=1
    )


def ar_regression_stats(x, syllables, num_states: int, num_lags: int, mask=None) -> ARStats:
    """Sufficient statistics ``S_ii, S_oi, S_oo`` and counts per syllable for one sequence.

    Frames ``t >= num_lags`` with ``mask[t] = 1`` enter, each under its syllable
    ``syllables[t - num_lags]`` (jax-moseq ``resample_ar_params``).

    Parameters
    ----------
    x : array_like, shape (T, M)
        Latent trajectory (or any continuous data).
    syllables : array_like of int, shape (T - num_lags,)
        ``syllables[i]`` labels frame ``i + num_lags``.
    num_states, num_lags : int
    mask : array_like of bool, shape (T,), optional

    Returns
    -------
    ARStats

    Raises
    ------
    ValueError
        On shapes, non-finite ``x`` or syllables out of range.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"x must be a finite (T, latent_dim) array, got shape {x.shape}")
    T, M = x.shape
    L, S = int(num_lags), int(num_states)
    z = np.asarray(syllables)
    if T <= L or z.shape != (T - L,):
        raise ValueError(f"syllables must have shape (T - num_lags,) = ({T - L},), got {z.shape}")
    if z.size and (not np.issubdtype(z.dtype, np.integer) or z.min() < 0 or z.max() >= S):
        raise ValueError(f"syllables must be integers in [0, {S})")
    keep = np.ones(T - L, bool) if mask is None else np.asarray(mask, bool)[L:]
    if keep.shape != (T - L,):
        raise ValueError(f"mask must have shape ({T},), got {np.shape(mask)}")
    U, X, z = _lag_matrix(x, L)[keep], x[L:][keep], z[keep]
    P = M * L + 1
    out = ARStats(np.zeros((S, P, P)), np.zeros((S, M, P)), np.zeros((S, M, M)), np.zeros(S))
    order = np.argsort(z, kind="stable")
    counts = np.bincount(z, minlength=S)
    start = 0
    for s in np.flatnonzero(counts):
        idx = order[start : start + counts[s]]
        start += counts[s]
        Us, Xs = U[idx], X[idx]
        out.S_ii[s], out.S_oi[s], out.S_oo[s] = Us.T @ Us, Xs.T @ Us, Xs.T @ Xs
    out.counts[:] = counts
    return out


def _sym(A):
    return 0.5 * (A + np.swapaxes(A, -1, -2))


def _psd_inv(A, boost):
    A = _sym(A) + boost * np.eye(A.shape[-1])
    return _sym(np.linalg.inv(A))


def mniw_posterior(
    stats: ARStats, M_0, K_0, S_0, nu_0, diagonal_boost: float = 0.0
) -> MNIWPosterior:
    """Conjugate MNIW posterior of each syllable's ``(Ab, Q)`` given its statistics.

    ``K_n^-1 = K_0^-1 + S_ii``, ``M_n = (M_0 K_0^-1 + S_oi) K_n``,
    ``S_n = S_0 + S_oo + M_0 K_0^-1 M_0^T - M_n K_n^-1 M_n^T``, ``nu_n = nu_0 + n``
    (jax-moseq ``_resample_regression_params``; a syllable without frames keeps the prior).

    Parameters
    ----------
    stats : ARStats
    M_0 : array_like, shape (M, P)
    K_0 : array_like, shape (P, P)
    S_0 : array_like, shape (M, M)
    nu_0 : float
    diagonal_boost : float, default 0
        Added to the diagonal of ``K_0`` and ``K_n^-1`` before inverting them. jax-moseq adds
        1e-6 (``psd_solve``); 0 gives the exact posterior (``K_n^-1`` is never singular while
        ``K_0`` is positive definite).

    Returns
    -------
    MNIWPosterior
    """
    M_0, K_0, S_0 = (np.asarray(a, dtype=float) for a in (M_0, K_0, S_0))
    M, P = stats.S_oi.shape[1:]
    if M_0.shape != (M, P) or K_0.shape != (P, P) or S_0.shape != (M, M):
        raise ValueError(
            f"prior shapes must be M_0 ({M}, {P}), K_0 ({P}, {P}), S_0 ({M}, {M}); got "
            f"{M_0.shape}, {K_0.shape}, {S_0.shape}"
        )
    K0_inv = _psd_inv(K_0, diagonal_boost)
    Kn_inv = K0_inv + stats.S_ii
    Kn = _psd_inv(Kn_inv, diagonal_boost)
    Mn = (M_0 @ K0_inv + stats.S_oi) @ Kn
    Sn = S_0 + stats.S_oo + M_0 @ K0_inv @ M_0.T - Mn @ Kn_inv @ np.swapaxes(Mn, 1, 2)
    return MNIWPosterior(Mn, Kn, _sym(Sn), float(nu_0) + stats.counts)


def sample_invwishart(rng: np.random.Generator, nu, scale) -> np.ndarray:
    """Inverse-Wishart draws ``IW(nu, scale)`` (mean ``scale / (nu - M - 1)``), batched.

    Bartlett decomposition: with ``A`` lower triangular, ``A_ii^2 ~ chi2(nu - i)`` and
    ``A_ij ~ N(0, 1)`` below the diagonal, ``A A^T ~ W(nu, I)``, so
    ``C A^-T A^-1 C^T ~ IW(nu, C C^T)`` (as jax-moseq ``sample_invwishart`` does).

    Parameters
    ----------
    rng : numpy.random.Generator
    nu : float or array_like, shape (...)
        Degrees of freedom, each ``> M - 1``.
    scale : array_like, shape (..., M, M)
        Symmetric positive definite.

    Returns
    -------
    ndarray, shape (..., M, M)
    """
    scale = np.asarray(scale, dtype=float)
    M = scale.shape[-1]
    batch = scale.shape[:-2]
    nu = np.broadcast_to(np.asarray(nu, dtype=float), batch)
    if np.any(nu <= M - 1):
        raise ValueError(f"nu must exceed latent_dim - 1 = {M - 1}, got {np.min(nu)}")
    C = np.linalg.cholesky(_sym(scale))
    A = np.tril(rng.standard_normal(batch + (M, M)), -1)
    diag = np.sqrt(rng.chisquare(nu[..., None] - np.arange(M)))
    A[..., np.arange(M), np.arange(M)] = diag
    Tt = np.linalg.solve(A, np.swapaxes(C, -1, -2))  # A^-1 C^T
    return _sym(np.swapaxes(Tt, -1, -2) @ Tt)


def sample_matrix_normal(rng: np.random.Generator, mean, row_cov, col_cov) -> np.ndarray:
    """Matrix-normal draws ``MN(mean, row_cov, col_cov)``: ``vec(A) ~ N(vec(mean), col_cov kron
    row_cov)`` (column-major vec), batched over leading axes.

    Parameters
    ----------
    rng : numpy.random.Generator
    mean : array_like, shape (..., M, P)
    row_cov : array_like, shape (..., M, M)
    col_cov : array_like, shape (..., P, P)

    Returns
    -------
    ndarray, shape (..., M, P)
    """
    mean = np.asarray(mean, dtype=float)
    G = rng.standard_normal(mean.shape)
    Lr = np.linalg.cholesky(_sym(np.asarray(row_cov, dtype=float)))
    Lc = np.linalg.cholesky(_sym(np.asarray(col_cov, dtype=float)))
    return mean + Lr @ G @ np.swapaxes(Lc, -1, -2)


def sample_ar_params(rng: np.random.Generator, posterior: MNIWPosterior):
    """Draw ``Q ~ IW(nu_n, S_n)`` then ``Ab | Q ~ MN(M_n, Q, K_n)`` for every syllable.

    Returns
    -------
    ar_weights : ndarray, shape (num_states, M, P)
    ar_covs : ndarray, shape (num_states, M, M)
    """
    Q = sample_invwishart(rng, posterior.nu, posterior.S)
    return sample_matrix_normal(rng, posterior.M, Q, posterior.K), Q
