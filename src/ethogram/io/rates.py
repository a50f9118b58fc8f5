"""Frame rates: one rule for telling a recording's rate, and the checks that keep rates apart.

Every place that needs a recording's frames per second calls :func:`frame_rate` (the ``fps``
a reader set, else the rate of its timestamps by :func:`fps_from_timestamps`); a fit takes the
one rate of its recordings from :func:`common_frame_rate`, which refuses recordings at
different rates (a syllable model's stickiness and dynamics are per frame: 30 and 120 fps
recordings in one model would share syllables of four times different durations). A saved
model labelling recordings at another rate warns with a :class:`FrameRateWarning`
(:func:`warn_other_frame_rate`); a recording without a rate can take the rate of the video it
was tracked on (:func:`video_frame_rate`, read from the container's metadata with OpenCV, or
imageio-ffmpeg when OpenCV cannot open it).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ArgumentError, ArgumentWarning

__all__ = [
    "FrameRateWarning",
    "RATE_TOLERANCE",
    "fps_from_timestamps",
    "frame_rate",
    "recording_rate",
    "require_frame_rate",
    "common_frame_rate",
    "warn_other_frame_rate",
    "fill_model_rate",
    "video_frame_rate",
    "rate_from_video",
    "video_rate_against",
    "file_rate_against",
]

#: relative difference of two frame rates above which they are different rates (1%: 29.97 and
#: 30 fps are one rate, 25 and 30 are not)
RATE_TOLERANCE = 0.01


class FrameRateWarning(ArgumentWarning):
    """Recordings labelled at another frame rate than the model's, or a rate taken from
    elsewhere than the recording's file (the model's, or the video's)."""


def fps_from_timestamps(timestamps) -> float | None:
    """Frame rate (Hz) from timestamps in seconds: 1 / the mean regular frame interval.

    Regular intervals are those within a factor 1.5 of the median interval, so dropped frames
    (gaps of several intervals) and pauses do not bias the rate, while clock jitter averages
    out (the median alone would follow the jitter's rounding, e.g. 33 ms of a 33.3 ms camera).

    Parameters
    ----------
    timestamps : array_like, shape (T,)
        Seconds.

    Returns
    -------
    float or None
        None when fewer than two finite, increasing timestamps exist.
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    d = np.diff(ts[np.isfinite(ts)])
    d = d[d > 0]
    if d.size == 0:
        return None
    med = float(np.median(d))
    regular = d[(d > med / 1.5) & (d < med * 1.5)]
    return float(1.0 / regular.mean())


def frame_rate(fps, timestamps) -> float | None:
    """Frames per second: ``fps`` when it is a positive number, else :func:`fps_from_timestamps`
    of ``timestamps`` (seconds), else None. The one rule of the package.

    Parameters
    ----------
    fps : float or None
    timestamps : array_like, shape (T,), or None

    Returns
    -------
    float or None
    """
    if fps is not None and np.isfinite(fps) and fps > 0:
        return float(fps)
    if timestamps is None:
        return None
    return fps_from_timestamps(timestamps)


def recording_rate(recording) -> float | None:
    """:func:`frame_rate` of a :class:`~ethogram.io.Recording` (or anything with ``fps`` and
    ``timestamps``)."""
    return frame_rate(recording.fps, getattr(recording, "timestamps", None))


def _why_no_rate(rec) -> str:
    a = rec.attrs or {}
    why = (
        "its file's timestamps are frame numbers 0, 1, 2, ..., not seconds"
        if a.get("timestamps_were_frame_numbers")
        else "its file holds no timestamps"
    )
    vfps, vframes = a.get("video_fps"), a.get("video_frames")
    if vfps:
        why += (
            f"; its video {a.get('video_name', rec.video_path)} runs at {vfps:g} fps but has "
            f"{vframes} frames against the recording's {rec.num_frames}"
        )
    return why


def require_frame_rate(recordings) -> None:
    """ValueError naming the first recording without a frame rate (neither fps nor timestamps),
    why its file gave none, and the video's rate when a video of another length was found."""
    for rec in recordings:
        if recording_rate(rec) is None:
            vfps = (rec.attrs or {}).get("video_fps")
            advice = (
                f"give {{fps:{vfps:g}}} if that video is the tracked one" if vfps else "give {fps}"
            )
            raise ArgumentError(
                f"recording {rec.name!r} has no frame rate ({_why_no_rate(rec)}); {advice}", "fps"
            )


