"""Autoregressive emissions ``x_t | z_t = k ~ N(sum_l A_kl x_{t-l} + b_k, Q_k)`` (MoSeq's ARHMM):
the model class, its parameters and statistics. ``emission_dynamics`` is (K, D, L*D) with the lag
blocks in order [A_1 ... A_L] (lag 1 first), so that with ``emission_bias`` (K, D) it forms the
course's ``W_k = [A_k1 ... A_kL b_k]``; ``emission_covs`` is (K, D, D), full, diagonal or tied
(``covariance_type``). The first L frames of a sequence are conditioned on (``"unscored"``) or
N(0, I) (the course's ``"standard_normal"``); statistics are accumulated about the training
data's mean so that data far from the origin lose no precision; the weak conjugate prior is
relative to the data's variance. Its scores are computed in :mod:`._ar_scores`, its prior and
M-step in :mod:`._ar_stats`, its starting values in :mod:`._ar_start`, its linear algebra in
:mod:`._ar_linalg`; the derivations, the defaults and their reasons are in
``docs/autoregressive.md``.
"""

from __future__ import annotations

import numpy as np

from ..._deprecation import renamed_attribute, renamed_keywords
from ._ar_linalg import (
    lagged_rows,
    simulate,
    weighted_grams,
)
from ._ar_scores import centred_frames, frame_log_likes, scored_mask
from ._ar_start import start_parameters
from ._ar_stats import (
    COVARIANCE_TYPES,
    DEFAULT_RELATIVE_PRIOR,
    centre_bias,
    map_parameters,
    prior_settings,
    psi_diagonal,
    ridge_diagonal,
    uncentre_bias,
)
from ._checks import check_covariances, check_float_data, check_positive_int, check_shape
from ._common import LOG_2PI, cholesky, psi_kernel, symmetrize
from ._linalg import check_states
from ._reference import DataReferenceMixin, check_stats_reference, reference_stats
from ._units import unit_free
from .base import ObservationModel, register

__all__ = ["DEFAULT_RELATIVE_PRIOR", "AutoregressiveObservations", "lagged_rows"]

FIRST_FRAMES = ("unscored", "standard_normal")


