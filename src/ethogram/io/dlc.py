"""DeepLabCut prediction tables (``.csv`` and ``.h5``) -> one recording per individual.

A DeepLabCut table has one row per frame and one column per (individual, body part, coordinate)
under a header of ``scorer``, ``individuals`` (multi-animal only), ``bodyparts`` and ``coords``.
Columns are looked up by their names, never reshaped: in a multi-animal project the individual
``single`` holds the *unique* body parts (arena corners, an object, a cricket) that the animals
do not have, so the columns are not a full (individual x body part x coordinate) product and a
reshape halves the frames and moves values between animals (movement#977,
keypoint-moseq#128). Each individual is read with its own body parts; ``single`` is left out
with a note (see :func:`read_dlc`). ``.h5`` files are pandas tables; DeepLabCut stores its
table under the key ``df_with_missing``, other tools under ``df`` or ``tracks``: any single
table with DeepLabCut's columns is read, and several are named in the error.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ._pose_common import _video_beside
from .notes import note
from .recording import Recording

__all__ = ["read_dlc", "dlc_table", "split_individuals", "UNIQUE_INDIVIDUAL"]

_LEVELS = ("scorer", "individuals", "bodyparts", "coords")
#: DeepLabCut's name for the individual that holds a multi-animal project's unique body parts
UNIQUE_INDIVIDUAL = "single"
#: the individual's name movement and ethogram give a single-animal table
SINGLE_ANIMAL = "individual_0"
_COORDS = ("x", "y", "z", "likelihood")


def _csv_header(path: Path) -> tuple[list, int]:
    """The header rows of a DeepLabCut csv as {level: cells} and the number of header rows."""
    with open(path, newline="", errors="replace") as fh:
        head = [row for _, row in zip(range(5), csv.reader(fh))]
    levels = []
    for row in head:
        if row and row[0].strip().lower() in _LEVELS:
            levels.append(row[0].strip().lower())
        else:
            break
    if levels not in (
        ["scorer", "bodyparts", "coords"],
        ["scorer", "individuals", "bodyparts", "coords"],
    ):
        found = [r[0] for r in head if r][:4]
        raise ValueError(
            f"{path}: not a DeepLabCut predictions table: its header rows start {found}, "
            "expected scorer, (individuals,) bodyparts, coords"
        )
    cells = {lv: [c.strip() for c in head[k][1:]] for k, lv in enumerate(levels)}
    ncol = len(cells["coords"])
    if (
        ncol == 0
        or any(len(c) != ncol for c in cells.values())
        or any("" in c for c in cells.values())
    ):
        raise ValueError(
            f"{path}: the DeepLabCut header rows have blank or missing cells; this is not a "
            "table of tracked frames (hand-labelled images have several index columns)"
        )
    return cells, len(levels)


def _csv_table(path: Path):
    import pandas as pd

    cells, n_header = _csv_header(path)
    ind = cells.get("individuals", [SINGLE_ANIMAL] * len(cells["coords"]))
    columns = list(zip(ind, cells["bodyparts"], cells["coords"]))
    body = pd.read_csv(path, header=None, skiprows=n_header, skip_blank_lines=True)
    if len(body) and not pd.api.types.is_numeric_dtype(body.iloc[:, 0]):
        raise ValueError(
            f"{path}: rows are indexed by {body.iloc[0, 0]!r}, not by frame number: a table of "
            "hand-labelled images, not a tracked recording"
        )
    body = body.iloc[:, 1:]  # the first column is the frame index
    if body.shape[1] != len(columns):
        raise ValueError(
            f"{path}: rows have {body.shape[1]} values but the header names {len(columns)} columns"
        )
    text = [
        str(c) for c, k in zip(columns, body.columns) if not pd.api.types.is_numeric_dtype(body[k])
    ]
    if text:
        raise ValueError(f"{path}: column(s) {text[:3]} hold text, not coordinates")
    scorers = list(dict.fromkeys(cells["scorer"]))
    return columns, body.to_numpy(dtype=np.float64), scorers[0] if len(scorers) == 1 else None


def _frame_columns(df):
    """(columns as (individual, body part, coordinate), scorer) of a DeepLabCut DataFrame, or
    None when it has not DeepLabCut's column levels."""
    cols = df.columns
    names = [str(n).lower() if n is not None else None for n in getattr(cols, "names", [None])]
    if getattr(cols, "nlevels", 1) not in (3, 4):
        return None
    if names[-2:] != ["bodyparts", "coords"] and names != [None] * cols.nlevels:
        return None
    coords = {str(c) for c in cols.get_level_values(-1)}
    if not {"x", "y"} <= coords or not coords <= set(_COORDS):
        return None
    ind = cols.get_level_values(1) if cols.nlevels == 4 else [SINGLE_ANIMAL] * len(cols)
    columns = [
        (str(a), str(b), str(c))
        for a, b, c in zip(ind, cols.get_level_values(-2), cols.get_level_values(-1))
    ]
    scorers = list(dict.fromkeys(str(s) for s in cols.get_level_values(0)))
    return columns, scorers[0] if len(scorers) == 1 else None


