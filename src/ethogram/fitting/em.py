"""The EM loop: E-step per sequence on an executor, statistics summed in order, closed-form M-step.
The loop knows no model class: it talks to a model through a small protocol (``get_params``,
``describe``, a top-level ``e_step_function``, ``m_step_from_stats``, ``log_prior``; optionally
``prepare_e_step`` and ``expected_stats``). Each iteration sends one job per sequence to the
executor (threads by default, or any order-keeping ``map``), adds the returned statistics in
input order (the same bits whatever the executor), records the MAP objective, raises
:class:`EMDecreaseError` if it decreases beyond round-off, and stops when it improves by less
than ``tol`` nats per scored frame; ``accelerate`` adds SQUAREM cycles
(:mod:`ethogram.fitting.squarem`) and ``reseed`` re-seeds dead states
(:mod:`ethogram.fitting.reseed`). The protocol, the stopping rules and re-seeding in full:
``docs/em.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from .._deprecation import renamed_keywords
from .._progress import progress_bar
from .executors import SerialExecutor, ThreadExecutor, resolve_executor, run_job
from .reseed import reseed_dead_states
from .settings import DEFAULT_TOL
from .squarem import contraction, set_extrapolated, step_length
from .stats import SufficientStats, sum_sufficient_stats

#: relative size of an objective decrease that is still attributed to round-off
MONOTONE_RTOL = 1e-8
#: relative size of an objective change below which it is round-off (convergence test)
ROUNDOFF = 1e-13
#: share of the tolerance that an accelerated run's last cycle and its estimated remaining gain
#: must each be under for it to stop: the estimate (a geometric tail at the rate the parameter
#: steps shrink) can be low by a factor of a few where the objective is flat (measured:
#: BENCHMARKS.md, "EM acceleration")
TAIL_FRACTION = 0.25


class EMDecreaseError(RuntimeError):
    """The EM objective went down by more than round-off (lost precision, not a bug in EM)."""


def _decrease_message(prev: float, obj: float, it: int, num_frames: int, num_states) -> str:
    drop = prev - obj
    fixes = [
        "data with a large offset or a tiny spread compared with its magnitude: centre and scale "
        "each dimension (subtract its mean, divide by its standard deviation) before fitting",
        "a constant or duplicated dimension, or a state that collapsed onto a few frames, making a "
        "covariance nearly singular: drop constant dimensions, keep prior='default' (or give the "
        "prior more pseudo-observations) rather than prior=None",
    ]
    if num_states is not None and num_states > 1:
        fixes.append(f"more states ({num_states}) than the data support: fit fewer states")
    return (
        f"EM objective decreased from {prev:.10g} to {obj:.10g} at iteration {it} ({drop:.3g} "
        f"nats, {drop / max(num_frames, 1):.3g} per scored frame); an EM step cannot decrease "
        "it, so the arithmetic lost precision. Likely causes and fixes: "
        + "; ".join(f"({i + 1}) {f}" for i, f in enumerate(fixes))
    )


@renamed_keywords(datas="sequences")
def e_step(
    model,
    sequences: list,
    masks: list,
    num_threads: int | None = None,
    executor=None,
    keep_posteriors: bool = False,
) -> SufficientStats:
    """Expected sufficient statistics of all sequences under the model's current parameters.

    Parameters
    ----------
    model : HMM
        Anything following the protocol in the module docstring.
    sequences : list of ndarray
        Validated sequences.
    masks : list of (ndarray of bool or None)
        Effective masks (frames the observation model scores).
    num_threads : int, optional
        Threads over sequences (the default executor); not with ``executor``.
    executor : object with ``map(fn, iterable)``, optional
        Runs one job per sequence and returns results in input order (e.g.
        ``concurrent.futures.ProcessPoolExecutor``); default: a thread pool.
    keep_posteriors : bool, default False
        With an in-process executor, keep every sequence's posterior in the returned
        statistics (``posteriors``); ignored by other executors.

    Returns
    -------
    SufficientStats
        The per-sequence statistics added in input order.
    """
    if len(sequences) != len(masks) or not sequences:
        raise ValueError(
            "sequences and masks must be non-empty lists of equal length, got "
            f"{len(sequences)} and {len(masks)}"
        )
    ex = resolve_executor(executor, num_threads)
    prepare = getattr(model, "prepare_e_step", None)
    if callable(prepare):
        prepare(sequences, masks)
    live = getattr(model, "expected_stats", None)
    if isinstance(ex, (SerialExecutor, ThreadExecutor)) and callable(live):
        # in this process: the live model computes what a copy rebuilt from (params,
        # description) would, without rebuilding and re-checking it for every job
        fn = _live_stats_and_posterior if keep_posteriors else _live_stats
        jobs = [(fn, model, None, d, m) for d, m in zip(sequences, masks)]
    else:
        fn, params, description = model.e_step_function, model.get_params(), model.describe()
        jobs = [(fn, params, description, d, m) for d, m in zip(sequences, masks)]
    return sum_sufficient_stats(ex.map(run_job, jobs))


def _live_stats(model, _description, data, mask) -> SufficientStats:
    """Job function of the in-process executors: ``model.expected_stats(data, mask)``."""
    return model.expected_stats(data, mask)


def _live_stats_and_posterior(model, _description, data, mask) -> SufficientStats:
    """As :func:`_live_stats`, keeping the sequence's posterior."""
    return model.expected_stats(data, mask, keep_posterior=True)


