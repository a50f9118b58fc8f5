"""A word when a fit is poor: the five signs of a syllable fit gone wrong, as one-line warnings.

After a fit, :func:`fit_quality_warnings` looks for (a) EM stopped by its iteration limit before
meeting its tolerance, (b) a median syllable shorter than a third of the target duration
(MoSeq's 400 ms unless the fit was given one), (c) flicker pairs: two frequent syllables that
mostly hand over to each other and each last a few frames, the signature of one behavior split
between two states, (d) one syllable holding most of the labelled frames, the signature of a
fit collapsed onto one state, and (e) a kappa search that missed its target duration (every
method's; said by (b) instead when the syllables are that short). Each sign becomes one
:class:`FitQualityWarning` that carries the names of the arguments it advises changing
(``num_iters``, ``kappa``, ...), so the library can say them in Python and the ``ethogram``
command as its options (:class:`ethogram.errors.Worded`). The checks read only what a results
file keeps (labels, frame rates, the EM history and configuration), so a report of an older
results file shows them too; the advice of (d) follows the kappa search's finding when kappa was
searched (it never says "lower kappa" after a search that found lower kappas give shorter
syllables).
"""

from __future__ import annotations

import warnings

import numpy as np

from .._runs import syllable_runs
from ._fit_advice import (
    DOMINANT_SHARE,
    FitQualityWarning,
    _dominant,
    _flicker,
    _not_converged,
    _target_missed,
    _too_short,
)

__all__ = [
    "FLICKER_MAX_FRAMES",
    "FLICKER_MIN_EXITS",
    "FLICKER_MIN_EXIT_SHARE",
    "FLICKER_MIN_SHARE",
    "DOMINANT_SHARE",
    "SHORT_FRACTION",
    "FitQualityWarning",
    "fit_quality_warnings",
    "flicker_pairs",
    "label_warnings",
    "median_duration",
    "median_stretch",
    "results_quality_warnings",
    "warn_fit_quality",
]

#: (b): warn when the median syllable is shorter than this fraction of the target duration
#: (133 ms for MoSeq's 400 ms: a syllable a third as long as the timescale aimed at)
SHORT_FRACTION = 1.0 / 3.0
#: (c) "frequent": each syllable of a flicker pair holds at least this share of all instances
#: (the share of an average syllable at the default K = 20), so the pair holds a tenth of them
FLICKER_MIN_SHARE = 0.05
#: (c) "most": more than this share of each syllable's exits go to the other one (the plain
#: meaning of "most"; an exit chosen at random among K = 20 syllables goes to one of them 1 in 19)
FLICKER_MIN_EXIT_SHARE = 0.5
#: (c) at least this many exits of each syllable: a syllable that sends a quarter of its exits to
#: the other shows a majority of 10 with probability 0.02 (binomial), both of a pair 0.0004
FLICKER_MIN_EXITS = 10
#: (c) "a few frames": the median instance of each syllable lasts at most this many frames
#: (100 ms at 30 fps, a quarter of MoSeq's 400 ms; movies leave out instances shorter than 3)
FLICKER_MAX_FRAMES = 3


def _runs(z: np.ndarray):
    """(syllables, lengths) of the runs of ``z`` that are syllables (-1 breaks runs)."""
    starts, stops, values = syllable_runs(np.asarray(z, dtype=np.int64))
    return values, stops - starts


def median_stretch(labels, fps) -> float:
    """Median length in seconds of the stretches of frames with a syllable (any syllable),
    between frames without one (-1), over all recordings; NaN if unknown (as
    :func:`median_duration`). No syllable instance can outlast its stretch."""
    return _median_seconds([np.where(np.asarray(z) >= 0, 0, -1) for z in labels], fps)


def median_duration(labels, fps) -> float:
    """Median syllable instance duration in seconds, over all recordings (NaN if unknown).

    Parameters
    ----------
    labels : list of ndarray of int, shape (T_i,)
        Syllables per recording, -1 = none (breaks an instance).
    fps : list of float or None
        Frame rate of each recording (None when unknown).

    Returns
    -------
    float
        Seconds; NaN when a recording with instances has no frame rate, or there is no
        instance.
    """
    return _median_seconds(labels, fps)


