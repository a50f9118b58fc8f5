"""Numerical building blocks of the autoregressive observation models.

Lagged rows are read from a zero-copy strided view of each sequence (window order
``[x_{t-L}, ..., x_t]``, mapped to the public order ``[x_t, x_{t-1}, ..., x_{t-L}, 1]``);
which frames an L-lag model can score given which are observed; the whitened regression rows
``L_k^-1 [I, -W_k]`` that score all K states with one BLAS product per block of frames; the
per-state weighted Gram matrices ``sum_t w_tk z_t z_t^T`` that carry every regression
statistic, accumulated only over the (frame, state) entries whose weight is not negligible
(small numba kernels select and gather them, BLAS does the products); the closed-form
matrix-normal MAP solve; and the simulation of frames along a state path. Kept apart from the
model classes so that the Gaussian and Student-t models share one tested implementation of each
step.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.lib.stride_tricks import as_strided, sliding_window_view
from scipy.linalg import solve_triangular

from ._common import cholesky

#: frames per block when scoring: the (block, K*D) residuals stay in cache
SCORE_BLOCK = 512
#: rows per block of the Gram updates (the scaled rows stay in cache)
GRAM_BLOCK = 1024
#: relative size of the row contributions the Gram matrices may skip (see weighted_grams)
GRAM_SKIP_TOL = 1e-13
#: row contributions ``w_tk |z_t|^2`` below this are always skipped (see weighted_grams)
TINY_CONTRIBUTION = 1e-250


def lagged_rows(x: np.ndarray, num_lags: int, bias: bool) -> np.ndarray:
    """Regression rows of one sequence, in the public column order.

    Parameters
    ----------
    x : ndarray, shape (T, D)
        Finite data.
    num_lags : int
        L.
    bias : bool
        Append a column of ones.

    Returns
    -------
    ndarray, shape (max(T - L, 0), D (L + 1) + bias)
        Row ``t - L`` is ``[x_t, x_{t-1}, ..., x_{t-L}, (1)]`` for t = L..T-1: the target
        first, then the lags (lag 1 first), matching ``[I, -W_k]`` with
        ``W_k = [A_k1 ... A_kL b_k]``. The hot paths below never build this array.
    """
    T, D = x.shape
    L = num_lags
    n = max(T - L, 0)
    Z = np.empty((n, D * (L + 1) + int(bias)))
    for lag in range(L + 1):
        Z[:, lag * D : (lag + 1) * D] = x[L - lag : T - lag]
    if bias:
        Z[:, -1] = 1.0
    return Z


def lag_windows(x: np.ndarray, num_lags: int) -> np.ndarray:
    """Zero-copy read-only view (T - L, (L + 1) D) of rows ``[x_{t-L}, ..., x_{t-1}, x_t]``.

    This "window order" is memory order: row t - L is ``x[t-L:t+1].ravel()``.
    """
    x = np.ascontiguousarray(x)
    T, D = x.shape
    n = max(T - num_lags, 0)
    # strides from the item size, not x.strides: numpy calls an array C-contiguous whatever
    # the stride of a length-1 axis, and x[:, None] of a 1-D series has stride 0 there, which
    # would repeat x_{t-L} across the whole window
    step = x.itemsize
    return as_strided(x, shape=(n, (num_lags + 1) * D), strides=(D * step, step), writeable=False)


def window_columns(data_dim: int, num_lags: int, bias: bool) -> np.ndarray:
    """Index map between the public order ``[x_t, x_{t-1}, ..., x_{t-L}, 1]`` and the window
    order ``[x_{t-L}, ..., x_t, 1]``: public column p is window column ``map[p]`` and vice
    versa (the map is an involution)."""
    D, L = data_dim, num_lags
    cols = [(L - lag) * D + np.arange(D) for lag in range(L + 1)]
    if bias:
        cols.append(np.array([(L + 1) * D]))
    return np.concatenate(cols)


def lag_closure(observed: np.ndarray, num_lags: int) -> np.ndarray:
    """Frames scorable by an L-lag model: observed, and for t >= L with all L lags observed.

    Parameters
    ----------
    observed : ndarray of bool, shape (T,)
    num_lags : int

    Returns
    -------
    ndarray of bool, shape (T,)
        A new array; frames t < L only need to be observed (they are scored by the
        state-independent N(0, I) term).
    """
    eff = np.array(observed, dtype=bool, copy=True)
    T = eff.shape[0]
    for lag in range(1, num_lags + 1):
        if T > num_lags:
            eff[num_lags:] &= observed[num_lags - lag : T - lag]
    return eff


def whitened_regressions(covs: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``M_k = L_k^-1 [I, -W_k]`` with ``Q_k = L_k L_k^T``, and ``log|Q_k|^(1/2)``.

    ``M_k z_t`` (public order) is the whitened residual of frame t under state k, so its
    squared norm is the Mahalanobis distance ``(x_t - W_k u_t)^T Q_k^-1 (x_t - W_k u_t)``.

    Parameters
    ----------
    covs : ndarray, shape (K, D, D)
        Noise covariances (or Student-t scale matrices).
    weights : ndarray, shape (K, D, P)
        ``W_k = [A_k1 ... A_kL (b_k)]``.

    Returns
    -------
    M : ndarray, shape (K, D, D + P)
    half_logdet : ndarray, shape (K,)
    """
    K, D, _ = weights.shape
    chols = cholesky(covs)
    M = np.empty((K, D, D + weights.shape[2]))
    eye = np.eye(D)
    for k in range(K):
        M[k] = solve_triangular(
            chols[k], np.hstack([eye, -weights[k]]), lower=True, check_finite=False
        )
    half_logdet = np.log(np.diagonal(chols, axis1=1, axis2=2)).sum(axis=1)
    return M, half_logdet


