"""Plain arrays: ``.npy`` (one recording), ``.npz`` (one recording per key) and numeric ``.csv``.

A (T, D) array is a features recording (e.g. PCs computed elsewhere); a (T, B, 2 or 3) array
is keypoints in pixels with generic body-part names, a (T, I, B, 2 or 3) array one keypoints
recording per animal; a (T,) array is one feature. These files carry no frame rate: ``fps``
comes from the caller. Arrays are read with ``allow_pickle=False``, and columns of frame numbers
or of 0/1 labels in a feature table are left out with a note (docs/design-notes.md,
"io/arrays.py").
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .notes import note
from .recording import Recording

__all__ = ["read_npy", "read_csv_array", "non_feature_columns"]

#: column names (lower case) of a frame index or a time stamp
INDEX_NAMES = frozenset(
    {
        "",
        "unnamed: 0",
        "index",
        "frame",
        "frames",
        "frame_idx",
        "frame_index",
        "frame_number",
        "frame_no",
        "frameno",
        "time",
        "times",
        "timestamp",
        "timestamps",
        "time_s",
        "seconds",
    }
)
#: rows needed before a column's content says it is an index or a 0/1 label
_MIN_ROWS = 3


def _is_index(col: np.ndarray, name: str | None) -> bool:
    finite = col[np.isfinite(col)]
    if len(finite) < _MIN_ROWS or len(finite) != len(col):
        return False
    steps = np.diff(finite)
    integers = bool(np.all(finite == np.round(finite)))
    if integers and np.all(steps == 1):
        return True
    return (
        name is not None
        and name.strip().lower() in INDEX_NAMES
        and bool(np.all(steps > 0))
        and (integers or "time" in name.lower() or name.strip().lower() == "seconds")
    )


def _is_label(col: np.ndarray) -> bool:
    finite = col[np.isfinite(col)]
    return len(col) >= _MIN_ROWS and len(finite) > 0 and bool(np.all((finite == 0) | (finite == 1)))


def non_feature_columns(data, names=None) -> tuple[list, list]:
    """Columns of a (T, D) table that are a frame index/time or a 0/1 label, not features.

    Parameters
    ----------
    data : array_like, shape (T, D)
    names : sequence of str, optional
        Column names (a header); without them only the content decides.

    Returns
    -------
    index, labels : list of int
        Column positions. A column is an index when it holds consecutive integers (frame
        numbers from any start), or, under a name in :data:`INDEX_NAMES`, increasing integers
        or times; a label when its values are only 0 and 1 (NaN ignored). Tables of fewer than
        3 rows are left alone.
    """
    data = np.asarray(data, dtype=np.float64)
    index, labels = [], []
    for j in range(data.shape[1]):
        name = None if names is None else str(names[j])
        if _is_index(data[:, j], name):
            index.append(j)
        elif _is_label(data[:, j]):
            labels.append(j)
    return index, labels


def _listed(names: list) -> str:
    shown = ", ".join(repr(n) for n in names[:6])
    return shown + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def _features_only(arr: np.ndarray, names, path, label: str) -> tuple[np.ndarray, list, dict]:
    """Drop index and 0/1 label columns with one note; their names go to ``attrs``."""
    index, labels = non_feature_columns(arr, names)
    if not index and not labels:
        return arr, names, {}
    shown = list(names) if names is not None else list(range(arr.shape[1]))
    idx_names, lab_names = [shown[j] for j in index], [shown[j] for j in labels]
    keep = [j for j in range(arr.shape[1]) if j not in set(index) | set(labels)]
    where = f"{path}{label}"
    if not keep:
        raise ValueError(
            f"{where}: no feature column left: every column is a frame index or a 0/1 label "
            f"(index {idx_names}, labels {lab_names})"
        )
    parts = ([f"frame index/time column(s) {_listed(idx_names)}"] if index else []) + (
        [f"0/1 label column(s) {_listed(lab_names)}"] if labels else []
    )
    note(
        where,
        f"{' and '.join(parts)} left out of the features (not measurements of the animal); "
        f"{len(keep)} feature column(s) kept",
    )
    attrs = {"index_columns": idx_names, "label_columns": lab_names}
    return arr[:, keep], None if names is None else [names[j] for j in keep], attrs


def _recordings(name, arr, path, fmt, fps, attrs=None, names=None) -> list[Recording]:
    arr = np.asarray(arr)
    label = f"[{name}]" if name else ""
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{path}{label}: array of dtype {arr.dtype} is not numeric")
    attrs = dict(attrs or {})
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim == 4 and arr.shape[3] in (2, 3):  # (T, animals, body parts, coordinates)
        if arr.shape[1] == 1:
            return [
                Recording(
                    name=name,
                    data=arr[:, 0].astype(np.float64),
                    kind="keypoints",
                    fps=fps,
                    source=str(path),
                    format=fmt,
                    attrs=attrs,
                )
            ]
        return [
            Recording(
                name=f"{name}/animal{i}" if name else f"animal{i}",
                data=arr[:, i].astype(np.float64),
                kind="keypoints",
                fps=fps,
                source=str(path),
                format=fmt,
                attrs={**attrs, "individual": i},
            )
            for i in range(arr.shape[1])
        ]
    if arr.ndim == 3 and arr.shape[2] in (2, 3):
        return [
            Recording(
                name=name,
                data=arr.astype(np.float64),
                kind="keypoints",
                fps=fps,
                source=str(path),
                format=fmt,
                attrs=attrs,
            )
        ]
    if arr.ndim != 2:
        hint = (
            (
                " (movement's position array is (time, space, keypoints, individuals): save "
                "position.transpose('time', 'individuals', 'keypoints', 'space'))"
            )
            if arr.ndim == 4
            else ""
        )
        raise ValueError(
            f"{path}{label}: expected an array of shape (T, D) features, (T, B, 2|3) keypoints or "
            f"(T, animals, B, 2|3) keypoints, got {arr.shape}{hint}"
        )
    arr, names, extra = _features_only(arr.astype(np.float64), names, path, label)
    if names is not None:
        attrs["columns"] = [str(c) for c in names]
    return [
        Recording(
            name=name,
            data=arr,
            kind="features",
            fps=fps,
            source=str(path),
            format=fmt,
            attrs={**attrs, **extra},
        )
    ]


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
        Features for (T, D) and (T,) arrays (frame-index and 0/1 label columns left out with
        a note, see :func:`non_feature_columns`), keypoints for (T, B, 2|3), one keypoints
        recording per animal for (T, animals, B, 2|3) (named ``animal<i>``; one animal keeps
        the file's name); ``.npz`` recordings are named by their key, in sorted key order.

    Raises
    ------
    ValueError
        For object arrays (pickles are refused) and other shapes.
    """
    path = Path(path)
    try:
        obj = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise ValueError(
            f"{path}: not a plain numeric .npy/.npz file (numpy: {e}); pickled objects are "
            "refused, save numeric arrays"
        ) from None
    if isinstance(obj, np.lib.npyio.NpzFile):
        with obj:
            keys = sorted(obj.files)
            if not keys:
                raise ValueError(f"{path}: the archive holds no arrays")
            return [r for k in keys for r in _recordings(k, obj[k], path, "npy", fps, {"key": k})]
    return _recordings("", obj, path, "npy", fps)


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
        Comma-separated; a first row with any non-numeric field is a header (the names of the
        columns kept are in ``attrs["columns"]``). Blank cells are NaN. Frame-index/time and
        0/1 label columns are left out with one note (:func:`non_feature_columns`; their
        names in ``attrs["index_columns"]`` and ``attrs["label_columns"]``).
    fps : float, optional

    Returns
    -------
    list of Recording
        One features recording (T, D).

    Raises
    ------
    ValueError
        When a column holds text, or no column is left once index and labels are out.
    """
    import pandas as pd

    path = Path(path)
    with open(path, newline="") as fh:
        first = next(csv.reader(fh), None)
    if first is None:
        raise ValueError(f"{path}: the file is empty")
    header = not all(_is_number(x) for x in first)
    df = pd.read_csv(path, header=0 if header else None)
    bad = [str(c) for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        from ..errors import ArgumentError

        raise ArgumentError(
            f"{path}: column(s) {bad} are not numeric; a plain csv must hold one number per cell "
            "(for DeepLabCut tables give {format:dlc})",
            "format",
        )
    names = [str(c) for c in df.columns]
    return _recordings(
        "", df.to_numpy(dtype=np.float64), path, "csv", fps, names=names if header else None
    )
