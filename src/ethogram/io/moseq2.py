"""moseq2's output read into feature recordings: the PCA scores joined to the extraction.

moseq2-pca's scores file (``scores/<uuid>`` (N, n_pcs) with NaN rows at dropped frames,
``scores_idx/<uuid>`` = row of the extraction for each score row, NaN when dropped) is joined to
moseq2-extract's ``results_XX.h5`` (``frames``, ``scalars/*``, ``timestamps`` in ms) into one
recording per uuid: ``data`` = the scores with NaN rows where a frame was dropped, plus the
centroid (pixels), heading (radians) and depth frames (read lazily). Point at either file: from
the scores file, each uuid's extraction is found through a moseq2 index yaml (``files: [{uuid,
path: [results_00.h5, ...]}]``) in the scores file's folder or its parent, else by the uuid
stored in ``results_*.h5`` files in nearby folders (``.``, ``proc/``, ``*/proc/``, and the same
under the parent); from a ``results_XX.h5``, the scores are the ``*.h5`` file holding
``scores/<its uuid>`` in its folder, its parent or the parent's ``_pca/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .rates import file_rate_against
from .recording import LazyFrames, Recording


def is_moseq2_scores(f) -> bool:
    """True for an open h5py file written by moseq2-pca's apply step (``scores``,
    ``scores_idx``)."""
    return "scores" in f and "scores_idx" in f


def is_moseq2_extraction(f) -> bool:
    """True for an open h5py file written by moseq2-extract (``frames``, ``scalars``,
    ``timestamps``)."""
    return "scalars" in f and "timestamps" in f and "frames" in f


def _uuid_of(extraction: Path) -> str | None:
    import h5py

    try:
        with h5py.File(extraction, "r") as f:
            u = f["metadata/uuid"][()] if "metadata/uuid" in f else None
    except OSError:
        return None
    return u.decode() if isinstance(u, bytes) else (None if u is None else str(u))


def _extraction_from_index(scores_path: Path, uuid: str) -> Path | None:
    import yaml

    for folder in (scores_path.parent, scores_path.parent.parent):
        for idx in sorted(folder.glob("*.yaml")):
            try:
                doc = yaml.safe_load(idx.read_text())
            except (OSError, yaml.YAMLError):
                continue
            if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
                continue
            for entry in doc["files"]:
                if isinstance(entry, dict) and str(entry.get("uuid")) == uuid:
                    for p in np.atleast_1d(entry.get("path", [])):
                        p = Path(str(p))
                        if p.suffix == ".h5":
                            cand = p if p.is_absolute() else idx.parent / p
                            if cand.is_file():
                                return cand.resolve()
    return None


def _extraction_by_uuid(scores_path: Path, uuid: str) -> Path | None:
    for folder in (scores_path.parent, scores_path.parent.parent):
        for pattern in ("results*.h5", "proc/results*.h5", "*/proc/results*.h5"):
            for cand in sorted(folder.glob(pattern)):
                if _uuid_of(cand) == uuid:
                    return cand.resolve()
    return None


def _scores_for(extraction: Path, uuid: str) -> Path | None:
    import h5py

    folders = (extraction.parent, extraction.parent.parent, extraction.parent.parent / "_pca")
    for folder in folders:
        for cand in sorted(folder.glob("*.h5")):
            if cand.resolve() == extraction.resolve():
                continue
            try:
                with h5py.File(cand, "r") as f:
                    if is_moseq2_scores(f) and uuid in f["scores"]:
                        return cand.resolve()
            except OSError:
                continue
    return None


def _mm_per_px(scalars) -> float | None:
    """moseq2's millimetres per pixel: the least-squares slope of ``centroid_*_mm`` on
    ``centroid_*_px`` (both axes, centred), None without both. moseq2-extract projects through
    the depth, so this is the scale at the animal's mean distance from the camera."""
    keys = ("centroid_x_px", "centroid_y_px", "centroid_x_mm", "centroid_y_mm")
    if not all(k in scalars for k in keys):
        return None
    px = np.stack([scalars[k][()] for k in keys[:2]]).astype(np.float64)
    mm = np.stack([scalars[k][()] for k in keys[2:]]).astype(np.float64)
    ok = np.isfinite(px).all(axis=0) & np.isfinite(mm).all(axis=0)
    if ok.sum() < 3:
        return None
    px = px[:, ok] - px[:, ok].mean(axis=1, keepdims=True)
    mm = mm[:, ok] - mm[:, ok].mean(axis=1, keepdims=True)
    slope = float((px * mm).sum() / max((px * px).sum(), 1e-300))
    return abs(slope) if np.isfinite(slope) and slope != 0 else None


