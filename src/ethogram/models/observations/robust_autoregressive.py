"""Robust autoregressive emissions: the AR model with multivariate Student-t noise (moseq2's
"robust" ARHMM), for data with outlier frames such as tracking glitches.

``x_t | z_t = k ~ t_nu(sum_l A_kl x_{t-l} + b_k, Q_k)`` with fixed degrees of freedom ``nu``
(default 4; not learned). EM treats the t as a scale mixture of Gaussians: for each frame and
state the latent precision has posterior mean ``tau_tk = (nu + D) / (nu + maha_tk)`` under the
current parameters, and the regression statistics are weighted by ``p(z_t = k | x) tau_tk``
(outliers get small weights); the frame counts in the noise update stay unweighted. This is
an exact EM for the observed-data likelihood with the same priors as the Gaussian AR model,
so the objective is monotone.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from .autoregressive import AutoregressiveObservations
from .base import register


@register("robust_autoregressive")
class RobustAutoregressiveObservations(AutoregressiveObservations):
    """Autoregressive emissions with Student-t noise.

    Parameters
    ----------
    num_states, data_dim, num_lags, bias, noise, prior, prior_ridge, prior_count, prior_scale
        As :class:`~ethogram.models.observations.autoregressive.AutoregressiveObservations`.
    nu : float, default 4.0
        Degrees of freedom of the Student-t noise (> 0; large values approach Gaussian).
    """

    def __init__(self, num_states, data_dim, num_lags=1, bias=True, noise="full", prior="default", nu=4.0, **kwargs):
        super().__init__(num_states, data_dim, num_lags, bias, noise, prior, **kwargs)
        nu = float(nu)
        if not np.isfinite(nu) or nu <= 0:
            raise ValueError(f"nu (degrees of freedom) must be a positive number, got {nu!r}")
        self.nu = nu

    def _state_log_density(self, maha, half_logdet):
        D, nu = self.data_dim, self.nu
        const = gammaln(0.5 * (nu + D)) - gammaln(0.5 * nu) - 0.5 * D * np.log(nu * np.pi)
        return const - half_logdet - 0.5 * (nu + D) * np.log1p(maha / nu)

    def _row_weights(self, Z, w):
        maha, _ = self._mahalanobis(Z)
        tau = (self.nu + self.data_dim) / (self.nu + maha)
        return w * tau
