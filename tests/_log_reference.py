"""Log-space reference helpers shared by the kernel tests (NumPy only, exact for -inf rows and
for entries of size 1e300)."""

from __future__ import annotations

import numpy as np


def _lse(x, axis):
    """log-sum-exp along ``axis`` that is exact for rows of -inf (giving -inf, no warning)."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis)


def _normalize(x, axis):
    """``(x - logsumexp(x), logsumexp(x))`` along ``axis``, the maximum removed first so that
    rows of size 1e300 are still normalised exactly (their O(1) part is not rounded away)."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    y = x - m
    with np.errstate(divide="ignore"):
        c = np.log(np.sum(np.exp(y), axis=axis, keepdims=True))
    return y - c, np.squeeze(m + c, axis)


def _path_log_joint(pi, A, L, z):
    """log p(x, z) of a state path."""
    pi, A, L = np.asarray(pi, float), np.asarray(A, float), np.asarray(L, float)
    with np.errstate(divide="ignore"):
        return np.log(pi[z[0]]) + np.log(A[z[:-1], z[1:]]).sum() + L[np.arange(len(z)), z].sum()
