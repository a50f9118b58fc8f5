"""Start of keypoint-MoSeq's keypoint SLDS: recordings as the sampler reads them, the alignment,
the PCA, the centroid's step variance, the hyperparameters of the keypoint emission, and the
tempered start of ``apply`` (:func:`apply_schedule`, ethogram's, not keypoint-moseq's).

Sections 1.1, 1.4, 2 and 5 of ../shared/models/keypoint_moseq_model.md (keypoint-moseq
``util.py`` ``format_data``, ``estimate_sigmasq_loc``; jax-moseq ``models/keypoint_slds/
alignment.py``, ``initialize.py``, ``utils/utils.py`` ``fit_pca``). Shapes: T frames, K
keypoints, D = 2 or 3 coordinates, M latent dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .keypoints import centering_matrix, egocentric, noise_prior_from_confidence

#: ``apply``'s default starting temperature of the AR noise covariances (1: keypoint-moseq's start)
APPLY_TEMPER = 100.0
#: geometric steps of the tempered sweeps
TEMPER_LEVELS = 4

__all__ = [
    "KeypointPrior",
    "align_recording",
    "apply_schedule",
    "untempered_sweeps",
    "estimate_sigmasq_loc",
    "fill_gaps",
    "fit_pca",
    "pack_recording",
    "unpack_recording",
]


@dataclass(frozen=True)
class KeypointPrior:
    """Hyperparameters of the keypoint emission, with keypoint-moseq 0.8.1's defaults.

    Attributes
    ----------
    nu_s : float, default 5
        Degrees of freedom of the noise scales' prior (``obs_hypparams.nu_s``).
    sigmasq_loc : float or None, default None
        Centroid random-walk variance per frame (squared keypoint units); None: estimated
        from the data as keypoint-moseq's ``estimate_sigmasq_loc`` (:func:`estimate_sigmasq_loc`).
    centroid_initial_var : float, default 1e4
        Prior variance of ``v_0`` (hard-coded in jax-moseq).
    resample_sigmasq : bool, default False
        Draw the per-keypoint noise multipliers (keypoint-moseq keeps them at 1).
    nu_sigma, sigmasq_0 : float, default 1e5, 0.1
        Their Scaled-Inv-chi2 prior (jax-moseq's, only used when resampled).
    slope, intercept : float, default -0.5, 0.25
        Confidence-to-error line (keypoint-moseq's default ``error_estimator``).
    conf_pseudocount : float, default 1e-3
    conf_threshold : float, default 0.5
        Below it a point is interpolated for the alignment that starts the fit (only).
    """

    nu_s: float = 5.0
    sigmasq_loc: float | None = None
    centroid_initial_var: float = 1e4
    resample_sigmasq: bool = False
    nu_sigma: float = 1e5
    sigmasq_0: float = 0.1
    slope: float = -0.5
    intercept: float = 0.25
    conf_pseudocount: float = 1e-3
    conf_threshold: float = 0.5

    def __post_init__(self):
        for name in ("nu_s", "centroid_initial_var", "nu_sigma", "sigmasq_0"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        v = self.sigmasq_loc
        if v is not None and not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
            raise ValueError(f"sigmasq_loc must be a positive number or None, got {v!r}")


def fill_gaps(values, missing) -> np.ndarray:
    """Linear interpolation in time of the ``missing`` entries, per keypoint and coordinate.

    Constant extrapolation at the ends (numpy ``interp``, as keypoint-moseq's
    ``interpolate_keypoints``). A keypoint missing in every frame takes, per frame, the mean of
    the other keypoints (keypoint-moseq leaves it at 0.0, a point far from the animal).

    Parameters
    ----------
    values : array_like, shape (T, K, D)
    missing : array_like of bool, shape (T, K)

    Returns
    -------
    ndarray, shape (T, K, D)

    Raises
    ------
    ValueError
        If every keypoint is missing in every frame.
    """
    Y = np.array(values, dtype=np.float64)
    miss = np.asarray(missing, dtype=bool)
    T, _K, D = Y.shape
    t = np.arange(T)
    never = miss.all(axis=0)
    if never.all():
        raise ValueError("keypoints: every keypoint is missing in every frame; nothing to model")
    for k in np.flatnonzero(miss.any(axis=0) & ~never):
        good = ~miss[:, k]
        for c in range(D):
            Y[:, k, c] = np.interp(t, t[good], Y[good, k, c])
    if never.any():
        Y[:, never] = Y[:, ~never].mean(axis=1, keepdims=True)
    return Y


def pack_recording(keypoints, confidence=None, slope=-0.5, intercept=0.25, pseudocount=1e-3):
    """One recording as the local step reads it: keypoints, prior noise scale, confidence.

    A keypoint with a NaN coordinate gets confidence 0 and is filled by :func:`fill_gaps`
    (keypoint-moseq's ``format_data``): it stays in the model, seen through a large prior
    noise scale, and the sampler infers it. No frame is dropped.

    Parameters
    ----------
    keypoints : array_like, shape (T, K, D)
        Coordinates (pixels or any unit: ``s0`` is in squared units of them), NaN = missing.
    confidence : array_like, shape (T, K), optional
        Tracker confidences; None: 1 everywhere (keypoint-moseq's default).
    slope, intercept : float
        Confidence-to-noise map (:func:`.keypoints.noise_prior_from_confidence`).
    pseudocount : float

    Returns
    -------
    ndarray, shape (T, K, D + 2)
        ``[..., :D]`` keypoints, ``[..., D]`` ``s0``, ``[..., D + 1]`` confidence.

    Raises
    ------
    ValueError
        On shapes, fewer than 2 keypoints, D not in (2, 3), or no observed keypoint at all.
    """
    Y = np.asarray(keypoints, dtype=np.float64)
    if Y.ndim != 3 or Y.shape[2] not in (2, 3) or Y.shape[1] < 2:
        raise ValueError(f"keypoints must have shape (T, K >= 2, D in (2, 3)), got {Y.shape}")
    T, K, D = Y.shape
    conf = np.ones((T, K)) if confidence is None else np.array(confidence, dtype=np.float64)
    if conf.shape != (T, K):
        raise ValueError(f"confidence must have shape {(T, K)}, got {conf.shape}")
    missing = ~np.isfinite(Y).all(axis=2)
    conf = np.where(missing | ~np.isfinite(conf), 0.0, np.maximum(conf, 0.0))
    out = np.empty((T, K, D + 2))
    out[..., :D] = fill_gaps(Y, missing)
    out[..., D] = noise_prior_from_confidence(conf, slope, intercept, pseudocount)
    out[..., D + 1] = conf
    return out


def unpack_recording(data, num_dims: int):
    """``(keypoints (T, K, D), s0 (T, K), confidence (T, K))`` of :func:`pack_recording`."""
    D = int(num_dims)
    return data[..., :D], data[..., D], data[..., D + 1]


def align_recording(keypoints, confidence, conf_threshold, anterior, posterior):
    """keypoint-moseq's egocentric alignment (``preprocess_for_pca``): for PCA and the start.

    Keypoints under ``conf_threshold`` are interpolated in time (this copy only), then
    ``v`` = mean of the keypoints, ``h`` = angle of (mean anterior - mean posterior) in x-y,
    and the flat aligned pose ``Gamma^T R(-h)(Y - v)``.

    Returns
    -------
    flat : ndarray, shape (T, (K - 1) D)
        Keypoint-major, coordinate-minor.
    centroid : ndarray, shape (T, D)
    heading : ndarray, shape (T,)
    """
    Y = np.asarray(keypoints, dtype=np.float64)
    low = np.asarray(confidence) < conf_threshold
    if low.any() and not low.all():
        Y = fill_gaps(Y, low)
    v = Y.mean(axis=1)
    axis = Y[:, list(anterior), :2].mean(axis=1) - Y[:, list(posterior), :2].mean(axis=1)
    h = np.arctan2(axis[:, 1], axis[:, 0])
    ego = egocentric(Y, v, h)
    flat = np.einsum("kj,tkd->tjd", centering_matrix(Y.shape[1]), ego)
    return flat.reshape(Y.shape[0], -1), v, h


def fit_pca(flat, latent_dim=None, max_frames: int = 1_000_000):
    """PCA of the flat aligned poses and whitening (jax-moseq ``fit_pca``, ``init_obs_params``).

    Up to ``max_frames`` frames (a random subset, seed 42, as keypoint-moseq) give the
    components; ``W`` = Cholesky factor of the covariance (ddof 1) of the first M scores of
    every frame; ``loadings = P^T W``, ``offset`` = the mean.

    Parameters
    ----------
    flat : ndarray, shape (N, (K - 1) D)
        :func:`align_recording` of every recording, concatenated.
    latent_dim : int or None
        M; None: the fewest components explaining 90% of the variance, at most 10.

    Returns
    -------
    loadings : ndarray, shape ((K - 1) D, M)
    offset : ndarray, shape ((K - 1) D,)
    explained : ndarray
        Fraction of the variance of each component.

    Raises
    ------
    ValueError
        If ``latent_dim`` exceeds (K - 1) D.
    """
    sub = flat
    if len(flat) > max_frames:
        sub = flat[np.random.default_rng(42).choice(len(flat), max_frames, replace=False)]
    mean = sub.mean(axis=0)
    _, sv, Vt = np.linalg.svd(sub - mean, full_matrices=False)
    explained = sv**2 / np.sum(sv**2)
    M = latent_dim
    if M is None:
        M = int(min(10, np.searchsorted(np.cumsum(explained), 0.9) + 1))
    if not 1 <= M <= flat.shape[1]:
        raise ValueError(f"latent_dim must be in 1..(K - 1) D = {flat.shape[1]}, got {M}")
    scores = (flat - mean) @ Vt[:M].T
    W = np.linalg.cholesky(np.atleast_2d(np.cov(scores, rowvar=False)))
    return Vt[:M].T @ W, mean, explained


def estimate_sigmasq_loc(keypoints, filter_size: int = 30) -> float:
    """keypoint-moseq's centroid step variance: the squared mean distance between consecutive
    frames of the median-filtered (``filter_size`` frames) median of the keypoints.

    Parameters
    ----------
    keypoints : list of ndarray (T, K, D)
        Gaps filled.
    filter_size : int
        keypoint-moseq uses the frame rate.

    Returns
    -------
    float
        Squared keypoint units per frame (at least 1e-6).
    """
    from scipy.ndimage import median_filter

    dists = []
    for Y in keypoints:
        c = median_filter(np.median(Y, axis=1), size=(max(int(filter_size), 1), 1), mode="nearest")
        dists.append(np.linalg.norm(np.diff(c, axis=0), axis=1))
    return float(max(np.mean(np.concatenate(dists)) ** 2, 1e-6))


def apply_schedule(num_iters: int, temper: float = APPLY_TEMPER) -> list[tuple[int, float]]:
    """The stages of ``apply``'s sweeps: ``(last iteration, temperature)`` in order.

    The AR noise covariances ``Q_k`` are multiplied by the temperature. With ``temper > 1``
    the first ``num_iters // 2`` iterations (0 = the start) run at ``temper``, then
    ``temper^(3/4)``, ``temper^(1/2)``, ``temper^(1/4)`` (:data:`TEMPER_LEVELS` equal
    parts), the rest at the fitted ``Q`` (temperature 1): the new recordings' latent pose
    starts at the projection of their keypoints, whose tracking noise a fitted model's small
    ``Q`` explains only with short bouts of its noisiest (often unused) syllables; a fit
    reached its state as ``Q`` shrank from values fitted to that projection, and the tempered
    sweeps give ``apply`` the same path.

    Parameters
    ----------
    num_iters : int
        Sweeps after the start, >= 0.
    temper : float, default :data:`APPLY_TEMPER`
        Starting temperature, >= 1; 1: every sweep at the fitted ``Q`` (keypoint-moseq's
        ``apply_model``).

    Returns
    -------
    list of (int, float)
        The last stage is ``(num_iters, 1.0)``.

    Raises
    ------
    ValueError
        On a negative ``num_iters`` or ``temper`` < 1 (or not finite).
    """
    if isinstance(num_iters, bool) or not isinstance(num_iters, (int, np.integer)) or num_iters < 0:
        raise ValueError(f"num_iters must be a non-negative integer, got {num_iters!r}")
    if not np.isfinite(temper) or temper < 1:
        raise ValueError(f"temper must be a finite number >= 1, got {temper!r}")
    hot = int(num_iters) // 2 if temper > 1 else 0
    stages: list[tuple[int, float]] = []
    for it in range(hot):
        level = it * TEMPER_LEVELS // hot
        t = float(temper) ** (1.0 - level / TEMPER_LEVELS)
        if stages and stages[-1][1] == t:
            stages[-1] = (it, t)
        else:
            stages.append((it, t))
    return stages + [(int(num_iters), 1.0)]


def untempered_sweeps(num_iters: int, temper: float = APPLY_TEMPER) -> int:
    """Iterations of :func:`apply_schedule` at temperature 1 (the start counted when it is)."""
    stages = apply_schedule(num_iters, temper)
    return stages[-1][0] - (stages[-2][0] if len(stages) > 1 else -1)
