"""What a reader tells the user while reading: one warning line per file, naming the file and
what was done (a file skipped, a track or a column left out, a version chosen).

Two categories: :class:`SkippedFilesWarning` for a file in a folder that was not read (not a
recording of a known format, or unreadable), and :class:`ReadNoteWarning` for something a
reader left out or decided inside a file it read. Both point at the caller's line (the first
frame outside ``ethogram``), so ``python -W error`` and ``warnings.catch_warnings`` treat them
as the user's, and the command line prints each as one ``ethogram: warning:`` line.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["SkippedFilesWarning", "ReadNoteWarning", "note", "reason"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SkippedFilesWarning(UserWarning):
    """A file in a folder was skipped: not a recording of a known format, or unreadable."""


class ReadNoteWarning(UserWarning):
    """Something in a file was left out or decided while reading it (tracks, columns, version)."""


def _caller_level() -> int:
    """``stacklevel`` for :func:`warnings.warn` called from :func:`note` that points at the
    first frame outside the ethogram package."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def note(path, text: str, category=ReadNoteWarning) -> None:
    """Warn ``"<path>: <text>"`` as one line (newlines in ``text`` become spaces).

    Parameters
    ----------
    path : str or Path
        The file the note is about.
    text : str
        What was done and why, e.g. ``"track 'track_2' has no instance; left out"``.
    category : type of Warning, default :class:`ReadNoteWarning`
    """
    line = " ".join(f"{path}: {text}".split())
    warnings.warn(line, category, stacklevel=_caller_level())


def reason(exc: BaseException, path) -> str:
    """Why a file could not be read, from the error raised, without repeating its path."""
    why = getattr(exc, "why", None)
    if why:
        return str(why)
    msg = " ".join(str(exc).split()) or type(exc).__name__
    p = str(path)
    if msg.startswith(p + ": "):
        return msg[len(p) + 2 :]
    return msg.replace(p, "the file")
