"""Sequences too short for the model: left out of a fit, given no labels, named in one warning.

An observation model scores a frame only when it has what it needs: an autoregressive model
of ``num_lags`` lags needs ``num_lags`` earlier frames, so a sequence of ``num_lags`` frames
or fewer (a fragment at the end of a recording, a recording cut short) has no frame to
score: nothing in it tells the states apart. :meth:`ethogram.HMM.fit` leaves such sequences
out with one :class:`ShortSequenceWarning` naming them and fits the rest (a ValueError
naming ``num_lags`` and the lengths when none is long enough); ``predict``, ``posterior``
and ``score`` still return one output per input, and for such a sequence: labels -1, NaN
state probabilities (``expected_states``, ``expected_transitions`` and ``marginal_ll``),
NaN per-frame scores, and nothing added to the total ``score``. The least length is the
observation model's ``min_frames`` (1 for the models without lags).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..inference import HMMPosterior

__all__ = [
    "ShortSequenceWarning",
    "expand",
    "long_enough",
    "no_posterior",
    "require_long",
    "subset",
    "warn_short",
]


class ShortSequenceWarning(UserWarning):
    """Sequences shorter than the model's ``min_frames`` were left out (named in the message)."""


def _needs(observations) -> str:
    lags = getattr(observations, "num_lags", None)
    need = observations.min_frames
    return (
        f"num_lags + 1 = {need} frames (num_lags={lags})" if lags is not None else f"{need} frames"
    )


def long_enough(observations, lengths) -> np.ndarray:
    """Which sequences the model can score a frame of (bool, one per length)."""
    return np.asarray(lengths, dtype=np.int64) >= int(observations.min_frames)


def _listing(lengths, short, names=None) -> str:
    idx = np.flatnonzero(short)
    label = (lambda i: repr(names[i])) if names is not None else (lambda i: f"sequence {i}")
    shown = ", ".join(
        f"{label(i)} ({int(lengths[i])} frame{'s' if int(lengths[i]) != 1 else ''})"
        for i in idx[:10]
    )
    return shown + (f" and {idx.size - 10} more" if idx.size > 10 else "")


def warn_short(
    observations, lengths, short, consequence: str, names=None, stacklevel: int = 3
) -> None:
    """One :class:`ShortSequenceWarning` naming the short sequences and what happens to them.

    Parameters
    ----------
    observations : ObservationModel
    lengths : sequence of int
        Frames of every sequence.
    short : ndarray of bool
        Which are too short (nothing is said when none is).
    consequence : str
        What happens to them, e.g. ``"left out of the fit"``.
    names : sequence of str, optional
        Names to call them by (default: ``sequence i``, the index in the input).
    stacklevel : int
    """
    if not np.any(short):
        return
    n = int(np.count_nonzero(short))
    what = "is" if n == 1 else "are"
    warnings.warn(
        f"{_listing(lengths, short, names)} {what} shorter than the {_needs(observations)} the "
        f"model needs to score a frame: {consequence}",
        ShortSequenceWarning,
        stacklevel=stacklevel,
    )


def require_long(observations, lengths, names=None) -> np.ndarray:
    """The mask of sequences long enough to fit on, raising when there is none.

    Raises
    ------
    ValueError
        Naming ``num_lags`` (or the least length) and every length, when no sequence is long
        enough.
    """
    keep = long_enough(observations, lengths)
    if not keep.any():
        lags = getattr(observations, "num_lags", None)
        fix = "fit with fewer lags (num_lags) or " if lags is not None else ""
        raise ValueError(
            f"no sequence is long enough to fit: the model needs {_needs(observations)} per "
            f"sequence and got {_listing(lengths, ~keep, names)}; {fix}give longer recordings"
        )
    return keep


def no_posterior(num_timesteps: int, num_states: int) -> HMMPosterior:
    """The posterior returned for a sequence too short to score: NaN everywhere."""
    return HMMPosterior(
        np.full((int(num_timesteps), int(num_states)), np.nan),
        float("nan"),
        np.full((int(num_states),) * 2, np.nan),
    )


def subset(items: list, keep) -> list:
    """The items whose ``keep`` entry is True, in order."""
    return [x for x, k in zip(items, keep) if k]


def expand(outputs: list, keep, fill) -> list:
    """One output per input: ``outputs`` (of the kept inputs, in order) at the kept places
    and ``fill(i)`` at the others."""
    it = iter(outputs)
    return [next(it) if k else fill(i) for i, k in enumerate(keep)]
