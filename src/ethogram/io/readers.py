"""The front door of ``ethogram.io``: paths in, a sorted list of uniquely named recordings out.

:func:`read_recordings` expands paths (files, globs, folders: :mod:`ethogram.io.paths`),
guesses each file's format (:func:`guess_format`, :mod:`ethogram.io.formats`), calls the
format's reader (one module per format family: :mod:`~ethogram.io.pose`, ``moseq``,
``arrays``), names the recordings ``<file stem>`` or ``<file stem>/<animal>`` (prefixing parent
folders where two files share a stem), and keeps only the body parts asked for. In a
folder, a file with a known suffix that is not a recording (a ``notes.csv``, a broken ``.h5``,
a moseq2 PCA file) or that its reader cannot read is skipped with one
:class:`SkippedFilesWarning` line naming it and why; a file named on its own is read or refused
with an error naming it. :func:`read_file` leaves out the animals of a file that hold no
tracked point (a SLEAP track made in another video of the project) and notes the ones tracked
in only a few frames. :func:`describe` is the short text ``ethogram info`` prints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .describe import CONFIDENCE_DEFAULT, describe  # noqa: F401 (CONFIDENCE_DEFAULT importable here)
from .formats import FORMATS, FormatError, guess_format
from .notes import ReadNoteWarning, SkippedFilesWarning, note, reason
from .paths import expand_paths, skip_file, unique_names
from .recording import Recording
from .units import set_scales

__all__ = [
    "FORMATS",
    "SkippedFilesWarning",
    "ReadNoteWarning",
    "guess_format",
    "read_recordings",
    "read_file",
    "describe",
    "GHOST_FRACTION",
    "GHOST_FRAMES",
]


#: an animal of a multi-animal file tracked in fewer than this fraction of the file's frames, or
#: in fewer than :data:`GHOST_FRAMES` frames that are under 10% of them, is a "ghost" (a spurious
#: track of the tracker): kept, with a note
GHOST_FRACTION = 0.01
GHOST_FRAMES = 10


def _readers():
    from .arrays import read_csv_array, read_npy
    from .moseq import read_moseq2, read_moseq_nwb
    from .pose import read_dlc, read_jabs, read_nwb_pose, read_sleap

    return {
        "dlc": read_dlc,
        "sleap": read_sleap,
        "nwb-pose": read_nwb_pose,
        "jabs": read_jabs,
        "moseq-nwb": read_moseq_nwb,
        "moseq2": read_moseq2,
        "npy": read_npy,
        "csv": read_csv_array,
    }


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
        A recording without a frame rate (no ``fps`` given, none in the file) whose tracked
        video is known (``video_path``) takes the video's rate when the video has as many
        frames, with one :class:`ReadNoteWarning`. The animals of a multi-animal file that
        hold no tracked point (every coordinate NaN)
        are left out with one :class:`ReadNoteWarning`; those tracked in fewer than
        :data:`GHOST_FRACTION` (1%) of the frames, or in fewer than :data:`GHOST_FRAMES` (10)
        frames that are under 10% of them (a spurious "ghost" track), are kept and named in
        another.

    Raises
    ------
    ValueError
        Unknown ``format``, a file the reader cannot read, or a file without any tracked point
        (the message names the file).
    FileNotFoundError
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    asked = format is not None
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
        recs = _read_as(readers[format], format, path, fps)
    except ValueError:
        other = _detected_format(path) if asked else None
        if other is None or other == format:  # the file's own format: its reader's error
            raise
        raise FormatError(
            f"cannot read {path} as {format!r} (by its content it is a {other!r} file): give "
            f"{{format:{other}}}, or {{format:None}} to detect the format",
            f"cannot be read as {format!r}: it is a {other!r} file",
        ) from None
    if fps is None:
        _rates_from_video(recs, path)
    else:
        _check_video_rate(recs, path, fps)
    set_scales(recs)  # the file's scale (JABS cm_per_pixel, NWB units), if it holds one
    return _tracked_only(recs, path)


def _read_as(reader, format: str, path: Path, fps) -> list:
    """``reader``'s recordings of ``path``; its failure a ValueError naming the file (``why``:
    the reason without the path, for the folder's skipped-files line)."""
    try:
        return reader(path, fps=fps)
    except FileNotFoundError:
        raise
    except ValueError as e:
        msg = " ".join(str(e).split())
        if msg.startswith(f"{path}: "):  # our readers' errors: the path, then why
            e.why = msg[len(str(path)) + 2 :]
            raise
        if str(path) in msg or path.name in msg:  # a library's error naming the file
            e.why = f"cannot be read as {format!r}: {msg.replace(str(path), path.name)}"
            raise
        err = ValueError(f"cannot read {path} as {format!r}: {e}")
        err.why = f"cannot be read as {format!r}: {msg}"
        raise err from None
    except (OSError, KeyError, IndexError, TypeError, AttributeError, RuntimeError, EOFError) as e:
        err = ValueError(f"cannot read {path} as {format!r}: {type(e).__name__}: {e}")
        err.why = f"cannot be read as {format!r}: {type(e).__name__}: {' '.join(str(e).split())}"
        raise err from None


