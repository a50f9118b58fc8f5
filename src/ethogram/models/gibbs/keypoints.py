"""Keypoint-SLDS geometry and the conditionals of heading, noise scales and centroid evidence.

keypoint-MoSeq's emission (Weinreb et al. 2024, Nature Methods 21; sections 1.3, 3.4, 3.6-3.8
and 6 of ../shared/models/keypoint_moseq_model.md; jax-moseq ``models/keypoint_slds/
{alignment.py, gibbs.py}`` and ``models/slds/gibbs.py``): keypoints
``Y_tk = R(h_t) ybar_tk + v_t + N(0, s_tk sigmasq_k I_D)`` with the aligned pose
``ybar_t = Gamma reshape(C x_t + d, (K-1, D))``. Here: the centring matrix ``Gamma``, the
pose and the egocentric inputs of the pose sampler, the von Mises draw of the heading, the
scaled-inverse-chi-square draws of ``s`` and ``sigmasq``, the confidence-to-noise-prior map
and the centroid's pseudo-observations. Shapes: T frames, K keypoints, D = 2 or 3 coordinates.
"""

from __future__ import annotations

import functools

import numpy as np

from . import _keypoint_kernels as _kk

__all__ = [
    "aligned_pose",
    "centering_matrix",
    "centred",
    "centroid_pseudo_observations",
    "egocentric",
    "estimate_keypoints",
    "heading_concentrations",
    "noise_prior_from_confidence",
    "rotate",
    "sample_heading",
    "sample_noise_scales",
    "sample_noise_variances",
    "slds_emission",
    "squared_errors",
]


def centering_matrix(num_keypoints: int) -> np.ndarray:
    """Helmert basis ``Gamma`` (K, K-1) of the zero-sum subspace (jax-moseq ``center_embedding``).

    Column j: ``-1/sqrt((j+1)(j+2))`` on rows 0..j, ``sqrt((j+1)/(j+2))`` on row j+1, 0 below.
    ``Gamma^T Gamma = I_{K-1}`` and ``Gamma Gamma^T = I_K - 1 1^T / K``; it equals
    ``-scipy.linalg.helmert(K).T``.
    """
    K = int(num_keypoints)
    if K < 2:
        raise ValueError(
            f"num_keypoints must be >= 2 (a pose needs two points), got {num_keypoints}"
        )
    return _centering_matrix(K).copy()


@functools.lru_cache(maxsize=16)
def _centering_matrix(K: int) -> np.ndarray:
    """:func:`centering_matrix`, computed once per K (the sweep asks for it every frame block)."""
    j = np.arange(K - 1)
    G = np.zeros((K, K - 1))
    rows = np.arange(K)[:, None]
    G[:] = np.where(rows <= j, -1.0 / np.sqrt((j + 1) * (j + 2)), 0.0)
    G[j + 1, j] = np.sqrt((j + 1) / (j + 2))
    return G


def _frames(P, *per_frame) -> bool:
    """Whether the kernels of :mod:`._keypoint_kernels` take these: P (T, K, D = 2 or 3) and
    arrays whose first axis is T."""
    return P.ndim == 3 and P.shape[2] in (2, 3) and all(len(a) == len(P) for a in per_frame)


