"""SQUAREM: the squared extrapolation that lets EM cross a slow crawl in a few steps.

Where EM converges slowly its steps line up: ``theta_1 = M(theta_0)`` and ``theta_2 =
M(theta_1)`` differ from ``theta_0`` by ``r = theta_1 - theta_0`` and ``v = theta_2 - 2
theta_1 + theta_0``, and the point ``theta_0 - 2 a r + a^2 v`` with the step length ``a = -|r|
/ |v|`` (Varadhan and Roland 2008, "Simple and globally convergent methods for accelerating
the convergence of any EM algorithm", Scand. J. Statist. 35, scheme SqS3) lies much nearer the
optimum; ``a = -1`` gives back ``theta_2``. The parameters are the model's ``get_params()``
dicts of arrays, extrapolated entry by entry (the step length measured in the model's
unit-free ``step_coordinates`` when it has them): an affine combination keeps probability rows
summing to 1 and covariances symmetric, but an entry may leave its domain (a negative
probability or rate, a covariance that is not positive definite). The model refuses such a
point where it is written (``set_params`` raises ValueError), and the step is then shortened
towards ``theta_2`` (``a <- (a - 1) / 2``, as the SQUAREM package of Varadhan does) until the
point is accepted, or given up for ``theta_2`` itself. Whether an extrapolated point is kept
(its objective must not be below that of ``theta_1``) is decided by the EM loop
(:mod:`ethogram.fitting.em`), which knows the objective.
"""

from __future__ import annotations

import numpy as np

__all__ = ["contraction", "extrapolate", "set_extrapolated", "step_length"]

#: times a step is shortened towards theta_2 when the extrapolated point is infeasible
MAX_BACKTRACKS = 6
#: the longest step: near the optimum ``v`` is round-off and ``|r| / |v|`` unbounded, and a step
#: ``a`` multiplies the round-off of every entry by ``a^2`` (a probability row would then sum to
#: 1 + 1e-8 and score above any true HMM); at 1000 that is at most ~1e-10 of each entry, while
#: a crawl at rate 0.999 per step (a step of 1000) is still crossed
MAX_STEP = 1000.0


def _same_keys(*params: dict) -> bool:
    return all(p.keys() == params[0].keys() for p in params[1:])


def step_length(p0: dict, p1: dict, p2: dict) -> float:
    """SqS3 step length ``-|r| / |v|``, between -:data:`MAX_STEP` and -1 (-1: no extrapolation).

    Parameters
    ----------
    p0, p1, p2 : dict of str to ndarray
        Parameters before, after one and after two EM steps (same keys and shapes).

    Returns
    -------
    float
        ``-|r| / |v|`` over all entries, clipped to [-MAX_STEP, -1]; -1 when ``v`` is 0 or a
        norm is not finite.
    """
    sr2 = sv2 = 0.0
    for k in sorted(p0):  # a fixed order: the same bits whatever order the dicts were built in
        a0, a1, a2 = (np.asarray(p[k], dtype=np.float64) for p in (p0, p1, p2))
        sr2 += float(np.sum((a1 - a0) ** 2))
        sv2 += float(np.sum((a2 - 2.0 * a1 + a0) ** 2))
    if not (sv2 > 0.0 and np.isfinite(sr2) and np.isfinite(sv2)):
        return -1.0
    return float(np.clip(-np.sqrt(sr2 / sv2), -MAX_STEP, -1.0))


def contraction(p0: dict, p1: dict, p2: dict) -> float:
    """How much the second EM step shrank the first: ``|theta_2 - theta_1| / |theta_1 - theta_0|``.

    Where EM crawls its steps line up along the slowest direction and this ratio is the
    rate at which the distance to the optimum shrinks per step (near 1 in a crawl).

    Parameters
    ----------
    p0, p1, p2 : dict of str to ndarray
        Parameters before, after one and after two EM steps.

    Returns
    -------
    float
        The ratio (inf when the first step did not move and the second did, 0 when neither).
    """
    s1 = s2 = 0.0
    for k in sorted(p0):
        a0, a1, a2 = (np.asarray(p[k], dtype=np.float64) for p in (p0, p1, p2))
        s1 += float(np.sum((a1 - a0) ** 2))
        s2 += float(np.sum((a2 - a1) ** 2))
    if s1 == 0.0:
        return 0.0 if s2 == 0.0 else np.inf
    return float(np.sqrt(s2 / s1))


def extrapolate(p0: dict, p1: dict, p2: dict, alpha: float) -> dict:
    """``theta_0 - 2 alpha r + alpha^2 v`` entry by entry (unchanged entries copied from p2).

    Parameters
    ----------
    p0, p1, p2 : dict of str to ndarray
    alpha : float
        Step length (<= -1).

    Returns
    -------
    dict of str to ndarray
    """
    out = {}
    for k in p0:
        a0, a1, a2 = (np.asarray(p[k], dtype=np.float64) for p in (p0, p1, p2))
        r, v = a1 - a0, a2 - 2.0 * a1 + a0
        out[k] = a2.copy() if not (r.any() or v.any()) else a0 - 2.0 * alpha * r + alpha**2 * v
    return out


def set_extrapolated(
    model, p0: dict, p1: dict, p2: dict, alpha: float | None = None
) -> float | None:
    """Set ``model`` to the SQUAREM point of three EM iterates, shortening an infeasible step.

    Parameters
    ----------
    model : object with ``set_params``
        Its ``set_params`` must raise ValueError for parameters outside their domain.
    p0, p1, p2 : dict of str to ndarray
        ``get_params()`` before, after one and after two EM steps.
    alpha : float, optional
        The step length (<= -1); default :func:`step_length` of ``p0, p1, p2`` (give it
        measured in other coordinates, e.g. unit-free ones: the extrapolation is affine, so
        it is the same point in any coordinates affine in the parameters).

    Returns
    -------
    float or None
        The step length of the point set, or None when no extrapolation was feasible (or
        none was worth trying: ``a = -1``, or the keys differ); the model then holds ``p2``.
    """
    if not _same_keys(p0, p1, p2):
        model.set_params(p2)
        return None
    alpha = step_length(p0, p1, p2) if alpha is None else float(np.clip(alpha, -MAX_STEP, -1.0))
    for _ in range(MAX_BACKTRACKS + 1):
        if alpha > -1.0 - 1e-3:
            break
        try:
            model.set_params(extrapolate(p0, p1, p2, alpha))
            return alpha
        except ValueError:
            alpha = 0.5 * (alpha - 1.0)
    model.set_params(p2)
    return None