def residual_norms(
    x: np.ndarray, num_lags: int, M: np.ndarray, out: np.ndarray, dtype=np.float64
) -> np.ndarray:
    """Squared whitened residuals of every frame t >= L under every state, as blocked GEMMs.

    Parameters
    ----------
    x : ndarray, shape (T, D)
        Finite data.
    num_lags : int
    M : ndarray, shape (K, D, D (L + 1) + bias)
        From :func:`whitened_regressions` (public order; a last column is the bias).
    out : ndarray, shape (T - L, K)
        Written in place (C-contiguous rows) and returned.
    dtype : numpy dtype, default float64
        Precision of the GEMM (float32: about twice the throughput; ``out`` stays float64).
    """
    K, D, P1 = M.shape
    WD = (num_lags + 1) * D
    cols = window_columns(D, num_lags, P1 > WD)
    # columns of the product ordered (d, k): the squares then sum over contiguous runs of K
    MT = np.ascontiguousarray(M[:, :, cols].transpose(1, 0, 2).reshape(D * K, P1).T, dtype=dtype)
    V = lag_windows(x, num_lags)
    n = V.shape[0]
    rows = np.ones((min(SCORE_BLOCK, n), P1), dtype=dtype)  # a bias column stays at 1
    buf = np.empty((min(SCORE_BLOCK, n), D * K), dtype=dtype)
    for start in range(0, n, SCORE_BLOCK):
        m = min(SCORE_BLOCK, n - start)
        rows[:m, :WD] = V[start : start + m]
        _sum_squares(np.matmul(rows[:m], MT, out=buf[:m]), K, D, out[start : start + m])
    return out


@njit(cache=True, nogil=True)
def _sum_squares(R, num_states, data_dim, out):  # pragma: no cover - compiled
    """``out[t, k] = sum_d R[t, d * K + k] ** 2`` (inner loop over k vectorises)."""
    K = num_states
    for t in range(R.shape[0]):
        for k in range(K):
            out[t, k] = 0.0
        for d in range(data_dim):
            base = d * K
            for k in range(K):
                v = R[t, base + k]
                out[t, k] += v * v


@njit(cache=True, nogil=True)
def _kept_entries(w, r, threshold):  # pragma: no cover - compiled
    """Entries with ``w[t, k] r[t] > threshold[k]`` grouped by state: ``starts`` (K + 1,),
    frame indices and weights (state k occupies ``starts[k]:starts[k + 1]``)."""
    n, K = w.shape
    starts = np.zeros(K + 1, np.int64)
    for t in range(n):
        for k in range(K):
            if w[t, k] * r[t] > threshold[k]:
                starts[k + 1] += 1
    for k in range(K):
        starts[k + 1] += starts[k]
    frames = np.empty(starts[K], np.int64)
    weights = np.empty(starts[K])
    fill = starts[:K].copy()
    for t in range(n):
        for k in range(K):
            if w[t, k] * r[t] > threshold[k]:
                i = fill[k]
                frames[i] = t
                weights[i] = w[t, k]
                fill[k] = i + 1
    return starts, frames, weights


@njit(cache=True, nogil=True)
def _gather_windows(x, frames, scale, num_lags, out):  # pragma: no cover - compiled
    """``out[i] = [x[f : f + L + 1].ravel() * scale[i], scale[i]]`` for ``f = frames[i]``."""
    D = x.shape[1]
    for i in range(frames.shape[0]):
        f = frames[i]
        s = scale[i]
        c = 0
        for j in range(num_lags + 1):
            for d in range(D):
                out[i, c] = x[f + j, d] * s
                c += 1
        out[i, c] = s


