"""Syllable labels from any file that holds them, per recording: the reader of ``ethogram compare``.

This room reads the labels a comparison is made against (:mod:`ethogram.analysis.labels_compare`
scores them): an ethogram results file, keypoint-moseq's results (HDF5 or its folder of CSVs),
an NWB file written by ``ethogram export --nwb``, a CSV with a label column, or any recording
file ethogram reads that stores labels (MoSeq's ``labels_clean``). It sits with the results
file because it reads that format too.
"""

from __future__ import annotations

import numpy as np

__all__ = ["read_labels"]

_LABEL_COLUMNS = ("label", "labels", "syllable", "labels_clean", "state")


def read_labels(path) -> dict[str, np.ndarray]:
    """Reference labels from a file, per recording.

    Parameters
    ----------
    path : str or Path
        One of: an ethogram results file (its syllables) or the folder of a fit (its
        ``results.h5``, as the commands take it); keypoint-moseq's ``results.h5`` (or its
        model's folder holding one) or the folder of CSVs its ``save_results_as_csv`` writes
        (:mod:`ethogram.io.kpms`); an NWB file written by ``ethogram export --nwb``; a CSV
        with a label column
        (``label``, ``syllable``, ``labels_clean`` or ``state``), optionally ``recording`` and
        ``frame`` columns (rows sorted by frame; -1 or empty = none), e.g. the per-recording
        CSVs ethogram writes; or any recording file ethogram reads that stores labels (MoSeq
        NWB ``Labels/labels_clean``).

    Returns
    -------
    dict of str to ndarray of int64, shape (T,)
        A CSV without a ``recording`` column gives one entry named after the file's stem.

    Raises
    ------
    ValueError
        When the file holds no labels.
    """
    from pathlib import Path

    p = Path(path).expanduser()
    if p.is_dir() and (p / "results.h5").is_file():  # a fit's folder (ethogram's or kpms's)
        return read_labels(p / "results.h5")
    if p.is_dir():  # keypoint-moseq's save_results_as_csv folder
        from ..io.kpms import read_kpms_csvs

        return read_kpms_csvs(p)
    if not p.is_file():
        raise FileNotFoundError(f"labels file {str(p)!r} not found")
    if p.suffix.lower() == ".csv":
        import pandas as pd

        df = pd.read_csv(p)
        cols = {str(c).strip().lower(): c for c in df.columns}
        col = next((cols[c] for c in _LABEL_COLUMNS if c in cols), None)
        if col is None:
            raise ValueError(
                f"{p}: no label column; name one of {_LABEL_COLUMNS} (or give an annotations CSV "
                "with start, stop, behavior)"
            )
        vals = pd.to_numeric(df[col], errors="coerce").fillna(-1)
        if not np.all(np.equal(np.mod(vals, 1), 0)):
            raise ValueError(f"{p}: labels in column {col!r} must be integers")
        df = df.assign(_label=vals.astype(np.int64))
        if "frame" in cols:
            df = df.sort_values(cols["frame"], kind="stable")
        if "recording" in cols:
            return {
                str(k): g["_label"].to_numpy() for k, g in df.groupby(cols["recording"], sort=False)
            }
        return {p.stem: df["_label"].to_numpy()}
    found = _labels_of_other_tools(p)
    if found is not None:
        return found
    from ..io import read_recordings

    recs = read_recordings(p)
    out = {r.name: np.asarray(r.labels, dtype=np.int64) for r in recs if r.labels is not None}
    if not out:
        raise ValueError(
            f"{p}: holds no syllable labels (MoSeq labels_clean, an ethogram results file or a CSV)"
        )
    return out


def _labels_of_other_tools(p):
    """Labels of an ethogram results file, keypoint-moseq's results.h5 or an NWB file written by
    ``ethogram export --nwb``; None for any other file."""
    import h5py

    try:
        with h5py.File(p, "r") as f:
            is_results = "ethogram" in str(f.attrs.get("format", ""))
    except OSError:
        is_results = False
    if is_results:
        from .hdf5 import load_results

        return {k: np.asarray(v, dtype=np.int64) for k, v in load_results(p).syllables().items()}
    from ..io.kpms import is_kpms_results, read_kpms_results

    if is_kpms_results(p):
        return {k: v["syllable"] for k, v in read_kpms_results(p).items()}
    from ..io.nwb_export import read_nwb_syllables

    exported = read_nwb_syllables(p) if p.suffix.lower() == ".nwb" else {}
    if exported:  # one entry per animal: syllable, syllable_<animal>
        return {
            p.stem + ("/" + k[len("syllable_") :] if k != "syllable" else ""): v
            for k, v in exported.items()
        }
    return None
