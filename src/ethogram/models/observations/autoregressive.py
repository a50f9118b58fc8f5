"""Autoregressive emissions ``x_t | z_t = k ~ N(sum_l A_kl x_{t-l} + b_k, Q_k)`` (MoSeq's ARHMM).

``emission_dynamics`` is (K, D, L*D) with the lag blocks in order [A_1 ... A_L] (lag 1 first),
so that with ``emission_bias`` (K, D) it forms the course's ``W_k = [A_k1 ... A_kL b_k]``;
``emission_covs`` is (K, D, D), full, diagonal or tied (``noise``).

The first L frames of a sequence (``first_frames``). They have no L lags, so an AR model
cannot score them under a state. ``"unscored"`` (the default of the general ``HMM``) conditions
on them, as regression packages (statsmodels' VAR, ssm's conditional likelihood) do: they are
left out by :meth:`AutoregressiveObservations.effective_mask`, carry zero log-likelihood and no
statistics, so the objective counts only frames the model explains and does not depend on the
data's units or offset through them. ``"standard_normal"`` is the course's convention (the
course classes keep it): the first L frames are N(0, I) whatever the state, a term equal
across states that adds nothing to the statistics but a constant (huge for data far from the
origin) to the objective. Either way a frame t >= L is scored only if it and its L lags are
observed.

Statistics. With ``u_t = [x_{t-1}, ..., x_{t-L}, 1]`` (P entries; no 1 when ``bias=False``)
the statistics per state are ``n_k = sum_t w_tk`` and the Gram matrix of ``[x_t, u_t]``,
i.e. ``S_yy, S_yx, S_xx``, accumulated about the reference point ``c = data_center`` (the
mean training frame; with ``bias=True`` only, since a model without bias is not translation
invariant): the frames enter as ``y_t = x_t - c`` and the regression is ``y_t = sum_l A_kl
y_{t-l} + b^c_k`` with the centred bias ``b^c_k = b_k - (I - sum_l A_kl) c``. Scores use the
same centred form, so data far from the origin lose no precision; all sequences share c, so
statistics add with ``+``.

Prior (``prior="default"``), conjugate and weak, on the centred weights ``W^c_k = [A_k1 ...
A_kL b^c_k]``: ``log p(W_k, Q_k) = -1/2 tr(Q_k^-1 W^c_k Lam W^c_k^T) - n0/2 log|Q_k| - 1/2
tr(Psi Q_k^-1)``, a matrix-normal ``W^c_k ~ MN(0, Q_k, Lam^-1)`` times an inverse-Wishart on
``Q_k`` with scale ``Psi`` and ``nu0 = n0 - D - 1 - P`` degrees of freedom (formally improper
for small n0; the penalised objective still has a unique maximum, even for a state without
data: ``W^c_k = 0, Q_k = Psi / n0``). Defaults, relative to the scale of the training data
(``v_d``, the variance of dimension d, stored as ``data_scale``): ``Lam = diag(lam v, ...,
lam v, lam)`` (one ``v`` block per lag, ``lam`` on the bias) with lam = 1e-4, and ``Psi =
n0 s0 diag(v)`` with n0 = ``prior_count`` = 1, s0 = 1e-4: equally weak in any units, so that
fitting ``a x + b`` gives the fit of ``x`` transformed. ``data_center`` and ``data_scale`` are
set by :meth:`~AutoregressiveObservations.initialize` from all training frames (or, on a model
never initialised, by the first sequence it sees in ``effective_mask`` or ``sufficient_stats``)
and returned by ``get_params``; a constant dimension gets the smallest variance of the others.
Numbers given
as ``prior_ridge`` / ``prior_scale`` are absolute instead (``Lam = lam I``, ``Psi = n0 s0 I``).
The exact MAP is ``W^c_k = S_yx (S_xx + Lam)^-1`` and ``Q_k = (S_yy - W^c_k S_yx^T + Psi) /
(n_k + n0)`` (diag: its diagonal; tied: the scatters and counts summed over states, the IW
term counted once), and :meth:`~AutoregressiveObservations.log_prior` returns that same
expression, so EM increases ``sum marginal_ll + log_prior`` monotonically. ``prior=None`` is
exact weighted least squares (``log_prior() == 0``); a noise covariance that becomes singular
under it raises a ValueError naming the state, its frames and the remedies. All states are
scored with one BLAS product per block of frames (whitened rows ``L_k^-1 [I, -W^c_k]`` applied
to ``[y_t, u_t]``); the statistics are per-state weighted Gram matrices over the (frame,
state) pairs whose contribution is not negligible (what is skipped is bounded by 1e-13 of each
state's total, see :func:`._ar_linalg.weighted_grams`), so their cost follows how
concentrated the posterior is. Sampling and starting values (``sample``, ``initialize``) are in
:mod:`._ar_start`.
"""

