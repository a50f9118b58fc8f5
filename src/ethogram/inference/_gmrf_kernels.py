"""Numba kernels for Gaussian chains in precision form: assemble, factor, solve, sample.

A chain of ``num_blocks`` vector blocks of size ``m`` whose joint precision is block banded
with ``w`` blocks below the diagonal (``w = num_lags`` for an AR(L) latent written frame by
frame, ``w = 1`` for a first-order chain). It is stored **transposed**: ``band[t, k]`` holds
the block ``(t - k, t)`` of the precision (for ``k = 0`` only its upper triangle is used) and,
after :func:`factor_band`, the same block of ``U = L^T``, the transpose of the lower
block-banded Cholesky factor, so that every inner loop runs along a row. A posterior draw is
``x = L^-T (L^-1 h + eps)`` (Rue 2001, "Fast sampling of Gaussian Markov random fields",
J. R. Stat. Soc. B 63; Rue & Held 2005, ch. 2), which is forward filtering backward sampling
written with the factor: row ``t`` of the back substitution draws block ``t`` from its
conditional given the later blocks, so a ``jitter`` added to that conditional covariance
reproduces dynamax's serial ``lgssm_posterior_sample(jitter=...)``. Randomness comes in as
arrays of standard normals, so a draw never depends on threads. Kernels do no input checking
(:mod:`ethogram.inference.kalman` does); they release the GIL and are cached on disk.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")
LOG_2PI = float(np.log(2.0 * np.pi))


# The loops below keep their innermost loop along a row and free of a running sum where the
# work is cubic (each iteration updates a different entry), so that the CPU overlaps them;
# the order of the additions into each entry is fixed, so results do not depend on the
# machine's vector width.


@njit(**_JIT)
def _sub_ztY(G, t, k, j, r, q, m):
    """G[t, k] -= G[j, r].T @ G[t, q] (blocks addressed by index: no views)."""
    for c in range(m):
        for a in range(m):
            z = G[j, r, c, a]
            for b in range(m):
                G[t, k, a, b] -= z * G[t, q, c, b]


@njit(**_JIT)
def _sub_yty_upper(G, t, q, m):
    """Upper triangle of G[t, 0] -= G[t, q].T @ G[t, q]. The whole block is updated: loops
    of full length run about three times faster than triangular ones, and the lower
    triangle of a diagonal block is never read."""
    for c in range(m):
        for a in range(m):
            y = G[t, q, c, a]
            for b in range(m):
                G[t, 0, a, b] -= y * G[t, q, c, b]


@njit(**_JIT)
def _solve_upper_t(G, t, k, d, inv_diag, m):
    """G[t, k] <- U^-T G[t, k] with U = G[d, 0] upper triangular (forward, row by row)."""
    for c in range(m):
        r0 = inv_diag[d, c]
        for b in range(m):
            G[t, k, c, b] *= r0
        for r in range(c + 1, m):
            u = G[d, 0, c, r]
            for b in range(m):
                G[t, k, r, b] -= u * G[t, k, c, b]


@njit(**_JIT)
def _chol_upper(G, t, inv_diag, m):
    """In-place ``G[t, 0] = U^T U`` on the upper triangle (reciprocals of U's diagonal to
    ``inv_diag[t]``); False if the block is not positive definite."""
    for j in range(m):
        s = G[t, 0, j, j]
        if not s > 0.0 or not np.isfinite(s):
            return False
        d = np.sqrt(s)
        r = 1.0 / d
        G[t, 0, j, j] = d
        inv_diag[t, j] = r
        for b in range(j + 1, m):
            G[t, 0, j, b] *= r
        for a in range(j + 1, m):  # (the lower triangle gets harmless updates too)
            u = G[t, 0, j, a]
            for b in range(j + 1, m):
                G[t, 0, a, b] -= u * G[t, 0, j, b]
    return True


@njit(**_JIT)
def _add_priors(band, prior_prec):
    """Add ``N(0, I / prior_prec[t])`` on each block ``t`` with ``prior_prec[t] > 0``; return
    the sum of their constants."""
    nb, _, m, _ = band.shape
    const = 0.0
    for t in range(nb):
        a0 = prior_prec[t]
        if a0 > 0.0:
            for i in range(m):
                band[t, 0, i, i] += a0
            const += 0.5 * m * (np.log(a0) - LOG_2PI)
    return const


@njit(**_JIT)
def _add_frames(band, lin, frame_prec, frame_lin, frame_block, frame_pos):
    """Add each frame's emission precision and linear term at its rows of its block."""
    M = frame_prec.shape[1]
    for f in range(frame_prec.shape[0]):
        t = frame_block[f]
        pos = frame_pos[f]
        for i in range(M):
            lin[t, pos + i] += frame_lin[f, i]
            for j in range(i, M):
                band[t, 0, pos + i, pos + j] += frame_prec[f, i, j]