def _extraction_arrays(extraction: Path) -> dict:
    """What a moseq2 extraction gives a recording: its timestamps (ms), centroid, angle, scale
    and the fps of its parameters (None when absent)."""
    import h5py

    with h5py.File(extraction, "r") as f:
        sc = f["scalars"]

        def scalar(key):
            return np.asarray(sc[key][()], dtype=np.float64) if key in sc else None

        key = "metadata/extraction/parameters/fps"
        return {
            "ts_ms": np.asarray(f["timestamps"][()], dtype=np.float64),
            "cx": scalar("centroid_x_px"),
            "cy": scalar("centroid_y_px"),
            "angle": scalar("angle"),
            "mm_per_px": _mm_per_px(sc),
            "param_fps": float(np.asarray(f[key][()]).item()) if key in f else None,
        }


def _score_rows(idx, T: int, n_ext: int, scores_path, uuid, extraction):
    """``(valid, rows)``: which score rows have an extraction frame, and its index (-1 where
    dropped); without ``scores_idx`` the score rows are the extraction's rows."""
    if idx is None:  # no index: scores rows are extraction rows
        if T != n_ext:
            raise ValueError(
                f"{scores_path}: scores/{uuid} has {T} rows, {extraction} {n_ext} frames, and no "
                "scores_idx"
            )
        idx = np.arange(T, dtype=np.float64)
    if idx.shape != (T,):
        raise ValueError(f"{scores_path}: scores_idx/{uuid} has shape {idx.shape}, expected {(T,)}")
    valid = np.isfinite(idx)
    rows = np.full(T, -1, dtype=np.int64)
    rows[valid] = idx[valid].astype(np.int64)
    if valid.any() and (rows[valid].max() >= n_ext or rows[valid].min() < 0):
        raise ValueError(
            f"{scores_path}: scores_idx/{uuid} points past the {n_ext} frames of {extraction}"
        )
    return valid, rows


def _score_times(ts_ms, valid, rows, param_fps):
    """``(timestamps, start)``: seconds from the first score row (dropped frames interpolated,
    those before the first or after the last kept one a frame interval apart) and the first
    row's time on the camera clock; ``(None, None)`` with fewer than two kept frames."""
    T = rows.shape[0]
    pos = np.arange(T, dtype=np.float64)
    t_valid = ts_ms[rows[valid]] / 1000.0
    if valid.sum() < 2:
        return None, None
    ts = np.interp(pos, pos[valid], t_valid)
    step = (
        1.0 / param_fps
        if param_fps
        else (t_valid[-1] - t_valid[0]) / (pos[valid][-1] - pos[valid][0])
    )
    first, last = pos[valid][0], pos[valid][-1]
    ts[pos < first] = t_valid[0] - (first - pos[pos < first]) * step
    ts[pos > last] = t_valid[-1] + (pos[pos > last] - last) * step
    return ts - ts[0], float(ts[0])


