"""Numba kernels for the exact fallback: HMM message passing in log space.

The scaled kernels (:mod:`ethogram.inference._kernels`) keep probabilities as float64
numbers relative to each frame's best state, so a state whose probability falls below
~1e-308 of the best becomes exactly 0. That is harmless unless the lost state is needed
later: when the transition structure (zeros in ``transition_matrix``) or ``-inf``
log-likelihoods leave only paths through it, or when it explains later frames far better.
The wrappers in :mod:`ethogram.inference.core` detect those cases (a rescaled frame that
dropped a state that can occur, a vanished or tiny normaliser, tiny transition
probabilities; :func:`refit_reachable_kernel` decides the first) and recompute the sequence
with the kernels below: every quantity in log space, each frame re-centred on its best
state (:func:`_recentre`) so that O(1) log-probabilities survive next to log-likelihoods of
size 1e300. Exact for any magnitude, about 100 times slower than the scaled kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import _JIT, _draw


@njit(**_JIT)
def refit_reachable_kernel(initial_probs, transition_matrix, log_likes, offsets, refitted):
    """Whether a frame rescaled by :func:`forward_kernel` dropped a state that can occur.

    Propagates the exact support (which states have positive probability given the zeros of
    ``initial_probs`` and ``transition_matrix`` and the ``-inf`` entries of ``log_likes``) as
    booleans, and returns True when at a frame with ``refitted[t]`` some state in the
    predicted support has a log-likelihood above the frame's new offset ``offsets[t]`` (the
    best among the states the scaled pass kept): its probability only underflowed, and it
    explains the frame better than every state kept.
    """
    T, K = log_likes.shape
    support = np.empty(K, dtype=np.bool_)
    pred = np.empty(K, dtype=np.bool_)
    for t in range(T):
        if t == 0:
            for k in range(K):
                pred[k] = initial_probs[k] > 0.0
        else:
            for j in range(K):
                pred[j] = False
            for i in range(K):
                if support[i]:
                    for j in range(K):
                        if transition_matrix[i, j] > 0.0:
                            pred[j] = True
        if refitted[t]:
            for k in range(K):
                if pred[k] and log_likes[t, k] > offsets[t]:
                    return True
        for k in range(K):
            support[k] = pred[k] and log_likes[t, k] > -np.inf
    return False


@njit(**_JIT)
def _lse(x):
    m = -np.inf
    for v in x:
        if v > m:
            m = v
    if m == -np.inf:
        return m
    s = 0.0
    for v in x:
        s += np.exp(v - m)
    return m + np.log(s)


@njit(**_JIT)
def _normalize_log(x):
    """Normalise ``x`` in place so that ``sum(exp(x)) = 1``; return its log-sum-exp.

    The maximum is removed first: with entries of size 1e300, ``x - logsumexp(x)`` would lose
    the O(1) part of the normaliser to rounding and leave the row unnormalised.
    """
    m = -np.inf
    for v in x:
        if v > m:
            m = v
    if m == -np.inf:
        return m
    s = 0.0
    for k in range(x.shape[0]):
        x[k] -= m
        s += np.exp(x[k])
    c = np.log(s)
    for k in range(x.shape[0]):
        x[k] -= c
    return m + c


@njit(**_JIT)
def _recentre(log_like_row, add_row, extra_row, out):
    """``out[j] = log_like_row[j] + add_row[j] - r`` computed without rounding loss.

    ``r`` (returned, -inf when every sum is -inf) is the sum at the state ``b`` maximising
    ``log_like_row + add_row + extra_row`` (``extra_row`` weighs in how each state can be
    reached, so that a state no path uses cannot be the reference); each entry is formed as
    ``(log_like_row[j] - log_like_row[b]) + (add_row[j] - add_row[b])`` so that O(1)
    log-probabilities survive next to log-likelihoods of size 1e300.
    """
    K = out.shape[0]
    m = -np.inf
    b = -1
    for j in range(K):
        d = log_like_row[j] + add_row[j] + extra_row[j]
        if d > m:
            m = d
            b = j
    if b < 0:
        for j in range(K):
            out[j] = -np.inf
        return -np.inf
    lref = log_like_row[b]
    aref = add_row[b]
    for j in range(K):
        out[j] = (log_like_row[j] - lref) + (add_row[j] - aref)
    return lref + aref


@njit(**_JIT)
def log_forward_kernel(log_initial, log_transition, log_likes, log_alphas, log_norms):
    """Forward filtering in log space: ``log_alphas[t] = log p(z_t | x_{1:t})`` and
    ``log_norms[t] = log p(x_t | x_{1:t-1})``. Returns -1 on success or the first
    impossible frame."""
    T, K = log_likes.shape
    col = np.empty(K)
    pred = np.empty(K)
    zeros = np.zeros(K)
    for t in range(T):
        for j in range(K):
            if t == 0:
                pred[j] = log_initial[j]
            else:
                for i in range(K):
                    col[i] = log_alphas[t - 1, i] + log_transition[i, j]
                pred[j] = _lse(col)
        r = _recentre(log_likes[t], pred, zeros, log_alphas[t])
        if r == -np.inf:
            return t
        log_norms[t] = r + _normalize_log(log_alphas[t])
    return -1


@njit(**_JIT)
def log_backward_kernel(log_transition, log_likes, log_betas, restrict):
    """Backward messages in log space, each row normalised (log-sum-exp 0).

    With ``restrict`` True, states with ``log_likes[t, i] = -inf`` get ``log_betas[t, i] =
    -inf`` (for posteriors, where such states cannot occur and must not dominate the
    normalisation). Returns -1 on success or the frame whose message vanished."""
    T, K = log_likes.shape
    v = np.empty(K)
    row = np.empty(K)
    best_in = np.empty(K)  # the most likely way into each state (-inf: none)
    for j in range(K):
        best_in[j] = -np.inf
        for i in range(K):
            if log_transition[i, j] > best_in[j]:
                best_in[j] = log_transition[i, j]
    for k in range(K):
        log_betas[T - 1, k] = -np.inf if restrict and log_likes[T - 1, k] == -np.inf else -np.log(K)
    for t in range(T - 2, -1, -1):
        _recentre(log_likes[t + 1], log_betas[t + 1], best_in, v)
        for i in range(K):
            if restrict and log_likes[t, i] == -np.inf:
                log_betas[t, i] = -np.inf
                continue
            for j in range(K):
                row[j] = log_transition[i, j] + v[j]
            log_betas[t, i] = _lse(row)
        if _normalize_log(log_betas[t]) == -np.inf:
            return t
    return -1


@njit(**_JIT)
def log_posterior_kernel(log_alphas, log_betas, log_transition, log_likes, expected_states, expected_transitions):
    """Posterior marginals and summed two-slice marginals from log-space messages."""
    T, K = log_likes.shape
    g = np.empty(K)
    v = np.empty(K)
    col = np.empty(K)
    pred = np.empty(K)
    x = np.empty(K * K)
    for t in range(T):
        for k in range(K):
            g[k] = log_alphas[t, k] + log_betas[t, k]
        _normalize_log(g)
        for k in range(K):
            expected_states[t, k] = np.exp(g[k])
    for i in range(K):
        for j in range(K):
            expected_transitions[i, j] = 0.0
    for t in range(T - 1):
        for j in range(K):
            for i in range(K):
                col[i] = log_alphas[t, i] + log_transition[i, j]
            pred[j] = _lse(col)
        _recentre(log_likes[t + 1], log_betas[t + 1], pred, v)
        for i in range(K):
            for j in range(K):
                x[i * K + j] = log_alphas[t, i] + log_transition[i, j] + v[j]
        _normalize_log(x)
        for i in range(K):
            for j in range(K):
                expected_transitions[i, j] += np.exp(x[i * K + j])


@njit(**_JIT)
def log_backward_sample_kernel(log_transition, log_alphas, uniforms, samples):
    """Backward sampling (FFBS) from log-space forward messages; as
    :func:`backward_sample_kernel` but exact when probabilities underflow."""
    num_samples, T = uniforms.shape
    K = log_alphas.shape[1]
    w = np.empty(K)
    weights = np.empty(K)
    for n in range(num_samples):
        for t in range(T - 1, -1, -1):
            for k in range(K):
                w[k] = log_alphas[t, k] if t == T - 1 else log_alphas[t, k] + log_transition[k, samples[n, t + 1]]
            m = -np.inf
            for k in range(K):
                if w[k] > m:
                    m = w[k]
            total = 0.0
            for k in range(K):
                weights[k] = np.exp(w[k] - m)
                total += weights[k]
            samples[n, t] = _draw(weights, total, uniforms[n, t])
