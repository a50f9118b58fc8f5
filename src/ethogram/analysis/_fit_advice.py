"""Each sign of a poor fit as its warning: :class:`FitQualityWarning` (one line, the arguments it
advises changing carried as data) and the sentence of each sign, its remedy following what the fit
did (EM's AR prior or the Gibbs methods' other method; a kappa given, searched and reached, or
searched and missed). :mod:`ethogram.analysis.diagnostics` finds the signs and calls these.
"""

from __future__ import annotations

import string

import numpy as np

from ..errors import Worded

#: (d): warn when one syllable holds more than this share of the labelled frames (four fifths:
#: an animal doing one thing most of the time is rare in the sessions syllables are fitted to;
#: the keypoint SLDS at kappa 1e6 on the open-field mouse put 93% of the frames in one)
DOMINANT_SHARE = 0.8


class FitQualityWarning(Worded, UserWarning):
    """A fit that is probably poor, in one line, with the arguments to change.

    Parameters
    ----------
    kind : str
        Which sign of a poor fit: ``"not_converged"``, ``"short_syllables"``,
        ``"flicker_pair"``, ``"dominant_syllable"`` or ``"kappa_target_missed"``; the notes on
        a fit's data (:mod:`ethogram.analysis._data_notes`): ``"few_frames"`` or
        ``"sparse_recordings"``.
    template : str
        The message, with a ``{name}`` field for every argument it advises changing.
    arguments : sequence of str
        Those arguments' Python names (``num_iters``, ``num_states``, ``kappa``,
        ``prior_ridge``, ``target_duration``).

    Attributes
    ----------
    kind, template, arguments
        As given (``arguments`` a tuple).

    Notes
    -----
    ``str(warning)`` is the message in Python's words; :meth:`worded` says it with other names
    for the arguments (the command line's options: ``warning.worded({"kappa": "--kappa"})``).
    """

    def __init__(self, kind: str, template: str, arguments=()):
        self.kind = str(kind)
        self.template = str(template)
        self.arguments = tuple(arguments)
        fields = {f for _, f, _, _ in string.Formatter().parse(self.template) if f}
        if fields != set(self.arguments):
            raise ValueError(
                f"template fields {sorted(fields)} must be the arguments {sorted(self.arguments)}"
            )
        super().__init__(self.worded())

    def __reduce__(self):  # picklable across processes like any warning
        return (type(self), (self.kind, self.template, self.arguments))


# its public home: warnings print it as ethogram.analysis.diagnostics.FitQualityWarning
FitQualityWarning.__module__ = "ethogram.analysis.diagnostics"


def _not_converged(num_iters: int, rise_per_frame: float | None, tol: float | None):
    how = ""
    if rise_per_frame is not None and np.isfinite(rise_per_frame):
        if tol and rise_per_frame <= tol:
            # accelerated EM stops at the end of a cycle, when the gain still to come at its
            # rate of progress (a crawl: many small steps) is under the tolerance too
            how = (
                f" (its last iteration raised the objective by only {rise_per_frame:.2g} nats "
                f"per frame, under the tolerance of {tol:.2g}, but it was crawling: the gain "
                "still to come, estimated from its rate, was not)"
            )
        else:
            how = f" (its last iteration still raised the objective by {rise_per_frame:.2g} nats"
            how += f" per frame; the tolerance is {tol:.2g})" if tol else " per frame)"
    iterations = f"{num_iters} iteration{'' if num_iters == 1 else 's'}"
    suggested = max(3 * int(num_iters), 100)
    return FitQualityWarning(
        "not_converged",
        f"EM did not converge in {iterations}{how}: raise {{num_iters}} (e.g. to {suggested}); "
        "fewer {num_states} also help (states the data do not need make EM crawl)",
        ("num_iters", "num_states"),
    )


