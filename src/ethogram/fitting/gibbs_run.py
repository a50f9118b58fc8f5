"""The state of a Gibbs run and its history: what the loop (:mod:`.gibbs`) advances and its
checkpoints (:mod:`.gibbs_checkpoint`) save and restore; its own module so neither imports the
other."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["GibbsRun"]


@dataclass
class GibbsRun:
    """The state of a Gibbs run after ``iteration`` sweeps, and its history.

    Attributes
    ----------
    params : dict of str to ndarray
        Global parameters after the last iteration.
    local_states : list of dict
        Each sequence's local variables after the last iteration (input order).
    stats : dict of str to ndarray
        The local states' statistics, summed over sequences.
    log_joint : dict of str to list of float
        Per group, the log joint after iterations 0, 1, ..., ``iteration``.
    iteration : int
        Iterations done (0: the initial local step).
    seed_entropy : int
        Every generator of the run derives from it.
    marginal_sums : list of ndarray or None
        Per sequence, the sum of the collected marginals (T, num_states).
    marginal_count : int
        How many iterations were collected.
    """

    params: dict
    local_states: list
    stats: dict
    log_joint: dict = field(default_factory=dict)
    iteration: int = 0
    seed_entropy: int = 0
    marginal_sums: list | None = None
    marginal_count: int = 0

    @property
    def log_joint_total(self) -> np.ndarray:
        """The log joint per iteration, all groups added, shape (iteration + 1,)."""
        groups = [np.asarray(v, dtype=np.float64) for v in self.log_joint.values()]
        return np.sum(groups, axis=0) if groups else np.zeros(self.iteration + 1)

    def marginals(self) -> list | None:
        """Per sequence, the averaged marginals (T, num_states); None if none were collected."""
        if self.marginal_sums is None or self.marginal_count == 0:
            return None
        return [s / self.marginal_count for s in self.marginal_sums]
