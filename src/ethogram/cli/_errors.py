"""How the command says what went wrong: one line per error, exit code 2.

The library raises ``ValueError``/``TypeError`` and the file-system errors in Python's words;
this room turns them into the line after ``ethogram: error:``.
"""

from __future__ import annotations

__all__ = ["CLIError", "os_error_message"]


class CLIError(Exception):
    """A user error the command reports as one line (exit code 2)."""


def os_error_message(exc: OSError) -> str:
    """One line for a failure of the file system: what happened, where, and what to do."""
    import errno

    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"no space left on the device{where}: free some space or write to another folder with -o"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"cannot write there{where}: the folder is read-only or not yours; choose another output folder with -o"
    return f"{exc.strerror or exc}{where}; check the path and the disk"

