"""Numba kernels for HMM message passing: arrays in, arrays out.

These functions are the hot loops of ethogram. They work on *scaled likelihoods*
``lik[t, k] = exp(log_likes[t, k] - offset[t])`` with ``offset[t] = max_k log_likes[t, k]``
(so every row has a maximum of exactly one and the offsets are added back in log space by
the caller); when that maximum is attained only by states that cannot occur at frame ``t``
the kernels rescale the frame by the largest log-likelihood among the states that can (see
:func:`_refit_frame`), so a possible state never underflows to zero. They never allocate
``T x K x K`` arrays, release the GIL (``nogil=True``) so that a batch of sequences can run
on several threads, and are compiled once and cached on disk (``cache=True``). They do no
input checking: the public wrappers in :mod:`ethogram.inference.core` validate first and
interpret the status codes returned here; when those say that scaling lost a probability
that matters, the sequence is recomputed in log space (:mod:`ethogram.inference._logspace`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")

#: Scaled messages whose normaliser falls below this have lost precision (subnormal numbers
#: are near); the kernels report it and the caller recomputes the sequence in log space.
TINY = 1e-280
#: A forward normaliser below this (e^-170) means the frame's best state was a priori very
#: unlikely: the states whose scaled likelihood underflowed (e^-745 below the best) may then
#: carry a normalised probability above 1e-250 that later frames could need, so the caller
#: recomputes the sequence in log space. Ordinary data never comes near (it needs transition
#: probabilities below 1e-74 between the states that explain consecutive frames).
LOSSY = 1e-74


@njit(**_JIT)
def _vecmat(v, M, out):
    """out[j] = sum_i v[i] * M[i, j], unrolled over four rows of M to save stores of out."""
    K = v.shape[0]
    for j in range(K):
        out[j] = 0.0
    i = 0
    while i + 4 <= K:
        a0 = v[i]
        a1 = v[i + 1]
        a2 = v[i + 2]
        a3 = v[i + 3]
        for j in range(K):
            out[j] += a0 * M[i, j] + a1 * M[i + 1, j] + a2 * M[i + 2, j] + a3 * M[i + 3, j]
        i += 4
    while i < K:
        a0 = v[i]
        for j in range(K):
            out[j] += a0 * M[i, j]
        i += 1


@njit(**_JIT)
def _refit_frame(weights, log_like_row, lik_row):
    """Rescale one frame to the states that can occur (``weights > 0``).

    Called when the most likely state of the frame cannot occur: then the likelihoods scaled
    by the row maximum may underflow to zero for every state that can, and a merely unlikely
    observation would look impossible. The states that can occur get
    ``exp(log_like_row - m)`` with ``m`` the largest log-likelihood among them; the others
    get 0. Returns ``(status, m)``: status 1 on success, -1 when every state that can occur
    has log-likelihood -inf (the frame really is impossible).
    """
    K = weights.shape[0]
    m = -np.inf
    for k in range(K):
        if weights[k] > 0.0 and log_like_row[k] > m:
            m = log_like_row[k]
    if m == -np.inf:
        return -1, m
    for k in range(K):
        lik_row[k] = np.exp(log_like_row[k] - m) if weights[k] > 0.0 else 0.0
    return 1, m


@njit(**_JIT)
def forward_kernel(
    initial_probs, transition_matrix, log_likes, lik, best, offsets, alphas, norms, refitted
):
    """Normalized forward filtering.

    On entry ``lik[t] = exp(log_likes[t] - offsets[t])`` with ``offsets[t]`` the maximum of
    the row, attained at state ``best[t]``. On exit ``lik[t, k] = 0`` for every state that
    cannot occur at frame ``t`` (predicted probability zero), and frames whose most likely
    state cannot occur have been rescaled by :func:`_refit_frame`, updating ``offsets[t]``
    and setting ``refitted[t]`` (the caller checks whether that state truly cannot occur or
    only underflowed, see :func:`refit_reachable_kernel`).
    Writes ``alphas[t] = p(z_t | x_{1:t})`` and
    ``norms[t] = p(x_t | x_{1:t-1}) / exp(offsets[t])``.
    Returns -1 on success, -2 on success with a norm below ``LOSSY`` (probability that matters
    may have underflowed: the caller recomputes in log space), or the first frame ``t`` where
    no state has positive probability.
    """
    T, K = lik.shape
    degraded = False
    for t in range(T):
        out = alphas[t]
        if t == 0:
            for k in range(K):
                out[k] = initial_probs[k]
        else:
            _vecmat(alphas[t - 1], transition_matrix, out)
        if not out[best[t]] > 0.0:
            status, m = _refit_frame(out, log_likes[t], lik[t])
            if status < 0:
                return t
            offsets[t] = m
            refitted[t] = True
        s = 0.0
        for k in range(K):
            p = out[k]
            lk = lik[t, k] if p > 0.0 else 0.0  # a state that cannot occur explains nothing
            lik[t, k] = lk
            a = p * lk
            out[k] = a
            s += a
        norms[t] = s
        if not s > 0.0:
            return t
        if s < LOSSY:
            degraded = True
        inv = 1.0 / s
        for k in range(K):
            out[k] *= inv
    return -2 if degraded else -1


@njit(**_JIT)
def backward_kernel(transition_T, lik, betas, log_likes, best, refit):
    """Normalized backward messages: ``betas[t] ∝ p(x_{t+1:T} | z_t)``, each row summing to 1.

    ``transition_T`` is the transposed transition matrix (C-contiguous) so that the inner
    loop runs over contiguous memory. With ``refit`` True, a frame ``t + 1`` whose most
    likely state ``best[t + 1]`` has ``betas[t + 1] = 0`` is first rescaled to the states
    with positive backward message (:func:`_refit_frame`, in place in ``lik``); pass False
    when ``lik`` comes from :func:`forward_kernel`, which already fitted every frame to the
    states that can occur. Returns -1 on success or the failing frame.
    """
    T, K = lik.shape
    v = np.empty(K)
    refits = -1
    for k in range(K):
        betas[T - 1, k] = 1.0 / K
    for t in range(T - 2, -1, -1):
        if refit and not betas[t + 1, best[t + 1]] > 0.0:
            status, _ = _refit_frame(betas[t + 1], log_likes[t + 1], lik[t + 1])
            if status < 0:
                return t
            refits = t + 1
        for k in range(K):
            v[k] = lik[t + 1, k] * betas[t + 1, k]
        out = betas[t]
        _vecmat(v, transition_T, out)
        s = 0.0
        for k in range(K):
            s += out[k]
        if not s > TINY:  # zero, or so small that precision is lost
            return t
        inv = 1.0 / s
        for k in range(K):
            out[k] *= inv
    return -1 if refits < 0 else -2 - refits


@njit(**_JIT)
def posterior_kernel(alphas, norms, betas, lik):
    """Turn normalized forward/backward messages into posteriors and two-slice weights.

    In place: ``betas[t]`` becomes ``expected_states[t] = p(z_t | x)`` and ``lik[t]`` (t >= 1)
    becomes ``w[t] = lik[t] * beta[t] / (norms[t] * <alpha[t], beta[t]>)``, so that
    ``sum_t p(z_t = i, z_{t+1} = j | x) = A[i, j] * (alphas[:-1].T @ w[1:])[i, j]``; the caller
    does that product as one matrix multiplication instead of T rank-one updates, and no
    ``T x K x K`` array is ever formed. Returns -1 on success or the failing frame.
    """
    T, K = lik.shape
    for t in range(T):
        s = 0.0
        for k in range(K):
            s += alphas[t, k] * betas[t, k]
        if not s * norms[t] > TINY:  # keeps the weights below 1 / TINY (finite)
            return t
        inv = 1.0 / s
        c = inv / norms[t]
        for k in range(K):
            b = betas[t, k]
            lik[t, k] *= b * c
            betas[t, k] = alphas[t, k] * b * inv
    return -1


@njit(**_JIT)
def _max_product_step(prev, log_transition, best):
    """``best[j] = max_i prev[i] + log_transition[i, j]`` (rows with ``prev[i] = -inf`` skipped).

    Its own function so that numba vectorises the inner loop over ``j`` (inlined in the
    sweep of :func:`viterbi_kernel` it ran about 1.3x slower at K >= 100).
    """
    K = best.shape[0]
    for j in range(K):
        best[j] = -np.inf
    for i in range(K):
        di = prev[i]
        if di == -np.inf:
            continue
        row = log_transition[i]
        for j in range(K):
            best[j] = max(best[j], di + row[j])


@njit(**_JIT)
def viterbi_kernel(log_initial, log_transition, log_likes, states):
    """Most likely state path by max-product in log space.

    The forward sweep keeps only the re-centred scores ``delta[t]`` (no back-pointers), so
    its inner loop is a pure vectorisable maximum; the backtrack recomputes
    ``argmax_i delta[t-1, i] + log_transition[i, z_t]`` with the very same floating-point
    operations, so the path is the one the sweep maximised. Scores are re-centred at every
    frame on the best state ``b``: ``delta[t, j] = (log_likes[t, j] - log_likes[t, b]) +
    (m[j] - m[b])`` with ``m[j]`` the best predecessor score, so the O(1) log-probabilities
    are never added to a log-likelihood of size 1e300 and lost to rounding; the subtracted
    amounts are summed separately. Ties go to the lowest state index. Returns
    ``(status, score)``: status -1 on success or the first frame where every state has
    probability zero.
    """
    T, K = log_likes.shape
    deltas = np.empty((T, K))
    best = np.empty(K)
    offset = 0.0
    for t in range(T):
        if t == 0:
            for k in range(K):
                best[k] = log_initial[k]
        else:
            _max_product_step(deltas[t - 1], log_transition, best)
        m = -np.inf
        arg = 0
        for j in range(K):
            d = best[j] + log_likes[t, j]
            if d > m:
                m = d
                arg = j
        if m == -np.inf:
            return t, -np.inf
        lref = log_likes[t, arg]
        bref = best[arg]
        offset += lref + bref
        cur = deltas[t]
        for j in range(K):
            cur[j] = (log_likes[t, j] - lref) + (best[j] - bref)
    return -1, offset + _backtrack(deltas, log_transition, states)


@njit(**_JIT)
def _backtrack(deltas, log_transition, states):
    """The Viterbi path from the forward sweep's scores ``deltas``: ``states[T - 1]`` the best
    last state, ``states[t - 1] = argmax_i deltas[t - 1, i] + log_transition[i, states[t]]``
    (ties to the lowest index), the very operations of the sweep. Returns the best last score
    ``deltas[T - 1, states[T - 1]]``. (The last state is chosen here, not by the caller: a
    caller's ``last = 0`` made numba type this call twice, once with a literal 0.)"""
    T, K = deltas.shape
    last = 0
    for k in range(1, K):
        if deltas[T - 1, k] > deltas[T - 1, last]:
            last = k
    states[T - 1] = last
    for t in range(T - 1, 0, -1):
        nxt = states[t]
        prev = deltas[t - 1]
        arg = 0
        top = -np.inf
        for i in range(K):
            cand = prev[i] + log_transition[i, nxt]
            if cand > top:
                top = cand
                arg = i
        states[t - 1] = arg
    return deltas[T - 1, last]


@njit(**_JIT)
def backward_sample_kernel(transition_matrix, alphas, uniforms, samples):
    """Backward sampling of state paths given normalized forward messages (FFBS).

    ``uniforms`` has shape (num_samples, T) of U(0, 1) draws; ``samples`` (num_samples, T)
    receives the paths. Sampling is by inverse CDF on the unnormalized weights.
    """
    num_samples, T = uniforms.shape
    K = alphas.shape[1]
    weights = np.empty(K)
    for n in range(num_samples):
        # last frame from the filtered distribution
        total = 0.0
        for k in range(K):
            weights[k] = alphas[T - 1, k]
            total += weights[k]
        samples[n, T - 1] = _draw(weights, total, uniforms[n, T - 1])
        for t in range(T - 2, -1, -1):
            nxt = samples[n, t + 1]
            total = 0.0
            for k in range(K):
                wk = alphas[t, k] * transition_matrix[k, nxt]
                weights[k] = wk
                total += wk
            samples[n, t] = _draw(weights, total, uniforms[n, t])


@njit(**_JIT)
def _draw(weights, total, u):
    """Index drawn from unnormalized ``weights`` (summing to ``total``) with uniform ``u``."""
    target = u * total
    acc = 0.0
    K = weights.shape[0]
    last = 0
    for k in range(K):
        if weights[k] > 0.0:
            last = k
            acc += weights[k]
            if target < acc:
                return k
    return last


@njit(**_JIT)
def propagate_kernel(distribution, transition_matrix, num_steps, out):
    """``out[s] = distribution @ transition_matrix ** s`` for s = 0..num_steps."""
    K = distribution.shape[0]
    for k in range(K):
        out[0, k] = distribution[k]
    for s in range(1, num_steps + 1):
        _vecmat(out[s - 1], transition_matrix, out[s])


@njit(**_JIT)
def sample_chain_kernel(initial_probs, transition_matrix, uniforms, states):
    """Sample a Markov chain path of length ``len(uniforms)`` by inverse CDF."""
    T = uniforms.shape[0]
    states[0] = _draw(initial_probs, 1.0, uniforms[0])
    for t in range(1, T):
        states[t] = _draw(transition_matrix[states[t - 1]], 1.0, uniforms[t])