def _median_seconds(labels, fps) -> float:
    """Median run length of ``labels`` in seconds over all recordings (as
    :func:`median_duration` says)."""
    parts = []
    for z, rate in zip(labels, fps):
        _, lengths = _runs(z)
        if lengths.size and not (rate and np.isfinite(rate) and rate > 0):
            return float("nan")
        parts.append(lengths / float(rate) if lengths.size else np.zeros(0))
    d = np.concatenate(parts) if parts else np.zeros(0)
    return float(np.median(d)) if d.size else float("nan")


def flicker_pairs(labels, num_states: int | None = None) -> list:
    """Pairs of frequent syllables that mostly hand over to each other and last a few frames.

    A pair (i, j) flickers when both syllables hold at least :data:`FLICKER_MIN_SHARE` (5%) of
    all syllable instances, each has at least :data:`FLICKER_MIN_EXITS` (10) exits (an instance
    directly followed by another syllable, no masked frame between), more than
    :data:`FLICKER_MIN_EXIT_SHARE` (half) of the exits of each go to the other, and the median
    instance of each lasts at most :data:`FLICKER_MAX_FRAMES` (3) frames. Since "more than
    half" names one syllable, a syllable is in at most one pair.

    Parameters
    ----------
    labels : list of ndarray of int, shape (T_i,)
        Syllables per recording, -1 = none.
    num_states : int, optional
        K (default: the largest syllable + 1).

    Returns
    -------
    list of dict
        One per pair, ``i < j``: ``syllables`` (i, j), ``exit_shares`` (share of i's exits that
        go to j, and of j's that go to i), ``median_frames`` (of i and j), ``shares`` (of all
        instances), ordered by the pair's instances, most first.

    Raises
    ------
    ValueError
        If a label is ``num_states`` or more.
    """
    runs = [_runs(z) for z in labels]
    syl = np.concatenate([s for s, _ in runs]) if runs else np.zeros(0, dtype=np.int64)
    lengths = np.concatenate([n for _, n in runs]) if runs else np.zeros(0, dtype=np.int64)
    if syl.size == 0:
        return []
    K = int(syl.max()) + 1 if num_states is None else int(num_states)
    if syl.max() >= K:
        top = int(syl.max())
        raise ValueError(f"labels hold syllable {top} but num_states={K}; give num_states > {top}")
    counts = np.zeros((K, K), dtype=np.int64)
    for z in labels:  # consecutive instances that touch: no -1 frame between them
        z = np.asarray(z, dtype=np.int64)
        change = np.flatnonzero(z[1:] != z[:-1])
        a, b = z[change], z[change + 1]
        keep = (a >= 0) & (b >= 0)
        np.add.at(counts, (a[keep], b[keep]), 1)
    exits = counts.sum(axis=1)
    instances = np.bincount(syl, minlength=K)
    share = instances / syl.size
    with np.errstate(invalid="ignore", divide="ignore"):
        exit_share = counts / exits[:, None]
    pairs = []
    for i in range(K):
        j = int(np.argmax(counts[i]))
        if i >= j or not _flickers(i, j, share, exits, exit_share, syl, lengths):
            continue
        pairs.append(
            {
                "syllables": (i, j),
                "exit_shares": (float(exit_share[i, j]), float(exit_share[j, i])),
                "median_frames": (
                    float(np.median(lengths[syl == i])),
                    float(np.median(lengths[syl == j])),
                ),
                "shares": (float(share[i]), float(share[j])),
            }
        )
    return sorted(pairs, key=lambda p: -(p["shares"][0] + p["shares"][1]))


def _flickers(i, j, share, exits, exit_share, syl, lengths) -> bool:
    """Whether syllables i and j meet every condition of :func:`flicker_pairs`."""
    for a, b in ((i, j), (j, i)):
        if share[a] < FLICKER_MIN_SHARE or exits[a] < FLICKER_MIN_EXITS:
            return False
        if not exit_share[a, b] > FLICKER_MIN_EXIT_SHARE:
            return False
        if np.median(lengths[syl == a]) > FLICKER_MAX_FRAMES:
            return False
    return True


