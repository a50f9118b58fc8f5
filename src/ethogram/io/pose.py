"""Pose readers: DeepLabCut, SLEAP and NWB ndx-pose through ``movement``; JABS with h5py.

Each reader takes one file and returns a list of :class:`~ethogram.io.recording.Recording`
(one per animal) whose ``name`` is the animal's name inside the file (``""`` for a file with one
animal); :func:`ethogram.io.read_recordings` turns those into ``<file stem>`` or
``<file stem>/<animal>``. Keypoints are (T, B, S) float64 pixels with NaN where a body part is
missing; confidences (T, B). ``movement`` (https://movement.neuroinformatics.dev) reads the
DeepLabCut, SLEAP and ndx-pose files into an xarray dataset ``position`` (time, space,
keypoints, individuals); the NWB frame rate and timestamps are read from the file itself because
``movement`` 0.15 returns fps = 1.0 for them. JABS files (KumarLabJax pose format v2 to v6+,
``poseest/points`` stored as (y, x) uint16) are read here with h5py.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np

from .recording import Recording

__all__ = ["read_dlc", "read_sleap", "read_nwb_pose", "read_jabs", "JABS_BODYPARTS", "JABS_FPS"]

#: the 12 JABS keypoints in file order (KumarLabJax pose format, ``KeypointIndex``)
JABS_BODYPARTS = (
    "nose", "left_ear", "right_ear", "base_neck", "left_front_paw", "right_front_paw",
    "center_spine", "left_rear_paw", "right_rear_paw", "base_tail", "mid_tail", "tip_tail",
)
#: JABS videos are recorded at 30 frames per second; the pose files do not store it
JABS_FPS = 30.0


def _load_movement():
    """Import ``movement.io.load`` without its side effects on logging and warnings.

    ``import movement`` configures loguru (a stderr sink, a log file in ~/.movement) and replaces
    ``warnings.showwarning``; the previous ``showwarning`` is restored and movement's log records
    are disabled, so reading a file prints nothing.
    """
    saved = warnings.showwarning
    from loguru import logger
    from movement.io import load

    warnings.showwarning = saved
    logger.disable("movement")
    return load


def _movement_dataset(path, source_software: str, **kwargs):
    load = _load_movement()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load.load_dataset(str(path), source_software=source_software, **kwargs)


def _video_path(name, folder: Path) -> str | None:
    """The video path named by a file, if it exists (relative names are taken from ``folder``)."""
    if not name:
        return None
    p = Path(str(name))
    for cand in (p, folder / p, folder / p.name):
        if cand.is_file():
            return str(cand.resolve())
    return None


_VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv")


def _video_beside(path: Path, stem: str) -> str | None:
    """``<stem>.<video suffix>`` beside ``path`` (the tracked video, by the tools' naming rules)."""
    for suffix in _VIDEO_SUFFIXES:
        cand = path.parent / f"{stem}{suffix}"
        if stem and cand.is_file():
            return str(cand.resolve())
    return None


def _from_arrays(pos, conf, bodyparts, individuals, path: Path, fmt: str, fps, timestamps=None, video=None,
                 attrs=None, animal_names=None):
    """One :class:`Recording` per individual from (T, I, B, S) positions and (T, I, B) confidences."""
    out = []
    for j, ind in enumerate(individuals):
        name = "" if len(individuals) == 1 else ind
        if animal_names is not None:
            name = animal_names[j]
        out.append(
            Recording(
                name=name,
                data=np.asarray(pos[:, j], dtype=np.float64),
                kind="keypoints",
                fps=fps,
                bodyparts=tuple(bodyparts),
                confidence=np.asarray(conf[:, j], dtype=np.float64),
                timestamps=timestamps,
                source=str(path),
                format=fmt,
                video_path=video,
                attrs={"individual": ind, **(attrs or {})},
            )
        )
    return out


def _from_dataset(ds, path: Path, fmt: str, fps, **kwargs):
    """One :class:`Recording` per individual of a movement poses dataset."""
    pos = ds["position"].transpose("time", "individuals", "keypoints", "space").values
    conf = ds["confidence"].transpose("time", "individuals", "keypoints").values
    bodyparts = [str(k) for k in ds["keypoints"].values]
    individuals = [str(i) for i in ds["individuals"].values]
    return _from_arrays(pos, conf, bodyparts, individuals, path, fmt, fps, **kwargs)


def read_dlc(path, fps=None) -> list[Recording]:
    """Read a DeepLabCut predictions file (csv or h5; single or multi-animal header).

    Parameters
    ----------
    path : str or Path
        ``.csv`` with the 3-row (scorer, bodyparts, coords) or 4-row (scorer, individuals,
        bodyparts, coords) header, or the ``.h5`` table DeepLabCut writes (``df_with_missing``).
    fps : float, optional
        Frame rate; DeepLabCut files do not store one, so ``fps`` stays None without it.

    Returns
    -------
    list of Recording
        One per individual: keypoints (T, B, 2 or 3) pixels, confidence = DeepLabCut's
        likelihood (T, B); NaN where the file has blanks. ``video_path`` is
        ``<video stem>.mp4|.avi|.mov|.mkv`` beside the file when its name follows DeepLabCut's
        ``<video stem>DLC_<network>...`` rule and that video exists.

    Notes
    -----
    Read by ``movement.io.load.load_dataset(path, "DeepLabCut")``, except plain csv tables,
    which :func:`ethogram.io.dlc_csv.parse_dlc_csv` reads to the same arrays without the cost
    of importing movement.
    """
    path = Path(path)
    # DeepLabCut names its output <video stem>DLC_<network>_<project>...
    video = _video_beside(path, path.stem.split("DLC_")[0]) if "DLC_" in path.stem else None
    if path.suffix.lower() == ".csv":
        from .dlc_csv import parse_dlc_csv

        t = parse_dlc_csv(path)
        if t is not None:
            attrs = {"scorer": t["scorer"]} if t["scorer"] else {}
            return _from_arrays(t["position"], t["confidence"], t["bodyparts"], t["individuals"], path, "dlc", fps,
                                attrs=attrs, video=video)
    return _from_dataset(_movement_dataset(path, "DeepLabCut", fps=fps), path, "dlc", fps, video=video)


def read_sleap(path, fps=None) -> list[Recording]:
    """Read a SLEAP labels file (``.slp``) or analysis file (``.h5``).

    Parameters
    ----------
    path : str or Path
    fps : float, optional
        Frame rate; SLEAP files do not store one.

    Returns
    -------
    list of Recording
        One per track (``<file>/<track name>`` when there are several): keypoints (T, B, 2)
        pixels, NaN where a node is missing or not visible; confidence = SLEAP's point scores
        (NaN for user-labelled instances, which have none). ``video_path`` is the tracked
        video when the file names one that exists (relative names resolved beside the file).

    Notes
    -----
    Read by ``movement.io.load.load_dataset(path, "SLEAP")`` (which reads ``.slp`` with
    sleap-io and keeps user-labelled instances over predicted ones, as SLEAP's own export).
    """
    import h5py

    path = Path(path)
    ds = _movement_dataset(path, "SLEAP", fps=fps)
    video = None
    try:
        with h5py.File(path, "r") as f:
            if "videos_json" in f:
                v = json.loads(f["videos_json"][0])
                video = (v.get("backend") or {}).get("filename") or v.get("filename")
            elif "video_path" in f:
                video = f["video_path"][()]
                video = video.decode() if isinstance(video, bytes) else str(video)
    except (OSError, ValueError, KeyError):
        video = None
    return _from_dataset(ds, path, "sleap", fps, video=_video_path(video, path.parent),
                         attrs={"video": video} if video else {})


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


def fps_from_timestamps(timestamps) -> float | None:
    """Frame rate (Hz) from timestamps in seconds: 1 / the mean regular frame interval.

    Regular intervals are those within a factor 1.5 of the median interval, so dropped frames
    (gaps of several intervals) and pauses do not bias the rate, while clock jitter averages
    out (the median alone would follow the jitter's rounding, e.g. 33 ms of a 33.3 ms camera).

    Parameters
    ----------
    timestamps : array_like, shape (T,)

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
    """Drop a common ``<individual>_`` prefix (``ind1_snout`` -> ``snout``) when names stay unique."""
    if len(names) < 2:
        return names
    import os

    prefix = os.path.commonprefix(list(names))
    prefix = prefix[: prefix.rfind("_") + 1]
    stripped = tuple(n[len(prefix):] for n in names)
    if prefix and all(stripped) and len(set(stripped)) == len(stripped):
        return stripped
    return names


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
        several): keypoints (T, B, 2 or 3) in the file's units (pixels), confidences,
        timestamps (s) and fps from the timestamps; body parts named as the file's
        ``PoseEstimationSeries`` less a prefix common to all (``ind1_snout`` -> ``snout``).
        Timestamps equal to 0, 1, 2, ... are frame numbers written by a converter that did not
        know the frame rate (DeepLabCut's dlc2nwb): they are dropped (``timestamps=None``,
        ``attrs["timestamps_were_frame_numbers"]``) and ``fps`` is the one given, if any.

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
            video = None
            if "original_videos" in g and len(g["original_videos"]):
                v = g["original_videos"][0]
                video = v.decode() if isinstance(v, bytes) else str(v)
            info.append((c, ts, video))
    out = []
    for c, ts, video in info:
        parts = c.split("/")
        if len(parts) != 3 or parts[0] != "processing":
            raise ValueError(f"{path}: PoseEstimation at {c!r} is not in a processing module; cannot read it")
        ds = _movement_dataset(path, "NWB", processing_module_key=parts[1], pose_estimation_key=parts[2])
        extra = {}
        if ts is not None and len(ts) > 1 and np.array_equal(ts, np.arange(len(ts))):
            # 0, 1, 2, ... "seconds": frame numbers written where the frame rate was unknown
            # (DeepLabCut's dlc2nwb does this); not a 1 Hz recording
            ts, extra = None, {"timestamps_were_frame_numbers": True}
        file_fps = fps_from_timestamps(ts) if ts is not None else None
        if file_fps is not None and fps is not None and abs(file_fps - fps) > 0.01 * fps:
            raise ValueError(f"{path}: the file's timestamps give {file_fps:.3f} fps but fps={fps} was given")
        if ts is not None and len(ts) != ds.sizes["time"]:
            ts = None
        name = "" if len(info) == 1 else parts[2]
        recs = _from_dataset(ds, path, "nwb-pose", file_fps if file_fps is not None else fps,
                             timestamps=ts, video=_video_path(video, path.parent),
                             attrs={"container": c, **extra, **({"video": video} if video else {})},
                             animal_names=[name])
        for r in recs:
            r.bodyparts = _strip_prefix(r.bodyparts)
        out += recs
    return out


def _jabs_v3_identities(instance_count, track_id) -> dict:
    """Map JABS v3 tracklets to identity slots as JABS does (smallest free slot first).

    A slot is freed when its tracklet ends and taken by the next new tracklet; this is the
    identity assignment of JABS' ``PoseEstimationV3._build_identity_map``.
    """
    import heapq

    max_slots = track_id.shape[1]
    free = list(range(max_slots))
    heapq.heapify(free)
    ident = {}
    last = []
    for t in range(len(instance_count)):
        cur = [int(x) for x in track_id[t, : instance_count[t]]]
        for tr in last:
            if tr not in cur:
                heapq.heappush(free, ident[tr])
        for tr in cur:
            if tr not in ident:
                ident[tr] = heapq.heappop(free)
        last = cur
    return ident


def read_jabs(path, fps=None) -> list[Recording]:
    """Read a JABS pose file (``*_pose_est_v2.h5`` to v6+), one recording per identity.

    Parameters
    ----------
    path : str or Path
    fps : float, optional
        Frame rate; JABS files do not store one, so it is 30 (:data:`JABS_FPS`, the JABS
        recording rate) unless given here or in a ``fps`` attribute of ``poseest``.

    Returns
    -------
    list of Recording
        v2: one recording. v3: one per identity slot (tracklets assigned to slots as JABS
        does), named ``<file>/id<k>``. v4+: one per long-term identity
        (``instance_embed_id`` 1..n, n = ``instance_id_center`` rows; instances masked by
        ``id_mask`` or unassigned are left out), named ``<file>/id<k>`` with k = embed id - 1,
        or the file's ``external_identity_mapping`` names. Keypoints (T, 12, 2) as (x, y)
        pixels, NaN where the animal or the point is absent (confidence 0, the format's
        padding); confidence (T, 12) as stored, NaN in frames without the animal;
        ``video_path`` = ``<video stem>.avi|.mp4|...`` beside a ``<video stem>_pose_est_vN.h5``.
        Body parts: :data:`JABS_BODYPARTS`.

    Notes
    -----
    ``poseest/points`` is (frames, [instances,] 12, 2) uint16 in (y, x) order; it is flipped
    to (x, y). Format: KumarLabJax mouse-tracking pose docs and JABS-behavior-classifier
    ``pose_estimation/pose_est_v*.py``. ``cm_per_pixel`` is kept in ``attrs`` when present.
    """
    import h5py

    path = Path(path)
    with h5py.File(path, "r") as f:
        if "poseest/points" not in f:
            raise ValueError(f"{path}: not a JABS pose file (no poseest/points)")
        g = f["poseest"]
        version = g.attrs.get("version")
        version = int(np.atleast_1d(version)[0]) if version is not None else 2
        attrs = {"jabs_version": version}
        for k in ("cm_per_pixel", "cm_per_pixel_source"):
            if k in g.attrs:
                v = g.attrs[k]
                attrs[k] = v.decode() if isinstance(v, bytes) else np.asarray(v).item()
        file_fps = g.attrs.get("fps")
        points = g["points"][()]
        conf = g["confidence"][()].astype(np.float64)
        if points.ndim == 3:  # v2: (T, 12, 2)
            points, conf = points[:, None], conf[:, None]
            groups = {"": np.ones((points.shape[0], 1), dtype=np.int64)}
        elif version >= 4 and "instance_embed_id" in g:
            embed = g["instance_embed_id"][()].astype(np.int64)
            id_mask = g["id_mask"][()].astype(bool) if "id_mask" in g else np.zeros(embed.shape, bool)
            if "instance_id_center" in g:
                n_id = int(g["instance_id_center"].shape[0])
            else:
                valid = embed[~id_mask]
                n_id = int(valid.max()) if valid.size else 0
            names = None
            if "external_identity_mapping" in g:
                raw = g["external_identity_mapping"][()]
                names = [x.decode() if isinstance(x, bytes) else str(x) for x in raw.tolist()]
            ok = (~id_mask) & (embed >= 1) & (embed <= n_id)
            slot = np.where(ok, embed - 1, -1)
            groups = {}
            for k in range(n_id):
                label = names[k] if names is not None and k < len(names) else f"id{k}"
                groups[label] = np.where(slot == k, 1, 0)
        else:  # v3: tracklets -> identity slots
            count = g["instance_count"][()].astype(np.int64)
            track = g["instance_track_id"][()].astype(np.int64)
            ident = _jabs_v3_identities(count, track)
            inst = np.arange(track.shape[1])[None, :] < count[:, None]
            keys = np.array(sorted(ident), dtype=np.int64)
            vals = np.array([ident[k] for k in keys.tolist()], dtype=np.int64)
            pos = np.clip(np.searchsorted(keys, track), 0, max(len(keys) - 1, 0))
            slot = np.where(inst & (len(keys) > 0), vals[pos] if len(keys) else -1, -1)
            groups = {f"id{k}": (slot == k).astype(int) for k in sorted(set(ident.values()))}
    if fps is None:
        fps = float(np.asarray(file_fps).item()) if file_fps is not None else JABS_FPS
    # JABS names a pose file <video stem>_pose_est_v<N>.h5
    m = re.match(r"(.+)_pose_est_v\d+$", path.stem)
    video = _video_beside(path, m.group(1)) if m else None
    T = points.shape[0]
    xy = points[..., ::-1].astype(np.float64)  # (y, x) -> (x, y)
    out = []
    for label, sel in groups.items():
        sel = sel.astype(bool)
        if sel.sum(axis=1).max(initial=0) > 1:
            raise ValueError(f"{path}: identity {label!r} appears twice in one frame; the file's identity fields are inconsistent")
        data = np.full((T, len(JABS_BODYPARTS), 2), np.nan)
        c = np.full((T, len(JABS_BODYPARTS)), np.nan)
        rows, cols = np.nonzero(sel)
        data[rows] = xy[rows, cols]
        c[rows] = conf[rows, cols]
        data[c <= 0] = np.nan
        a = dict(attrs)
        if label:
            a["identity"] = label
        out.append(Recording(name=label, data=data, kind="keypoints", fps=fps, bodyparts=JABS_BODYPARTS,
                             confidence=c, source=str(path), format="jabs", video_path=video, attrs=a))
    return out
