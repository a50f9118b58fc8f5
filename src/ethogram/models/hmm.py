"""The HMM: initial distribution + transitions + an observation model, fitted by EM.

:class:`HMM` is the full face of every model in ethogram: ``fit`` takes one array or a list
of arrays of different lengths (with masks, NaN rows masked automatically), runs EM with
restarts and a progress bar, and returns a :class:`FitResult`; ``predict``, ``score``,
``posterior``, ``sample``, ``permute``, ``num_parameters``, ``aic`` and ``bic`` work on the
fitted model. The course's classes (:mod:`ethogram.models.families`) are thin subclasses; the
inference methods are in :mod:`._hmm_inference`, the input checks in :mod:`._hmm_data`.
"""

from __future__ import annotations

import numpy as np

from .. import fitting
from .._deprecation import renamed_keywords
from ..fitting import SufficientStats
from ..fitting.settings import KEYWORDS, EMSettings, ExecutionSettings, settings_from_options
from ..inference import forward_backward, sample_states
from ._hmm_data import fit_inputs, is_batch, prepare_sequences
from ._hmm_inference import HMMInferenceMixin
from .fit_result import FitResult, restart_start
from .observations import get_observation_class
from .observations.base import ObservationModel
from .portable import describe_model, model_from_description, register_model_class, sequence_stats
from .short_sequences import expand, no_posterior, require_long, subset, warn_short
from .transitions import InitialDistribution, Transitions, fixed_transitions_order


