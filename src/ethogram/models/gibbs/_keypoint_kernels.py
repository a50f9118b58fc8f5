"""Numba kernels of the keypoint geometry the sweep runs every iteration (rotation, centring,
squared errors), frame by frame.

numpy spends most of these elementwise operations on (T, K, D) arrays in its iterator, whose
innermost loop runs over the D = 2 or 3 coordinates or K keypoints; these loops run over the
whole array. Each entry gets the same operations in the same order as the numpy expressions
they replace (:mod:`.keypoints`), with no contraction into fused multiply-adds, so the same
bits: ``c * p0 - s * p1`` and ``s * p0 + c * p1`` for a rotation, ``y - v`` for a centring,
and ``r_0^2 + r_1^2`` (D = 2) or ``(r_0^2 + r_1^2) + r_2^2`` (D = 3)
for a squared error. Inputs are C-contiguous float64 (T, K, D) with D = 2 or 3.
"""

from __future__ import annotations

from numba import njit

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")


@njit(**_JIT)
def rotate_points(P, c, s, out):
    """``out[t, k] = R(h_t) P[t, k]`` given ``c = cos h``, ``s = sin h`` (T,)."""
    T, K, D = P.shape
    for t in range(T):
        ct, st = c[t], s[t]
        for k in range(K):
            p0, p1 = P[t, k, 0], P[t, k, 1]
            out[t, k, 0] = ct * p0 - st * p1
            out[t, k, 1] = st * p0 + ct * p1
            for d in range(2, D):
                out[t, k, d] = P[t, k, d]


@njit(**_JIT)
def centre_points(Y, v, out):
    """``out[t, k] = Y[t, k] - v[t]``."""
    T, K, D = Y.shape
    for t in range(T):
        for k in range(K):
            for d in range(D):
                out[t, k, d] = Y[t, k, d] - v[t, d]


@njit(**_JIT)
def centre_and_rotate(Y, v, c, s, out):
    """``out[t, k] = R(h_t) (Y[t, k] - v[t])`` given ``c``, ``s`` of the rotation's angle."""
    T, K, D = Y.shape
    for t in range(T):
        ct, st = c[t], s[t]
        for k in range(K):
            p0 = Y[t, k, 0] - v[t, 0]
            p1 = Y[t, k, 1] - v[t, 1]
            out[t, k, 0] = ct * p0 - st * p1
            out[t, k, 1] = st * p0 + ct * p1
            for d in range(2, D):
                out[t, k, d] = Y[t, k, d] - v[t, d]


@njit(**_JIT)
def squared_errors_kernel(Y, P, out):
    """``out[t, k] = ||Y[t, k] - P[t, k]||^2``."""
    T, K, D = Y.shape
    for t in range(T):
        for k in range(K):
            r0 = Y[t, k, 0] - P[t, k, 0]
            r1 = Y[t, k, 1] - P[t, k, 1]
            if D == 2:
                out[t, k] = r0 * r0 + r1 * r1
            else:
                r2 = Y[t, k, 2] - P[t, k, 2]
                out[t, k] = (r0 * r0 + r1 * r1) + r2 * r2


@njit(**_JIT)
def placed_squared_errors(Y, P, v, out):
    """``out[t, k] = ||Y[t, k] - (P[t, k] + v[t])||^2``."""
    T, K, D = Y.shape
    for t in range(T):
        for k in range(K):
            r0 = Y[t, k, 0] - (P[t, k, 0] + v[t, 0])
            r1 = Y[t, k, 1] - (P[t, k, 1] + v[t, 1])
            if D == 2:
                out[t, k] = r0 * r0 + r1 * r1
            else:
                r2 = Y[t, k, 2] - (P[t, k, 2] + v[t, 2])
                out[t, k] = (r0 * r0 + r1 * r1) + r2 * r2


@njit(**_JIT)
def heading_terms(a, c, w, qc, qs):
    """``qc = w (a_0 c_0 + a_1 c_1)`` and ``qs = w (a_0 c_1 - a_1 c_0)`` per frame and keypoint
    (T, K): the summands of the heading's concentrations."""
    T, K, _ = a.shape
    for t in range(T):
        for k in range(K):
            a0, a1, c0, c1 = a[t, k, 0], a[t, k, 1], c[t, k, 0], c[t, k, 1]
            qc[t, k] = w[t, k] * (a0 * c0 + a1 * c1)
            qs[t, k] = w[t, k] * (a0 * c1 - a1 * c0)


@njit(**_JIT)
def row_sums(q, out):
    """``out[t] = sum_k q[t, k]`` (K <= 128) in numpy's order for a reduction over a contiguous
    last axis (pairwise summation: below 8 terms one by one from 0; else eight running sums
    over whole groups of eight, combined as a tree, then the rest one by one), so the bits of
    ``np.sum(q, axis=-1)``."""
    T, K = q.shape
    for t in range(T):
        if K < 8:
            res = 0.0
            for k in range(K):
                res += q[t, k]
        else:
            r0, r1, r2, r3 = q[t, 0], q[t, 1], q[t, 2], q[t, 3]
            r4, r5, r6, r7 = q[t, 4], q[t, 5], q[t, 6], q[t, 7]
            i = 8
            while i < K - K % 8:
                r0 += q[t, i]
                r1 += q[t, i + 1]
                r2 += q[t, i + 2]
                r3 += q[t, i + 3]
                r4 += q[t, i + 4]
                r5 += q[t, i + 5]
                r6 += q[t, i + 6]
                r7 += q[t, i + 7]
                i += 8
            res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < K:
                res += q[t, i]
                i += 1
        out[t] = 0.0 + res


@njit(**_JIT)
def frames_first(P, out):
    """``out[t, k] = P[k, t]``: (K, T, D) to C-contiguous (T, K, D) (a copy, no arithmetic)."""
    K, T, D = P.shape
    for t in range(T):
        for k in range(K):
            for d in range(D):
                out[t, k, d] = P[k, t, d]
