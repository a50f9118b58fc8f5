"""Pose readers: NWB ndx-pose here; DeepLabCut (:mod:`.dlc`), SLEAP (:mod:`.sleap`) and JABS
(:mod:`.jabs`) in their own modules, re-exported from here.

Each reader takes one file and returns a list of :class:`~ethogram.io.recording.Recording`
(one per animal) whose ``name`` is the animal's name inside the file (``""`` for a file with one
animal); :func:`ethogram.io.read_recordings` turns those into ``<file stem>`` or
``<file stem>/<animal>``. Keypoints are (T, B, S) float64 pixels with NaN where a body part is
missing; confidences (T, B). NWB files are read by ``movement``; their frame rate and
timestamps are read from the file itself because ``movement`` 0.15 returns fps = 1.0 for them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._pose_common import _from_dataset, _movement_dataset, _video_beside, _video_path
from .dlc import read_dlc
from .jabs import JABS_BODYPARTS, JABS_FPS, read_jabs
from .notes import note
from .rates import fps_from_timestamps
from .recording import Recording
from .sleap import read_sleap

__all__ = [
    "read_dlc",
    "read_sleap",
    "read_nwb_pose",
    "read_jabs",
    "fps_from_timestamps",
    "JABS_BODYPARTS",
    "JABS_FPS",
]


def _nwb_series_times(group) -> np.ndarray | None:
    """Timestamps (s) of an NWB TimeSeries group: ``timestamps`` or ``starting_time`` + ``rate``."""
    if "timestamps" in group:
        return np.asarray(group["timestamps"][()], dtype=np.float64)
    if "starting_time" in group:
        st = group["starting_time"]
        rate = float(st.attrs["rate"])
        n = group["data"].shape[0]
        return float(st[()]) + np.arange(n) / rate
    return None


def _named_video(g) -> str | None:
    """The tracked video a PoseEstimation names: ``original_videos`` (ndx-pose < 0.2, DeepLabCut's
    dlc2nwb) or the ``external_file`` of its ``source_video`` ImageSeries (ndx-pose >= 0.2)."""
    v = None
    if "original_videos" in g and len(g["original_videos"]):
        v = g["original_videos"][0]
    elif "source_video" in g and len(g["source_video"].get("external_file", ())):
        v = g["source_video/external_file"][0]
    return None if v is None else (v.decode() if isinstance(v, bytes) else str(v))


def _find_typed(f, neurodata_type: str) -> list[str]:
    found = []

    def visit(name, obj):
        t = obj.attrs.get("neurodata_type")
        if isinstance(t, bytes):
            t = t.decode()
        if t == neurodata_type:
            found.append(name)

    f.visititems(visit)
    return sorted(found)


def _strip_prefix(names: tuple) -> tuple:
    """Drop a common ``<individual>_`` prefix (``ind1_snout`` -> ``snout``) when names stay
    unique."""
    if len(names) < 2:
        return names
    import os

    prefix = os.path.commonprefix(list(names))
    prefix = prefix[: prefix.rfind("_") + 1]
    stripped = tuple(n[len(prefix) :] for n in names)
    if prefix and all(stripped) and len(set(stripped)) == len(stripped):
        return stripped
    return names


def _animals_only(info: list, path) -> list:
    """Containers with as many frames as the longest one; the others (static objects, objects
    sampled now and then) are left out with one note."""
    most = max(n for *_, n in info)
    others = [f"{c.split('/')[-1]!r} ({n} frames)" for c, *_, n in info if n < most]
    if others:
        note(
            path,
            f"PoseEstimation container(s) {', '.join(others)} have fewer frames than the "
            f"animals ({most}): objects, not animals; left out",
        )
    return [i for i in info if i[-1] == most]


def read_nwb_pose(path, fps=None) -> list[Recording]:
    """Read an NWB file with ndx-pose ``PoseEstimation`` containers (one animal each).

    Parameters
    ----------
    path : str or Path
    fps : float, optional
        Checked against the file's timestamps (more than 1% apart: ValueError); used only when
        the file has none.

    Returns
    -------
    list of Recording
        One per ``PoseEstimation`` container (named after the container when there are
        several; containers with fewer frames than the longest, such as the arena corners
        and lixit JABS writes as static objects of two frames, are left out with a note):
        keypoints (T, B, 2 or 3) in the file's units (pixels; a series stored in m, cm or
        mm gives ``px_per_mm`` in those units, :func:`ethogram.io.units.scale_from_unit`),
        confidences,
        timestamps (s) and fps from the timestamps; body parts named as the file's
        ``PoseEstimationSeries`` less a prefix common to all (``ind1_snout`` -> ``snout``).
        Timestamps equal to 0, 1, 2, ... are frame numbers written by a converter that did not
        know the frame rate (DeepLabCut's dlc2nwb): they are dropped (``timestamps=None``,
        ``attrs["timestamps_were_frame_numbers"]``) and ``fps`` is the one given, if any.
        ``video_path`` is the video the file names (``original_videos``, or ``source_video``'s
        external file; relative names resolved beside the file) when it exists, else
        ``<file stem>.mp4|.avi|.mov|.mkv`` beside the file.

    Notes
    -----
    Positions and confidences are read by ``movement.io.load.load_dataset(path, "NWB",
    processing_module_key=..., pose_estimation_key=...)``; timestamps with h5py, because
    ``movement`` 0.15 reports fps = 1.0 for NWB files.
    """
    import h5py

    path = Path(path)
    with h5py.File(path, "r") as f:
        containers = _find_typed(f, "PoseEstimation")
        if not containers:
            raise ValueError(f"{path}: no ndx-pose PoseEstimation container in this NWB file")
        info = []
        for c in containers:
            g = f[c]
            series = [k for k in g if isinstance(g[k], h5py.Group) and "data" in g[k]]
            ts = _nwb_series_times(g[series[0]]) if series else None
            video = _named_video(g)
            n = g[series[0]]["data"].shape[0] if series else 0
            unit = g[series[0]]["data"].attrs.get("unit") if series else None
            info.append((c, ts, video, unit.decode() if isinstance(unit, bytes) else unit, n))
    info = _animals_only(info, path)
    out = []
    for c, ts, video, unit, _ in info:
        parts = c.split("/")
        if len(parts) != 3 or parts[0] != "processing":
            raise ValueError(
                f"{path}: PoseEstimation at {c!r} is not in a processing module; cannot read it"
            )
        ds = _movement_dataset(
            path, "NWB", processing_module_key=parts[1], pose_estimation_key=parts[2]
        )
        extra = {}
        if ts is not None and len(ts) > 1 and np.array_equal(ts, np.arange(len(ts))):
            # 0, 1, 2, ... "seconds": frame numbers written where the frame rate was unknown
            # (DeepLabCut's dlc2nwb does this); not a 1 Hz recording
            ts, extra = None, {"timestamps_were_frame_numbers": True}
        file_fps = fps_from_timestamps(ts) if ts is not None else None
        if file_fps is not None and fps is not None and abs(file_fps - fps) > 0.01 * fps:
            raise ValueError(
                f"{path}: the file's timestamps give {file_fps:.3f} fps but fps={fps} was given"
            )
        if ts is not None and len(ts) != ds.sizes["time"]:
            ts = None
        name = "" if len(info) == 1 else parts[2]
        recs = _from_dataset(
            ds,
            path,
            "nwb-pose",
            file_fps if file_fps is not None else fps,
            timestamps=ts,
            video=_video_path(video, path.parent) or _video_beside(path, path.stem),
            attrs={
                "container": c,
                **extra,
                **({"video": video} if video else {}),
                **({"unit": str(unit)} if unit else {}),
            },
            animal_names=[name],
        )
        for r in recs:
            r.bodyparts = _strip_prefix(r.bodyparts)
        out += recs
    return out
