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
size 1e300. Exact for any magnitude. The sums over states are a matrix-vector product of
shifted exponentials, with only the entries that product cannot hold recomputed from the
matrix's nonzeros (:func:`_log_vecmat`), and terms below exp(-746) skip the exponential,
rather than ``K^2`` exponentials per frame: sparse learned transition matrices send whole
held-out recordings here (its cost: BENCHMARKS.md, "The exact log-space path").
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from ._kernels import _JIT, _draw, _vecmat

#: :func:`_log_vecmat` recomputes in log space the entries whose scaled sum falls below this
#: (terms it may have dropped are below exp(-745) times the largest, so 1e-290 leaves them
#: 1e-30 of the entry at most).
REPAIR = 1e-290


class LogTransitions(NamedTuple):
    """A transition matrix in the forms the log-space kernels take (:func:`log_transitions`)."""

    A: np.ndarray  # (K, K), C-contiguous
    log_A: np.ndarray  # log A (-inf where A is 0)
    A_T: np.ndarray  # A.T, C-contiguous
    log_A_T: np.ndarray
    col_ptr: np.ndarray  # col_idx[col_ptr[j]:col_ptr[j + 1]]: rows i with A[i, j] > 0
    col_idx: np.ndarray
    row_ptr: np.ndarray  # row_idx[row_ptr[i]:row_ptr[i + 1]]: columns j with A[i, j] > 0
    row_idx: np.ndarray


def log_transitions(transition_matrix: np.ndarray) -> LogTransitions:
    """The dense, logarithmic and sparse (nonzero lists) forms of ``transition_matrix``."""
    A = np.ascontiguousarray(transition_matrix, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_A = np.log(A)
    nz = A > 0
    ptr = lambda counts: np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)  # noqa: E731
    return LogTransitions(
        A,
        log_A,
        np.ascontiguousarray(A.T),
        np.ascontiguousarray(log_A.T),
        ptr(nz.sum(0)),
        np.nonzero(nz.T)[1].astype(np.int64),
        ptr(nz.sum(1)),
        np.nonzero(nz)[1].astype(np.int64),
    )


@njit(**_JIT)
def _successors(support, transition_matrix, pred):
    """``pred[j]``: some state of ``support`` moves to ``j`` with a positive probability."""
    K = support.shape[0]
    for j in range(K):
        pred[j] = False
    for i in range(K):
        if support[i]:
            for j in range(K):
                if transition_matrix[i, j] > 0.0:
                    pred[j] = True


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
            _successors(support, transition_matrix, pred)
        if refitted[t]:
            for k in range(K):
                if pred[k] and log_likes[t, k] > offsets[t]:
                    return True
        for k in range(K):
            support[k] = pred[k] and log_likes[t, k] > -np.inf
    return False


@njit(**_JIT)
def _exp(x):
    """``exp(x)``, skipping the call where it underflows to 0 anyway (most of the log-space
    path's terms lie hundreds of nats below the best: comparing is far cheaper than exp)."""
    return np.exp(x) if x > -746.0 else 0.0


@njit(**_JIT)
def _max(x):
    """The largest entry of ``x`` (-inf for an empty vector or one of -inf only)."""
    m = -np.inf
    for v in x:
        if v > m:
            m = v
    return m


@njit(**_JIT)
def _lse(x):
    m = _max(x)
    if m == -np.inf:
        return m
    s = 0.0
    for v in x:
        s += _exp(v - m)
    return m + np.log(s)


@njit(**_JIT)
def _normalize_log(x):
    """Normalise ``x`` in place so that ``sum(exp(x)) = 1``; return its log-sum-exp.

    The maximum is removed first: with entries of size 1e300, ``x - logsumexp(x)`` would lose
    the O(1) part of the normaliser to rounding and leave the row unnormalised.
    """
    m = _max(x)
    if m == -np.inf:
        return m
    s = 0.0
    for k in range(x.shape[0]):
        x[k] -= m
        s += _exp(x[k])
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
def _log_vecmat(x, M, log_M, ptr, idx, scratch, out):
    """``out[j] = log sum_i exp(x[i]) M[i, j]``, exactly, at nearly the cost of a product.

    The fast part shifts ``x`` by its maximum ``m`` and multiplies ``exp(x - m)`` by ``M``
    (``K^2`` multiply-adds and ``K`` exponentials instead of ``K^2`` exponentials). Every
    term it drops is below ``exp(-745)`` (relative to ``exp(m)``), so an entry whose sum is
    at least :data:`REPAIR` is exact to rounding; an entry below that (a state reachable only
    through states far below the best) is recomputed from its column's nonzeros
    ``ptr[j]:ptr[j + 1]`` of ``idx`` (row indices with ``M[i, j] > 0``) in log space: cheap
    for sparse matrices, and the same cost as before for dense ones.
    """
    K = x.shape[0]
    m = _max(x)
    if m == -np.inf:
        for j in range(K):
            out[j] = -np.inf
        return
    for i in range(K):
        scratch[i] = _exp(x[i] - m)
    _vecmat(scratch, M, out)
    for j in range(K):
        s = out[j]
        if s >= REPAIR:
            out[j] = np.log(s) + m
            continue
        mm = -np.inf
        for p in range(ptr[j], ptr[j + 1]):
            v = x[idx[p]] + log_M[idx[p], j]
            if v > mm:
                mm = v
        if mm == -np.inf:
            out[j] = -np.inf
            continue
        s = 0.0
        for p in range(ptr[j], ptr[j + 1]):
            s += _exp(x[idx[p]] + log_M[idx[p], j] - mm)
        out[j] = mm if s == 1.0 else mm + np.log(s)  # one term within 746 nats: no log


