"""What :meth:`ethogram.HMM.fit` returns, its defaults for the short starts, and its argument checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

#: short starts per restart in :meth:`HMM.fit` (measured: BENCHMARKS.md, "Default fit reliability")
DEFAULT_NUM_STARTS = 2
#: EM iterations of each short start before the best is continued (0: compare the starts' objectives)
DEFAULT_START_ITERS = 0
#: the kinds of start the restarts of a fit cycle through, per ``init``: (observations, sticky)
RESTART_STARTS = {
    "kmeans": (("kmeans", True), ("kmeans", False), ("random", False)),
    "random": (("random", True), ("random", False)),
}


def restart_start(init: str, restart: int) -> tuple[str, bool]:
    """How restart number ``restart`` of a fit with ``init`` starts.

    Restarts that all start alike end alike: from the sticky transition matrix ``0.9 I +
    0.1 / K`` every k-means start of a fast-switching series can settle in the same sticky
    optimum. So the restarts cycle through kinds of start (:data:`RESTART_STARTS`): restart
    0 (the only one of a default fit) starts as before, the observations by ``init`` and the
    sticky matrix; the next starts from the flat matrix (every entry ``1 / K``: no dwell
    assumed), and with ``init="kmeans"`` the third also starts the observations at random.
    On 2-state AR(1) series that switch fast (tests/test_em_acceleration.py) the sticky
    starts all end in a sticky optimum and the flat ones reach the better one.

    Parameters
    ----------
    init : {"kmeans", "random"}
    restart : int
        Index of the restart (0, 1, ...).

    Returns
    -------
    method : str
        How the observation model starts (``"kmeans"`` or ``"random"``).
    sticky : bool
        True: the sticky matrix; False: the flat one.
    """
    kinds = RESTART_STARTS[init]
    return kinds[int(restart) % len(kinds)]


@dataclass
class FitResult:
    """Outcome of :meth:`HMM.fit`.

    Attributes
    ----------
    objectives : ndarray, shape (num_iters + 1,)
        MAP objective ``sum log p(x) + log p(theta)`` per iteration of the chosen restart.
    marginal_lls : ndarray, shape (num_iters + 1,)
        ``sum log p(x)`` per iteration of the chosen restart (the course's ``lls``).
    converged : bool
        Whether the chosen restart met the tolerance before ``num_iters``.
    num_iters : int
        M-steps done by the chosen restart.
    chosen_restart : int
        Index of the restart kept (highest final objective).
    restart_objectives : ndarray, shape (num_restarts,)
        Final objective of every restart.
    posterior : HMMPosterior or list of HMMPosterior
        Posterior of the data under the fitted model (a list for a list input).
    reseeds : list of ethogram.fitting.reseed.ReseedEvent
        Dead states re-seeded during the chosen restart (``fit(..., reseed_dead=True)``;
        empty otherwise): iteration, state, expected frames and objective before, seed frame.

    Unpacking gives the course's pair: ``lls, posterior = model.fit(data, num_iters)``.
    """

    objectives: np.ndarray
    marginal_lls: np.ndarray
    converged: bool
    num_iters: int
    chosen_restart: int
    restart_objectives: np.ndarray
    posterior: object
    reseeds: list = field(default_factory=list)

    @property
    def lls(self) -> np.ndarray:
        """The course's name for the marginal log-likelihood history."""
        return self.marginal_lls

    def __iter__(self) -> Iterator:
        yield self.marginal_lls
        yield self.posterior


def check_fit_arguments(num_iters, tol, num_restarts, init, num_starts, start_iters) -> int:
    """Check :meth:`ethogram.HMM.fit`'s EM arguments; return ``num_starts`` with its default filled in.

    Raises
    ------
    ValueError
        Naming the argument that is wrong and what it must be.
    """
    if isinstance(num_iters, bool) or int(num_iters) != num_iters or num_iters < 0:
        raise ValueError(f"num_iters must be a non-negative integer, got {num_iters!r}")
    if isinstance(num_restarts, bool) or int(num_restarts) != num_restarts or num_restarts < 1:
        raise ValueError(f"num_restarts must be a positive integer, got {num_restarts!r}")
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a non-negative number (nats per scored frame), got {tol!r}")
    if init not in ("kmeans", "random", "params"):
        raise ValueError(f"init must be 'kmeans', 'random' or 'params', got {init!r}")
    if init == "params" and num_restarts != 1:
        raise ValueError("init='params' starts from the current parameters; use num_restarts=1")
    if num_starts is None:
        num_starts = 1 if init == "params" else DEFAULT_NUM_STARTS
    if isinstance(num_starts, bool) or int(num_starts) != num_starts or num_starts < 1:
        raise ValueError(f"num_starts must be a positive integer, got {num_starts!r}")
    if init == "params" and num_starts != 1:
        raise ValueError("init='params' starts from the current parameters; use num_starts=1")
    if isinstance(start_iters, bool) or int(start_iters) != start_iters or start_iters < 0:
        raise ValueError(f"start_iters must be a non-negative integer, got {start_iters!r}")
    return int(num_starts)