def entry_residual_norms(
    x: np.ndarray, num_lags: int, M: np.ndarray, starts: np.ndarray, frames: np.ndarray
) -> np.ndarray:
    """Squared whitened residuals of selected (frame, state) entries.

    Parameters
    ----------
    x : ndarray, shape (T, D)
    num_lags : int
    M : ndarray, shape (K, D, D (L + 1) + bias)
        From :func:`whitened_regressions`.
    starts, frames : ndarray of int
        Entries grouped by state as returned by the Gram kernels: state k owns
        ``frames[starts[k]:starts[k + 1]]`` (frame indices counted from L).

    Returns
    -------
    ndarray, shape (len(frames),)
        Scores every frame with :func:`residual_norms` when the entries cover a quarter of
        all (frame, state) pairs or more, else gathers each state's frames.
    """
    K, D, P1 = M.shape
    n = max(x.shape[0] - num_lags, 0)
    if frames.shape[0] >= 0.25 * n * K:
        maha = residual_norms(x, num_lags, M, np.empty((n, K)))
        return maha[frames, np.repeat(np.arange(K), np.diff(starts))]
    WD = (num_lags + 1) * D
    cols = window_columns(D, num_lags, P1 > WD)
    MT = np.ascontiguousarray(M[:, :, cols[:WD]].transpose(0, 2, 1))
    V = lag_windows(x, num_lags)
    out = np.empty(frames.shape[0])
    for k in range(K):
        for start in range(starts[k], starts[k + 1], GRAM_BLOCK):
            stop = min(start + GRAM_BLOCK, starts[k + 1])
            R = V[frames[start:stop]] @ MT[k]
            if P1 > WD:
                R += M[k, :, -1]
            out[start:stop] = np.einsum("ij,ij->i", R, R)
    return out


