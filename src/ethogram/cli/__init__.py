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

from ._errors import CLIError, os_error_message

__all__ = ["main", "build_parser", "CLIError"]

#: the end of ``ethogram --help``: a fit's folder is written with -o (as every output) and read as
#: RESULTS by the commands that work on a fit
EXAMPLES = """\
every command that writes takes -o DIR (or --out DIR); the commands that read a fit take its
results folder, RESULTS: the folder 'ethogram fit -o' wrote. For example:
  ethogram fit recordings/ -o fit1       fit1/results.h5, fit1/results_csv/, ...
  ethogram report fit1                   fit1/report/index.html
  ethogram movies fit1 -o movies1        movies1/ (default fit1/movies/)
  ethogram apply fit1 new/ -o new1       the model of fit1 on new recordings
"""


#: older spellings of an option, still taken (with argparse's abbreviations of them) and read as
#: the option's one word before parsing, so that help, usage and errors name only that word:
#: ``--output`` was the long name of ``-o`` in fit, apply, select, demo and report
OLDER_SPELLINGS = {"--output": "--out"}


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line on stderr, exit code 2, and which takes
    the :data:`OLDER_SPELLINGS` of its options."""

    def error(self, message):  # argparse's hook
        if message.startswith("the following arguments are required"):
            # a required option missed because it was given in other words (--annotations)
            unknown = [
                a
                for a in getattr(self, "_given", [])
                if isinstance(a, str) and a.partition("=")[0] not in self._option_string_actions
            ]
            for given, option in _did_you_mean(unknown, self._option_string_actions):
                message += f"; {given} is not one of its options: did you mean {option}?"
        sys.stderr.write(f"ethogram: error: {message} (see '{self.prog} --help')\n")
        sys.exit(2)

    def parse_known_args(self, args=None, namespace=None):  # argparse's
        # a subcommand's parser gets its arguments from the top parser as a list
        if args is not None:
            args = _current_spellings(args, self._option_string_actions)
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):  # argparse's
        # argparse refuses a subcommand's unknown options in the top parser's name: refuse them
        # in the subcommand's, so that the line points to 'ethogram apply --help'
        args, extras = self.parse_known_args(args, namespace)
        if extras:
            command = self._command_parser(args)
            guesses = [o for _, o in _did_you_mean(extras, command._option_string_actions)]
            hint = f"; did you mean {' or '.join(guesses)}?" if guesses else ""
            command.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
        return args

    def _command_parser(self, args) -> argparse.ArgumentParser:
        """The parser of the subcommand ``args`` ran (this one when there is none)."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices.get(getattr(args, action.dest, None), self)
        return self


#: other tools' names for ethogram's options (hmmlearn's n_iter, keypoint-moseq's num_states,
#: an annotation file), suggested when a command lacks the name given
OTHER_NAMES = {
    "--num-states": "--states",
    "--n-states": "--states",
    "--n-components": "--states",
    "--iterations": "--iters",
    "--num-iters": "--iters",
    "--n-iter": "--iters",
    "--annotations": "--labels",
    "--output-dir": "--out",
}


def _did_you_mean(extras, options) -> list:
    """``[(given, option)]``: the unknown options among ``extras`` that name one of the
    command's ``options`` in other words (:data:`OTHER_NAMES`) or nearly (difflib)."""
    import difflib

    known = [o for o in options if o.startswith("--")]
    found = []
    for arg in extras:
        name = arg.partition("=")[0] if isinstance(arg, str) else ""
        if not name.startswith("--"):
            continue
        other = OTHER_NAMES.get(name.replace("_", "-"))
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        guess = other if other in options else (close[0] if close else None)
        if guess and guess not in [g for _, g in found]:
            found.append((name, guess))
    return found


