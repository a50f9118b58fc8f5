"""The EM loop: E-step per sequence, statistics summed in a fixed order, closed-form M-step.

The loop is written against a small protocol rather than a class, so that the same loop
serves every HMM and, later, other executors (threads today; processes or a Dask cluster
only change how :func:`e_step` results are produced). Per iteration: every sequence
returns its marginal log-likelihood and summable sufficient statistics; these are summed in
input order (deterministic whatever the number of threads); the MAP objective
``sum_n log p(x_n) + log p(theta)`` is recorded and checked to never decrease beyond
round-off (a decrease raises, as it can only mean a bug or degenerate numerics); the loop
stops when the relative improvement falls below ``tol``; a tqdm progress bar shows the
objective.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
from tqdm.auto import tqdm

from ..inference import forward_backward
from ..inference._threads import parallel_map
from ..models.observations.base import sum_stats

#: relative size of an objective decrease that is still attributed to round-off
MONOTONE_RTOL = 1e-8


class EMDecreaseError(RuntimeError):
    """The EM objective went down by more than round-off."""


@dataclass
class SufficientStats:
    """Statistics of a batch of sequences, summed in input order.

    Attributes
    ----------
    marginal_ll : float
        Sum of ``log p(x_n)`` over sequences.
    expected_initial : ndarray, shape (K,)
        Sum of ``p(z_0 | x_n)``.
    expected_transitions : ndarray, shape (K, K)
        Sum of expected transition counts.
    observations : dict of str to ndarray
        Summed observation-model statistics.
    num_sequences : int
    """

    marginal_ll: float
    expected_initial: np.ndarray
    expected_transitions: np.ndarray
    observations: dict
    num_sequences: int = 1


def _e_step_one(model, data, mask) -> SufficientStats:
    log_likes = model.observations.log_likelihoods(data, mask)
    post = forward_backward(model.initial_probs, model.transition_matrix, log_likes)
    stats = model.observations.sufficient_stats(data, post.expected_states, mask)
    return SufficientStats(post.marginal_ll, post.expected_states[0].copy(), post.expected_transitions, stats)


def e_step(model, datas: list, masks: list, num_threads: int | None = None) -> SufficientStats:
    """Expected sufficient statistics of all sequences under the model's current parameters.

    Parameters
    ----------
    model : HMM
        Anything with ``observations``, ``initial_probs`` and ``transition_matrix``.
    datas : list of ndarray
        Validated sequences.
    masks : list of (ndarray of bool or None)
        Effective masks (frames the observation model scores).
    num_threads : int, optional
        Threads over sequences.

    Returns
    -------
    SufficientStats
    """
    parts = parallel_map(lambda dm: _e_step_one(model, dm[0], dm[1]), list(zip(datas, masks)), num_threads)
    total = parts[0]
    out = SufficientStats(
        float(total.marginal_ll),
        total.expected_initial.copy(),
        total.expected_transitions.copy(),
        sum_stats([p.observations for p in parts]),
        len(parts),
    )
    for p in parts[1:]:
        out.marginal_ll += p.marginal_ll
        out.expected_initial += p.expected_initial
        out.expected_transitions += p.expected_transitions
    return out


def m_step(model, stats: SufficientStats) -> None:
    """Closed-form MAP update of every learned part of ``model``."""
    model.initial.m_step(stats.expected_initial)
    model.transitions.m_step(stats.expected_transitions)
    model.observations.m_step(stats.observations)


@dataclass
class EMRun:
    """History of one EM run (one restart)."""

    objectives: list = field(default_factory=list)
    marginal_lls: list = field(default_factory=list)
    converged: bool = False
    num_iters: int = 0


def run_em(model, datas, masks, num_iters: int, tol: float, progress=None, num_threads=None, desc: str = "EM") -> EMRun:
    """Run EM from the model's current parameters.

    Parameters
    ----------
    model : HMM
        Fitted in place.
    datas, masks : list
        Validated sequences and their effective masks.
    num_iters : int
        Maximum number of M-steps.
    tol : float
        Stop when ``(obj - prev) <= tol * |prev|``.
    progress : bool or None
        Show a tqdm bar (None: only on an interactive terminal).
    num_threads : int, optional
        Threads over sequences.
    desc : str
        Label of the progress bar.

    Returns
    -------
    EMRun
        ``objectives[i]`` is the MAP objective of the parameters after ``i`` M-steps; the
        last entry belongs to the returned parameters.
    """
    run = EMRun()
    disable = None if progress is None else (not progress)
    bar = tqdm(total=num_iters, desc=desc, disable=disable, leave=False)
    try:
        prev = -np.inf
        for it in range(num_iters + 1):
            stats = e_step(model, datas, masks, num_threads)
            obj = stats.marginal_ll + model.log_prior()
            run.objectives.append(obj)
            run.marginal_lls.append(stats.marginal_ll)
            if not np.isfinite(obj):
                raise FloatingPointError(
                    f"EM objective is {obj} at iteration {it}; the data or parameters are degenerate"
                )
            if obj < prev - MONOTONE_RTOL * max(1.0, abs(prev)):
                raise EMDecreaseError(
                    f"EM objective decreased from {prev:.10g} to {obj:.10g} at iteration {it}; EM "
                    "cannot decrease it, so this signals a numerical problem (e.g. a degenerate "
                    "state with near-singular covariance); try a stronger prior or fewer states"
                )
            if it > 0 and obj - prev <= tol * abs(prev):
                run.converged = True
                break
            if it == num_iters:
                break
            m_step(model, stats)
            run.num_iters = it + 1
            prev = obj
            bar.update(1)
            bar.set_postfix(objective=f"{obj:.6g}")
    finally:
        bar.close()
    return run


def spawn_seeds(seed, n: int) -> Iterator[np.random.Generator]:
    """``n`` independent generators derived from ``seed`` (reproducible)."""
    if isinstance(seed, np.random.Generator):
        seed = seed.integers(2**63)
    for child in np.random.SeedSequence(seed).spawn(n):
        yield np.random.default_rng(child)
