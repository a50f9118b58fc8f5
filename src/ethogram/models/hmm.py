"""The HMM: initial distribution + transitions + an observation model, fitted by EM.

:class:`HMM` is the full face of every model in ethogram: ``fit`` takes one array or a list
of arrays of different lengths (with masks, and NaN rows masked automatically), runs EM with
restarts and a progress bar, and returns a :class:`FitResult`; ``predict``, ``score``,
``posterior``, ``sample``, ``permute``, ``num_parameters``, ``aic`` and ``bic`` work on the
fitted model. The course's classes (:mod:`ethogram.models.course`) are thin subclasses. The
inference methods (posterior, predict, score, aic, bic) are in :mod:`._hmm_inference`.
"""

from __future__ import annotations

import numpy as np

from .. import fitting
from ..fitting import DEFAULT_TOL, SufficientStats
from ..inference import forward_backward, sample_states
from ._hmm_inference import HMMInferenceMixin
from .fit_result import DEFAULT_START_ITERS, FitResult, check_fit_arguments, restart_start
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

    def __init__(self, num_states: int, observations="gaussian", observation_kwargs=None, initial_probs=None, transition_matrix=None, initial_alpha=1.0, transition_alpha=1.0, kappa=0.0, learn_initial=True, learn_transitions=True):
        if isinstance(num_states, bool) or not isinstance(num_states, (int, np.integer)) or num_states < 1:
            raise ValueError(f"num_states must be a positive integer, got {num_states!r}")
        self.num_states = int(num_states)
        if isinstance(observations, ObservationModel):
            if observation_kwargs:
                raise ValueError("observation_kwargs cannot be used with an ObservationModel instance")
            if observations.num_states != self.num_states:
                raise ValueError(
                    f"observations has {observations.num_states} states but num_states is {self.num_states}"
                )
            self.observations = observations
        else:
            cls = get_observation_class(observations)
            self.observations = cls(self.num_states, **(observation_kwargs or {}))
        self.initial = InitialDistribution(self.num_states, initial_alpha, learn_initial, initial_probs)
        self.transitions = Transitions(self.num_states, transition_alpha, kappa, learn_transitions, transition_matrix)

    # ------------------------------------------------------------------ parameters
    @property
    def initial_probs(self) -> np.ndarray:
        """Initial state distribution, shape (K,)."""
        return self.initial.initial_probs

    @initial_probs.setter
    def initial_probs(self, value):
        self.initial.initial_probs = InitialDistribution(self.num_states, initial_probs=value).initial_probs

    @property
    def transition_matrix(self) -> np.ndarray:
        """Transition matrix, shape (K, K)."""
        return self.transitions.transition_matrix

    @transition_matrix.setter
    def transition_matrix(self, value):
        self.transitions.transition_matrix = Transitions(self.num_states, transition_matrix=value).transition_matrix

    def log_prior(self) -> float:
        """Log prior density of all learned parameters (up to a constant)."""
        return self.initial.log_prior() + self.transitions.log_prior() + self.observations.log_prior()

    def get_params(self) -> dict:
        """All parameters as a flat dict of arrays (for saving without pickle)."""
        out = {"initial_probs": self.initial_probs.copy(), "transition_matrix": self.transition_matrix.copy()}
        out.update(self.observations.get_params())
        return out

    def step_coordinates(self, params: dict) -> dict:
        """``params`` (from :meth:`get_params`) in unit-free coordinates, for measuring EM's
        steps (the observation model's ``step_coordinates``; probabilities as they are)."""
        out = {k: np.asarray(params[k], dtype=np.float64)
               for k in ("initial_probs", "transition_matrix")}
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

    def expected_stats(self, data: np.ndarray, mask: np.ndarray | None, keep_posterior: bool = False) -> SufficientStats:
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
            float(post.marginal_ll), post.expected_states[0].copy(), post.expected_transitions, obs, 1, frames,
            [post] if keep_posterior else None,
        )

    def prepare_e_step(self, datas: list, masks: list) -> None:
        """Set the observation model's data-derived constants before E-steps run elsewhere.

        Continuous models accumulate statistics about a reference point of the training data
        (``extra_param_names``, e.g. ``data_center``), normally set by ``initialize``. When it
        is still unset (a fit from given parameters), each rebuilt copy on an executor would
        pick its own and the statistics would not add up; so it is set here, once, from the
        first sequence (what a single model would have done).
        """
        obs = self.observations
        names = getattr(type(obs), "extra_param_names", ())
        if any(getattr(obs, k, None) is None for k in names) and datas:
            first = datas[0]
            read = getattr(first, "read_sequence", None)  # a sequence kept on disk
            if callable(read):
                first = read()
            T = first.shape[0]
            obs.sufficient_stats(first, np.full((T, self.num_states), 1.0 / self.num_states), masks[0])

    def m_step_from_stats(self, stats: SufficientStats) -> None:
        """Closed-form MAP update of every learned part from summed statistics."""
        self.initial.m_step(stats.expected_initial)
        self.transitions.m_step(stats.expected_transitions)
        self.observations.m_step(stats.observations)

    def num_parameters(self) -> int:
        """Number of free (learned) parameters."""
        return self.initial.num_parameters() + self.transitions.num_parameters() + self.observations.num_parameters()

    def permute(self, order) -> None:
        """Relabel states in place: new state ``i`` is old state ``order[i]``.

        Parameters
        ----------
        order : array_like of int, shape (K,)
            A permutation of ``range(K)``.
        """
        order = np.asarray(order)
        if order.shape != (self.num_states,) or not np.array_equal(np.sort(order), np.arange(self.num_states)):
            raise ValueError(f"order must be a permutation of range({self.num_states}), got {order!r}")
        self.initial.initial_probs = self.initial_probs[order]
        self.transitions.permute(order)
        self.observations.permute(order)

    # ------------------------------------------------------------------ data
    def _is_batch(self, data) -> bool:
        """A list/tuple of sequences (vs. one sequence given as a nested list)."""
        nd = self.observations.sequence_ndim
        return isinstance(data, (list, tuple)) and len(data) > 0 and all(np.ndim(x) == nd for x in data)

    def _prepare(self, data, masks=None, mask_nan=True):
        """Validate data into (list of arrays, list of effective masks, was_batch)."""
        if isinstance(data, (list, tuple)) and len(data) == 0:
            raise ValueError("data is an empty list: give at least one sequence (an array of frames x features)")
        batch = self._is_batch(data)
        datas = list(data) if batch else [data]
        if masks is None:
            mlist = [None] * len(datas)
        elif batch:
            if not isinstance(masks, (list, tuple)) or len(masks) != len(datas):
                raise ValueError(
                    f"masks must be a list with one boolean mask (or None) per sequence; got "
                    f"{type(masks).__name__} for {len(datas)} sequences"
                )
            mlist = list(masks)
        else:
            mlist = [masks]
        out_d, out_m = [], []
        for i, (d, m) in enumerate(zip(datas, mlist)):
            d = self.observations.check_data(d)
            T = d.shape[0]
            if m is not None:
                m = np.asarray(m)
                if m.shape != (T,) or not (m.dtype == bool or np.isin(m, (0, 1)).all()):
                    raise ValueError(
                        f"mask of sequence {i} must be boolean of shape ({T},) (True = observed), got "
                        f"dtype {m.dtype} shape {m.shape}"
                    )
                m = m.astype(bool)
            if np.issubdtype(d.dtype, np.floating):
                nan_rows = np.isnan(d.reshape(T, -1)).any(axis=1)
                if nan_rows.any():
                    if not mask_nan:
                        raise ValueError(
                            f"data (sequence {i}) has NaN in {int(nan_rows.sum())} frames; pass "
                            "mask_nan=True to ignore them or give a mask"
                        )
                    m = ~nan_rows if m is None else (m & ~nan_rows)
            out_d.append(d)
            out_m.append(self.observations.effective_mask(d, m))
        return out_d, out_m, batch

    def log_likelihoods(self, data, mask=None) -> np.ndarray:
        """Observation log-likelihoods of one sequence, shape (T, K) (zero rows where masked)."""
        (d,), (m,), _ = self._prepare(data, mask)
        return self.observations.log_likelihoods(d, m)

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
    def initialize(self, data, masks=None, method: str = "kmeans", seed=None) -> None:
        """Set starting parameters from data (observations) and defaults (initial, transitions)."""
        if method not in ("kmeans", "random"):
            raise ValueError(f"init must be 'kmeans', 'random' or 'params', got {method!r}")
        datas, ms, _ = self._prepare(data, masks)
        self._initialize(datas, ms, method, np.random.default_rng(seed))

    def _initialize(self, datas, ms, method, rng, restart: int = 0) -> None:
        """Starting parameters of restart number ``restart`` (:func:`.fit_result.restart_start`
        says which kind of start it is)."""
        method, sticky = restart_start(method, restart)
        if self.initial.learn:
            self.initial.initial_probs = np.full(self.num_states, 1.0 / self.num_states)
        if self.transitions.learn:
            self.transitions.transition_matrix = Transitions.default_matrix(self.num_states)
        self.observations.initialize(datas, ms, rng, method)
        if self.transitions.learn and not sticky:
            K = self.num_states
            self.transitions.transition_matrix = np.full((K, K), 1.0 / K)
        if not self.transitions.learn and self.num_states > 1:
            self._align_to_fixed_transitions(datas, ms)

    def _align_to_fixed_transitions(self, datas, ms) -> None:
        """Relabel freshly initialised observation states to suit a fixed transition matrix
        (:func:`.transitions.fixed_transitions_order`)."""
        lls = [self.observations.log_likelihoods(d, m) for d, m in zip(datas, ms)]
        self.observations.permute(fixed_transitions_order(lls, self.transition_matrix))

    def fit(self, data, num_iters: int = 100, tol: float = DEFAULT_TOL, num_restarts: int = 1, init: str = "kmeans", seed=None, masks=None, mask_nan: bool = True, progress=None, num_threads=None, executor=None, num_starts: int | None = None, start_iters: int = DEFAULT_START_ITERS, client=None, checkpoint=None, checkpoint_every: int = 10, resume: bool = False, posterior: bool = True, reseed_dead: bool = False, accelerate: bool = True) -> FitResult:
        """Fit by EM (MAP), keeping the best of ``num_restarts`` runs.

        Each run tries ``num_starts`` initialisations for ``start_iters`` EM iterations each
        and continues the one with the highest objective (:func:`ethogram.fitting.best_start`;
        why two: BENCHMARKS.md, "Default fit reliability").

        Parameters
        ----------
        data : array_like, shape (T, ...), or list of arrays of different lengths
            Or :class:`ethogram.fitting.ondisk.OnDiskSequences`: recordings read from disk
            by each E-step job (the result's ``posterior`` is then None). A sequence shorter
            than the observation model's ``min_frames`` (an AR model: ``num_lags + 1``) has
            no frame to score: it is left out with one ShortSequenceWarning naming it (its
            posterior is NaN; :mod:`ethogram.models.short_sequences`).
        num_iters : int, default 100
            Maximum EM iterations (M-steps) per restart, short starts included.
        tol : float, default 1e-5
            Stop when the objective improves by at most ``tol`` nats per scored frame
            (frames the observation model scores, summed over sequences; how this is
            judged with ``accelerate``: see there). Absolute per frame, so constants in the
            objective (data far from 0, the N(0, I) frames before an AR model's lags) cannot
            stop EM early.
        num_restarts : int, default 1
            Independent runs; the one with the highest final objective is kept. They start
            differently (:func:`ethogram.models.fit_result.restart_start`): restart 0 from
            ``init`` and the sticky matrix ``0.9 I + 0.1 / K``, the next from the flat matrix,
            and with ``init="kmeans"`` every third from random observations too.
        init : {"kmeans", "random", "params"}
            How to start; "params" starts from the current parameters (one restart, one start).
        seed : int, numpy.random.Generator or None
        masks : array_like of bool, shape (T,), or list, optional
            True where a frame is observed.
        mask_nan : bool, default True
            Mask frames with any NaN automatically.
        progress : bool or None
            tqdm progress bar (None: shown only on an interactive terminal).
        num_threads : int, optional
            Threads over sequences (the default executor); not with ``executor``.
        executor : object with ``map(fn, iterable)``, optional
            Runs the per-sequence E-steps and returns results in input order, e.g.
            ``concurrent.futures.ProcessPoolExecutor``; default a thread pool. The fitted
            parameters do not depend on it.
        num_starts : int, optional
            Short starts per restart (default 2 for "kmeans" and "random", 1 for "params").
        start_iters : int, default 0
            EM iterations of each short start before the best is chosen (0: the starts are
            compared by the objective of their starting parameters; the chosen start's
            E-step is reused).
        client : distributed.Client, optional
            Run the E-steps on this Dask cluster (:class:`ethogram.fitting.distributed.DaskExecutor`:
            each sequence is sent to a worker once and kept there); the same parameters as a
            local fit. Not with ``executor``.
        checkpoint : str or Path, optional
            Write the fit's state to this HDF5 file every ``checkpoint_every`` EM iterations
            (atomically; :mod:`ethogram.fitting.checkpoint`).
        checkpoint_every : int, default 10
        resume : bool, default False
            Continue from ``checkpoint`` when it exists: the fit ends with the same parameters
            as an uninterrupted one (the data and settings must be the same).
        posterior : bool, default True
            Compute ``FitResult.posterior`` (the posterior of every sequence, T x K each, held
            at once); False leaves it None.
        reseed_dead : bool, default False
            Re-seed dead states during EM (:mod:`ethogram.fitting.reseed`): a state with
            fewer than 1 expected frame gets the parameters of the frames the model explains
            worst, at most 3 times per state and not in the last 20% of ``num_iters``; the
            objective may drop at those iterations (``FitResult.reseeds`` lists them). The
            seed frames derive from ``seed``; a fit in which no state dies is the fit
            without re-seeding, bit for bit.
        accelerate : bool, default True
            SQUAREM (:mod:`ethogram.fitting.squarem`): every third EM step extrapolates
            from the two before it, kept only when it does not lower the objective, and EM
            stops only when such a cycle of three steps gained at most ``tol / 4`` per scored
            frame and plain EM would gain at most that much more if it went on (estimated
            from how fast its steps shrink), so it does not stop in a slow crawl short of
            the optimum. False: plain EM, stopped at the first step that gains at most ``tol``
            per scored frame (the behaviour before, bit for bit; BENCHMARKS.md, "EM
            acceleration", compares the two).

        Returns
        -------
        FitResult

        Raises
        ------
        ValueError
            For a bad argument (named in the message), or when no sequence is long enough.
        EMDecreaseError
            If the objective decreases (lost precision; the message says the likely causes).
        """
        num_starts = check_fit_arguments(num_iters, tol, num_restarts, init, num_starts, start_iters)
        if client is not None:
            if executor is not None:
                raise ValueError("give either client or executor, not both (client makes a Dask executor)")
            from ..fitting.distributed import DaskExecutor

            executor = DaskExecutor(client)
        executor = fitting.executors.resolve_executor(executor, num_threads)
        from ..fitting.ondisk import OnDiskSequences

        on_disk = isinstance(data, OnDiskSequences)
        if on_disk:  # each recording read once to check it and find its mask, then left on disk
            mlist = [None] * len(data) if masks is None else list(masks)
            ms = [self._prepare(d.read_sequence(), m, mask_nan)[1][0] for d, m in zip(data, mlist, strict=True)]
            datas, batch = list(data), True
        else:
            datas, ms, batch = self._prepare(data, masks, mask_nan)
        lengths = [len(d) for d in datas]
        fitted = require_long(self.observations, lengths)
        warn_short(self.observations, lengths, ~fitted,
                   "left out of the fit (its frames get no syllable)")
        datas, ms = subset(datas, fitted), subset(ms, fitted)
        start_iters = min(int(start_iters), int(num_iters))
        for name, flag in (("reseed_dead", reseed_dead), ("accelerate", accelerate)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {flag!r}")
        policy = None
        if reseed_dead:  # one integer entropy: spawn_seeds(entropy) gives the generators spawn_seeds(seed) would
            from ..fitting.checkpoint import resolve_seed
            from ..fitting.reseed import Reseeding

            seed = resolve_seed(seed)
            policy = lambda r: Reseeding(int(num_iters), seed, r)  # noqa: E731
        best = None
        finals = []
        if resume and checkpoint is None:
            raise ValueError("resume=True needs checkpoint=<path of the checkpoint file> to resume from")
        if checkpoint is not None:
            from ..fitting.checkpoint import fit_with_checkpoints

            best, finals = fit_with_checkpoints(
                self, datas, ms, lambda g, restart: self._initialize(datas, ms, init, g, restart), path=checkpoint, checkpoint_every=checkpoint_every,
                resume=resume, num_iters=int(num_iters), tol=float(tol), num_restarts=int(num_restarts), init=init, seed=seed,
                num_starts=int(num_starts), start_iters=start_iters, progress=progress, executor=executor, reseed_dead=bool(reseed_dead),
                accelerate=bool(accelerate),
            )
        restarts = [] if checkpoint is not None else enumerate(fitting.spawn_seeds(seed, int(num_restarts)))
        keep = bool(posterior) and not on_disk  # the last E-step's posteriors are the fit's
        for r, rng in restarts:
            desc = "EM" if num_restarts == 1 else f"EM restart {r + 1}/{num_restarts}"
            rs = None if policy is None else policy(r)
            if init == "params":
                run = fitting.run_em(self, datas, ms, int(num_iters), float(tol), progress, desc=desc, executor=executor, keep_posteriors=keep, reseed=rs, accelerate=accelerate)
            else:
                run = fitting.best_start(
                    self, datas, ms, lambda g, r=r: self._initialize(datas, ms, init, g, r), fitting.spawn_seeds(rng, int(num_starts)),
                    start_iters, float(tol), progress, executor, desc, keep_posteriors=keep, reseed=rs, accelerate=accelerate,
                )
                if not run.converged and run.num_iters < num_iters:
                    run = fitting.run_em(self, datas, ms, int(num_iters) - run.num_iters, float(tol), progress, desc=desc, executor=executor, resume=run, keep_posteriors=keep, reseed=rs, accelerate=accelerate)
            finals.append(run.objectives[-1])
            if best is None or run.objectives[-1] > best[1].objectives[-1]:
                best = (r, run, self.get_params() if num_restarts > 1 else None)
        r, run, params = best
        if params is not None:
            self.set_params(params)
        if on_disk or not posterior:  # no posterior of every recording at once
            return FitResult(np.asarray(run.objectives), np.asarray(run.marginal_lls), run.converged, run.num_iters, r, np.asarray(finals), None, list(run.reseeds))
        kept = None if run.last_stats is None else run.last_stats.posteriors
        if kept is not None and len(kept) == len(datas):  # computed at these parameters by the last E-step
            posts = kept
            run.last_stats.posteriors = None
        else:
            lls = [self.observations.log_likelihoods(d, m) for d, m in zip(datas, ms)]
            threads = executor.num_threads if isinstance(executor, fitting.ThreadExecutor) else None
            posts = forward_backward(self.initial_probs, self.transition_matrix, lls, num_threads=threads)
        posts = expand(list(posts), fitted, lambda i: no_posterior(lengths[i], self.num_states))
        return FitResult(
            np.asarray(run.objectives), np.asarray(run.marginal_lls), run.converged, run.num_iters,
            r, np.asarray(finals), posts if batch else posts[0], list(run.reseeds),
        )