@njit(**_JIT)
def assemble_band(
    band,
    lin,
    frame_prec,
    frame_lin,
    frame_block,
    frame_pos,
    prior_prec,
    factor_index,
    factor_prec,
    factor_lin,
    factor_const,
):
    """Fill ``band`` (zeroed, (nb, w+1, m, m)) and ``lin`` (zeroed, (nb, m)); return the constant.

    Frame ``f`` adds its emission's precision ``frame_prec[f]`` (M, M) and linear term
    ``frame_lin[f]`` (M,) at rows ``frame_pos[f]:frame_pos[f]+M`` of block ``frame_block[f]``.
    ``prior_prec[t]`` adds ``N(0, I / prior_prec[t])`` on block ``t`` (0: none), with its
    constant. ``factor_index[t] >= 0`` adds the quadratic factor ``factor_prec[s]`` ((w+1)m
    square, over blocks ``t-w .. t``), linear term ``factor_lin[s]``, constant ``factor_const[s]``.
    """
    nb, W1, m, _ = band.shape
    w = W1 - 1
    const = _add_priors(band, prior_prec)
    _add_frames(band, lin, frame_prec, frame_lin, frame_block, frame_pos)
    for t in range(nb):
        s = factor_index[t]
        if s < 0:
            continue
        const += factor_const[s]
        for a in range(W1):  # block row t - w + a of the precision
            ta = t - w + a
            for i in range(m):
                lin[ta, i] += factor_lin[s, a * m + i]
            for b in range(
                a + 1
            ):  # block (tb, ta) with tb = t - w + b <= ta, stored at [ta, a - b]
                for i in range(m):
                    j0 = i if a == b else 0
                    for j in range(j0, m):
                        band[ta, a - b, i, j] += factor_prec[s, b * m + i, a * m + j]
    return const


@njit(**_JIT)
def factor_band(band, inv_diag):
    """Block-banded Cholesky in place (``U = L^T``, reciprocals of its diagonal to
    ``inv_diag`` (nb, m)); returns -1, or the first block that is not positive definite."""
    nb, W1, m, _ = band.shape
    w = W1 - 1
    for t in range(nb):
        kmax = min(w, t)
        for k in range(kmax, 0, -1):
            j = t - k
            for q in range(k + 1, kmax + 1):
                _sub_ztY(band, t, k, j, q - k, q, m)
            _solve_upper_t(band, t, k, j, inv_diag, m)
        for q in range(1, kmax + 1):
            _sub_yty_upper(band, t, q, m)
        if not _chol_upper(band, t, inv_diag, m):
            return t
    return -1


@njit(**_JIT)
def forward_solve(band, inv_diag, lin, out):
    """out = L^-1 lin (block forward substitution); returns sum of log diag(L)."""
    nb, W1, m, _ = band.shape
    w = W1 - 1
    logdet = 0.0
    for t in range(nb):
        for i in range(m):
            out[t, i] = lin[t, i]
        for q in range(1, min(w, t) + 1):
            for c in range(m):
                u = out[t - q, c]
                for i in range(m):
                    out[t, i] -= band[t, q, c, i] * u
        for c in range(m):
            out[t, c] *= inv_diag[t, c]
            u = out[t, c]
            for i in range(c + 1, m):
                out[t, i] -= band[t, 0, c, i] * u
            logdet += np.log(band[t, 0, c, c])
    return logdet


