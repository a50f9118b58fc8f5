"""Syllables into NWB, beside the recording they label, so that they go to DANDI with it.

For every recording of a fit read from an NWB file (ndx-pose keypoints, or the MoSeq NWB
layout), :func:`export_nwb` writes a copy of that file with one more processing module,
``ethogram`` (with pynwb; the file keeps its namespaces), holding per recording a ``syllables``
``TimeIntervals`` table (one row per syllable instance) and a ``syllable`` ``TimeSeries`` (the
syllable of every frame, -1 where masked); :func:`read_nwb_syllables` reads the module back. A
recording read from another format is named in one line instead. The layout and why a copy:
docs/design-notes.md, "io/nwb_export.py".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from .._runs import syllable_runs
from .rates import frame_rate

__all__ = [
    "MODULE",
    "export_nwb",
    "read_nwb_syllables",
    "describe_nwb_syllables",
    "nwb_sources",
    "copy_names",
]

#: the processing module the syllables are written to
MODULE = "ethogram"
_NWB_FORMATS = ("nwb-pose", "moseq-nwb")


def nwb_sources(results) -> tuple[dict, list]:
    """Recordings of a fit grouped by their NWB file, and those without one.

    Returns
    -------
    sources : dict of Path to list of RecordingResult
        Existing NWB files and the recordings read from them.
    skipped : list of (name, why)
        Recordings with no NWB file to join (another format, or the file is gone).
    """
    sources, skipped = {}, []
    for rec in results.recordings:
        src = Path(rec.source) if rec.source else None
        if rec.format not in _NWB_FORMATS or src is None:
            what = f"a {rec.format} file" if rec.format else "no file"
            skipped.append(
                (
                    rec.name,
                    f"read from {what}, not NWB: convert it to NWB (DeepLabCut: dlc2nwb; "
                    "SLEAP: sleap-io) and fit that file to export its syllables",
                )
            )
        elif not src.is_file():
            skipped.append((rec.name, f"its NWB file {src} is no longer there"))
        else:
            sources.setdefault(src, []).append(rec)
    return sources, skipped


def copy_names(sources) -> dict:
    """The file name of each source's copy: its own name; a second source of the same name
    gets its parent folder's name as prefix."""
    names, used = {}, set()
    for src in sources:
        name = src.name if src.name not in used else f"{src.parent.name}_{src.name}"
        used.add(name)
        names[src] = name
    return names


def _suffix(rec, many: bool) -> str:
    return "_" + rec.name.rsplit("/", 1)[-1] if many and "/" in rec.name else ""


def _frame_times(rec) -> tuple[np.ndarray, float]:
    """Seconds of each frame and the duration of the last one (for the last stop time)."""
    t = rec.times()
    rate = frame_rate(rec.fps, t)  # the package's one rule (io/rates.py)
    return t, 1.0 / rate if rate else 1.0


def _add_recording(module, rec, suffix: str) -> None:
    from pynwb import TimeSeries
    from pynwb.epoch import TimeIntervals

    z = np.asarray(rec.syllables, dtype=np.int64)
    t, step = _frame_times(rec)
    if not np.isfinite(t).all():
        from ..errors import ArgumentError

        raise ArgumentError(
            f"recording {rec.name!r} has no frame rate; fit it with {{fps}} to export syllables",
            "fps",
        )
    starts, stops, syl = syllable_runs(z)
    table = TimeIntervals(
        name=f"syllables{suffix}",
        description=f"syllable instances of {rec.name} (ethogram): one row per instance, "
        "stop_frame exclusive, syllable 0 = the most frequent of the fit",
    )
    table.add_column("syllable", "syllable label (0 = the fit's most frequent)")
    table.add_column("start_frame", "first frame of the instance")
    table.add_column("stop_frame", "frame after the last frame of the instance")
    stop_times = np.r_[t, t[-1] + step] if t.size else t
    for a, b, k in zip(starts, stops, syl):
        table.add_row(
            start_time=float(t[a]),
            stop_time=float(stop_times[b]),
            syllable=int(k),
            start_frame=int(a),
            stop_frame=int(b),
        )
    module.add(table)
    timing = (
        dict(timestamps=t)
        if rec.timestamps is not None
        else dict(rate=float(rec.fps), starting_time=0.0)
    )
    module.add(
        TimeSeries(
            name=f"syllable{suffix}",
            data=z,
            unit="n.a.",
            **timing,
            description=f"syllable of every frame of {rec.name} (ethogram), -1 where the "
            "frame was not usable (masked)",
            comments="labels: 0 .. K-1, numbered by frequency in the fit",
        )
    )


