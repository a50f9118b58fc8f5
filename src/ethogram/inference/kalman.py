"""Posterior draws of Gaussian latent trajectories: keypoint-MoSeq's pose and centroid samplers.

Two linear Gaussian state space models, each sampled exactly from its posterior given the
observations (forward filtering backward sampling, done with the banded Cholesky factor of
the posterior precision, see :mod:`._gmrf_kernels`): the latent pose ``x`` of the keypoint
SLDS, whose dynamics are the AR(L) of the syllable of each frame and whose emission is a
fixed linear map of the newest frame with a diagonal noise per frame (Weinreb et al. 2024,
Nature Methods 21, keypoint-MoSeq; jax-moseq ``utils/kalman.py`` and ``models/slds/gibbs.py``),
and the centroid ``v``, a random walk seen through isotropic pseudo-observations (jax-moseq
``models/keypoint_slds/gibbs.py``, ``resample_location``). Arrays in, arrays out; the
randomness is a ``numpy.random.Generator`` or pre-drawn standard normals, so a draw for a seed
is the same on any number of threads. ../shared/models/keypoint_moseq_model.md sections 3.5
and 3.7 describe what jax-moseq does; the docstrings say where these functions follow it.
"""

from __future__ import annotations

import re

import numpy as np

from . import _gmrf_kernels as _k
from ._kalman_setup import (
    LatentDraw,
    _ar_problem,
    _check_mask,
    _finite,
    _positive,
    _run,
)
from ._validation import as_float_array

__all__ = [
    "LatentDraw",
    "ar_lds_from_normals",
    "ar_lds_noise_shape",
    "ar_lds_posterior_mean",
    "random_walk_from_normals",
    "random_walk_posterior_mean",
    "sample_ar_lds",
    "sample_random_walk",
]


def ar_lds_noise_shape(num_frames: int, latent_dim: int, num_lags: int, lag_noise: float = 1e-2):
    """Shape of the standard normals one draw of :func:`ar_lds_from_normals` consumes.

    ``(num_frames, latent_dim)`` when ``lag_noise == 0`` (one block per frame), else
    ``(num_frames - num_lags + 1, latent_dim * num_lags)`` (one companion state per step).
    ``jitter_normals`` has the same shape.
    """
    if lag_noise == 0:
        return (int(num_frames), int(latent_dim))
    return (int(num_frames) - int(num_lags) + 1, int(latent_dim) * int(num_lags))


def _with_parameters(parameters: str):
    """Put the shared parameter descriptions in a function's docstring at its
    ``<<... parameters>>`` marker (the samplers and their ``*_from_normals`` twins share them)."""

    def put(function):
        if function.__doc__:  # None under python -OO
            function.__doc__ = re.sub(r"<<\w+ parameters>>", lambda _: parameters, function.__doc__)
        return function

    return put