from __future__ import annotations

import numpy as np

from ._ar_linalg import (
    lag_closure,
    lagged_rows,
    map_regression,
    residual_norms,
    weighted_grams,
    whitened_regressions,
)
from ._ar_start import ARStartMixin
from ._common import (
    LOG_2PI,
    DataReferenceMixin,
    check_covariances,
    check_float_data,
    check_positive_int,
    check_shape,
    check_stats_reference,
    psi_kernel,
    reference_stats,
    singular_covariance_error,
    singular_states,
    symmetrize,
)
from ._units import unit_free
from .base import ObservationModel, register

__all__ = ["AutoregressiveObservations", "lagged_rows"]

NOISE_TYPES = ("full", "diag", "tied")
FIRST_FRAMES = ("unscored", "standard_normal")
#: relative strength of the default prior (ridge and noise scale, times the data's variance)
DEFAULT_RELATIVE_PRIOR = 1e-4


@register("autoregressive")
class AutoregressiveObservations(ARStartMixin, DataReferenceMixin, ObservationModel):
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
    noise : {"full", "diag", "tied"}, default "full"
        Noise covariance per state, diagonal per state, or one shared full matrix.
    prior : {"default", None}, default "default"
        Weak conjugate prior (see the module docstring) or None for maximum likelihood.
    prior_ridge : float or None, default None
        None: lam = 1e-4 relative to the data's variance (see the module docstring). A
        number: an absolute ridge ``lam I`` on the (centred) dynamics and bias.
    prior_count : float, default 1.0
        n0, pseudo-observations of the noise prior.
    prior_scale : float or None, default None
        None: s0 = 1e-4 relative to the data's variance. A number: the noise prior pulls
        towards ``s0 I`` (data units squared).
    first_frames : {"unscored", "standard_normal"}, default "unscored"
        The first L frames of each sequence: conditioned on (not scored), or N(0, I) as in
        the course (see the module docstring).
    score_dtype : {"float64", "float32"}, default "float64"
        Precision of the scoring GEMM (statistics stay float64); float32 moves log p(x) by
        about 1e-7 nats per frame on standardised data (BENCHMARKS.md, "Scale").

    Attributes
    ----------
    emission_dynamics : ndarray, shape (K, D, L*D)
    emission_bias : ndarray, shape (K, D)
    emission_covs : ndarray, shape (K, D, D)
        Checked where written: symmetric positive definite, diagonal for ``noise="diag"``
        (a full matrix is refused), equal across states for ``"tied"``.
    data_center, data_scale : ndarray, shape (D,), or None
        Mean and per-dimension variance of the training frames (reference point of the
        statistics, centre of the bias prior, and scale of the default prior).
    """

    param_names = ("emission_dynamics", "emission_bias", "emission_covs")
    extra_param_names = ("data_center", "data_scale")

    def __init__(
        self,
        num_states,
        data_dim,
        num_lags=1,
        bias=True,
        noise="full",
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
        if noise not in NOISE_TYPES:
            raise ValueError(f"noise must be one of {NOISE_TYPES}, got {noise!r}")
        self.noise = noise
        if first_frames not in FIRST_FRAMES:
            raise ValueError(f"first_frames must be one of {FIRST_FRAMES}, got {first_frames!r}")
        self.first_frames = first_frames
        if score_dtype not in ("float64", "float32"):
            raise ValueError(f"score_dtype must be 'float64' or 'float32', got {score_dtype!r}")
        self.score_dtype = score_dtype
        if prior not in ("default", None):
            raise ValueError(f"prior must be 'default' or None, got {prior!r}")
        self.prior = prior
        for name, value in (
            ("prior_ridge", prior_ridge),
            ("prior_count", prior_count),
            ("prior_scale", prior_scale),
        ):
            if prior is not None and not (value is None and name != "prior_count"):
                try:
                    ok = np.isfinite(float(value)) and float(value) > 0
                except (TypeError, ValueError):
                    ok = False
                if not ok:
                    raise ValueError(
                        f"{name} must be a finite number > 0 (or None for relative defaults, or "
                        f"prior=None), got {value!r}"
                    )
        self.prior_ridge = (
            0.0 if prior is None else (None if prior_ridge is None else float(prior_ridge))
        )
        self.prior_count = 0.0 if prior is None else float(prior_count)
        self.prior_scale = (
            0.0 if prior is None else (None if prior_scale is None else float(prior_scale))
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
            return check_covariances(name, value, (K, D, D), self.noise)
        return self._check_reference(name, value)

    # ------------------------------------------------------------------ data-derived constants
    def _center(self) -> np.ndarray:
        """Reference point c of the statistics and scores (0 without bias or before data)."""
        if not self.bias or self.data_center is None:
            return np.zeros(self.data_dim)
        return self.data_center

    def _scale(self) -> np.ndarray:
        return np.ones(self.data_dim) if self.data_scale is None else self.data_scale

    def prior_ridge_vector(self) -> np.ndarray:
        """Diagonal of ``Lam`` (P,): ridge on each column of the centred weights."""
        P = self.num_lags * self.data_dim + int(self.bias)
        if self.prior_ridge is not None:
            return np.full(P, self.prior_ridge)
        lam = DEFAULT_RELATIVE_PRIOR
        out = np.concatenate(
            [np.tile(lam * self._scale(), self.num_lags), [lam] if self.bias else []]
        )
        return out

    def prior_psi(self) -> np.ndarray:
        """Diagonal of the inverse-Wishart scale ``Psi`` (D,)."""
        if self.prior_count == 0.0:
            return np.zeros(self.data_dim)
        if self.prior_scale is not None:
            return np.full(self.data_dim, self.prior_count * self.prior_scale)
        return self.prior_count * DEFAULT_RELATIVE_PRIOR * self._scale()

    def step_coordinates(self, params: dict) -> dict:
        """Parameters relative to the training data, where EM's steps are measured
        (:mod:`._units`)."""
        return unit_free(self, params)

    def state_param_names(self):
        """Per-state parameters (a tied noise covariance is shared, so permute leaves it)."""
        return self.param_names[:2] if self.noise == "tied" else self.param_names

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
        if self.first_frames == "unscored":
            eff = lag_closure(
                np.ones(data.shape[0], bool) if observed is None else observed, self.num_lags
            )
            eff[: self.num_lags] = False
            return eff
        if observed is None or observed.all():
            return None
        return lag_closure(observed, self.num_lags)

    def _prepare(self, data, mask) -> tuple[np.ndarray, np.ndarray | None]:
        """Centred finite data ``x - c`` (NaN -> 0) and the frames to score: the caller's
        mask, minus any frame whose own row or a lag row holds NaN (so NaN never leaks into
        a scored frame), minus the first L frames when they are unscored."""
        x = np.asarray(data, dtype=np.float64)
        mask = None if mask is None else np.asarray(mask, dtype=bool)
        if np.isnan(x).any():
            finite = ~np.isnan(x).any(axis=1)
            closure = lag_closure(finite, self.num_lags)
            mask = closure if mask is None else mask & closure
            x = np.nan_to_num(x, nan=0.0)
        if self.first_frames == "unscored" and mask is not None and mask[: self.num_lags].any():
            mask = mask.copy()  # (mask None: callers leave out the first L frames themselves)
            mask[: self.num_lags] = False
        c = self._center()
        if np.any(c != 0.0):
            x = x - c
        return x, mask

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
        W = self._weights_matrix()
        c = self._center()
        if not self.bias or not np.any(c != 0.0):
            return W
        D, L = self.data_dim, self.num_lags
        Asum = W[:, :, : L * D].reshape(self.num_states, D, L, D).sum(axis=2)
        W = W.copy()
        W[:, :, -1] -= c - Asum @ c
        return W

    def _uncentre_bias(self, Wc: np.ndarray) -> np.ndarray:
        """Raw bias ``b_k = b^c_k + (I - sum_l A_kl) c`` from centred weights (K, D, P)."""
        D, L = self.data_dim, self.num_lags
        c = self._center()
        Asum = Wc[:, :, : L * D].reshape(Wc.shape[0], D, L, D).sum(axis=2)
        return Wc[:, :, L * D] + (c - Asum @ c)

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
        T, K, L = y.shape[0], self.num_states, self.num_lags
        W = self._centred_weights()
        out = np.zeros((T, K))
        if self.first_frames == "standard_normal":
            head = np.nan_to_num(np.asarray(data, dtype=np.float64)[: min(L, T)], nan=0.0)
            out[: head.shape[0]] = (
                -0.5 * (self.data_dim * LOG_2PI + np.einsum("ij,ij->i", head, head))
            )[:, None]
        if T > L:
            M, half_logdet = whitened_regressions(self.emission_covs, W)
            maha = residual_norms(y, L, M, out[L:], dtype=np.dtype(self.score_dtype))
            self._state_log_density(maha, half_logdet)
        if mask is not None and not mask[L:].all():
            out[L:][~mask[L:]] = 0.0
        if self.first_frames == "unscored":
            out[:L] = 0.0
        elif mask is not None and not mask[:L].all():
            out[:L][~mask[:L]] = 0.0
        return out

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
        self._m_step(n, G, self.prior_ridge_vector())

    def _m_step(self, n: np.ndarray, G: np.ndarray, ridge: np.ndarray) -> None:
        K, D = self.num_states, self.data_dim
        n0 = self.prior_count
        psi = self.prior_psi()
        W = self._centred_weights().copy()
        scatter = np.zeros((K, D, D))
        # under prior=None a state needs data (a Gram of zeros: all its weights negligible)
        ok = ((n > 0) & (np.trace(G, axis1=1, axis2=2) > 0)) | np.any(ridge > 0)
        for k in np.flatnonzero(ok):
            W[k], scatter[k] = map_regression(G[k], D, ridge)
        Psi = np.diag(psi)
        covs = np.array(self.emission_covs, dtype=np.float64, copy=True)
        if self.noise == "tied":
            if n[ok].sum() + n0 > 0:
                covs[:] = (scatter[ok].sum(axis=0) + Psi) / (n[ok].sum() + n0)
        else:
            for k in np.flatnonzero(ok & (n + n0 > 0)):
                Q = (scatter[k] + Psi) / (n[k] + n0)
                covs[k] = np.diag(np.diag(Q)) if self.noise == "diag" else Q
        covs = symmetrize(covs)
        check = covs[:1] if self.noise == "tied" else covs
        if n0 == 0.0:
            bad = [
                k
                for k in singular_states(check, self.data_scale)
                if self.noise == "tied" or (ok[k] and n[k] > 0)
            ]
        else:
            bad = [k for k in range(check.shape[0]) if np.any(np.linalg.eigvalsh(check[k]) <= 0)]
        if bad:
            k = bad[0]
            count = float(n.sum() if self.noise == "tied" else n[k])
            if n0 == 0.0:
                raise singular_covariance_error("emission_covs", k, count, D)
            raise ValueError(
                f"emission_covs[{k}] is not positive definite after the M-step although the prior "
                f"is on (state {k} holds {count:.4g} expected frames); raise prior_count, leave "
                "prior_scale at None (relative to the data), or drop constant dimensions"
            )
        LD = self.num_lags * D
        self.emission_dynamics = W[:, :, :LD].copy()
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
        covs = self.emission_covs[:1] if self.noise == "tied" else self.emission_covs
        return float(ridge) + psi_kernel(covs, self.prior_count, self.prior_psi())

    def num_parameters(self) -> int:
        """Free parameters: ``K (D L D + D bias)`` plus the noise entries by type."""
        K, D, L = self.num_states, self.data_dim, self.num_lags
        noise = {"full": K * D * (D + 1) // 2, "diag": K * D, "tied": D * (D + 1) // 2}[self.noise]
        return K * (D * L * D + D * int(self.bias)) + noise
