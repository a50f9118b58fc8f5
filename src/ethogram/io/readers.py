"""The front door of ``ethogram.io``: paths in, a sorted list of uniquely named recordings out.

:func:`read_recordings` expands paths (files, globs, folders), guesses each file's format
(:func:`guess_format`, from its suffix and, for HDF5 files, the datasets inside), calls the
format's reader, names the recordings ``<file stem>`` or ``<file stem>/<animal>`` (prefixing
parent folders where two files share a stem), and keeps only the body parts asked for. In a
folder, files with a known suffix that are not recordings (a ``notes.csv``, a broken ``.h5``,
a moseq2 PCA file) are skipped with one :class:`SkippedFilesWarning` naming them; a file named
on its own is read or refused with an error naming it. :func:`describe` is the short text
``ethogram info`` prints for a recording.
"""

from __future__ import annotations

import csv
import glob
import os
import warnings
from pathlib import Path

import numpy as np

from .recording import Recording

__all__ = ["FORMATS", "SkippedFilesWarning", "guess_format", "read_recordings", "read_file", "describe"]

#: reader names accepted by ``format=`` (``--format`` on the command line)
FORMATS = ("dlc", "sleap", "nwb-pose", "jabs", "moseq-nwb", "moseq2", "npy", "csv")

_SUFFIXES = (".csv", ".h5", ".hdf5", ".nwb", ".slp", ".npy", ".npz")
#: skipped files named in a warning before "and N more"
_MAX_NAMED = 3


class SkippedFilesWarning(UserWarning):
    """Files in a folder that have a recording's suffix but are not recordings were skipped."""


def _readers():
    from .arrays import read_csv_array, read_npy
    from .moseq import read_moseq2, read_moseq_nwb
    from .pose import read_dlc, read_jabs, read_nwb_pose, read_sleap

    return {"dlc": read_dlc, "sleap": read_sleap, "nwb-pose": read_nwb_pose, "jabs": read_jabs,
            "moseq-nwb": read_moseq_nwb, "moseq2": read_moseq2, "npy": read_npy, "csv": read_csv_array}


def _cannot_guess(path, why: str) -> ValueError:
    return ValueError(f"cannot tell the format of {path} ({why}); give the format (format= in Python, --format on the command line) as one of {', '.join(FORMATS)}")


def _guess_hdf5(path: Path) -> str:
    import h5py

    from .moseq import is_moseq2_extraction, is_moseq2_scores

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise _cannot_guess(path, f"not a readable HDF5 file: {e}") from None
    with f:
        if "nwb_version" in f.attrs or ("processing" in f and "acquisition" in f):
            if "processing/MoSeq" in f:
                return "moseq-nwb"
            from .pose import _find_typed

            if _find_typed(f, "PoseEstimation"):
                return "nwb-pose"
            raise _cannot_guess(path, "an NWB file with neither processing/MoSeq nor an ndx-pose PoseEstimation")
        if "poseest/points" in f:
            return "jabs"
        if "tracks" in f and "node_names" in f:
            return "sleap"
        if "df_with_missing" in f:
            return "dlc"
        if "frames" in f and "instances" in f and "points" in f:
            return "sleap"
        if is_moseq2_scores(f) or is_moseq2_extraction(f):
            return "moseq2"
        keys = ", ".join(sorted(f.keys())[:8])
    raise _cannot_guess(path, f"an HDF5 file with top-level entries [{keys}] that match no known layout")


