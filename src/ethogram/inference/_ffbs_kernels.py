"""Numba kernels of one forward-filtering backward-sampling draw (the Gibbs sampler's hot loop).

One pass per frame fuses what :mod:`._kernels` does in several: the predicted distribution
``alpha_{t-1} A`` (eight rows of ``A`` per sweep over the columns, so the inner loop is a
vectorised multiply-add over contiguous memory), the frame's scale (the largest
log-likelihood among the states that can occur, so a possible state never underflows because
an impossible one fits better), the scaled likelihoods and the normalised filtered
distribution; the backward pass reads rows of the transposed matrix. No ``T x K x K`` array,
``T x K`` filtered probabilities, GIL released. The kernel reports (status >= 0) instead of
guessing when float64 cannot represent what the recursion needs (a predicted probability
that vanished or is subnormal, or a frame whose best possible state was a priori below
:data:`~._kernels.LOSSY`); the caller then uses the exact general path of :mod:`.core`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import LOSSY, _draw

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")

#: exp(v) is below half the smallest subnormal number, so rounds to 0, for v below this
EXP_ZERO = -745.2
#: a predicted probability at or below this (subnormal numbers are near) sends the sequence
#: to the exact general path: its relative precision may be lost
TINY_PREDICTED = 1e-290


@njit(**_JIT)
def _predict(prev, A, out):
    """``out[j] = sum_i prev[i] A[i, j]``, eight rows of ``A`` per pass over ``out``.

    Skipping the rows with ``prev[i] == 0`` (exact, and about one in ten at MoSeq's sizes) was
    measured slower: the gathered rows defeat the compiler's vectorisation."""
    K = prev.shape[0]
    for j in range(K):
        out[j] = 0.0
    i = 0
    while i + 8 <= K:
        a0, a1, a2, a3 = prev[i], prev[i + 1], prev[i + 2], prev[i + 3]
        a4, a5, a6, a7 = prev[i + 4], prev[i + 5], prev[i + 6], prev[i + 7]
        r0, r1, r2, r3 = A[i], A[i + 1], A[i + 2], A[i + 3]
        r4, r5, r6, r7 = A[i + 4], A[i + 5], A[i + 6], A[i + 7]
        for j in range(K):
            out[j] += ((a0 * r0[j] + a1 * r1[j]) + (a2 * r2[j] + a3 * r3[j])) + (
                (a4 * r4[j] + a5 * r5[j]) + (a6 * r6[j] + a7 * r7[j])
            )
        i += 8
    while i < K:
        a0 = prev[i]
        r0 = A[i]
        for j in range(K):
            out[j] += a0 * r0[j]
        i += 1


@njit(**_JIT)
def _frame_scale(pred, log_likes_t, first):
    """The largest log-likelihood among the states with ``pred > 0``; NaN when the caller must
    use the general path (a state vanished from the prediction after the first frame, or a
    predicted probability is subnormal or nearly so)."""
    m = -np.inf
    for k in range(pred.shape[0]):
        p = pred[k]
        if p > 0.0:
            if p <= TINY_PREDICTED:
                return np.nan
            if log_likes_t[k] > m:
                m = log_likes_t[k]
        elif not first:
            return np.nan  # the general path decides whether it truly cannot occur
    return m


@njit(**_JIT)
def _weigh(pred, log_likes_t, m):
    """``pred *= exp(log_likes_t - m)`` in place; returns the sum."""
    s = 0.0
    for k in range(pred.shape[0]):
        v = log_likes_t[k] - m
        # exp(v) rounds to exactly 0 below EXP_ZERO, where libm's exp takes its slow path
        a = pred[k] * np.exp(v) if v > EXP_ZERO else 0.0
        pred[k] = a
        s += a
    return s


@njit(**_JIT)
def ffbs_forward_kernel(start, first, A, log_likes, alphas, offsets, norms):
    """Normalised forward filtering: ``alphas[t] = p(z_t | x_{1:t})``.

    With ``first`` the rows are a sequence's first frames and ``start`` its initial
    distribution; without, they continue a sequence and ``start`` is the filtered distribution
    of the frame before them (a block of the checkpointed draw: its first row is predicted
    through ``A`` and is not the sequence's first frame, the same bits as one pass over the
    whole sequence). ``offsets[t]`` is the frame's scale and ``norms[t] = p(x_t | x_{1:t-1}) /
    exp(offsets[t])``, so ``log p(x) = sum(log(norms) + offsets)``. Returns -1 on success, or
    the first row at which the caller must use the exact general path.
    """
    T, K = log_likes.shape
    for t in range(T):
        out = alphas[t]
        if t == 0 and first:
            # element loops, not ``out[:] = start`` / ``out *= inv``: the same bits, and the
            # slice assignment's shape-mismatch error would cost numba 4 s of CPU to compile
            for k in range(K):
                out[k] = start[k]
        else:
            _predict(start if t == 0 else alphas[t - 1], A, out)
        m = _frame_scale(out, log_likes[t], t == 0 and first)
        if not m > -np.inf:  # NaN: hand over; -inf: no possible state explains the frame
            return t
        s = _weigh(out, log_likes[t], m)
        if not s >= LOSSY:
            return t
        offsets[t] = m
        norms[t] = s
        inv = 1.0 / s
        for k in range(K):
            out[k] *= inv
    return -1


@njit(**_JIT)
def ffbs_backward_kernel(transition_T, alphas, uniforms, states, next_state):
    """Backward sampling: ``z_t ~ alphas[t] * A[:, z_{t+1}]`` from the last row to the first.

    ``transition_T`` is ``A.T`` (C-contiguous: the weights of a frame read one row);
    ``uniforms`` (T,) of U(0, 1) draws give ``states`` (T,) by inverse CDF. ``next_state`` is
    the state of the frame after the last row (a block of the checkpointed draw), or -1 when
    the last row is the sequence's last frame (``z_{T-1} ~ alphas[T-1]``).
    """
    T, K = alphas.shape
    weights = np.empty(K)
    nxt = next_state
    for t in range(T - 1, -1, -1):
        a = alphas[t]
        total = 0.0
        if nxt < 0:
            for k in range(K):
                weights[k] = a[k]
                total += weights[k]
        else:
            col = transition_T[nxt]
            for k in range(K):
                w = a[k] * col[k]
                weights[k] = w
                total += w
        states[t] = _draw(weights, total, uniforms[t])
        nxt = states[t]
