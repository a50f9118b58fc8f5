"""ethogram: hidden Markov models and autoregressive HMMs for animal behavior.

Three floors, arrows pointing down: ``ethogram.inference`` (array kernels),
``ethogram.models`` and ``ethogram.fitting`` (HMMs fitted by EM), and the application
(readers, plots, the ``ethogram`` command). The course's names are exported here.
"""

from ._version import __version__
from .inference import (  # noqa: E402
    HMMPosterior,
    backward_pass,
    forward_backward,
    forward_pass,
    get_num_threads,
    predictive_log_likes,
    propagate,
    sample_posterior,
    set_num_threads,
    sample_states,
    stationary_distribution,
    viterbi,
)
from .models import (  # noqa: E402
    HMM,
    AutoregressiveHMM,
    CategoricalHMM,
    FitResult,
    GaussianHMM,
    PoissonHMM,
)

__all__ = [
    "HMM",
    "AutoregressiveHMM",
    "CategoricalHMM",
    "FitResult",
    "GaussianHMM",
    "PoissonHMM",
    "HMMPosterior",
    "backward_pass",
    "forward_backward",
    "forward_pass",
    "get_num_threads",
    "predictive_log_likes",
    "propagate",
    "sample_posterior",
    "sample_states",
    "set_num_threads",
    "stationary_distribution",
    "viterbi",
]