def guess_format(path) -> str:
    """Guess the reader of a file from its suffix and, for HDF5, its content.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str
        One of :data:`FORMATS`: ``.slp`` -> sleap; ``.npy``/``.npz`` -> npy; ``.csv`` -> dlc when
        the first cell is ``scorer`` (DeepLabCut header), else csv; ``.nwb`` (or HDF5 with
        ``nwb_version``) -> moseq-nwb with ``processing/MoSeq``, nwb-pose with an ndx-pose
        ``PoseEstimation``; ``.h5`` -> jabs (``poseest/points``), sleap (analysis file:
        ``tracks``, ``node_names``), dlc (``df_with_missing``), moseq2 (``scores`` and
        ``scores_idx``, or ``frames``, ``scalars``, ``timestamps``).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When the format cannot be told, naming the file and the ``--format`` choices.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".slp":
        return "sleap"
    if suffix in (".npy", ".npz"):
        return "npy"
    if suffix == ".csv":
        with open(path, newline="", errors="replace") as fh:
            head = [fh.readline().rstrip("\r\n").split(",") for _ in range(5)]
        if head[0][0].strip().strip('"').lower() != "scorer":
            return "csv"
        rows = {r[0].strip().lower(): i for i, r in enumerate(head) if r and r[0]}
        if "coords" in rows and "likelihood" not in head[rows["coords"]]:
            data_row = head[rows["coords"] + 1] if rows["coords"] + 1 < len(head) else [""]
            if not _is_float(data_row[0]):
                raise _cannot_guess(path, "a DeepLabCut table of hand-labelled images (x, y without likelihood, "
                                    "indexed by image), not a tracked recording")
        return "dlc"
    if suffix in (".h5", ".hdf5", ".nwb"):
        return _guess_hdf5(path)
    raise _cannot_guess(path, f"unknown suffix {suffix!r}")


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _has_magic(s: str) -> bool:
    return any(c in s for c in "*?[")


def _plain_csv_problem(path: Path, rows: int = 6) -> str | None:
    """Why a csv guessed as a plain numeric table is not one (text below the header), else None."""
    from .arrays import _is_number

    with open(path, newline="", errors="replace") as fh:
        head = [r for _, r in zip(range(rows), csv.reader(fh))]
    if not head:
        return "empty"
    data = head[1:] if not all(_is_number(x) for x in head[0]) else head
    if not data:
        return "a header and no rows"
    for row in data:
        if not all(_is_number(x) for x in row):
            return "text where numbers should be"
    return None


def _skipped_message(skipped: list) -> str:
    listed = ", ".join(str(p) for p in skipped[:_MAX_NAMED])
    if len(skipped) > _MAX_NAMED:
        listed += f" and {len(skipped) - _MAX_NAMED} more"
    return (f"skipped {len(skipped)} file(s) that are not recordings of a known format: {listed} "
            "('ethogram info FILE' or guess_format(FILE) says why)")


def _expand(paths, format=None) -> list[Path]:
    """Files named by paths, globs and folders (folders: known formats inside, not recursive;
    only files of ``format`` when it is given). Files in a folder with a known suffix that are
    not recordings are skipped with one :class:`SkippedFilesWarning` for all folders."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise ValueError("paths is empty; give at least one file, folder or glob")
    files, skipped = [], []
    for p in paths:
        p = os.fspath(p)
        q = Path(p).expanduser()
        if q.is_file():
            files.append(q)
        elif q.is_dir():
            found, bad = [], []
            for c in sorted(q.iterdir()):
                if c.is_file() and c.suffix.lower() in _SUFFIXES:
                    try:
                        guessed = guess_format(c)
                    except ValueError:
                        bad.append(c)
                        continue
                    if guessed == "csv" and _plain_csv_problem(c) is not None:
                        bad.append(c)
                        continue
                    if format is None or guessed == format:
                        found.append(c)
            if not found:
                what = f"{format!r} recordings" if format else "recordings of a known format"
                extra = f"; {_skipped_message(bad)}" if bad else ""
                raise FileNotFoundError(f"no {what} in folder {q} (suffixes {', '.join(_SUFFIXES)}){extra}")
            files += found
            skipped += bad
        elif _has_magic(p):
            hits = sorted(Path(h) for h in glob.glob(os.path.expanduser(p)) if Path(h).is_file())
            if not hits:
                raise FileNotFoundError(f"no file matches {p!r}")
            files += hits
        else:
            raise FileNotFoundError(f"no such file or folder: {p}")
    if skipped:
        warnings.warn(_skipped_message(skipped), SkippedFilesWarning, stacklevel=3)
    seen, out = set(), []
    for f in sorted(files, key=lambda x: str(x.resolve())):
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            out.append(f)
    return out


