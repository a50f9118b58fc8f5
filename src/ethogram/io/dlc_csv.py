"""A direct parser for DeepLabCut prediction tables in csv, so that reading one costs no ``movement``
import (about a second: xarray, pynwb, sleap-io).

It accepts exactly the tables ``movement.io.load_poses.from_dlc_style_df`` reads: a header of
``scorer``, optional ``individuals``, ``bodyparts`` and ``coords`` rows, every (individual, body
part) with the same coordinates (``x, y, likelihood`` or ``x, y, z``), one row per frame; and it
returns the same arrays (checked against movement in tests/test_io_pose.py). Anything else
returns None and the caller falls back to movement.
"""

from __future__ import annotations

import csv

import numpy as np

__all__ = ["parse_dlc_csv"]

_LEVELS = ("scorer", "individuals", "bodyparts", "coords")


def _unique(seq) -> list:
    return list(dict.fromkeys(seq))


def parse_dlc_csv(path):
    """Parse a DeepLabCut predictions csv.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict or None
        ``position`` (T, I, B, S) float64 pixels (NaN for blank cells), ``confidence``
        (T, I, B) float64 (the likelihood, NaN for 3-D tables that have none), ``individuals``
        (I names; ``["individual_0"]`` for a single-animal header, as movement names it),
        ``bodyparts`` (B names), ``scorer``; None when the table is not of that plain shape.
    """
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    levels, i = [], 0
    while i < len(rows) and rows[i] and rows[i][0].strip().lower() in _LEVELS:
        levels.append(rows[i][0].strip().lower())
        i += 1
    if levels not in (["scorer", "bodyparts", "coords"], ["scorer", "individuals", "bodyparts", "coords"]):
        return None
    header = {lv: [c.strip() for c in rows[k][1:]] for k, lv in enumerate(levels)}
    ncol = len(header["coords"])
    if ncol == 0 or any(len(h) != ncol for h in header.values()):
        return None
    ind_col = header.get("individuals", ["individual_0"] * ncol)
    individuals, bodyparts, coords = _unique(ind_col), _unique(header["bodyparts"]), _unique(header["coords"])
    if coords not in (["x", "y", "likelihood"], ["x", "y", "z"]):
        return None
    expected = [(a, b, c) for a in individuals for b in bodyparts for c in coords]
    if list(zip(ind_col, header["bodyparts"], header["coords"])) != expected:
        return None
    body = [r for r in rows[i:] if r and any(c.strip() for c in r)]
    try:
        vals = np.array([[float(v) if v.strip() else np.nan for v in r[1:]] for r in body], dtype=np.float64)
    except ValueError:
        return None
    if vals.ndim != 2 or vals.shape[1] != ncol:
        return None
    T = vals.shape[0]
    tracks = vals.reshape(T, len(individuals), len(bodyparts), len(coords))
    if coords[-1] == "likelihood":
        position, confidence = tracks[..., :2], tracks[..., 2]
    else:
        position, confidence = tracks, np.full(tracks.shape[:3], np.nan)
    scorer = _unique(header["scorer"])
    return {"position": np.ascontiguousarray(position), "confidence": np.ascontiguousarray(confidence),
            "individuals": individuals, "bodyparts": bodyparts, "scorer": scorer[0] if len(scorer) == 1 else None}
