"""Whether the prepared inputs can support the model: refuse, before any fitting, a syllable model
with more parameters than there are frames to learn them from.

An autoregressive syllable on D inputs with L lags has D (D L + 1) weights and D (D + 1) / 2
noise covariances. A feature table of 550 columns gives more than a million parameters per
syllable; on a few hundred frames EM would run for minutes and return noise. The check runs
between the preparation (which fixes D) and the fit, and says which setting lowers D (the
preparation's ``num_pcs``, or ``variance`` for keypoints) and how far.
"""

from __future__ import annotations

__all__ = ["parameters_per_syllable", "check_model_size", "fit_memory_bytes", "available_memory"]

#: arrays of K x K floats a fit holds at once (transition matrix, its logarithm, expected
#: transitions summed and per thread), and of T x K floats (log-likelihoods, forward and
#: backward messages, state probabilities): measured, the peak memory of ``ethogram fit`` on
#: 2,330 frames grew by 330 MB from K = 200 to K = 2,000, about 5 K^2 + 4 T K float64 values
_KK_ARRAYS, _TK_ARRAYS = 5, 4


def parameters_per_syllable(data_dim: int, num_lags: int) -> int:
    """Free parameters of one syllable: AR weights and bias, D (D L + 1), plus the noise
    covariance, D (D + 1) / 2 (``num_lags=0``: a Gaussian syllable, mean and covariance)."""
    D, L = int(data_dim), int(num_lags)
    return D * (D * L + 1) + D * (D + 1) // 2


def fit_memory_bytes(data_dim: int, num_lags: int, num_states: int, num_frames: int) -> float:
    """Bytes a fit of K syllables on ``num_frames`` frames needs at least (float64): K x K
    arrays, T x K arrays and K sets of syllable parameters."""
    K, T = float(num_states), float(num_frames)
    return 8.0 * (
        _KK_ARRAYS * K * K
        + _TK_ARRAYS * T * K
        + 3 * K * parameters_per_syllable(data_dim, num_lags)
    )


def available_memory() -> float | None:
    """Bytes of memory available to a new allocation (psutil when installed, else
    ``/proc/meminfo``'s MemAvailable, else the free physical pages), None when unknown."""
    try:
        import psutil

        return float(psutil.virtual_memory().available)
    except Exception:  # psutil missing or failing: ask the system
        pass
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def _gb(n: float) -> str:
    return f"{n / 1e9:.3g} GB"


def _check_memory(data_dim, num_lags, num_states, usable_frames, memory) -> None:
    need = fit_memory_bytes(data_dim, num_lags, num_states, usable_frames)
    if memory is None or need <= memory:
        return
    K = int(num_states)
    lo, hi = 1, K  # the largest K that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fit_memory_bytes(data_dim, num_lags, mid, usable_frames) <= memory:
            lo = mid
        else:
            hi = mid - 1
    from ..errors import ArgumentError

    raise ArgumentError(
        f"{K:,} syllables need about {_gb(need)} of memory for the fit ({K:,} x {K:,} transition "
        f"matrices and {usable_frames:,} frames x {K:,} state probabilities), more than the "
        f"{_gb(memory)} available; lower {{num_states:K}} (at most {lo:,} fit in this memory; a "
        "few dozen is usual)",
        "num_states",
    )


def _largest_dim(num_lags: int, frames_per_syllable: float) -> int:
    D = 0
    while parameters_per_syllable(D + 1, num_lags) <= frames_per_syllable:
        D += 1
    return D


def check_states_have_frames(num_states: int, usable_frames: int) -> None:
    """Refuse more syllables than usable frames (every fitting method, EM and Gibbs).

    Raises
    ------
    ethogram.errors.ArgumentError
        When ``num_states > usable_frames``, naming ``num_states`` as data.
    """
    from ..errors import ArgumentError

    if int(num_states) > int(usable_frames):
        raise ArgumentError(
            f"{int(num_states):,} syllables but only {int(usable_frames):,} usable frames: "
            "each syllable needs frames to be learned from; lower {num_states:K} (a "
            "few dozen is usual)",
            "num_states",
        )


