"""Where the per-sequence jobs run: anything with ``map(fn, iterable)`` that keeps input order.

The EM and Gibbs loops hand an executor one job per sequence and use the results in input
order, so the executor only decides *where* the work happens: :class:`SerialExecutor` (this thread),
:class:`ThreadExecutor` (the default: a thread pool, since the numba kernels release the GIL),
or any ``concurrent.futures`` executor, e.g. ``ProcessPoolExecutor`` (jobs are top-level
functions and plain data, so they travel to other processes; the order of ``map``'s results
is the input order). A Dask client needs a three-line wrapper whose ``map`` submits and
gathers. :func:`run_job` is the top-level function every job goes through.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Protocol

from ..inference import parallel_map

__all__ = ["Executor", "SerialExecutor", "ThreadExecutor", "run_job", "resolve_executor"]


class Executor(Protocol):
    """What the EM loop needs from an executor: ``map`` that keeps input order."""

    def map(self, fn: Callable, iterable: Iterable) -> Iterable:  # pragma: no cover - protocol
        ...


class SerialExecutor:
    """Run every job in the calling thread, in order."""

    def map(self, fn: Callable, iterable: Iterable) -> list:
        """``[fn(x) for x in iterable]``."""
        return [fn(x) for x in iterable]


class ThreadExecutor:
    """Run jobs on a thread pool (BLAS pinned to one thread per worker), results in order.

    Parameters
    ----------
    num_threads : int, optional
        Threads; default :func:`ethogram.inference.get_num_threads`.
    """

    def __init__(self, num_threads: int | None = None):
        self.num_threads = num_threads

    def map(self, fn: Callable, iterable: Iterable) -> list:
        """Apply ``fn`` to every item on up to ``num_threads`` threads, results in input order."""
        return parallel_map(fn, list(iterable), self.num_threads)


def run_job(job: tuple) -> Any:
    """Run one per-sequence job ``(fn, params, description, data, mask, *extra)`` as
    ``fn(params, description, data, mask, *extra)``.

    EM's E-step jobs have no extra arguments; the Gibbs loop's local steps add the
    sequence's local state, its seed and what to collect. A top-level function (no
    closure), so process pools can send it by reference. A sequence given as a handle with
    ``read_sequence()`` (e.g. :class:`ethogram.fitting.ondisk.OnDiskSequence`) is read here,
    where the job runs.
    """
    fn, params, description, data, mask, *extra = job
    read = getattr(data, "read_sequence", None)
    if callable(read):
        data = read()
    return fn(params, description, data, mask, *extra)


def resolve_executor(executor=None, num_threads: int | None = None):
    """The executor to use: ``executor`` if given, else a :class:`ThreadExecutor`.

    Parameters
    ----------
    executor : object with ``map``, optional
    num_threads : int, optional
        Only without ``executor``.

    Raises
    ------
    TypeError
        If ``executor`` has no callable ``map``.
    ValueError
        If both ``executor`` and ``num_threads`` are given.
    """
    if executor is None:
        return ThreadExecutor(num_threads)
    if not callable(getattr(executor, "map", None)):
        raise TypeError(
            f"executor must have a map(fn, iterable) method that keeps input order (e.g. a "
            f"concurrent.futures executor), got {type(executor).__name__}"
        )
    if num_threads is not None:
        raise ValueError(
            "give either executor or num_threads, not both (the executor decides where jobs run)"
        )
    return executor
