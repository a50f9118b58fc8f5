"""Physical units: how many pixels make a millimetre in each recording.

Keypoints and centroids stay in the file's units (pixels) everywhere in the package; a
recording's ``px_per_mm`` (None when unknown) turns pixel speeds and distances into mm/s and
cm in the tables. The scale comes from the file where it holds one (JABS ``cm_per_pixel``,
an NWB ``PoseEstimationSeries`` stored in metres, centimetres or millimetres, moseq2's
``centroid_*_mm`` beside ``centroid_*_px``: :func:`scale_from_file`), or from the user: one
number for every recording, or a CSV with columns ``recording,px_per_mm``
(:func:`set_scales`; ``--px-per-mm`` on the command line). A scale given by the user wins
over the file's, with a note when they differ by more than 1%.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .notes import note

__all__ = ["scale_from_file", "scale_from_unit", "read_scales_csv", "set_scales", "common_scale"]

#: length units a coordinate may be stored in, in millimetres
_UNIT_MM = {
    "m": 1000.0,
    "meter": 1000.0,
    "meters": 1000.0,
    "metre": 1000.0,
    "metres": 1000.0,
    "cm": 10.0,
    "centimeter": 10.0,
    "centimeters": 10.0,
    "centimetre": 10.0,
    "centimetres": 10.0,
    "mm": 1.0,
    "millimeter": 1.0,
    "millimeters": 1.0,
    "millimetre": 1.0,
    "millimetres": 1.0,
}


def scale_from_unit(unit) -> float | None:
    """Coordinate units per millimetre for a length unit (``"m"``: 0.001, ``"cm"``: 0.1,
    ``"mm"``: 1); None for pixels or anything else."""
    if unit is None:
        return None
    if isinstance(unit, bytes):
        unit = unit.decode(errors="replace")
    mm = _UNIT_MM.get(str(unit).strip().lower())
    return None if mm is None else 1.0 / mm


def _positive(v) -> float | None:
    try:
        v = float(np.asarray(v).item())
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) and v > 0 else None


def scale_from_file(recording) -> tuple[float, str] | None:
    """The scale a recording's file holds, from what its reader kept in ``attrs``.

    Parameters
    ----------
    recording : Recording

    Returns
    -------
    (px_per_mm, source) or None
        ``source`` says where it came from, e.g. ``"the file's cm_per_pixel 0.0815"``.
    """
    a = recording.attrs or {}
    cm = _positive(a.get("cm_per_pixel"))
    if cm is not None:  # JABS: centimetres per pixel
        return 1.0 / (10.0 * cm), f"the file's cm_per_pixel {cm:g}"
    per_mm = scale_from_unit(a.get("unit"))
    if per_mm is not None:  # NWB series stored in a length unit: coordinates already physical
        return per_mm, f"the file's unit {a['unit']!r}"
    mm_per_px = _positive(a.get("mm_per_px"))
    if mm_per_px is not None:  # moseq2: centroid in px and mm side by side
        return 1.0 / mm_per_px, "the file's centroid in px and mm"
    return None


def read_scales_csv(path) -> dict:
    """``{recording: px_per_mm}`` from a CSV with columns ``recording`` and ``px_per_mm``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict of str to float

    Raises
    ------
    ValueError
        Missing columns, a scale that is not a positive number, or a recording named twice
        with different scales (the message names the row and the fix).
    """
    import pandas as pd

    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"scales file {str(path)!r} not found")
    try:
        table = pd.read_csv(path, dtype={"recording": str})
    except (ValueError, pd.errors.ParserError) as e:
        raise ValueError(f"{path}: not a CSV of recording,px_per_mm ({e})") from None
    cols = {str(c).strip().lower(): c for c in table.columns}
    if "recording" not in cols or "px_per_mm" not in cols:
        raise ValueError(
            f"{path}: needs the columns recording,px_per_mm (one row per recording, "
            f"pixels per millimetre); found {list(table.columns)}"
        )
    out = {}
    for i, (name, value) in enumerate(zip(table[cols["recording"]], table[cols["px_per_mm"]])):
        v = _positive(pd.to_numeric(value, errors="coerce"))
        if v is None:
            raise ValueError(
                f"{path}: row {i + 2} ({name!r}): px_per_mm must be a positive number "
                f"of pixels per millimetre, got {value!r}"
            )
        name = str(name).strip()
        if name in out and out[name] != v:
            raise ValueError(f"{path}: recording {name!r} has two scales ({out[name]:g} and {v:g})")
        out[name] = v
    if not out:
        raise ValueError(f"{path}: no rows; give one row per recording: recording,px_per_mm")
    return out


def _keys(rec) -> list:
    """Names a scales CSV may use for a recording: its name, then its file's name and stem."""
    keys = [rec.name]
    if rec.source:
        p = Path(rec.source)
        keys += [str(rec.source), p.name, p.stem]
    if "/" in rec.name:
        keys.append(rec.name.split("/")[0])
    return keys


