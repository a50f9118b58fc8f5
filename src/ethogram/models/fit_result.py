"""What :meth:`ethogram.HMM.fit` returns, and how each of its restarts starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

# the defaults of the short starts, where they were before ethogram.fitting.settings
from ..fitting.settings import DEFAULT_NUM_STARTS, DEFAULT_START_ITERS  # noqa: F401

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
