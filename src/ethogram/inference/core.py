"""Public message-passing API: forward/backward, posteriors, Viterbi and posterior sampling.

These are the course's functions (``forward_pass``, ``backward_pass``, ``forward_backward``
returning an :class:`HMMPosterior`) with the same argument names and meanings, made exact,
fast and robust. Every function takes one sequence (``log_likes`` of shape (T, K)) or a
batch (a list of such arrays of different lengths, with an optional list of masks) and then
returns a list of results in the same order, computed on several threads (see
:func:`ethogram.inference.set_num_threads`). A mask is boolean of shape (T,), True where the
frame is observed; a masked frame contributes no likelihood but the chain still runs through
it. Inputs are validated and every problem raises a ``ValueError`` naming the argument.
Each sequence is computed by :mod:`._one_sequence`: scaled kernels, with an exact
log-space recomputation where scaling cannot represent what it needs.
"""

from __future__ import annotations

import numpy as np

from ._one_sequence import (
    HMMPosterior,
    _backward_one,
    _forward_one,
    _log,
    _posterior_one,
    _predictive_one,
    _sample_one,
    _viterbi_one,
)
from ._threads import parallel_map
from ._validation import (
    apply_mask,
    check_all_impossible,
    check_initial_probs,
    check_log_likes,
    check_mask,
    check_transition_matrix,
)

__all__ = [
    "HMMPosterior",
    "backward_pass",
    "forward_backward",
    "forward_pass",
    "predictive_log_likes",
    "sample_posterior",
    "viterbi",
]


# ----------------------------------------------------------------------------- helpers


def _is_batch(log_likes) -> bool:
    """A list or tuple whose items are 2-D (a nested list of numbers is one sequence)."""
    return (
        isinstance(log_likes, (list, tuple))
        and len(log_likes) > 0
        and all(np.ndim(x) == 2 for x in log_likes)
    )


def _batch_masks(log_likes: list, mask) -> list:
    if mask is None:
        return [None] * len(log_likes)
    if not isinstance(mask, (list, tuple)) or len(mask) != len(log_likes):
        raise ValueError(
            "mask must be a list with one mask (or None) per sequence when log_likes is a list; "
            f"got {type(mask).__name__} for {len(log_likes)} sequences"
        )
    return list(mask)


def _named_batch(log_likes: list, mask) -> list:
    """``(log_likes, mask, name)`` per sequence; the name (``log_likes[i]``) goes in errors."""
    masks = _batch_masks(log_likes, mask)
    return [(L, m, f"log_likes[{i}]") for i, (L, m) in enumerate(zip(log_likes, masks))]


def _prepare(log_likes, num_states: int, mask, name: str = "log_likes") -> np.ndarray:
    L, finite = check_log_likes(log_likes, num_states, name, return_finite=True)
    m = check_mask(mask, L.shape[0])
    if not finite:  # -inf entries may make a frame impossible
        L = apply_mask(L, m)
        check_all_impossible(L, name)
        return L
    return apply_mask(L, m)


# ----------------------------------------------------------------------------- forward


def forward_pass(initial_probs, transition_matrix, log_likes, mask=None, num_threads=None):
    """Normalized forward messages and the marginal log-likelihood.

    Parameters
    ----------
    initial_probs : array_like, shape (K,)
        Initial state distribution ``pi``.
    transition_matrix : array_like, shape (K, K)
        Row-stochastic ``P[i, j] = p(z_{t+1} = j | z_t = i)``.
    log_likes : array_like, shape (T, K), or list of such arrays
        ``log p(x_t | z_t = k)``; ``-inf`` marks an impossible state.
    mask : array_like of bool, shape (T,), or list, optional
        True where the frame is observed; masked frames contribute no likelihood.
    num_threads : int, optional
        Threads for a batch (default: :func:`ethogram.inference.get_num_threads`).

    Returns
    -------
    alphas : ndarray, shape (T, K)
        ``alphas[t] = p(z_t | x_{1:t})`` (each row sums to 1).
    marginal_ll : float
        ``log p(x_{1:T})``.
    For a list input, a list of ``(alphas, marginal_ll)`` tuples.
    """
    A = check_transition_matrix(transition_matrix)
    pi = check_initial_probs(initial_probs, A.shape[0])
    if _is_batch(log_likes):
        return parallel_map(
            lambda a: _forward_one(pi, A, _prepare(a[0], A.shape[0], a[1], a[2])),
            _named_batch(log_likes, mask),
            num_threads,
        )
    return _forward_one(pi, A, _prepare(log_likes, A.shape[0], mask))


