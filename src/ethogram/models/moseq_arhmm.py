"""MoSeq's sticky HDP-ARHMM by Gibbs sampling: the model moseq2-model and keypoint-MoSeq fit.

Weak-limit sticky HDP transitions (``beta ~ Dir(gamma/K)``, ``pi_k ~ Dir(alpha beta + kappa
e_k)``, redrawn through auxiliary table counts), AR(L) dynamics per syllable under a
matrix-normal inverse-Wishart prior, syllables by forward filtering, backward sampling with a
uniform initial distribution, as jax-moseq 0.3.7 does (``models/arhmm``; sections 2, 3.1-3.3
and 5 of ../shared/models/keypoint_moseq_model.md), with MoSeq's defaults (:class:`MoseqPrior`).
Inputs are any (T, D) arrays with masks, expected **whitened** as MoSeq's are (the prior's
``S_0 = 0.01 I`` and ``K_0 = 10 I`` are relative to unit variance;
:class:`ethogram.prep.whitening.Whitening`). :meth:`StickyHDPARHMM.fit` runs
:func:`ethogram.fitting.gibbs.run_gibbs`; the sweep's pieces are in :mod:`.gibbs.arhmm`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from .._deprecation import renamed_keywords
from ..errors import ArgumentError
from ..fitting.gibbs import GibbsRun, GibbsSettings, run_gibbs
from ..inference import one_blas_thread
from .gibbs import arhmm as sweep
from .gibbs.hdp import init_hdp_transitions
from .gibbs.log_joint import log_joint_arhmm
from .gibbs.mniw import moseq_ar_prior

__all__ = ["GibbsFit", "MoseqPrior", "StickyHDPARHMM"]

PARAM_NAMES = ("global_weights", "transition_matrix", "ar_weights", "ar_covs", "S_0")
DESCRIPTION_KIND = "sticky_hdp_arhmm"
INITS = ("prior", "kmeans")


@dataclass(frozen=True)
class MoseqPrior:
    """Hyperparameters of the sticky HDP-ARHMM, with MoSeq's defaults.

    Attributes
    ----------
    gamma : float, default 1e3
        Concentration of the global weights ``beta ~ Dir(gamma / K)`` (keypoint-moseq's
        config; moseq2-model's ``ARHMM`` uses 999).
    alpha : float, default 5.7
        How closely the rows of ``pi`` follow ``beta`` (both).
    kappa : float, default 1e6
        Stickiness (extra self-transition pseudo-counts): sets the syllables' durations.
        keypoint-moseq's AR-only stage uses 1e6 and its tutorial lowers it to 1e4 for the
        full model; moseq2-model scans it.
    S_0_scale : float, default 0.01
        ``S_0 = S_0_scale I`` (both; relative to whitened data).
    K_0_scale : float, default 10
        ``K_0 = K_0_scale I`` over the ``D L + 1`` regressors, bias included (both).
    nu_0 : float or None, default None
        Inverse-Wishart degrees of freedom; None: ``D + 2`` (both hard-code it).
    empirical_bayes : bool, default False
        moseq2-model's default: ``S_0`` set from the data, the noise covariance of one AR(L)
        fit to all frames times ``nu_0 - D - 1`` (so that the prior mean of ``Q`` is that
        covariance). jax-moseq (keypoint-moseq) uses ``S_0_scale I`` as is.
    """

    gamma: float = 1e3
    alpha: float = 5.7
    kappa: float = 1e6
    S_0_scale: float = 0.01
    K_0_scale: float = 10.0
    nu_0: float | None = None
    empirical_bayes: bool = False

    def __post_init__(self):
        for name in ("gamma", "alpha", "S_0_scale", "K_0_scale"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if not (
            isinstance(self.kappa, (int, float)) and np.isfinite(self.kappa) and self.kappa >= 0
        ):
            raise ValueError(f"kappa must be a number >= 0, got {self.kappa!r}")


@dataclass
class GibbsFit:
    """What :meth:`StickyHDPARHMM.fit` returns: the last sample and the run's history.

    Attributes
    ----------
    syllables : list of ndarray of int, shape (T_n,)
        The last sample's syllables per frame (the first L frames take frame L's).
    log_joint : dict of str to ndarray
        Per group (``"z"``, ``"x"``), the log joint after each iteration (index 0: the
        initial sample); jax-moseq's ``model_likelihood``.
    marginals : list of ndarray (T_n, K) or None
        Averaged per-frame syllable marginals, when asked for.
    run : GibbsRun
        The loop's state (to continue it with ``start=``).
    """

    syllables: list
    log_joint: dict
    marginals: list | None
    run: GibbsRun


class StickyHDPARHMM:
    """MoSeq's sticky HDP-ARHMM (weak limit), fitted by Gibbs sampling.

    Parameters
    ----------
    data_dim : int
        D, the dimension of each (whitened) frame; jax-moseq's ``latent_dim``.
    num_states : int, default 100
        K, the weak-limit truncation (the most syllables the fit can use).
    num_lags : int, default 3
        L, the AR order (``nlags``).
    prior : MoseqPrior, default MoseqPrior()
    score_dtype : {"float64", "float32"}, default "float64"
        Precision of the product that scores every syllable (float32: faster, not exact).

    Attributes
    ----------
    global_weights : ndarray (K,)
        ``beta``.
    transition_matrix : ndarray (K, K)
        ``pi``.
    ar_weights : ndarray (K, D, D L + 1)
        ``Ab = [A_L ... A_1 | b]``, lag blocks oldest first (jax-moseq's layout).
    ar_covs : ndarray (K, D, D)
        ``Q``.
    S_0 : ndarray (D, D)
        The inverse-Wishart scale in use (``S_0_scale I``, or the empirical-Bayes one).
    """

    local_step_function = staticmethod(sweep.arhmm_local_step)

    def __init__(
        self,
        data_dim: int,
        num_states: int = 100,
        num_lags: int = 3,
        prior: MoseqPrior = MoseqPrior(),
        score_dtype: str = "float64",
    ):
        for name, v in (("data_dim", data_dim), ("num_states", num_states), ("num_lags", num_lags)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(prior, MoseqPrior):
            raise TypeError(f"prior must be a MoseqPrior, got {type(prior).__name__}")
        if score_dtype not in ("float64", "float32"):
            raise ValueError(f"score_dtype must be 'float64' or 'float32', got {score_dtype!r}")
        self.data_dim, self.num_states, self.num_lags = (
            int(data_dim),
            int(num_states),
            int(num_lags),
        )
        self.prior, self.score_dtype = prior, score_dtype
        self.S_0 = prior.S_0_scale * np.eye(self.data_dim)
        self.global_weights = self.transition_matrix = self.ar_weights = self.ar_covs = None

    # ------------------------------------------------------------------ description, params
    @property
    def kappa(self) -> float:
        """Stickiness (``prior.kappa``); setting it replaces the prior."""
        return self.prior.kappa

    @kappa.setter
    def kappa(self, value: float) -> None:
        self.prior = replace(self.prior, kappa=float(value))

    @property
    def nu_0(self) -> float:
        return float(self.data_dim + 2 if self.prior.nu_0 is None else self.prior.nu_0)

    def ar_prior(self) -> dict:
        """``M_0, K_0, S_0, nu_0`` of the MNIW prior (jax-moseq ``init_hyperparams``)."""
        p = moseq_ar_prior(self.data_dim, self.num_lags, self.prior.S_0_scale, self.prior.K_0_scale)
        return dict(p, S_0=self.S_0, nu_0=self.nu_0)

    def describe(self) -> dict:
        """A plain (JSON-able) description: with :meth:`get_params`, enough to rebuild the model."""
        return dict(
            kind=DESCRIPTION_KIND,
            data_dim=self.data_dim,
            num_states=self.num_states,
            num_lags=self.num_lags,
            prior=asdict(self.prior),
            score_dtype=self.score_dtype,
        )

    @classmethod
    def from_description(cls, description: dict, params: dict | None = None) -> "StickyHDPARHMM":
        """Rebuild a model from :meth:`describe` (and :meth:`get_params`).

        Raises
        ------
        ValueError
            If ``description`` is not one of this class.
        """
        if not isinstance(description, dict) or description.get("kind") != DESCRIPTION_KIND:
            raise ValueError(
                f"description must come from StickyHDPARHMM.describe(), got {description!r}"
            )
        model = cls(
            description["data_dim"],
            description["num_states"],
            description["num_lags"],
            MoseqPrior(**description["prior"]),
            description.get("score_dtype", "float64"),
        )
        if params is not None:
            model.set_params(params)
        return model

    def get_params(self) -> dict:
        """The parameters as a dict of arrays (copies), keys :data:`PARAM_NAMES`.

        Raises
        ------
        ValueError
            If the model has no parameters yet (fit or initialize it first).
        """
        if self.transition_matrix is None:
            raise ValueError("the model has no parameters yet: call fit or initialize first")
        return {k: np.array(getattr(self, k), dtype=np.float64) for k in PARAM_NAMES}

    def set_params(self, params: dict) -> None:
        """Set every parameter from a dict as returned by :meth:`get_params`.

        Raises
        ------
        ValueError
            If a key is missing or an array has the wrong shape.
        """
        K, D, L = self.num_states, self.data_dim, self.num_lags
        shapes = dict(
            global_weights=(K,),
            transition_matrix=(K, K),
            ar_weights=(K, D, D * L + 1),
            ar_covs=(K, D, D),
            S_0=(D, D),
        )
        for k, shape in shapes.items():
            if k not in params:
                raise ValueError(f"params is missing {k!r} (give every key of get_params())")
            if np.shape(params[k]) != shape:
                raise ValueError(
                    f"params[{k!r}] must have shape {shape}, got {np.shape(params[k])}"
                )
        for k in shapes:
            setattr(self, k, np.array(params[k], dtype=np.float64))

    # ------------------------------------------------------------------ the loop's protocol
    def local_params(self) -> dict:
        """What each local step receives (:func:`ethogram.models.gibbs.arhmm.local_params`)."""
        return sweep.local_params(self.get_params(), self.num_lags)

    def global_step(self, stats: dict, rng: np.random.Generator) -> None:
        """Draw ``(beta, pi)`` and ``(Ab, Q)`` given the summed statistics, in place."""
        hyper = dict(alpha=self.prior.alpha, kappa=self.prior.kappa, gamma=self.prior.gamma)
        new = sweep.arhmm_global_step(rng, stats, self.get_params(), hyper, self.ar_prior())
        for k, v in new.items():
            setattr(self, k, v)

    # ------------------------------------------------------------------ initialisation
    @renamed_keywords(datas="data", masks="mask")
    def clean(self, data, mask=None) -> tuple[list, list]:
        """Validated sequences and scored frames (:func:`.gibbs.arhmm.clean_sequences`)."""
        return sweep.clean_sequences(data, mask, self.num_lags, self.data_dim)

    def initialize(self, sequences, masks, rng: np.random.Generator, method: str = "prior") -> None:
        """Starting parameters, as jax-moseq's ``init_params`` (the syllables come after, from
        one forward-filtering backward-sampling draw: the loop's iteration 0).

        ``beta`` and ``pi`` from the prior (jax-moseq ``init_hdp_transitions``: ``pi`` floored
        at float32's smallest normal number); ``(Ab, Q)`` from the MNIW prior
        (``method="prior"``, jax-moseq's) or from ethogram's k-means AR start
        (``method="kmeans"``: k-means on per-frame dynamics features, a ridge regression per
        cluster; :meth:`ethogram.models.observations.autoregressive.
        AutoregressiveObservations.initialize`). With ``prior.empirical_bayes``, ``S_0`` is
        set from the data first.

        Parameters
        ----------
        sequences, masks : list
            Cleaned sequences and scored frames (:meth:`clean`).
        rng : numpy.random.Generator
        method : {"prior", "kmeans"}
        """
        if method not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {method!r}")
        if self.prior.empirical_bayes:
            self.S_0 = _empirical_S_0(sequences, masks, self.num_lags, self.nu_0)
        p = self.prior
        draw = init_hdp_transitions(rng, self.num_states, p.alpha, p.kappa, p.gamma)
        self.global_weights, self.transition_matrix = draw.global_weights, draw.transition_matrix
        if method == "prior":
            self.ar_weights, self.ar_covs = sweep.prior_ar_params(
                rng, self.ar_prior(), self.num_states
            )
        else:
            self.ar_weights, self.ar_covs = _kmeans_ar_params(self, sequences, masks, rng)

    # ------------------------------------------------------------------ fit, predict
    @renamed_keywords(datas="data", masks="mask")
    def fit(
        self,
        data,
        mask=None,
        settings: GibbsSettings = GibbsSettings(),
        *,
        seed=None,
        init: str = "prior",
        executor=None,
        num_threads=None,
        checkpoint=None,
        progress=None,
        start: GibbsRun | None = None,
        execution=None,
    ) -> GibbsFit:
        """Fit by Gibbs sampling: initialise, then ``settings.num_iters`` sweeps.

        Parameters
        ----------
        data : array_like (T, D) or list of such
            Whitened sequences; NaN rows are treated as masked.
        mask : None, array_like of bool (T,), or list of those
            Frames to use (True); jax-moseq's padding mask. (``datas=`` and ``masks=`` are the
            deprecated former names of ``data`` and ``mask``.)
        settings : GibbsSettings
            Iterations and marginals (:class:`ethogram.fitting.gibbs.GibbsSettings`).
        seed : int, numpy.random.Generator or None
            Every draw derives from it; the same seed gives the same bits on any executor.
        init : {"prior", "kmeans"}
            Starting ``(Ab, Q)`` (:meth:`initialize`); ignored when resuming or with ``start``.
        executor, num_threads : optional
            Where the per-sequence steps run (:mod:`ethogram.fitting.executors`).
        checkpoint : CheckpointSettings, optional
            :class:`ethogram.fitting.CheckpointSettings` (also known as
            :class:`~ethogram.fitting.gibbs_checkpoint.Checkpointing`), as EM's.
        progress : bool or None
            A progress bar (None: on an interactive terminal).
        start : GibbsRun, optional
            Continue an earlier run (e.g. ``fit(...).run``) instead of initialising.
        execution : ExecutionSettings, optional
            ``executor``, ``client`` and ``num_threads`` in one object, as EM's
            (:class:`ethogram.fitting.ExecutionSettings`); not with ``executor`` or
            ``num_threads``.

        Returns
        -------
        GibbsFit
        """
        if execution is not None:
            if executor is not None or num_threads is not None:
                raise ArgumentError(
                    "give either {execution} or executor and num_threads, not both", "execution"
                )
            executor, num_threads = execution.job_executor(), execution.num_threads
        xs, ms = self.clean(data, mask)
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        run = run_gibbs(
            self,
            xs,
            ms,
            settings,
            seed=seed,
            executor=executor,
            initialize=lambda rng: self.initialize(xs, ms, rng, init),
            num_threads=num_threads,
            checkpoint=checkpoint,
            progress=progress,
            start=start,
            fingerprint_extra={"init": init},
        )
        return self._result(run)

    def _result(self, run: GibbsRun) -> GibbsFit:
        syllables = [sweep.frame_syllables(s["syllables"], self.num_lags) for s in run.local_states]
        log_joint = {k: np.asarray(v) for k, v in run.log_joint.items()}
        return GibbsFit(syllables, log_joint, run.marginals(), run)

    @renamed_keywords(datas="data", masks="mask")
    def predict(
        self,
        data,
        mask=None,
        method: str = "sample",
        *,
        seed=None,
        num_iters: int = 0,
        executor=None,
        num_threads=None,
    ):
        """Syllables of new data with the parameters fixed (jax-moseq's ``states_only``).

        Parameters
        ----------
        data, mask
            As in :meth:`fit` (whitened the same way as the training data).
        method : {"sample", "marginals", "viterbi"}
            ``"sample"``: the last of ``num_iters + 1`` draws from ``p(z | x, theta)`` (what
            keypoint-moseq's ``apply_model`` returns; for the ARHMM every draw has that same
            law, so one draw is enough); ``"marginals"``: the exact posterior probability of
            each syllable per frame (the limit of keypoint-moseq's
            ``estimate_syllable_marginals``); ``"viterbi"``: the most probable path (jax-moseq
            0.3.7's ``stateseq_mode``, moseq2's apply).
        seed : int, Generator or None
            For ``"sample"``.
        num_iters : int, default 0
            Extra states-only sweeps for ``"sample"``.

        Returns
        -------
        list of ndarray
            Per sequence: syllables per frame (T,), or probabilities (T, K).
        """
        xs, ms = self.clean(data, mask)
        if method == "sample":
            settings = GibbsSettings(num_iters=num_iters, states_only=True)
            run = run_gibbs(
                self,
                xs,
                ms,
                settings,
                seed=seed,
                executor=executor,
                num_threads=num_threads,
                progress=False,
            )
            return self._result(run).syllables
        if method not in ("marginals", "viterbi"):
            raise ValueError(f"method must be 'sample', 'marginals' or 'viterbi', got {method!r}")
        lp = self.local_params()
        return [
            sweep.decode(lp, x, m, self.num_states, self.num_lags, method) for x, m in zip(xs, ms)
        ]

    @renamed_keywords(datas="data", masks="mask")
    def log_joint(self, data, syllables, mask=None) -> dict:
        """jax-moseq's log joint groups ``z`` and ``x`` of sequences with given syllables.

        Parameters
        ----------
        data, mask
            As in :meth:`fit`.
        syllables : list of array_like of int, shape (T_n - L,)
            ``syllables[n][i]`` labels frame ``i + L`` (jax-moseq's ``z``).

        Returns
        -------
        dict of float
            Sums over sequences.
        """
        xs, ms = self.clean(data, mask)
        params = (self.transition_matrix, self.ar_weights, self.ar_covs)
        with one_blas_thread():  # a solve per syllable against every frame: threads only cost
            groups = [log_joint_arhmm(x, z, *params, m) for x, z, m in zip(xs, syllables, ms)]
        return {k: sum((g[k] for g in groups), 0.0) for k in ("z", "x")}

    def sample(self, num_frames: int, seed=None, syllables=None):
        """Draw one sequence (:func:`~ethogram.models.gibbs.arhmm.sample_arhmm`).

        Returns
        -------
        x : ndarray (T, D)
        syllables : ndarray of int (T - L,)
        """
        rng = np.random.default_rng(seed)
        return sweep.sample_arhmm(rng, self.get_params(), num_frames, self.num_lags, syllables)


def _empirical_S_0(sequences, masks, num_lags: int, nu_0: float) -> np.ndarray:
    """moseq2-model's empirical Bayes: ``S_0 = Sigma_ML (nu_0 - D - 1)`` with ``Sigma_ML`` the
    residual covariance of one least-squares AR(L) fit (with bias) to every scored frame."""
    from .gibbs.mniw import ar_regression_stats

    stats = None
    for x, m in zip(sequences, masks):
        s = ar_regression_stats(x, np.zeros(len(x) - num_lags, np.int64), 1, num_lags, m)
        stats = s if stats is None else stats + s
    S_ii, S_oi, S_oo, n = stats.S_ii[0], stats.S_oi[0], stats.S_oo[0], stats.counts[0]
    W = np.linalg.lstsq(S_ii, S_oi.T, rcond=None)[0].T
    sigma = (S_oo - W @ S_oi.T) / max(n, 1.0)
    D = S_oo.shape[0]
    return 0.5 * (sigma + sigma.T) * (nu_0 - D - 1)


def _kmeans_ar_params(model: StickyHDPARHMM, sequences, masks, rng):
    """``(Ab, Q)`` from ethogram's k-means AR start, in jax-moseq's layout."""
    from .observations.autoregressive import AutoregressiveObservations

    K, D, L = model.num_states, model.data_dim, model.num_lags
    obs = AutoregressiveObservations(K, D, num_lags=L)
    obs.initialize(sequences, masks, rng, method="kmeans")
    dyn = obs.emission_dynamics  # (K, D, L D), lag 1 first
    blocks = [dyn[:, :, (L - 1 - j) * D : (L - j) * D] for j in range(L)]
    Ab = np.concatenate(blocks + [obs.emission_bias[:, :, None]], axis=2)
    return Ab, np.array(obs.emission_covs, dtype=np.float64)