def _detected_format(path: Path) -> str | None:
    """The format :func:`guess_format` tells from ``path``'s suffix and content; None when it
    cannot tell."""
    try:
        return guess_format(path)
    except (ValueError, OSError):
        return None


def _rates_from_video(recs: list, path: Path) -> None:
    """Recordings without a frame rate whose tracked video is known take the video's rate when
    it has as many frames (one note per file); else the video's rate is kept for the error
    that asks for fps."""
    from .rates import rate_from_video

    said = []
    for r in recs:
        rate_from_video(r, note=None if said else (lambda text: said.append(text)))
    if said:
        note(path, said[0])


def _check_video_rate(recs: list, path: Path, fps: float) -> None:
    """Warn when a given ``fps`` contradicts the tracked video (as many frames as the recording,
    so frame for frame the same, at another rate): the given rate is used (a video's header can
    be the wrong one), but every duration and speed would be off by the ratio if it is not."""
    import warnings

    from .rates import FrameRateWarning, video_rate_against

    for r in recs:
        video_fps = video_rate_against(r.video_path, r.num_frames, fps)
        if video_fps is None:
            continue
        warnings.warn(
            FrameRateWarning(
                f"{path}: its video {Path(r.video_path).name} runs at {video_fps:g} fps (the same "
                f"{r.num_frames} frames) but {{fps:{fps:g}}} was given; the given rate is used: "
                "if the video's rate is the true one, leave {fps} out",
                "fps",
            ),
            stacklevel=3,
        )
        return


def _tracked_frames(r: Recording) -> int:
    finite = np.isfinite(r.data)
    per_frame = finite.all(axis=2).any(axis=1) if r.kind == "keypoints" else finite.any(axis=1)
    return int(per_frame.sum())


def _tracked_only(recs: list, path: Path) -> list:
    """Leave out the animals without any tracked frame, with a note; note the ghost tracks."""
    counts = [_tracked_frames(r) for r in recs]
    kept = [r for r, n in zip(recs, counts) if n > 0]
    if not kept:
        raise ValueError(f"{path}: no frame holds a tracked point (every coordinate is missing)")
    T = recs[0].num_frames
    empty = [repr(r.name) for r, n in zip(recs, counts) if n == 0]
    if empty:
        note(
            path,
            f"{', '.join(empty)} hold(s) no tracked point in any of the {T} frames (a track "
            "made in another video, or never used); left out",
        )
    if len(recs) > 1:
        ghosts = [
            f"{r.name!r} ({n} frames)"
            for r, n in zip(recs, counts)
            if 0 < n and (n < GHOST_FRACTION * T or (n < GHOST_FRAMES and n < 0.1 * T))
        ]
        if ghosts:
            note(
                path,
                f"{', '.join(ghosts)} tracked in only a few of the {T} frames (a ghost "
                "track of the tracker?); kept, though it adds almost nothing to a fit",
            )
    return kept


def _select_bodyparts(rec: Recording, bodyparts) -> Recording:
    if rec.kind != "keypoints":
        raise ValueError(
            f"bodyparts={list(bodyparts)} given but recording {rec.name!r} holds {rec.kind}, not "
            "body parts"
        )
    missing = [b for b in bodyparts if b not in rec.bodyparts]
    if missing:
        raise ValueError(
            f"bodyparts {missing} not in recording {rec.name!r} ({rec.source}); it has: "
            f"{', '.join(rec.bodyparts)}"
        )
    idx = [rec.bodyparts.index(b) for b in bodyparts]
    rec.data = rec.data[:, idx]
    rec.bodyparts = tuple(bodyparts)
    if rec.confidence is not None:
        rec.confidence = rec.confidence[:, idx]
    return rec