def _moseq2_recording(
    scores_path: Path, uuid: str, extraction: Path | None, fps, name: str
) -> Recording:
    import h5py

    from .pose import fps_from_timestamps

    with h5py.File(scores_path, "r") as f:
        scores = np.asarray(f["scores"][uuid][()], dtype=np.float64)
        idx = (
            np.asarray(f["scores_idx"][uuid][()], dtype=np.float64)
            if uuid in f["scores_idx"]
            else None
        )
    T = scores.shape[0]
    attrs = {"uuid": uuid, "scores_file": str(scores_path)}
    if extraction is None:
        attrs["extraction"] = None
        return Recording(
            name=name,
            data=scores,
            kind="features",
            fps=fps,
            source=str(scores_path),
            format="moseq2",
            attrs=attrs,
        )
    ext = _extraction_arrays(extraction)
    param_fps = ext["param_fps"]
    valid, rows = _score_rows(idx, T, len(ext["ts_ms"]), scores_path, uuid, extraction)

    def take(v):
        out = np.full(T, np.nan)
        out[valid] = v[rows[valid]]
        return out

    # timestamps (ms on the camera clock) -> seconds from the first frame
    ts, start = _score_times(ext["ts_ms"], valid, rows, param_fps)
    if start is not None:
        attrs["start_time_s"] = start
    # the score rows lie on moseq2's grid of 1 / fps seconds (dropped frames were inserted at the
    # extraction's fps), so that nominal rate is the recording's; the timestamps only without it
    file_fps = (
        param_fps
        if param_fps is not None
        else (fps_from_timestamps(ts) if ts is not None else None)
    )
    attrs.update(
        extraction=str(extraction), extraction_fps=param_fps, dropped_frames=int((~valid).sum())
    )
    if ext["mm_per_px"] is not None:
        attrs["mm_per_px"] = ext["mm_per_px"]
    cx, cy, ang = ext["cx"], ext["cy"], ext["angle"]
    return Recording(
        name=name,
        data=scores,
        kind="features",
        fps=file_rate_against(scores_path, file_fps, fps),
        timestamps=ts,
        source=str(scores_path),
        format="moseq2",
        centroid=None if cx is None or cy is None else np.stack([take(cx), take(cy)], axis=1),
        heading=None if ang is None else take(ang),
        frames=LazyFrames(extraction, "frames", frame_index=rows),
        attrs=attrs,
    )


def read_moseq2(path, fps=None) -> list[Recording]:
    """Read moseq2 output: a PCA scores file or an extraction ``results_XX.h5``.

    Parameters
    ----------
    path : str or Path
        moseq2-pca's scores file (``scores/<uuid>``, ``scores_idx/<uuid>``: one recording per
        uuid, named by the uuid when there are several) or moseq2-extract's ``results_XX.h5``
        (its scores are looked up beside it, see the module notes).
    fps : float, optional
        Checked against the extraction's frame rate (more than 1% apart: ValueError); used when
        no extraction is found.

    Returns
    -------
    list of Recording
        Features (T, n_pcs) = the scores, NaN rows at dropped frames (T counts them);
        ``timestamps`` in seconds from the first frame (dropped frames interpolated; the camera
        clock's start is ``attrs["start_time_s"]``); ``fps`` = the extraction's
        ``parameters/fps`` (the rate at which moseq2 inserted the dropped frames), else from the
        timestamps; ``centroid`` (T, 2)
        pixels and ``heading`` (T,) radians (``scalars/angle``) aligned through ``scores_idx``
        (NaN at dropped frames); ``frames`` (T, 80, 80) uint8 read lazily (zeros at dropped
        frames). Without an extraction: the scores alone.

    Raises
    ------
    ValueError
        For a ``results_XX.h5`` whose scores cannot be found, or inconsistent indices.
    """
    import h5py

    path = Path(path).resolve()
    with h5py.File(path, "r") as f:
        if is_moseq2_scores(f):
            uuids = sorted(f["scores"])
            kind = "scores"
        elif is_moseq2_extraction(f):
            kind = "extraction"
        else:
            raise ValueError(
                f"{path}: neither a moseq2 scores file (scores/, scores_idx/) nor an extraction "
                "(frames, scalars/, timestamps)"
            )
    if kind == "scores":
        out = []
        for u in uuids:
            ext = _extraction_from_index(path, u) or _extraction_by_uuid(path, u)
            out.append(_moseq2_recording(path, u, ext, fps, u if len(uuids) > 1 else ""))
        return out
    uuid = _uuid_of(path)
    scores = _scores_for(path, uuid) if uuid else None
    if scores is None:
        raise ValueError(
            f"{path}: no PC scores found for this extraction (uuid {uuid}); run moseq2-pca and "
            "give its scores file (e.g. _pca/pca_scores.h5), or put the scores file beside the "
            "extraction"
        )
    rec = _moseq2_recording(scores, uuid, path, fps, "")
    rec.source = str(path)
    return [rec]
