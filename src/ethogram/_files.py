"""Files written whole or not at all: one file under a temporary name in its own folder,
renamed into place only once complete (:func:`written_atomically`); new items of a folder built
in a hidden folder beside it (:func:`built_beside`, which removes it and the folders it created
on failure) and swapped in together, with everything put back if a rename fails
(:func:`swap_items`; the report, the movies and the command line's ``compare/`` and ``stats/``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

__all__ = ["built_beside", "missing_folders", "remove_if_empty", "swap_items", "written_atomically"]


def missing_folders(path) -> list:
    """``path`` and the folders above it that do not exist yet, deepest first."""
    out, p = [], Path(path)
    while not p.exists():
        out.append(p)
        p = p.parent
    return out


def remove_if_empty(folders) -> None:
    """Remove the folders (deepest first) that exist and are empty: what a failed call created."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            pass


@contextlib.contextmanager
def built_beside(folder):
    """Yield an empty hidden folder beside ``folder`` (``.<name>.tmp-<process id>``) to build in.

    Move what is complete from it into ``folder`` inside the block. On leaving, the hidden folder
    is removed; on an error, so are ``folder`` and the folders above it that this call created,
    when they are left empty.

    Parameters
    ----------
    folder : str or Path
        The folder the new items are for (it need not exist).

    Yields
    ------
    Path
    """
    folder = Path(folder)
    created = missing_folders(folder)  # removed again (when empty) on failure
    build = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(build, ignore_errors=True)  # left by a killed run of the same process id
        build.mkdir()
        yield build
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        remove_if_empty(created)
        raise
    shutil.rmtree(build, ignore_errors=True)


@contextlib.contextmanager
def written_atomically(path, *, prefix: str = "", suffix: str | None = None, fsync: bool = False):
    """Yield a temporary path beside ``path``; on leaving the block, rename it to ``path``.

    A reader never sees half a file: the content is written to the temporary path and renamed
    (:func:`os.replace`) over ``path`` only when the block ends without error. On any error the
    temporary file is removed and an earlier file at ``path`` is left as it was.

    Parameters
    ----------
    path : str or Path
        The file to write.
    prefix : str, default ""
        Put before the file's name in the temporary name (``"."`` hides it).
    suffix : str, optional
        Ends the temporary name (e.g. ``".mp4"`` for a writer that reads the format from it);
        default ``.tmp-<process id>`` after the whole name.
    fsync : bool, default False
        Flush the file to disk before the rename (so the rename never outlives its content).

    Yields
    ------
    Path
        The temporary path to write.
    """
    path = Path(path)
    if suffix is None:
        tmp = path.with_name(f"{prefix}{path.name}.tmp-{os.getpid()}")
    else:
        tmp = path.with_name(f"{prefix}{path.stem}.tmp-{os.getpid()}{suffix}")
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            tmp.unlink()


def swap_items(build: Path, folder: Path, old_names, new_names) -> None:
    """Replace the items ``old_names`` of ``folder`` by the items ``new_names`` of ``build``.

    Parameters
    ----------
    build : Path
        Folder holding the new items (left with what was not moved in).
    folder : Path
        Existing folder whose items are replaced; other items in it are kept.
    old_names : iterable of str
        Items of ``folder`` to remove (those that exist).
    new_names : iterable of str
        Items of ``build`` to move in, in this order.

    Raises
    ------
    OSError
        If a rename fails; ``folder`` and ``build`` are then as they were before the call.
    """
    build, folder = Path(build), Path(folder)
    aside = folder.parent / f".{folder.name}.old-{os.getpid()}"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    moved_aside, moved_in = [], []
    try:
        for name in old_names:
            if os.path.lexists(folder / name):
                os.replace(folder / name, aside / name)
                moved_aside.append(name)
        for name in new_names:
            os.replace(build / name, folder / name)
            moved_in.append(name)
    except BaseException:
        for name in reversed(moved_in):
            os.replace(folder / name, build / name)
        for name in moved_aside:
            os.replace(aside / name, folder / name)
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)
