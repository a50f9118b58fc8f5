"""Deprecation aliases: a public name that changed still works for a while, with a warning.

:func:`renamed_arguments` lets a function take an argument under its old name (a
``DeprecationWarning`` says the new one); :func:`warn_renamed` is the warning itself, for
module attributes and modules that moved. Each alias has a test (tests/test_renames.py).
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["renamed_arguments", "warn_renamed"]


def warn_renamed(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn (``DeprecationWarning``) that ``old`` is now called ``new``."""
    warnings.warn(f"{old} is deprecated: it is now called {new}; the old name will be removed",
                  DeprecationWarning, stacklevel=stacklevel)


def renamed_arguments(**renames: str):
    """Decorator: keyword arguments under their old names (``old="new"``) still work.

    The old name is passed on as the new one with a ``DeprecationWarning``; giving both
    raises TypeError. The signature seen by ``inspect.signature`` is the function's own.

    Parameters
    ----------
    **renames : str
        ``old_name="new_name"``.
    """

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{fn.__qualname__}() got both {old!r} (its old name) "
                                        f"and {new!r}; give only {new}")
                    warn_renamed(f"the argument {old!r} of {fn.__qualname__}()", repr(new))
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper

    return decorate
