"""How the command says what went wrong: one line per error, exit code 2.

The library raises ``ValueError``/``TypeError`` and the file-system errors in Python's words;
an error or warning that names arguments carries them as data (:mod:`ethogram.errors`), and
this room says them as the command's options, from one table (:data:`OPTIONS`), in the line
after ``ethogram: error:`` or ``ethogram: warning:``.
"""

from __future__ import annotations

from ..errors import worded

__all__ = [
    "CLIError",
    "OPTIONS",
    "OUT_OPTION",
    "RESULTS",
    "PREP_COMMANDS",
    "command_words",
    "counting",
    "error_line",
    "option_names",
    "os_error_message",
]

#: the option of every command that writes for where it writes (fit's results, report's folder,
#: ...): messages name it so
OUT_OPTION = "-o/--out"
#: how usage, help and messages name a fit's results folder, the input of the commands that read a
#: fit (apply, report, movies, compare, stats, export): the folder ``ethogram fit -o`` wrote
RESULTS = "RESULTS"
#: the command's option for each library argument a message may name (Python name -> option,
#: with its placeholder when it takes a value); ``"name=value"`` words one value
OPTIONS = {
    "fps": "--fps",
    "format": "--format",
    "format=None": "leave --format out",
    "px_per_mm": "--px-per-mm",
    "overwrite": "--overwrite",
    "resume": "--resume",
    "resume=False": "run with --overwrite instead of --resume",
    "out_dir": f"{OUT_OPTION} DIR",
    "video": "--video",
    "kind": "--kind",
    "syllables": "--syllables",
    "units": "--units",
    "num_iters": "--iters",
    "num_restarts": "--restarts",
    "kappa": "--kappa",
    "prior_ridge": "--prior-ridge",
    "target_duration": "--target-duration S",
    "num_states": "--states",
    "method": "--method",
    "seed": "--seed",
    "gibbs_iters": "--gibbs-iters",
    "ar_iters": "--ar-iters",
    "reseed_dead": "--reseed-dead",
    # the preparation's: options of the commands that prepare recordings (PREP_COMMANDS)
    "bodyparts": "--bodyparts NAMES",
    "anterior": "--anterior NAMES",
    "posterior": "--posterior NAMES",
    "confidence_threshold": "--confidence",
    "confidence_threshold=None": "--confidence 0",
    "num_pcs": "--pcs",
    "variance": "--variance",
}
#: commands whose preparation options (--bodyparts, --anterior, --posterior, --confidence,
#: --pcs, --variance) exist
PREP_COMMANDS = ("fit", "select", "demo")
_PREP_ARGUMENTS = (
    "bodyparts",
    "anterior",
    "posterior",
    "confidence_threshold",
    "num_pcs",
    "variance",
)
#: where a command says an argument otherwise: apply's preparation was fixed by the fit
_COMMAND_OPTIONS = {
    "apply": {
        "bodyparts": "'ethogram fit --bodyparts NAMES'",
        "confidence_threshold": "the model's --confidence",
    },
}


def counting(low: int):
    """An argparse ``type`` for a count of at least ``low`` (``--states``, ``--iters``, ...): a
    bad value is refused by the parser in the option's own name, with what it accepts."""
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a whole number >= {low}, got {text!r}"
            ) from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be a whole number >= {low}, got {value}")
        return value

    parse.__name__ = f"count >= {low}"
    return parse


def option_names(command: str | None = None) -> dict:
    """The words of ``command`` (``args.command``; None: every option) for library arguments.

    Parameters
    ----------
    command : str, optional

    Returns
    -------
    dict of str -> str
        :data:`OPTIONS`, without the preparation's options for a command that has none, with
        the command's own words where they differ (``apply``).
    """
    names = dict(OPTIONS)
    if command is not None and command not in PREP_COMMANDS:
        for argument in _PREP_ARGUMENTS:
            for name in [n for n in names if n == argument or n.startswith(f"{argument}=")]:
                names.pop(name)
    names.update(_COMMAND_OPTIONS.get(command, {}))
    return names


def command_words(message, command: str | None = None) -> str:
    """An error or warning of the library in the command's words: its first line, the arguments
    it carries (:class:`ethogram.errors.Worded`) said as ``command``'s options."""
    text = worded(message, option_names(command))
    return text.splitlines()[0] if text else ""


def error_line(exc: BaseException, command: str | None) -> str:
    """The line after ``ethogram: error:`` for an error of a user's input.

    A ``KeyError`` says its key's message (not its repr); an error without a message, its type.
    """
    if isinstance(exc, KeyError) and exc.args and not hasattr(exc, "worded"):
        return command_words(exc.args[0], command) or type(exc).__name__
    return command_words(exc, command) or type(exc).__name__


class CLIError(Exception):
    """A user error the command reports as one line (exit code 2)."""


def os_error_message(exc: OSError) -> str:
    """One line for a failure of the file system: what happened, where, and what to do."""
    import errno

    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return (
            f"no space left on the device{where}: free some space or write to another folder "
            f"with {OUT_OPTION}"
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return (
            f"cannot write there{where}: the folder is read-only or not yours; choose another "
            f"output folder with {OUT_OPTION}"
        )
    return f"{exc.strerror or exc}{where}; check the path and the disk"
