"""Whitening: the inputs MoSeq's ARHMM expects (zero mean, identity covariance across dimensions).

moseq2-model whitens the PC scores before fitting (``whiten_all``: subtract the mean of every
non-NaN frame, multiply by the inverse Cholesky factor of their covariance) and keypoint-MoSeq
folds the same Cholesky factor into its PCA loadings (jax-moseq ``init_obs_params`` with
``whiten=True``), so the sticky HDP-ARHMM's prior (``S_0 = 0.01 I``, ``K_0 = 10 I``) is
relative to unit variance. :class:`Whitening` is learned on training sequences, applied
unchanged to new ones, and saved as a dict of arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from .._deprecation import renamed_keywords

__all__ = ["Whitening"]

#: smallest Cholesky pivot, relative to the largest standard deviation, of a usable covariance
SINGULAR_RTOL = 1e-6


@dataclass(frozen=True)
class Whitening:
    """``x -> L^-1 (x - mean)`` with ``L L^T`` the covariance of the training frames.

    Attributes
    ----------
    mean : ndarray, shape (D,)
    chol : ndarray, shape (D, D)
        Lower Cholesky factor of the covariance (ddof 1, as jax-moseq's ``np.cov``).
    """

    mean: np.ndarray
    chol: np.ndarray

    @classmethod
    @renamed_keywords(datas="data", masks="mask")
    def fit(cls, data, mask=None) -> "Whitening":
        """Learn the mean and covariance of every usable frame of the sequences.

        Parameters
        ----------
        data : array_like (T, D) or list of such
            (``datas=`` is its deprecated former name.)
        mask : None, array_like of bool (T,), or list of those
            Frames to use (with all values finite; ``masks=`` is its deprecated former name).

        Returns
        -------
        Whitening

        Raises
        ------
        ValueError
            With fewer than D + 1 usable frames, or a singular covariance (a constant or
            duplicated dimension: drop it first).
        """
        rows = np.concatenate([x[m] for x, m in _usable(data, mask)])
        D = rows.shape[1]
        if rows.shape[0] <= D:
            raise ValueError(f"whitening needs more than {D} usable frames, got {rows.shape[0]}")
        mean = rows.mean(axis=0)
        cov = np.atleast_2d(np.cov(rows, rowvar=False))
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            chol = np.zeros_like(cov)
        # a pivot below 1e-6 of the largest standard deviation: a dimension (almost) fixed by
        # the others, whose whitened values would be round-off amplified
        if not np.all(np.diag(chol) > SINGULAR_RTOL * np.sqrt(np.max(np.diag(cov)))):
            raise ValueError(
                "the covariance of the frames is singular (a constant or duplicated dimension, or "
                "one that is a combination of others): drop such dimensions before whitening"
            )
        return cls(mean, chol)

    def transform(self, data) -> np.ndarray:
        """Whitened copy of one sequence (T, D); NaN rows stay NaN."""
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"data must have shape (T, {self.mean.shape[0]}), got {x.shape}")
        return solve_triangular(self.chol, (x - self.mean).T, lower=True, check_finite=False).T

    def inverse_transform(self, data) -> np.ndarray:
        """Back to the original units: ``L x + mean``."""
        return np.asarray(data, dtype=np.float64) @ self.chol.T + self.mean

    def to_dict(self) -> dict:
        """``{"mean", "chol"}`` arrays (for saving without pickle)."""
        return {"mean": self.mean.copy(), "chol": self.chol.copy()}

    @classmethod
    def from_dict(cls, d: dict) -> "Whitening":
        """Inverse of :meth:`to_dict`."""
        return cls(np.asarray(d["mean"], dtype=np.float64), np.asarray(d["chol"], dtype=np.float64))


def _usable(sequences, masks):
    if not isinstance(sequences, (list, tuple)):
        sequences, masks = [sequences], (None if masks is None else [masks])
    masks = [None] * len(sequences) if masks is None else list(masks)
    if len(masks) != len(sequences):
        raise ValueError(
            f"mask must be None or one per sequence ({len(sequences)}), got {len(masks)}"
        )
    for x, m in zip(sequences, masks):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"every sequence must be a (T, D) array, got shape {x.shape}")
        keep = np.isfinite(x).all(axis=1)
        if m is not None:
            keep &= np.asarray(m, dtype=bool)
        yield x, keep