_AR_DOC_PARAMS = """
    obs : array_like, shape (T, obs_dim)
        Observations ``y_t`` (for keypoints: ``vec(R(-h_t)(Y_t - v_t))``).
    obs_var : array_like, shape (T, obs_dim)
        Diagonal emission variance per frame and coordinate (for keypoints: ``s_tk sigmasq_k``
        repeated over the D coordinates).
    emission_matrix : array_like, shape (obs_dim, latent_dim)
        ``H``: ``y_t = H x_t + emission_offset + N(0, diag(obs_var[t]))``.
    emission_offset : array_like, shape (obs_dim,)
    ar_weights : array_like, shape (num_states, latent_dim, latent_dim * num_lags + 1)
        ``[A_1 ... A_L | b]`` per syllable with the lag blocks **oldest first** (jax-moseq's
        ``Ab``): ``x_t = A_1 x_{t-L} + ... + A_L x_{t-1} + b + N(0, Q)``.
    ar_covs : array_like, shape (num_states, latent_dim, latent_dim)
        ``Q`` per syllable, symmetric positive definite.
    syllables : array_like of int, shape (T - num_lags,)
        ``syllables[i]`` is the syllable of frame ``i + num_lags`` (jax-moseq's ``z``).
    mask : array_like of bool, shape (T,), optional
        1 for real frames, 0 for padding. A masked frame is observed with variance
        ``masked_obs_var`` and the transition out of it holds the newest frame with variance
        ``masked_dynamics_var`` (jax-moseq's treatment). Default: all frames real.
    lag_noise : float, default 1e-2
        Variance of the lag copies in the companion form (section 3.5). ``1e-2`` is jax-moseq's
        hard-coded value and samples its regularised chain over ``xi_i = [x_i .. x_{i+L-1}]``.
        ``0`` samples the exact conditional of the AR-HMM's ``x``: one block per frame, the lags
        being the earlier frames themselves (about three times faster).
    jitter : float, default 1e-3
        Added to each backward conditional covariance (to every block but the last), as
        jax-moseq's serial path does (dynamax ``lgssm_posterior_sample(jitter=...)``); ``0``
        gives draws from the exact posterior of the chosen model.
    initial_var : float, default 10
        Prior ``N(0, initial_var I)`` on each of ``x_0 .. x_{L-1}``.
    masked_obs_var : float, default 10
        Emission variance of masked frames; ``inf`` drops their observations.
    masked_dynamics_var : float or None, default 10
        Variance of the "hold" transition out of a masked frame (the companion state's newest
        block is kept, the others reset, as jax-moseq does; with ``lag_noise=0``:
        ``x_t ~ N(x_{t-1}, masked_dynamics_var I)``); ``None`` keeps the syllable's dynamics.
    observe_first_frames : bool or None, default None
        Whether the first ``L - 1`` frames' observations enter. None: not with ``lag_noise > 0``,
        as jax-moseq 0.3.3 to 0.3.7 does (it computes the prior conditioned on them, then hands
        the unconditioned one to the sampler), and yes, as masked, with ``lag_noise = 0``.
        True with ``lag_noise > 0`` gives the conditioning section 3.5 describes (mask ignored)."""


@_with_parameters(_AR_DOC_PARAMS)
def ar_lds_from_normals(
    normals,
    obs,
    obs_var,
    emission_matrix,
    emission_offset,
    ar_weights,
    ar_covs,
    syllables,
    mask=None,
    *,
    jitter_normals=None,
    lag_noise=1e-2,
    jitter=1e-3,
    initial_var=10.0,
    masked_obs_var=10.0,
    masked_dynamics_var=10.0,
    observe_first_frames=None,
) -> LatentDraw:
    """Posterior draw of the latent pose of an SLDS with AR(L) dynamics, from given normals.

    A deterministic, affine map from standard normals to a draw: ``normals`` (shape from
    :func:`ar_lds_noise_shape`) drive the draw, ``jitter_normals`` (same shape) the jitter.
    With zero normals and ``jitter=0`` it returns the posterior mean. A leading axis of
    ``normals`` gives that many independent draws for the price of one factorisation.

    Parameters
    ----------
    normals : array_like
        Standard normal draws, shape ``ar_lds_noise_shape(T, latent_dim, num_lags, lag_noise)``,
        or ``(num_draws, *that)``.
    <<ar parameters>>
    jitter_normals : array_like, optional
        Standard normals for the jitter (required for it to act when ``jitter > 0``).

    Returns
    -------
    LatentDraw
        ``states`` (T, latent_dim), or (num_draws, T, latent_dim), and the log normaliser
        ``log p(obs | syllables, params)``.

    Raises
    ------
    ValueError
        On a shape, a non-finite value, a non-positive variance or covariance, or syllables
        out of range, naming the argument.
    """
    problem = _ar_problem(
        obs,
        obs_var,
        emission_matrix,
        emission_offset,
        ar_weights,
        ar_covs,
        syllables,
        mask,
        lag_noise=lag_noise,
        jitter=jitter,
        initial_var=initial_var,
        masked_obs_var=masked_obs_var,
        masked_dynamics_var=masked_dynamics_var,
        observe_first_frames=observe_first_frames,
    )
    return _run(problem, normals, jitter_normals)


