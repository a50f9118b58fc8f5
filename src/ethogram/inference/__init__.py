"""Kernels floor: exact, fast, batched HMM message passing on plain arrays.

Knows nothing of models, files or plots. Every function accepts one sequence of
log-likelihoods (T, K) or a list of sequences of different lengths with optional masks.
"""

from ._scratch import scratch
from ._threads import (
    get_num_threads,
    one_blas_thread,
    one_openmp_thread,
    parallel_map,
    set_num_threads,
)
from ._validation import check_initial_probs, check_mask, check_transition_matrix
from .core import (
    HMMPosterior,
    backward_pass,
    forward_backward,
    forward_pass,
    predictive_log_likes,
    sample_posterior,
    viterbi,
)
from .markov import propagate, sample_states, stationary_distribution

__all__ = [
    "HMMPosterior",
    "backward_pass",
    "check_initial_probs",
    "check_mask",
    "check_transition_matrix",
    "forward_backward",
    "forward_pass",
    "get_num_threads",
    "one_blas_thread",
    "one_openmp_thread",
    "parallel_map",
    "predictive_log_likes",
    "propagate",
    "sample_posterior",
    "sample_states",
    "scratch",
    "set_num_threads",
    "stationary_distribution",
    "viterbi",
]