def weighted_grams(
    x: np.ndarray,
    num_lags: int,
    bias: bool,
    w: np.ndarray,
    rescale=None,
    skip_tol: float = GRAM_SKIP_TOL,
) -> np.ndarray:
    """``G_k = sum_t w_tk z_t z_t^T`` for every state (public order), with BLAS rank-k updates.

    Posteriors are usually concentrated: most frames carry a negligible weight for most
    states. A row is skipped for state k when ``w_tk |z_t|^2 <= skip_tol * sum_s w_sk
    |z_s|^2 / n``; the skipped rows' total contribution then has trace at most ``skip_tol *
    tr(G_k)``, and since it is positive semi-definite every entry of it is bounded by that
    too (the order of the summation's own round-off). Contributions below 1e-250 are always
    skipped (they only occur for states with no weight at all, and would be slow subnormal
    arithmetic). The kept rows of each state are gathered in cache-sized blocks, scaled by
    ``sqrt(w)`` with ``sqrt(w)`` itself appended as a last column, so that one symmetric
    product per block gives the Gram matrix, the weighted sums (bias row) and the total
    weight at once.

    Parameters
    ----------
    x : ndarray, shape (T, D)
        Finite data.
    num_lags : int
    bias : bool
    w : ndarray, shape (T - L, K)
        Non-negative weights of frames L..T-1.
    rescale : callable, optional
        ``rescale(x, starts, frames, weights) -> weights`` applied to the kept entries
        before accumulating (state k owns entries ``starts[k]:starts[k + 1]``, at frames
        ``frames`` counted from L); the Student-t model multiplies by the expected
        precisions. Must not increase a weight by more than a bounded factor.
    skip_tol : float
        Relative size of what may be skipped; 0 keeps every row with positive weight.

    Returns
    -------
    ndarray, shape (K, D (L + 1) + bias, D (L + 1) + bias)
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    D, L = x.shape[1], num_lags
    n, K = max(x.shape[0] - L, 0), w.shape[1]
    WD = (L + 1) * D
    G = np.zeros((K, WD + 1, WD + 1))  # window order, total weight in the last slot
    if n > 0:
        sq = np.einsum("ij,ij->i", x, x)
        r = sliding_window_view(sq, L + 1).sum(axis=1) + float(bias)
        threshold = skip_tol * (r @ w) / n
        if skip_tol > 0:
            threshold = np.maximum(threshold, TINY_CONTRIBUTION)
        starts, frames, weights = _kept_entries(
            np.ascontiguousarray(w, dtype=np.float64), r, threshold
        )
        if rescale is not None:
            weights = rescale(x, starts, frames, weights)
        np.sqrt(weights, out=weights)
        buf = np.empty((min(GRAM_BLOCK, max(int(np.diff(starts).max()), 1)), WD + 1))
        for k in range(K):
            for start in range(starts[k], starts[k + 1], GRAM_BLOCK):
                stop = min(start + GRAM_BLOCK, starts[k + 1])
                rows = buf[: stop - start]
                _gather_windows(x, frames[start:stop], weights[start:stop], L, rows)
                # np.dot, not @: numpy's matmul keeps the GIL on these tall-skinny products, so
                # threads over sequences did not scale (1.14x on 2 threads; 1.79x with dot, same
                # bits)
                G[k] += np.dot(rows.T, rows)
    cols = window_columns(D, L, True)[: WD + int(bias)]
    return np.ascontiguousarray(G[:, cols[:, None], cols[None, :]])


def map_regression(G: np.ndarray, data_dim: int, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Matrix-normal MAP of ``W`` and the residual scatter from one state's Gram matrix.

    Parameters
    ----------
    G : ndarray, shape (D + P, D + P)
        Weighted Gram of rows ``[x_t, u_t]`` (target first).
    data_dim : int
        D.
    ridge : float or ndarray, shape (P,)
        Diagonal of the prior precision ``Lam`` on the rows of ``W`` (0: least squares).

    Returns
    -------
    W : ndarray, shape (D, P)
        ``S_yx (S_xx + Lam)^-1``; without a ridge the minimum-norm least-squares solution
        (directions without data, e.g. collinear or constant regressors, left out).
    scatter : ndarray, shape (D, D)
        ``S_yy - W S_yx^T``, the weighted residual scatter plus ``W Lam W^T``.
    """
    D = data_dim
    Syy, Syx, Sxx = G[:D, :D], G[:D, D:], G[D:, D:]
    P = Sxx.shape[0]
    ridge = np.broadcast_to(np.asarray(ridge, dtype=np.float64), (P,))
    A = Sxx + np.diag(ridge)
    # Jacobi scaling: regressors in any units (or wildly different ones) look alike
    d = np.diag(A)
    s = np.where(d > 0, 1.0 / np.sqrt(np.where(d > 0, d, 1.0)), 1.0)
    As = A * s[:, None] * s[None, :]
    Bs = Syx.T * s[:, None]
    W = None
    if np.all(ridge > 0):
        try:
            W = (s[:, None] * np.linalg.solve(As, Bs)).T
        except np.linalg.LinAlgError:
            W = None
    if W is None:
        # least squares: the minimum-norm solution, directions with no data (collinear or
        # constant regressors) cut off at round-off level, so residuals stay exact
        lam, V = np.linalg.eigh(0.5 * (As + As.T))
        keep = lam > max(lam.max(), 0.0) * P * np.finfo(float).eps
        Vk = V[:, keep]
        W = (s[:, None] * (Vk @ ((Vk.T @ Bs) / lam[keep, None]))).T
    scatter = Syy - W @ Syx.T
    return W, 0.5 * (scatter + scatter.T)


def simulate(
    W: np.ndarray,
    center: np.ndarray,
    noise: np.ndarray,
    states: np.ndarray,
    num_lags: int,
    bias: bool,
    standard_normal_head: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """Frames ``x_t = W_{z_t} u_t + noise_t`` for a state path, about ``center``.

    Parameters
    ----------
    W : ndarray, shape (K, D, L*D + bias)
        Centred weights ``[A_k1 ... A_kL b^c_k]``.
    center : ndarray, shape (D,)
    noise : ndarray, shape (T, D)
        One noise draw per frame.
    states : ndarray of int, shape (T,)
    num_lags : int
    bias : bool
    standard_normal_head : bool
        The first L frames N(0, I) (drawn from ``rng``); else each at its state's fixed point
        ``(I - sum_l A_kl)^-1 b^c_k`` (0 when that matrix is singular) plus its noise.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (T, D)
    """
    T, L = states.shape[0], num_lags
    K, D = W.shape[0], W.shape[1]
    y = np.zeros((T, D))
    A = W[:, :, : L * D]
    b = W[:, :, L * D] if bias else np.zeros((K, D))
    head = min(L, T)
    if standard_normal_head:
        y[:head] = rng.standard_normal((head, D)) - center
    else:
        Asum = A.reshape(K, D, L, D).sum(axis=2)
        for t in range(head):
            k = states[t]
            try:
                fixed = np.linalg.solve(np.eye(D) - Asum[k], b[k])
            except np.linalg.LinAlgError:
                fixed = np.zeros(D)
            y[t] = fixed + noise[t]
    for t in range(L, T):
        k = states[t]
        y[t] = A[k] @ y[t - L : t][::-1].reshape(-1) + b[k] + noise[t]
    return y + center