#: the last remedy of (b) and (c): EM's AR prior lets kappa act (the Gibbs methods have MoSeq's
#: priors and no prior_ridge: for them, the other method)
_PRIOR_REMEDY = {
    True: (" raise {prior_ridge} (e.g. to 10)", "prior_ridge"),
    False: (" fit with {method:em}, whose AR prior lets kappa act", "method"),
}


def _cut_by_masks(head: str, when: str, stretch_s: float, searched: bool):
    """(b) when the frames with a syllable come in stretches shorter than the target: the masked
    frames between them, not the stickiness, cut the syllables short (``searched``: kappa was
    searched for the target, and this says why it could not reach it). The results do not
    record whether the points were placed by the tracker and removed by the confidence
    threshold or never placed (JABS' padding), so the advice leads with what helps in both
    cases (the body parts) and names the threshold with its condition."""
    search = "the searched stickiness cannot lengthen them: " if searched else ""
    return FitQualityWarning(
        "short_syllables",
        head + search + "the frames with a syllable come in stretches of a median "
        f"{1000 * stretch_s:.0f} ms between frames without one (an unsure or missing point, "
        "or a NaN input), and no syllable outlasts its stretch; "
        f"{when}leave out the body parts most often missing ({{bodyparts}}), lower "
        "{confidence_threshold} if the tracker's scores are what removes their points (not "
        "when the tracker placed none), or fit {method:keypoint-slds}, which infers missing "
        "points and keeps every frame",
        ("bodyparts", "confidence_threshold", "method"),
    )


def _too_short(
    median_s: float,
    target_s: float,
    target_given: bool,
    kappa,
    applied: bool,
    em: bool = True,
    stretch_s: float = float("inf"),
):
    remedy, name = _PRIOR_REMEDY[em]
    target = f"{1000 * target_s:.0f} ms"
    whose = f"the target of {target}" if target_given else f"MoSeq's {target}"
    head = f"the median syllable lasts {1000 * median_s:.0f} ms, under a third of {whose}: "
    when = "when refitting, " if applied else ""
    if stretch_s < target_s:
        return _cut_by_masks(head, when, stretch_s, target_given)
    if target_given:  # kappa was searched for the target and could not reach it
        return FitQualityWarning(
            "short_syllables",
            head + "the searched stickiness alone does not lengthen them; "
            f"{when}fit fewer {{num_states}} and" + remedy,
            ("num_states", name),
        )
    now = ""
    if kappa is not None and np.isfinite(kappa):
        now = f" ({float(kappa):.4g} now; try 10x)" if kappa > 0 else " (0 now)"
    return FitQualityWarning(
        "short_syllables",
        head + f"{when}raise {{kappa}}{now} or search it with {{target_duration}}, fit fewer "
        "{num_states}, or" + remedy,
        ("kappa", "target_duration", "num_states", name),
    )


def _flicker(pairs: list, applied: bool, em: bool = True):
    def one(p):
        (i, j), (a, b), (m, n) = p["syllables"], p["exit_shares"], p["median_frames"]
        return (
            f"{i} and {j} ({100 * a:.0f}% and {100 * b:.0f}% of their exits go to each other; "
            f"median {m:g} and {n:g} frames)"
        )

    shown = "; ".join(one(p) for p in pairs[:3])
    if len(pairs) > 3:
        shown += f"; and {len(pairs) - 3} more pairs"
    split = "they likely split" if len(pairs) == 1 else "each pair likely splits"
    when = "when refitting, " if applied else ""
    return FitQualityWarning(
        "flicker_pair",
        f"syllables {shown} flicker: {split} one behavior; {when}raise {{kappa}}, fit fewer "
        "{num_states} or" + _PRIOR_REMEDY[em][0],
        ("kappa", "num_states", _PRIOR_REMEDY[em][1]),
    )


