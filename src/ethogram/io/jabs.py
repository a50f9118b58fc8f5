"""JABS pose files (KumarLabJax ``<video stem>_pose_est_v<N>.h5``, v2 to v8) -> one recording
per mouse.

The format (KumarLabJax mouse-tracking ``docs/pose/file_format.md``; JABS-behavior-classifier
``pose_estimation/pose_est_v*.py``): ``poseest/points`` (frames, [instances,] 12, 2) uint16 in
(y, x) order, ``poseest/confidence`` (0 = padding); v2 holds one mouse; v3 adds
``instance_count`` and ``instance_track_id`` (tracklets, joined into identity slots the way JABS
does); v4 adds long-term identities ``instance_embed_id`` (1..n, n = rows of
``instance_id_center``; 0 and > n are instances without an identity) with ``id_mask`` (1 =
ignore); v5 static objects (arena corners, lixit), v6 segmentation, v7 dynamic objects, v8
bounding boxes, none of which changes the keypoints. JABS itself takes the version from the
file name; the ``version`` attribute of ``poseest`` is often left at the version of the first
stage of the pipeline (a v5 file whose attribute says 3.0 is common). Here the identities are
read from what the file holds (long-term identities when it has them) and the version is the
file name's when the contents agree with it; a file name that contradicts the contents is noted.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ._pose_common import _video_beside
from .notes import note
from .recording import Recording

__all__ = ["read_jabs", "jabs_version", "JABS_BODYPARTS", "JABS_FPS", "JABS_MIN_CONFIDENCE"]

#: the 12 JABS keypoints in file order (KumarLabJax pose format, ``KeypointIndex``)
JABS_BODYPARTS = (
    "nose",
    "left_ear",
    "right_ear",
    "base_neck",
    "left_front_paw",
    "right_front_paw",
    "center_spine",
    "left_rear_paw",
    "right_rear_paw",
    "base_tail",
    "mid_tail",
    "tip_tail",
)
#: JABS videos are recorded at 30 frames per second; the pose files do not store it
JABS_FPS = 30.0
#: JABS' validity rule: a keypoint is valid when its confidence is above this, missing otherwise
#: (``MINIMUM_CONFIDENCE`` of JABS-behavior-classifier ``jabs.core.abstract.pose_est``, used as
#: ``confidence > MINIMUM_CONFIDENCE`` by every ``PoseEstimationV*``; the mouse-tracking pipeline's
#: ``v2_to_v3`` and ``pose.inspect`` use the same 0.3). The confidences are heatmap peaks, not
#: probabilities: about 0 to 1.05 from the single-mouse model (v2), 0 or about 1 to 5 from the
#: multi-mouse model (v3+, which keeps only peaks above its ``--min-pose-heatmap-val``).
JABS_MIN_CONFIDENCE = 0.3


def _name_version(path: Path) -> int | None:
    m = re.search(r"_pose_est_v(\d+)$", path.stem)
    return int(m.group(1)) if m else None


def _attribute_version(group) -> str | None:
    v = group.attrs.get("version")
    if v is None:
        return None
    v = np.atleast_1d(v).tolist()
    return ".".join(str(int(x)) for x in v)


def _has_identities(group) -> bool:
    """Whether ``poseest`` holds usable long-term identities (v4+)."""
    if "instance_embed_id" not in group or group["points"].ndim != 4:
        return False
    return tuple(group["instance_embed_id"].shape) == tuple(group["points"].shape[:2])


def _content_version(f) -> int:
    """The lowest format version that has everything the file holds."""
    g = f["poseest"]
    if g["points"].ndim == 3:
        return 2
    if not _has_identities(g):
        return 3
    for version, key in (
        (8, "poseest/bbox"),
        (7, "dynamic_objects"),
        (6, "poseest/seg_data"),
        (5, "static_objects"),
    ):
        if key in f:
            return version
    return 4


def jabs_version(f, path) -> dict:
    """How a JABS file is read: its version and where that came from.

    Parameters
    ----------
    f : h5py.File
        The open pose file.
    path : str or Path
        Its path (the file name names the version: ``_pose_est_v5.h5``).

    Returns
    -------
    dict
        ``jabs_version`` (int, the version used), ``jabs_version_from`` (a phrase saying why),
        ``jabs_version_attribute`` (the ``version`` attribute as text, or None),
        ``jabs_identities`` (``"instance_embed_id"``, ``"instance_track_id"`` or ``"one mouse"``),
        and ``conflict`` (a sentence when the file name contradicts the contents, else None).
    """
    path = Path(path)
    g = f["poseest"]
    named, attr, content = _name_version(path), _attribute_version(g), _content_version(f)
    long_term = content >= 4
    conflict = None
    if named is not None and (named >= 4) == long_term and (named == 2) == (content == 2):
        version, why = named, f"file name _pose_est_v{named}"
    else:
        version, why = content, "contents"
        if named is not None:
            held = {
                2: "one mouse (points of 3 dimensions)",
                3: "tracklets but no long-term identities (instance_embed_id)",
            }.get(content, "long-term identities (instance_embed_id)")
            conflict = (
                f"the file name says v{named} but the file holds {held}; read as v{content} "
                f"from its contents"
            )
    if attr is not None and attr.split(".")[0] != str(version):
        why += f"; its version attribute says {attr}"
    identities = {2: "one mouse", 3: "instance_track_id"}.get(content, "instance_embed_id")
    return {
        "jabs_version": int(version),
        "jabs_version_from": why,
        "jabs_version_attribute": attr,
        "jabs_identities": identities,
        "conflict": conflict,
    }


def _jabs_v3_identities(instance_count, track_id) -> dict:
    """Map JABS v3 tracklets to identity slots as JABS does (smallest free slot first).

    A slot is freed when its tracklet ends and taken by the next new tracklet; this is the
    identity assignment of JABS' ``PoseEstimationV3._build_identity_map``.
    """
    import heapq

    free = list(range(track_id.shape[1]))
    heapq.heapify(free)
    ident, last = {}, []
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


def _tracklet_slots(g) -> dict:
    """v3: {label: (T, instances) 0/1 selection} of identity slots."""
    count = g["instance_count"][()].astype(np.int64)
    track = g["instance_track_id"][()].astype(np.int64)
    ident = _jabs_v3_identities(count, track)
    inst = np.arange(track.shape[1])[None, :] < count[:, None]
    slot = np.full(track.shape, -1, dtype=np.int64)
    if ident:
        keys = np.array(sorted(ident), dtype=np.int64)
        vals = np.array([ident[k] for k in keys.tolist()], dtype=np.int64)
        pos = np.clip(np.searchsorted(keys, track), 0, len(keys) - 1)
        slot = np.where(
            inst, vals[pos], -1
        )  # every instance within instance_count has a tracklet in ident
    return {f"id{k}": (slot == k).astype(int) for k in sorted(set(ident.values()))}


def _identity_slots(g) -> dict:
    """v4+: {label: (T, instances) 0/1 selection} of long-term identities."""
    embed = g["instance_embed_id"][()].astype(np.int64)
    id_mask = g["id_mask"][()].astype(bool) if "id_mask" in g else np.zeros(embed.shape, bool)
    if "instance_id_center" in g:
        n_id = int(g["instance_id_center"].shape[0])
    else:
        valid = embed[~id_mask & (embed > 0)]
        n_id = int(valid.max()) if valid.size else 0
    names = None
    if "external_identity_mapping" in g:
        names = [
            x.decode() if isinstance(x, bytes) else str(x)
            for x in g["external_identity_mapping"][()].tolist()
        ]
    ok = (~id_mask) & (embed >= 1) & (embed <= n_id)
    slot = np.where(ok, embed - 1, -1)
    return {
        (names[k] if names is not None and k < len(names) else f"id{k}"): (slot == k).astype(int)
        for k in range(n_id)
    }


def _file_attrs(f, g) -> dict:
    attrs = {}
    for k in ("cm_per_pixel", "cm_per_pixel_source"):
        if k in g.attrs:
            v = g.attrs[k]
            attrs[k] = v.decode() if isinstance(v, bytes) else np.asarray(v).item()
    if "static_objects" in f:
        attrs["static_objects"] = sorted(f["static_objects"].keys())
    return attrs


def read_jabs(path, fps=None) -> list[Recording]:
    """Read a JABS pose file (``*_pose_est_v2.h5`` to v8), one recording per mouse.

    Parameters
    ----------
    path : str or Path
    fps : float, optional
        Frame rate; JABS files do not store one, so it is 30 (:data:`JABS_FPS`, the JABS
        recording rate) unless given here or in a ``fps`` attribute of ``poseest``.

    Returns
    -------
    list of Recording
        One mouse (v2): one recording. Tracklets only (v3): one per identity slot (tracklets
        assigned to slots as JABS does), named ``<file>/id<k>``. Long-term identities (v4+):
        one per identity (``instance_embed_id`` 1..n, n = ``instance_id_center`` rows;
        instances masked by ``id_mask`` or without an identity are left out), named
        ``<file>/id<k>`` with k = embed id - 1, or the file's ``external_identity_mapping``
        names. Keypoints (T, 12, 2) as (x, y) pixels, NaN where the mouse is absent or
        JABS counts the point invalid (confidence at most :data:`JABS_MIN_CONFIDENCE`, 0.3;
        0 is the format's padding); confidence (T, 12) as stored (heatmap peaks, above 1 from
        the multi-mouse model), NaN in frames without the mouse; ``video_path`` =
        ``<video stem>.avi|.mp4|...`` beside a ``<video stem>_pose_est_vN.h5``. Body parts:
        :data:`JABS_BODYPARTS`. ``attrs`` hold the version used and why
        (:func:`jabs_version`), ``jabs_min_confidence`` (the validity rule applied),
        ``cm_per_pixel`` and the static objects' names when present.

    Raises
    ------
    ValueError
        Not a JABS file, a v3 file without ``instance_count``/``instance_track_id``, or an
        identity found twice in one frame.
    """
    import h5py

    path = Path(path)
    with h5py.File(path, "r") as f:
        if "poseest/points" not in f:
            raise ValueError(f"{path}: not a JABS pose file (no poseest/points)")
        g = f["poseest"]
        how = jabs_version(f, path)
        attrs = {**{k: v for k, v in how.items() if k != "conflict"}, **_file_attrs(f, g)}
        attrs["jabs_min_confidence"] = JABS_MIN_CONFIDENCE
        file_fps = g.attrs.get("fps")
        points = g["points"][()]
        stored = g["confidence"][()]
        conf = stored.astype(np.float64)
        # JABS' point mask, compared in the stored precision as JABS does (a float32 0.3 is
        # not above 0.3 there, though it is above the float64 0.3)
        valid = stored > np.asarray(JABS_MIN_CONFIDENCE, dtype=stored.dtype)
        if points.ndim == 3:  # one mouse: (T, 12, 2)
            points, conf, valid = points[:, None], conf[:, None], valid[:, None]
            groups = {"": np.ones((points.shape[0], 1), dtype=np.int64)}
        elif how["jabs_identities"] == "instance_embed_id":
            groups = _identity_slots(g)
        elif "instance_count" in g and "instance_track_id" in g:
            groups = _tracklet_slots(g)
        else:
            raise ValueError(
                f"{path}: a JABS file of several instances per frame without identities "
                "(neither instance_embed_id nor instance_count and instance_track_id)"
            )
    if how["conflict"]:
        note(path, how["conflict"])
    if fps is None:
        fps = float(np.asarray(file_fps).item()) if file_fps is not None else JABS_FPS
    # JABS names a pose file <video stem>_pose_est_v<N>.h5
    m = re.match(r"(.+)_pose_est_v\d+$", path.stem)
    video = _video_beside(path, m.group(1)) if m else None
    return [
        _one_mouse(path, label, sel, points, (conf, valid), fps, video, attrs)
        for label, sel in groups.items()
    ]


def _one_mouse(path, label, sel, points, scores, fps, video, attrs) -> Recording:
    """One identity's recording; ``scores`` = (confidence, JABS validity) of every instance."""
    conf, valid = scores
    sel = sel.astype(bool)
    if sel.sum(axis=1).max(initial=0) > 1:
        raise ValueError(
            f"{path}: identity {label!r} appears twice in one frame; the file's identity fields "
            "are inconsistent"
        )
    T = points.shape[0]
    data = np.full((T, len(JABS_BODYPARTS), 2), np.nan)
    c = np.full((T, len(JABS_BODYPARTS)), np.nan)
    rows, cols = np.nonzero(sel)
    data[rows] = points[rows, cols][..., ::-1]  # (y, x) -> (x, y)
    c[rows] = conf[rows, cols]
    ok = np.zeros(c.shape, dtype=bool)
    ok[rows] = valid[rows, cols]
    data[~ok] = np.nan  # JABS' point mask: valid when the confidence is above 0.3
    a = dict(attrs)
    if label:
        a["identity"] = label
    return Recording(
        name=label,
        data=data,
        kind="keypoints",
        fps=fps,
        bodyparts=JABS_BODYPARTS,
        confidence=c,
        source=str(path),
        format="jabs",
        video_path=video,
        attrs=a,
    )