def _c(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _row_sums(q) -> np.ndarray:
    """``np.sum(q, axis=-1)`` of a (T, K) float64 array, the same bits, without numpy's
    per-row overhead when K is small."""
    if q.ndim != 2 or q.shape[1] > 128:
        return np.sum(q, axis=-1)
    out = np.empty(q.shape[0])
    _kk.row_sums(_c(q), out)
    return out


def rotate(points, heading) -> np.ndarray:
    """Rotate points (..., K, D) by ``heading`` (...) radians in the x-y plane (about z in 3-D)."""
    P = np.asarray(points, dtype=float)
    h = np.asarray(heading, dtype=float)[..., None]
    c, s = np.cos(h), np.sin(h)
    if h.ndim == 2 and _frames(P, h):  # one heading per frame: the sweep's case
        out = np.empty(P.shape)
        _kk.rotate_points(_c(P), _c(c[:, 0]), _c(s[:, 0]), out)
        return out
    out = P.copy()
    out[..., 0] = c * P[..., 0] - s * P[..., 1]
    out[..., 1] = s * P[..., 0] + c * P[..., 1]
    return out


def aligned_pose(x, loadings, offset, num_keypoints: int) -> np.ndarray:
    """Aligned pose ``ybar_t = Gamma reshape(C x_t + d, (K-1, D))``, shape (T, K, D).

    Parameters
    ----------
    x : array_like, shape (T, M)
    loadings : array_like, shape ((K-1) * D, M)
        ``C`` (jax-moseq's ``Cd[:, :-1]``), keypoint-major, coordinate-minor rows.
    offset : array_like, shape ((K-1) * D,)
        ``d`` (``Cd[:, -1]``).
    num_keypoints : int
    """
    C = np.asarray(loadings, dtype=float)
    K = int(num_keypoints)
    if C.shape[0] % (K - 1):
        raise ValueError(f"loadings must have (K-1)*D rows for K={K}, got {C.shape[0]}")
    flat = np.asarray(x, dtype=float) @ C.T + np.asarray(offset, dtype=float)
    # one (K, K-1) x (K-1, T D) product (a batched matmul would make T tiny ones)
    pose = np.tensordot(_centering_matrix(K), flat.reshape(flat.shape[0], K - 1, -1), (1, 1))
    out = np.empty((pose.shape[1], K, pose.shape[2]))  # (T, K, D) in memory order: every
    _kk.frames_first(_c(pose), out)  # later elementwise step runs along it
    return out


def estimate_keypoints(x, centroid, heading, loadings, offset) -> np.ndarray:
    """Predicted keypoints ``R(h_t) ybar_t + v_t``, shape (T, K, D)."""
    v = np.asarray(centroid, dtype=float)
    K = np.asarray(loadings).shape[0] // v.shape[-1] + 1
    return rotate(aligned_pose(x, loadings, offset, K), heading) + v[:, None, :]


def egocentric(keypoints, centroid, heading) -> np.ndarray:
    """``R(-h_t)(Y_t - v_t)``, shape (T, K, D): the keypoints in the animal's frame."""
    Y = np.asarray(keypoints, dtype=float)
    v = np.asarray(centroid, dtype=float)
    h = -np.asarray(heading, dtype=float)
    if h.ndim == 1 and v.shape == (len(Y), Y.shape[-1]) and _frames(Y, h):
        out = np.empty(Y.shape)
        _kk.centre_and_rotate(_c(Y), _c(v), np.cos(h), np.sin(h), out)
        return out
    return rotate(Y - v[:, None, :], h)


def centred(keypoints, centroid) -> np.ndarray:
    """``Y_t - v_t``, shape (T, K, D)."""
    Y = np.asarray(keypoints, dtype=float)
    v = np.asarray(centroid, dtype=float)
    if v.shape == (len(Y), Y.shape[-1]) and _frames(Y):
        out = np.empty(Y.shape)
        _kk.centre_points(_c(Y), _c(v), out)
        return out
    return Y - v[:, None, :]


def slds_emission(loadings, offset, num_keypoints: int, num_dims: int):
    """Emission of the pose sampler: ``H = (Gamma kron I_D) C`` and ``(Gamma kron I_D) d``.

    Returns
    -------
    emission_matrix : ndarray, shape (K * D, M)
    emission_offset : ndarray, shape (K * D,)
        For :func:`ethogram.inference.kalman.sample_ar_lds` with observations
        ``egocentric(Y, v, h).reshape(T, K * D)`` (jax-moseq ``to_vanilla_slds``).
    """
    G = np.kron(centering_matrix(num_keypoints), np.eye(int(num_dims)))
    return G @ np.asarray(loadings, dtype=float), G @ np.asarray(offset, dtype=float)


def heading_concentrations(aligned, centred, noise_var):
    """``kappa_c, kappa_s`` of ``p(h_t) ~ exp(kappa_c cos h + kappa_s sin h)`` (section 3.6).

    Parameters
    ----------
    aligned : array_like, shape (T, K, D)
        ``ybar`` from the current pose.
    centred : array_like, shape (T, K, D)
        ``Y - v`` (jax-moseq uses the centroid before its own update).
    noise_var : array_like, shape (T, K)
        ``s_tk sigmasq_k``.

    Returns
    -------
    kappa_cos, kappa_sin : ndarray, shape (T,)
        Only the first two coordinates enter.
    """
    a = np.asarray(aligned, dtype=float)
    c = np.asarray(centred, dtype=float)
    w = 1.0 / np.asarray(noise_var, dtype=float)
    if a.shape == c.shape and w.shape == a.shape[:2] and _frames(a):
        qc, qs = np.empty(w.shape), np.empty(w.shape)
        _kk.heading_terms(_c(a), _c(c), _c(w), qc, qs)
        return _row_sums(qc), _row_sums(qs)
    kc = np.sum(w * (a[..., 0] * c[..., 0] + a[..., 1] * c[..., 1]), axis=-1)
    ks = np.sum(w * (a[..., 0] * c[..., 1] - a[..., 1] * c[..., 0]), axis=-1)
    return kc, ks


def sample_heading(rng: np.random.Generator, kappa_cos, kappa_sin) -> np.ndarray:
    """Heading draws ``h_t ~ VonMises(atan2(kappa_s, kappa_c), hypot(kappa_c, kappa_s))``.

    One independent draw per frame (keypoint-MoSeq has no temporal prior on heading), in
    ``(-pi, pi]``; a frame with both concentrations 0 gets a uniform angle.
    """
    kc = np.asarray(kappa_cos, dtype=float)
    ks = np.asarray(kappa_sin, dtype=float)
    h = rng.vonmises(np.arctan2(ks, kc), np.hypot(kc, ks))
    return np.where(h <= -np.pi, h + 2 * np.pi, h)


def squared_errors(keypoints, predicted, centroid=None) -> np.ndarray:
    """``e_tk = ||Y_tk - Yhat_tk||^2`` summed over coordinates, shape (T, K); with ``centroid``
    (T, D), ``Yhat_tk = predicted_tk + centroid_t``."""
    Y = np.asarray(keypoints, dtype=float)
    P = np.asarray(predicted, dtype=float)
    v = None if centroid is None else np.asarray(centroid, dtype=float)
    if P.shape == Y.shape and _frames(Y) and (v is None or v.shape == (len(Y), Y.shape[-1])):
        out = np.empty(Y.shape[:2])
        if centroid is None:
            _kk.squared_errors_kernel(_c(Y), _c(P), out)
        else:
            _kk.placed_squared_errors(_c(Y), _c(P), _c(v), out)
        return out
    if v is not None:
        P = P + v[:, None, :]
    r = Y - P
    return np.sum(r * r, axis=-1)


def _added_dof(added_dof, num_dims):
    D = int(num_dims)
    if D not in (2, 3):
        raise ValueError(f"num_dims must be 2 or 3 (keypoint coordinates), got {num_dims}")
    return D if added_dof is None else float(added_dof)


def sample_noise_scales(
    rng: np.random.Generator,
    sq_errors,
    noise_prior,
    nu_s: float,
    num_dims: int,
    sigmasq=1.0,
    added_dof=None,
) -> np.ndarray:
    """Per-frame, per-keypoint noise scales ``s_tk`` from their conjugate conditional.

    With prior ``s ~ Scaled-Inv-chi2(nu_s, s0)`` and D coordinates of residual
    ``N(0, s sigmasq I_D)``: ``s ~ InvGamma((nu_s + D)/2, (nu_s s0 + e / sigmasq)/2)``
    (section 3.8; jax-moseq ``resample_scales_from_sqerr``).

    Parameters
    ----------
    rng : numpy.random.Generator
    sq_errors : array_like, shape (T, K)
        :func:`squared_errors`.
    noise_prior : array_like, shape (T, K) or broadcastable
        ``s0`` (:func:`noise_prior_from_confidence`).
    nu_s : float
        Prior degrees of freedom (keypoint-MoSeq: 5).
    num_dims : int
        D, 2 or 3.
    sigmasq : float or array_like, shape (K,)
        Per-keypoint multiplier (keypoint-MoSeq keeps it at 1).
    added_dof : float, optional
        Degrees of freedom the residual adds. Default D, the exact conditional; jax-moseq
        hard-codes 3 whatever D (pass ``3`` to reproduce it on 2-D data).

    Returns
    -------
    ndarray, shape (T, K)
    """
    e = np.asarray(sq_errors, dtype=float)
    shape = 0.5 * (float(nu_s) + _added_dof(added_dof, num_dims))
    rate = 0.5 * (
        float(nu_s) * np.asarray(noise_prior, dtype=float) + e / np.asarray(sigmasq, dtype=float)
    )
    return rate / rng.standard_gamma(shape, size=np.broadcast(rate, e).shape)


def sample_noise_variances(
    rng: np.random.Generator,
    sq_errors,
    scales,
    nu_sigma: float,
    sigmasq_0: float,
    num_dims: int,
    mask=None,
    added_dof=None,
) -> np.ndarray:
    """Per-keypoint noise multipliers ``sigmasq_k`` (off in keypoint-MoSeq by default).

    ``sigmasq_k ~ InvGamma((nu_sigma + D n)/2, (nu_sigma sigmasq_0 + sum_t e_tk / s_tk)/2)``
    over the n unmasked frames (section 3.4; jax-moseq ``resample_obs_variance_from_sqerr``,
    which hard-codes 3 for D: ``added_dof=3`` reproduces it).

    Returns
    -------
    ndarray, shape (K,)
    """
    e = np.asarray(sq_errors, dtype=float)
    w = np.ones(e.shape[0]) if mask is None else np.asarray(mask, dtype=float)
    shape = 0.5 * (float(nu_sigma) + _added_dof(added_dof, num_dims) * w.sum())
    rate = 0.5 * (
        float(nu_sigma) * float(sigmasq_0)
        + np.sum(w[:, None] * e / np.asarray(scales, dtype=float), axis=0)
    )
    return rate / rng.standard_gamma(shape, size=rate.shape)


def noise_prior_from_confidence(
    confidence, slope: float = -0.5, intercept: float = 0.25, conf_pseudocount: float = 1e-3
) -> np.ndarray:
    """keypoint-MoSeq's prior noise scale from tracker confidences (section 6).

    ``c = max(conf, 0) + conf_pseudocount`` (keypoint-moseq ``format_data``; NaN counts as
    0) and ``s0 = 10^(2 (slope log10(c + 1e-6) + intercept))`` (jax-moseq ``estimate_error``):
    the square of the error (plus one pixel) the calibration line predicts. With the defaults
    ``s0 ~ sqrt(10) / c``: about 3.16 at confidence 1.

    Parameters
    ----------
    confidence : array_like, shape (T, K)
    slope, intercept : float
        From keypoint-moseq's calibration (``error_estimator`` in config.yml).
    conf_pseudocount : float, default 1e-3

    Returns
    -------
    ndarray, same shape, in squared coordinate units
    """
    c = np.nan_to_num(np.asarray(confidence, dtype=float), nan=0.0)
    c = np.maximum(c, 0.0) + float(conf_pseudocount)
    return 10.0 ** (2.0 * (float(slope) * np.log10(c + 1e-6) + float(intercept)))


def centroid_pseudo_observations(keypoints, rotated_pose, noise_var):
    """Centroid evidence from all keypoints: ``mu_t`` with isotropic variance ``g_t``.

    ``g_t = 1 / sum_k 1/var_tk`` and ``mu_t = sum_k (g_t / var_tk)(Y_tk - R(h_t) ybar_tk)``,
    the exact product of the K keypoint likelihoods in ``v_t`` (section 3.7), for
    :func:`ethogram.inference.kalman.sample_random_walk`.

    Parameters
    ----------
    keypoints : array_like, shape (T, K, D)
    rotated_pose : array_like, shape (T, K, D)
        ``R(h_t) ybar_t`` with the new heading.
    noise_var : array_like, shape (T, K)
        ``s_tk sigmasq_k``.

    Returns
    -------
    mu : ndarray, shape (T, D)
    g : ndarray, shape (T,)
    """
    w = 1.0 / np.asarray(noise_var, dtype=float)
    g = 1.0 / _row_sums(w)
    resid = np.asarray(keypoints, dtype=float) - np.asarray(rotated_pose, dtype=float)
    return np.einsum("tkd,tk->td", resid, w) * g[:, None], g