def _current_spellings(args, options) -> list:
    """``args`` with each older spelling of an option (:data:`OLDER_SPELLINGS`; ``--output``,
    ``--outp``, ``--output=DIR``) said as the option it names, when the parser (its ``options``)
    has that option and not the older name; arguments after ``--`` are left as they are."""
    args = list(args)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if not isinstance(arg, str) or not arg.startswith("--"):
            continue
        name, equals, value = arg.partition("=")
        for old, new in OLDER_SPELLINGS.items():
            if len(name) > len(new) and old.startswith(name) and new in options:
                if old not in options:
                    args[i] = new + equals + value
    return args


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ethogram`` command."""
    from . import apply, compare, demo, export, fit, info, movies, report, select, stats

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback on errors",
    )
    parser = _Parser(
        prog="ethogram",
        description="Turn recordings of animal behavior into syllables with autoregressive HMMs.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    from .._version import __version__

    parser.add_argument("--version", action="version", version=f"ethogram {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )
    for module in (fit, apply, info, demo, report, movies, compare, stats, select, export):
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
        0 on success, 2 for bad input (a one-line message on stderr), 130 when interrupted, 1
        without a message when the reader of standard output went away (``ethogram fit ... |
        head``: whatever was to be written is written, only the rest of the printout is lost).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = [str(a) for a in argv]
    debug = bool(getattr(args, "debug", False))
    try:
        code = int(args.run(args))
        # a reader that went away (``ethogram fit ... | head``) shows here, not at exit
        sys.stdout.flush()
        return code
    except BrokenPipeError as exc:
        if debug or not _stdout_closed():  # another pipe broke: an error like any other
            if debug:
                raise
            sys.stderr.write(f"ethogram: error: {os_error_message(exc)}\n")
            return 2
        # the reader of our output went away; the work is done: exit quietly, as Python's docs
        # advise (https://docs.python.org/3/library/signal.html#note-on-sigpipe)
        _stdout_to_devnull()
        return 1
    except KeyboardInterrupt:
        if debug:
            raise
        sys.stderr.write(f"ethogram: {_interrupted(args)}\n")
        return 130
    except (
        CLIError,
        ValueError,
        TypeError,
        FileNotFoundError,
        FileExistsError,
        IsADirectoryError,
        NotADirectoryError,
        PermissionError,
        KeyError,
    ) as exc:
        if debug:
            raise
        from ._errors import error_line

        line = error_line(exc, getattr(args, "command", None))  # arguments said as options
        sys.stderr.write(f"ethogram: error: {line}\n")
        return 2
    except OSError as exc:
        if debug:
            raise
        sys.stderr.write(f"ethogram: error: {os_error_message(exc)}\n")
        return 2
    except Exception as exc:  # an unexpected failure: still one line, but say it is one
        if debug:
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(
            f"ethogram: error: {type(exc).__name__}: {first} (run again with --debug for the "
            "traceback)\n"
        )
        return 1


def _interrupted(args) -> str:
    """The line for Ctrl-C: for a fit with a checkpoint (its own, or its kappa search's), where
    the work so far is kept and how to carry it on."""
    ck = getattr(args, "checkpoint_file", None)
    if ck is None:
        return "interrupted"
    from ..pipeline import resumable_checkpoints

    found = resumable_checkpoints(ck)
    if not found:
        return "interrupted"
    what = "the fit" if found == [ck] else "the kappa search"
    return (
        f"interrupted; {what} so far is kept in {', '.join(map(str, found))}: run the same "
        "command with --resume to carry it on (or with --overwrite to start over)"
    )


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (poll reports an error on it)."""
    try:
        import select

        fd = sys.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        events = poller.poll(0)
    except (
        AttributeError,
        OSError,
        ValueError,
    ):  # no poll (Windows) or no real file: the usual cause
        return True
    return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in events)


def _stdout_to_devnull() -> None:
    """Point standard output at /dev/null, so that Python's flush at exit does not fail again."""
    import os

    try:
        fd = sys.stdout.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
    except (AttributeError, OSError, ValueError):
        return
    os.dup2(devnull, fd)
    os.close(devnull)
