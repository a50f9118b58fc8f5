"""Model-free changepoints of the model inputs, as moseq2 computes them, and their durations.

An independent check of kappa: moments where the pose changes fast, found without any
model, and the durations of the blocks between them, to set beside the syllables'
durations. The computation follows moseq2-pca's ``get_changepoints`` (``moseq2_pca/util.py``;
Wiltschko et al. 2015, Fig. 2): random projections of the frames (moseq2 projects the
depth pixels; a random Gaussian projection of PC scores has the same distribution, since
the PCs are an orthonormal projection of the pixels), z-scored over time per projection
and then across projections per frame; each projection smoothed in time with moseq2's
kernel (a Gaussian of standard deviation 1.5 frames on ``2 * sigma`` points: moseq2 passes
its ``sigma`` as the window half-width); the squared difference over ``k`` frames, centred;
the mean over projections; frames within ``6 * sigma`` of either end and unobserved frames
set to NaN; minus the minimum; changepoints are strict local maxima (``neighbors`` frames
each side, ``scipy.signal.argrelextrema``) above ``threshold``. Defaults are moseq2-pca's
command-line defaults (``k = 6, sigma = 3.5, threshold = 0.5, neighbors = 1, 300
projections``). Unobserved frames are removed before the computation and put back as NaN
afterwards, as moseq2 computes on the frames it has and inserts NaN for dropped ones.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._deprecation import renamed_keywords


@dataclass
class Changepoints:
    """Outcome of :func:`changepoints`.

    Attributes
    ----------
    frames : ndarray of int
        Frame indices of the changepoints (in the full recording, masked frames included).
    score : ndarray, shape (T,)
        Change score per frame (NaN where not defined).
    durations : ndarray of int
        Frames between successive changepoints (``np.diff(frames)``).
    """

    frames: np.ndarray
    score: np.ndarray
    durations: np.ndarray


def _moseq_kernel(sigma: float) -> np.ndarray:
    """moseq2-pca's ``gaussian_kernel1d(n=sigma, sig=1.5)``: points ``arange(-sigma, sigma)``."""
    points = np.arange(-sigma, sigma)
    kernel = np.exp(-(points**2.0) / (2.0 * 1.5**2))
    return kernel / kernel.sum()


def change_score(
    data, mask=None, k: int = 6, sigma: float = 3.5, num_projections: int | None = 300, seed=0
) -> np.ndarray:
    """Model-free change score per frame (moseq2's ``cps_score``).

    Parameters
    ----------
    data : array_like, shape (T, D)
        Model inputs (PC scores, keypoint PCs...); NaN rows count as unobserved.
    mask : array_like of bool, shape (T,), optional
        True where the frame is observed.
    k : int, default 6
        Lag of the difference, frames.
    sigma : float, default 3.5
        moseq2's smoothing parameter (half-width of the kernel, frames; the kernel's own
        standard deviation is 1.5 frames, as in moseq2).
    num_projections : int or None, default 300
        Random Gaussian projections of the inputs (None: the inputs themselves).
    seed : int, default 0
        Seed of the projections.

    Returns
    -------
    ndarray, shape (T,)
        NaN at unobserved frames and within ``6 * sigma`` frames of the ends.

    Raises
    ------
    ValueError
        On a data shape that is not (T, D), a non-positive ``k`` or ``sigma``, or too few
        observed frames.
    """
    from scipy import stats
    from scipy.signal import convolve

    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"data must be (T, D), got shape {x.shape}")
    if int(k) != k or k < 1 or not sigma > 0:
        raise ValueError(
            f"k must be a positive integer and sigma positive, got k={k!r}, sigma={sigma!r}"
        )
    k = int(k)
    T = x.shape[0]
    obs = ~np.isnan(x).any(axis=1)
    if mask is not None:
        obs &= np.asarray(mask, dtype=bool)
    y = x[obs]
    if y.shape[0] <= max(k, int(12 * sigma)):
        raise ValueError(
            f"only {y.shape[0]} observed frames: too few for a change score with k={k}, "
            f"sigma={sigma}"
        )
    if num_projections is not None:
        rng = np.random.default_rng(seed)
        y = y @ rng.standard_normal((y.shape[1], int(num_projections)))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = stats.zscore(stats.zscore(y, axis=0).T, axis=0)  # (projections, frames), as moseq2
    z = np.nan_to_num(z)
    kern = _moseq_kernel(float(sigma))
    sm = np.stack([convolve(row, kern, mode="same", method="direct") for row in z])
    d = sm.copy()
    d[:, k // 2 : -k // 2] = (sm[:, k:] - sm[:, :-k]) ** 2
    edge = int(6 * sigma)
    d[:, :edge] = np.nan
    d[:, -edge:] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (edges) stay NaN
        s = np.nanmean(d, axis=0)
    s = s - np.nanmin(s)
    out = np.full(T, np.nan)
    out[obs] = s
    return out


def changepoints(
    data,
    mask=None,
    k: int = 6,
    sigma: float = 3.5,
    threshold: float = 0.5,
    neighbors: int = 1,
    num_projections: int | None = 300,
    seed=0,
) -> Changepoints:
    """Model-free changepoints (peaks of :func:`change_score`) and the block durations.

    Parameters
    ----------
    data, mask, k, sigma, num_projections, seed
        As in :func:`change_score`.
    threshold : float, default 0.5
        A peak counts when its score exceeds this.
    neighbors : int, default 1
        A peak is larger than this many frames on each side (NaN neighbours never qualify).

    Returns
    -------
    Changepoints
    """
    from scipy.signal import argrelextrema

    score = change_score(data, mask, k, sigma, num_projections, seed)
    with np.errstate(invalid="ignore"):
        peaks = argrelextrema(score, np.greater, order=int(neighbors))[0]
        peaks = peaks[score[peaks] > threshold]
    return Changepoints(peaks, score, np.diff(peaks))


@renamed_keywords(datas="data", masks="mask")
def changepoint_durations(data, mask=None, **kwargs) -> np.ndarray:
    """Frames between successive changepoints, pooled over recordings.

    Parameters
    ----------
    data : array_like (T, D) or list of them
    mask : array_like of bool (T,), or list of them, optional
        True where a frame is observed (``masks=`` is its deprecated former name).
    **kwargs
        Passed to :func:`changepoints`.

    Returns
    -------
    ndarray of int
    """
    from ._common import check_sequences

    sequences, masks = check_sequences(data, mask)
    out = [changepoints(d, m, **kwargs).durations for d, m in zip(sequences, masks)]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
