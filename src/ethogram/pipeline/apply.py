"""Labels for new recordings from a saved fit, without refitting: :func:`apply_model`.

This room takes a fit (a :class:`ethogram.results.Results` or its file), gives recordings
without a frame rate the model's, warns about recordings at another rate, applies the fit's
preparation and model unchanged (a Gibbs model through :mod:`ethogram.pipeline_gibbs`) and
returns new results whose ``config`` says where the model came from; on the training
recordings it reproduces the fit's labels.
"""

from __future__ import annotations

from pathlib import Path

from ..io.rates import (
    fill_model_rate,
    warn_other_frame_rate,
)
from ..results import (
    Results,
    library_versions,
    load_results,
    model_frame_rate,
    now_iso,
)
from .labels import check_recordings, label_recordings, recording_results, recordings_long_enough


def apply_model(
    results_or_path,
    recordings,
    expected_states: bool = False,
    keep_keypoints: bool = True,
    num_threads: int | None = None,
) -> Results:
    """Label new recordings with a fitted model and its preparation, without refitting.

    Parameters
    ----------
    results_or_path : Results or str or Path
        The fit (in memory, or a results file written by :func:`ethogram.results.write_results`).
    recordings : Recording or list of Recording
    expected_states : bool, default False
        Also keep the posterior state probabilities.
    keep_keypoints : bool, default True
    num_threads : int, optional

    Returns
    -------
    Results
        The same model and preparation; ``config["command"] == "apply"`` and
        ``config["model_file"]`` names the file when one was given. Applied to the training
        recordings it reproduces the fit's labels. A recording without a frame rate (no fps,
        no timestamps) is labelled at the model's rate (the rate of its training recordings),
        said in one :class:`ethogram.io.rates.FrameRateWarning`.

    Warns
    -----
    ethogram.io.rates.FrameRateWarning
        When recordings run at another frame rate than the model's training recordings (more
        than 1% apart): the model's stickiness and dynamics are per frame; and when a
        recording takes the model's rate.

    Raises
    ------
    ValueError
        When the recordings do not match the preparation (e.g. other body parts), or lack a
        frame rate and the model knows none either.

    Warns
    -----
    FitQualityWarning
        As :func:`fit_recordings`, for these labels: syllables too short or flickering (the
        advice is then for a refit). EM's convergence was the fit's to warn about.
    FrameRateWarning
        Recordings at another frame rate than the model's, or a model's rate taken for
        recordings without one.
    """
    if isinstance(results_or_path, (str, Path)):
        fitted = load_results(results_or_path, recordings=False)
        model_file = str(results_or_path)
    elif isinstance(results_or_path, Results):
        fitted, model_file = results_or_path, results_or_path.path
    else:
        raise TypeError(
            f"results_or_path must be Results or a path, got {type(results_or_path).__name__}"
        )
    trained_at = model_frame_rate(fitted)
    recordings = fill_model_rate(recordings, trained_at, model_file or "the model")
    recordings = check_recordings(recordings)
    warn_other_frame_rate(recordings, trained_at, model_file or "the model")
    if fitted.config.get("method", "em") != "em":  # a Gibbs model: ethogram.pipeline_gibbs
        from ..analysis.diagnostics import warn_fit_quality
        from ..pipeline_gibbs import applied_results

        results = applied_results(
            fitted,
            recordings,
            model_file,
            expected_states,
            keep_keypoints=keep_keypoints,
            num_threads=num_threads,
        )
        warn_fit_quality(results, stacklevel=2)  # on these labels, as for EM
        return results
    prepared = fitted.preparation.transform(recordings)
    keep = recordings_long_enough(
        fitted.model, prepared, recordings, "its frames get the syllable -1"
    )
    labels, posts = label_recordings(fitted.model, prepared, expected_states, num_threads, keep)
    config = dict(fitted.config)
    config.update(
        command="apply",
        model_file=model_file,
        fitted_on=fitted.config.get("recordings"),
        recordings=[{"name": r.name, "source": r.source, "format": r.format} for r in recordings],
        expected_states=bool(expected_states),
    )
    results = Results(
        model=fitted.model,
        preparation=fitted.preparation,
        recordings=recording_results(recordings, prepared, labels, posts, keep_keypoints),
        config=config,
        fit=dict(fitted.fit),
        versions=library_versions(),
        created=now_iso(),
    )
    from ..analysis.diagnostics import warn_fit_quality

    warn_fit_quality(results, stacklevel=2)  # on these labels (the training fit warned about EM)
    return results