def _h5_table(path: Path):
    import warnings

    import pandas as pd

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTables on HDF5 files pandas did not write (NWB)
            with pd.HDFStore(path, "r") as store:
                keys = list(store.keys())
                found = {}
                for key in keys:
                    try:
                        obj = store[key]
                    except (TypeError, ValueError, KeyError, OSError):
                        continue
                    if isinstance(obj, pd.DataFrame) and _frame_columns(obj) is not None:
                        found[key] = obj
    except (OSError, ValueError) as e:
        raise ValueError(
            f"{path}: not a pandas HDF5 file ({' '.join(str(e).split())[:120]})"
        ) from None
    if "/df_with_missing" in found:  # DeepLabCut's own key wins over copies beside it
        found = {"/df_with_missing": found["/df_with_missing"]}
    if len(found) != 1:
        what = (
            f"several DeepLabCut tables ({', '.join(found)}); save one table per file"
            if found
            else f"no DeepLabCut table (pandas keys: {', '.join(keys) or 'none'}); DeepLabCut "
            "writes one under 'df_with_missing' with columns scorer/(individuals/)bodyparts/coords"
        )
        raise ValueError(f"{path}: {what}")
    ((key, df),) = found.items()
    columns, scorer = _frame_columns(df)
    values = df.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    return columns, values, scorer, key


