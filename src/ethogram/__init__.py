"""ethogram: hidden Markov models and autoregressive HMMs for animal behavior.

This module is the public face: the course's names (``GaussianHMM``, ``AutoregressiveHMM``,
...), ``HMM`` and the kernels of ``ethogram.inference`` are exported here. The package is built
in floors whose imports point down only, from the command (``ethogram.cli``) to the kernels;
no module inside imports this one (``docs/architecture.md``).
"""

from ._version import __version__ as __version__
from .inference import (
    HMMPosterior,
    backward_pass,
    forward_backward,
    forward_pass,
    get_num_threads,
    predictive_log_likes,
    propagate,
    sample_posterior,
    sample_states,
    set_num_threads,
    stationary_distribution,
    viterbi,
)
from .models import (
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