def _check_values(data_dim: int, num_states: int, per: int, usable_frames: int) -> None:
    """Refuse K syllables whose parameters together outnumber the values of the recordings
    (usable frames x D): no fit can determine them, and EM's time grows as K^2 per frame (2,000
    syllables on 2,228 frames of the shipped mouse ran for more than ten minutes, silently)."""
    from ..errors import ArgumentError

    K, values = int(num_states), int(usable_frames) * int(data_dim)
    if K * per <= values:
        return
    most = max(values // per, 1)
    raise ArgumentError(
        f"{K:,} syllables of {per:,} parameters each are {K * per:,} parameters, more than the "
        f"{values:,} values of the recordings ({int(usable_frames):,} usable frames x "
        f"{int(data_dim)} inputs), so they cannot be learned; lower {{num_states:K}} (at most "
        f"{most:,} for these recordings; MoSeq's usual few dozen need more frames) or give more "
        "recordings",
        "num_states",
    )


def check_model_size(
    data_dim: int, num_lags: int, num_states: int, usable_frames: int, kind=None, memory="available"
) -> None:
    """Refuse a model whose syllables have more parameters than the recordings have frames, more
    syllables than frames, or that would not fit in memory.

    Parameters
    ----------
    data_dim : int
        D, inputs per frame after the preparation.
    num_lags : int
        L (0 for a Gaussian model).
    num_states : int
        K, the number of syllables.
    usable_frames : int
        Frames the preparation kept, over all recordings.
    kind : {"keypoints", "features"}, optional
        What the preparation was fitted on; for keypoints the message also names ``variance``.
    memory : float, None or "available"
        Bytes the fit may use: :func:`available_memory` by default; None skips the check.

    Raises
    ------
    ValueError
        When ``num_states > usable_frames`` (a syllable without frames cannot be learned, and
        k-means cannot start it), or when :func:`fit_memory_bytes` exceeds ``memory``: the
        message says how much is needed and available, and the largest K that fits (in the
        arguments' Python names, ``num_states=K``, as data: :class:`ethogram.errors.ArgumentError`),
        before anything large is allocated.
    ValueError
        When the K syllables' parameters together outnumber the recordings' values
        (``usable_frames * data_dim``), naming ``num_states`` (and the largest K that does not).
    ValueError
        When ``parameters_per_syllable(data_dim, num_lags) > usable_frames``: even one syllable
        using every frame could not be determined. The message gives the largest number of
        inputs at which each of the K syllables has at least as many frames as parameters
        (``num_pcs=N`` of the preparation, ``num_states=K``, as data).
    """
    from ..errors import ArgumentError

    per = parameters_per_syllable(data_dim, num_lags)
    check_states_have_frames(num_states, usable_frames)
    _check_memory(
        data_dim,
        num_lags,
        num_states,
        usable_frames,
        available_memory() if memory == "available" else memory,
    )
    if per <= usable_frames:
        _check_values(data_dim, num_states, per, usable_frames)
        return
    best = _largest_dim(num_lags, usable_frames / max(int(num_states), 1))
    inputs = "principal components" if kind == "keypoints" else "input columns"
    arguments = ["num_pcs", "num_states"]
    if best >= 1:
        advice = (
            f"keep at most {best} input(s) with {{num_pcs:{best}}} (then each of the "
            f"{num_states} syllables has as many frames as parameters)"
        )
        if kind == "keypoints":
            advice += " or a lower {variance:F}"
            arguments.append("variance")
        else:
            advice += (
                " (of a feature table that keeps its first columns: better reduce the "
                "table first, e.g. by PCA)"
            )
    else:
        advice = (
            f"even 1 input leaves the {num_states} syllables fewer frames than parameters: "
            "use {num_pcs:1}"
        )
    raise ArgumentError(
        f"the model would have {per:,} parameters per syllable ({data_dim} {inputs} x {num_lags} "
        f"lags) but the recordings hold only {usable_frames:,} usable frames, so no syllable "
        f"could be learned; {advice}; fewer syllables ({{num_states:K}}) or more frames also help",
        arguments,
    )
