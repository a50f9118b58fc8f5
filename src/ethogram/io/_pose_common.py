"""What the pose readers share: ``movement`` loaded quietly, the tracked video found by the tools'
naming rules, and (T, I, B, S) arrays turned into one :class:`Recording` per individual.

``movement`` (https://movement.neuroinformatics.dev) reads SLEAP and ndx-pose files into an
xarray dataset ``position`` (time, space, keypoints, individuals); :func:`_from_dataset` turns
it into recordings. The format readers (``dlc``, ``sleap``, ``jabs``, ``pose`` for NWB) import
from here, never from each other.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .recording import Recording


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


def _from_arrays(
    pos,
    conf,
    bodyparts,
    individuals,
    path: Path,
    fmt: str,
    fps,
    timestamps=None,
    video=None,
    attrs=None,
    animal_names=None,
):
    """One :class:`Recording` per individual from (T, I, B, S) positions and (T, I, B)
    confidences."""
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
