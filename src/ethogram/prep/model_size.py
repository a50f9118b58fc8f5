"""Whether the prepared inputs can support the model: refuse, before any fitting, a syllable model
with more parameters than there are frames to learn them from.

An autoregressive syllable on D inputs with L lags has D (D L + 1) weights and D (D + 1) / 2
noise covariances. A feature table of 550 columns gives more than a million parameters per
syllable; on a few hundred frames EM would run for minutes and return noise. The check runs
between the preparation (which fixes D) and the fit, and says which setting lowers D (the
preparation's ``num_pcs``, or ``variance`` for keypoints) and how far.
"""

from __future__ import annotations

__all__ = ["parameters_per_syllable", "check_model_size"]


def parameters_per_syllable(data_dim: int, num_lags: int) -> int:
    """Free parameters of one syllable: AR weights and bias, D (D L + 1), plus the noise
    covariance, D (D + 1) / 2 (``num_lags=0``: a Gaussian syllable, mean and covariance)."""
    D, L = int(data_dim), int(num_lags)
    return D * (D * L + 1) + D * (D + 1) // 2


def _largest_dim(num_lags: int, frames_per_syllable: float) -> int:
    D = 0
    while parameters_per_syllable(D + 1, num_lags) <= frames_per_syllable:
        D += 1
    return D


def check_model_size(
    data_dim: int, num_lags: int, num_states: int, usable_frames: int, kind=None
) -> None:
    """Refuse a model whose syllables have more parameters than the recordings have frames.

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

    Raises
    ------
    ValueError
        When ``parameters_per_syllable(data_dim, num_lags) > usable_frames``: even one syllable
        using every frame could not be determined. The message gives the largest number of
        inputs at which each of the K syllables has at least as many frames as parameters, in
        the library's words (``Preparation(num_pcs=N)``, ``num_states=K``) that the command
        line shows as ``--pcs N`` and ``--states K``.
    """
    per = parameters_per_syllable(data_dim, num_lags)
    if per <= usable_frames:
        return
    best = _largest_dim(num_lags, usable_frames / max(int(num_states), 1))
    inputs = "principal components" if kind == "keypoints" else "input columns"
    if best >= 1:
        advice = (
            f"keep at most {best} input(s) with Preparation(num_pcs={best}) (then each of the "
            f"{num_states} syllables has as many frames as parameters)"
        )
        if kind == "keypoints":
            advice += " or a lower Preparation(variance=F)"
        else:
            advice += (" (of a feature table that keeps its first columns: better reduce the "
                       "table first, e.g. by PCA)")
    else:
        advice = (f"even 1 input leaves the {num_states} syllables fewer frames than parameters: "
                  "use Preparation(num_pcs=1)")
    raise ValueError(
        f"the model would have {per:,} parameters per syllable ({data_dim} {inputs} x {num_lags} "
        f"lags) but the recordings hold only {usable_frames:,} usable frames, so no syllable "
        f"could be learned; {advice}; fewer syllables (num_states=K) or more frames also help"
    )
