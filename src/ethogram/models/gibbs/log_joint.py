"""Log joint of the sticky HDP-ARHMM and the keypoint SLDS, group by group, as jax-moseq sums it.

Section 4 of ../shared/models/keypoint_moseq_model.md (jax-moseq ``models/arhmm/log_prob.py``,
``models/slds/log_prob.py``, ``models/keypoint_slds/log_prob.py``, ``model_likelihood``): the
ARHMM contributes ``z`` and ``x``, the keypoint SLDS adds ``Y``, ``s`` and ``v``; each is a
sum over the unmasked frames of one sequence (sums over sequences add). Priors on ``beta``,
``pi``, ``(Ab, Q)``, ``sigmasq``, the heading, the first syllable and the first L latent frames
are not part of it, as there. Also :func:`ar_log_likes`, the per-syllable AR log-likelihoods
that the syllable sampler needs.
"""

from __future__ import annotations

import numpy as np

from .keypoints import estimate_keypoints, squared_errors

__all__ = [
    "ar_log_likes",
    "log_joint_arhmm",
    "log_joint_keypoint_slds",
    "log_prob_centroid",
    "log_prob_keypoints",
    "log_prob_latents",
    "log_prob_noise_scales",
    "log_prob_syllables",
]

LOG_2PI = float(np.log(2 * np.pi))


def _mask(mask, T: int) -> np.ndarray:
    if mask is None:
        return np.ones(T)
    m = np.asarray(mask, dtype=float)
    if m.shape != (T,):
        raise ValueError(f"mask must have shape ({T},) (one entry per frame), got {m.shape}")
    return m


def ar_log_likes(x, ar_weights, ar_covs) -> np.ndarray:
    """``log N(x_t; A_s u_t + b_s, Q_s)`` for every frame t >= L and syllable s.

    Parameters
    ----------
    x : array_like, shape (T, M)
    ar_weights : array_like, shape (S, M, M*L + 1)
        ``[A_1 ... A_L | b]``, lag blocks oldest first (jax-moseq's ``Ab``).
    ar_covs : array_like, shape (S, M, M)

    Returns
    -------
    ndarray, shape (T - L, S)
        Row i is frame ``i + L`` (jax-moseq ``ar_log_likelihood``).
    """
    x = np.asarray(x, dtype=float)
    Ab = np.asarray(ar_weights, dtype=float)
    Q = np.asarray(ar_covs, dtype=float)
    T, M = x.shape
    L = (Ab.shape[2] - 1) // M
    if Ab.shape[1:] != (M, M * L + 1) or Q.shape != (Ab.shape[0], M, M) or T <= L:
        raise ValueError(
            f"ar_weights must be (S, {M}, {M}*L + 1) and ar_covs (S, {M}, {M}) with T > L; got "
            f"{Ab.shape}, {Q.shape}, T={T}"
        )
    S = Ab.shape[0]
    U = np.concatenate(
        [x[L:]] + [x[lag : T - L + lag] for lag in range(L)] + [np.ones((T - L, 1))], axis=1
    )  # rows [x_t, u_t]
    chol = np.linalg.cholesky(Q)
    # whitened residual of every syllable in one product: L_s^-1 (x_t - Ab_s u_t)
    W = np.linalg.solve(chol, np.concatenate([np.broadcast_to(np.eye(M), (S, M, M)), -Ab], axis=2))
    white = (U @ W.reshape(S * M, -1).T).reshape(T - L, S, M)
    half_logdet = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    return -0.5 * np.einsum("tsm,tsm->ts", white, white) - half_logdet - 0.5 * M * LOG_2PI


def log_prob_syllables(syllables, transition_matrix, num_lags: int, mask=None) -> float:
    """``sum_{t=L+1}^{T-1} mask_t log pi[z_{t-1}, z_t]`` (no term for the first syllable).

    ``syllables`` has shape (T - L,); ``mask`` (T,). An impossible transition gives ``-inf``
    on a real frame and nothing on a masked one (jax-moseq's ``log(0) * 0`` would be NaN).
    """
    z = np.asarray(syllables)
    pi = np.asarray(transition_matrix, dtype=float)
    m = _mask(mask, len(z) + int(num_lags))[int(num_lags) + 1 :]
    keep = m > 0
    with np.errstate(divide="ignore"):
        logp = np.log(pi[z[:-1][keep], z[1:][keep]])
    return float(np.sum(m[keep] * logp))


def log_prob_latents(x, syllables, ar_weights, ar_covs, mask=None) -> float:
    """``sum_{t>=L} mask_t log N(x_t; A_{z_t} u_t + b_{z_t}, Q_{z_t})`` (normalised)."""
    ll = ar_log_likes(x, ar_weights, ar_covs)
    z = np.asarray(syllables)
    m = _mask(mask, np.asarray(x).shape[0])[np.asarray(x).shape[0] - len(z) :]
    return float(np.sum(m * ll[np.arange(len(z)), z]))


