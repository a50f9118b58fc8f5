"""The pipeline's labelling: recordings checked, model inputs chosen, frames labelled, results kept.

This room holds what :func:`ethogram.pipeline.fit_recordings` and
:func:`ethogram.pipeline.apply_model` share: the check of the recordings (unique names, a frame
rate), the recordings long enough for the model (one warning names the others, whose frames get
the syllable -1), Viterbi labels and posteriors computed a few recordings at a time, the
renumbering of a fitted model's states by frequency, and one
:class:`ethogram.results.RecordingResult` per recording.
"""

from __future__ import annotations

import numpy as np

from ..io.rates import (
    require_frame_rate,
)
from ..results import (
    RecordingResult,
)


def check_recordings(recordings) -> list:
    """``recordings`` as a list of Recording objects with unique names and a frame rate each."""
    from ..io import Recording

    if isinstance(recordings, Recording):
        recordings = [recordings]
    recordings = list(recordings)
    if not recordings:
        raise ValueError("recordings is empty: give at least one recording")
    for r in recordings:
        if not isinstance(r, Recording):
            raise TypeError(
                f"recordings must be ethogram.io.Recording objects, got {type(r).__name__}"
            )
    names = [r.name for r in recordings]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"recording names must be unique; repeated: {dup}")
    require_frame_rate(recordings)
    return recordings


def recording_results(recordings, prepared, labels, posts, keep_keypoints: bool) -> list:
    out = []
    for i, (rec, p, z) in enumerate(zip(recordings, prepared, labels)):
        keypoints = rec.data if (keep_keypoints and rec.kind == "keypoints") else None
        centroid = p.centroid if p.centroid is not None else rec.centroid
        heading = p.heading if p.heading is not None else rec.heading
        out.append(
            RecordingResult(
                name=rec.name,
                syllables=z,
                mask=p.mask,
                inputs=p.inputs,
                fps=rec.fps if rec.fps is not None else p.fps,
                centroid=centroid,
                heading=heading,
                timestamps=rec.timestamps,
                expected_states=None
                if posts is None
                else posts[i].expected_states.astype(np.float32),
                keypoints=keypoints,
                bodyparts=rec.bodyparts if rec.kind == "keypoints" else None,
                source=rec.source,
                format=rec.format,
                video_path=rec.video_path,
                px_per_mm=rec.px_per_mm,
            )
        )
    return out


def recordings_long_enough(model, prepared, recordings, consequence: str) -> np.ndarray:
    """Which prepared recordings the model can score a frame of; one warning names the others."""
    from ..models.short_sequences import long_enough, warn_short

    lengths = [p.inputs.shape[0] for p in prepared]
    keep = long_enough(model.observations, lengths)
    names = [r.name for r in recordings]
    warn_short(model.observations, lengths, ~keep, consequence, names=names, stacklevel=4)
    return keep


def label_recordings(model, prepared, expected_states: bool, num_threads=None, keep=None):
    """Syllables (-1 where a frame is masked, and in every frame of a recording not in
    ``keep``: too short to score) and, optionally, posteriors (NaN for those recordings)."""
    from ..models.short_sequences import expand, no_posterior, subset

    keep = np.ones(len(prepared), dtype=bool) if keep is None else keep
    kept = subset(prepared, keep)
    sequences = [p.inputs for p in kept]
    masks = [np.asarray(p.mask, dtype=bool) for p in kept]
    labels, posts = label_arrays(model, sequences, masks, expected_states, num_threads)
    frames = [p.inputs.shape[0] for p in prepared]
    labels = expand(labels, keep, lambda i: np.full(frames[i], -1, dtype=np.int64))
    if posts is not None:
        posts = expand(posts, keep, lambda i: no_posterior(frames[i], model.num_states))
    return labels, posts


def label_arrays(model, sequences, masks, expected_states: bool, num_threads=None):
    """Viterbi labels (-1 at masked frames) and, when asked, posteriors of model inputs."""
    labels = []
    for i in range(0, len(sequences), 8):  # 8 at a time: their log-likelihoods, not all, in memory
        labels += model.predict(
            sequences[i : i + 8], mask=masks[i : i + 8], num_threads=num_threads
        )
    labels = [np.where(m, np.asarray(z, dtype=np.int64), -1) for z, m in zip(labels, masks)]
    posts = None
    if expected_states:
        posts = model.posterior(sequences, mask=masks, num_threads=num_threads) if sequences else []
    return labels, posts


def long_inputs(prepared, recordings, num_lags: int):
    """The model inputs of the recordings an AR model of ``num_lags`` lags can score (one
    warning names the others): ``(keep, sequences, masks)``."""
    from ..models import HMM
    from ..models.short_sequences import require_long, subset, warn_short

    names = [r.name for r in recordings]
    lengths = [p.inputs.shape[0] for p in prepared]
    # an AR model of these lags says which recordings are long enough, and words the warning
    probe = HMM(1, "autoregressive", dict(data_dim=prepared[0].inputs.shape[1], num_lags=num_lags))
    keep = require_long(probe.observations, lengths, names)
    warn_short(
        probe.observations,
        lengths,
        ~keep,
        "left out of the fit (its frames get the syllable -1)",
        names=names,
        stacklevel=4,
    )
    sequences = [p.inputs for p in subset(prepared, keep)]
    masks = [np.asarray(p.mask, dtype=bool) for p in subset(prepared, keep)]
    return keep, sequences, masks


def usable_frames(masks, num_lags: int) -> int:
    usable = int(sum(m.sum() for m in masks))
    if usable <= num_lags:
        raise ValueError(
            f"only {usable} usable frames in the recordings after preparation; check the "
            "confidence threshold and body parts"
        )
    return usable


def label_by_frequency(model, recordings, prepared, expected_states, num_threads, keep):
    """Label, renumber the model's states by frequency, label again with the renumbered model
    (exactly what :func:`apply_model` computes): ``(labels, posteriors, order)``."""
    from ..analysis import relabel_by_frequency

    labels, _ = label_recordings(model, prepared, False, num_threads, keep)
    order = relabel_by_frequency({r.name: z for r, z in zip(recordings, labels)}, model.num_states)
    model.permute(order)
    labels, posts = label_recordings(model, prepared, expected_states, num_threads, keep)
    return labels, posts, order
