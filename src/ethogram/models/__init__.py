"""Models floor: HMMs built from an initial distribution, transitions and observations.

``HMM`` is the general model (any registered observation model, fitted by EM);
``GaussianHMM``, ``AutoregressiveHMM``, ``CategoricalHMM`` and ``PoissonHMM`` are the
course's classes with the course's attribute names.
"""

from .course import AutoregressiveHMM, CategoricalHMM, GaussianHMM, PoissonHMM
from .hmm import HMM, FitResult
from .observations import ObservationModel, get_observation_class, register, registered_observations
from .short_sequences import ShortSequenceWarning
from .transitions import InitialDistribution, Transitions

__all__ = [
    "HMM",
    "AutoregressiveHMM",
    "CategoricalHMM",
    "FitResult",
    "GaussianHMM",
    "InitialDistribution",
    "ObservationModel",
    "PoissonHMM",
    "ShortSequenceWarning",
    "Transitions",
    "get_observation_class",
    "register",
    "registered_observations",
]
