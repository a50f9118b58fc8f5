"""SLEAP files -> one recording per track: labels (``.slp``) and analysis (``.h5``) files through
``movement``, and the "Export Analysis CSV" table read here.

SLEAP's analysis CSV has one row per instance: ``track`` (the track name, blank when the
tracker was off), ``frame_idx``, ``instance.score``, then ``<node>.x``, ``<node>.y``,
``<node>.score`` for every node (sleap ``write_csv_file``; sleap-io's ``sleap`` csv format). It
is recognised by its ``frame_idx`` column beside ``<node>.x``/``<node>.y`` pairs, so that it is
never fitted as a plain feature table with the frame index and scores as inputs. Tracks that
hold no instance in the file (SLEAP keeps the tracks of every video of a project) are left out
by :func:`ethogram.io.read_file`, for every multi-animal format.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._pose_common import _from_dataset, _movement_dataset, _video_path
from .notes import note
from .recording import Recording

__all__ = ["read_sleap", "read_sleap_csv", "is_sleap_csv_header"]


def _video_named_in(path: Path) -> str | None:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "videos_json" in f:
                v = json.loads(f["videos_json"][0])
                return (v.get("backend") or {}).get("filename") or v.get("filename")
            if "video_path" in f:
                video = f["video_path"][()]
                return video.decode() if isinstance(video, bytes) else str(video)
    except (OSError, ValueError, KeyError):
        return None
    return None


def read_sleap(path, fps=None) -> list[Recording]:
    """Read a SLEAP labels file (``.slp``), analysis file (``.h5``) or analysis CSV (``.csv``).

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
    ``.slp`` and ``.h5`` are read by ``movement.io.load.load_dataset(path, "SLEAP")`` (which
    reads ``.slp`` with sleap-io and keeps user-labelled instances over predicted ones, as
    SLEAP's own export); ``.csv`` by :func:`read_sleap_csv`.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return read_sleap_csv(path, fps=fps)
    ds = _movement_dataset(path, "SLEAP", fps=fps)
    video = _video_named_in(path)
    return _from_dataset(
        ds,
        path,
        "sleap",
        fps,
        video=_video_path(video, path.parent),
        attrs={"video": video} if video else {},
    )


def _node_names(columns) -> list[str]:
    cols = [str(c) for c in columns]
    return [
        c[:-2] for c in cols if c.endswith(".x") and c[:-2] + ".y" in cols and c[:-2] != "instance"
    ]


def is_sleap_csv_header(columns) -> bool:
    """Whether a csv header is SLEAP's analysis CSV: ``frame_idx`` and ``<node>.x``/``.y`` pairs."""
    cols = [str(c).strip() for c in columns]
    return "frame_idx" in cols and bool(_node_names(cols))


def _track_rows(df, path: Path) -> dict:
    """{track name or "": row indices} in order of first appearance; untracked rows beside
    tracked ones are left out with a note."""
    import pandas as pd

    if "track" in df.columns:
        track = df["track"].map(lambda v: "" if pd.isna(v) else str(v).strip()).to_numpy()
    else:
        track = np.full(len(df), "", dtype=object)
    names = list(dict.fromkeys(track.tolist()))
    if "" in names and len(names) > 1:
        n = int((track == "").sum())
        note(
            path,
            f"{n} instance(s) without a track left out (the other rows belong to tracks "
            f"{[t for t in names if t][:5]})",
        )
        names.remove("")
    return {t: np.flatnonzero(track == t) for t in names}


def read_sleap_csv(path, fps=None) -> list[Recording]:
    """Read SLEAP's "Export Analysis CSV" table, one recording per track.

    Parameters
    ----------
    path : str or Path
        A csv with ``frame_idx``, ``<node>.x``, ``<node>.y`` and optionally ``track``,
        ``instance.score`` and ``<node>.score`` columns, one row per instance.
    fps : float, optional

    Returns
    -------
    list of Recording
        One per track (named by the track; ``""`` when there is no track column or every
        track is blank), frames 0 to the largest ``frame_idx``: keypoints (T, B, 2) pixels,
        NaN in frames without the track; confidence = ``<node>.score`` (NaN where absent,
        as for user-labelled points).

    Raises
    ------
    ValueError
        No node columns, a non-integer or negative ``frame_idx``, or one track (or, without
        tracks, the file) holding two instances in one frame.
    """
    import pandas as pd

    path = Path(path)
    df = pd.read_csv(path)
    df.columns = [str(c).strip() for c in df.columns]
    nodes = _node_names(df.columns)
    if "frame_idx" not in df.columns or not nodes:
        raise ValueError(
            f"{path}: not a SLEAP analysis CSV (needs frame_idx and <node>.x, <node>.y columns)"
        )
    frame = pd.to_numeric(df["frame_idx"], errors="coerce").to_numpy()
    if not (np.isfinite(frame).all() and (frame == np.round(frame)).all() and (frame >= 0).all()):
        raise ValueError(f"{path}: frame_idx must hold frame numbers 0, 1, 2, ...")
    frame = frame.astype(np.int64)
    T = int(frame.max()) + 1 if len(frame) else 0
    xy = np.stack([df[[f"{n}.x", f"{n}.y"]].to_numpy(dtype=np.float64) for n in nodes], axis=1)
    score = np.stack(
        [
            df[f"{n}.score"].to_numpy(dtype=np.float64)
            if f"{n}.score" in df.columns
            else np.full(len(df), np.nan)
            for n in nodes
        ],
        axis=1,
    )
    out = []
    for name, rows in _track_rows(df, path).items():
        f = frame[rows]
        frames, counts = np.unique(f, return_counts=True)
        if (counts > 1).any():
            who = (
                f"track {name!r}" if name else "the file (no track names: SLEAP's tracker was off)"
            )
            raise ValueError(
                f"{path}: {who} holds two instances in one frame (first at frame "
                f"{int(frames[counts > 1][0])}); run SLEAP's tracker so that each animal is "
                "one track, then export again"
            )
        data = np.full((T, len(nodes), 2), np.nan)
        conf = np.full((T, len(nodes)), np.nan)
        data[f], conf[f] = xy[rows], score[rows]
        out.append(
            Recording(
                name=name,
                data=data,
                kind="keypoints",
                fps=fps,
                bodyparts=tuple(nodes),
                confidence=conf,
                source=str(path),
                format="sleap",
                attrs={"individual": name} if name else {},
            )
        )
    if len(out) == 1 and out[0].name:
        out[0].name = ""  # one animal: the recording is named after the file, as for .slp and .h5
    return out
