"""The arguments several subcommands share, declared once so that each concept has one word:
the recordings read (INPUT, ``--format``, ``--fps``, ``--px-per-mm``), a fit's results folder
read (RESULTS), where a command writes (``-o DIR, --out DIR``) and ``--overwrite``."""

from __future__ import annotations

from ._common import RESULTS_NAME
from ._errors import RESULTS


def add_input_arguments(parser) -> None:
    """``inputs``, ``--format`` and ``--fps``: how recordings are found and read."""
    from ..io import FORMATS

    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="recording files, folders or glob patterns"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="file format (guessed from each file when left out)",
    )
    parser.add_argument(
        "--fps",
        type=float,
        default=None,
        metavar="HZ",
        help="frame rate, for files without timestamps",
    )
    parser.add_argument(
        "--px-per-mm",
        default=None,
        metavar="X|CSV",
        help="pixels per millimetre (speeds in mm/s, distances in cm): one number, "
        "or a CSV of recording,px_per_mm; wins over a scale the file holds "
        "(JABS cm_per_pixel)",
    )


def add_results_argument(parser, dest: str = "results", what: str = "") -> None:
    """The positional RESULTS: the folder ``ethogram fit -o`` wrote, or its results .h5 file.

    ``what`` ends the help (what the command takes from it).
    """
    parser.add_argument(
        dest,
        metavar=RESULTS,
        help="the fit's results folder: the folder 'ethogram fit -o' wrote (or its "
        "results .h5 file)" + what,
    )


def add_out_argument(parser, help: str, dest: str = "out", **kwargs) -> None:
    """``-o DIR, --out DIR``: where a command writes (the same option in every command)."""
    parser.add_argument("-o", "--out", dest=dest, metavar="DIR", help=help, **kwargs)


def add_output_arguments(parser, required: bool = True, default=None) -> None:
    """``-o/--out`` (into ``args.output``) and ``--overwrite``: where a fit's results go."""
    add_out_argument(
        parser,
        f"where to write: a folder (gets {RESULTS_NAME} and results_csv/) or a file ending in .h5"
        + (f" (default {default})" if default else ""),
        dest="output",
        required=required,
        default=default,
    )
    add_overwrite_argument(parser, "replace existing results")


def add_overwrite_argument(parser, help: str) -> None:
    """``--overwrite``: an existing output is refused without it (every command that writes)."""
    parser.add_argument("--overwrite", action="store_true", help=help)