def log_prob_keypoints(keypoints, predicted, noise_var, mask=None) -> float:
    """``sum_t mask_t sum_k log N_D(Y_tk; Yhat_tk, var_tk I)`` with ``var = s sigmasq``."""
    Y = np.asarray(keypoints, dtype=float)
    var = np.asarray(noise_var, dtype=float)
    D = Y.shape[-1]
    per = -0.5 * D * (LOG_2PI + np.log(var)) - 0.5 * squared_errors(Y, predicted) / var
    return float(np.sum(_mask(mask, Y.shape[0])[:, None] * per))


def log_prob_noise_scales(
    scales, noise_prior, nu_s: float, mask=None, normalized: bool = False
) -> float:
    """Scaled-inverse-chi-square log prior of the noise scales ``s``.

    jax-moseq's ``scale_log_prob`` drops the constant: ``-nu s0 / (2 s) - (1 + nu/2) log s``
    per frame and keypoint (the default here). ``normalized=True`` adds
    ``(nu/2) log(nu s0 / 2) - lgamma(nu/2)``, giving the log density.
    """
    s = np.asarray(scales, dtype=float)
    s0 = np.broadcast_to(np.asarray(noise_prior, dtype=float), s.shape)
    nu = float(nu_s)
    per = -nu * s0 / (2 * s) - (1 + nu / 2) * np.log(s)
    if normalized:
        from scipy.special import gammaln  # only here: scipy.special is slow to import

        per = per + 0.5 * nu * np.log(nu * s0 / 2) - gammaln(nu / 2)
    return float(np.sum(_mask(mask, s.shape[0])[:, None] * per))


def log_prob_centroid(centroid, sigmasq_loc: float, mask=None) -> float:
    """``sum_{t>=1} mask_t log N_D(v_t; v_{t-1}, sigmasq_loc I)`` (no term for ``v_0``)."""
    v = np.asarray(centroid, dtype=float)
    D = v.shape[-1]
    step = np.sum(np.diff(v, axis=0) ** 2, axis=-1)
    per = -0.5 * D * (LOG_2PI + np.log(sigmasq_loc)) - 0.5 * step / sigmasq_loc
    return float(np.sum(_mask(mask, v.shape[0])[1:] * per))


def log_joint_arhmm(x, syllables, transition_matrix, ar_weights, ar_covs, mask=None) -> dict:
    """``{"z": ..., "x": ...}`` of one sequence (jax-moseq ``arhmm.log_joint_likelihood``)."""
    x = np.asarray(x, dtype=float)
    Ab = np.asarray(ar_weights)
    L = (Ab.shape[2] - 1) // x.shape[1]
    return {
        "z": log_prob_syllables(syllables, transition_matrix, L, mask),
        "x": log_prob_latents(x, syllables, ar_weights, ar_covs, mask),
    }


def log_joint_keypoint_slds(
    keypoints,
    x,
    centroid,
    heading,
    scales,
    syllables,
    transition_matrix,
    ar_weights,
    ar_covs,
    loadings,
    offset,
    noise_prior,
    nu_s: float,
    sigmasq_loc: float,
    sigmasq=1.0,
    mask=None,
) -> dict:
    """``{"z", "x", "Y", "s", "v"}`` of one sequence (jax-moseq ``keypoint_slds``
    ``log_joint_likelihood``).

    Parameters
    ----------
    keypoints : array_like, shape (T, K, D)
    x : array_like, shape (T, M)
    centroid : array_like, shape (T, D)
    heading : array_like, shape (T,)
    scales : array_like, shape (T, K)
        ``s``.
    syllables : array_like of int, shape (T - L,)
    transition_matrix : array_like, shape (S, S)
    ar_weights, ar_covs : array_like
        ``Ab`` (S, M, ML+1) and ``Q`` (S, M, M).
    loadings, offset : array_like
        ``C`` ((K-1)D, M) and ``d`` ((K-1)D,).
    noise_prior : array_like, shape (T, K)
        ``s0``.
    nu_s, sigmasq_loc : float
    sigmasq : float or array_like, shape (K,), default 1
    mask : array_like, shape (T,), optional

    Returns
    -------
    dict of float
    """
    out = log_joint_arhmm(x, syllables, transition_matrix, ar_weights, ar_covs, mask)
    Yhat = estimate_keypoints(x, centroid, heading, loadings, offset)
    s = np.asarray(scales, dtype=float)
    out["Y"] = log_prob_keypoints(keypoints, Yhat, s * np.asarray(sigmasq, dtype=float), mask)
    out["s"] = log_prob_noise_scales(s, noise_prior, nu_s, mask)
    out["v"] = log_prob_centroid(centroid, sigmasq_loc, mask)
    return out
