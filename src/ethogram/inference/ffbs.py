"""One state path by forward filtering, backward sampling, fast: the Gibbs sampler's syllable draw.

:func:`ffbs` draws one path from ``p(z_{1:T} | x_{1:T})`` and returns it with ``log p(x)``,
as :func:`ethogram.inference.sample_posterior` does, but for the inner loop of a sampler: one
fused numba pass per direction (:mod:`._ffbs_kernels`), the transposed matrix reusable across
sequences, and the checks optional (a sampler builds its inputs itself). When float64 cannot
represent what the scaled recursion needs, the same draw (same uniforms) is made by the exact
general path of :mod:`.core` (log space where needed), so the result never depends on
underflow.
"""

from __future__ import annotations

import numpy as np

from . import _ffbs_kernels, _kernels, _logspace
from ._one_sequence import _exact_forward, _run_forward
from ._scratch import scratch
from ._validation import (
    check_all_impossible,
    check_initial_probs,
    check_log_likes,
    check_transition_matrix,
)

__all__ = ["ffbs"]


def _general(pi, A, L, uniforms):
    """The draw by :mod:`.core`'s exact path: (states, marginal_ll)."""
    states = np.empty((1, L.shape[0]), dtype=np.intp)
    fast = _run_forward(pi, A, L)
    if fast is None:
        exact = _exact_forward(pi, A, L)
        _logspace.log_backward_sample_kernel(
            exact.lt.log_A, exact.log_alphas, uniforms[None], states
        )
        return states[0], exact.marginal_ll
    _kernels.backward_sample_kernel(A, fast[0], uniforms[None], states)
    return states[0], fast[3]


def ffbs(initial_probs, transition_matrix, log_likes, seed=None, *, transition_T=None, check=True):
    """Draw one state path from ``p(z | x)`` (forward filtering, backward sampling).

    Parameters
    ----------
    initial_probs : array_like, shape (K,)
    transition_matrix : array_like, shape (K, K)
        Row-stochastic.
    log_likes : array_like, shape (T, K)
        Per-frame log-likelihoods (a masked frame: a row of zeros).
    seed : int, numpy.random.Generator or None
        Draws ``T`` uniforms (one call), whichever path computes the draw.
    transition_T : ndarray, shape (K, K), optional
        ``transition_matrix.T`` as a C-contiguous float64 array (computed if not given;
        pass it to reuse it across sequences).
    check : bool, default True
        Validate the inputs as :func:`~ethogram.inference.sample_posterior` does; False
        for callers that built them (float64, C-contiguous, finite or -inf log-likelihoods,
        probabilities that sum to 1).

    Returns
    -------
    states : ndarray of int, shape (T,)
    marginal_ll : float
        ``log p(x_{1:T})``.

    Raises
    ------
    ValueError
        On invalid inputs (with ``check``), or observations impossible under the model.
    """
    if check:
        A = check_transition_matrix(transition_matrix)
        pi = check_initial_probs(initial_probs, A.shape[0])
        L, finite = check_log_likes(log_likes, A.shape[0], return_finite=True)
        if not finite:
            check_all_impossible(L)
    else:
        A, pi, L = transition_matrix, initial_probs, log_likes
    T, K = L.shape
    uniforms = np.random.default_rng(seed).random(T)
    alphas = scratch("ffbs_alphas", (T, K))  # never leaves this function
    offsets, norms = np.empty(T), np.empty(T)
    if _ffbs_kernels.ffbs_forward_kernel(pi, A, L, alphas, offsets, norms) != -1:
        return _general(pi, A, L, uniforms)
    AT = np.ascontiguousarray(A.T) if transition_T is None else transition_T
    states = np.empty(T, dtype=np.intp)
    _ffbs_kernels.ffbs_backward_kernel(AT, alphas, uniforms, states)
    return states, float(np.log(norms).sum() + offsets.sum())
