"""Robust autoregressive emissions: the AR model with multivariate Student-t noise (moseq2's
"robust" ARHMM), for data with outlier frames such as tracking glitches.

``x_t | z_t = k ~ t_nu(W_k u_t, Q_k)`` with ``u_t = [x_{t-1}, ..., x_{t-L}, 1]``, ``Q_k`` the
scale matrix and fixed degrees of freedom ``nu`` (default 4; not learned: learning it has no
closed form and moseq2 keeps it fixed too). EM writes the t as a scale mixture of Gaussians,
``x_t ~ N(W_k u_t, Q_k / g_t)`` with ``g_t ~ Gamma(nu/2, rate nu/2)``; under the current
parameters the latent precision has posterior mean ``tau_tk = (nu + D) / (nu + maha_tk)``
(``maha_tk`` the squared Mahalanobis residual), so the statistics are the Gaussian model's
with the Gram matrices weighted by ``p(z_t = k | x) tau_tk`` (outliers get small weights)
while the counts ``n_k`` stay unweighted. The M-step is then the Gaussian one, the exact
maximiser of the expected complete-data objective plus the same prior (see
:mod:`.autoregressive`): a proper EM on the Student-t likelihood, so ``sum marginal_ll +
log_prior`` never decreases.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from ..._deprecation import renamed_keywords
from ._ar_linalg import entry_residual_norms, residual_norms, whitened_regressions
from .autoregressive import AutoregressiveObservations
from .base import register

__all__ = ["RobustAutoregressiveObservations"]


@register("robust_autoregressive")
class RobustAutoregressiveObservations(AutoregressiveObservations):
    """Autoregressive emissions with multivariate Student-t noise.

    Parameters
    ----------
    num_states, data_dim, num_lags, bias, covariance_type, prior, prior_ridge, prior_count,
    prior_scale
        As :class:`~ethogram.models.observations.autoregressive.AutoregressiveObservations`;
        ``emission_covs`` holds the Student-t scale matrices (the covariance is
        ``nu / (nu - 2)`` times larger for nu > 2).
    nu : float, default 4.0
        Degrees of freedom (> 0, held fixed; large values approach the Gaussian model).
    """

    @renamed_keywords(noise="covariance_type")
    def __init__(
        self,
        num_states,
        data_dim,
        num_lags=1,
        bias=True,
        covariance_type="full",
        prior="default",
        nu=4.0,
        **kwargs,
    ):
        super().__init__(num_states, data_dim, num_lags, bias, covariance_type, prior, **kwargs)
        try:
            nu = float(nu)
        except (TypeError, ValueError):
            raise ValueError(
                f"nu (degrees of freedom) must be a positive number, got {nu!r}"
            ) from None
        if not np.isfinite(nu) or nu <= 0:
            raise ValueError(f"nu (degrees of freedom) must be a positive number, got {nu!r}")
        self.nu = nu

    def _state_log_density(self, maha: np.ndarray, half_logdet: np.ndarray) -> np.ndarray:
        """Multivariate Student-t log density from squared Mahalanobis residuals, in place."""
        D, nu = self.data_dim, self.nu
        const = gammaln(0.5 * (nu + D)) - gammaln(0.5 * nu) - 0.5 * D * np.log(nu * np.pi)
        maha /= nu
        np.log1p(maha, out=maha)
        maha *= -0.5 * (nu + D)
        maha += const - half_logdet
        return maha

    def _rescaler(self):
        """Multiply the kept entries' weights by ``tau = (nu + D) / (nu + maha)`` under the
        current parameters (see :func:`._ar_linalg.weighted_grams`)."""
        M, _ = whitened_regressions(self.emission_covs, self._centred_weights())
        nu, D, L = self.nu, self.data_dim, self.num_lags

        def rescale(x, starts, frames, weights):
            return weights * ((nu + D) / (nu + entry_residual_norms(x, L, M, starts, frames)))

        return rescale

    def expected_precisions(self, data, mask=None) -> np.ndarray:
        """``tau_tk``, the posterior mean of each frame's noise precision under each state.

        Parameters
        ----------
        data : ndarray, shape (T, D)
        mask : ndarray of bool, shape (T,), optional

        Returns
        -------
        ndarray, shape (T, K)
            Values in (0, (nu + D) / nu]; small values flag outlier frames. Rows not scored
            (and the first L rows) are 1.
        """
        x, mask = self._prepare(data, mask)
        T, K, L = x.shape[0], self.num_states, self.num_lags
        tau = np.ones((T, K))
        if T > L:
            M, _ = whitened_regressions(self.emission_covs, self._centred_weights())
            maha = residual_norms(x, L, M, np.empty((T - L, K)))
            tau[L:] = (self.nu + self.data_dim) / (self.nu + maha)
        if mask is not None:
            tau[~mask] = 1.0
        return tau

    def _noise(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Student-t noise: Gaussian draws divided by ``sqrt(g)``,
        ``g ~ Gamma(nu/2, rate nu/2)``."""
        gauss = super()._noise(states, rng)
        g = rng.gamma(0.5 * self.nu, 2.0 / self.nu, size=states.shape[0])
        return gauss / np.sqrt(g)[:, None]