def label_warnings(
    labels,
    fps,
    num_states: int | None = None,
    target_duration: float | None = None,
    kappa: float | None = None,
    applied: bool = False,
    method: str = "em",
    search: dict | None = None,
) -> list:
    """Warnings (b), (c), (d) and (e) of :func:`fit_quality_warnings` from labels (and the kappa
    search's record).

    Parameters
    ----------
    labels : list of ndarray of int, shape (T_i,)
        Syllables per recording, -1 = none.
    fps : list of float or None
        Frame rate per recording (the duration check is skipped when one is unknown).
    num_states : int, optional
        K.
    target_duration : float, optional
        Target median duration in seconds; None: MoSeq's, ``ethogram.pipeline.TARGET_DURATION_S``
        (0.4 s), and the advice then includes searching kappa for it.
    kappa : float, optional
        The stickiness used (quoted in the advice).
    applied : bool, default False
        The labels come from a saved model applied to new recordings: the advice is for a refit.
    method : str, default "em"
        The fitting method (``ethogram fit --method``): the Gibbs methods have no
        ``prior_ridge``, so their advice names EM instead.
    search : dict, optional
        The kappa search of the fit, as its results' config records it (``reached``: bool,
        ``message``: its sentence); None when kappa was given. (e) is said when it missed its
        target and (b) does not already say so; (d)'s advice follows its finding.

    Returns
    -------
    list of FitQualityWarning
    """
    from ..stickiness import TARGET_DURATION_S

    em = method == "em"

    out = []
    target = TARGET_DURATION_S if target_duration is None else float(target_duration)
    median = median_duration(labels, fps)
    short = np.isfinite(median) and median < SHORT_FRACTION * target
    if short:
        stretch = median_stretch(labels, fps)
        stretch = stretch if np.isfinite(stretch) else float("inf")
        given = target_duration is not None
        out.append(_too_short(median, target, given, kappa, applied, em, stretch))
    pairs = flicker_pairs(labels, num_states)
    if pairs:
        out.append(_flicker(pairs, applied, em))
    searched = None if search is None else bool(search.get("reached", True))
    # (d) on new recordings is said without a refit's advice (they may truly be one behavior,
    # or differ from the fit's); (e) is the fit's: the search was the training fit's
    dominant = _dominant(labels, kappa, searched, applied=applied)
    if dominant is not None:
        out.append(dominant)
    # not after (d) on a missed search, which says so with its advice
    if (
        searched is False
        and not applied
        and not short
        and dominant is None
        and search.get("message")
    ):
        # the results hold the default target too: MoSeq's mouse timescale is the hint's
        mouse = target_duration is None or float(target_duration) == TARGET_DURATION_S
        out.append(_target_missed(search["message"], target_given=not mouse))
    return out


