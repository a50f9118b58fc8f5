"""Data shipped inside the package: small real recordings for the demo and the examples.

``openfield/keypoints.csv`` is DeepLabCut tracking of one mouse in an open field (4 body
parts, 2330 frames at 30 fps), MIT-licensed (licence and provenance beside it). Nothing
here is read at import time.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["openfield_keypoints", "data_path"]


def data_path(name: str) -> Path:
    """Path of a file shipped in ``ethogram/data``.

    Parameters
    ----------
    name : str
        Relative path inside the data folder, e.g. ``"openfield/keypoints.csv"``.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        When the file is not part of this installation.
    """
    path = Path(__file__).resolve().parent / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{name!r} is not among ethogram's shipped data files (looked in {path.parent})"
        )
    return path


def openfield_keypoints() -> Path:
    """DeepLabCut csv of one mouse in an open field (snout, leftear, rightear, tailbase; 30 fps).

    Returns
    -------
    pathlib.Path
        ``ethogram/data/openfield/keypoints.csv``. Source: PyPI package ethome-ml 0.6.2
        (``ethome/data/dlc/openfield/``), MIT licence.
    """
    return data_path("openfield/keypoints.csv")