@njit(**_JIT)
def backward_sample(band, inv_diag, rhs, jitter_normals, jitter_sd, out):
    """out = L^-T rhs by block back substitution, adding ``jitter_sd * jitter_normals[t]``
    to every block but the last once it is solved (the later blocks condition on it)."""
    nb, W1, m, _ = band.shape
    w = W1 - 1
    for t in range(nb - 1, -1, -1):
        for i in range(m):
            s = rhs[t, i]
            for q in range(1, min(w, nb - 1 - t) + 1):
                for c in range(m):
                    s -= band[t + q, q, i, c] * out[t + q, c]
            out[t, i] = s
        for i in range(m - 1, -1, -1):
            s = out[t, i]
            for c in range(i + 1, m):
                s -= band[t, 0, i, c] * out[t, c]
            out[t, i] = s * inv_diag[t, i]
        if jitter_sd > 0.0 and t < nb - 1:
            for i in range(m):
                out[t, i] += jitter_sd * jitter_normals[t, i]


@njit(**_JIT)
def random_walk_kernel(obs, obs_prec, step_prec, initial_prec, normals, out):
    """Draw a random walk given isotropic per-frame observations (all columns share L).

    ``obs`` (T, D), ``obs_prec`` (T,) (0 = unobserved), ``step_prec`` (T-1,) precision of
    ``v_t - v_{t-1}``, prior ``v_0 ~ N(0, I / initial_prec)``; ``normals`` (T, D). Writes the
    draw to ``out`` and returns ``(status, log p(obs))``; status is -1, or the frame whose
    tridiagonal pivot was not positive.
    """
    T, D = obs.shape
    diag = np.empty(T)
    low = np.empty(T)  # low[t] = L[t, t-1]
    wv = np.empty((T, D))
    const = _walk_constant(obs, obs_prec, step_prec, initial_prec)
    logdet = 0.0
    sq = 0.0
    for t in range(T):
        dt = obs_prec[t] + (initial_prec if t == 0 else step_prec[t - 1])
        if t < T - 1:
            dt += step_prec[t]
        if t > 0:
            low[t] = -step_prec[t - 1] / diag[t - 1]
            dt -= low[t] * low[t]
        if not dt > 0.0 or not np.isfinite(dt):
            return t, 0.0
        diag[t] = np.sqrt(dt)
        logdet += np.log(diag[t])
        for d in range(D):
            s = obs_prec[t] * obs[t, d]
            if t > 0:
                s -= low[t] * wv[t - 1, d]
            wv[t, d] = s / diag[t]
            sq += wv[t, d] ** 2
    _back_substitute(wv, normals, low, diag, out)
    return -1, const + 0.5 * T * D * LOG_2PI - D * logdet + 0.5 * sq


@njit(**_JIT)
def _walk_constant(obs, obs_prec, step_prec, initial_prec):
    """The Gaussian constants of the prior, the observations and the steps of a random walk."""
    T, D = obs.shape
    const = 0.5 * D * (np.log(initial_prec) - LOG_2PI)
    for t in range(T):
        a = obs_prec[t]
        if a > 0.0:
            for d in range(D):
                const += -0.5 * a * obs[t, d] ** 2
            const += 0.5 * D * (np.log(a) - LOG_2PI)
    for t in range(T - 1):
        const += 0.5 * D * (np.log(step_prec[t]) - LOG_2PI)
    return const


@njit(**_JIT)
def _back_substitute(wv, normals, low, diag, out):
    """``out = L^-T (wv + normals)`` for the bidiagonal factor (``diag``, ``low``)."""
    T, D = wv.shape
    for t in range(T - 1, -1, -1):
        for d in range(D):
            s = wv[t, d] + normals[t, d]
            if t < T - 1:
                s -= low[t + 1] * out[t + 1, d]
            out[t, d] = s / diag[t]
