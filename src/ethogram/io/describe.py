"""The short text ``ethogram info FILE`` prints for a recording: :func:`describe`.

Besides shape, frame rate, body parts and missing values it says how the reader read the file
where that was a choice: the JABS version used and why, and the columns of a feature table left
out as a frame index or as 0/1 labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .recording import Recording

__all__ = ["describe", "CONFIDENCE_DEFAULT"]


def describe(recording: Recording) -> str:
    """A short multi-line summary of a recording (what ``ethogram info FILE`` prints).

    Parameters
    ----------
    recording : Recording

    Returns
    -------
    str
        Name, format and source, kind and shape, fps (and where it came from when not from
        the file) and duration, the scale in pixels per mm, body parts, the fraction of
        missing values (NaN coordinates, or NaN rows for features), choices the reader made
        (the JABS version and why; feature columns left out) and the extras present.
    """
    r = recording
    T = r.num_frames
    lines = [f"{r.name}  ({r.format or 'unknown format'}: {r.source})"]
    if r.kind == "keypoints":
        lines.append(
            f"  keypoints: {T} frames x {r.data.shape[1]} body parts x {r.data.shape[2]} "
            "coordinates"
        )
    else:
        lines.append(f"  features: {T} frames x {r.data.shape[1]} dimensions{_scores_from(r)}")
    lines += _rate_and_scale(r)
    if r.kind == "keypoints":
        lines.append(f"  body parts: {', '.join(r.bodyparts)}")
        missing = np.isnan(r.data).any(axis=2)
        per = missing.mean(axis=0) if T else np.zeros(len(r.bodyparts))
        detail = ", ".join(f"{b} {p:.1%}" for b, p in zip(r.bodyparts, per))
        lines.append(f"  missing: {missing.mean() if missing.size else 0:.1%} of points ({detail})")
    else:
        dropped = np.isnan(r.data).any(axis=1)
        lines.append(
            f"  missing: {dropped.mean() if T else 0:.1%} of frames ({int(dropped.sum())} frames "
            "with NaN)"
        )
    lines += _how_read(r)
    extras = []
    if r.confidence is not None:
        c = r.confidence[np.isfinite(r.confidence)]
        extras.append(f"confidence ({'median %.3g' % np.median(c) if c.size else 'all NaN'})")
        if r.kind == "keypoints" and c.size and "jabs_min_confidence" not in (r.attrs or {}):
            # what preparation will mask: points that have coordinates (a missing point is
            # missing already) and a confidence below the default threshold; for JABS the
            # "JABS points" line above says this
            lines.append(_low_confidence(r))
    for k in ("timestamps", "centroid", "heading"):
        if getattr(r, k) is not None:
            extras.append(k)
    if r.labels is not None:
        extras.append(f"labels ({len(np.unique(r.labels[r.labels >= 0]))} syllables)")
    if r.frames is not None:
        extras.append(f"frames {tuple(r.frames.shape)}")
    if r.video_path:
        extras.append(f"video {r.video_path}")
    lines.append(f"  extras: {', '.join(extras) if extras else 'none'}")
    return "\n".join(lines)


def _low_confidence(r: Recording) -> str:
    """The line on points with coordinates whose confidence is below the default threshold."""
    seen = np.isfinite(r.data).all(axis=2) & np.isfinite(r.confidence)
    low = int((seen & (np.nan_to_num(r.confidence) < CONFIDENCE_DEFAULT)).sum())
    n = int(seen.sum())
    return (
        f"  low confidence: {low} of the {n} points with coordinates "
        f"({low / max(n, 1):.1%}) are below {CONFIDENCE_DEFAULT:g} (masked by default; "
        "--confidence)"
    )


def _rate_and_scale(r: Recording) -> list:
    """The fps line (where the rate came from, or why there is none) and the scale line."""
    a = r.attrs or {}
    if r.fps is None:
        why = (
            " (its timestamps are frame numbers 0, 1, 2, ..., not seconds)"
            if a.get("timestamps_were_frame_numbers")
            else ""
        )
        if a.get("video_fps"):
            why += (
                f"; its video {a.get('video_name')} runs at {a['video_fps']:g} fps but has "
                f"{a.get('video_frames')} frames"
            )
        fps = f"  fps: unknown{why}; give --fps"
    else:
        source = {
            "video": f" (from its video {Path(r.video_path or '').name})",
            "model": " (the model's)",
        }.get(a.get("fps_from"), "")
        fps = f"  fps: {r.fps:.6g}{source}, duration {r.duration:.2f} s"
    if r.px_per_mm is None:
        return [fps, "  scale: unknown (speeds in pixels; give --px-per-mm)"]
    source = a.get("px_per_mm_from") or "the caller"
    return [fps, f"  scale: {r.px_per_mm:.4g} px/mm (from {source})"]


#: the preparation's default confidence threshold (``Preparation(confidence_threshold=0.5)``)
CONFIDENCE_DEFAULT = 0.5


def _how_read(r: Recording) -> list:
    """Lines on choices the reader made: the JABS version, feature columns left out."""
    a = r.attrs or {}
    lines = []
    if "jabs_version" in a:
        ids = {
            "instance_embed_id": "long-term identities (instance_embed_id)",
            "instance_track_id": "tracklets joined into identity slots (instance_track_id), "
            "as JABS does",
            "one mouse": "one mouse",
        }.get(a.get("jabs_identities"), a.get("jabs_identities"))
        source = a.get("jabs_version_from", "file")
        lines.append(f"  JABS pose v{a['jabs_version']} (from the {source}); animals: {ids}")
        if "jabs_min_confidence" in a and r.confidence is not None:
            floor = a["jabs_min_confidence"]
            valid = np.isfinite(r.data).all(axis=2) & (np.nan_to_num(r.confidence) > floor)
            under = int((valid & (r.confidence < CONFIDENCE_DEFAULT)).sum())
            what = (
                "masked by default; --confidence {floor:g} keeps them"
                if under
                else "so lowering --confidence changes nothing"
            ).format(floor=floor)
            lines.append(
                f"  JABS points: valid when their confidence is above {floor:g}, missing otherwise "
                "(JABS' rule; the confidences are heatmap peaks, not probabilities); "
                f"{under} of the {int(valid.sum())} valid points are below "
                f"{CONFIDENCE_DEFAULT:g}, the default --confidence ({what})"
            )
    for what, key in (("frame index", "index_columns"), ("0/1 label", "label_columns")):
        if a.get(key):
            lines.append(f"  left out as {what} column(s): {', '.join(map(str, a[key]))}")
    return lines


def _scores_from(r) -> str:
    """Where moseq2's features were read when not from the file given: its PCA scores file,
    joined by the extraction's uuid (a neighbouring file, said rather than read silently)."""
    scores = r.attrs.get("scores_file")
    if not scores or str(scores) == str(r.source):
        return ""
    uuid = r.attrs.get("uuid")
    by = f", joined by its uuid {uuid}" if uuid else ""
    return f" (moseq2-pca's PC scores, from {scores}{by})"
