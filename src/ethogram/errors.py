"""Errors and warnings that name the arguments they are about, as data.

A message of ethogram that asks the user to change an argument names it by its Python name in a
field of its template: ``{fps}`` for the argument alone, ``{fps:30}`` with a value. ``str()``
says it in Python's words (``fps``, ``fps=30``); :meth:`Worded.worded` says it with other words
for the arguments, as the ``ethogram`` command does with its options (``--fps``, ``--fps 30``,
from one table in :mod:`ethogram.cli`). So no library message spells a command-line flag, and
the command line rewrites no text. Only the declared arguments are fields: other braces in a
message (a recording's name, a dict) stay as they are. :class:`FitQualityWarning
<ethogram.analysis.diagnostics.FitQualityWarning>` is a warning of the same kind.
"""

from __future__ import annotations

import re

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "ArgumentWarning",
    "InputNotFoundError",
    "OutputExistsError",
    "Worded",
    "worded",
]

#: a value that stands for any value (``[...]``, ``K``): the command line shows its own
#: placeholder (``--bodyparts NAMES``) or appends this one (``--states K``)
_PLACEHOLDER = re.compile(r"\[\.\.\.\]|[A-Z]+")
#: the placeholder at the end of an option's words (``--bodyparts NAMES``, ``--target-duration S``)
_METAVAR = re.compile(r" [A-Z][A-Z_]*$")


def _python_words(argument: str, value: str | None) -> str:
    return argument if value is None else f"{argument}={value}"


def _other_words(words: str, value: str | None) -> str:
    """An option's words (``--fps``, ``--bodyparts NAMES``) with the value of one field."""
    if value is None:
        return words
    metavar = _METAVAR.search(words)
    if value == "[...]":  # a list: the words hold their own placeholder (NAMES)
        return words
    if _PLACEHOLDER.fullmatch(value):
        return words if metavar else f"{words} {value}"
    if value == "True" and not metavar:
        return words
    return (words[: metavar.start()] if metavar else words) + f" {value}"


class Worded:
    """A message template whose fields are the arguments it names (see the module's docstring).

    Parameters
    ----------
    template : str
        The message; ``{name}`` or ``{name:value}`` for each argument in ``arguments``.
    arguments : str or sequence of str
        The Python names of the arguments the message names.

    Raises
    ------
    ValueError
        If an argument has no field in the template (a mistake in ethogram, not the user's).
    """

    def _init_worded(self, template: str, arguments=()) -> None:
        self.template = str(template)
        self.arguments = (arguments,) if isinstance(arguments, str) else tuple(arguments)
        missing = [a for a in self.arguments if not self._field(a).search(self.template)]
        if missing:
            raise ValueError(
                f"template has no field for the arguments {missing}: {self.template!r}"
            )

    @staticmethod
    def _field(argument: str):
        return re.compile(r"\{" + re.escape(argument) + r"(?::([^{}]*))?\}")

    def worded(self, names: dict | None = None) -> str:
        """The message with each argument said by ``names`` (default: its Python name).

        Parameters
        ----------
        names : dict of str -> str, optional
            Argument -> its words elsewhere, e.g. ``{"fps": "--fps"}``; a key
            ``"name=value"`` words one value of an argument (``"resume=False"``). An argument
            missing there keeps its Python words.

        Returns
        -------
        str
        """
        text = self.template
        for argument in self.arguments:

            def say(match, argument=argument):
                value = match.group(1)
                if names and value is not None and f"{argument}={value}" in names:
                    return names[f"{argument}={value}"]
                if names and argument in names:
                    return _other_words(names[argument], value)
                return _python_words(argument, value)

            text = self._field(argument).sub(say, text)
        return text


class ArgumentError(Worded, ValueError):
    """A ValueError about arguments the user set; ``str(err)`` names them in Python.

    Parameters
    ----------
    template, arguments
        See :class:`Worded`.
    """

    def __init__(self, template: str, arguments):
        self._init_worded(template, arguments)
        super().__init__(self.worded())

    def __reduce__(self):  # picklable across processes like any exception
        return (type(self), (self.template, self.arguments))


class ArgumentTypeError(Worded, TypeError):
    """A TypeError about an argument the user set; see :class:`ArgumentError`."""

    def __init__(self, template: str, arguments):
        self._init_worded(template, arguments)
        super().__init__(self.worded())

    def __reduce__(self):
        return (type(self), (self.template, self.arguments))


class InputNotFoundError(Worded, FileNotFoundError):
    """A FileNotFoundError whose remedy names an argument (``give an existing file as {video}``)."""

    def __init__(self, template: str, arguments):
        self._init_worded(template, arguments)
        super().__init__(self.worded())

    def __reduce__(self):
        return (type(self), (self.template, self.arguments))


class OutputExistsError(Worded, FileExistsError):
    """A FileExistsError whose remedy names an argument (``{overwrite:True}``)."""

    def __init__(self, template: str, arguments):
        self._init_worded(template, arguments)
        super().__init__(self.worded())

    def __reduce__(self):
        return (type(self), (self.template, self.arguments))


class ArgumentWarning(Worded, UserWarning):
    """A warning whose advice names arguments the user set; see :class:`ArgumentError`.

    ``ArgumentWarning(message)`` with no arguments is a plain warning.
    """

    def __init__(self, template: str, arguments=()):
        self._init_worded(template, arguments)
        super().__init__(self.worded())

    def __reduce__(self):
        return (type(self), (self.template, self.arguments))


def worded(message, names: dict | None = None) -> str:
    """Any exception or warning as text, its arguments said by ``names`` when it carries them.

    Parameters
    ----------
    message : BaseException or Warning or str
    names : dict of str -> str, optional
        As for :meth:`Worded.worded`.

    Returns
    -------
    str
    """
    say = getattr(message, "worded", None)
    return say(names) if callable(say) else str(message)