def m_step(model, stats: SufficientStats) -> None:
    """Closed-form MAP update of every learned part of ``model`` from summed statistics."""
    model.m_step_from_stats(stats)


@dataclass
class EMRun:
    """History of one EM run (one start).

    Attributes
    ----------
    objectives : list of float
        MAP objective after 0, 1, ... M-steps.
    marginal_lls : list of float
        ``sum log p(x)`` at the same points.
    converged : bool
    num_iters : int
        M-steps done.
    last_stats : SufficientStats or None
        Statistics at the returned parameters (so a run can be continued without
        recomputing them).
    reseeds : list of ReseedEvent
        Dead states re-seeded (only with ``run_em(..., reseed=...)``), in order; at such an
        ``iteration`` the objective may be lower than the one before.
    anchor : dict of str to ndarray or None
        With acceleration, the parameters one EM step before the current ones when the next
        step is an extrapolation (:mod:`ethogram.fitting.squarem`); None otherwise.
    cycle_step : int
        With acceleration, the plain EM steps taken in the current cycle (0, 1 or 2; the
        extrapolation follows the second). With ``anchor`` part of the run's state, so a run
        continued with ``resume`` takes the steps an uninterrupted one would.
    num_e_steps : int
        E-steps computed by this run, including those of rejected extrapolations (the cost).
    """

    objectives: list = field(default_factory=list)
    marginal_lls: list = field(default_factory=list)
    converged: bool = False
    num_iters: int = 0
    last_stats: SufficientStats | None = None
    reseeds: list = field(default_factory=list)
    anchor: dict | None = None
    num_e_steps: int = 0
    cycle_step: int = 0


@dataclass
class _Loop:
    """What every step of one :func:`run_em` call needs: the model, the data, where to run."""

    model: object
    sequences: list
    masks: list
    executor: object
    keep_posteriors: bool
    run: EMRun
    #: after an extrapolation step, the contraction of its two EM steps (else None)
    rate: float | None = None

    def evaluate(self) -> tuple[SufficientStats, float]:
        """E-step at the model's parameters: statistics and MAP objective."""
        stats = e_step(
            self.model,
            self.sequences,
            self.masks,
            executor=self.executor,
            keep_posteriors=self.keep_posteriors,
        )
        self.run.num_e_steps += 1
        return stats, stats.marginal_ll + self.model.log_prior()


def _em_step(loop: _Loop, stats: SufficientStats, accelerate: bool) -> SufficientStats:
    """One plain EM step from ``stats``. In an acceleration cycle the first leads from
    wherever the last cycle ended (an extrapolated point) to an M-step's output, from which
    the second starts (remembered as the anchor): extrapolating only from M-step outputs
    keeps probability rows summing to 1 to round-off, where an extrapolated anchor would
    pass its own error on, multiplied by ``(1 + a)^2``, cycle after cycle."""
    loop.rate = None
    run = loop.run
    if accelerate:
        if run.cycle_step == 1:
            run.anchor = loop.model.get_params()
        run.cycle_step += 1
    loop.model.m_step_from_stats(stats)
    return loop.evaluate()[0]


