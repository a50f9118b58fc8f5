"""The named HMM families (Gaussian, autoregressive, categorical, Poisson) under the course's
names, so a STATS305C notebook runs on ethogram: ``GaussianHMM``, ``AutoregressiveHMM``,
``CategoricalHMM`` and ``PoissonHMM`` are :class:`~ethogram.models.hmm.HMM` subclasses whose
emission parameters are plain attributes (``emission_means``, ``emission_covs``,
``emission_dynamics``, ...) and which add the course's ``e_step(data)`` and ``m_step(data,
posterior)``. The initial distribution (uniform to start) and the transition matrix (``0.9 I +
0.1 / K`` to start) are learned by EM, as in every HMM library users know;
``learn_initial=False, learn_transitions=False`` holds them fixed, which reproduces the course
exactly. ``fit`` returns a result that unpacks to the course's ``(lls, posterior)``. (Formerly
``ethogram.models.course``, still importable with a DeprecationWarning.)
"""

from __future__ import annotations

import numpy as np

from .._deprecation import renamed_keywords
from ..inference import HMMPosterior, forward_backward, one_blas_thread
from .hmm import HMM
from .portable import register_model_class


def _emission_property(name: str, doc: str):
    def getter(self):
        return getattr(self.observations, name)

    def setter(self, value):
        current = np.asarray(getattr(self.observations, name))
        arr = np.array(value, dtype=np.float64, copy=True)
        if arr.shape != current.shape:
            raise ValueError(f"{name} must have shape {current.shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite")
        setattr(self.observations, name, arr)

    return property(getter, setter, doc=doc)


class _CourseMixin:
    """The course's single-sequence ``e_step`` / ``m_step`` on top of :class:`HMM`."""

    def e_step(self, data, mask=None) -> HMMPosterior:
        """Posterior of one sequence under the current parameters.

        Parameters
        ----------
        data : array_like, shape (T, ...)
        mask : array_like of bool, shape (T,), optional

        Returns
        -------
        HMMPosterior
            ``expected_states`` (T, K), ``marginal_ll``, ``expected_transitions`` (K, K).
        """
        (d,), (m,), _ = self._prepare(data, mask)
        (log_likes,) = self._log_likes([d], [m])
        return forward_backward(self.initial_probs, self.transition_matrix, log_likes)

    def m_step(self, data, posterior: HMMPosterior, mask=None) -> None:
        """Update the parameters from one sequence and its posterior (closed-form MAP).

        Parameters
        ----------
        data : array_like, shape (T, ...)
        posterior : HMMPosterior
            As returned by :meth:`e_step` for the same data.
        mask : array_like of bool, shape (T,), optional
        """
        (d,), (m,), _ = self._prepare(data, mask)
        es = np.asarray(posterior.expected_states, dtype=np.float64)
        if es.shape != (d.shape[0], self.num_states):
            raise ValueError(
                f"posterior.expected_states has shape {es.shape}, expected ({d.shape[0]}, "
                f"{self.num_states})"
            )
        with one_blas_thread():
            self.observations.m_step(self.observations.sufficient_stats(d, es, m))
        self.initial.m_step(es[0])
        xi = getattr(posterior, "expected_transitions", None)
        if xi is not None:
            self.transitions.m_step(xi)


def _random_rng(seed):
    return np.random.default_rng(seed)


@register_model_class
class GaussianHMM(_CourseMixin, HMM):
    """The course's Gaussian HMM.

    Parameters
    ----------
    num_states : int
    data_dim : int
    covariance_type : {"full", "diag", "tied", "spherical"}, default "full"
    learn_initial, learn_transitions : bool, default True
        Learned by EM, as in every HMM library; False holds them fixed at their starting
        values (uniform, ``0.9 I + 0.1 / K`` or the ``initial_probs`` /
        ``transition_matrix`` given): the course's setting.
    seed : int, optional
        Seeds the random starting means (standard normal); covariances start at I.
    **kwargs
        Passed on to :class:`HMM` (``initial_probs``, ``transition_matrix``, ``kappa``, ...)
        or, for ``prior`` and prior hyperparameters, to the observation model.
    """

    emission_means = _emission_property("emission_means", "Means, shape (K, D).")
    emission_covs = _emission_property("emission_covs", "Covariances, shape (K, D, D).")

    def __init__(
        self,
        num_states,
        data_dim,
        covariance_type="full",
        learn_initial=True,
        learn_transitions=True,
        seed=None,
        prior="default",
        **kwargs,
    ):
        super().__init__(
            num_states,
            "gaussian",
            dict(data_dim=data_dim, covariance_type=covariance_type, prior=prior),
            learn_initial=learn_initial,
            learn_transitions=learn_transitions,
            **kwargs,
        )
        rng = _random_rng(seed)
        self.observations.emission_means = rng.standard_normal((self.num_states, int(data_dim)))
        self.observations.emission_covs = np.tile(np.eye(int(data_dim)), (self.num_states, 1, 1))


