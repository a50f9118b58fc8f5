"""Plain arrays: ``.npy`` (one recording), ``.npz`` (one recording per key) and numeric ``.csv``.

A (T, D) array is a features recording (e.g. PCs computed elsewhere); a (T, B, 2 or 3) array
is keypoints in pixels with generic body-part names; a (T,) array is one feature. These files
carry no frame rate: ``fps`` comes from the caller. Arrays are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .recording import Recording

__all__ = ["read_npy", "read_csv_array"]


def _recording(name, arr, path, fmt, fps, attrs=None) -> Recording:
    arr = np.asarray(arr)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{path}{'[' + name + ']' if name else ''}: array of dtype {arr.dtype} is not numeric")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim == 2:
        kind = "features"
    elif arr.ndim == 3 and arr.shape[2] in (2, 3):
        kind = "keypoints"
    else:
        raise ValueError(
            f"{path}{'[' + name + ']' if name else ''}: expected an array of shape (T, D) features or "
            f"(T, B, 2|3) keypoints, got {arr.shape}"
        )
    return Recording(name=name, data=arr.astype(np.float64), kind=kind, fps=fps, source=str(path), format=fmt,
                     attrs=attrs or {})


def read_npy(path, fps=None) -> list[Recording]:
    """Read a ``.npy`` array (one recording) or ``.npz`` archive (one recording per key).

    Parameters
    ----------
    path : str or Path
    fps : float, optional
        Frame rate (the file has none).

    Returns
    -------
    list of Recording
        Features for (T, D) and (T,) arrays, keypoints for (T, B, 2|3); ``.npz`` recordings are
        named by their key, in sorted key order.

    Raises
    ------
    ValueError
        For object arrays (pickles are refused) and other shapes.
    """
    path = Path(path)
    try:
        obj = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise ValueError(f"{path}: not a plain numeric .npy/.npz file (numpy: {e}); pickled objects are refused, "
                         "save numeric arrays") from None
    if isinstance(obj, np.lib.npyio.NpzFile):
        with obj:
            keys = sorted(obj.files)
            if not keys:
                raise ValueError(f"{path}: the archive holds no arrays")
            return [_recording(k, obj[k], path, "npy", fps, {"key": k}) for k in keys]
    return [_recording("", obj, path, "npy", fps)]


def _is_number(s: str) -> bool:
    s = s.strip()
    if s == "" or s.lower() in ("nan", "na", "n/a"):
        return True
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_csv_array(path, fps=None) -> list[Recording]:
    """Read a numeric table (one row per frame, one column per feature) as a features recording.

    Parameters
    ----------
    path : str or Path
        Comma-separated; a first row with any non-numeric field is a header (its names are kept
        in ``attrs["columns"]``). A leading column named ``""``, ``Unnamed: 0``, ``index`` or
        ``frame`` holding 0, 1, ..., T-1 is a row index and is dropped. Blank cells are NaN.
    fps : float, optional

    Returns
    -------
    list of Recording
        One features recording (T, D).

    Raises
    ------
    ValueError
        When a column holds text.
    """
    import pandas as pd

    path = Path(path)
    with open(path, newline="") as fh:
        first = next(csv.reader(fh), None)
    if first is None:
        raise ValueError(f"{path}: the file is empty")
    header = not all(_is_number(x) for x in first)
    df = pd.read_csv(path, header=0 if header else None)
    if header and df.shape[1] > 1:
        c0 = str(df.columns[0]).strip().lower()
        if c0 in ("", "unnamed: 0", "index", "frame") and np.array_equal(df.iloc[:, 0].to_numpy(), np.arange(len(df))):
            df = df.iloc[:, 1:]
    bad = [str(c) for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise ValueError(f"{path}: column(s) {bad} are not numeric; a plain csv must hold one number per cell "
                         "(for DeepLabCut tables use --format dlc)")
    attrs = {"columns": [str(c) for c in df.columns]} if header else {}
    return [_recording("", df.to_numpy(dtype=np.float64), path, "csv", fps, attrs)]