@_with_parameters(_AR_DOC_PARAMS)
def sample_ar_lds(
    rng,
    obs,
    obs_var,
    emission_matrix,
    emission_offset,
    ar_weights,
    ar_covs,
    syllables,
    mask=None,
    *,
    lag_noise=1e-2,
    jitter=1e-3,
    initial_var=10.0,
    masked_obs_var=10.0,
    masked_dynamics_var=10.0,
    observe_first_frames=None,
    log_normalizer=True,
) -> LatentDraw:
    """Draw the latent pose ``x`` of an SLDS with AR(L) dynamics from its posterior.

    Keypoint-MoSeq's update of ``x`` (section 3.5 of the model notes; jax-moseq
    ``slds.gibbs.resample_continuous_stateseqs`` on its serial path) with its defaults.
    Cost and memory are linear in T; the normals come from ``rng`` (normals for the draw
    first, then for the jitter if ``jitter > 0``).

    Parameters
    ----------
    rng : numpy.random.Generator
    <<ar parameters>>
    log_normalizer : bool, default True
        False skips the emission's constants (a logarithm per observed coordinate and frame)
        and returns NaN as the log normaliser; the draw is the same (a Gibbs sweep that never
        reads it).

    Returns
    -------
    LatentDraw
        ``states`` (T, latent_dim) and the log normaliser ``log p(obs | syllables, params)``.
    """
    problem = _ar_problem(
        obs,
        obs_var,
        emission_matrix,
        emission_offset,
        ar_weights,
        ar_covs,
        syllables,
        mask,
        lag_noise=lag_noise,
        jitter=jitter,
        initial_var=initial_var,
        masked_obs_var=masked_obs_var,
        masked_dynamics_var=masked_dynamics_var,
        observe_first_frames=observe_first_frames,
        log_normalizer=bool(log_normalizer),
    )
    nb, _, m, _ = problem.band_shape
    normals = rng.standard_normal((nb, m))
    jn = rng.standard_normal((nb, m)) if problem.jitter_sd > 0 else None
    return _run(problem, normals, jn)


def ar_lds_posterior_mean(
    obs,
    obs_var,
    emission_matrix,
    emission_offset,
    ar_weights,
    ar_covs,
    syllables,
    mask=None,
    **options,
) -> LatentDraw:
    """Posterior mean of the latent pose and the log normaliser (same arguments as
    :func:`sample_ar_lds` without ``rng``; ``jitter`` is ignored)."""
    options["jitter"] = 0.0
    problem = _ar_problem(
        obs,
        obs_var,
        emission_matrix,
        emission_offset,
        ar_weights,
        ar_covs,
        syllables,
        mask,
        **options,
    )
    nb, _, m, _ = problem.band_shape
    return _run(problem, np.zeros((nb, m)), None)


# ------------------------------------------------------------------------ the random walk


def _rw_problem(obs, obs_var, step_var, mask, initial_var, masked_obs_var, masked_step_scale):
    y = _finite(as_float_array(obs, "obs", 2), "obs")
    T = y.shape[0]
    if T == 0:
        raise ValueError("obs has no frames; give at least one")
    g = (
        np.broadcast_to(np.asarray(obs_var, dtype=float), (T,))
        if np.ndim(obs_var) == 0
        else (as_float_array(obs_var, "obs_var", 1))
    )
    if g.shape != (T,):
        raise ValueError(f"obs_var must be a number or have shape ({T},), got {g.shape}")
    q = (
        np.broadcast_to(np.asarray(step_var, dtype=float), (T - 1,))
        if np.ndim(step_var) == 0
        else (as_float_array(step_var, "step_var", 1))
    )
    if q.shape != (T - 1,):
        raise ValueError(f"step_var must be a number or have shape ({T - 1},), got {q.shape}")
    for arr, name in ((g, "obs_var"), (q, "step_var")):
        if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise ValueError(f"{name} must be finite and > 0 (a variance)")
    mask = _check_mask(mask, T)
    masked_prec = 1.0 / _positive(masked_obs_var, "masked_obs_var", allow_inf=True)
    scale = _positive(masked_step_scale, "masked_step_scale")
    obs_prec = np.where(mask, 1.0 / g, masked_prec)
    step_prec = 1.0 / np.where(mask[:-1], q, q * scale)
    initial_prec = 1.0 / _positive(initial_var, "initial_var")
    return y, np.ascontiguousarray(obs_prec), np.ascontiguousarray(step_prec), initial_prec


