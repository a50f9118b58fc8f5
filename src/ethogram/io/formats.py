"""Which format a file is: the reader names, and a guess from a file's suffix and content.

Kept apart from reading (:mod:`ethogram.io.readers`): :data:`FORMATS` names the readers,
:func:`guess_format` tells a file's format from its suffix and, for CSV and HDF5 files, the
header or the datasets inside (DeepLabCut, SLEAP, ndx-pose NWB, JABS, MoSeq NWB, moseq2, plain
arrays), and refuses, naming the file and why, what it cannot tell (a DeepLabCut table of
hand-labelled images, an HDF5 file of no known layout, a CSV of text below its header).
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..errors import ArgumentError

#: reader names accepted by ``format=`` (``--format`` on the command line)
FORMATS = ("dlc", "sleap", "nwb-pose", "jabs", "moseq-nwb", "moseq2", "npy", "csv")


SUFFIXES = (".csv", ".h5", ".hdf5", ".nwb", ".slp", ".npy", ".npz")


class FormatError(ArgumentError):
    """A file whose format cannot be told; ``why`` is the reason without the path."""

    def __init__(self, message: str, why: str):
        # the advice names --format, unless the file is no recording at all (a video)
        super().__init__(message, ("format",) if "{format" in message else ())
        self.why = why

    def __reduce__(self):
        return (type(self), (self.template, self.why))


#: suffixes of videos: a pose file is the tracker's output for one, not the video itself
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm")


def _cannot_guess(path, why: str, recording: bool = True) -> ValueError:
    """The error of a file whose format is unknown; without ``recording`` (a video, a moseq2
    model file) the file is said not to be a recording instead of ``--format`` being advised,
    which no format would satisfy."""
    if not recording:
        return FormatError(f"{path} is not a recording: {why}", f"not a recording ({why})")
    return FormatError(
        f"cannot tell the format of {path} ({why}); give it as {{format:NAME}}, NAME "
        f"one of {', '.join(FORMATS)}",
        f"not a recording of a known format ({why})",
    )


def _is_pandas_table(f) -> bool:
    """Whether an HDF5 file holds a pandas DataFrame at its top level (how DeepLabCut saves)."""
    for key in f:
        obj = f.get(key, getlink=False)
        if obj is not None and "pandas_type" in obj.attrs:
            return True
    return False


def _guess_hdf5(path: Path) -> str:
    import h5py

    from .moseq2 import is_moseq2_extraction, is_moseq2_scores

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise FormatError(
            f"{path} is not a readable HDF5 file ({e}): it may be damaged or cut short (copy it "
            "again from where it was recorded); if it is a recording in another format, give "
            f"that as {{format:NAME}}, NAME one of {', '.join(FORMATS)}",
            f"not a readable HDF5 file ({e}): it may be damaged or cut short",
        ) from None
    with f:
        if "nwb_version" in f.attrs or ("processing" in f and "acquisition" in f):
            if "processing/MoSeq" in f:
                return "moseq-nwb"
            from .pose import _find_typed

            if _find_typed(f, "PoseEstimation"):
                return "nwb-pose"
            raise _cannot_guess(
                path, "an NWB file with neither processing/MoSeq nor an ndx-pose PoseEstimation"
            )
        if "poseest/points" in f:
            return "jabs"
        if "tracks" in f and "node_names" in f:
            return "sleap"
        if "df_with_missing" in f:
            return "dlc"
        if "frames" in f and "instances" in f and "points" in f:
            return "sleap"
        if is_moseq2_scores(f) or is_moseq2_extraction(f):
            return "moseq2"
        if _is_pandas_table(
            f
        ):  # DeepLabCut's table under another key (df, tracks): read_dlc checks it
            return "dlc"
        keys = ", ".join(sorted(f.keys())[:8])
        pca_model = {"components", "explained_variance"} <= set(f.keys())
    if pca_model:  # moseq2-pca's pca.h5: the model, not the scores of a recording
        raise _cannot_guess(
            path,
            "it holds a PCA model (components, explained_variance: moseq2-pca's pca.h5); give "
            "the scores file moseq2-pca's apply step writes (scores/, scores_idx/) or the "
            "extraction results_XX.h5 beside it",
            recording=False,
        )
    raise _cannot_guess(
        path, f"an HDF5 file with top-level entries [{keys}] that match no known layout"
    )


def guess_format(path) -> str:
    """Guess the reader of a file from its suffix and, for HDF5, its content.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        One of :data:`FORMATS`: ``.slp`` -> sleap; ``.npy``/``.npz`` -> npy; ``.csv`` -> dlc when
        the first cell is ``scorer`` (DeepLabCut header), else csv; ``.nwb`` (or HDF5 with
        ``nwb_version``) -> moseq-nwb with ``processing/MoSeq``, nwb-pose with an ndx-pose
        ``PoseEstimation``; ``.h5`` -> jabs (``poseest/points``), sleap (analysis file:
        ``tracks``, ``node_names``), dlc (``df_with_missing``, or a pandas table under another
        key), moseq2 (``scores`` and ``scores_idx``, or ``frames``, ``scalars``,
        ``timestamps``); ``.csv`` with ``frame_idx`` and ``<node>.x``/``<node>.y`` columns ->
        sleap (SLEAP's analysis CSV).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the format cannot be told, naming the file and the ``--format`` choices.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".slp":
        return "sleap"
    if suffix in (".npy", ".npz"):
        return "npy"
    if suffix == ".csv":
        with open(path, newline="", errors="replace") as fh:
            head = [fh.readline().rstrip("\r\n").split(",") for _ in range(5)]
        if head[0][0].strip().strip('"').lower() != "scorer":
            from .sleap import is_sleap_csv_header

            names = [c.strip().strip('"') for c in head[0]]
            return "sleap" if is_sleap_csv_header(names) else "csv"
        rows = {r[0].strip().lower(): i for i, r in enumerate(head) if r and r[0]}
        if "coords" in rows and "likelihood" not in head[rows["coords"]]:
            data_row = head[rows["coords"] + 1] if rows["coords"] + 1 < len(head) else [""]
            if not _is_float(data_row[0]):
                raise _cannot_guess(
                    path,
                    "a DeepLabCut table of hand-labelled images (x, y without likelihood, "
                    "indexed by image), not a tracked recording",
                )
        return "dlc"
    if suffix in (".h5", ".hdf5", ".nwb"):
        return _guess_hdf5(path)
    if suffix in VIDEO_SUFFIXES:
        raise _cannot_guess(
            path,
            "it is a video; give the pose tracker's output for it (DeepLabCut .csv or .h5, "
            "SLEAP .slp, NWB, JABS pose .h5); the video itself goes to 'ethogram movies "
            "--video'",
            recording=False,
        )
    raise _cannot_guess(path, f"unknown suffix {suffix!r}")


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def plain_csv_problem(path: Path, rows: int = 6) -> str | None:
    """Why a csv guessed as a plain numeric table is not one (text below the header), else None."""
    from .arrays import _is_number

    with open(path, newline="", errors="replace") as fh:
        head = [r for _, r in zip(range(rows), csv.reader(fh))]
    if not head:
        return "empty"
    data = head[1:] if not all(_is_number(x) for x in head[0]) else head
    if not data:
        return "a header and no rows"
    for row in data:
        if not all(_is_number(x) for x in row):
            return "text where numbers should be"
    return None