def _rate_groups(named_rates) -> list:
    """``[(label, [names])]``: rates within :data:`RATE_TOLERANCE` of a group's lowest joined,
    names in their input order, labelled by the rate (or the range of rates) of the group."""
    order = sorted(range(len(named_rates)), key=lambda i: named_rates[i][1])
    groups = []
    for i in order:
        rate = named_rates[i][1]
        if groups and rate <= groups[-1][0][0] * (1 + RATE_TOLERANCE):
            groups[-1][0].append(rate)
            groups[-1][1].append(i)
        else:
            groups.append(([rate], [i]))
    out = []
    for rates, idx in groups:
        lo, hi = min(rates), max(rates)
        label = f"{lo:g}" if round(lo, 3) == round(hi, 3) else f"{lo:g}-{hi:g}"
        out.append((label, [named_rates[i][0] for i in sorted(idx)]))
    return out


def _names(names, limit: int = 3) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def common_frame_rate(recordings) -> float:
    """The one frame rate of recordings fitted together (the median of their rates).

    Parameters
    ----------
    recordings : list of Recording

    Returns
    -------
    float
        Frames per second.

    Raises
    ------
    ValueError
        When a recording has no rate (:func:`require_frame_rate`), or when the rates differ by
        more than :data:`RATE_TOLERANCE`: the message names the recordings at each rate and what
        to do (fit each rate separately, or resample to one rate before fitting). Recordings are
        not resampled here: a syllable model's dynamics are per frame, and resampling keypoints
        changes their noise, so the choice is left to the user.
    """
    recordings = list(recordings)
    require_frame_rate(recordings)
    named = [(r.name, recording_rate(r)) for r in recordings]
    groups = _rate_groups(named)
    if len(groups) > 1:
        parts = "; ".join(f"{_names(names)} at {label} fps" for label, names in groups)
        raise ArgumentError(
            f"the recordings run at {len(groups)} frame rates ({parts}): one model cannot fit "
            "them together, since a syllable's stickiness and dynamics are per frame; fit each "
            "frame rate separately, or resample the recordings to one rate first (e.g. keep every "
            "4th frame of 120 fps recordings to join 30 fps ones), and check {fps} if a "
            "rate is wrong",
            "fps",
        )
    return float(np.median([rate for _, rate in named]))


def warn_other_frame_rate(recordings, trained_at, model_name) -> None:
    """One :class:`FrameRateWarning` when recordings run at another frame rate than the model's
    training recordings (relative difference above :data:`RATE_TOLERANCE`).

    Parameters
    ----------
    recordings : list of Recording
    trained_at : float or None
        The model's frame rate (nothing is checked when None).
    model_name : str
        How the warning names the model (its file).
    """
    if not trained_at:
        return
    other = [
        (r.name, rate)
        for r in recordings
        if (rate := recording_rate(r)) is not None
        and abs(rate - trained_at) > RATE_TOLERANCE * trained_at
    ]
    if not other:
        return
    rates = " / ".join(f"{v:g}" for v in sorted({round(rate, 3) for _, rate in other}))
    which = (
        f"recording {other[0][0]!r} is"
        if len(other) == 1
        else f"{len(other)} recordings ({_names([n for n, _ in other])}) are"
    )
    warnings.warn(
        FrameRateWarning(
            f"{which} at {rates} fps, but the model ({model_name}) was fitted on recordings at "
            f"{trained_at:g} fps: its syllables' stickiness and dynamics are per frame, so their "
            "durations mean something else here; resample the recordings to the model's frame "
            "rate, "
            "check {fps}, or fit a model at this frame rate",
            "fps",
        ),
        stacklevel=3,
    )


def fill_model_rate(recordings, trained_at, model_name) -> list:
    """Recordings without a frame rate take the model's (copies; the others are returned as
    they are), said in one :class:`FrameRateWarning` line naming them.

    Parameters
    ----------
    recordings : Recording or list of Recording
    trained_at : float or None
        The model's frame rate; None leaves every recording as it is.
    model_name : str
        How the warning names the model (its file).

    Returns
    -------
    list of Recording
    """
    import copy

    from .recording import Recording

    recs = [recordings] if isinstance(recordings, Recording) else list(recordings)
    if not trained_at:
        return recs
    out, filled = [], []
    for r in recs:
        if isinstance(r, Recording) and recording_rate(r) is None:
            r = copy.copy(r)
            r.attrs = {**(r.attrs or {}), "fps_from": "model"}
            r.fps = float(trained_at)
            filled.append(r.name)
        out.append(r)
    if filled:
        which = (
            f"recording {filled[0]!r} has"
            if len(filled) == 1
            else f"{len(filled)} recordings ({_names(filled)}) have"
        )
        warnings.warn(
            FrameRateWarning(
                f"{which} no frame rate; labelled at the model's {trained_at:g} fps "
                f"({model_name}); give {{fps}} if the recording runs at another rate",
                "fps",
            ),
            stacklevel=3,
        )
    return out


