"""The step after ``ethogram select``: the fit of the K it chose, said as a command line with the
inputs and every option given to select that ``ethogram fit`` also takes, so that it can be
copied as printed.
"""

from __future__ import annotations


def next_fit(args, chosen: int) -> str:
    """The fit of the K ``ethogram select`` chose, as a command: the inputs and every option
    given to select that ``ethogram fit`` takes too (``--fps``, the preparation's, ``--kappa``,
    ...), with ``--states`` the chosen K. A fresh user's select said "best K = 5" and the fit
    went on with its default K = 20; a first version of this line left out ``--fps``."""
    import shlex

    options = _fit_options_given(getattr(args, "argv", []) or [])
    shown = " ".join(shlex.quote(str(i)) for i in args.inputs[:3])
    shown += " ..." if len(args.inputs) > 3 else ""
    given = " ".join(shlex.quote(t) for t in options)
    return (
        f"next: ethogram fit {shown}{' ' + given if given else ''} --states {chosen} -o DIR "
        "(a fit without --states uses K = 20; it searches kappa itself unless --kappa is given)"
    )


def _fit_options_given(argv: list) -> list:
    """The tokens of ``argv`` (a select command line) whose options ``ethogram fit`` also has,
    with their values; not --states, the output or --overwrite. Select's own options are
    passed over, and so are their values (tokens that are no option)."""
    import argparse

    from . import fit as fit_command

    fit = argparse.ArgumentParser(add_help=False).add_subparsers()
    fit_command.add_parser(fit, [])
    options = fit.choices["fit"]._option_string_actions
    skip = {"--states", "-o", "--out", "--overwrite"}
    tokens = argv[argv.index("select") + 1 :] if "select" in argv else []
    out, i = [], 0
    while i < len(tokens):
        name = tokens[i].split("=", 1)[0]
        action = options.get(name) if name.startswith("-") and name not in skip else None
        if action is None:
            i += 1
            continue
        takes = 0 if action.nargs == 0 or "=" in tokens[i] else 1
        out.extend(tokens[i : i + 1 + takes])
        i += 1 + takes
    return out
