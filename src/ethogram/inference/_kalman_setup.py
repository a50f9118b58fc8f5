"""Set-up of the posterior precision for :mod:`ethogram.inference.kalman`: checks and factors.

Validates the arguments of the latent-pose sampler, turns each syllable's AR(L) dynamics
(and the "hold" transition of masked frames) into a quadratic factor over the blocks it
couples, the emission into per-frame precisions, and runs the banded kernels of
:mod:`._gmrf_kernels` on the result. Two layouts: one block per frame (``lag_noise = 0``, the
exact conditional of the AR-HMM's latent) or jax-moseq's companion chain over
``xi_i = [x_i .. x_{i+L-1}]`` with noisy lag copies (section 3.5 of
../shared/models/keypoint_moseq_model.md).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _gmrf_kernels as _k
from ._validation import as_float_array


class LatentDraw(NamedTuple):
    """A posterior draw and the log normaliser of its model.

    Attributes
    ----------
    states : ndarray, shape (T, dim)
        The draw, one row per frame.
    log_normalizer : float
        ``log p(observations | syllables, parameters)`` of the linear Gaussian model that was
        sampled (its own priors and masking included; the jitter does not enter it).
    """

    states: np.ndarray
    log_normalizer: float


# --------------------------------------------------------------------------------- checks


def _positive(value, name: str, allow_inf: bool = False) -> float:
    v = float(value)
    if not (v > 0.0) or (np.isinf(v) and not allow_inf) or np.isnan(v):
        extra = " (or inf)" if allow_inf else ""
        raise ValueError(f"{name} must be a positive number{extra}, got {value!r}")
    return v


def _nonnegative(value, name: str) -> float:
    v = float(value)
    if not (v >= 0.0) or not np.isfinite(v):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def _finite(arr: np.ndarray, name: str) -> np.ndarray:
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; give finite values (fill gaps first)")
    return arr


def _check_mask(mask, T: int) -> np.ndarray:
    if mask is None:
        return np.ones(T, dtype=bool)
    m = np.asarray(mask)
    if m.shape != (T,):
        raise ValueError(f"mask must have shape ({T},) (one entry per frame), got {m.shape}")
    if m.dtype != bool and not np.all((m == 0) | (m == 1)):
        raise ValueError("mask must hold booleans or 0/1 (1 = real frame, 0 = padding)")
    return m.astype(bool)


def _check_obs(obs, obs_var, emission_matrix, emission_offset):
    y = _finite(as_float_array(obs, "obs", 2), "obs")
    T, p = y.shape
    r = _finite(as_float_array(obs_var, "obs_var", 2), "obs_var")
    if r.shape != (T, p):
        raise ValueError(f"obs_var must have the shape of obs {y.shape}, got {r.shape}")
    if np.any(r <= 0):
        raise ValueError(
            "obs_var must be > 0 everywhere (a noise variance per frame and coordinate)"
        )
    H = _finite(as_float_array(emission_matrix, "emission_matrix", 2), "emission_matrix")
    if H.shape[0] != p:
        raise ValueError(f"emission_matrix must have shape ({p}, latent_dim), got {H.shape}")
    d = _finite(as_float_array(emission_offset, "emission_offset", 1), "emission_offset")
    if d.shape != (p,):
        raise ValueError(f"emission_offset must have shape ({p},), got {d.shape}")
    return y, r, H, d


def _check_ar(ar_weights, ar_covs, syllables, T: int, M: int):
    Ab = _finite(as_float_array(ar_weights, "ar_weights", 3), "ar_weights")
    S = Ab.shape[0]
    if Ab.shape[1] != M or (Ab.shape[2] - 1) % M or Ab.shape[2] < M + 1:
        raise ValueError(
            f"ar_weights must have shape (num_states, {M}, {M} * num_lags + 1) = [A_1 ... A_L | b] "
            f"with latent_dim {M} from emission_matrix, got {Ab.shape}"
        )
    L = (Ab.shape[2] - 1) // M
    Q = _finite(as_float_array(ar_covs, "ar_covs", 3), "ar_covs")
    if Q.shape != (S, M, M):
        raise ValueError(f"ar_covs must have shape ({S}, {M}, {M}), got {Q.shape}")
    if T <= L:
        raise ValueError(f"obs has {T} frames but num_lags is {L}; give more than num_lags frames")
    z = np.asarray(syllables)
    if z.shape != (T - L,):
        raise ValueError(
            f"syllables must have shape ({T - L},): syllables[i] is the syllable of frame i + "
            f"num_lags, as in jax-moseq; got {z.shape}"
        )
    if not np.issubdtype(z.dtype, np.integer) or (z.size and (z.min() < 0 or z.max() >= S)):
        raise ValueError(f"syllables must be integers in [0, {S}) (rows of ar_weights)")
    return Ab, Q, z.astype(np.int64), L


# ------------------------------------------------------------------------- factor tables


def _whitened_factor(B, target, chol):
    """Quadratic form of ``log N(B u; target, chol chol^T)`` in u: (prec, lin, const)."""
    W = np.linalg.solve(chol, B)  # (n, M, width)
    c = np.linalg.solve(chol, target[..., None])[..., 0]
    prec = np.einsum("sai,saj->sij", W, W)
    lin = np.einsum("sai,sa->si", W, c)
    half_logdet = np.log(np.abs(np.diagonal(chol, axis1=1, axis2=2))).sum(axis=1)
    const = -0.5 * (c**2).sum(axis=1) - half_logdet - 0.5 * B.shape[1] * _k.LOG_2PI
    return prec, lin, const


def _ar_chol(Q: np.ndarray, used: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.cholesky(Q[used])
    except np.linalg.LinAlgError:
        raise ValueError(
            "ar_covs must be symmetric positive definite for every used syllable"
        ) from None


def _exact_tables(Ab, Q, used, L, masked_var):
    """Factors on (x_{t-L}, ..., x_t) for the used syllables (+ the masked 'hold' factor)."""
    M = Q.shape[1]
    A = Ab[used, :, :-1]
    B = np.concatenate([-A, np.broadcast_to(np.eye(M), (len(used), M, M))], axis=2)
    prec, lin, const = _whitened_factor(B, Ab[used, :, -1], _ar_chol(Q, used))
    if masked_var is not None:
        hold = np.zeros((1, M, (L + 1) * M))
        hold[0, :, -2 * M : -M] = -np.eye(M)
        hold[0, :, -M:] = np.eye(M)
        chol = np.sqrt(masked_var) * np.eye(M)[None]
        extra = _whitened_factor(hold, np.zeros((1, M)), chol)
        prec, lin, const = (
            np.concatenate([a, b]) for a, b in zip((prec, lin, const), extra, strict=True)
        )
    return prec, lin, const


def _companion_tables(Ab, Q, used, L, lag_noise, masked_var):
    """Factors on (xi_i, xi_{i+1}) of the companion-form chain (section 3.5)."""
    M = Q.shape[1]
    N = M * L
    n = len(used)
    F = np.zeros((n, N, N))
    F[:, : N - M, M:] = np.eye(N - M)
    F[:, N - M :, :] = Ab[used, :, :-1]
    B = np.concatenate([-F, np.broadcast_to(np.eye(N), (n, N, N))], axis=2)
    target = np.zeros((n, N))
    target[:, N - M :] = Ab[used, :, -1]
    chol = np.zeros((n, N, N))
    chol[:, : N - M, : N - M] = np.sqrt(lag_noise) * np.eye(N - M)
    chol[:, N - M :, N - M :] = _ar_chol(Q, used)
    prec, lin, const = _whitened_factor(B, target, chol)
    if masked_var is not None:
        hold = np.zeros((1, N, 2 * N))
        hold[0, N - M :, N - M : N] = -np.eye(M)
        hold[0, :, N:] = np.eye(N)
        extra = _whitened_factor(hold, np.zeros((1, N)), np.sqrt(masked_var) * np.eye(N)[None])
        prec, lin, const = (
            np.concatenate([a, b]) for a, b in zip((prec, lin, const), extra, strict=True)
        )
    return prec, lin, const


# ---------------------------------------------------------------------------- the sampler


def _emission_terms(y, prec, H, d, with_const=True):
    """Per-frame precision ``H^T diag(prec_t) H`` (T, M, M), linear term and total constant
    (NaN unless ``with_const``: only the log normaliser reads it)."""
    M = H.shape[1]
    outer = (H[:, :, None] * H[:, None, :]).reshape(H.shape[0], M * M)
    resid = y - d
    frame_prec = (prec @ outer).reshape(-1, M, M)
    frame_lin = (prec * resid) @ H
    if not with_const:
        return frame_prec, frame_lin, float("nan")
    seen = prec > 0
    const = -0.5 * float(np.sum(prec * resid**2)) + 0.5 * float(
        np.sum(np.log(prec[seen])) - seen.sum() * _k.LOG_2PI
    )
    return frame_prec, frame_lin, const


class _Problem(NamedTuple):
    band_shape: tuple
    args: tuple  # arguments of assemble_band after band and lin
    const: float
    readout: object
    jitter_sd: float


def _ar_problem(
    obs,
    obs_var,
    emission_matrix,
    emission_offset,
    ar_weights,
    ar_covs,
    syllables,
    mask,
    *,
    lag_noise=1e-2,
    jitter=1e-3,
    initial_var=10.0,
    masked_obs_var=10.0,
    masked_dynamics_var=10.0,
    observe_first_frames=None,
    log_normalizer=True,
):
    y, r, H, d = _check_obs(obs, obs_var, emission_matrix, emission_offset)
    T, M = y.shape[0], H.shape[1]
    Ab, Q, z, L = _check_ar(ar_weights, ar_covs, syllables, T, M)
    mask = _check_mask(mask, T)
    lag_noise = _nonnegative(lag_noise, "lag_noise")
    jitter = _nonnegative(jitter, "jitter")
    initial_prec = 1.0 / _positive(initial_var, "initial_var")
    masked_prec = 1.0 / _positive(masked_obs_var, "masked_obs_var", allow_inf=True)
    hold = (
        None
        if masked_dynamics_var is None
        else _positive(masked_dynamics_var, "masked_dynamics_var")
    )

    used, zc = np.unique(z, return_inverse=True)
    source_masked = ~mask[L - 1 : T - 1]  # source frame of the transition into frame t = i + L
    dyn = zc.astype(np.int64)
    if hold is not None:
        dyn[source_masked] = len(used)
    prec = np.where(mask[:, None], 1.0 / r, masked_prec)
    observe_first = lag_noise == 0.0 if observe_first_frames is None else bool(observe_first_frames)
    if not observe_first:
        prec[: L - 1] = 0.0
    elif lag_noise > 0.0:
        prec[: L - 1] = 1.0 / r[: L - 1]  # the conditioned prior of section 3.5 ignores the mask
    if lag_noise == 0.0:
        tables = _exact_tables(Ab, Q, used, L, hold)
        nb, m, w = T, M, L
        block = np.arange(T, dtype=np.int64)
        pos = np.zeros(T, dtype=np.int64)
        prior = np.where(np.arange(T) < L, initial_prec, 0.0)
        factor_index = np.concatenate([np.full(L, -1, np.int64), dyn])

        def readout(blocks):
            return blocks
    else:
        tables = _companion_tables(Ab, Q, used, L, lag_noise, hold)
        nb, m, w = T - L + 1, M * L, 1
        frames = np.arange(T)
        block = np.maximum(frames - (L - 1), 0).astype(np.int64)
        pos = np.where(frames < L - 1, frames * M, (L - 1) * M).astype(np.int64)
        prior = np.zeros(nb)
        prior[0] = initial_prec
        factor_index = np.concatenate([[-1], dyn]).astype(np.int64)

        def readout(blocks):
            first = blocks[..., 0, : (L - 1) * M].reshape(blocks.shape[:-2] + (L - 1, M))
            return np.concatenate([first, blocks[..., -M:]], axis=-2)

    frame_prec, frame_lin, em_const = _emission_terms(y, prec, H, d, log_normalizer)
    args = (
        frame_prec,
        frame_lin,
        block,
        pos,
        prior,
        factor_index,
        *(np.ascontiguousarray(a) for a in tables),
    )
    return _Problem((nb, w + 1, m, m), args, em_const, readout, float(np.sqrt(jitter)))


def _run(problem: _Problem, normals, jitter_normals) -> LatentDraw:
    nb, _, m, _ = problem.band_shape
    band = np.zeros(problem.band_shape)
    lin = np.zeros((nb, m))
    const = problem.const + _k.assemble_band(band, lin, *problem.args)
    inv_diag = np.empty((nb, m))
    bad = _k.factor_band(band, inv_diag)
    if bad >= 0:
        raise ValueError(
            f"the posterior precision is not positive definite at block {bad}; check that "
            "obs_var, ar_covs and the variances are positive and not extreme in ratio"
        )
    w = np.empty((nb, m))
    logdet = _k.forward_solve(band, inv_diag, lin, w)
    log_norm = const + 0.5 * nb * m * _k.LOG_2PI - logdet + 0.5 * float(np.sum(w * w))
    eps = _as_normals(normals, (nb, m), "normals")
    jsd = problem.jitter_sd if jitter_normals is not None else 0.0
    jn = _as_normals(jitter_normals, (nb, m), "jitter_normals") if jsd > 0 else np.zeros_like(eps)
    if jn.shape != eps.shape:
        raise ValueError(
            f"jitter_normals must have the shape of normals {eps.shape}, got {jn.shape}"
        )
    x = np.empty(eps.shape)
    for i in np.ndindex(eps.shape[:-2]):  # several draws share one factorisation
        _k.backward_sample(band, inv_diag, w + eps[i], jn[i], jsd, x[i])
    return LatentDraw(problem.readout(x), float(log_norm))


def _as_normals(normals, shape, name):
    e = np.asarray(normals, dtype=float)
    if e.shape[-2:] != shape or e.ndim > 3:
        raise ValueError(
            f"{name} must have shape {shape} or (num_draws, *{shape}) (see "
            f"ar_lds_noise_shape), got {e.shape}"
        )
    return np.ascontiguousarray(e)