def fit_quality_warnings(
    labels,
    fps,
    *,
    converged: bool | None = None,
    num_iters: int | None = None,
    objectives=None,
    num_frames: int | None = None,
    tol: float | None = None,
    num_states: int | None = None,
    target_duration: float | None = None,
    kappa: float | None = None,
    applied: bool = False,
    method: str = "em",
    search: dict | None = None,
) -> list:
    """The warnings a fit deserves: EM not converged, syllables too short, flicker pairs, one
    syllable holding most frames, a kappa search that missed its target.

    (a) ``converged`` is False: EM stopped after ``num_iters`` iterations without its
    objective's rise falling to the tolerance. (b) The median syllable instance (all recordings,
    seconds) is shorter than :data:`SHORT_FRACTION` (a third) of ``target_duration``. (c) At
    least one flicker pair (:func:`flicker_pairs`: both syllables hold at least 5% of the
    instances, more than half of the at least 10 exits of each go to the other, and the median
    instance of each lasts at most 3 frames). (d) One syllable holds more than
    :data:`DOMINANT_SHARE` (80%) of the labelled frames (for a model applied to new recordings,
    without a refit's advice: they may truly show one behavior, or differ from the fit's
    recordings). (e) The fit's kappa search missed its target
    (fits only; not when (b) says the syllables are too short, which says so).

    Parameters
    ----------
    labels : list of ndarray of int, shape (T_i,)
        Syllables per recording, -1 = none.
    fps : list of float or None
        Frame rate per recording.
    converged : bool, optional
        Whether EM met its tolerance (None: not checked).
    num_iters : int, optional
        EM iterations done.
    objectives : array_like, optional
        The EM objective per iteration, to say how fast it was still rising.
    num_frames : int, optional
        Frames the objective is summed over (the rise is said per frame).
    tol : float, optional
        EM's tolerance in nats per frame.
    num_states, target_duration, kappa
        See :func:`label_warnings`.
    applied : bool, default False
        The labels come from a saved model applied to new recordings: (a) is left out (it is
        the training fit's, said when it was fitted) and the advice is for a refit.

    method, search
        See :func:`label_warnings`.

    Returns
    -------
    list of FitQualityWarning
        In the order (a), (b), (c), (d), (e); empty for a fit that shows none of the signs.
    """
    out = []
    if converged is not None and not converged and not applied:
        rise = None
        obj = np.asarray(objectives if objectives is not None else [], dtype=np.float64)
        if obj.size >= 2 and num_frames:
            rise = float(obj[-1] - obj[-2]) / int(num_frames)
        out.append(_not_converged(int(num_iters or 0), rise, tol))
    return out + label_warnings(
        labels, fps, num_states, target_duration, kappa, applied, method, search
    )


def results_quality_warnings(results) -> list:
    """:func:`fit_quality_warnings` of a fit's or an applied model's results.

    Reads only what a results file keeps: the labels and frame rates of the recordings, the
    EM history (``results.fit``: ``converged``, ``num_iters``, ``objectives``,
    ``usable_frames``) and configuration (``tol``, ``kappa_used``, ``target_duration``, the
    kappa search's ``kappa_search_reached`` and ``kappa_search_message``, every method's); a key
    that is missing (an older file) skips what needs it. For ``ethogram apply`` results only
    the labels are checked (the EM history is the training fit's) and the advice is for a refit.

    Parameters
    ----------
    results : ethogram.results.Results

    Returns
    -------
    list of FitQualityWarning
    """
    from ..io.rates import frame_rate

    cfg, fit = dict(results.config or {}), dict(results.fit or {})
    converged = fit.get("converged")
    target = cfg.get("target_duration")
    kappa = cfg.get("kappa_used", cfg.get("kappa"))
    search = None
    if "kappa_search_reached" in cfg:
        search = {
            "reached": bool(cfg["kappa_search_reached"]),
            "message": cfg.get("kappa_search_message"),
        }
    return fit_quality_warnings(
        [np.asarray(r.syllables) for r in results.recordings],
        [frame_rate(r.fps, r.timestamps) for r in results.recordings],
        converged=None if converged is None else bool(converged),
        num_iters=fit.get("num_iters"),
        objectives=fit.get("objectives"),
        num_frames=fit.get("usable_frames"),
        tol=cfg.get("tol"),
        num_states=int(results.num_states),
        target_duration=None if target is None else float(target),
        kappa=None if kappa is None else float(kappa),
        applied=cfg.get("command") == "apply",
        method=str(cfg.get("method", "em")),
        search=search,
    )


def warn_fit_quality(results, stacklevel: int = 2) -> list:
    """Issue :func:`results_quality_warnings` as :class:`FitQualityWarning` warnings.

    Parameters
    ----------
    results : ethogram.results.Results
    stacklevel : int, default 2
        As :func:`warnings.warn`'s, counted from the caller of this function.

    Returns
    -------
    list of FitQualityWarning
        The warnings issued.
    """
    found = results_quality_warnings(results)
    for w in found:
        warnings.warn(w, stacklevel=stacklevel + 1)
    return found
