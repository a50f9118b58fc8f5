"""The ``ethogram`` command: one small module per subcommand, each a thin layer over the library.

``ethogram fit`` (recordings -> results file and CSVs), ``ethogram apply`` (a saved model on
new recordings), ``ethogram info`` (what a recording or results file holds; versions),
``ethogram demo`` (the whole job on the openfield mouse shipped in the package; ``--course``
runs the course's synthetic experiments). Each module exposes ``add_parser(subparsers)`` and
``run(args) -> int``. Errors are one line on stderr (``ethogram: error: ...``) with exit code
2 and no traceback unless ``--debug``; outputs are written under temporary names and renamed,
so a failed command leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main", "build_parser", "CLIError"]


class CLIError(Exception):
    """A user error the command reports as one line (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line on stderr, exit code 2."""

    def error(self, message):  # noqa: D401 - argparse's hook
        sys.stderr.write(f"ethogram: error: {message} (see '{self.prog} --help')\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ethogram`` command."""
    from . import apply, compare, demo, fit, info, movies, report, select, stats

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback on errors")
    parser = _Parser(
        prog="ethogram",
        description="Turn recordings of animal behavior into syllables with autoregressive HMMs.",
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    for module in (fit, apply, info, demo, report, movies, compare, stats, select):
        module.add_parser(sub, [common])
    return parser


def main(argv=None) -> int:
    """Entry point of the ``ethogram`` command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 on success, 2 for bad input (a one-line message on stderr), 130 when interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = [str(a) for a in argv]
    debug = bool(getattr(args, "debug", False))
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        if debug:
            raise
        sys.stderr.write("ethogram: interrupted\n")
        return 130
    except (CLIError, ValueError, TypeError, FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError, KeyError) as exc:
        if debug:
            raise
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        sys.stderr.write(f"ethogram: error: {str(msg).splitlines()[0] if str(msg) else type(exc).__name__}\n")
        return 2
    except OSError as exc:
        if debug:
            raise
        sys.stderr.write(f"ethogram: error: {_os_error_message(exc)}\n")
        return 2
    except Exception as exc:  # an unexpected failure: still one line, but say it is one
        if debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(f"ethogram: error: {type(exc).__name__}: {first} (run again with --debug for the traceback)\n")
        return 1


def _os_error_message(exc: OSError) -> str:
    """One line for a failure of the file system: what happened, where, and what to do."""
    import errno

    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"no space left on the device{where}: free some space or write to another folder with -o"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"cannot write there{where}: the folder is read-only or not yours; choose another output folder with -o"
    return f"{exc.strerror or exc}{where}; check the path and the disk"

