"""Categorical emissions ``x_t | z_t = k ~ Categorical(emission_probs[k])`` (the worksheet's).

Data is one integer label per frame in ``[0, num_classes)``. The prior on each row of
``emission_probs`` is a symmetric Dirichlet with ``concentration`` (default 1.01: barely
informative, it only keeps every probability strictly positive); the MAP M-step is
``(counts + concentration - 1)`` normalised, and ``prior=None`` is maximum likelihood.
"""

from __future__ import annotations

import numpy as np

from ._common import check_positive_int, frame_weights
from .base import ObservationModel, register


@register("categorical")
class CategoricalObservations(ObservationModel):
    """Discrete emissions over ``num_classes`` symbols.

    Parameters
    ----------
    num_states : int
    num_classes : int
        Number of symbols C.
    prior : {"default", None}
    concentration : float, default 1.01
        Dirichlet concentration (>= 1) of each row of ``emission_probs``.
    """

    param_names = ("emission_probs",)
    sequence_ndim = 1

    def __init__(self, num_states, num_classes, prior="default", concentration=1.01):
        super().__init__(num_states)
        self.num_classes = check_positive_int(num_classes, "num_classes")
        if prior not in ("default", None):
            raise ValueError(f"prior must be 'default' or None, got {prior!r}")
        self.prior = prior
        self.concentration = 1.0 if prior is None else float(concentration)
        if self.concentration < 1.0:
            raise ValueError(f"concentration must be >= 1 for the MAP to exist, got {concentration!r}")
        self.emission_probs = np.full((self.num_states, self.num_classes), 1.0 / self.num_classes)

    def check_data(self, data) -> np.ndarray:
        """One sequence of labels, shape (T,) (or (T, 1)); float with NaN for missing frames."""
        x = np.asarray(data)
        if x.ndim == 2 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 1 or x.shape[0] == 0:
            raise ValueError(f"data must be a non-empty 1-D array of class labels, got shape {x.shape}")
        if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating) or x.dtype == bool):
            raise TypeError(f"data must hold integer class labels, got dtype {x.dtype}")
        xf = x.astype(np.float64)
        finite = xf[~np.isnan(xf)]
        if np.any(finite != np.round(finite)) or np.any(np.isinf(finite)):
            raise ValueError("data must hold whole-number class labels (NaN marks a missing frame)")
        if finite.size and (finite.min() < 0 or finite.max() >= self.num_classes):
            raise ValueError(
                f"data labels must lie in [0, {self.num_classes}); got values from {int(finite.min())} to {int(finite.max())}"
            )
        return xf

    @staticmethod
    def _labels(data, mask):
        x = np.where(np.isnan(data), 0.0, data)
        if mask is not None:
            x = np.where(mask, x, 0.0)
        return x.astype(np.intp)

    def log_likelihoods(self, data, mask=None) -> np.ndarray:
        """``log emission_probs[k, x_t]``, shape (T, K); zero rows where masked."""
        with np.errstate(divide="ignore"):
            logp = np.log(self.emission_probs)
        out = logp[:, self._labels(data, mask)].T.copy()
        if mask is not None and not mask.all():
            out[~mask] = 0.0
        return out

    def sufficient_stats(self, data, expected_states, mask=None) -> dict:
        """Expected symbol counts per state, ``counts`` (K, C)."""
        x = self._labels(data, mask)
        w = frame_weights(expected_states, mask, x.shape[0], self.num_states)
        counts = np.zeros((self.num_states, self.num_classes))
        for c in range(self.num_classes):
            sel = x == c
            if sel.any():
                counts[:, c] = w[sel].sum(axis=0)
        return {"counts": counts}

    def m_step(self, stats) -> None:
        """Dirichlet MAP; a state with no counts and no prior mass keeps its row."""
        w = stats["counts"] + (self.concentration - 1.0)
        sums = w.sum(axis=1, keepdims=True)
        ok = sums[:, 0] > 0
        probs = self.emission_probs.copy()
        probs[ok] = w[ok] / sums[ok]
        self.emission_probs = probs

    def log_prior(self) -> float:
        """Dirichlet log density (up to a constant); 0 for ``prior=None``."""
        if self.concentration == 1.0:
            return 0.0
        return float((self.concentration - 1.0) * np.log(self.emission_probs).sum())

    def sample(self, states, rng) -> np.ndarray:
        """Draw (T,) integer labels given a state path."""
        states = np.asarray(states)
        cdf = np.cumsum(self.emission_probs, axis=1)
        u = rng.random(states.shape[0]) * cdf[states, -1]
        return (u[:, None] >= cdf[states]).sum(axis=1).clip(0, self.num_classes - 1)

    def initialize(self, datas, masks, rng, method="kmeans") -> None:
        """"kmeans": empirical symbol frequencies with Dirichlet jitter per state (k-means on
        one-hot labels would only recover the symbols); "random": Dirichlet(1) rows."""
        K, C = self.num_states, self.num_classes
        if method == "random":
            self.emission_probs = rng.dirichlet(np.ones(C), K)
            return
        counts = np.zeros(C)
        for d, m in zip(datas, masks):
            x = self._labels(d, m)
            keep = ~np.isnan(d) if m is None else (m & ~np.isnan(d))
            counts += np.bincount(x[keep], minlength=C)
        freq = (counts + 1.0) / (counts.sum() + C)
        self.emission_probs = rng.dirichlet(freq * 20.0 * C, K)

    def num_parameters(self) -> int:
        """K (C - 1)."""
        return self.num_states * (self.num_classes - 1)
