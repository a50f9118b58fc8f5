"""The results file: one HDF5 file per fit (syllables, mask, inputs, centroid, heading,
timestamps and optional state probabilities and keypoints per recording; the fitted model as JSON
and arrays, never a pickle; the preparation, configuration, fit history and library versions),
written atomically beside one CSV per recording, and read back. The layout and its format
versions are in ``docs/application.md`` ("Layout"); the in-memory :class:`Results` and
:class:`RecordingResult` live in :mod:`ethogram.results.data`.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .._files import written_atomically
from .._hdf5 import open_checked
from .csv_files import csv_folder, safe_file_names, tables_folder, write_csvs, write_tables
from .data import _OPTIONAL_ARRAYS, RecordingResult, Results

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "RecordingResult",
    "Results",
    "csv_folder",
    "load_model",
    "load_results",
    "model_frame_rate",
    "safe_file_names",
    "tables_folder",
    "write_csvs",
    "write_results",
]

#: the value of the root attribute ``format``
FORMAT = "ethogram-results"
#: the layout version this code writes and the newest it reads; 2 added the models fitted by
#: Gibbs sampling (``config["method"]``, ``/model`` of a ``StickyHDPARHMM`` or ``KeypointSLDS``,
#: the keypoint SLDS's per-recording ``estimated_keypoints`` and ``noise_variance``); version 1
#: files (EM only) are read as before
FORMAT_VERSION = 2


# --------------------------------------------------------------------------- helpers
def library_versions() -> dict:
    """Versions of ethogram and of the libraries a fit depends on (for the results file)."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in (
        "ethogram",
        "numpy",
        "scipy",
        "numba",
        "scikit-learn",
        "h5py",
        "pandas",
        "movement",
    ):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def now_iso() -> str:
    """The current time (UTC) in ISO 8601, seconds precision."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _json_default(obj):
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path, os.PathLike)):
        return str(obj)
    if isinstance(obj, tuple):
        return list(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in the results file's JSON attributes")


def _dumps(obj) -> str:
    return json.dumps(obj, default=_json_default, sort_keys=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def _check_target(path: Path, folders, overwrite: bool) -> None:
    """Refuse a path under a file, and (without ``overwrite``) a results file or folder that
    exists."""
    existing = next(p for p in path.parents if p.exists())
    if not existing.is_dir():
        raise NotADirectoryError(
            f"cannot write {str(path)!r}: {str(existing)!r} is a file; choose another path"
        )
    if not overwrite:
        for p in [path] + folders:
            if p.exists():
                from ..errors import OutputExistsError

                raise OutputExistsError(
                    f"{str(p)!r} exists; pass {{overwrite:True}} to replace it", "overwrite"
                )


def _replace_folders(folders, tmp_folders) -> None:
    """Put each complete temporary folder in the place of its folder (the earlier one removed)."""
    for folder, tmp_folder in zip(folders, tmp_folders):
        old = folder.with_name(folder.name + f".old-{os.getpid()}")
        if folder.exists():
            os.replace(folder, old)
        os.replace(tmp_folder, folder)
        _remove(old)


def write_results(
    path, results: Results, overwrite: bool = False, csv: bool = True, tables: dict | None = None
) -> Path:
    """Write a results file (and its CSV folder) atomically.

    Parameters
    ----------
    path : str or Path
        The HDF5 file to write (``.h5`` is usual). Missing folders are created (and removed
        again if the write fails).
    results : Results
    overwrite : bool, default False
        Replace an existing file (and its CSV folder).
    csv : bool, default True
        Also write ``<stem>_csv/<recording>.csv`` beside it (see :func:`write_csvs`).
    tables : dict of str to pandas.DataFrame, optional
        Tables to write as ``<stem>_tables/<name>.csv`` (:func:`write_tables`), e.g. the syllable
        tables of :func:`ethogram.results.csv_files.syllable_tables`; replaced together with the
        results.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    FileExistsError
        When ``path`` (or its CSV folder) exists and ``overwrite`` is False.
    NotADirectoryError
        When a parent of ``path`` is a file.

    Notes
    -----
    Everything is written under temporary names in the target folder (``<name>.tmp-<pid>``)
    and renamed with :func:`os.replace` only once complete; on any error the temporary files
    are removed and existing results are left untouched.
    """
    import h5py

    path = Path(path)
    created = [p for p in reversed(path.parents) if not p.exists()]
    folders = ([csv_folder(path)] if csv else []) + ([tables_folder(path)] if tables else [])
    _check_target(path, folders, overwrite)
    tmp_folders = [folder.with_name(f"{folder.name}.tmp-{os.getpid()}") for folder in folders]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with written_atomically(path) as tmp:
            with h5py.File(tmp, "w") as f:
                _write_h5(f, results)
            for folder, tmp_folder in zip(folders, tmp_folders):
                _remove(tmp_folder)
                if folder == csv_folder(path) and csv:
                    write_csvs(tmp_folder, results)
                else:
                    write_tables(tmp_folder, tables)
        _replace_folders(folders, tmp_folders)
    except BaseException:
        for tmp_folder in tmp_folders:
            _remove(tmp_folder)
        for p in reversed(created):  # the folders this call made, if still empty
            if p.is_dir() and not any(p.iterdir()):
                p.rmdir()
        raise
    results.path = str(path)
    return path


def _put(group, name, arr) -> None:
    arr = np.asarray(arr)
    if arr.ndim >= 1 and arr.size >= 4096:
        group.create_dataset(name, data=arr, compression="gzip", compression_opts=4, shuffle=True)
    else:
        group.create_dataset(name, data=arr)


def _write_h5(f, results: Results) -> None:
    from .._version import __version__

    model = results.model
    description = model.describe()
    f.attrs["format"] = FORMAT
    f.attrs["format_version"] = FORMAT_VERSION
    f.attrs["ethogram_version"] = __version__
    f.attrs["created"] = results.created or now_iso()
    f.attrs["versions"] = _dumps(results.versions or library_versions())
    f.create_group("config").attrs["config"] = _dumps(results.config)

    g = f.create_group("model")
    g.attrs["description"] = _dumps(description)
    g.attrs["num_states"] = int(model.num_states)
    for key in ("observations", "observation_kwargs", "kappa"):
        if key in description:
            g.attrs[key] = _dumps(description[key])
    for key, value in model.get_params().items():
        _put(g, key, value)

    g = f.create_group("fit")
    for key, value in results.fit.items():
        if isinstance(value, (np.ndarray, list, tuple)):
            _put(g, key, np.asarray(value, dtype=np.float64))
        else:
            g.attrs[key] = _dumps(value)

    g = f.create_group("preparation")
    if results.preparation is not None:
        state = results.preparation.to_dict()
        for key, value in state["arrays"].items():
            _put(g, key, value)
        g.attrs["state"] = _dumps(state["attrs"])

    recs = f.create_group("recordings")
    recs.attrs["count"] = len(results.recordings)
    for i, rec in enumerate(results.recordings):
        g = recs.create_group(str(i))
        g.attrs["name"] = rec.name.replace("\x00", "\ufffd")  # HDF5 strings cannot hold NUL
        g.attrs["name_json"] = json.dumps(rec.name)  # exact, whatever the name holds
        g.attrs["fps"] = np.nan if rec.fps is None else float(rec.fps)
        g.attrs["source"] = rec.source or ""
        g.attrs["format"] = rec.format or ""
        g.attrs["video_path"] = rec.video_path or ""
        g.attrs["px_per_mm"] = np.nan if rec.px_per_mm is None else float(rec.px_per_mm)
        g.attrs["bodyparts"] = _dumps(None if rec.bodyparts is None else list(rec.bodyparts))
        _put(g, "syllables", rec.syllables.astype(np.int64))
        _put(g, "mask", rec.mask.astype(bool))
        _put(g, "inputs", rec.inputs.astype(np.float64))
        for attr in _OPTIONAL_ARRAYS:
            v = getattr(rec, attr)
            if v is not None:
                _put(g, attr, v)
    f.attrs["complete"] = True  # written last: a file without it was cut short


# --------------------------------------------------------------------------- reading
def _remedy(path) -> str:
    """What to do when ``path`` is not a results file: a recording (a pose or MoSeq file) is
    fitted first; anything else is given again as the file 'ethogram fit' wrote."""
    from ..io.formats import SUFFIXES

    p = Path(path)
    if p.suffix.lower() in SUFFIXES and p.suffix.lower() not in (".h5", ".hdf5"):
        return (
            f"if it is a recording, fit it first ('ethogram fit {p.name} -o DIR') and give "
            "DIR, the folder the fit writes"
        )
    return "give the results file written by 'ethogram fit', or write it again"


def _open(path):
    """Open and check a results file; return the open h5py.File."""
    f = open_checked(path, FORMAT, FORMAT_VERSION, "results file", older=True, remedy=_remedy(path))
    if not f.attrs.get("complete", False):
        f.close()
        raise ValueError(f"{str(path)!r} is incomplete (the write was cut short); fit again")
    return f


def _attr_str(attrs, key):
    v = attrs.get(key, "")
    if isinstance(v, bytes):
        v = v.decode()
    return str(v) or None


def _float_attr(attrs, key):
    """A float attribute, None when absent (files written before it existed) or NaN."""
    v = float(attrs.get(key, np.nan))
    return None if np.isnan(v) else v


def _read_model(f):
    from ..models import HMM, KeypointSLDS, StickyHDPARHMM

    g = f["model"]
    description = json.loads(g.attrs["description"])
    kinds = {"keypoint_slds": KeypointSLDS, "sticky_hdp_arhmm": StickyHDPARHMM}
    cls = kinds.get(description.get("kind"), HMM) if isinstance(description, dict) else HMM
    return cls.from_description(description, {key: g[key][()] for key in g.keys()})


def _read_preparation(f):
    g = f["preparation"]
    if "state" not in g.attrs:
        return None
    from ..prep import Preparation

    return Preparation.from_dict(
        {"arrays": {k: g[k][()] for k in g.keys()}, "attrs": json.loads(g.attrs["state"])}
    )


def _read(f, path, recordings: bool = True) -> Results:
    model = _read_model(f)
    prep = _read_preparation(f)
    fit = {}
    for key, value in f["fit"].attrs.items():
        fit[key] = json.loads(value)
    for key in f["fit"].keys():
        fit[key] = f["fit"][key][()]
    recs = []
    if recordings:
        group = f["recordings"]
        for i in range(int(group.attrs["count"])):
            g = group[str(i)]
            fps = float(g.attrs["fps"])
            bodyparts = json.loads(g.attrs["bodyparts"])
            extra = {a: g[a][()] for a in _OPTIONAL_ARRAYS if a in g}
            recs.append(
                RecordingResult(
                    name=json.loads(g.attrs["name_json"]),
                    syllables=g["syllables"][()],
                    mask=g["mask"][()],
                    inputs=g["inputs"][()],
                    fps=None if np.isnan(fps) else fps,
                    bodyparts=None if bodyparts is None else tuple(bodyparts),
                    source=_attr_str(g.attrs, "source"),
                    format=_attr_str(g.attrs, "format"),
                    video_path=_attr_str(g.attrs, "video_path"),
                    px_per_mm=_float_attr(g.attrs, "px_per_mm"),
                    **extra,
                )
            )
    return Results(
        model=model,
        preparation=prep,
        recordings=recs,
        config=json.loads(f["config"].attrs["config"]),
        fit=fit,
        versions=json.loads(f.attrs["versions"]),
        created=_attr_str(f.attrs, "created") or "",
        path=str(path),
    )


def load_results(path, recordings: bool = True) -> Results:
    """Read a results file written by :func:`write_results`.

    Parameters
    ----------
    path : str or Path
    recordings : bool, default True
        Also read the per-recording arrays (False reads only the model, preparation,
        configuration and fit history).

    Returns
    -------
    Results

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the file is not an ethogram results file (not HDF5, another HDF5 file),
        was written by a newer ethogram (higher ``format_version``), or is truncated or
        damaged.
    """
    f = _open(path)
    try:
        with f:
            return _read(f, path, recordings)
    except (KeyError, OSError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"{str(path)!r} is a damaged or truncated ethogram results file ({exc})"
        ) from None


def load_model(path):
    """The fitted model and its preparation from a results file, ready to label new recordings.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    model : ethogram.HMM
    preparation : ethogram.prep.Preparation

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`load_results`.
    """
    res = load_results(path, recordings=False)
    return res.model, res.preparation


def model_frame_rate(results) -> float | None:
    """The frame rate a model was fitted at: ``config["fps"]``, else the median rate of the
    recordings the results hold (read from the file's per-recording attributes when the
    results were loaded without them), else None.

    Parameters
    ----------
    results : Results

    Returns
    -------
    float or None
        Frames per second.
    """
    import h5py

    from ..io.rates import frame_rate

    fps = results.config.get("fps")
    if fps:
        return float(fps)
    rates = [frame_rate(r.fps, r.timestamps) for r in results.recordings]
    if not results.recordings and results.path and Path(results.path).is_file():
        with h5py.File(results.path, "r") as f:
            group = f.get("recordings")
            for i in range(int(group.attrs.get("count", 0)) if group is not None else 0):
                g = group[str(i)]
                fps_attr = float(g.attrs.get("fps", np.nan))
                ts = g["timestamps"][()] if np.isnan(fps_attr) and "timestamps" in g else None
                rates.append(frame_rate(fps_attr, ts))
    rates = [r for r in rates if r is not None]
    return float(np.median(rates)) if rates else None