def _step_coordinates(model, params: dict) -> dict:
    """Where the steps are measured: ``model.step_coordinates(params)`` when the model has
    it (unit-free coordinates, so the fit of ``a x + b`` takes the steps of the fit of ``x``),
    else the parameters themselves."""
    coordinates = getattr(model, "step_coordinates", None)
    return coordinates(params) if callable(coordinates) else params


def _squarem_step(loop: _Loop, stats: SufficientStats, objective: float) -> SufficientStats:
    """The last step of a SQUAREM cycle: the extrapolated point if its objective is at
    least ``objective`` (that of the current parameters), else the plain EM step."""
    model, p0 = loop.model, loop.run.anchor
    loop.run.anchor, loop.run.cycle_step = None, 0
    p1 = model.get_params()
    model.m_step_from_stats(stats)
    p2 = model.get_params()
    if not p0.keys() == p1.keys() == p2.keys():  # a parameter appeared (a data reference set)
        loop.rate = np.inf
        return loop.evaluate()[0]
    q0, q1, q2 = (_step_coordinates(model, p) for p in (p0, p1, p2))
    loop.rate = contraction(q0, q1, q2)
    if set_extrapolated(model, p0, p1, p2, step_length(q0, q1, q2)) is not None:
        try:
            new, obj = loop.evaluate()
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            new, obj = None, -np.inf  # a point the kernels refuse is no better than a lower one
        if new is not None and obj >= objective:
            return new
        model.set_params(p2)
    return loop.evaluate()[0]


def _check_objective(obj: float, prev: float, step: int, frames: int, num_states) -> None:
    if not np.isfinite(obj):
        raise FloatingPointError(
            f"EM objective is {obj} at iteration {step}; the data or parameters are "
            "degenerate (an observation impossible under every state, or a parameter "
            "that overflowed)"
        )
    if obj < prev - MONOTONE_RTOL * max(1.0, abs(prev)):
        raise EMDecreaseError(_decrease_message(prev, obj, step, frames, num_states))


def _crawl_done(objectives: list, rate: float, limit: float) -> bool:
    """Convergence at the end of an acceleration cycle (the last four objectives: before
    it, after its two EM steps, after its extrapolation step): the cycle gained at most
    :data:`TAIL_FRACTION` of ``limit`` nats, and so would plain EM after its second step, its
    remaining gain estimated from that step's gain and the steps' ``rate`` (a geometric
    tail: ``gain rate^2 / (1 - rate^2)``)."""
    limit = TAIL_FRACTION * limit
    start, f0, f1, end = objectives[-4:]
    if end - start > limit:
        return False
    gain = f1 - f0
    if gain <= ROUNDOFF * max(1.0, abs(f1)):
        return True  # nothing moves the objective any more (the rate is then round-off)
    return rate < 1.0 and gain * rate**2 / (1.0 - rate**2) <= limit


def _converged(loop: _Loop, frames: int, tol: float, accelerate: bool) -> bool:
    """Stop here? Plain EM: when the last step gained at most ``tol`` nats per scored frame;
    accelerated: only at the end of a cycle, by :func:`_crawl_done`."""
    obj = loop.run.objectives
    if len(obj) < 2:
        return False
    if not accelerate:
        return obj[-1] - obj[-2] <= tol * frames
    return loop.rate is not None and len(obj) >= 4 and _crawl_done(obj, loop.rate, tol * frames)


def _record(
    loop: _Loop, stats: SufficientStats, prev: float, tol: float, reseed, accelerate: bool = False
) -> bool:
    """Append the new parameters' objective to the history, check it, re-seed dead states;
    True when EM has converged (:func:`_converged`)."""
    model, run = loop.model, loop.run
    obj = stats.marginal_ll + model.log_prior()
    run.objectives.append(obj)
    run.marginal_lls.append(stats.marginal_ll)
    run.last_stats = stats
    step = len(run.objectives) - 1
    frames = max(int(stats.num_frames), 1)
    _check_objective(obj, prev, step, frames, getattr(model, "num_states", None))
    events = []
    if reseed is not None:
        events = reseed_dead_states(
            model, loop.sequences, loop.masks, stats, reseed, step, obj, run.reseeds
        )
    if not events:
        return _converged(loop, frames, tol, accelerate)
    # new parameters: their statistics and objective replace this iteration's, and an
    # acceleration cycle starts afresh from them
    stats, obj = loop.evaluate()
    run.objectives[-1], run.marginal_lls[-1], run.last_stats = obj, stats.marginal_ll, stats
    run.reseeds.extend(events)
    run.anchor, run.cycle_step = None, 0
    if not np.isfinite(obj):
        raise FloatingPointError(
            f"EM objective is {obj} after re-seeding states {[e.state for e in events]} at "
            f"iteration {step}"
        )
    return False