def video_frame_rate(path) -> tuple[float, int] | None:
    """Frame rate and frame count of a video file, from its container's metadata.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    (fps, num_frames) or None
        None when neither OpenCV nor imageio-ffmpeg can read a positive rate (not a video, a
        broken file). ``fps`` is rounded to 3 decimals (containers store 30 fps as 30.0003);
        ``num_frames`` is the container's count (-1 when it states none).

    Notes
    -----
    OpenCV's ``CAP_PROP_FPS`` and ``CAP_PROP_FRAME_COUNT`` read the header, not the frames;
    imageio-ffmpeg's ``read_frames`` metadata (``fps``, ``duration``) is the fallback.
    """
    try:
        import cv2

        cap = cv2.VideoCapture(str(path))
        try:
            if cap.isOpened():
                fps, n = float(cap.get(cv2.CAP_PROP_FPS)), int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
                if np.isfinite(fps) and fps > 0:
                    return round(fps, 3), (n if n > 0 else -1)
        finally:
            cap.release()
    except Exception:  # OpenCV missing or refusing: try ffmpeg
        pass
    try:
        import imageio_ffmpeg

        gen = imageio_ffmpeg.read_frames(str(path))
        try:
            meta = next(gen)
        finally:
            gen.close()
        fps = float(meta.get("fps") or 0)
        if np.isfinite(fps) and fps > 0:
            dur = meta.get("duration")
            return round(fps, 3), (int(round(float(dur) * fps)) if dur else -1)
    except Exception:  # not a video ffmpeg can read
        pass
    return None


def rate_from_video(recording, note=None) -> bool:
    """Give a recording without a frame rate the rate of its video, when the video has as many
    frames as the recording (then it is the tracked video, frame for frame).

    Parameters
    ----------
    recording : Recording
        Changed in place: ``fps`` set (and ``attrs["fps_from"] = "video"``) when the video's
        frame count matches; otherwise the video's rate and count are kept in
        ``attrs["video_fps"]`` and ``attrs["video_frames"]`` so that the error asking for fps
        can name them.
    note : callable, optional
        ``note(text)`` called with one line saying where the rate came from.

    Returns
    -------
    bool
        Whether the rate was set.
    """
    rec = recording
    if recording_rate(rec) is not None or not rec.video_path:
        return False
    found = video_frame_rate(rec.video_path)
    if found is None:
        return False
    fps, n = found
    from pathlib import Path

    name = Path(rec.video_path).name
    if n != rec.num_frames:
        rec.attrs.update(video_fps=fps, video_frames=n, video_name=name)
        return False
    rec.fps = float(fps)
    rec.attrs["fps_from"] = "video"
    if note is not None:
        note(
            f"no frame rate in the file; {fps:g} fps taken from its video {name} "
            f"(the same {n} frames)"
        )
    return True


def video_rate_against(video_path, num_frames, fps) -> float | None:
    """The rate of a video that shows a recording frame for frame (as many frames) at another
    rate than ``fps`` (more than :data:`RATE_TOLERANCE` apart); None when it agrees, has
    another frame count, or cannot be read.

    Parameters
    ----------
    video_path : str or Path or None
    num_frames : int or None
        Frames of the recording (None: the caller has matched the counts already).
    fps : float or None
        The rate the recording was given or fitted at (None: nothing to compare).

    Returns
    -------
    float or None
    """
    found = video_frame_rate(video_path) if video_path and fps else None
    if found is None or (num_frames is not None and found[1] != int(num_frames)):
        return None
    return found[0] if abs(found[0] - fps) > RATE_TOLERANCE * fps else None


def file_rate_against(path, file_fps, fps) -> float | None:
    """The rate a file's timestamps give (``file_fps``), else the ``fps`` given; refused when both
    are known and more than 1% apart.

    Parameters
    ----------
    path : str or Path
        The file, named in the error.
    file_fps, fps : float or None
        Frames per second from the file's timestamps, and as given by the user.

    Raises
    ------
    ValueError
        When ``file_fps`` and ``fps`` differ by more than 1% of ``fps``.
    """
    if file_fps is not None and fps is not None and abs(file_fps - fps) > 0.01 * fps:
        raise ValueError(
            f"{path}: the file's timestamps give {file_fps:.3f} fps but fps={fps} was given"
        )
    return file_fps if file_fps is not None else fps