def predictive_log_likes(initial_probs, transition_matrix, log_likes, mask=None, num_threads=None):
    """Per-frame predictive log-likelihoods ``log p(x_t | x_{1:t-1})``.

    They sum to the marginal log-likelihood; a masked frame contributes 0.

    Parameters
    ----------
    initial_probs : array_like, shape (K,)
        Initial state distribution.
    transition_matrix : array_like, shape (K, K)
        Row-stochastic transition matrix.
    log_likes : array_like, shape (T, K), or list of such arrays
        Per-frame, per-state log-likelihoods.
    mask : array_like of bool, shape (T,), or list, optional
        True where the frame is observed.
    num_threads : int, optional
        Threads for a batch.

    Returns
    -------
    ndarray, shape (T,)
        For a list input, a list of such arrays.
    """
    A = check_transition_matrix(transition_matrix)
    pi = check_initial_probs(initial_probs, A.shape[0])
    if _is_batch(log_likes):
        return parallel_map(
            lambda a: _predictive_one(pi, A, _prepare(a[0], A.shape[0], a[1], a[2])),
            _named_batch(log_likes, mask),
            num_threads,
        )
    return _predictive_one(pi, A, _prepare(log_likes, A.shape[0], mask))


def backward_pass(transition_matrix, log_likes, mask=None, num_threads=None):
    """Normalized backward messages.

    Parameters
    ----------
    transition_matrix : array_like, shape (K, K)
        Row-stochastic transition matrix.
    log_likes : array_like, shape (T, K), or list of such arrays
        Per-frame, per-state log-likelihoods.
    mask : array_like of bool, shape (T,), or list, optional
        True where the frame is observed.
    num_threads : int, optional
        Threads for a batch.

    Returns
    -------
    betas : ndarray, shape (T, K)
        ``betas[t] ∝ p(x_{t+1:T} | z_t)``, each row normalized to sum to 1 (the last row is
        uniform). For a list input, a list of such arrays.
    """
    A = check_transition_matrix(transition_matrix)
    if _is_batch(log_likes):
        return parallel_map(
            lambda a: _backward_one(A, _prepare(a[0], A.shape[0], a[1], a[2])),
            _named_batch(log_likes, mask),
            num_threads,
        )
    return _backward_one(A, _prepare(log_likes, A.shape[0], mask))


# ----------------------------------------------------------------------------- smoothing


def forward_backward(initial_probs, transition_matrix, log_likes, mask=None, num_threads=None):
    """Posterior state marginals, marginal log-likelihood and expected transition counts.

    The full E-step of EM: one forward and one backward pass in O(T K^2) time and O(T K)
    memory (no T x K x K array is ever allocated).

    Parameters
    ----------
    initial_probs : array_like, shape (K,)
        Initial state distribution.
    transition_matrix : array_like, shape (K, K)
        Row-stochastic transition matrix.
    log_likes : array_like, shape (T, K), or list of such arrays
        Per-frame, per-state log-likelihoods.
    mask : array_like of bool, shape (T,), or list, optional
        True where the frame is observed.
    num_threads : int, optional
        Threads for a batch (results do not depend on it).

    Returns
    -------
    HMMPosterior
        ``expected_states`` (T, K), ``marginal_ll`` (float) and ``expected_transitions``
        (K, K). For a list input, a list of :class:`HMMPosterior`.
    """
    A = check_transition_matrix(transition_matrix)
    pi = check_initial_probs(initial_probs, A.shape[0])
    AT = np.ascontiguousarray(A.T)
    if _is_batch(log_likes):
        items = _named_batch(log_likes, mask)
        return parallel_map(
            lambda a: _posterior_one(pi, A, AT, _prepare(a[0], A.shape[0], a[1], a[2])),
            items,
            num_threads,
        )
    L = _prepare(log_likes, A.shape[0], mask)
    return _posterior_one(pi, A, AT, L)


