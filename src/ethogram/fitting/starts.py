"""Several cheap short starts, the best one continued: a default fit that finds the answer.

EM converges to the local optimum nearest its start, and a data-driven start (k-means) lands
in a poor one now and then. Its objective tells at once (a poor start's parameters score far
below a good one's), so :func:`best_start` runs a few starts for ``start_iters`` EM iterations
each (0: just the E-step of the starting parameters) and keeps the one with the highest
objective, which the caller then continues to convergence from the kept statistics (no E-step
is repeated). With failures independent across starts of probability p, n starts fail together
with probability p^n (BENCHMARKS.md, "Default fit reliability", measures how often a single
start fails on the course's spiral ARHMM, which sets the default of :meth:`ethogram.HMM.fit`).
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from .._deprecation import renamed_keywords
from .em import DEFAULT_TOL, EMRun, run_em

__all__ = ["best_start"]


@renamed_keywords(datas="sequences")
def best_start(
    model,
    sequences,
    masks,
    initialize: Callable[[np.random.Generator], None],
    rngs: Iterable[np.random.Generator],
    start_iters: int,
    tol: float = DEFAULT_TOL,
    progress=None,
    executor=None,
    desc: str = "EM",
    keep_posteriors: bool = False,
    reseed=None,
    accelerate: bool = False,
) -> EMRun:
    """Run EM briefly from several starts and leave ``model`` at the best one.

    Parameters
    ----------
    model : HMM
        Follows the protocol of :mod:`ethogram.fitting.em`, plus ``get_params`` /
        ``set_params``.
    sequences, masks : list
        Validated sequences and their effective masks.
    initialize : callable
        ``initialize(rng)`` sets the model's starting parameters.
    rngs : iterable of numpy.random.Generator
        One generator per start.
    start_iters : int
        EM iterations per start (0: compare the starting objectives).
    tol : float, default 1e-5
        Convergence tolerance per scored frame (a start may converge early).
    progress : bool or None
    executor : object with ``map``, optional
    desc : str
        Label of the progress bars.
    keep_posteriors : bool, default False
        Passed to :func:`~ethogram.fitting.em.run_em`.
    reseed : Reseeding, optional
        Passed to :func:`~ethogram.fitting.em.run_em` (re-seeding of dead states).
    accelerate : bool, default False
        Passed to :func:`~ethogram.fitting.em.run_em` (SQUAREM).

    Returns
    -------
    EMRun
        The chosen start's run (its ``last_stats`` belong to the model's parameters, so
        :func:`~ethogram.fitting.em.run_em` can continue it with ``resume``).
    """
    rngs = list(rngs)
    if not rngs:
        raise ValueError("best_start needs at least one start (one random generator per start)")
    best_run, best_params = None, None
    for i, rng in enumerate(rngs):
        initialize(rng)
        label = desc if len(rngs) == 1 else f"{desc} start {i + 1}/{len(rngs)}"
        run = run_em(
            model,
            sequences,
            masks,
            int(start_iters),
            tol,
            progress,
            desc=label,
            executor=executor,
            keep_posteriors=keep_posteriors,
            reseed=reseed,
            accelerate=accelerate,
        )
        if best_run is None or run.objectives[-1] > best_run.objectives[-1]:
            best_run = run
            best_params = model.get_params() if len(rngs) > 1 else None
    if best_params is not None:
        model.set_params(best_params)
    return best_run
