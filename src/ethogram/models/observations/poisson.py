"""Poisson emissions: each of D count channels is ``Poisson(emission_rates[k, d])`` given state k.

For spike counts, event counts per bin, or any non-negative whole-number features. The
prior on each rate is Gamma(shape a0, rate b0) with weak defaults a0 = 1.01, b0 = 0.01 that
keep rates strictly positive; the MAP M-step is ``(sum w x + a0 - 1) / (sum w + b0)``, and
``prior=None`` is maximum likelihood.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from ._common import check_float_data, check_positive_int, filled, frame_weights, kmeans_labels, observed_rows
from .base import ObservationModel, register


@register("poisson")
class PoissonObservations(ObservationModel):
    """Independent Poisson counts per dimension.

    Parameters
    ----------
    num_states : int
    data_dim : int
        Number of count channels D.
    prior : {"default", None}
    prior_shape, prior_rate : float, default 1.01 and 0.01
        Gamma prior on every rate.
    """

    param_names = ("emission_rates",)

    def __init__(self, num_states, data_dim, prior="default", prior_shape=1.01, prior_rate=0.01):
        super().__init__(num_states)
        self.data_dim = check_positive_int(data_dim, "data_dim")
        if prior not in ("default", None):
            raise ValueError(f"prior must be 'default' or None, got {prior!r}")
        self.prior = prior
        self.prior_shape = 1.0 if prior is None else float(prior_shape)
        self.prior_rate = 0.0 if prior is None else float(prior_rate)
        if self.prior_shape < 1.0 or self.prior_rate < 0.0:
            raise ValueError("prior_shape must be >= 1 and prior_rate >= 0 for the MAP to exist")
        self.emission_rates = np.ones((self.num_states, self.data_dim))

    def check_data(self, data) -> np.ndarray:
        """One sequence of counts (T, D): non-negative whole numbers, NaN for missing."""
        x = check_float_data(data, self.data_dim)
        finite = x[~np.isnan(x)]
        if np.any(finite < 0) or np.any(finite != np.round(finite)):
            raise ValueError("data must hold non-negative whole-number counts (NaN marks a missing frame)")
        return x

    def log_likelihoods(self, data, mask=None) -> np.ndarray:
        """``sum_d x_td log r_kd - r_kd - log x_td!``, shape (T, K); zero rows where masked."""
        x = filled(data, mask)
        rates = self.emission_rates
        with np.errstate(divide="ignore"):
            log_rates = np.log(rates)
        # 0 * log(0) = 0: a zero rate only rules out frames with a positive count there
        log_rates = np.where(np.isneginf(log_rates), -1e300, log_rates)
        out = x @ log_rates.T - rates.sum(axis=1) - gammaln(x + 1.0).sum(axis=1)[:, None]
        if mask is not None and not mask.all():
            out[~mask] = 0.0
        return out

    def sufficient_stats(self, data, expected_states, mask=None) -> dict:
        """Weighted counts ``n`` (K,) and weighted sums ``x`` (K, D)."""
        x = filled(data, mask)
        w = frame_weights(expected_states, mask, x.shape[0], self.num_states)
        return {"n": w.sum(axis=0), "x": w.T @ x}

    def m_step(self, stats) -> None:
        """Gamma MAP; a state with no data and no prior keeps its rates."""
        num = stats["x"] + (self.prior_shape - 1.0)
        den = stats["n"] + self.prior_rate
        ok = den > 0
        rates = self.emission_rates.copy()
        rates[ok] = num[ok] / den[ok, None]
        self.emission_rates = rates

    def log_prior(self) -> float:
        """Gamma log density (up to a constant); 0 for ``prior=None``."""
        if self.prior is None:
            return 0.0
        r = self.emission_rates
        return float(np.sum((self.prior_shape - 1.0) * np.log(r) - self.prior_rate * r))

    def sample(self, states, rng) -> np.ndarray:
        """Draw (T, D) counts given a state path."""
        return rng.poisson(self.emission_rates[np.asarray(states)]).astype(np.float64)

    def initialize(self, datas, masks, rng, method="kmeans") -> None:
        """k-means on square-root counts (variance-stabilised) then cluster means; or random."""
        x = observed_rows(datas, masks)
        K = self.num_states
        if x.shape[0] < K:
            raise ValueError(f"initialisation needs at least {K} observed frames, got {x.shape[0]}")
        if method == "random":
            self.emission_rates = x.mean(0) * rng.gamma(4.0, 0.25, (K, self.data_dim)) + 1e-3
            return
        labels = kmeans_labels(np.sqrt(x), K, rng)
        rates = np.empty((K, self.data_dim))
        for k in range(K):
            pts = x[labels == k]
            rates[k] = (pts.mean(0) if len(pts) else x.mean(0)) + 1e-3
        self.emission_rates = rates

    def num_parameters(self) -> int:
        """K D."""
        return self.num_states * self.data_dim