# ----------------------------------------------------------------------------- decoding


def viterbi(
    initial_probs, transition_matrix, log_likes, mask=None, return_score=False, num_threads=None
):
    """Most likely state sequence (max-product / Viterbi).

    Parameters
    ----------
    initial_probs : array_like, shape (K,)
        Initial state distribution.
    transition_matrix : array_like, shape (K, K)
        Row-stochastic transition matrix.
    log_likes : array_like, shape (T, K), or list of such arrays
        Per-frame, per-state log-likelihoods.
    mask : array_like of bool, shape (T,), or list, optional
        True where the frame is observed.
    return_score : bool, default False
        Also return ``log p(x, z*)`` of the best path.
    num_threads : int, optional
        Threads for a batch.

    Returns
    -------
    states : ndarray of int, shape (T,)
        The most likely path (ties broken toward the lowest state index).
    score : float
        Only with ``return_score=True``. For a list input, a list of results.
    """
    A = check_transition_matrix(transition_matrix)
    pi = check_initial_probs(initial_probs, A.shape[0])
    log_pi, log_A = _log(pi), _log(A)
    if _is_batch(log_likes):
        items = _named_batch(log_likes, mask)
        return parallel_map(
            lambda a: _viterbi_one(
                log_pi, log_A, _prepare(a[0], A.shape[0], a[1], a[2]), return_score
            ),
            items,
            num_threads,
        )
    L = _prepare(log_likes, A.shape[0], mask)
    return _viterbi_one(log_pi, log_A, L, return_score)


def sample_posterior(
    initial_probs,
    transition_matrix,
    log_likes,
    num_samples=1,
    seed=None,
    mask=None,
    num_threads=None,
):
    """Draw state paths from ``p(z_{1:T} | x_{1:T})`` by forward filtering, backward sampling.

    Parameters
    ----------
    initial_probs : array_like, shape (K,)
        Initial state distribution.
    transition_matrix : array_like, shape (K, K)
        Row-stochastic transition matrix.
    log_likes : array_like, shape (T, K), or list of such arrays
        Per-frame, per-state log-likelihoods.
    num_samples : int, default 1
        Number of independent paths.
    seed : int, numpy.random.Generator or None
        Randomness; the same seed gives the same paths whatever the thread count.
    mask : array_like of bool, shape (T,), or list, optional
        True where the frame is observed.
    num_threads : int, optional
        Threads for a batch.

    Returns
    -------
    samples : ndarray of int, shape (num_samples, T)
        For a list input, a list of such arrays.
    """
    if isinstance(num_samples, bool) or int(num_samples) != num_samples or num_samples < 1:
        raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
    A = check_transition_matrix(transition_matrix)
    pi = check_initial_probs(initial_probs, A.shape[0])
    rng = np.random.default_rng(seed)
    if _is_batch(log_likes):
        items = []
        for L, m, name in _named_batch(log_likes, mask):  # draw uniforms in input order
            L = _prepare(L, A.shape[0], m, name)
            items.append((L, rng.random((int(num_samples), L.shape[0]))))
        return parallel_map(lambda a: _sample_one(pi, A, a[0], a[1]), items, num_threads)
    L = _prepare(log_likes, A.shape[0], mask)
    return _sample_one(pi, A, L, rng.random((int(num_samples), L.shape[0])))