def read_file(path, format=None, fps=None) -> list[Recording]:
    """Read one file with one reader; recordings are named by animal only (``""`` if one).

    Parameters
    ----------
    path : str or Path
    format : str, optional
        One of :data:`FORMATS`; guessed when None.
    fps : float, optional

    Returns
    -------
    list of Recording

    Raises
    ------
    ValueError
        Unknown ``format`` or a file the reader cannot read (the message names the file).
    FileNotFoundError
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if format is None:
        format = guess_format(path)
    readers = _readers()
    if format not in readers:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if fps is not None:
        fps = float(fps)
        if not (np.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number of frames per second, got {fps!r}")
    try:
        return readers[format](path, fps=fps)
    except FileNotFoundError:
        raise
    except ValueError as e:
        if str(path) in str(e) or path.name in str(e):
            raise
        raise ValueError(f"cannot read {path} as {format!r}: {e}") from None
    except (OSError, KeyError, IndexError, TypeError) as e:
        raise ValueError(f"cannot read {path} as {format!r}: {type(e).__name__}: {e}") from None


def _unique_names(files: list[Path]) -> dict:
    """Base name per file: the stem, with parent folders prefixed where stems collide."""
    base = {f: f.stem for f in files}
    depth = 1
    while True:
        counts = {}
        for f in files:
            counts.setdefault(base[f], []).append(f)
        clashes = [group for group in counts.values() if len(group) > 1]
        if not clashes or depth > 50:
            break
        for group in clashes:
            for f in group:
                parts = f.resolve().with_suffix("").parts
                base[f] = "/".join(parts[-1 - depth:]) if len(parts) > depth else str(f.resolve())
        depth += 1
    return base


def _select_bodyparts(rec: Recording, bodyparts) -> Recording:
    if rec.kind != "keypoints":
        raise ValueError(f"bodyparts={list(bodyparts)} given but recording {rec.name!r} holds {rec.kind}, not body parts")
    missing = [b for b in bodyparts if b not in rec.bodyparts]
    if missing:
        raise ValueError(
            f"bodyparts {missing} not in recording {rec.name!r} ({rec.source}); it has: {', '.join(rec.bodyparts)}"
        )
    idx = [rec.bodyparts.index(b) for b in bodyparts]
    rec.data = rec.data[:, idx]
    rec.bodyparts = tuple(bodyparts)
    if rec.confidence is not None:
        rec.confidence = rec.confidence[:, idx]
    return rec


def read_recordings(paths, format=None, fps=None, bodyparts=None) -> list[Recording]:
    """Read every recording named by ``paths``.

    Parameters
    ----------
    paths : str, Path, or list of them
        Files, globs (``"data/*.csv"``) and folders (every file of a known format inside, not
        recursive; files of another format than ``format``, when it is given, are left out;
        files with a recording's suffix whose format cannot be guessed, or csv files that are
        not numeric tables, are skipped with one :class:`SkippedFilesWarning` naming them).
    format : str, optional
        One of :data:`FORMATS` for every file; guessed per file when None (:func:`guess_format`).
    fps : float, optional
        Frames per second for files without timestamps; a file with timestamps wins, and a
        mismatch of more than 1% with ``fps`` is a ValueError. JABS files default to 30.
    bodyparts : sequence of str, optional
        Keep only these body parts, in this order (keypoint recordings).

    Returns
    -------
    list of Recording
        Sorted by file path, then animal; named ``<file stem>`` or ``<file stem>/<animal>``
        (a parent folder is prefixed when two files share a stem), unique within the call.

    Raises
    ------
    FileNotFoundError
        A path, glob or folder that names no file (or a folder with no recording).
    ValueError
        An unknown or unguessable format of a file named on its own (naming the file and the
        choices; in a folder such files are skipped with a warning), a misspelled body
        part (listing those available), an fps mismatch, or a file its reader cannot read.
    """
    if bodyparts is not None:
        if isinstance(bodyparts, str):
            bodyparts = [b for b in bodyparts.replace(",", " ").split() if b]
        bodyparts = [str(b) for b in bodyparts]
        if not bodyparts:
            raise ValueError("bodyparts is empty; name at least one body part or give None for all")
        if len(set(bodyparts)) != len(bodyparts):
            raise ValueError(f"bodyparts lists a body part twice: {bodyparts}")
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    files = _expand(paths, format)
    base = _unique_names(files)
    out, seen_moseq2 = [], set()
    for f in files:
        recs = read_file(f, format=format, fps=fps)
        for r in recs:
            if r.format == "moseq2" and r.attrs.get("extraction"):
                key = (r.attrs["uuid"], r.attrs["extraction"])
                if key in seen_moseq2:  # the same session reached from its scores file and its extraction
                    continue
                seen_moseq2.add(key)
            r.name = base[f] if not r.name else f"{base[f]}/{r.name}"
            if r.source is None:
                r.source = str(f)
            if bodyparts is not None:
                _select_bodyparts(r, bodyparts)
            out.append(r)
    names = [r.name for r in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"recording names {dup} occur twice; rename the files or read them in separate calls")
    return out


def describe(recording: Recording) -> str:
    """A short multi-line summary of a recording (what ``ethogram info FILE`` prints).

    Parameters
    ----------
    recording : Recording

    Returns
    -------
    str
        Name, format and source, kind and shape, fps and duration, body parts, the fraction of
        missing values (NaN coordinates, or NaN rows for features) and the extras present.
    """
    r = recording
    T = r.num_frames
    lines = [f"{r.name}  ({r.format or 'unknown format'}: {r.source})"]
    if r.kind == "keypoints":
        lines.append(f"  keypoints: {T} frames x {r.data.shape[1]} body parts x {r.data.shape[2]} coordinates")
    else:
        lines.append(f"  features: {T} frames x {r.data.shape[1]} dimensions")
    if r.fps is None:
        why = (" (its timestamps are frame numbers 0, 1, 2, ..., not seconds)"
               if (r.attrs or {}).get("timestamps_were_frame_numbers") else "")
        lines.append(f"  fps: unknown{why}; give --fps")
    else:
        lines.append(f"  fps: {r.fps:.6g}, duration {r.duration:.2f} s")
    if r.kind == "keypoints":
        lines.append(f"  body parts: {', '.join(r.bodyparts)}")
        missing = np.isnan(r.data).any(axis=2)
        per = missing.mean(axis=0) if T else np.zeros(len(r.bodyparts))
        detail = ", ".join(f"{b} {p:.1%}" for b, p in zip(r.bodyparts, per))
        lines.append(f"  missing: {missing.mean() if missing.size else 0:.1%} of points ({detail})")
    else:
        dropped = np.isnan(r.data).any(axis=1)
        lines.append(f"  missing: {dropped.mean() if T else 0:.1%} of frames ({int(dropped.sum())} frames with NaN)")
    extras = []
    if r.confidence is not None:
        c = r.confidence[np.isfinite(r.confidence)]
        extras.append(f"confidence ({'median %.3g' % np.median(c) if c.size else 'all NaN'})")
        if r.kind == "keypoints" and c.size:
            # what preparation will mask: points below the default confidence threshold
            low = float(np.mean(c < CONFIDENCE_DEFAULT))
            lines.append(f"  low confidence: {low:.1%} of points below {CONFIDENCE_DEFAULT:g} (masked by default; --confidence)")
    for k in ("timestamps", "centroid", "heading"):
        if getattr(r, k) is not None:
            extras.append(k)
    if r.labels is not None:
        extras.append(f"labels ({len(np.unique(r.labels[r.labels >= 0]))} syllables)")
    if r.frames is not None:
        extras.append(f"frames {tuple(r.frames.shape)}")
    if r.video_path:
        extras.append(f"video {r.video_path}")
    lines.append(f"  extras: {', '.join(extras) if extras else 'none'}")
    return "\n".join(lines)


#: the preparation's default confidence threshold (``Preparation(confidence_threshold=0.5)``)
CONFIDENCE_DEFAULT = 0.5
