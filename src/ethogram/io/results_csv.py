"""The plain-text side of a results file: one CSV per recording and the syllable tables.

Beside ``results.h5``, ``<stem>_csv/<recording>.csv`` holds frame, time in seconds, syllable,
centroid, heading and the model's inputs for users who live in spreadsheets or R, and
``<stem>_tables/`` the syllable tables of :mod:`ethogram.analysis`. Recording names come from
inside files, so they are turned into safe file names that can never leave the folder
(:func:`safe_file_names`). :func:`ethogram.io.results.write_results` writes these folders under
temporary names and renames them together with the HDF5 file.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np

__all__ = ["safe_file_names", "csv_folder", "write_csvs", "tables_folder"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def safe_file_names(names) -> list:
    """File names (without extension) for recording names, unique and confined to one folder.

    Parameters
    ----------
    names : sequence of str
        Recording names; may hold slashes, ``..``, control characters or be empty.

    Returns
    -------
    list of str
        Same length and order. Every run of characters other than ASCII letters, digits,
        ``.``, ``_`` and ``-`` becomes ``_`` (accents are dropped first), leading dots and
        underscores are removed, names are cut to 100 characters, empty or reserved (Windows
        device) names become ``recording_<i>``, and duplicates (compared case-insensitively,
        for case-insensitive file systems) get ``_<n>`` appended.
    """
    out, seen = [], set()
    for i, name in enumerate(names):
        s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii")
        s = _UNSAFE.sub("_", s).lstrip("._")[:100].rstrip(".")
        if not s or s.split(".")[0].upper() in _RESERVED:
            s = f"recording_{i}"
        base, n = s, 1
        while s.lower() in seen:
            n += 1
            s = f"{base}_{n}"
        seen.add(s.lower())
        out.append(s)
    return out


def csv_folder(path) -> Path:
    """The folder of per-recording CSVs that belongs to the results file ``path``: ``<stem>_csv``."""
    path = Path(path)
    return path.with_name(path.stem + "_csv")


def _recording_table(rec):
    import pandas as pd

    T = rec.num_frames
    cols = {
        "frame": np.arange(T, dtype=np.int64),
        "time_s": rec.times(),
        "syllable": rec.syllables,
        "centroid_x": rec.centroid[:, 0] if rec.centroid is not None else np.full(T, np.nan),
        "centroid_y": rec.centroid[:, 1] if rec.centroid is not None else np.full(T, np.nan),
        "heading": rec.heading if rec.heading is not None else np.full(T, np.nan),
    }
    for j in range(rec.inputs.shape[1]):
        cols[f"input_{j}"] = rec.inputs[:, j]
    return pd.DataFrame(cols)


def write_csvs(folder, results) -> dict:
    """Write one CSV per recording into ``folder`` (created; must not exist).

    Columns: ``frame``, ``time_s`` (seconds), ``syllable`` (-1 = masked), ``centroid_x``,
    ``centroid_y`` (pixels), ``heading`` (radians), ``input_0`` .. ``input_{D-1}``; missing
    values are empty cells. Floats are written with 17 significant digits (exact round trip).

    Parameters
    ----------
    folder : path
    results : Results

    Returns
    -------
    dict
        ``{recording name: path of its CSV}``.
    """
    folder = Path(folder)
    folder.mkdir(parents=False, exist_ok=False)
    out = {}
    for rec, fname in zip(results.recordings, safe_file_names(results.names)):
        target = folder / f"{fname}.csv"
        # belt and braces: the sanitised name can only be a plain file inside the folder
        if target.resolve().parent != folder.resolve():
            raise ValueError(f"recording name {rec.name!r} would leave the output folder")
        _recording_table(rec).to_csv(target, index=False, float_format="%.17g")
        out[rec.name] = target
    return out


def tables_folder(path) -> Path:
    """The folder of syllable tables that belongs to the results file ``path``: ``<stem>_tables``."""
    path = Path(path)
    return path.with_name(path.stem + "_tables")


def _write_tables(folder: Path, tables: dict) -> None:
    folder.mkdir(parents=False, exist_ok=False)
    for fname, (name, table) in zip(safe_file_names(list(tables)), tables.items()):
        table.to_csv(folder / f"{fname}.csv", float_format="%.17g")
