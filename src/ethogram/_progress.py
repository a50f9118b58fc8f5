"""Progress bars for long work, on a terminal and in a log: one :func:`progress_bar` for every loop
that shows one (EM iterations, Gibbs sweeps, selection fits, report plots, movies). On a terminal
it is tqdm's bar; when shown on a stream that is not a terminal (a cluster job's log file, stderr
piped to ``tee``), tqdm's carriage-return redraws would pile up as one unreadable line, so the bar
writes a plain line every :data:`LOG_INTERVAL_S` seconds instead, and nothing for work shorter than
that. ``progress=None`` keeps tqdm's own rule (a bar on a terminal, none elsewhere): the library's
default; the ``ethogram`` command passes True unless ``--quiet``, so that its logs say how far a
long fit has come.
"""

from __future__ import annotations

import sys

__all__ = ["LOG_INTERVAL_S", "progress_bar"]

#: seconds between two progress lines in a log (and before the first: short work writes none)
LOG_INTERVAL_S = 30.0


class _Lines:
    """A text stream for tqdm that turns each redraw (``\\r`` + bar) into one line."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        if line:  # a cleared bar (spaces) writes nothing
            self._stream.write(line + "\n")

    def flush(self) -> None:
        self._stream.flush()


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_bar(total, desc: str, progress, *, stream=None, **kwargs):
    """A tqdm bar over ``total`` steps, shown as ``progress`` says.

    Parameters
    ----------
    total : int
        Steps (iterations, sweeps, fits, plots, movies).
    desc : str
        What is counted, said before the bar.
    progress : bool or None
        True: shown (a bar on a terminal, a line every :data:`LOG_INTERVAL_S` seconds on
        any other stream); False: not shown; None: tqdm's own rule (a bar on a terminal only).
    stream : text stream, optional
        Where to write (default ``sys.stderr``, read at the call).
    **kwargs
        Passed to ``tqdm`` (``unit``, ``initial``, ``leave``, ...).

    Returns
    -------
    tqdm.tqdm
        Use as tqdm's (``update``, ``set_postfix``, ``close``, context manager).

    Notes
    -----
    Source: tqdm (``delay``, ``mininterval``); the line-per-interval form is ethogram's.
    """
    from tqdm import autonotebook, std
    from tqdm.auto import tqdm

    stream = sys.stderr if stream is None else stream
    in_notebook = autonotebook.tqdm is not std.tqdm  # a notebook draws its own widget
    if progress and not in_notebook and not _is_terminal(stream):

        class _LogBar(tqdm):
            """Its postfix and description wait for the next line (tqdm's own redraw at once)."""

            def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
                super().set_postfix(ordered_dict, refresh=False, **kwargs)

            def set_description(self, desc=None, refresh=True):
                super().set_description(desc, refresh=False)

        return _LogBar(
            total=total,
            desc=desc,
            file=_Lines(stream),
            mininterval=LOG_INTERVAL_S,
            maxinterval=LOG_INTERVAL_S,
            delay=LOG_INTERVAL_S,
            ascii=True,
            ncols=100,
            **kwargs,
        )
    disable = None if progress is None else not progress
    return tqdm(total=total, desc=desc, file=stream, disable=disable, **kwargs)
