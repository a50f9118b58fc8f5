"""How many threads a batch of sequences runs on, and the pool that runs it.

A batch (a list of sequences) is split across a thread pool; each sequence runs in one
numba kernel that releases the GIL, so threads give real parallelism. The thread count is,
in order of precedence: the ``num_threads`` argument of a call, the value given to
:func:`set_num_threads`, the environment variable ``ETHOGRAM_NUM_THREADS``, and finally the
number of CPUs available to this process. Each sequence is always computed by the same
serial code and results are gathered in input order, so outputs do not depend on the
thread count. While a batch runs, BLAS runs on one thread (:func:`one_blas_thread`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence, TypeVar

from threadpoolctl import ThreadpoolController

T = TypeVar("T")
R = TypeVar("R")

_num_threads: int | None = None
# BLAS thread counts are per process: the first one_blas_thread context to open limits them and
# the last to close restores them (fits may run at once on a user's threads)
_guards = 0
_guards_limiter = None
_guards_lock = threading.Lock()
_controller: ThreadpoolController | None = None
_controller_modules = -1


def _blas_controller() -> ThreadpoolController:
    """The loaded BLAS/OpenMP libraries, looked up again only when modules were imported since
    the last look (a native library comes with an extension module): looking them up costs
    about 9 ms in a process with many libraries loaded, more than a small batch."""
    global _controller, _controller_modules
    if _controller is None or len(sys.modules) != _controller_modules:
        _controller = ThreadpoolController()
        _controller_modules = len(sys.modules)
    return _controller


def _available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def set_num_threads(num_threads: int | None) -> None:
    """Set the default number of threads for batched inference.

    Parameters
    ----------
    num_threads : int or None
        A positive number of threads, or ``None`` to go back to ``ETHOGRAM_NUM_THREADS`` or
        the number of available CPUs.
    """
    global _num_threads
    if num_threads is not None:
        num_threads = _check_threads(num_threads, "num_threads")
    _num_threads = num_threads


def get_num_threads() -> int:
    """Return the default number of threads for batched inference (see :func:`set_num_threads`)."""
    if _num_threads is not None:
        return _num_threads
    env = os.environ.get("ETHOGRAM_NUM_THREADS")
    if env:
        try:
            return _check_threads(int(env), "ETHOGRAM_NUM_THREADS")
        except ValueError as exc:
            raise ValueError(
                f"ETHOGRAM_NUM_THREADS={env!r} is not a positive integer; unset it or set e.g. 4"
            ) from exc
    return _available_cpus()


def _check_threads(n, name: str) -> int:
    if isinstance(n, bool) or int(n) != n or int(n) < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


@contextlib.contextmanager
def one_blas_thread():
    """A context manager under which BLAS (OpenBLAS, MKL, BLIS) runs on one thread.

    ethogram's fits make many small BLAS and LAPACK calls (a triangular solve of a few
    dimensions against a recording's frames, regressions of a few dozen coefficients) and
    parallelise over recordings themselves. A threaded BLAS gains nothing on such calls and,
    when another process shares the cores, its threads wait on each other (BENCHMARKS.md,
    "BLAS threads"). The fitting loops (EM's restarts, the Gibbs sampler) and every batch run
    under it; the previous BLAS thread counts are restored on exit. The BLAS libraries are
    looked up when the outermost context opens (again whenever modules were imported since),
    after SciPy's linear algebra is loaded, so NumPy's and SciPy's (often two OpenBLAS builds)
    and any loaded later are all limited; contexts opened while
    one is open (nested, or fits running at once on other threads) do nothing more, and the
    counts are restored when the last one closes.

    Yields
    ------
    None
    """
    global _guards, _guards_limiter
    import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, so that it is limited too)

    with _guards_lock:
        if _guards == 0:
            _guards_limiter = _blas_controller().limit(limits=1, user_api="blas")
        _guards += 1
    try:
        yield
    finally:
        with _guards_lock:
            _guards -= 1
            if _guards == 0:
                _guards_limiter.restore_original_limits()
                _guards_limiter = None


def one_openmp_thread():
    """A context manager under which OpenMP pools (scikit-learn's k-means) run on one thread.

    Like :func:`one_blas_thread`, for the k-means starts: a few thousand frames gain nothing
    from OpenMP's threads, and their count could change the starting labels. The libraries are
    looked up as :func:`one_blas_thread` does (again only after new imports), not at every
    call (about 9 ms each with many libraries loaded).

    Returns
    -------
    contextlib.AbstractContextManager
        From ``threadpoolctl.ThreadpoolController.limit``.
    """
    return _blas_controller().limit(limits=1, user_api="openmp")


def parallel_map(
    func: Callable[[T], R], items: Sequence[T], num_threads: int | None = None
) -> list[R]:
    """Apply ``func`` to every item, on up to ``num_threads`` threads, results in input order.

    Public as ``ethogram.inference.parallel_map`` (the EM loop's default executor uses it).

    Parameters
    ----------
    func : callable
        Applied to each item; should release the GIL for real parallelism (numba kernels,
        BLAS).
    items : sequence
    num_threads : int, optional
        Default :func:`get_num_threads`. BLAS runs on one thread while the batch runs
        (:func:`one_blas_thread`).

    Returns
    -------
    list
        ``[func(x) for x in items]``, in input order whatever the thread count.

    Raises
    ------
    ValueError
        If ``num_threads`` is not a positive integer.
    """
    n = get_num_threads() if num_threads is None else _check_threads(num_threads, "num_threads")
    n = min(n, len(items))
    with one_blas_thread():
        if n <= 1:
            return [func(x) for x in items]
        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(func, items))
