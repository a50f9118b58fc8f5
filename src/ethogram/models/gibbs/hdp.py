"""Transitions of the weak-limit sticky HDP-HMM: counts, auxiliary tables, global weights, rows.

The Gibbs update of MoSeq's transition matrix (section 3.1 of
../shared/models/keypoint_moseq_model.md; jax-moseq ``utils/transitions.py``), from Fox,
Sudderth, Jordan & Willsky 2011, "A sticky HDP-HMM with application to speaker diarization",
Ann. Appl. Stat. 5 (supplement, algorithm 3): global weights ``beta ~ Dir(gamma/S)``, rows
``pi_i ~ Dir(alpha beta + kappa e_i)``; given transition counts ``n_ij``, table counts
``m_ij`` of a Chinese restaurant franchise are drawn, the diagonal's "override" tables
removed, ``beta`` redrawn from the column sums and ``pi`` from the counts. The table counts
are a numba kernel fed with pre-drawn uniforms (one per transition), so draws do not depend on
threads; the Dirichlet draws work in log space so that tiny concentrations give zeros, not NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = [
    "HDPDraw",
    "dirichlet_rows",
    "init_hdp_transitions",
    "override_tables",
    "sample_global_weights",
    "sample_hdp_transitions",
    "sample_table_counts",
    "sample_transition_matrix",
    "transition_counts",
]

#: jax-moseq's floor on the initial transition matrix (float32's smallest normal number).
FLOAT32_TINY = float(np.finfo(np.float32).tiny)


class HDPDraw(NamedTuple):
    """Result of one transition update.

    Attributes
    ----------
    global_weights : ndarray, shape (S,)
        The new ``beta``.
    transition_matrix : ndarray, shape (S, S)
        The new ``pi``.
    table_counts : ndarray of int, shape (S, S)
        The auxiliary ``m_bar`` (tables after the override correction) that ``beta`` was
        drawn from.
    """

    global_weights: np.ndarray
    transition_matrix: np.ndarray
    table_counts: np.ndarray


def transition_counts(syllables, num_states: int, num_lags: int = 0, mask=None) -> np.ndarray:
    """Transition counts ``n_ij`` of one sequence, each weighted by its destination's mask.

    Parameters
    ----------
    syllables : array_like of int, shape (T - num_lags,)
        ``syllables[i]`` labels frame ``i + num_lags`` (jax-moseq's ``z``).
    num_states : int
    num_lags : int, default 0
        Offset between syllable index and frame (the mask is indexed by frame).
    mask : array_like of bool, shape (T,), optional
        The transition into frame ``t`` counts when ``mask[t]`` is 1 (jax-moseq
        ``count_transitions``).

    Returns
    -------
    ndarray of int64, shape (num_states, num_states)
        Counts from all sequences add.
    """
    z = np.asarray(syllables)
    S = int(num_states)
    if z.ndim != 1 or (
        z.size and (not np.issubdtype(z.dtype, np.integer) or z.min() < 0 or z.max() >= S)
    ):
        raise ValueError(f"syllables must be a 1-D array of integers in [0, {S})")
    keep = np.ones(max(len(z) - 1, 0), bool)
    if mask is not None:
        m = np.asarray(mask, bool)
        if m.shape != (len(z) + int(num_lags),):
            raise ValueError(f"mask must have shape ({len(z) + int(num_lags)},), got {m.shape}")
        keep = m[int(num_lags) + 1 :]
    flat = z[:-1][keep].astype(np.int64) * S + z[1:][keep]
    return np.bincount(flat, minlength=S * S).reshape(S, S)


@njit(cache=True, nogil=True)
def _table_counts_kernel(counts, concentrations, kappa, uniforms, out):
    """CRT draws: customer k (0-based) of cell (i, j) opens a table when u < c / (k + c)."""
    S = counts.shape[0]
    pos = 0
    for i in range(S):
        for j in range(S):
            c = concentrations[j] + (kappa if i == j else 0.0)
            m = 0
            for k in range(counts[i, j]):
                if c > 0.0 and uniforms[pos] * (k + c) < c:
                    m += 1
                pos += 1
            out[i, j] = m


def _check_counts(counts) -> np.ndarray:
    n = np.asarray(counts)
    if n.ndim != 2 or n.shape[0] != n.shape[1]:
        raise ValueError(f"counts must be a square (num_states, num_states) array, got {n.shape}")
    if n.size and (n.min() < 0 or not np.all(n == np.round(n))):
        raise ValueError("counts must hold non-negative whole numbers (transition counts)")
    return n.astype(np.int64)


def sample_table_counts(
    rng: np.random.Generator, counts, concentrations, kappa: float
) -> np.ndarray:
    """Table counts ``m_ij`` of the sticky Chinese restaurant franchise given ``n_ij``.

    ``m_ij`` is the number of tables among ``n_ij`` customers seated with concentration
    ``c_ij = concentrations[j] + kappa [i == j]``: a sum of independent
    ``Bernoulli(c / (k + c))``, k = 0 .. n_ij - 1 (Fox et al. 2011, supplement; jax-moseq
    ``_sample_loyal_crf_table_counts``). Its law is
    ``P(m) = |s(n, m)| c^m Gamma(c) / Gamma(c + n)`` (Antoniak 1974).

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws ``sum(counts)`` uniforms, cells in row-major order.
    counts : array_like of int, shape (S, S)
    concentrations : array_like, shape (S,)
        ``alpha * beta`` (the current ``beta``).
    kappa : float
        Stickiness, added on the diagonal.

    Returns
    -------
    ndarray of int64, shape (S, S)
    """
    n = _check_counts(counts)
    c = np.asarray(concentrations, dtype=float)
    if c.shape != (n.shape[0],) or np.any(c < 0) or not np.all(np.isfinite(c)):
        raise ValueError(f"concentrations must be {n.shape[0]} finite numbers >= 0 (alpha * beta)")
    if not (float(kappa) >= 0):
        raise ValueError(f"kappa must be >= 0, got {kappa}")
    out = np.zeros_like(n)
    _table_counts_kernel(n, c, float(kappa), rng.random(int(n.sum())), out)
    return out


def override_tables(
    rng: np.random.Generator, table_counts, concentrations, kappa: float
) -> np.ndarray:
    """Remove the diagonal's override tables: ``m_bar_ii ~ Binomial(m_ii, c_i / (c_i + kappa))``.

    Keeps the tables that were served from ``beta`` rather than by the sticky override
    (Fox et al. 2011: ``w_ii ~ Binomial(m_ii, rho / (rho + beta_i (1 - rho)))``,
    ``rho = kappa / (alpha + kappa)``; jax-moseq ``_sample_beta_suffient_stats``). Off the
    diagonal ``m_bar_ij = m_ij``.

    Returns
    -------
    ndarray of int64, shape (S, S)
    """
    m = np.array(table_counts, dtype=np.int64)
    c = np.asarray(concentrations, dtype=float)
    total = c + float(kappa)
    p = np.divide(c, total, out=np.zeros_like(c), where=total > 0)
    m[np.diag_indices_from(m)] = rng.binomial(np.diag(m), p)
    return m


def _log_gammas(rng, concentration):
    """log of Gamma(a) draws via Gamma(a) = Gamma(a + 1) U^(1/a): exact, and finite in log
    space for tiny a; a = 0 gives -inf (a point mass at 0)."""
    a = np.asarray(concentration, dtype=float)
    g = rng.standard_gamma(a + 1.0)
    u = rng.random(a.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(g) + np.log(u) / a
    return np.where(a > 0, out, -np.inf)


def dirichlet_rows(rng: np.random.Generator, concentration) -> np.ndarray:
    """Dirichlet draws, one per row of ``concentration`` (..., S), normalised in log space.

    Entries with concentration 0 get probability 0; a row needs one positive entry.
    """
    a = np.asarray(concentration, dtype=float)
    if a.ndim < 1 or np.any(a < 0) or not np.all(np.isfinite(a)) or np.any(a.sum(-1) <= 0):
        raise ValueError("concentration must be finite, >= 0, with a positive entry in every row")
    lg = _log_gammas(rng, a)
    top = lg.max(axis=-1, keepdims=True)
    w = np.exp(lg - top)
    return w / w.sum(axis=-1, keepdims=True)


def sample_global_weights(rng: np.random.Generator, table_counts, gamma: float) -> np.ndarray:
    """``beta ~ Dir(sum_i m_bar_ij + gamma / S)`` (column sums of the corrected tables)."""
    m = np.asarray(table_counts, dtype=float)
    return dirichlet_rows(rng, m.sum(axis=0) + float(gamma) / m.shape[0])


def sample_transition_matrix(
    rng: np.random.Generator, counts, global_weights, alpha: float, kappa: float
) -> np.ndarray:
    """Rows ``pi_i ~ Dir(n_i. + alpha beta + kappa e_i)`` (jax-moseq ``sample_pi``; no floor)."""
    n = np.asarray(counts, dtype=float)
    beta = np.asarray(global_weights, dtype=float)
    return dirichlet_rows(rng, n + float(alpha) * beta + float(kappa) * np.eye(n.shape[0]))


def sample_hdp_transitions(
    rng: np.random.Generator, counts, global_weights, alpha: float, kappa: float, gamma: float
) -> HDPDraw:
    """One Gibbs update of ``(beta, pi)`` given transition counts (section 3.1, steps 2-5).

    Tables are drawn with the current ``beta`` (``global_weights``), then ``beta`` is redrawn
    and ``pi`` drawn with the new one, as jax-moseq ``sample_hdp_transitions`` does.

    Parameters
    ----------
    rng : numpy.random.Generator
    counts : array_like of int, shape (S, S)
        Transition counts summed over all sequences (:func:`transition_counts`).
    global_weights : array_like, shape (S,)
    alpha, kappa, gamma : float
        MoSeq's defaults are alpha 5.7, gamma 1e3; kappa 1e6 (AR-only) or about 1e4 (full).

    Returns
    -------
    HDPDraw
    """
    beta = np.asarray(global_weights, dtype=float)
    conc = float(alpha) * beta
    tables = sample_table_counts(rng, counts, conc, kappa)
    tables = override_tables(rng, tables, conc, kappa)
    beta_new = sample_global_weights(rng, tables, gamma)
    pi = sample_transition_matrix(rng, counts, beta_new, alpha, kappa)
    return HDPDraw(beta_new, pi, tables)


def init_hdp_transitions(
    rng: np.random.Generator, num_states: int, alpha: float, kappa: float, gamma: float
) -> HDPDraw:
    """Initial ``(beta, pi)`` from the prior, as jax-moseq ``init_hdp_transitions``.

    ``beta_0 ~ Dir(gamma/S)``, then one update with zero counts, then
    ``pi <- (pi + tiny) / row sums`` with ``tiny`` = float32's smallest normal number.
    """
    S = int(num_states)
    if S < 1:
        raise ValueError(f"num_states must be >= 1, got {num_states}")
    beta0 = dirichlet_rows(rng, np.full(S, float(gamma) / S))
    draw = sample_hdp_transitions(rng, np.zeros((S, S), np.int64), beta0, alpha, kappa, gamma)
    pi = draw.transition_matrix + FLOAT32_TINY
    return draw._replace(transition_matrix=pi / pi.sum(axis=1, keepdims=True))
