"""What a fit's data leaves it short of, in one line each: too few usable frames for the
syllables' parameters, and recordings where fewer than half the frames could be used (unsure or
missing points, NaN inputs). Read from a results file alone, so that the command line's summary
and the report say the same sentences, each advising the arguments to change as data
(:class:`~ethogram.analysis.diagnostics.FitQualityWarning`, kinds ``"few_frames"`` and
``"sparse_recordings"``).
"""

from __future__ import annotations

from ._fit_advice import FitQualityWarning

#: a fit with fewer usable frames than this many per parameter of its syllables gets the note
FRAMES_PER_PARAMETER = 2
#: recordings with fewer than this share of their frames usable are named (at most ``LISTED``)
SPARSE_SHARE = 0.5
LISTED = 5


def data_notes(results) -> list:
    """The notes on a fit's data (see the module's docstring), in the order shown.

    ``"few_frames"`` only for the results of a fit (``config["command"] == "fit"``: an applied
    model's frames did not fit it) that record ``fit["parameters_per_state"]``;
    ``"sparse_recordings"`` names the recordings with fewer than half their frames labelled,
    leaving out those shorter than the model's least length (warned about already); after a
    keypoint-SLDS fit (every point kept, only long stretches with no body part seen are left
    without a syllable) it gives no advice on the confidence threshold or the body parts.

    Parameters
    ----------
    results : ethogram.results.Results

    Returns
    -------
    list of FitQualityWarning
    """
    cfg, fit = dict(results.config or {}), dict(results.fit or {})
    out = []
    per_state = fit.get("parameters_per_state")
    usable = fit.get("usable_frames")
    K = int(results.num_states)
    if (
        cfg.get("command") == "fit"
        and per_state
        and usable is not None
        and usable < FRAMES_PER_PARAMETER * per_state * K
    ):
        out.append(
            FitQualityWarning(
                "few_frames",
                f"{int(usable)} usable frames for {K} syllables of {int(per_state)} parameters "
                f"each (fewer than {FRAMES_PER_PARAMETER} frames per parameter): syllables may "
                "be fragmented; consider fewer {num_states} or more data",
                ("num_states",),
            )
        )
    least = getattr(getattr(results.model, "observations", None), "min_frames", 1)
    sparse = [
        (r.name, int((r.syllables >= 0).sum()), r.num_frames)
        for r in results.recordings
        if (r.syllables >= 0).sum() < SPARSE_SHARE * r.num_frames and r.num_frames >= least
    ]
    if sparse:
        listed = ", ".join(f"{name} ({n} of {T})" for name, n, T in sparse[:LISTED])
        more = " ..." if len(sparse) > LISTED else ""
        if cfg.get("method") == "keypoint-slds":  # every point is kept: none was seen there
            out.append(
                FitQualityWarning(
                    "sparse_recordings",
                    f"{len(sparse)} recording(s) have a syllable in fewer than half their "
                    "frames (the others are in stretches with no body part seen, longer than "
                    f"the target syllable duration: the tracker lost the animal): {listed}"
                    f"{more}; see 'ethogram info' on the input",
                )
            )
            return out
        out.append(
            FitQualityWarning(
                "sparse_recordings",
                f"{len(sparse)} recording(s) have fewer than half their frames usable (low "
                f"confidence, missing body parts): {listed}{more}; see 'ethogram info' on the "
                "input, then keep fewer {bodyparts} (those most often missing), or lower "
                "{confidence_threshold} if the tracker's scores are what removes their points "
                "(not when the tracker placed none)",
                ("confidence_threshold", "bodyparts"),
            )
        )
    return out