@register_model_class
class AutoregressiveHMM(_CourseMixin, HMM):
    """The course's autoregressive HMM: ``x_t ~ N(sum_l A_kl x_{t-l} + b_k, Q_k)``.

    Parameters
    ----------
    num_states : int
    data_dim : int
    num_lags : int, default 1
    bias : bool, default True
    covariance_type : {"full", "diag", "tied"}, default "full"
        The noise covariance per state (``noise=`` is its deprecated former name).
    learn_initial, learn_transitions : bool, default True
        Learned by EM, as in every HMM library; False holds them fixed at their starting
        values (uniform, ``0.9 I + 0.1 / K`` or the ``initial_probs`` /
        ``transition_matrix`` given): the course's setting.
    seed : int, optional
        Seeds the random starting dynamics; the noise covariances start at I.
    **kwargs
        Passed on to :class:`HMM`.
    """

    emission_dynamics = _emission_property(
        "emission_dynamics", "Dynamics [A_1 ... A_L], shape (K, D, L*D)."
    )
    emission_bias = _emission_property("emission_bias", "Biases, shape (K, D).")
    emission_covs = _emission_property("emission_covs", "Noise covariances, shape (K, D, D).")
    emission_cov = emission_covs

    @renamed_keywords(noise="covariance_type")
    def __init__(
        self,
        num_states,
        data_dim,
        num_lags=1,
        bias=True,
        covariance_type="full",
        learn_initial=True,
        learn_transitions=True,
        seed=None,
        prior="default",
        **kwargs,
    ):
        super().__init__(
            num_states,
            "autoregressive",
            dict(
                data_dim=data_dim,
                num_lags=num_lags,
                bias=bias,
                covariance_type=covariance_type,
                prior=prior,
                first_frames="standard_normal",
            ),
            learn_initial=learn_initial,
            learn_transitions=learn_transitions,
            **kwargs,
        )
        rng = _random_rng(seed)
        K, D, L = self.num_states, int(data_dim), int(num_lags)
        dyn = np.zeros((K, D, L * D))
        for k in range(K):
            dyn[k, :, :D] = 0.9 * np.eye(D) + 0.05 * rng.standard_normal((D, D)) / np.sqrt(D)
        self.observations.emission_dynamics = dyn
        self.observations.emission_bias = rng.standard_normal((K, D)) if bias else np.zeros((K, D))
        self.observations.emission_covs = np.tile(np.eye(D), (K, 1, 1))

    @property
    def num_lags(self) -> int:
        """Number of autoregressive lags L."""
        return self.observations.num_lags


@register_model_class
class CategoricalHMM(_CourseMixin, HMM):
    """The worksheet's discrete HMM: ``x_t | z_t = k ~ Categorical(emission_probs[k])``.

    Parameters
    ----------
    num_states : int
    num_classes : int
    learn_initial, learn_transitions : bool, default True
        False holds them fixed (the course's setting).
    seed : int, optional
        Seeds the random starting emission probabilities (Dirichlet(1) rows).
    **kwargs
        Passed on to :class:`HMM` (e.g. ``initial_probs``, ``transition_matrix``).
    """

    emission_probs = _emission_property("emission_probs", "Emission probabilities, shape (K, C).")

    def __init__(
        self,
        num_states,
        num_classes,
        learn_initial=True,
        learn_transitions=True,
        seed=None,
        prior="default",
        **kwargs,
    ):
        super().__init__(
            num_states,
            "categorical",
            dict(num_classes=num_classes, prior=prior),
            learn_initial=learn_initial,
            learn_transitions=learn_transitions,
            **kwargs,
        )
        rng = _random_rng(seed)
        self.observations.emission_probs = rng.dirichlet(np.ones(int(num_classes)), self.num_states)


@register_model_class
class PoissonHMM(_CourseMixin, HMM):
    """HMM with independent Poisson counts per dimension: rates ``emission_rates`` (K, D).

    Parameters
    ----------
    num_states : int
    data_dim : int
    learn_initial, learn_transitions : bool, default True
        False holds them fixed (the course's setting).
    seed : int, optional
        Seeds the random starting rates (Gamma(1, 1) draws).
    **kwargs
        Passed on to :class:`HMM`.
    """

    emission_rates = _emission_property("emission_rates", "Poisson rates, shape (K, D).")

    def __init__(
        self,
        num_states,
        data_dim,
        learn_initial=True,
        learn_transitions=True,
        seed=None,
        prior="default",
        **kwargs,
    ):
        super().__init__(
            num_states,
            "poisson",
            dict(data_dim=data_dim, prior=prior),
            learn_initial=learn_initial,
            learn_transitions=learn_transitions,
            **kwargs,
        )
        rng = _random_rng(seed)
        self.observations.emission_rates = rng.gamma(1.0, 1.0, (self.num_states, int(data_dim)))
