"""Models floor: HMMs built from an initial distribution, transitions and observations.

``HMM`` is the general model (any registered observation model, fitted by EM);
``GaussianHMM``, ``AutoregressiveHMM``, ``CategoricalHMM`` and ``PoissonHMM`` are the
course's classes with the course's attribute names; ``StickyHDPARHMM`` is MoSeq's sticky
HDP-ARHMM, fitted by Gibbs sampling; ``KeypointSLDS`` is keypoint-MoSeq's keypoint SLDS.
"""

from .families import AutoregressiveHMM, CategoricalHMM, GaussianHMM, PoissonHMM
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
    "GibbsFit",
    "InitialDistribution",
    "KeypointPrior",
    "KeypointSLDS",
    "KeypointSLDSFit",
    "MoseqPrior",
    "ObservationModel",
    "PoissonHMM",
    "ShortSequenceWarning",
    "StickyHDPARHMM",
    "Transitions",
    "get_observation_class",
    "register",
    "registered_observations",
]

_LAZY = {"GibbsFit", "MoseqPrior", "StickyHDPARHMM"}
_LAZY_SLDS = {"KeypointPrior", "KeypointSLDS", "KeypointSLDSFit"}


def __getattr__(name):
    """The Gibbs-sampled model is imported on first use, so ``import ethogram`` stays fast."""
    if name in _LAZY:
        from . import moseq_arhmm

        return getattr(moseq_arhmm, name)
    if name in _LAZY_SLDS:
        from . import keypoint_slds

        return getattr(keypoint_slds, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