@renamed_keywords(datas="sequences")
def run_em(
    model,
    sequences,
    masks,
    num_iters: int,
    tol: float = DEFAULT_TOL,
    progress=None,
    num_threads=None,
    desc: str = "EM",
    executor=None,
    resume: EMRun | None = None,
    keep_posteriors: bool = False,
    reseed=None,
    accelerate: bool = False,
) -> EMRun:
    """Run EM from the model's current parameters.

    Parameters
    ----------
    model : HMM
        Fitted in place (see the protocol in the module docstring).
    sequences, masks : list
        Validated sequences and their effective masks.
    num_iters : int
        Maximum number of M-steps (in this call).
    tol : float, default 1e-5
        Stop when the objective improves by at most ``tol`` nats per scored frame.
    progress : bool or None
        Show a tqdm bar (None: only on an interactive terminal;
        True: also in a log file, as a line every 30 s).
    num_threads : int, optional
        Threads over sequences (default executor).
    desc : str
        Label of the progress bar.
    executor : object with ``map``, optional
        Where the per-sequence E-steps run (see :func:`e_step`).
    resume : EMRun, optional
        A run that stopped at the model's current parameters: its history is continued and
        its ``last_stats`` are used instead of a first E-step.
    keep_posteriors : bool, default False
        Keep the posteriors of each E-step in its statistics (in-process executors only),
        so ``last_stats.posteriors`` are those of the returned parameters.
    reseed : Reseeding, optional
        Re-seed dead states after E-steps (:mod:`ethogram.fitting.reseed`); None (default):
        never, and the run is exactly plain EM.
    accelerate : bool, default False
        SQUAREM (:mod:`ethogram.fitting.squarem`): every third step extrapolates from the two
        EM steps before it and keeps the extrapolated point only when its objective is not
        lower than the current one (else it takes the plain EM step), so the history stays
        monotone; a rejected point costs one extra E-step (``EMRun.num_e_steps``). The run
        stops by the accelerated rule of the module docstring. Needs ``model.set_params`` to
        refuse parameters outside their domain with ValueError.

    Returns
    -------
    EMRun
        ``objectives[i]`` is the MAP objective of the parameters after ``i`` M-steps (after
        the re-seed, at an iteration listed in ``reseeds``); the last entry belongs to the
        returned parameters.

    Raises
    ------
    EMDecreaseError
        If the objective decreases by more than round-off (other than by a re-seed).
    FloatingPointError
        If the objective is not finite.
    """
    run = EMRun() if resume is None else resume
    loop = _Loop(
        model, sequences, masks, resolve_executor(executor, num_threads), keep_posteriors, run
    )
    stats = None if resume is None else resume.last_stats
    if stats is None:
        stats = loop.evaluate()[0]
        run.converged = _record(loop, stats, -np.inf, tol, reseed)
        stats = run.last_stats
    bar = progress_bar(num_iters, desc, progress, leave=False)
    try:
        for _ in range(num_iters):
            if run.converged:
                break
            prev = run.objectives[-1]
            if accelerate and run.anchor is not None:
                stats = _squarem_step(loop, stats, prev)
            else:
                stats = _em_step(loop, stats, accelerate)
            run.num_iters += 1
            run.converged = _record(loop, stats, prev, tol, reseed, accelerate)
            stats = run.last_stats  # a re-seed replaced them
            bar.update(1)
            bar.set_postfix(objective=f"{run.objectives[-1]:.6g}")
    finally:
        bar.close()
    return run


def spawn_seeds(seed, n: int) -> Iterator[np.random.Generator]:
    """``n`` independent generators derived from ``seed`` (reproducible)."""
    if isinstance(seed, np.random.Generator):
        seed = seed.integers(2**63)
    for child in np.random.SeedSequence(seed).spawn(n):
        yield np.random.default_rng(child)
