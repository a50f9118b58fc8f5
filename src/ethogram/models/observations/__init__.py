"""Observation models, one file each, registered by name (see :mod:`.base` for the contract).

Also the lag helpers of the autoregressive models that the Gibbs-sampled ARHMM shares:
``lag_windows`` (a zero-copy view of each frame's window), ``lag_closure`` (which frames an
L-lag model can score) and ``squared_norms_by_state`` (the numba kernel that sums squared
whitened residuals per state).
"""

from ._ar_linalg import _sum_squares as squared_norms_by_state
from ._ar_linalg import lag_closure, lag_windows
from .base import (
    ObservationModel,
    get_observation_class,
    register,
    registered_observations,
    sum_observation_stats,
)
from .base import sum_stats as sum_stats  # deprecated name, kept importable

__all__ = [
    "ObservationModel",
    "get_observation_class",
    "lag_closure",
    "lag_windows",
    "register",
    "registered_observations",
    "squared_norms_by_state",
    "sum_observation_stats",
]
