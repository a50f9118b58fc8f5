"""One state path by forward filtering, backward sampling, fast: the Gibbs sampler's syllable draw.

:func:`ffbs` draws one path from ``p(z_{1:T} | x_{1:T})`` and returns it with ``log p(x)``,
as :func:`ethogram.inference.sample_posterior` does, but for the inner loop of a sampler: one
fused numba pass per direction (:mod:`._ffbs_kernels`), the transposed matrix reusable across
sequences, and the checks optional (a sampler builds its inputs itself). When float64 cannot
represent what the scaled recursion needs, the same draw (same uniforms) is made by the exact
general path of :mod:`.core` (log space where needed), so the result never depends on
underflow. :func:`ffbs_blocked` makes the same draw, bit for bit, in O(T) memory plus
O((T / B + B) K) for blocks of B frames (the forward messages kept once per block and
recomputed with the log-likelihoods in the backward pass); :func:`use_blocks` chooses it when
a sequence's two (T, K) arrays exceed :data:`MEMORY_BUDGET`.
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

__all__ = ["BLOCK_FRAMES", "MEMORY_BUDGET", "ffbs", "ffbs_blocked", "use_blocks"]

#: bytes one sequence's two (T, K) float64 arrays of the one-pass draw (log-likelihoods and
#: forward messages) may take before :func:`use_blocks` says to draw by blocks: 256 MiB is
#: T = 167,772 frames (46 minutes at 60 fps) at K = 100 states, so the recordings of a usual
#: experiment keep the faster one-pass draw, while a 1M-frame recording (1.6 GB) is drawn in
#: a few MB; a thread keeps its one-pass arrays for reuse (:func:`.scratch`), so this also
#: bounds what each thread holds between sweeps
MEMORY_BUDGET = 256 * 2**20
#: frames per block of :func:`ffbs_blocked` (8 scoring products of 128 frames: with K = 100
#: a block's two arrays are 1.6 MB, and the stored vectors of a 1M-frame sequence 0.8 MB)
BLOCK_FRAMES = 1024


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
    if _ffbs_kernels.ffbs_forward_kernel(pi, True, A, L, alphas, offsets, norms) != -1:
        return _general(pi, A, L, uniforms)
    AT = np.ascontiguousarray(A.T) if transition_T is None else transition_T
    states = np.empty(T, dtype=np.intp)
    _ffbs_kernels.ffbs_backward_kernel(AT, alphas, uniforms, states, -1)
    return states, float(np.log(norms).sum() + offsets.sum())


def use_blocks(num_frames: int, num_states: int, budget=None) -> bool:
    """Whether one sequence's draw should be made by blocks (:func:`ffbs_blocked`).

    Parameters
    ----------
    num_frames, num_states : int
        T and K.
    budget : int or None
        Bytes (default :data:`MEMORY_BUDGET`; read at call time).

    Returns
    -------
    bool
        True when the one-pass draw's two (T, K) float64 arrays exceed ``budget``.
    """
    budget = MEMORY_BUDGET if budget is None else budget
    return 2 * 8 * int(num_frames) * int(num_states) > budget


def _gathered(log_likes, states):
    return log_likes[np.arange(len(states)), states]


def ffbs_blocked(
    initial_probs,
    transition_matrix,
    log_likes,
    num_frames: int,
    seed=None,
    *,
    block: int = BLOCK_FRAMES,
    transition_T=None,
):
    """:func:`ffbs`'s draw, bit for bit, in memory O(T + (T / block + block) K).

    The forward pass runs over blocks of ``block`` frames, each from the previous block's
    last filtered distribution, and keeps only that one vector per block (with the per-frame
    scales); the backward pass takes the blocks in reverse, recomputes a block's
    log-likelihoods and filtered distributions from its stored vector (the same kernels on the
    same numbers: the same bits) and samples inside it given the next block's first state.
    The T uniforms are drawn by one call, as :func:`ffbs` draws them. The cost: the forward
    recursion and the log-likelihoods twice. When float64 falls short (where :func:`ffbs`
    hands over to the exact general path), the full (T, K) log-likelihoods are computed and
    the general path makes the same draw: rare, and then the memory is O(T K) for that draw.

    Parameters
    ----------
    initial_probs : ndarray, shape (K,)
    transition_matrix : ndarray, shape (K, K)
        Row-stochastic, float64, C-contiguous (not checked: for samplers that built them).
    log_likes : callable
        ``log_likes(start, stop, out)`` writes the log-likelihoods of frames
        ``start..stop-1`` into ``out`` (stop - start, K), float64 (a masked frame: zeros),
        the same bits whichever rows are asked for; ``start`` is a multiple of ``block``.
    num_frames : int
        T >= 1.
    seed : int, numpy.random.Generator or None
        Draws ``T`` uniforms (one call).
    block : int, default :data:`BLOCK_FRAMES`
        Frames per block (>= 1).
    transition_T : ndarray, shape (K, K), optional
        ``transition_matrix.T``, C-contiguous.

    Returns
    -------
    states : ndarray of int, shape (T,)
    marginal_ll : float
        ``log p(x_{1:T})``.
    path_log_likes : ndarray, shape (T,)
        ``log_likes[t, states[t]]``: the log-likelihood of each frame under its drawn state.

    Raises
    ------
    ValueError
        If ``block`` or ``num_frames`` is below 1, or the observations are impossible under
        the model (from the exact general path).
    """
    T, B = int(num_frames), int(block)
    if T < 1 or B < 1:
        raise ValueError(f"num_frames and block must be at least 1, got {T} and {B}")
    pi, A = initial_probs, transition_matrix
    K = A.shape[0]
    uniforms = np.random.default_rng(seed).random(T)
    bounds = [(a, min(a + B, T)) for a in range(0, T, B)]
    lls, alphas = scratch("ffbs_block_ll", (min(B, T), K)), scratch("ffbs_alphas", (min(B, T), K))
    stored = np.empty((len(bounds), K))  # the filtered distribution of each block's last frame
    offsets, norms = np.empty(T), np.empty(T)

    def forward(b):
        a, e = bounds[b]
        log_likes(a, e, lls[: e - a])
        start = pi if b == 0 else stored[b - 1]
        kernel = _ffbs_kernels.ffbs_forward_kernel
        return kernel(start, b == 0, A, lls[: e - a], alphas[: e - a], offsets[a:e], norms[a:e])

    for b in range(len(bounds)):
        if forward(b) != -1:
            full = np.empty((T, K))
            log_likes(0, T, full)
            states, marginal_ll = _general(pi, A, full, uniforms)
            return states, marginal_ll, _gathered(full, states)
        stored[b] = alphas[bounds[b][1] - bounds[b][0] - 1]
    AT = np.ascontiguousarray(A.T) if transition_T is None else transition_T
    states, path = np.empty(T, dtype=np.intp), np.empty(T)
    nxt = -1
    for b in range(len(bounds) - 1, -1, -1):
        a, e = bounds[b]
        if b < len(bounds) - 1:  # the last block's arrays are still those of the forward pass
            forward(b)
        _ffbs_kernels.ffbs_backward_kernel(AT, alphas[: e - a], uniforms[a:e], states[a:e], nxt)
        path[a:e] = _gathered(lls[: e - a], states[a:e])
        nxt = int(states[a])
    return states, float(np.log(norms).sum() + offsets.sum()), path
