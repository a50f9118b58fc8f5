"""ethogram's own HDF5 files (results, checkpoints, on-disk sequences): each carries the root
attributes ``format`` and ``format_version``; it is written whole or not at all
(:func:`write_atomically`) and opened for reading only after a check of both
(:func:`open_checked`), with one wording of what is wrong and what to do.
"""

from __future__ import annotations

from pathlib import Path

from ._files import written_atomically

__all__ = ["open_checked", "write_atomically"]


def write_atomically(path, fmt: str, version: int, fill) -> Path:
    """Write an HDF5 file whole or not at all: a temporary file beside it, fsync, ``os.replace``.

    Parameters
    ----------
    path : str or Path
    fmt : str
        The root attribute ``format`` (e.g. ``"ethogram-checkpoint"``).
    version : int
        The root attribute ``format_version``.
    fill : callable
        ``fill(f)`` writes the content into the open ``h5py.File`` (the root attributes
        ``format``, ``format_version`` and ``ethogram_version`` are already set).

    Returns
    -------
    Path
        ``path``; a failure inside ``fill`` leaves any earlier file at ``path`` intact, and no
        temporary file.
    """
    import h5py

    from ._version import __version__

    path = Path(path)
    with written_atomically(path, fsync=True) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = fmt
            f.attrs["format_version"] = int(version)
            f.attrs["ethogram_version"] = __version__
            fill(f)
    return path


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _version_problem(path, got: int, version: int, what: str, older: bool, remedy: str):
    """The message for a file of format version ``got``, or None when this code reads it."""
    if got == version or (older and 1 <= got < version):
        return None
    if got > version:
        return (
            f"{what} {str(path)!r} has format version {got}, newer than this ethogram reads "
            f"({version}); upgrade ethogram to read it"
        )
    reads = f"1 to {version}" if older else f"only {version}"
    return f"{what} {str(path)!r} has format version {got}; this ethogram reads {reads}: {remedy}"


def open_checked(
    path,
    fmt: str,
    version: int,
    what: str = "checkpoint",
    *,
    remedy: str = "delete it to start again",
    older: bool = False,
    foreign: bool = False,
):
    """Open an HDF5 file for reading after checking its ``format`` and ``format_version``.

    Parameters
    ----------
    path : str or Path
    fmt : str
        The expected root attribute ``format``.
    version : int
        The ``format_version`` this code writes.
    what : str, default "checkpoint"
        The kind of file, for the messages (``"results file"``, ...).
    remedy : str, default "delete it to start again"
        What to do with a file of the wrong kind, for the messages.
    older : bool, default False
        Also read files of format versions 1 to ``version - 1``; by default only ``version``.
    foreign : bool, default False
        Open HDF5 files of another ``format`` (or none) as they are, unchecked.

    Returns
    -------
    h5py.File
        Open for reading (use it as a context manager).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If it is not a readable HDF5 file, has another ``format`` (unless ``foreign``) or a
        version this code does not read.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(
            f"{str(path)!r} is not an ethogram {what}: it is not a readable HDF5 file (damaged, "
            f"truncated or another format: {err}); {remedy}"
        ) from None
    found = _text(f.attrs.get("format"))
    if found != fmt:
        if foreign:
            return f
        f.close()
        raise ValueError(
            f"{str(path)!r} is not an ethogram {what} (format {found!r}, expected {fmt!r}); "
            f"{remedy}"
        )
    problem = _version_problem(
        path, int(f.attrs.get("format_version", -1)), int(version), what, older, remedy
    )
    if problem:
        f.close()
        raise ValueError(problem)
    return f