def _lookup(rec, scales: dict):
    for k in _keys(rec):
        if k in scales:
            return scales[k]
    return None


def set_scales(recordings, px_per_mm=None) -> list:
    """Give recordings their physical scale: the user's where given, else the file's.

    Parameters
    ----------
    recordings : list of Recording
        Changed in place (``px_per_mm``, and ``attrs["px_per_mm_from"]`` saying where it came
        from).
    px_per_mm : float, dict of str to float, str or Path, optional
        One scale for every recording; ``{recording: scale}``; or a CSV of
        ``recording,px_per_mm`` (:func:`read_scales_csv`). A name matches a recording's name
        (``clip/female``), its file's path, name or stem (``clip``: every animal of it).
        None: only the files' scales.

    Returns
    -------
    list of Recording
        The same recordings.

    Raises
    ------
    ValueError
        A scale that is not a positive number, or a CSV none of whose names matches a
        recording (naming both sides).
    """
    recordings = list(recordings)
    scales, where = _given(px_per_mm)
    matched = 0
    for rec in recordings:
        from_file = scale_from_file(rec)
        given = scales if isinstance(scales, float) else (_lookup(rec, scales) if scales else None)
        if given is not None:
            matched += 1
            if from_file is not None and abs(from_file[0] - given) > 0.01 * given:
                note(
                    rec.source or rec.name,
                    f"{rec.name!r}: {given:g} px/mm given ({where}) "
                    f"instead of {from_file[0]:.4g} px/mm from {from_file[1]}",
                )
            rec.px_per_mm, rec.attrs["px_per_mm_from"] = given, where
        elif from_file is not None:
            rec.px_per_mm, rec.attrs["px_per_mm_from"] = from_file
    if isinstance(scales, dict) and scales and not matched:
        names = ", ".join(repr(n) for n in list(scales)[:3])
        recs = ", ".join(repr(r.name) for r in recordings[:3])
        raise ValueError(
            f"no recording is named in the scales ({where}: {names} ...); the "
            f"recordings are {recs} ...: use their names, or their files' names"
        )
    return recordings


def _given(px_per_mm):
    """(float or dict or None, how to name where it came from)."""
    if px_per_mm is None:
        return None, ""
    if isinstance(px_per_mm, dict):
        out = {}
        for k, v in px_per_mm.items():
            if _positive(v) is None:
                raise ValueError(
                    f"px_per_mm[{k!r}] must be a positive number of pixels per "
                    f"millimetre, got {v!r}"
                )
            out[str(k)] = float(v)
        return out, "px_per_mm"
    if isinstance(px_per_mm, (str, os.PathLike)):
        text = os.fspath(px_per_mm)
        number = _float_or_none(text)
        if number is None:
            return read_scales_csv(text), f"{Path(text).name}"
        px_per_mm = number
    v = _positive(px_per_mm)
    if v is None or isinstance(px_per_mm, bool):
        from ..errors import ArgumentError

        raise ArgumentError(
            "{px_per_mm} must be a positive number of pixels per millimetre, a dict of them or a "
            f"CSV of recording,px_per_mm; got {px_per_mm!r}",
            "px_per_mm",
        )
    return v, "px_per_mm"


def _float_or_none(text: str):
    try:
        return float(text)
    except ValueError:
        return None


def common_scale(px_per_mm: dict) -> dict | None:
    """``px_per_mm`` when every recording has a scale, else None (pixels for all): a table
    that pools recordings states one unit."""
    if px_per_mm and all(v is not None for v in px_per_mm.values()):
        return dict(px_per_mm)
    return None
