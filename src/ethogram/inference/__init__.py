"""Kernels floor: exact, fast, batched HMM message passing on plain arrays.

Knows nothing of models, files or plots. Every function accepts one sequence of
log-likelihoods (T, K) or a list of sequences of different lengths with optional masks.
"""

from ._threads import get_num_threads, set_num_threads
from .core import (
    HMMPosterior,
    backward_pass,
    forward_backward,
    forward_pass,
    sample_posterior,
    viterbi,
)
from .markov import propagate, stationary_distribution

__all__ = [
    "HMMPosterior",
    "backward_pass",
    "forward_backward",
    "forward_pass",
    "get_num_threads",
    "propagate",
    "sample_posterior",
    "set_num_threads",
    "stationary_distribution",
    "viterbi",
]