def _describe_fit(results) -> str:
    cfg = results.config
    kappa = cfg.get("kappa_used", cfg.get("kappa"))
    return (
        f"behavioral syllables from ethogram {results.versions.get('ethogram', '?')}: sticky "
        f"autoregressive HMM, K = {results.num_states} syllables, {cfg.get('num_lags')} lags, "
        f"kappa = {kappa if kappa is None else f'{kappa:.4g}'}, fitted {results.created}"
        f"{'; results file ' + str(results.path) if results.path else ''}"
    )


def _write_copy(src: Path, target: Path, recs: list, description: str) -> None:
    import h5py
    from pynwb import NWBHDF5IO

    shutil.copyfile(src, target)
    with h5py.File(
        target, "r+"
    ) as f:  # a file exported before and fitted again: replace its syllables
        if f"processing/{MODULE}" in f:
            del f[f"processing/{MODULE}"]
    many = len(recs) > 1
    with NWBHDF5IO(str(target), "a", load_namespaces=True) as io:
        nwb = io.read()
        module = nwb.create_processing_module(name=MODULE, description=description)
        for rec in recs:
            _add_recording(module, rec, _suffix(rec, many))
        io.write(nwb)


def export_nwb(results, folder) -> tuple[list, list]:
    """Write a copy of each NWB file of a fit into ``folder``, with the syllables added.

    Parameters
    ----------
    results : Results
        A fit (or an application of a model) whose recordings were read from NWB files.
    folder : str or Path
        Existing folder; each copy keeps its source's file name (two sources with the same
        name: the second gets its parent folder's name as prefix).

    Returns
    -------
    written : list of (Path, list of str)
        Each file written and the recordings it labels.
    skipped : list of (name, why)
        Recordings without an NWB file to join.

    Raises
    ------
    ValueError
        When no recording was read from an NWB file (the message says why for the first), or
        a recording has no frame rate.
    """
    folder = Path(folder)
    sources, skipped = nwb_sources(results)
    if not sources:
        why = f"{skipped[0][0]}: {skipped[0][1]}" if skipped else "the results hold no recording"
        raise ValueError(f"no recording of the fit was read from an NWB file ({why})")
    description = _describe_fit(results)
    written = []
    for src, name in copy_names(sources).items():
        _write_copy(src, folder / name, sources[src], description)
        written.append((folder / name, [r.name for r in sources[src]]))
    return written, skipped


def read_nwb_syllables(path) -> dict:
    """The syllables an NWB file holds in its ``ethogram`` module, per recording.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict of str to ndarray of int64, shape (T,)
        ``{"syllable": labels}`` (``"syllable_<animal>"`` with several animals); empty when
        the file has no ``ethogram`` module.
    """
    import h5py

    out = {}
    with h5py.File(path, "r") as f:
        g = f.get(f"processing/{MODULE}")
        if g is None:
            return out
        for key in sorted(g):
            obj = g[key]
            t = obj.attrs.get("neurodata_type")
            t = t.decode() if isinstance(t, bytes) else t
            if t == "TimeSeries" and "data" in obj:
                out[key] = np.asarray(obj["data"][()], dtype=np.int64)
    return out


def describe_nwb_syllables(path) -> list:
    """Lines for ``ethogram info``: what the ``ethogram`` module of an NWB file holds."""
    import h5py

    labels = read_nwb_syllables(path)
    if not labels:
        return []
    with h5py.File(path, "r") as f:
        desc = f[f"processing/{MODULE}"].attrs.get("description", "")
        desc = desc.decode() if isinstance(desc, bytes) else str(desc)
        rows = {
            k: len(f[f"processing/{MODULE}/{k}/id"])
            for k in f[f"processing/{MODULE}"]
            if "id" in f[f"processing/{MODULE}/{k}"]
        }
    lines = [f"syllables (processing/{MODULE}): {desc}"]
    for key, z in labels.items():
        used = np.unique(z[z >= 0])
        table = "syllables" + key[len("syllable") :]
        lines.append(
            f"  {key}: {z.size} frames, {int((z >= 0).sum())} labelled, {used.size} syllables "
            f"used, {rows.get(table, 0)} instances in {table}"
        )
    return lines