@register("autoregressive")
class AutoregressiveObservations(DataReferenceMixin, ObservationModel):
    """Vector autoregressive emissions with state-dependent dynamics, bias and noise.

    Parameters
    ----------
    num_states : int
        Number of states K.
    data_dim : int
        Dimension D of each frame.
    num_lags : int, default 1
        Number of lags L.
    bias : bool, default True
        Learn a bias ``b_k`` per state (else it is held at 0).
    covariance_type : {"full", "diag", "tied"}, default "full"
        Noise covariance per state, diagonal per state, or one shared full matrix (spelled as
        the Gaussian model's; ``noise=`` is its deprecated former name).
    prior : {"default", None}, default "default"
        Weak conjugate prior (``docs/autoregressive.md``) or None for maximum likelihood.
    prior_ridge : float or None, default None
        None: lam = 1e-4 relative to the data's variance (``docs/autoregressive.md``). A
        number: an absolute ridge ``lam I`` on the (centred) dynamics and bias.
    prior_count : float, default 1.0
        n0, pseudo-observations of the noise prior.
    prior_scale : float or None, default None
        None: s0 = 1e-4 relative to the data's variance. A number: the noise prior pulls
        towards ``s0 I`` (data units squared).
    first_frames : {"unscored", "standard_normal"}, default "unscored"
        The first L frames of each sequence: conditioned on (not scored), or N(0, I) as in
        the course (``docs/autoregressive.md``).
    score_dtype : {"float64", "float32"}, default "float64"
        Precision of the scoring GEMM (statistics stay float64); float32 moves log p(x) by
        about 1e-7 nats per frame on standardised data (BENCHMARKS.md, "Scale").

    Attributes
    ----------
    emission_dynamics : ndarray, shape (K, D, L*D)
    emission_bias : ndarray, shape (K, D)
    emission_covs : ndarray, shape (K, D, D)
        Checked where written: symmetric positive definite, diagonal for ``covariance_type="diag"``
        (a full matrix is refused), equal across states for ``"tied"``.
    data_center, data_scale : ndarray, shape (D,), or None
        Mean and per-dimension variance of the training frames (reference point of the
        statistics, centre of the bias prior, and scale of the default prior).
    """

    param_names = ("emission_dynamics", "emission_bias", "emission_covs")
    extra_param_names = ("data_center", "data_scale")

    @renamed_keywords(noise="covariance_type")
    def __init__(
        self,
        num_states,
        data_dim,
        num_lags=1,
        bias=True,
        covariance_type="full",
        prior="default",
        prior_ridge=None,
        prior_count=1.0,
        prior_scale=None,
        first_frames="unscored",
        score_dtype="float64",
    ):
        super().__init__(num_states)
        self.data_dim = check_positive_int(data_dim, "data_dim")
        self.num_lags = check_positive_int(num_lags, "num_lags")
        self.bias = bool(bias)
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {COVARIANCE_TYPES}, got {covariance_type!r}"
            )
        self.covariance_type = covariance_type
        if first_frames not in FIRST_FRAMES:
            raise ValueError(f"first_frames must be one of {FIRST_FRAMES}, got {first_frames!r}")
        self.first_frames = first_frames
        if score_dtype not in ("float64", "float32"):
            raise ValueError(f"score_dtype must be 'float64' or 'float32', got {score_dtype!r}")
        self.score_dtype = score_dtype
        self.prior = prior
        self.prior_ridge, self.prior_count, self.prior_scale = prior_settings(
            prior, prior_ridge, prior_count, prior_scale
        )
        K, D, L = self.num_states, self.data_dim, self.num_lags
        self.data_center = None
        self.data_scale = None
        self.emission_dynamics = np.zeros((K, D, L * D))
        self.emission_bias = np.zeros((K, D))
        self.emission_covs = np.tile(np.eye(D), (K, 1, 1))

    def validate_param(self, name, value) -> np.ndarray:
        """Check a parameter where it is written (see :meth:`ObservationModel.validate_param`).

        Shapes (K, D, L*D), (K, D), (K, D, D) and (D,), finite values, noise covariances
        symmetric positive definite of the noise type, ``data_scale`` > 0. Raises
        ValueError naming the parameter.
        """
        K, D, L = self.num_states, self.data_dim, self.num_lags
        if name == "emission_dynamics":
            return check_shape(name, value, (K, D, L * D))
        if name == "emission_bias":
            return check_shape(name, value, (K, D))
        if name == "emission_covs":
            return check_covariances(name, value, (K, D, D), self.covariance_type)
        return self._check_reference(name, value)

    # ------------------------------------------------------------------ data-derived constants
    def _center(self) -> np.ndarray:
        """Reference point c of the statistics and scores (0 without bias or before data)."""
        if not self.bias or self.data_center is None:
            return np.zeros(self.data_dim)
        return self.data_center

    def _scale(self) -> np.ndarray:
        return np.ones(self.data_dim) if self.data_scale is None else self.data_scale

    #: deprecated name of :attr:`covariance_type`
    noise = renamed_attribute("noise", "covariance_type")

    def prior_ridge_vector(self) -> np.ndarray:
        """Diagonal of ``Lam`` (P,): ridge on each column of the centred weights."""
        return ridge_diagonal(self.prior_ridge, self._scale(), self.num_lags, self.bias)

    def prior_psi(self) -> np.ndarray:
        """Diagonal of the inverse-Wishart scale ``Psi`` (D,)."""
        return psi_diagonal(self.prior_count, self.prior_scale, self._scale())

    def step_coordinates(self, params: dict) -> dict:
        """Parameters relative to the training data, where EM's steps are measured
        (:mod:`._units`)."""
        return unit_free(self, params)

    def state_param_names(self):
        """Per-state parameters (a tied noise covariance is shared, so permute leaves it)."""
        return self.param_names[:2] if self.covariance_type == "tied" else self.param_names

    # ------------------------------------------------------------------ data
    def check_data(self, data) -> np.ndarray:
        """Validate one sequence: float (T, D), T >= 1; NaN allowed (masked), no inf. A
        sequence of at most ``num_lags`` frames is valid but has no frame to score: the HMM
        leaves it out of a fit (:mod:`ethogram.models.short_sequences`)."""
        return check_float_data(data, self.data_dim)

    @property
    def min_frames(self) -> int:
        """``num_lags + 1``: a frame is scored only after ``num_lags`` earlier ones."""
        return self.num_lags + 1

    def effective_mask(self, data, mask):
        """Frames the model scores.

        Parameters
        ----------
        data : ndarray, shape (T, D)
            Rows containing NaN count as unobserved.
        mask : ndarray of bool, shape (T,), or None
            True where the frame is observed.

        Returns
        -------
        ndarray of bool, shape (T,), or None
            For t >= L, True iff frames t-L..t are all observed; for t < L, False with
            ``first_frames="unscored"`` and iff frame t is observed with
            ``"standard_normal"``. None when every frame is scored.

        On a model whose ``data_center`` is not set yet (never initialised), the observed
        frames of this sequence set ``data_center`` and ``data_scale`` (so that every
        sequence of a fit, wherever its E-step runs, uses the same reference).
        """
        observed = None if mask is None else np.asarray(mask, dtype=bool)
        nan_rows = np.isnan(data).any(axis=1) if np.isnan(data).any() else None
        if nan_rows is not None:
            observed = ~nan_rows if observed is None else observed & ~nan_rows
        if self.data_center is None:  # a model never initialised: this sequence sets the reference
            self._set_reference(
                np.asarray(data, dtype=np.float64)
                if observed is None
                else np.asarray(data, dtype=np.float64)[observed]
            )
        return scored_mask(observed, data.shape[0], self.num_lags, self.first_frames)

    def _prepare(self, data, mask) -> tuple[np.ndarray, np.ndarray | None]:
        """Centred finite data ``x - c`` (NaN -> 0) and the frames to score: the caller's
        mask, minus any frame whose own row or a lag row holds NaN (so NaN never leaks into
        a scored frame), minus the first L frames when they are unscored."""
        return centred_frames(data, mask, self.num_lags, self.first_frames, self._center())

    def _weights_matrix(self) -> np.ndarray:
        """``W_k = [A_k1 ... A_kL b_k]`` stacked, shape (K, D, L*D + bias), after checking
        shapes."""
        K, D, L = self.num_states, self.data_dim, self.num_lags
        for name, shape in (
            ("emission_dynamics", (K, D, L * D)),
            ("emission_bias", (K, D)),
            ("emission_covs", (K, D, D)),
        ):
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(
                    f"{name} must have shape {shape}, got {np.shape(getattr(self, name))}"
                )
        dyn = np.asarray(self.emission_dynamics, dtype=np.float64)
        if self.bias:
            return np.concatenate(
                [dyn, np.asarray(self.emission_bias, dtype=np.float64)[:, :, None]], axis=2
            )
        return dyn

    def _centred_weights(self) -> np.ndarray:
        """``W^c_k = [A_k1 ... A_kL b^c_k]`` with ``b^c_k = b_k - (I - sum_l A_kl) c``."""
        if not self.bias:
            return self._weights_matrix()
        return centre_bias(self._weights_matrix(), self._center(), self.num_lags)

    def _uncentre_bias(self, Wc: np.ndarray) -> np.ndarray:
        """Raw bias ``b_k = b^c_k + (I - sum_l A_kl) c`` from centred weights (K, D, P)."""
        return uncentre_bias(Wc, self._center(), self.num_lags)

    # ------------------------------------------------------------------ likelihoods
    def _state_log_density(self, maha: np.ndarray, half_logdet: np.ndarray) -> np.ndarray:
        """Per-state log density from squared Mahalanobis residuals (n, K), in place."""
        maha *= -0.5
        maha -= 0.5 * self.data_dim * LOG_2PI + half_logdet
        return maha

    def log_likelihoods(self, data, mask=None) -> np.ndarray:
        """``log p(x_t | x_{t-L:t-1}, z_t = k)`` for every frame and state.

        Parameters
        ----------
        data : ndarray, shape (T, D)
        mask : ndarray of bool, shape (T,), optional
            Frames to score, usually :meth:`effective_mask`; frames whose row or lags hold
            NaN are never scored.

        Returns
        -------
        log_likes : ndarray, shape (T, K)
            Rows t < L: zero (``first_frames="unscored"``) or the N(0, I) log density of
            the raw frame, equal across states (``"standard_normal"``); zero rows for frames
            not scored.
        """
        y, mask = self._prepare(data, mask)
        return frame_log_likes(
            data,
            y,
            mask,
            self._centred_weights(),
            self.emission_covs,
            self.num_lags,
            self.first_frames,
            self.score_dtype,
            self._state_log_density,
        )

    # ------------------------------------------------------------------ EM
    def _rescaler(self):
        """Callable rescaling the kept entries' weights (None: the posterior itself)."""
        return None

    def sufficient_stats(self, data, expected_states, mask=None) -> dict:
        """Expected regression statistics of one sequence (summable across sequences).

        Parameters
        ----------
        data : ndarray, shape (T, D)
        expected_states : ndarray, shape (T, K)
            Posterior state probabilities (non-negative).
        mask : ndarray of bool, shape (T,), optional
            Frames scored (as for :meth:`log_likelihoods`); the others get no weight.

        Returns
        -------
        dict
            ``n`` (K,): weight of the scored frames t >= L per state; ``G`` (K, D+P, D+P):
            ``sum_t w_tk [y_t, u_t] [y_t, u_t]^T`` over those frames (blocks ``S_yy``,
            ``S_yx``, ``S_xx``), with ``y_t = x_t - data_center`` (with bias; ``x_t``
            without) and ``u_t = [y_{t-1}, ..., y_{t-L}, (1)]``; ``center`` (D,) and
            ``frames`` (), the reference point times the total weight ``sum_k n_k`` and that
            total, so
            that an M-step can check that summed statistics share its reference.
        """
        if self.data_center is None:
            raw = np.asarray(data, dtype=np.float64)
            keep = ~np.isnan(raw).any(axis=1)
            if mask is not None:
                keep &= np.asarray(mask, dtype=bool)
            self._set_reference(raw[keep])
        x, mask = self._prepare(data, mask)
        T, K, L = x.shape[0], self.num_states, self.num_lags
        w = np.asarray(expected_states, dtype=np.float64)
        if w.shape != (T, K):
            raise ValueError(f"expected_states must have shape ({T}, {K}), got {w.shape}")
        w = w[L:]
        low = w.min(initial=0.0)
        if not low >= 0.0:
            if not low >= -1e-9:
                raise ValueError(
                    "expected_states must be finite and non-negative (posterior probabilities)"
                )
            w = np.maximum(w, 0.0)
        if mask is not None and not mask[L:].all():
            w = w * mask[L:, None]
        n = w.sum(axis=0)
        return {
            "n": n,
            "G": weighted_grams(x, L, self.bias, w, self._rescaler()),
            **reference_stats(self._center(), n.sum()),
        }

    def m_step(self, stats) -> None:
        """Set dynamics, bias and noise to their MAP (or least-squares) values.

        Parameters
        ----------
        stats : dict
            Summed :meth:`sufficient_stats`. Under ``prior=None`` a state with no weight
            keeps its parameters (with the prior it gets the prior mode: ``W^c_k = 0``,
            ``Q_k = Psi / n0``).

        Raises
        ------
        ValueError
            Under ``prior=None``, when a noise covariance becomes singular (constant or
            collinear dimensions, a noise-free stretch, too few frames): names the state,
            its expected frames and the remedies.
        """
        n, G = (
            np.asarray(stats["n"], dtype=np.float64),
            symmetrize(np.asarray(stats["G"], dtype=np.float64)),
        )
        K, D = self.num_states, self.data_dim
        P1 = D + self.num_lags * D + int(self.bias)
        if G.shape != (K, P1, P1) or n.shape != (K,):
            raise ValueError(
                f"stats must hold 'n' of shape ({K},) and 'G' of shape ({K}, {P1}, {P1}), got "
                f"{n.shape} and {G.shape}"
            )
        ref = check_stats_reference(
            stats, self._center() if self.data_center is not None or not self.bias else None, D
        )
        if self.bias and self.data_center is None and ref is not None:
            raise ValueError(
                "stats were accumulated about a reference point (data_center) this model does not "
                "have; compute them with this model, or set its data_center (set_params) first"
            )
        W, covs = map_parameters(
            n,
            G,
            self.prior_ridge_vector(),
            self.prior_psi(),
            self.prior_count,
            self.covariance_type,
            self._centred_weights(),
            self.emission_covs,
            self.data_scale,
        )
        self._set_centred(W, covs)

    def _set_centred(self, W: np.ndarray, covs: np.ndarray) -> None:
        """Set dynamics, bias and covariances from centred weights ``W^c`` (K, D, P)."""
        self.emission_dynamics = W[:, :, : self.num_lags * self.data_dim].copy()
        if self.bias:
            self.emission_bias = self._uncentre_bias(W)
        self.emission_covs = covs

    def log_prior(self) -> float:
        """``sum_k -1/2 tr(Q_k^-1 W^c_k Lam W^c_k^T)`` plus the IW term at the current
        parameters (0 for ``prior=None``).

        The IW term is ``sum_k -n0/2 log|Q_k| - 1/2 tr(Psi Q_k^-1)``, counted once when tied.
        """
        if self.prior is None:
            return 0.0
        W = self._centred_weights()
        Qinv = np.linalg.inv(self.emission_covs)
        ridge = -0.5 * np.einsum("kij,kjp,p,kip->", Qinv, W, self.prior_ridge_vector(), W)
        covs = self.emission_covs[:1] if self.covariance_type == "tied" else self.emission_covs
        return float(ridge) + psi_kernel(covs, self.prior_count, self.prior_psi())

    def num_parameters(self) -> int:
        """Free parameters: ``K (D L D + D bias)`` plus the noise entries by type."""
        K, D, L = self.num_states, self.data_dim, self.num_lags
        noise = {"full": K * D * (D + 1) // 2, "diag": K * D, "tied": D * (D + 1) // 2}[
            self.covariance_type
        ]
        return K * (D * L * D + D * int(self.bias)) + noise

    # ------------------------------------------------------------------ outside EM
    def _noise(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Noise draws (T, D) for the given states."""
        chols = cholesky(self.emission_covs)
        eps = rng.standard_normal((states.shape[0], self.data_dim))
        return np.einsum("tij,tj->ti", chols[states], eps)

    def sample(self, states, rng) -> np.ndarray:
        """Draw one sequence given a state path.

        Parameters
        ----------
        states : array_like of int, shape (T,)
        rng : numpy.random.Generator

        Returns
        -------
        ndarray, shape (T, D)
            ``x_t = W_{z_t} u_t + noise`` for t >= L (noise Gaussian, or Student-t for the
            robust model), computed about ``data_center``. The first L frames, which the
            model does not score: N(0, I) with ``first_frames="standard_normal"``, else
            state z_t's fixed point ``(I - sum_l A_kl)^-1 b_k`` (``data_center`` when that
            matrix is singular) plus one draw of its noise.
        """
        states = check_states(states, self.num_states)
        noise = self._noise(states, rng)
        return simulate(
            self._centred_weights(),
            self._center(),
            noise,
            states,
            self.num_lags,
            self.bias,
            self.first_frames == "standard_normal",
            rng,
        )

    def initialize(self, sequences, masks, rng, method="kmeans") -> None:
        """Starting parameters from data.

        Both set ``data_center`` and ``data_scale`` from all observed frames (the reference
        of the statistics and the scale of the default prior). ``"kmeans"``: k-means on
        per-frame features (the innovation under one linear dynamics fitted to frame-to-frame
        differences, position, velocity, and the innovation's local log energy), then a ridge
        regression per cluster (:func:`._ar_start.kmeans_start`). ``"random"``: lag-1
        dynamics ``0.9 I`` plus a small random perturbation, biases placing each state's
        fixed point at a random frame, noise the covariance of frame-to-frame differences.
        The choices and their measured effect: ``docs/autoregressive.md``, "Starting values".

        Parameters
        ----------
        sequences : list of ndarray, shape (T_i, D)
        masks : list of (ndarray of bool, shape (T_i,), or None)
            Frames scored (as for :meth:`log_likelihoods`).
        rng : numpy.random.Generator
        method : {"kmeans", "random"}
        """
        start_parameters(self, sequences, masks, rng, method)
