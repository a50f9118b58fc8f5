"""The plain-text side of a results file: one CSV per recording and the syllable tables.

Beside ``results.h5``, ``<stem>_csv/<recording>.csv`` holds frame, time in seconds, syllable,
centroid, heading and the model's inputs for users who live in spreadsheets or R, and
``<stem>_tables/`` the syllable tables of :mod:`ethogram.analysis` (:func:`syllable_tables`,
written by :func:`write_tables`; the HTML report's ``tables/`` holds the same files). Recording
names come from inside files, so they are turned into safe file names that can never leave the
folder (:func:`safe_file_names`). :func:`ethogram.results.write_results` writes these folders
under temporary names and renames them together with the HDF5 file.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np

__all__ = [
    "safe_file_names",
    "csv_folder",
    "write_csvs",
    "tables_folder",
    "syllable_tables",
    "write_tables",
    "TABLE_NAMES",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(10)),
    *(f"LPT{i}" for i in range(10)),
}


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
    """The folder of per-recording CSVs that belongs to the results file ``path``:
    ``<stem>_csv``."""
    path = Path(path)
    return path.with_name(path.stem + "_csv")


def _f64(values) -> np.ndarray:
    """float64, so that a CSV cell (the shortest text that reads back as this float64) is the
    exact value."""
    return np.asarray(values, dtype=np.float64)


def _recording_table(rec):
    import pandas as pd

    T = rec.num_frames
    cols = {
        "frame": np.arange(T, dtype=np.int64),
        "time_s": rec.times(),
        "syllable": rec.syllables,
        "centroid_x": _f64(rec.centroid[:, 0]) if rec.centroid is not None else np.full(T, np.nan),
        "centroid_y": _f64(rec.centroid[:, 1]) if rec.centroid is not None else np.full(T, np.nan),
        "heading": _f64(rec.heading) if rec.heading is not None else np.full(T, np.nan),
    }
    for j in range(rec.inputs.shape[1]):
        cols[f"input_{j}"] = _f64(rec.inputs[:, j])
    return pd.DataFrame(cols)


def write_csvs(folder, results) -> dict:
    """Write one CSV per recording into ``folder`` (created; must not exist).

    Columns: ``frame``, ``time_s`` (seconds), ``syllable`` (-1 = masked), ``centroid_x``,
    ``centroid_y`` (pixels), ``heading`` (radians), ``input_0`` .. ``input_{D-1}``; missing
    values are empty cells. Floats are written as float64 in their shortest form that reads back
    exactly (Python's ``repr``: ``0.6``, not ``0.59999999999999998``).

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
        _recording_table(rec).to_csv(target, index=False)  # floats: shortest exact text (repr)
        out[rec.name] = target
    return out


def tables_folder(path) -> Path:
    """The folder of syllable tables that belongs to the results file ``path``:
    ``<stem>_tables``."""
    path = Path(path)
    return path.with_name(path.stem + "_tables")


#: the syllable tables of a fit, as files ``<name>.csv`` in ``<stem>_tables/`` and in a report's
#: ``tables/``
TABLE_NAMES = ("summary", "usage", "durations", "bigrams", "transitions")


def syllable_tables(results) -> dict:
    """The syllable tables of a fit, from :mod:`ethogram.analysis` (one definition for the
    tables beside the results and those of the HTML report).

    Parameters
    ----------
    results : Results

    Returns
    -------
    dict of str to pandas.DataFrame
        In the order of :data:`TABLE_NAMES`: ``summary`` (index ``syllable``: instances,
        frequency, frames, frame fraction, median duration in frames and seconds, and the mean
        centroid speed in pixels per second when every recording has a centroid and a frame
        rate, ``mean_speed_mm_s`` too when every recording has a scale (``px_per_mm``);
        :func:`ethogram.analysis.syllable_summary`), ``usage`` (one row per recording and
        syllable), ``durations`` (one row per syllable instance; seconds are NaN for a
        recording without a frame rate; the centroid's path in pixels, ``distance_px``, and in
        centimetres, ``distance_cm``, when every recording has a scale), ``bigrams`` (counts,
        index ``from``, columns ``to``)
        and ``transitions`` (bigram probabilities: counts over all transitions,
        ``normalize="bigram"``).
    """
    from ..analysis import (
        bigram_counts,
        syllable_durations,
        syllable_summary,
        syllable_usage,
        transition_probabilities,
    )
    from ..io.units import common_scale

    labels, fps, K = results.syllables(), results.fps(), results.num_states
    cents = {r.name: r.centroid for r in results.recordings}
    with_centroid = all(c is not None for c in cents.values())
    with_speed = with_centroid and all(f is not None for f in fps.values())
    scales = common_scale(results.px_per_mm())  # mm only when every recording has a scale
    return {
        "summary": syllable_summary(
            labels, fps=fps, centroid=cents if with_speed else None, num_states=K, px_per_mm=scales
        ),
        "usage": syllable_usage(labels, K),
        "durations": syllable_durations(
            labels, fps=fps, centroid=cents if with_centroid else None, px_per_mm=scales
        ),
        "bigrams": bigram_counts(labels, K),
        "transitions": transition_probabilities(labels, K),
    }


def write_tables(folder, tables: dict) -> dict:
    """Write tables as ``folder/<name>.csv`` (the folder is created and must not exist).

    A named index (``syllable``, ``from``) is written as the first column; a plain row number
    (an unnamed 0..n-1 index) is not. Floats are written in their shortest form that reads back
    exactly (Python's ``repr``); names become safe file names (:func:`safe_file_names`).

    Parameters
    ----------
    folder : path
    tables : dict of str to pandas.DataFrame

    Returns
    -------
    dict
        ``{name: file name}`` (e.g. ``"summary.csv"``).
    """
    import pandas as pd

    folder = Path(folder)
    folder.mkdir(parents=False, exist_ok=False)
    out = {}
    for fname, (name, table) in zip(safe_file_names(list(tables)), tables.items()):
        row_numbers = isinstance(table.index, pd.RangeIndex) and table.index.name is None
        table.to_csv(
            folder / f"{fname}.csv", index=not row_numbers
        )  # floats: shortest exact text (repr)
        out[name] = f"{fname}.csv"
    return out