@register_model_class
class HMM(HMMInferenceMixin):
    """Hidden Markov model built from parts and fitted by EM.

    Parameters
    ----------
    num_states : int
        Number of hidden states K.
    observations : str or ObservationModel, default "gaussian"
        A registered name (``"gaussian"``, ``"categorical"``, ``"poisson"``,
        ``"autoregressive"``, ``"robust_autoregressive"``) or an instance.
    observation_kwargs : dict, optional
        Keyword arguments for the observation model (e.g. ``data_dim``, ``covariance_type``).
    initial_probs : array_like, shape (K,), optional
        Starting initial distribution (uniform by default).
    transition_matrix : array_like, shape (K, K), optional
        Starting transition matrix (``0.9 I + 0.1 / K`` by default).
    initial_alpha : float, default 1.0
        Dirichlet concentration of the initial distribution (1 = maximum likelihood).
    transition_alpha : float, default 1.0
        Dirichlet concentration on every transition (1 = flat).
    kappa : float, default 0.0
        Stickiness: extra prior self-transitions per state (MoSeq's kappa).
    learn_initial, learn_transitions : bool, default True
        Hold a part fixed with False.
    """

    def __init__(
        self,
        num_states: int,
        observations="gaussian",
        observation_kwargs=None,
        initial_probs=None,
        transition_matrix=None,
        initial_alpha=1.0,
        transition_alpha=1.0,
        kappa=0.0,
        learn_initial=True,
        learn_transitions=True,
    ):
        if (
            isinstance(num_states, bool)
            or not isinstance(num_states, (int, np.integer))
            or num_states < 1
        ):
            raise ValueError(f"num_states must be a positive integer, got {num_states!r}")
        self.num_states = int(num_states)
        if isinstance(observations, ObservationModel):
            if observation_kwargs:
                raise ValueError(
                    "observation_kwargs cannot be used with an ObservationModel instance"
                )
            if observations.num_states != self.num_states:
                raise ValueError(
                    f"observations has {observations.num_states} states but num_states is "
                    f"{self.num_states}"
                )
            self.observations = observations
        else:
            cls = get_observation_class(observations)
            self.observations = cls(self.num_states, **(observation_kwargs or {}))
        self.initial = InitialDistribution(
            self.num_states, initial_alpha, learn_initial, initial_probs
        )
        self.transitions = Transitions(
            self.num_states, transition_alpha, kappa, learn_transitions, transition_matrix
        )

    # ------------------------------------------------------------------ parameters
    @property
    def initial_probs(self) -> np.ndarray:
        """Initial state distribution, shape (K,)."""
        return self.initial.initial_probs

    @initial_probs.setter
    def initial_probs(self, value):
        self.initial.initial_probs = InitialDistribution(
            self.num_states, initial_probs=value
        ).initial_probs

    @property
    def transition_matrix(self) -> np.ndarray:
        """Transition matrix, shape (K, K)."""
        return self.transitions.transition_matrix

    @transition_matrix.setter
    def transition_matrix(self, value):
        self.transitions.transition_matrix = Transitions(
            self.num_states, transition_matrix=value
        ).transition_matrix

    def log_prior(self) -> float:
        """Log prior density of all learned parameters (up to a constant)."""
        return (
            self.initial.log_prior() + self.transitions.log_prior() + self.observations.log_prior()
        )

    def get_params(self) -> dict:
        """All parameters as a flat dict of arrays (for saving without pickle)."""
        out = {
            "initial_probs": self.initial_probs.copy(),
            "transition_matrix": self.transition_matrix.copy(),
        }
        out.update(self.observations.get_params())
        return out

    def step_coordinates(self, params: dict) -> dict:
        """``params`` (from :meth:`get_params`) in unit-free coordinates, for measuring EM's
        steps (the observation model's ``step_coordinates``; probabilities as they are)."""
        out = {
            k: np.asarray(params[k], dtype=np.float64)
            for k in ("initial_probs", "transition_matrix")
        }
        out.update(self.observations.step_coordinates(params))
        return out

    def set_params(self, params: dict) -> None:
        """Set parameters from a dict as returned by :meth:`get_params`."""
        if "initial_probs" in params:
            self.initial_probs = params["initial_probs"]
        if "transition_matrix" in params:
            self.transition_matrix = params["transition_matrix"]
        self.observations.set_params(params)

    def describe(self) -> dict:
        """A plain description of the model's structure (no parameters, no arrays).

        Returns
        -------
        dict
            The class, ``num_states``, the observation model's registered name and
            constructor arguments, and the HMM's arguments (concentrations, ``kappa``,
            ``learn_initial``, ``learn_transitions``): with :meth:`get_params` enough to
            rebuild the model anywhere with :meth:`from_description` (see
            :mod:`ethogram.models.portable`).
        """
        return describe_model(self)

    @classmethod
    def from_description(cls, description: dict, params: dict | None = None) -> "HMM":
        """Rebuild a model from :meth:`describe` (and :meth:`get_params`).

        Parameters
        ----------
        description : dict
        params : dict of str to ndarray, optional

        Returns
        -------
        HMM
            An instance of the class named in the description.

        Raises
        ------
        ValueError
            If ``description`` is not one returned by :meth:`describe`.
        """
        return model_from_description(description, params)

    @classmethod
    def _rebuilt(cls, num_states, observations, observation_kwargs, **hmm_kwargs) -> "HMM":
        """An instance of ``cls`` made by HMM's constructor (:func:`model_from_description`):
        the course's classes add names and methods, not state, so it builds them all."""
        model = cls.__new__(cls)
        HMM.__init__(model, num_states, observations, observation_kwargs, **hmm_kwargs)
        return model

    # ------------------------------------------------------------------ EM protocol
    #: the per-sequence E-step the EM loop sends to its executor (a top-level function)
    e_step_function = staticmethod(sequence_stats)

    def expected_stats(
        self, data: np.ndarray, mask: np.ndarray | None, keep_posterior: bool = False
    ) -> SufficientStats:
        """Expected sufficient statistics of one validated sequence under the current parameters.

        Parameters
        ----------
        data : ndarray, shape (T, ...)
            One sequence as returned by the observation model's ``check_data``.
        mask : ndarray of bool, shape (T,), or None
            The effective mask (frames the observation model scores).
        keep_posterior : bool, default False
            Also keep the posterior (``posteriors``, a list of one HMMPosterior).

        Returns
        -------
        SufficientStats
            Marginal log-likelihood, ``p(z_0 | x)``, expected transitions, the observation
            statistics and the number of scored frames.
        """
        log_likes = self.observations.log_likelihoods(data, mask)
        post = forward_backward(self.initial_probs, self.transition_matrix, log_likes)
        obs = self.observations.sufficient_stats(data, post.expected_states, mask)
        frames = data.shape[0] if mask is None else int(np.count_nonzero(mask))
        return SufficientStats(
            float(post.marginal_ll),
            post.expected_states[0].copy(),
            post.expected_transitions,
            obs,
            1,
            frames,
            [post] if keep_posterior else None,
        )

    def prepare_e_step(self, sequences: list, masks: list) -> None:
        """Set the observation model's data-derived constants before E-steps run elsewhere.

        Continuous models accumulate statistics about a reference point of the training data
        (``extra_param_names``, e.g. ``data_center``), normally set by ``initialize``. When it
        is still unset (a fit from given parameters), each rebuilt copy on an executor would
        pick its own and the statistics would not add up; so it is set here, once, from the
        first sequence (what a single model would have done).
        """
        obs = self.observations
        names = getattr(type(obs), "extra_param_names", ())
        if any(getattr(obs, k, None) is None for k in names) and sequences:
            first = sequences[0]
            read = getattr(first, "read_sequence", None)  # a sequence kept on disk
            if callable(read):
                first = read()
            T = first.shape[0]
            obs.sufficient_stats(
                first, np.full((T, self.num_states), 1.0 / self.num_states), masks[0]
            )

    def m_step_from_stats(self, stats: SufficientStats) -> None:
        """Closed-form MAP update of every learned part from summed statistics."""
        self.initial.m_step(stats.expected_initial)
        self.transitions.m_step(stats.expected_transitions)
        self.observations.m_step(stats.observations)

    def num_parameters(self) -> int:
        """Number of free (learned) parameters."""
        return (
            self.initial.num_parameters()
            + self.transitions.num_parameters()
            + self.observations.num_parameters()
        )

    def permute(self, order) -> None:
        """Relabel states in place: new state ``i`` is old state ``order[i]``.

        Parameters
        ----------
        order : array_like of int, shape (K,)
            A permutation of ``range(K)``.
        """
        order = np.asarray(order)
        if order.shape != (self.num_states,) or not np.array_equal(
            np.sort(order), np.arange(self.num_states)
        ):
            raise ValueError(
                f"order must be a permutation of range({self.num_states}), got {order!r}"
            )
        self.initial.initial_probs = self.initial_probs[order]
        self.transitions.permute(order)
        self.observations.permute(order)

    # ------------------------------------------------------------------ data
    def _is_batch(self, data) -> bool:
        """A list/tuple of sequences (vs. one sequence given as a nested list)."""
        return is_batch(self.observations, data)

    def _prepare(self, data, mask=None, mask_nan=True):
        """Validate data into (list of arrays, list of effective masks, was_batch)."""
        return prepare_sequences(self.observations, data, mask, mask_nan)

    # ------------------------------------------------------------------ generation
    def sample(self, num_timesteps: int, seed=None):
        """Sample a state path and observations.

        Parameters
        ----------
        num_timesteps : int
            Length T.
        seed : int, numpy.random.Generator or None

        Returns
        -------
        states : ndarray of int, shape (T,)
        data : ndarray, shape (T, ...)
        """
        rng = np.random.default_rng(seed)
        states = sample_states(self.initial_probs, self.transition_matrix, num_timesteps, rng)
        return states, self.observations.sample(states, rng)

    # ------------------------------------------------------------------ learning
    @renamed_keywords(masks="mask")
    def initialize(self, data, mask=None, method: str = "kmeans", seed=None) -> None:
        """Set starting parameters from data (observations) and defaults (initial, transitions)."""
        if method not in ("kmeans", "random"):
            raise ValueError(f"init must be 'kmeans', 'random' or 'params', got {method!r}")
        sequences, ms, _ = self._prepare(data, mask)
        self._initialize(sequences, ms, method, np.random.default_rng(seed))

    def _initialize(self, sequences, ms, method, rng, restart: int = 0) -> None:
        """Starting parameters of restart number ``restart`` (:func:`.fit_result.restart_start`
        says which kind of start it is)."""
        method, sticky = restart_start(method, restart)
        if self.initial.learn:
            self.initial.initial_probs = np.full(self.num_states, 1.0 / self.num_states)
        if self.transitions.learn:
            self.transitions.transition_matrix = Transitions.default_matrix(self.num_states)
        self.observations.initialize(sequences, ms, rng, method)
        if self.transitions.learn and not sticky:
            K = self.num_states
            self.transitions.transition_matrix = np.full((K, K), 1.0 / K)
        if not self.transitions.learn and self.num_states > 1:
            self._align_to_fixed_transitions(sequences, ms)

    def _align_to_fixed_transitions(self, sequences, ms) -> None:
        """Relabel freshly initialised observation states to suit a fixed transition matrix
        (:func:`.transitions.fixed_transitions_order`)."""
        lls = self._log_likes(sequences, ms)
        self.observations.permute(fixed_transitions_order(lls, self.transition_matrix))

    @renamed_keywords(masks="mask")
    def fit(
        self,
        data,
        num_iters=None,
        *,
        em: EMSettings | None = None,
        execution: ExecutionSettings | None = None,
        checkpoint=None,
        seed=None,
        mask=None,
        mask_nan: bool = True,
        progress=None,
        posterior: bool = True,
        **options,
    ) -> FitResult:
        """Fit by EM (MAP), keeping the best of ``em.num_restarts`` runs.

        Each run tries ``em.num_starts`` initialisations for ``em.start_iters`` EM
        iterations each and continues the one with the highest objective
        (:func:`ethogram.fitting.best_start`); the runs are driven by
        :func:`ethogram.fitting.fit_restarts`.

        Parameters
        ----------
        data : array_like, shape (T, ...), or list of arrays of different lengths
            Or :class:`ethogram.fitting.ondisk.OnDiskSequences`: recordings read from disk
            by each E-step job (the result's ``posterior`` is then None). A sequence shorter
            than the observation model's ``min_frames`` (an AR model: ``num_lags + 1``) has
            no frame to score: it is left out with one ShortSequenceWarning naming it (its
            posterior is NaN; :mod:`ethogram.models.short_sequences`).
        num_iters : int, optional
            The course's ``fit(data, num_iters)``: ``em.num_iters``.
        em : EMSettings, optional
            Iterations, tolerance, restarts, starts, acceleration, re-seeding
            (:class:`ethogram.fitting.EMSettings`; default ``EMSettings()``). The restarts
            start differently (:func:`ethogram.models.fit_result.restart_start`): restart
            0 from ``init`` and the sticky matrix ``0.9 I + 0.1 / K``, the next from the
            flat matrix, and with ``init="kmeans"`` every third from random observations
            too. ``init="params"`` starts from the current parameters. With
            ``reseed_dead`` the seed frames derive from ``seed``; a fit in which no state
            dies is the fit without re-seeding, bit for bit.
        execution : ExecutionSettings, optional
            Where the per-sequence E-steps run: ``num_threads`` threads (the default), an
            ``executor`` (e.g. ``concurrent.futures.ProcessPoolExecutor``) or the Dask
            cluster of ``client`` (each sequence sent to a worker once and kept there). The
            fitted parameters do not depend on it.
        checkpoint : CheckpointSettings, str or Path, optional
            Write the fit's state to this HDF5 file every ``every`` EM iterations
            (atomically; :mod:`ethogram.fitting.checkpoint`); with ``resume`` continue from
            it when it exists: the fit ends with the same parameters as an uninterrupted
            one (the data and settings must be the same). A path stands for
            ``CheckpointSettings(path)``.
        seed : int, numpy.random.Generator or None
        mask : array_like of bool, shape (T,), or list, optional
            True where a frame is observed (``masks=`` is its deprecated former name).
        mask_nan : bool, default True
            Mask frames with any NaN automatically.
        progress : bool or None
            tqdm progress bar (None: only on an interactive terminal;
            True: also in a log file, as a line every 30 s).
        posterior : bool, default True
            Compute ``FitResult.posterior`` (the posterior of every sequence, T x K each, held
            at once); False leaves it None.
        **options
            The settings' fields as keyword arguments, as ``fit`` took them before the
            settings objects: ``tol``, ``num_restarts``, ``init``, ``num_starts``,
            ``start_iters``, ``accelerate``, ``reseed_dead``, ``num_threads``, ``executor``,
            ``client``, ``checkpoint_every``, ``resume``. Each replaces that field of the
            settings given (or of the defaults), so ``fit(x, num_iters=200, num_restarts=3)``
            is ``fit(x, em=EMSettings(num_iters=200, num_restarts=3))``, bit for bit.

        Returns
        -------
        FitResult

        Raises
        ------
        ValueError
            For a bad argument (named in the message), or when no sequence is long enough.
        TypeError
            For an unknown keyword argument, or settings of the wrong class.
        EMDecreaseError
            If the objective decreases (lost precision; the message says the likely causes).
        """
        em, execution, checkpoint = settings_from_options(
            dict(options, num_iters=num_iters),
            em=em,
            execution=execution,
            checkpoint=checkpoint,
            accepted=_FIT_KEYWORDS,
            function="HMM.fit",
        )
        executor = execution.sequence_executor()
        sequences, ms, batch, on_disk = self._fit_inputs(data, mask, mask_nan)
        lengths = [len(d) for d in sequences]
        fitted = require_long(self.observations, lengths)
        warn_short(
            self.observations, lengths, ~fitted, "left out of the fit (its frames get no syllable)"
        )
        sequences, ms = subset(sequences, fitted), subset(ms, fitted)
        outcome = fitting.fit_restarts(
            self,
            sequences,
            ms,
            lambda rng, restart: self._initialize(sequences, ms, em.init, rng, restart),
            em,
            seed=seed,
            executor=executor,
            progress=progress,
            keep_posteriors=bool(posterior) and not on_disk,
            checkpoint=checkpoint,
        )
        result = FitResult(
            np.asarray(outcome.run.objectives),
            np.asarray(outcome.run.marginal_lls),
            outcome.run.converged,
            outcome.run.num_iters,
            outcome.restart,
            np.asarray(outcome.finals),
            None,
            list(outcome.run.reseeds),
        )
        if posterior and not on_disk:  # else no posterior of every recording at once
            posts = self._final_posteriors(outcome.run, sequences, ms, executor)
            posts = expand(list(posts), fitted, lambda i: no_posterior(lengths[i], self.num_states))
            result.posterior = posts if batch else posts[0]
        return result

    def _fit_inputs(self, data, mask, mask_nan: bool):
        """Validated sequences, their effective mask, whether the input was a batch, and
        whether it stays on disk (:func:`._hmm_data.fit_inputs`)."""
        return fit_inputs(self.observations, data, mask, mask_nan)

    def _final_posteriors(self, run, sequences, ms, executor) -> list:
        """The posteriors at the fitted parameters: those the last E-step kept, else computed."""
        kept = None if run.last_stats is None else run.last_stats.posteriors
        if kept is not None and len(kept) == len(sequences):  # computed at these parameters
            run.last_stats.posteriors = None
            return kept
        lls = self._log_likes(sequences, ms)
        threads = executor.num_threads if isinstance(executor, fitting.ThreadExecutor) else None
        return forward_backward(
            self.initial_probs, self.transition_matrix, lls, num_threads=threads
        )


#: the keyword arguments of the settings that :meth:`HMM.fit` takes (not ``num_workers``)
_FIT_KEYWORDS = frozenset(KEYWORDS) - {"num_workers"}