def _bodypart_list(bodyparts):
    """``bodyparts`` as a list of distinct names (a string: separated by commas or spaces)."""
    if bodyparts is None:
        return None
    if isinstance(bodyparts, str):
        bodyparts = [b for b in bodyparts.replace(",", " ").split() if b]
    bodyparts = [str(b) for b in bodyparts]
    if not bodyparts:
        raise ValueError("bodyparts is empty; name at least one body part or give None for all")
    if len(set(bodyparts)) != len(bodyparts):
        raise ValueError(f"bodyparts lists a body part twice: {bodyparts}")
    return bodyparts


def _read_or_skip(f, format, fps, in_folders):
    """The recordings of file ``f``; None when it cannot be read and was found in a folder
    (skipped with a warning). A file named on its own raises its reader's error."""
    try:
        return read_file(f, format=format, fps=fps)
    except Exception as e:  # in a folder, any failure of one file is that file's
        if f.resolve() not in in_folders or isinstance(e, (MemoryError, FileNotFoundError)):
            raise
        why = reason(e, f)
        skip_file(f, why if isinstance(e, ValueError) else f"{type(e).__name__}: {why}")
        return None


def _name_and_select(r, f, base: str, bodyparts) -> None:
    """Name recording ``r`` of file ``f`` (``base`` or ``base/<animal>``), note its source and
    keep only ``bodyparts`` (when given)."""
    r.name = base if not r.name else f"{base}/{r.name}"
    if r.source is None:
        r.source = str(f)
    if bodyparts is not None:
        _select_bodyparts(r, bodyparts)


def read_recordings(
    paths, format=None, fps=None, bodyparts=None, px_per_mm=None
) -> list[Recording]:
    """Read every recording named by ``paths``.

    Parameters
    ----------
    paths : str, Path, or list of them
        Files, globs (``"data/*.csv"``) and folders (every file of a known format inside, not
        recursive; files of another format than ``format``, when it is given, are left out;
        files with a recording's suffix whose format cannot be guessed, csv files that are not
        numeric tables, and files their reader cannot read are skipped with one
        :class:`SkippedFilesWarning` line each, naming the file and why).
    format : str, optional
        One of :data:`FORMATS` for every file; guessed per file when None (:func:`guess_format`).
    fps : float, optional
        Frames per second for files without timestamps; a file with timestamps wins, and a
        mismatch of more than 1% with ``fps`` is a ValueError. JABS files default to 30.
    bodyparts : sequence of str, optional
        Keep only these body parts, in this order (keypoint recordings).
    px_per_mm : float, dict, str or Path, optional
        Pixels per millimetre: one number for all recordings, ``{recording: scale}``, or a CSV
        of ``recording,px_per_mm`` (:func:`ethogram.io.units.set_scales`); it wins over a
        scale the file holds (JABS ``cm_per_pixel``), with a note when they differ. Without
        it, recordings keep their file's scale, or none (pixels).

    Returns
    -------
    list of Recording
        Sorted by file path, then animal; named ``<file stem>`` or ``<file stem>/<animal>``
        (a parent folder is prefixed when two files share a stem; two files of one folder that
        share a stem keep their suffix, ``clip.slp/male``), unique within the call.

    Raises
    ------
    FileNotFoundError
        A path, glob or folder that names no file (or a folder with no recording).
    ValueError
        An unknown or unguessable format of a file named on its own (naming the file and the
        choices; in a folder such files are skipped with a warning), a misspelled body
        part (listing those available), an fps mismatch or a file its reader cannot read
        (named on its own; in a folder: skipped with a warning), or folders none of whose
        files could be read.
    """
    bodyparts = _bodypart_list(bodyparts)
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    files, in_folders = expand_paths(paths, format)
    base = unique_names(files)
    out, seen_moseq2, unread = [], set(), []
    for f in files:
        recs = _read_or_skip(f, format, fps, in_folders)
        if recs is None:
            unread.append(f)
            continue
        for r in recs:
            if r.format == "moseq2" and r.attrs.get("extraction"):
                key = (r.attrs["uuid"], r.attrs["extraction"])
                if (
                    key in seen_moseq2
                ):  # the same session reached from its scores file and its extraction
                    continue
                seen_moseq2.add(key)
            _name_and_select(r, f, base[f], bodyparts)
            out.append(r)
    if out and px_per_mm is not None:
        set_scales(out, px_per_mm)
    if not out:
        raise ValueError(
            f"none of the {len(unread)} file(s) could be read; the warnings above say "
            "why ('ethogram info FILE' or read_file(FILE) on one of them shows the error)"
        )
    names = [r.name for r in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(
            f"recording names {dup} occur twice; rename the files or read them in separate calls"
        )
    return out
