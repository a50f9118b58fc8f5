"""The course's example models, ready to sample from: the demo and the tests share them.

``course_gaussian_hmm`` is part 2 of the assignment (K = 5 means on the unit circle,
covariance 0.25^2 I, transitions 0.9 I + 0.1 / K); ``course_spiral_arhmm`` is part 3 (every
``A_k = 0.8 R(-pi/25)``, biases on the unit circle, ``Q = 0.001 I`` and a cyclic transition
matrix that stays with probability 0.946 and moves on with 0.053).
"""

from __future__ import annotations

import numpy as np

from .families import AutoregressiveHMM, GaussianHMM


def course_gaussian_hmm(num_states: int = 5) -> GaussianHMM:
    """The course's 2-D Gaussian HMM with means on the unit circle (transitions held fixed).

    Parameters
    ----------
    num_states : int, default 5

    Returns
    -------
    GaussianHMM
    """
    K, D = num_states, 2
    model = GaussianHMM(K, D, learn_initial=False, learn_transitions=False)
    angles = 2 * np.pi * np.arange(K) / K
    model.emission_means = np.column_stack([np.cos(angles), np.sin(angles)])
    model.emission_covs = np.tile(0.25**2 * np.eye(D), (K, 1, 1))
    model.transition_matrix = 0.9 * np.eye(K) + 0.1 / K
    return model


def spiral_transition_matrix(num_states: int = 5) -> np.ndarray:
    """Cyclic ``P[k, (k + j) % K] = p_j`` with ``p = (4^10, 3^10, 2^10, 1, 0) / sum``, shape
    (K, K)."""
    p = np.array([4.0**10, 3.0**10, 2.0**10, 1.0, 0.0])[:num_states]
    p /= p.sum()
    K = num_states
    P = np.zeros((K, K))
    for k in range(K):
        for j in range(K):
            P[k, (k + j) % K] = p[j]
    return P


def course_spiral_arhmm(num_states: int = 5) -> AutoregressiveHMM:
    """The course's spiral ARHMM (D = 2, one lag), transitions held fixed.

    Parameters
    ----------
    num_states : int, default 5

    Returns
    -------
    AutoregressiveHMM
    """
    K, D = num_states, 2
    theta = -np.pi / 25
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    model = AutoregressiveHMM(
        K,
        D,
        num_lags=1,
        transition_matrix=spiral_transition_matrix(K),
        learn_initial=False,
        learn_transitions=False,
    )
    angles = 2 * np.pi * np.arange(K) / K
    model.emission_dynamics = np.tile(0.8 * R, (K, 1, 1))
    model.emission_bias = np.column_stack([np.cos(angles), np.sin(angles)])
    model.emission_covs = np.tile(0.001 * np.eye(D), (K, 1, 1))
    return model
