"""Scoring of the autoregressive models, as functions of arrays: which frames are scored
(:func:`scored_mask`: a frame needs its L lags observed), the centred finite copy of a sequence
that the scores and statistics read (:func:`centred_frames`) and the per-frame, per-state log
densities (:func:`frame_log_likes`). :class:`~.autoregressive.AutoregressiveObservations` calls
them with its own parameters; the per-state density from squared Mahalanobis residuals is passed
in, so the robust model's Student-t density uses the same path.
"""

from __future__ import annotations

import numpy as np

from ._ar_linalg import lag_closure, residual_norms, whitened_regressions
from ._common import LOG_2PI

__all__ = ["centred_frames", "frame_log_likes", "scored_mask"]


def scored_mask(observed, T: int, num_lags: int, first_frames: str):
    """Frames scored given the observed ones (see
    :meth:`~.autoregressive.AutoregressiveObservations.effective_mask`).

    Parameters
    ----------
    observed : ndarray of bool, shape (T,), or None
        None: every frame observed.
    T : int
        Frames in the sequence.
    num_lags : int
    first_frames : {"unscored", "standard_normal"}

    Returns
    -------
    ndarray of bool, shape (T,), or None
        None when every frame is scored.
    """
    if first_frames == "unscored":
        eff = lag_closure(np.ones(T, bool) if observed is None else observed, num_lags)
        eff[:num_lags] = False
        return eff
    if observed is None or observed.all():
        return None
    return lag_closure(observed, num_lags)


def centred_frames(data, mask, num_lags: int, first_frames: str, center: np.ndarray):
    """Centred finite data ``x - c`` (NaN -> 0) and the frames to score: the caller's mask,
    minus any frame whose own row or a lag row holds NaN (so NaN never leaks into a scored
    frame), minus the first L frames when they are unscored.

    Parameters
    ----------
    data : array_like, shape (T, D)
    mask : array_like of bool, shape (T,), or None
    num_lags : int
    first_frames : {"unscored", "standard_normal"}
    center : ndarray, shape (D,)

    Returns
    -------
    x : ndarray, shape (T, D)
    mask : ndarray of bool, shape (T,), or None
    """
    x = np.asarray(data, dtype=np.float64)
    mask = None if mask is None else np.asarray(mask, dtype=bool)
    if np.isnan(x).any():
        finite = ~np.isnan(x).any(axis=1)
        closure = lag_closure(finite, num_lags)
        mask = closure if mask is None else mask & closure
        x = np.nan_to_num(x, nan=0.0)
    if first_frames == "unscored" and mask is not None and mask[:num_lags].any():
        mask = mask.copy()  # (mask None: callers leave out the first L frames themselves)
        mask[:num_lags] = False
    if np.any(center != 0.0):
        x = x - center
    return x, mask


def frame_log_likes(data, y, mask, W, covs, num_lags, first_frames, score_dtype, density):
    """``log p(x_t | x_{t-L:t-1}, z_t = k)`` for every frame and state.

    Parameters
    ----------
    data : array_like, shape (T, D)
        The raw frames (read for the first L frames under ``"standard_normal"``).
    y, mask : the output of :func:`centred_frames`
    W : ndarray, shape (K, D, P)
        Centred regression weights.
    covs : ndarray, shape (K, D, D)
    num_lags : int
    first_frames : {"unscored", "standard_normal"}
    score_dtype : numpy dtype
        Precision of the residual norms.
    density : callable
        ``density(maha (n, K), half_logdet (K,)) -> (n, K)``, in place.

    Returns
    -------
    ndarray, shape (T, K)
        Zero rows for the frames not scored.
    """
    T, K, D, L = y.shape[0], W.shape[0], W.shape[1], num_lags
    out = np.zeros((T, K))
    if first_frames == "standard_normal":
        head = np.nan_to_num(np.asarray(data, dtype=np.float64)[: min(L, T)], nan=0.0)
        out[: head.shape[0]] = (-0.5 * (D * LOG_2PI + np.einsum("ij,ij->i", head, head)))[:, None]
    if T > L:
        M, half_logdet = whitened_regressions(covs, W)
        maha = residual_norms(y, L, M, out[L:], dtype=np.dtype(score_dtype))
        density(maha, half_logdet)
    if mask is not None and not mask[L:].all():
        out[L:][~mask[L:]] = 0.0
    if first_frames == "unscored":
        out[:L] = 0.0
    elif mask is not None and not mask[:L].all():
        out[:L][~mask[:L]] = 0.0
    return out