def dlc_table(path):
    """Read a DeepLabCut table without interpreting it.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (3- or 4-row header) or ``.h5`` (a pandas table under any single key).

    Returns
    -------
    columns : list of (individual, body part, coordinate)
        One per column of ``values``; the individual is ``"individual_0"`` in a single-animal table.
    values : ndarray, shape (T, C)
        float64, NaN for blank cells.
    info : dict
        ``scorer`` (or None when columns name several) and, for ``.h5``, the ``key`` read.

    Raises
    ------
    ValueError
        A header that is not DeepLabCut's, text in a coordinate column, an ``.h5`` file with no
        or several DeepLabCut tables (naming the keys found).
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        columns, values, scorer = _csv_table(path)
        return columns, values, {"scorer": scorer}
    columns, values, scorer, key = _h5_table(path)
    return columns, values, {"scorer": scorer, "key": key}


def split_individuals(columns, values, path="the table") -> list[dict]:
    """Arrays per individual, each with its own body parts, found by column name.

    Parameters
    ----------
    columns : list of (individual, body part, coordinate)
    values : ndarray, shape (T, C)
    path : str, optional
        Named in errors.

    Returns
    -------
    list of dict
        In order of first appearance: ``individual``, ``bodyparts`` (B names, in column order),
        ``position`` (T, B, 2 or 3) pixels and ``confidence`` (T, B) (the likelihood; NaN when
        the table has none, as in 3-D tables).

    Raises
    ------
    ValueError
        A column named twice, a body part without x or y, or body parts of one individual with
        different coordinates (2-D and 3-D mixed).
    """
    index = {}
    for j, key in enumerate(columns):
        if key in index:
            raise ValueError(f"{path}: column {key} appears twice")
        index[key] = j
    parts = {}
    for ind, bp, _ in columns:
        parts.setdefault(ind, {}).setdefault(bp, None)
    out = []
    for ind, bps in parts.items():
        dims = {bp: [c for c in ("x", "y", "z") if (ind, bp, c) in index] for bp in bps}
        bad = [bp for bp, d in dims.items() if d[:2] != ["x", "y"]]
        if bad:
            raise ValueError(
                f"{path}: individual {ind!r}: body part(s) {bad} lack an x or y column"
            )
        if len({len(d) for d in dims.values()}) > 1:
            raise ValueError(f"{path}: individual {ind!r} mixes 2-D and 3-D body parts")
        coords = next(iter(dims.values()))
        pos = np.stack([values[:, [index[(ind, bp, c)] for c in coords]] for bp in bps], axis=1)
        conf = np.stack(
            [
                values[:, index[(ind, bp, "likelihood")]]
                if (ind, bp, "likelihood") in index
                else np.full(len(values), np.nan)
                for bp in bps
            ],
            axis=1,
        )
        out.append({"individual": ind, "bodyparts": list(bps), "position": pos, "confidence": conf})
    return out


def read_dlc(path, fps=None, unique_bodyparts: bool = False) -> list[Recording]:
    """Read a DeepLabCut predictions file (csv or h5; single or multi-animal).

    Parameters
    ----------
    path : str or Path
        ``.csv`` with the 3-row (scorer, bodyparts, coords) or 4-row (scorer, individuals,
        bodyparts, coords) header, or an ``.h5`` pandas table with those column levels
        (DeepLabCut's key ``df_with_missing``, or any other single key such as ``df``).
    fps : float, optional
        Frame rate; DeepLabCut files do not store one, so ``fps`` stays None without it.
    unique_bodyparts : bool, default False
        Also return the multi-animal project's unique body parts (individual ``single``) as a
        recording of their own. Left out by default, with a note: they are not an animal of
        the same kind (arena corners or an object stand still; a cricket has other body parts),
        so fitting them with the animals would fail on the body parts or pollute the syllables.

    Returns
    -------
    list of Recording
        One per individual, with that individual's body parts only: keypoints (T, B, 2 or 3)
        pixels, confidence = DeepLabCut's likelihood (T, B); NaN where the file has blanks.
        ``video_path`` is ``<video stem>.mp4|.avi|.mov|.mkv`` beside the file when its name
        follows DeepLabCut's ``<video stem>DLC_<network>...`` rule and that video exists.

    Raises
    ------
    ValueError
        See :func:`dlc_table` and :func:`split_individuals`; also a file holding only unique
        body parts.
    """
    path = Path(path)
    columns, values, info = dlc_table(path)
    animals = split_individuals(columns, values, path)
    multi = any(a["individual"] != SINGLE_ANIMAL for a in animals)
    unique = [a for a in animals if multi and a["individual"] == UNIQUE_INDIVIDUAL]
    if unique and not unique_bodyparts:
        animals = [a for a in animals if a not in unique]
        if not animals:
            raise ValueError(
                f"{path}: the table holds only the unique body parts of individual 'single'"
            )
        note(
            path,
            f"unique body parts {unique[0]['bodyparts']} (DeepLabCut individual 'single') left "
            "out: they are not an animal; read them with "
            "ethogram.io.dlc.read_dlc(path, unique_bodyparts=True)",
        )
    # DeepLabCut names its output <video stem>DLC_<network>_<project>...
    video = _video_beside(path, path.stem.split("DLC_")[0]) if "DLC_" in path.stem else None
    attrs = {k: v for k, v in info.items() if v is not None}
    return [
        Recording(
            name="" if len(animals) == 1 else a["individual"],
            data=a["position"],
            kind="keypoints",
            fps=fps,
            bodyparts=tuple(a["bodyparts"]),
            confidence=a["confidence"],
            source=str(path),
            format="dlc",
            video_path=video,
            attrs={"individual": a["individual"], **attrs},
        )
        for a in animals
    ]
