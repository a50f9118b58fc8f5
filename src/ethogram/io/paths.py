"""From the paths a user gives to the files to read, and the names their recordings get.

Kept apart from reading (:mod:`ethogram.io.readers`): paths may be files, glob patterns or
folders; a folder gives the files of a known format inside (not recursively), and a file there
with a recording's suffix that is not a recording (a ``notes.csv``, a broken ``.h5``, a moseq2
PCA file) is skipped with one :class:`ethogram.io.notes.SkippedFilesWarning` line naming it and
why. Each file's recordings are named after its stem, prefixed with parent folders where two
files share a stem.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from .formats import SUFFIXES, guess_format, plain_csv_problem
from .notes import SkippedFilesWarning, note, reason


def _has_magic(s: str) -> bool:
    return any(c in s for c in "*?[")


def skip_file(path, why: str) -> None:
    """One warning line: a file in a folder was skipped, and why."""
    note(path, f"skipped: {why}", SkippedFilesWarning)


def _folder_files(folder: Path, format=None) -> tuple[list, list]:
    """Files of a known format in ``folder`` (only ``format`` when given) and (file, why) of the
    files with a recording's suffix that are not recordings."""
    found, bad = [], []
    for c in sorted(folder.iterdir()):
        if not (c.is_file() and c.suffix.lower() in SUFFIXES):
            continue
        try:
            guessed = guess_format(c)
        except ValueError as e:
            bad.append((c, reason(e, c)))
            continue
        problem = plain_csv_problem(c) if guessed == "csv" else None
        if problem is not None:
            bad.append((c, f"not a recording of a known format (csv: {problem})"))
        elif format is None or guessed == format:
            found.append(c)
    return found, bad


def expand_paths(paths, format=None) -> tuple[list, set]:
    """Files named by paths, globs and folders (folders: known formats inside, not recursive;
    only files of ``format`` when it is given), and the set of those found in folders. Files in
    a folder with a known suffix that are not recordings are skipped with one
    :class:`SkippedFilesWarning` line each."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise ValueError("paths is empty; give at least one file, folder or glob")
    files, in_folders, named, skipped = [], set(), set(), []
    for p in paths:
        p = os.fspath(p)
        q = Path(p).expanduser()
        if q.is_file():
            files.append(q)
            named.add(q.resolve())
        elif q.is_dir():
            found, bad = _folder_files(q, format)
            if not found:
                what = f"{format!r} recordings" if format else "recordings of a known format"
                extra = "".join(f"; skipped {c}: {why}" for c, why in bad)
                raise FileNotFoundError(
                    f"no {what} in folder {q} (suffixes {', '.join(SUFFIXES)}){extra}"
                )
            files += found
            in_folders.update(c.resolve() for c in found)
            skipped += bad
        elif _has_magic(p):
            hits = sorted(Path(h) for h in glob.glob(os.path.expanduser(p)) if Path(h).is_file())
            if not hits:
                raise FileNotFoundError(f"no file matches {p!r}")
            files += hits
            named.update(h.resolve() for h in hits)
        else:
            raise FileNotFoundError(f"no such file or folder: {p}")
    for c, why in skipped:
        skip_file(c, why)
    seen, out = set(), []
    for f in sorted(files, key=lambda x: str(x.resolve())):
        r = f.resolve()
        if r not in seen:
            seen.add(r)
            out.append(f)
    return out, in_folders - named  # a file also named on its own is read or refused


def unique_names(files: list[Path]) -> dict:
    """Base name per file: the stem, with parent folders prefixed where stems collide; files of one
    folder that share a stem (``clip.slp`` and its export ``clip.csv``) keep their suffix."""
    stems = {}
    for f in files:
        stems.setdefault((f.resolve().parent, f.stem), []).append(f)
    base = {f: f.name if len(stems[(f.resolve().parent, f.stem)]) > 1 else f.stem for f in files}
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
                r = f.resolve()
                parts = (r if base[f] == f.name else r.with_suffix("")).parts
                base[f] = "/".join(parts[-1 - depth :]) if len(parts) > depth else str(r)
        depth += 1
    return base
