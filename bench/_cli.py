"""The command line of the benchmark scripts that take no options: ``--help`` prints what the
script measures (its docstring) and exits, instead of starting the whole benchmark, and an
unknown option is refused."""

from __future__ import annotations

import argparse


def no_options(doc: str | None, argv=None) -> None:
    """Parse a command line that takes no options (``--help`` prints ``doc`` and exits).

    Parameters
    ----------
    doc : str or None
        The script's module docstring.
    argv : list of str, optional
        Default: ``sys.argv[1:]``.
    """
    argparse.ArgumentParser(
        description=(doc or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="This script takes no options; run it without arguments.",
    ).parse_args(argv)