@njit(**_JIT)
def log_forward_kernel(
    log_initial, A, log_A, col_ptr, col_idx, log_likes, log_alphas, log_norms, log_preds
):
    """Forward filtering in log space: ``log_alphas[t] = log p(z_t | x_{1:t})``,
    ``log_norms[t] = log p(x_t | x_{1:t-1})`` and the predictions ``log_preds[t] =
    log p(z_t | x_{1:t-1})`` (kept for :func:`log_posterior_kernel`). ``col_ptr``/``col_idx``
    list each column's nonzero rows (:func:`log_transitions`). Returns -1 on success or the
    first impossible frame."""
    T, K = log_likes.shape
    scratch = np.empty(K)
    zeros = np.zeros(K)
    for t in range(T):
        pred = log_preds[t]
        if t == 0:
            for j in range(K):
                pred[j] = log_initial[j]
        else:
            _log_vecmat(log_alphas[t - 1], A, log_A, col_ptr, col_idx, scratch, pred)
        r = _recentre(log_likes[t], pred, zeros, log_alphas[t])
        if r == -np.inf:
            return t
        log_norms[t] = r + _normalize_log(log_alphas[t])
    return -1


@njit(**_JIT)
def log_backward_kernel(A_T, log_A_T, row_ptr, row_idx, log_likes, log_betas, restrict):
    """Backward messages in log space, each row normalised (log-sum-exp 0).

    Takes the transposed matrix (C-contiguous) and its logarithm, with ``row_ptr``/``row_idx``
    listing each row's nonzero columns of the original matrix (:func:`log_transitions`).
    With ``restrict`` True, states with ``log_likes[t, i] = -inf`` get ``log_betas[t, i] =
    -inf`` (for posteriors, where such states cannot occur and must not dominate the
    normalisation). Returns -1 on success or the frame whose message vanished."""
    T, K = log_likes.shape
    v = np.empty(K)
    scratch = np.empty(K)
    best_in = np.empty(K)  # the most likely way into each state (-inf: none)
    for j in range(K):
        best_in[j] = -np.inf
        for i in range(K):
            if log_A_T[j, i] > best_in[j]:
                best_in[j] = log_A_T[j, i]
    for k in range(K):
        log_betas[T - 1, k] = -np.inf if restrict and log_likes[T - 1, k] == -np.inf else -np.log(K)
    for t in range(T - 2, -1, -1):
        _recentre(log_likes[t + 1], log_betas[t + 1], best_in, v)
        out = log_betas[t]
        _log_vecmat(v, A_T, log_A_T, row_ptr, row_idx, scratch, out)
        if restrict:
            for i in range(K):
                if log_likes[t, i] == -np.inf:
                    out[i] = -np.inf
        if _normalize_log(out) == -np.inf:
            return t
    return -1


