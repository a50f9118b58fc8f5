"""Poisson emissions: each of D count channels is ``Poisson(emission_rates[k, d])`` given state k.

For spike counts, event counts per bin, or any non-negative whole-number features. The
prior on each rate is Gamma(shape a0, rate b0) with weak defaults a0 = 1.01, b0 = 0.01 that
keep rates strictly positive; its log density up to a constant is
``sum_kd (a0 - 1) log r_kd - b0 r_kd``, and the MAP M-step is
``r_kd = (sum_t w_tk x_td + a0 - 1) / (sum_t w_tk + b0)``. ``prior=None`` (a0 = 1, b0 = 0)
is maximum likelihood.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from ._checks import check_float_data, check_positive_int, check_shape
from ._common import frame_weights
from ._kmeans import kmeans_labels, observed_rows
from ._linalg import check_init_method, check_states, observed_frames
from .base import ObservationModel, register


@register("poisson")
class PoissonObservations(ObservationModel):
    """Independent Poisson counts per dimension.

    Parameters
    ----------
    num_states : int
        Number of states K.
    data_dim : int
        Number of count channels D.
    prior : {"default", None}, default "default"
        ``None`` gives maximum-likelihood M-steps (and ``log_prior() == 0``).
    prior_shape : float, default 1.01
        Gamma shape a0 (>= 1, so that the MAP exists).
    prior_rate : float, default 0.01
        Gamma rate b0 (>= 0).

    Attributes
    ----------
    emission_rates : ndarray, shape (K, D)
    """

    param_names = ("emission_rates",)

    def __init__(self, num_states, data_dim, prior="default", prior_shape=1.01, prior_rate=0.01):
        super().__init__(num_states)
        self.data_dim = check_positive_int(data_dim, "data_dim")
        if prior not in ("default", None):
            raise ValueError(f"prior must be 'default' or None, got {prior!r}")
        self.prior = prior
        if prior is not None:
            if not (np.isfinite(prior_shape) and prior_shape >= 1.0):
                raise ValueError(
                    "prior_shape must be a finite number >= 1 for the MAP to exist, got "
                    f"{prior_shape!r}"
                )
            if not (np.isfinite(prior_rate) and prior_rate >= 0.0):
                raise ValueError(f"prior_rate must be a finite number >= 0, got {prior_rate!r}")
        self.prior_shape = 1.0 if prior is None else float(prior_shape)
        self.prior_rate = 0.0 if prior is None else float(prior_rate)
        self.emission_rates = np.ones((self.num_states, self.data_dim))

    def validate_param(self, name, value) -> np.ndarray:
        """``emission_rates`` checked where written: shape (K, D), finite, non-negative.

        A rate of exactly 0 is allowed (a channel that never fires in a state, as the
        maximum-likelihood fit gives); a positive count then scores ``-inf`` under that state.
        Raises ValueError naming the parameter.
        """
        r = check_shape(name, value, (self.num_states, self.data_dim))
        if np.any(r < 0):
            k, d = np.argwhere(r < 0)[0]
            raise ValueError(f"{name} must be non-negative; {name}[{k}, {d}] = {r[k, d]:g}")
        return r

    def check_data(self, data) -> np.ndarray:
        """Validate one sequence of counts.

        Parameters
        ----------
        data : array_like, shape (T, D) (or (T,) when D == 1)
            Non-negative whole numbers (ints or floats); NaN marks a missing value.

        Returns
        -------
        data : ndarray, shape (T, D), float64
        """
        x = check_float_data(data, self.data_dim)
        finite = x[~np.isnan(x)]
        if np.any(finite < 0) or np.any(finite != np.round(finite)):
            bad = finite[(finite < 0) | (finite != np.round(finite))][0]
            raise ValueError(
                "data must hold non-negative whole-number counts (NaN marks a missing frame); "
                f"found {bad:g}"
            )
        return x

    def _rates(self) -> np.ndarray:
        r = np.asarray(self.emission_rates, dtype=np.float64)
        if r.shape != (self.num_states, self.data_dim):
            raise ValueError(
                f"emission_rates must have shape ({self.num_states}, {self.data_dim}), got "
                f"{r.shape}"
            )
        if not (np.all(np.isfinite(r)) and np.all(r >= 0)):
            raise ValueError("emission_rates must be finite and non-negative")
        return r

    def log_likelihoods(self, data, mask=None) -> np.ndarray:
        """``sum_d x_td log r_kd - r_kd - log x_td!`` for every frame and state.

        Parameters
        ----------
        data : array_like, shape (T, D)
            Counts; NaN allowed only in masked frames.
        mask : array_like of bool, shape (T,), optional

        Returns
        -------
        log_likes : ndarray, shape (T, K)
            Zero rows for masked frames; ``-inf`` where a zero rate meets a positive count.
        """
        x, mask = observed_frames(data, mask, self.data_dim)
        rates = self._rates()
        zero = rates == 0
        with np.errstate(divide="ignore"):
            log_rates = np.where(zero, 0.0, np.log(rates))
        out = x @ log_rates.T
        out -= rates.sum(axis=1)
        out -= gammaln(x + 1.0).sum(axis=1)[:, None]
        if zero.any():  # 0 log 0 = 0; a positive count on a zero rate is impossible
            out[((x > 0).astype(np.float64) @ zero.T.astype(np.float64)) > 0] = -np.inf
        if mask is not None and not mask.all():
            out[~mask] = 0.0
        return out

    def sufficient_stats(self, data, expected_states, mask=None) -> dict:
        """Expected sufficient statistics of one sequence (summable across sequences).

        Parameters
        ----------
        data : array_like, shape (T, D)
        expected_states : array_like, shape (T, K)
        mask : array_like of bool, shape (T,), optional
            Masked frames get no weight.

        Returns
        -------
        dict
            ``n`` (K,): ``sum_t w_tk``; ``x`` (K, D): ``sum_t w_tk x_t``.
        """
        x, mask = observed_frames(data, mask, self.data_dim)
        w = frame_weights(expected_states, mask, x.shape[0], self.num_states)
        return {"n": w.sum(axis=0), "x": w.T @ x}

    def m_step(self, stats) -> None:
        """Set ``emission_rates`` to the Gamma MAP (MLE when ``prior=None``).

        A state with no weight and no prior keeps its rates.

        Parameters
        ----------
        stats : dict
            Summed :meth:`sufficient_stats`.
        """
        K, D = self.num_states, self.data_dim
        for key, shape in (("n", (K,)), ("x", (K, D))):
            if key not in stats:
                raise ValueError(
                    f"stats lacks {key!r}; pass the (summed) output of sufficient_stats"
                )
            if np.shape(stats[key]) != shape:
                raise ValueError(
                    f"stats[{key!r}] must have shape {shape}, got {np.shape(stats[key])}"
                )
        num = np.asarray(stats["x"], dtype=np.float64) + (self.prior_shape - 1.0)
        den = np.asarray(stats["n"], dtype=np.float64) + self.prior_rate
        ok = den > 0
        rates = np.array(self.emission_rates, dtype=np.float64, copy=True)
        rates[ok] = num[ok] / den[ok, None]
        self.emission_rates = rates

    def log_prior(self) -> float:
        """Gamma log density of ``emission_rates``, up to a constant.

        Returns
        -------
        float
            ``sum_kd (a0 - 1) log r_kd - b0 r_kd``; 0 for ``prior=None``.
        """
        r = np.asarray(self.emission_rates, dtype=np.float64)
        value = -self.prior_rate * r.sum()
        if self.prior_shape != 1.0:
            with np.errstate(divide="ignore"):
                value += (self.prior_shape - 1.0) * np.log(r).sum()
        return float(value)

    def sample(self, states, rng) -> np.ndarray:
        """Draw counts given a state path.

        Parameters
        ----------
        states : array_like of int, shape (T,)
        rng : numpy.random.Generator

        Returns
        -------
        data : ndarray, shape (T, D), float64 whole numbers
        """
        z = check_states(states, self.num_states)
        return rng.poisson(self._rates()[z]).astype(np.float64)

    def initialize(self, sequences, masks, rng, method="kmeans") -> None:
        """Set starting ``emission_rates`` from the observed frames of all sequences.

        ``"kmeans"``: scikit-learn k-means (seeded from ``rng``) on square-root counts
        (variance-stabilised), centred and scaled robustly per channel with constant
        channels left out; rates = cluster means + 1e-3 (the overall mean for an empty
        cluster, e.g. with fewer distinct frames than states). ``"random"``: the overall mean
        times Gamma(4, 1/4) factors, + 1e-3.

        Parameters
        ----------
        sequences : list of ndarray, each of shape (T_n, D)
        masks : list of (ndarray of bool, shape (T_n,), or None)
        rng : numpy.random.Generator
        method : {"kmeans", "random"}
        """
        check_init_method(method)
        x = observed_rows(sequences, masks)
        K = self.num_states
        if x.shape[0] < K:
            raise ValueError(
                f"initialisation needs at least num_states={K} observed frames, got {x.shape[0]}"
            )
        if method == "random":
            self.emission_rates = x.mean(axis=0) * rng.gamma(4.0, 0.25, (K, self.data_dim)) + 1e-3
            return
        labels = kmeans_labels(np.sqrt(x), K, rng, standardize=True)
        rates = np.empty((K, self.data_dim))
        for k in range(K):
            pts = x[labels == k]
            rates[k] = (pts.mean(axis=0) if len(pts) else x.mean(axis=0)) + 1e-3
        self.emission_rates = rates

    def num_parameters(self) -> int:
        """Number of free parameters, ``K D``.

        Returns
        -------
        int
        """
        return self.num_states * self.data_dim
