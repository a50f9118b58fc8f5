"""The default stickiness: the smallest kappa whose fit reaches a target median syllable duration.

This room holds the rule every syllable fit uses when no kappa is given
(:func:`ethogram.pipeline.fit_recordings`, ``ethogram fit``, ``ethogram select`` through
``cross_validate(kappa="auto")``): fit at kappa 0 (maximum-likelihood transitions); if the
median Viterbi syllable already lasts at least ``1 - rel_tol`` of the target, keep kappa 0;
otherwise climb a ladder of kappas around :func:`reference_kappa` and keep the smallest whose
fit reaches the target. :func:`smallest_kappa` is the decision procedure alone: it calls back a
function that fits at a kappa and returns the median duration, so the pipeline and the
selection share it; the fits of one search all start from the same seed, so the search's fit at
the chosen kappa is the fit at that kappa. How this kappa relates to MoSeq's:
docs/design-notes.md, "stickiness.py".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._runs import run_lengths
from .errors import ArgumentWarning

__all__ = [
    "TARGET_DURATION_S",
    "REMEDY",
    "REMEDY_TEMPLATE",
    "GIBBS_REMEDY",
    "GIBBS_REMEDY_TEMPLATE",
    "REMEDIES",
    "KappaChoice",
    "median_run_length",
    "reference_kappa",
    "smallest_kappa",
]

#: the median syllable duration (seconds) the default stickiness brings the syllables up to:
#: MoSeq's median, about 400 ms (re-exported by :mod:`ethogram.pipeline`)
TARGET_DURATION_S = 0.4
#: the advice of a search that misses its target (EM's fit), with a field for each argument it
#: names (:mod:`ethogram.errors`): the fit-quality warning that repeats it says them in the
#: command's words on the command line and in the report of a command's fit
REMEDY_TEMPLATE = (
    "the emission likelihoods, not the transition prior, set the durations here: fewer states "
    "({num_states}) and a stronger AR prior (raise {prior_ridge} tenfold) let kappa act again",
    ("num_states", "prior_ridge"),
)
#: :data:`REMEDY_TEMPLATE` in Python's words, as the search's message says it
REMEDY = ArgumentWarning(*REMEDY_TEMPLATE).worded()
#: the advice of a search that misses its target with a Gibbs method (MoSeq's priors: no
#: ``prior_ridge`` of their own, so the last remedy is EM's), fields as :data:`REMEDY_TEMPLATE`'s
GIBBS_REMEDY_TEMPLATE = (
    "the AR likelihoods, not the transition prior, set the durations here: set {kappa} "
    "yourself, fit fewer states ({num_states}), or fit with {method:em}, whose AR prior lets "
    "kappa act ({prior_ridge})",
    ("kappa", "num_states", "method", "prior_ridge"),
)
#: :data:`GIBBS_REMEDY_TEMPLATE` in Python's words, as the search's message says it
GIBBS_REMEDY = ArgumentWarning(*GIBBS_REMEDY_TEMPLATE).worded()
#: every remedy a search's message may end with, and its template
REMEDIES = ((REMEDY, REMEDY_TEMPLATE), (GIBBS_REMEDY, GIBBS_REMEDY_TEMPLATE))


def reference_kappa(num_frames: int, num_states: int, target_frames: float) -> float:
    """The kappa at which the prior alone gives a state of average size the target duration.

    ``(target_frames - 1) * num_frames / num_states``: a state holding ``N / K`` frames and
    ``kappa`` pseudo-counts on its self-transition has a MAP self-transition of at least
    ``kappa / (N / K + kappa) = (d - 1) / d`` however often the data leave it, i.e. an
    expected duration of at least ``d = target_frames``. It was ethogram's default kappa
    until the data showed it too strong (about eleven pseudo-transitions per real one at
    30 fps); it is now the scale of the ladder :func:`smallest_kappa` climbs.

    Parameters
    ----------
    num_frames : int
        Usable training frames (all recordings).
    num_states : int
        K.
    target_frames : float
        Target duration in frames (e.g. 0.4 s x 30 fps = 12).

    Returns
    -------
    float
        At least 0.
    """
    return float(max(float(target_frames) - 1.0, 0.0) * float(num_frames) / max(int(num_states), 1))


def median_run_length(labels) -> float:
    """Median length (frames) of the runs of equal labels; -1 (no syllable) is not a run.

    Parameters
    ----------
    labels : array_like of int (T,), or a list of them
        Runs end at the end of each array and at every -1.

    Returns
    -------
    float
        NaN when there is no run.
    """
    d = run_lengths(labels)
    return float(np.median(d)) if d.size else float("nan")


@dataclass
class KappaChoice:
    """Outcome of :func:`smallest_kappa`.

    Attributes
    ----------
    kappa : float
        The chosen stickiness.
    median_duration : float
        Median syllable (Viterbi run) at ``kappa``, frames.
    target_frames : float
        The target median, frames.
    reached : bool
        Whether ``median_duration >= (1 - rel_tol) * target_frames``.
    curve : list of dict
        Every fit, in the order made: ``kappa``, ``median_duration`` and the other numbers
        ``evaluate`` returned (objects such as models are left out).
    message : str
        One sentence: the median at the chosen kappa and why it was chosen.
    chosen : object
        What ``evaluate`` returned at ``kappa`` (e.g. the fitted model), for reuse.
    """

    kappa: float
    median_duration: float
    target_frames: float
    reached: bool
    curve: list
    message: str = ""
    chosen: object = field(default=None, repr=False)


def _check(target_frames, reference, rel_tol, max_factor, max_fits) -> None:
    if not (np.isfinite(target_frames) and target_frames > 1):
        raise ValueError(
            f"the target median duration must be more than one frame, got {target_frames!r} frames"
        )
    if not (np.isfinite(reference) and reference > 0):
        raise ValueError(f"reference (kappa) must be a positive number, got {reference!r}")
    if not 0 <= rel_tol < 1:
        raise ValueError(f"rel_tol must be in [0, 1), got {rel_tol!r}")
    if not (np.isfinite(max_factor) and max_factor >= 1):
        raise ValueError(f"max_factor must be a number >= 1, got {max_factor!r}")
    if isinstance(max_fits, bool) or int(max_fits) != max_fits or max_fits < 2:
        raise ValueError(f"max_fits must be an integer >= 2, got {max_fits!r}")


def _between(lo: tuple, hi: tuple, target: float) -> float:
    """Next kappa inside (lo, hi): where the medians' line in log kappa meets the target,
    kept in the middle half of the bracket so that it shrinks by a quarter at least."""
    (k_lo, m_lo), (k_hi, m_hi) = lo, hi
    f = (target - m_lo) / (m_hi - m_lo) if m_hi > m_lo else 0.5
    f = float(np.clip(f, 0.25, 0.75))
    return float(np.exp(np.log(k_lo) + f * (np.log(k_hi) - np.log(k_lo))))


def smallest_kappa(
    evaluate: Callable,
    target_frames: float,
    reference: float,
    rel_tol: float = 0.1,
    max_factor: float = 100.0,
    max_fits: int = 8,
    remedy: str | None = None,
) -> KappaChoice:
    """The smallest kappa whose fit's median syllable reaches the target (the default rule).

    Fits at kappa 0 first; if its median is at least ``(1 - rel_tol) * target_frames``, kappa
    0 is kept. Otherwise the fits go up a ladder ``reference * 10**j`` (j = 0, 1, ...) until
    one reaches the target, or down it (j = -1, -2, ...) while they still do, then inside the
    last bracket (unreached, reached) at the point where a line through the two medians in
    log kappa meets the target. It stops at a fit whose median lies between ``1 - rel_tol``
    and 1 times the target, at a bracket narrower than a factor 1.25, after ``max_fits``
    fits, or at the ends of the ladder, ``reference / max_factor`` and
    ``reference * max_factor``. The smallest kappa tried that reaches the target is kept;
    when none does, the one with the longest median (the smallest among equals), and
    ``reached`` is False. Medians move with kappa on a log scale (a switch costs about
    ``log kappa`` nats once kappa exceeds a state's frames), hence the ladder in powers of 10.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(kappa) -> dict`` with ``"median_duration"`` (frames; NaN when no run) and
        anything else (numbers go to ``curve``; everything to ``chosen``). Called with
        kappa 0 first, then with positive kappas, each at most once.
    target_frames : float
        Target median duration in frames (> 1).
    reference : float
        Scale of the ladder (> 0), e.g. :func:`reference_kappa`.
    rel_tol : float, default 0.1
        A median of at least ``(1 - rel_tol) * target_frames`` reaches the target.
    max_factor : float, default 100
        The ladder spans ``reference / max_factor`` to ``reference * max_factor``.
    max_fits : int, default 8
        Fits at most, kappa 0 included.
    remedy : str, optional
        What the message advises when the target is not reached (default :data:`REMEDY`,
        the EM fit's options).

    Returns
    -------
    KappaChoice

    Raises
    ------
    ValueError
        For a target of one frame or less, a non-positive reference, ``rel_tol`` outside
        [0, 1), ``max_factor < 1`` or ``max_fits < 2``.
    """
    target = float(target_frames)
    _check(target, reference, rel_tol, max_factor, max_fits)
    done: dict[float, dict] = {}

    def fit(k: float) -> float:
        done[k] = dict(evaluate(k))
        m = float(done[k]["median_duration"])
        return m if np.isfinite(m) else 0.0  # no run at all is as short as it gets

    def reaches(m: float) -> bool:
        return m >= (1.0 - rel_tol) * target

    lo, hi = (0.0, fit(0.0)), None
    k = float(reference) if not reaches(lo[1]) else None
    while k is not None and len(done) < max_fits:
        m = fit(k)
        if reaches(m) and m <= target:  # between 1 - rel_tol and 1 times the target: done
            hi = (k, m)
            break
        if reaches(m):
            hi = (k, m)
        else:
            lo = (k, m)
        k = _next(lo, hi, target, reference, max_factor)
    return _choice(done, lo, hi, target, rel_tol, reference, max_factor, remedy or REMEDY)


def _next(lo, hi, target, reference, max_factor):
    """The ladder's next kappa, or None when the search is over."""
    if hi is None:  # climbing: nothing reached yet
        return lo[0] * 10.0 if lo[0] * 10.0 <= reference * max_factor * (1 + 1e-9) else None
    if lo[0] == 0.0:  # descending: everything tried above 0 reached
        return hi[0] / 10.0 if hi[0] / 10.0 >= reference / max_factor * (1 - 1e-9) else None
    return _between(lo, hi, target) if hi[0] / lo[0] > 1.25 else None


def _numbers(result: dict) -> dict:
    """The plain numbers of an evaluation (no models, arrays or flags)."""
    return {
        n: v
        for n, v in result.items()
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
    }


def _choice(done, lo, hi, target, rel_tol, reference, max_factor, remedy) -> KappaChoice:
    """The kept kappa (see :func:`smallest_kappa`) and the sentence that says why."""
    curve = [{"kappa": k, **_numbers(r)} for k, r in done.items()]
    reached = hi is not None or (
        lo[0] == 0.0 and done[0.0]["median_duration"] >= (1 - rel_tol) * target
    )
    if reached:
        k = 0.0 if hi is None else hi[0]
    else:  # the longest median, the smallest kappa among equals
        k = max(done, key=lambda q: (np.nan_to_num(float(done[q]["median_duration"]), nan=0.0), -q))
    m = float(done[k]["median_duration"])
    msg = f"median duration {m:g} frames at kappa {k:.4g} for a target of {target:g} frames"
    if reached and k == 0.0:
        msg += "; reached without stickiness (kappa 0: maximum-likelihood transitions)"
    elif reached:
        msg += f"; the smallest kappa tried that reaches {1 - rel_tol:.0%} of it ({len(done)} fits)"
    else:
        msg += (
            f"; not within {rel_tol:.0%} up to kappa {reference * max_factor:.4g} ({max_factor:g} "
            f"times the reference kappa), so the fit keeps kappa {k:.4g}, whose syllables were "
            f"the longest of the {len(done)} tried: {remedy}"
        )
    return KappaChoice(float(k), m, target, bool(reached), curve, msg, done[k])