@njit(**_JIT)
def log_posterior_kernel(
    log_alphas,
    log_preds,
    log_betas,
    A,
    log_A,
    col_ptr,
    col_idx,
    row_ptr,
    row_idx,
    log_likes,
    expected_states,
    scaled_alphas,
    weights,
    exact_transitions,
):
    """Posterior marginals and two-slice marginals from log-space messages.

    ``log_alphas`` and ``log_preds`` come from :func:`log_forward_kernel`.
    Writes ``expected_states``; the two-slice marginals
    ``xi_t[i, j] = exp(log_alphas[t, i] + log A[i, j] + v_t[j] - c_t)`` (``v_t`` the recentred
    ``log_likes[t + 1] + log_betas[t + 1]``, ``c_t`` their normaliser) are split so that the
    caller sums them with one matrix product: ``sum_t xi_t = A * (scaled_alphas.T @ weights)
    + exact_transitions``. Row ``t`` of ``scaled_alphas`` is ``exp(log_alphas[t] - max)``
    and of ``weights`` is ``exp(v_t - c_t + max)``; the pairs that product cannot hold (a
    state whose scaled alpha underflowed, a weight above ``exp(600)``) are summed exactly, in
    log space over the matrix's nonzeros, into ``exact_transitions``. Every term left out is
    below ``exp(-700)``; each frame's pairs are scaled to sum to exactly 1.
    """
    T, K = log_likes.shape
    g = np.empty(K)
    v = np.empty(K)
    big = np.zeros(K, dtype=np.bool_)
    pair_i = np.empty(K * K, dtype=np.int64)
    pair_j = np.empty(K * K, dtype=np.int64)
    pair_v = np.empty(K * K)
    _state_marginals(log_alphas, log_betas, g, expected_states)
    for i in range(K):
        for j in range(K):
            exact_transitions[i, j] = 0.0
    for t in range(T - 1):
        la = log_alphas[t]
        pred = log_preds[t + 1]
        _recentre(log_likes[t + 1], log_betas[t + 1], pred, v)
        for j in range(K):
            g[j] = pred[j] + v[j]
        c = _lse(g)
        ma = _max(la)
        a = scaled_alphas[t]
        w = weights[t]
        for i in range(K):
            d = la[i] - ma
            a[i] = np.exp(d) if d >= -700.0 else 0.0  # no subnormals: their precision is low
        for j in range(K):
            e = v[j] - c + ma
            big[j] = e > 600.0
            w[j] = 0.0 if big[j] else _exp(e)
        # this frame's pairs summed exactly: (i, j, value) in pair_*
        n = _exact_rows(la, ma, v, c, log_A, row_ptr, row_idx, pair_i, pair_j, pair_v)
        n = _exact_columns(la, a, v, c, big, log_A, col_ptr, col_idx, n, pair_i, pair_j, pair_v)
        # the frame's pairs sum to 1 exactly (as one normalised log-space array would): where
        # log-likelihoods of 1e300 left only their rounding in la + v, this keeps the count
        _vecmat(a, A, g)
        _normalise_pairs(g, w, n, pair_i, pair_j, pair_v, exact_transitions)


@njit(**_JIT)
def _state_marginals(log_alphas, log_betas, g, expected_states):
    """``expected_states[t] = normalised exp(log_alphas[t] + log_betas[t])`` (``g`` scratch)."""
    T, K = log_alphas.shape
    for t in range(T):
        for k in range(K):
            g[k] = log_alphas[t, k] + log_betas[t, k]
        _normalize_log(g)
        for k in range(K):
            expected_states[t, k] = _exp(g[k])


@njit(**_JIT)
def _exact_rows(la, ma, v, c, log_A, row_ptr, row_idx, pair_i, pair_j, pair_v):
    """The pairs of the rows whose scaled alpha (nearly) underflowed, from ``pair_*[0]``;
    returns their number."""
    n = 0
    for i in range(la.shape[0]):
        if la[i] - ma < -700.0 and la[i] > -np.inf:  # (nearly) underflowed: this row exactly
            for p in range(row_ptr[i], row_ptr[i + 1]):
                j = row_idx[p]
                pair_i[n], pair_j[n] = i, j
                pair_v[n] = _exp(la[i] + log_A[i, j] + v[j] - c)
                n += 1
    return n


@njit(**_JIT)
def _exact_columns(la, a, v, c, big, log_A, col_ptr, col_idx, n, pair_i, pair_j, pair_v):
    """The pairs of the columns whose weight is too large to hold, with a held alpha, after the
    ``n`` pairs already in ``pair_*``; returns the new number."""
    for j in range(big.shape[0]):
        if big[j]:  # a weight too large to hold: the column's pairs with a held alpha
            for p in range(col_ptr[j], col_ptr[j + 1]):
                i = col_idx[p]
                if a[i] > 0.0:
                    pair_i[n], pair_j[n] = i, j
                    pair_v[n] = _exp(la[i] + log_A[i, j] + v[j] - c)
                    n += 1
    return n


@njit(**_JIT)
def _normalise_pairs(g, w, n, pair_i, pair_j, pair_v, exact_transitions):
    """Scale one frame's pairs (``g * w`` held, the ``n`` exact ones) to sum to 1; add the
    exact ones to ``exact_transitions``."""
    total = 0.0
    for j in range(g.shape[0]):
        total += g[j] * w[j]
    for q in range(n):
        total += pair_v[q]
    inv = 1.0 / total if total > 0.0 else 0.0
    for j in range(g.shape[0]):
        w[j] *= inv
    for q in range(n):
        exact_transitions[pair_i[q], pair_j[q]] += pair_v[q] * inv


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
                w[k] = (
                    log_alphas[t, k]
                    if t == T - 1
                    else log_alphas[t, k] + log_transition[k, samples[n, t + 1]]
                )
            m = _max(w)
            total = 0.0
            for k in range(K):
                weights[k] = _exp(w[k] - m)
                total += weights[k]
            samples[n, t] = _draw(weights, total, uniforms[n, t])
