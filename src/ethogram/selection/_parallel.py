"""Independent fits on several cores: the map every selection function runs its tasks through.

Restarts, folds and kappa candidates are independent EM fits; each is a task (a dict of
arrays and numbers) given to a pure function, seeded from its own key, so its result does
not depend on which worker ran it or how many there were. Tasks run serially
(``num_workers=1``), on a process pool of ``num_workers`` processes (forked on Linux,
spawned elsewhere; one BLAS and one ethogram thread each), or through any ``executor`` with a
``map(fn, iterable)`` method (``concurrent.futures`` executors, the EM loop's executors); results
come back in task order
and a tqdm bar counts finished tasks.
"""

from __future__ import annotations

import copy
import os
from typing import Callable, Sequence

import numpy as np


def resolve_workers(num_workers) -> int:
    """Number of worker processes: ``None`` or ``-1`` means all available CPUs.

    Raises
    ------
    ValueError
        If ``num_workers`` is not a positive integer, ``-1`` or None.
    """
    if num_workers is None or num_workers == -1:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    if isinstance(num_workers, bool) or int(num_workers) != num_workers or num_workers < 1:
        raise ValueError(
            f"num_workers must be a positive integer, -1 or None (all CPUs), got {num_workers!r}"
        )
    return int(num_workers)


def _init_worker() -> None:
    """One BLAS thread and one ethogram thread per worker process (no oversubscription)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    from ..inference import set_num_threads

    set_num_threads(1)


def _context(mp):
    """Fork on Linux (no re-import of the caller's script, so scripts need no ``__main__``
    guard; the numba kernels start no threads of their own), spawn elsewhere."""
    import sys

    return mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")


def run_tasks(
    fn: Callable, tasks: Sequence, num_workers=1, executor=None, progress=None, desc: str = "fits"
) -> list:
    """Run ``fn`` on every task and return the results in task order.

    Parameters
    ----------
    fn : callable
        A module-level function (picklable) taking one task.
    tasks : sequence
        Task descriptions (dicts of arrays and numbers).
    num_workers : int or None, default 1
        Worker processes when no ``executor`` is given (None or -1: all CPUs).
    executor : object with ``map(fn, iterable)``, optional
        Used instead of a process pool (e.g. ``concurrent.futures.ProcessPoolExecutor``).
    progress : bool or None
        tqdm bar over finished tasks (None: only on an interactive terminal;
        True: also in a log file, as a line every 30 s).
    desc : str
        Label of the bar.

    Returns
    -------
    list
        ``[fn(t) for t in tasks]``.
    """
    from .._progress import progress_bar

    tasks = list(tasks)
    bar = progress_bar(len(tasks), desc, progress, leave=False)
    try:
        out = []
        if executor is not None:
            it = executor.map(fn, tasks)
        else:
            workers = min(resolve_workers(num_workers), max(1, len(tasks)))
            if workers == 1:
                it = map(fn, tasks)
            else:
                import multiprocessing as mp
                from concurrent.futures import ProcessPoolExecutor

                pool = ProcessPoolExecutor(
                    workers, mp_context=_context(mp), initializer=_init_worker
                )
                with pool:
                    for r in pool.map(fn, tasks):
                        out.append(r)
                        bar.update(1)
                return out
        for r in it:
            out.append(r)
            bar.update(1)
        return out
    finally:
        bar.close()


def task_seed(seed, *key: int) -> np.random.Generator:
    """A generator determined by ``seed`` and an integer ``key`` (e.g. K, fold, restart).

    Tasks seeded this way draw the same numbers whatever else is in the batch and whatever
    worker runs them.
    """
    base = 0 if seed is None else int(seed)
    if base < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng(np.random.SeedSequence(base, spawn_key=tuple(int(k) for k in key)))


def sub_model(model, keep) -> object:
    """A copy of an HMM restricted to the states ``keep`` (in that order).

    Per-state observation parameters are sliced, shared ones (a tied covariance) kept; the
    initial distribution and every transition row are renormalised over the kept states.
    Priors (alpha, kappa) and what is learned are kept.

    Parameters
    ----------
    model : HMM
    keep : array_like of int
        Indices of the states to keep, at least one (a repeated index duplicates a state).

    Returns
    -------
    HMM
    """
    from ..models.hmm import HMM

    keep = np.asarray(keep, dtype=np.intp)
    if keep.ndim != 1 or keep.size == 0 or keep.min() < 0 or keep.max() >= model.num_states:
        raise ValueError(f"keep must list states in [0, {model.num_states}), got {keep!r}")
    obs = copy.deepcopy(model.observations)
    obs.num_states = int(keep.size)
    for name in obs.state_param_names():
        setattr(obs, name, np.array(getattr(obs, name))[keep])
    pi = model.initial_probs[keep]
    pi = pi / pi.sum() if pi.sum() > 0 else np.full(keep.size, 1.0 / keep.size)
    P = model.transition_matrix[np.ix_(keep, keep)]
    rows = P.sum(axis=1, keepdims=True)
    bad = rows[:, 0] <= 0
    P[bad] = np.eye(keep.size)[bad]
    rows[bad] = 1.0
    P = P / rows
    return HMM(
        int(keep.size),
        obs,
        initial_probs=pi,
        transition_matrix=P,
        initial_alpha=model.initial.alpha,
        transition_alpha=model.transitions.alpha,
        kappa=model.transitions.kappa,
        learn_initial=model.initial.learn,
        learn_transitions=model.transitions.learn,
    )
