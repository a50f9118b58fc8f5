"""What one E-step returns: expected sufficient statistics that add with ``+``.

The EM loop never looks inside an observation model's statistics: it only adds them up.
:class:`SufficientStats` holds the statistics of one sequence (or of several, once added):
the marginal log-likelihood, the expected initial state and transition counts, the
observation model's dict of arrays, and the number of sequences and of scored frames.
``a + b`` adds field by field (the observation dicts key by key) and returns a new object,
so a list of per-sequence statistics is reduced left to right in input order by
:func:`sum_sufficient_stats`: the total is the same bits whatever executor (threads, processes, a
cluster) produced the parts, as long as they come back in input order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Iterable

import numpy as np

from .._deprecation import renamed_function

__all__ = ["SufficientStats", "sum_sufficient_stats"]


@dataclass
class SufficientStats:
    """Expected sufficient statistics of one or more sequences.

    Attributes
    ----------
    marginal_ll : float
        Sum of ``log p(x_n)`` over the sequences.
    expected_initial : ndarray, shape (K,)
        Sum of ``p(z_0 = k | x_n)``.
    expected_transitions : ndarray, shape (K, K)
        Sum of expected transition counts.
    observations : dict of str to ndarray
        The observation model's statistics (summable key by key).
    num_sequences : int, default 1
        Number of sequences summed.
    num_frames : int, default 0
        Number of frames the observation model scores (masked frames excluded), summed;
        EM measures its convergence per scored frame.
    posteriors : list or None, default None
        The sequences' posteriors (in input order), kept only when asked for by an
        in-process E-step (so a fit can return them without another forward-backward pass);
        never sent between processes. Added statistics keep them only if both operands do.
    """

    marginal_ll: float
    expected_initial: np.ndarray
    expected_transitions: np.ndarray
    observations: dict
    num_sequences: int = 1
    num_frames: int = 0
    posteriors: list | None = None

    def __add__(self, other: "SufficientStats") -> "SufficientStats":
        """Field-by-field sum (a new object; neither operand is modified).

        Raises
        ------
        ValueError
            If the observation statistics do not have the same keys (statistics of
            different models).
        """
        if not isinstance(other, SufficientStats):
            return NotImplemented
        if self.observations.keys() != other.observations.keys():
            raise ValueError(
                "cannot add statistics of different observation models: keys "
                f"{sorted(self.observations)} vs {sorted(other.observations)}"
            )
        return SufficientStats(
            float(self.marginal_ll) + float(other.marginal_ll),
            np.add(self.expected_initial, other.expected_initial, dtype=np.float64),
            np.add(self.expected_transitions, other.expected_transitions, dtype=np.float64),
            {
                k: np.add(v, other.observations[k], dtype=np.float64)
                for k, v in self.observations.items()
            },
            int(self.num_sequences) + int(other.num_sequences),
            int(self.num_frames) + int(other.num_frames),
            None
            if self.posteriors is None or other.posteriors is None
            else self.posteriors + other.posteriors,
        )

    def __radd__(self, other) -> "SufficientStats":
        """``0 + stats`` is ``stats`` (so the built-in ``sum`` works)."""
        if isinstance(other, (int, float)) and other == 0:
            return self
        return NotImplemented


def sum_sufficient_stats(parts: Iterable[SufficientStats]) -> SufficientStats:
    """Sum the E-step's statistics of several sequences left to right in the order given
    (deterministic).

    Parameters
    ----------
    parts : iterable of SufficientStats
        At least one.

    Returns
    -------
    SufficientStats

    Raises
    ------
    ValueError
        If ``parts`` is empty.
    """
    parts = list(parts)
    if not parts:
        raise ValueError(
            "sum_sufficient_stats needs at least one SufficientStats (no sequences were given)"
        )
    return reduce(add, parts)


#: deprecated name of :func:`sum_sufficient_stats`
sum_stats = renamed_function(sum_sufficient_stats, "sum_stats")
