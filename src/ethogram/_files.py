"""Replacing a set of files in a folder all at once, or not at all.

The command line's outputs that live inside a folder the user may share with other files
(``report/``, ``compare/``, ``stats/``) are built in a hidden sibling folder and then swapped
in with :func:`swap_items`: the earlier items of the same names are renamed aside, the new
ones renamed in (in the order given, so a page can come last, after everything it links to),
and the earlier ones deleted; if any rename fails, everything is put back as it was.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["swap_items"]


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