_RW_DOC_PARAMS = """
    obs : array_like, shape (T, D)
        Pseudo-observations ``mu_t`` of the centroid.
    obs_var : float or array_like, shape (T,)
        Isotropic variance ``g_t`` of each pseudo-observation.
    step_var : float or array_like, shape (T - 1,)
        Variance of each step ``v_t - v_{t-1}`` per coordinate (keypoint-MoSeq's
        ``sigmasq_loc``).
    mask : array_like of bool, shape (T,), optional
        1 for real frames. A masked frame is observed with variance ``masked_obs_var`` and
        the step out of it has variance ``step_var * masked_step_scale``.
    initial_var : float, default 1e4
        Prior ``v_0 ~ N(0, initial_var I)``.
    masked_obs_var : float, default 10
        jax-moseq uses ``10 * max(sigmasq)`` (10 with its defaults); ``inf`` drops the frame.
    masked_step_scale : float, default 10"""


@_with_parameters(_RW_DOC_PARAMS)
def random_walk_from_normals(
    normals,
    obs,
    obs_var,
    step_var,
    mask=None,
    *,
    initial_var=1e4,
    masked_obs_var=10.0,
    masked_step_scale=10.0,
) -> LatentDraw:
    """Posterior draw of a Gaussian random walk from given standard normals (shape (T, D)).

    The model of keypoint-MoSeq's centroid (section 3.7 of the model notes; jax-moseq
    ``keypoint_slds.gibbs.resample_location``): ``v_0 ~ N(0, initial_var I)``,
    ``v_t = v_{t-1} + N(0, step_var I)``, ``obs_t = v_t + N(0, obs_var_t I)``. Every
    coordinate is an independent scalar chain sharing one tridiagonal factor. Zero normals
    give the posterior mean. jax-moseq samples it without jitter, as here.

    Parameters
    ----------
    normals : array_like, shape (T, D)
    <<rw parameters>>

    Returns
    -------
    LatentDraw
        ``states`` (T, D) and ``log p(obs)`` under the model.

    Raises
    ------
    ValueError
        On a shape, a non-finite value or a non-positive variance, naming the argument.
    """
    y, obs_prec, step_prec, initial_prec = _rw_problem(
        obs, obs_var, step_var, mask, initial_var, masked_obs_var, masked_step_scale
    )
    eps = as_float_array(normals, "normals", 2)
    if eps.shape != y.shape:
        raise ValueError(f"normals must have the shape of obs {y.shape}, got {eps.shape}")
    out = np.empty_like(y)
    status, log_norm = _k.random_walk_kernel(y, obs_prec, step_prec, initial_prec, eps, out)
    if status >= 0:  # pragma: no cover - positive variances make every pivot positive
        raise ValueError(
            f"the random walk's precision lost positive definiteness at frame {status}"
        )
    return LatentDraw(out, float(log_norm))


@_with_parameters(_RW_DOC_PARAMS)
def sample_random_walk(
    rng,
    obs,
    obs_var,
    step_var,
    mask=None,
    *,
    initial_var=1e4,
    masked_obs_var=10.0,
    masked_step_scale=10.0,
) -> LatentDraw:
    """Draw a Gaussian random walk (keypoint-MoSeq's centroid) from its posterior.

    See :func:`random_walk_from_normals`; the normals are ``rng.standard_normal((T, D))``.

    Parameters
    ----------
    rng : numpy.random.Generator
    <<rw parameters>>

    Returns
    -------
    LatentDraw
    """
    y = np.asarray(obs)
    normals = rng.standard_normal(y.shape) if y.ndim == 2 else np.zeros((0, 0))
    return random_walk_from_normals(
        normals,
        obs,
        obs_var,
        step_var,
        mask,
        initial_var=initial_var,
        masked_obs_var=masked_obs_var,
        masked_step_scale=masked_step_scale,
    )


def random_walk_posterior_mean(obs, obs_var, step_var, mask=None, **options) -> LatentDraw:
    """Posterior mean of the random walk and ``log p(obs)`` (arguments of
    :func:`sample_random_walk` without ``rng``)."""
    y = np.asarray(obs)
    return random_walk_from_normals(np.zeros(y.shape), obs, obs_var, step_var, mask, **options)
