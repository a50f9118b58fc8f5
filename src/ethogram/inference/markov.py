"""Markov chain utilities from the course worksheet: stationary distributions and propagation.

``stationary_distribution`` solves ``pi P = pi`` exactly (a null space, not a power
iteration) and refuses chains whose stationary distribution is not unique;
``propagate`` pushes a distribution forward through the chain; ``sample_states`` draws a
path.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import null_space

from . import _kernels
from ._validation import (
    _check_probabilities,
    as_float_array,
    check_initial_probs,
    check_transition_matrix,
)


def stationary_distribution(transition_matrix) -> np.ndarray:
    """Stationary distribution ``pi`` with ``pi @ transition_matrix = pi``.

    Parameters
    ----------
    transition_matrix : array_like, shape (K, K)
        Row-stochastic transition matrix.

    Returns
    -------
    pi : ndarray, shape (K,)
        Non-negative, summing to 1.

    Raises
    ------
    ValueError
        If the chain has more than one stationary distribution (it is reducible, e.g. has
        two closed classes); then no single answer exists.
    """
    P = check_transition_matrix(transition_matrix)
    K = P.shape[0]
    basis = null_space(P.T - np.eye(K), rcond=1e-10)
    if basis.shape[1] != 1:
        raise ValueError(
            f"transition_matrix has {basis.shape[1]} independent stationary distributions (the "
            "chain is reducible); the stationary distribution is only unique for a chain with "
            "a single closed class"
        )
    pi = basis[:, 0]
    pi = pi / pi.sum()
    pi[np.abs(pi) < 1e-15] = 0.0
    return np.clip(pi, 0.0, None) / np.clip(pi, 0.0, None).sum()


def propagate(
    distribution, transition_matrix, num_steps: int, return_path: bool = False
) -> np.ndarray:
    """Push a state distribution forward through the chain.

    Parameters
    ----------
    distribution : array_like, shape (K,)
        Distribution of ``z_0``.
    transition_matrix : array_like, shape (K, K)
        Row-stochastic transition matrix.
    num_steps : int
        Number of steps (>= 0).
    return_path : bool, default False
        Return every intermediate distribution.

    Returns
    -------
    ndarray, shape (K,) or (num_steps + 1, K)
        ``distribution @ transition_matrix ** num_steps``, or the whole path starting with
        ``distribution`` itself when ``return_path`` is True.
    """
    P = check_transition_matrix(transition_matrix)
    p = as_float_array(distribution, "distribution", 1)
    if p.shape[0] != P.shape[0]:
        raise ValueError(
            f"distribution has {p.shape[0]} entries but transition_matrix has {P.shape[0]} states"
        )
    _check_probabilities(p[None, :], "distribution", "its entries")
    if isinstance(num_steps, bool) or int(num_steps) != num_steps or num_steps < 0:
        raise ValueError(f"num_steps must be a non-negative integer, got {num_steps!r}")
    out = np.empty((int(num_steps) + 1, P.shape[0]))
    _kernels.propagate_kernel(p, P, int(num_steps), out)
    return out if return_path else out[-1].copy()


def sample_states(initial_probs, transition_matrix, num_timesteps: int, seed=None) -> np.ndarray:
    """Draw one state path of a Markov chain.

    Parameters
    ----------
    initial_probs : array_like, shape (K,)
        Distribution of the first state.
    transition_matrix : array_like, shape (K, K)
        Row-stochastic transition matrix.
    num_timesteps : int
        Path length T (>= 1).
    seed : int, numpy.random.Generator or None
        Randomness.

    Returns
    -------
    states : ndarray of int, shape (T,)
    """
    P = check_transition_matrix(transition_matrix)
    pi = check_initial_probs(initial_probs, P.shape[0])
    if isinstance(num_timesteps, bool) or int(num_timesteps) != num_timesteps or num_timesteps < 1:
        raise ValueError(f"num_timesteps must be a positive integer, got {num_timesteps!r}")
    rng = np.random.default_rng(seed)
    # renormalise exactly so the inverse-CDF draw never runs off the end
    pi = pi / pi.sum()
    P = P / P.sum(axis=1, keepdims=True)
    states = np.empty(int(num_timesteps), dtype=np.intp)
    _kernels.sample_chain_kernel(pi, P, rng.random(int(num_timesteps)), states)
    return states
