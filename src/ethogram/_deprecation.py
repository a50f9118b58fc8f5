"""Old names kept working after a rename, each with a DeprecationWarning naming the new one.

One helper per kind of rename (issue 16, "one word per concept"): :func:`renamed_keywords` for a
keyword argument, :func:`renamed_attribute` for an attribute, :func:`renamed_function` for a
function, and :func:`moved_module` for a module whose contents moved (its ``__getattr__``).
The old spelling gives the same result as the new one, bit for bit; only the warning differs.
Like the other utilities at the bottom of the floors, this module imports no other part of
ethogram.
"""

from __future__ import annotations

import functools
import importlib
import warnings

__all__ = [
    "current_keywords",
    "moved_module",
    "renamed_attribute",
    "renamed_function",
    "renamed_keywords",
]


def _warn(old: str, new: str, stacklevel: int) -> None:
    warnings.warn(
        f"{old} is deprecated: use {new} (same meaning, same result)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def renamed_keywords(**old_to_new: str):
    """Decorator: accept each old keyword as the new one, with a DeprecationWarning.

    Parameters
    ----------
    **old_to_new : str
        ``old="new"`` for each renamed keyword argument.

    Returns
    -------
    callable
        A decorator for a function or method (for a class, decorate its ``__init__``).
        The wrapped function raises TypeError when a call gives both the old and the new
        keyword.

    Examples
    --------
    >>> @renamed_keywords(noise="covariance_type")
    ... def make(covariance_type="full"):
    ...     return covariance_type
    >>> make(noise="diag")  # doctest: +SKIP
    'diag'   # and a DeprecationWarning naming covariance_type
    """

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{func.__qualname__}() got both {old}= (deprecated) and {new}=; "
                            f"give only {new}="
                        )
                    _warn(f"keyword {old}= of {func.__qualname__}()", f"{new}=", 3)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        wrapper.__renamed_keywords__ = dict(old_to_new)
        return wrapper

    return decorate


def current_keywords(func, kwargs: dict) -> dict:
    """``kwargs`` with the old keywords of ``func`` (a :func:`renamed_keywords` function or a
    class whose ``__init__`` is one) under their new names, silently.

    For settings read back from a file written before a rename (a model's description in a
    results file or a checkpoint): the file is not the user's call, so it earns no warning.

    Parameters
    ----------
    func : callable or type
    kwargs : dict

    Returns
    -------
    dict
        A new dict; a key given under both names keeps the new name's value.
    """
    target = func.__init__ if isinstance(func, type) else func
    renamed = getattr(target, "__renamed_keywords__", {})
    out = {}
    for key, value in kwargs.items():
        new = renamed.get(key)
        if new is None:
            out[key] = value
        elif new not in kwargs:
            out[new] = value
    return out


def renamed_function(func, old_name: str):
    """The function ``func`` under its former name ``old_name``, warning when called.

    Parameters
    ----------
    func : callable
        The function under its new name.
    old_name : str
        The former name (as the user wrote it, e.g. ``"sum_stats"``).

    Returns
    -------
    callable
        Calls ``func`` with the same arguments after a DeprecationWarning naming
        ``func.__name__``.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _warn(old_name, func.__name__, 3)
        return func(*args, **kwargs)

    wrapper.__name__ = old_name
    wrapper.__qualname__ = old_name
    wrapper.__doc__ = f"Deprecated name of :func:`{func.__module__}.{func.__name__}`."
    return wrapper


def renamed_attribute(old: str, new: str) -> property:
    """A read-only property ``old`` returning attribute ``new``, with a DeprecationWarning.

    Parameters
    ----------
    old, new : str
        The former and the present attribute names.

    Returns
    -------
    property
        To assign in a class body: ``noise = renamed_attribute("noise", "covariance_type")``.
    """

    def getter(self):
        _warn(f"attribute {old} of {type(self).__name__}", new, 3)
        return getattr(self, new)

    return property(getter, doc=f"Deprecated name of ``{new}``.")


def moved_module(old: str, new: str):
    """A module ``__getattr__`` serving the names of module ``new`` under module ``old``.

    Parameters
    ----------
    old, new : str
        Full dotted names of the former and the present module.

    Returns
    -------
    callable
        ``__getattr__(name)`` for the old module: each name found in ``new`` is returned
        after a DeprecationWarning naming ``new``; other names raise AttributeError.
    """

    def __getattr__(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        module = importlib.import_module(new)
        if not hasattr(module, name):
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        _warn(f"module {old}", f"{new} ({name} is there)", 2)
        return getattr(module, name)

    return __getattr__