def _dominant_remedy(kappa, searched: bool | None):
    """The advice of (d): lower kappa when it was given; when it was searched, what the search
    found (``searched``: whether it reached its target)."""
    now = ""
    if kappa is not None and np.isfinite(kappa) and kappa > 0:
        now = f" ({float(kappa):.4g} now)"
    if searched is None:  # kappa given (or the search unknown)
        lower = f"lower {{kappa}}{now} or give it, or fit with another {{method}}"
        return lower, ("kappa", "method")
    if searched:  # the smallest kappa found to reach the target: a lower one misses it
        return (
            f"its kappa{now} is the smallest the kappa search found to reach the target "
            "duration: a lower {kappa} may split that state, with shorter syllables; or fit with "
            "another {method}",
            ("kappa", "method"),
        )
    # the search kept its longest syllables, short of the target: lower kappas gave shorter ones
    at = "" if kappa is None or not np.isfinite(kappa) else f" {float(kappa):.4g}"
    return (
        f"the kappa search kept kappa{at} for its longest syllables, still short of its target, "
        "so a lower {kappa} would shorten them further: fit with another {method}",
        ("kappa", "method"),
    )


def _dominant(labels, kappa, searched: bool | None = None, applied: bool = False):
    """(d): the warning when one syllable holds more than :data:`DOMINANT_SHARE` of the labelled
    frames (all recordings pooled), else None; ``searched`` as :func:`_dominant_remedy`'s.
    With ``applied`` (a fitted model's labels of new recordings) the sentence says what it may
    mean there instead of advising a refit: the fit's own usage is the comparison."""
    every = np.concatenate([np.asarray(z).ravel() for z in labels]) if len(labels) else []
    every = np.asarray(every, dtype=np.int64)
    every = every[every >= 0]
    if every.size == 0:
        return None
    counts = np.bincount(every)
    top = int(np.argmax(counts))
    share = counts[top] / every.size
    if not share > DOMINANT_SHARE:
        return None
    if applied:
        return FitQualityWarning(
            "dominant_syllable",
            f"syllable {top} holds {100 * share:.0f}% of the labelled frames of these "
            "recordings: the fit may have collapsed onto it already (its own warnings and "
            "usage in its report say), these recordings may show one behavior most of the "
            "time, or they differ from the recordings the model was fitted to (scale, frame "
            "rate, body parts, camera)",
        )
    remedy, arguments = _dominant_remedy(kappa, searched)
    return FitQualityWarning(
        "dominant_syllable",
        f"syllable {top} holds {100 * share:.0f}% of the labelled frames: unless the animal did "
        f"one thing most of the time, the fit collapsed onto one state; {remedy}",
        arguments,
    )


#: (e) when the target was MoSeq's mouse default, not given: the animal may be faster
_FASTER_ANIMAL = (
    "; if this animal's movements are faster than a mouse's (a fly's), give a shorter "
    "{target_duration} instead"
)


def _target_missed(message: str, target_given: bool = True):
    """(e): the kappa search's own sentence, as the search wrote it into the results' config;
    its remedy (:data:`ethogram.stickiness.REMEDY`, or the Gibbs methods'
    :data:`~ethogram.stickiness.GIBBS_REMEDY`, in Python's words there) with the arguments it
    names as fields, so that the command says them as its options. Without ``target_given``
    (the default target, MoSeq's mouse syllables) it also names a shorter target."""
    from ..stickiness import REMEDIES

    def kept(text: str) -> str:
        return text.replace("{", "{{").replace("}", "}}")

    text = str(message)
    faster, more = ("", ()) if target_given else (_FASTER_ANIMAL, ("target_duration",))
    for remedy, (template, arguments) in REMEDIES:
        if remedy in text:
            head, _, tail = text.partition(remedy)
            return FitQualityWarning(
                "kappa_target_missed",
                f"kappa search: {kept(head)}{template}{kept(tail)}{faster}",
                tuple(arguments) + more,
            )
    # an older ethogram's words (no known remedy): said as written
    return FitQualityWarning("kappa_target_missed", f"kappa search: {kept(text)}", ())
