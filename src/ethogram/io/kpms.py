"""keypoint-moseq's outputs, read as a second labelling of the same recordings.

keypoint-moseq (0.4 to 0.8.1, ``keypoint_moseq.io.extract_results``) writes one HDF5 file,
``results.h5``, with a group per recording (named after the recording; ``save_hdf5`` marks
each with the attribute ``type = "dict"``) holding ``syllable`` (T,) int (its first ``nlags``
frames repeat the first syllable), ``latent_state`` (T, latent_dim), ``centroid`` (T, 2 or 3)
and ``heading`` (T,) radians; ``save_results_as_csv`` writes one CSV per recording into a
``results/`` folder, named after the recording (path separators replaced by ``-``), with the
columns ``syllable``, ``centroid x``, ``centroid y`` (``centroid z``), ``heading`` and
``latent_state 0`` ... Its syllables are numbered by frequency like ethogram's, so the same
number on both sides means nothing by itself: :mod:`ethogram.analysis.labels_compare` matches
them. Recording names follow keypoint-moseq's rules (``<file stem>``, ``<file stem>_<individual>``
for DeepLabCut multi-animal files), which :func:`ethogram.analysis.labels_compare.pair_labels`
pairs with ethogram's (``<file stem>/<individual>``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["is_kpms_results", "read_kpms_results", "read_kpms_csvs"]

_FIELDS = ("syllable", "latent_state", "centroid", "heading")


def _recording_groups(f) -> dict:
    """``{name: group}`` of every group holding a 1-D ``syllable`` dataset (names with ``/``
    were written by keypoint-moseq as nested groups)."""
    import h5py

    found = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and isinstance(obj.get("syllable"), h5py.Dataset):
            if obj["syllable"].ndim == 1:
                found[name] = obj

    f.visititems(visit)
    return found


def is_kpms_results(path) -> bool:
    """Whether an HDF5 file is keypoint-moseq's ``results.h5`` (groups with ``syllable``, and no
    ethogram ``format`` attribute)."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            if "format" in f.attrs or "nwb_version" in f.attrs:
                return False
            return bool(_recording_groups(f))
    except OSError:
        return False


def read_kpms_results(path) -> dict:
    """Read keypoint-moseq's ``results.h5``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict of str to dict
        ``{recording: {"syllable": (T,) int64, "latent_state": (T, d), "centroid": (T, 2|3),
        "heading": (T,)}}`` (the fields the file holds), in the file's order.

    Raises
    ------
    ValueError
        When the file holds no recording group with ``syllable``, or a recording's fields have
        different numbers of frames.
    """
    import h5py

    path = Path(path)
    out = {}
    with h5py.File(path, "r") as f:
        groups = _recording_groups(f)
        if not groups:
            raise ValueError(
                f"{path}: not a keypoint-moseq results file (no group holds a 'syllable' dataset)"
            )
        for name, g in groups.items():
            rec = {k: g[k][()] for k in _FIELDS if isinstance(g.get(k), h5py.Dataset)}
            rec["syllable"] = np.asarray(rec["syllable"]).astype(np.int64)
            T = rec["syllable"].shape[0]
            bad = [k for k, v in rec.items() if np.shape(v)[:1] != (T,)]
            if bad:
                raise ValueError(
                    f"{path}: recording {name!r}: {', '.join(bad)} do not have the {T} frames of "
                    "'syllable'"
                )
            out[name] = rec
    return out


def read_kpms_csvs(path) -> dict:
    """Syllables from keypoint-moseq's CSV export: a folder of ``<recording>.csv`` (or one file).

    Parameters
    ----------
    path : str or Path
        The folder ``save_results_as_csv`` wrote (every ``*.csv`` with a ``syllable`` column is
        read; others are left out), or one of its files.

    Returns
    -------
    dict of str to ndarray of int64, shape (T,)
        ``{recording (the file's stem): syllables}``.

    Raises
    ------
    ValueError
        When no CSV with a ``syllable`` column is found.
    """
    import pandas as pd

    path = Path(path)
    files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
    out = {}
    for file in files:
        head = pd.read_csv(file, nrows=0)
        if "syllable" not in [str(c).strip() for c in head.columns]:
            continue
        table = pd.read_csv(file)
        table.columns = [str(c).strip() for c in table.columns]
        z = pd.to_numeric(table["syllable"], errors="coerce").fillna(-1).to_numpy()
        if not np.all(np.equal(np.mod(z, 1), 0)):
            raise ValueError(f"{file}: the syllable column must hold integers")
        out[file.stem] = z.astype(np.int64)
    if not out:
        raise ValueError(
            f"{path}: no CSV with a 'syllable' column (keypoint-moseq's save_results_as_csv writes "
            "one per recording)"
        )
    return out
