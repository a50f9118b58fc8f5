"""Deprecated name of :mod:`ethogram.models.families` (the named HMM families, first written for
the course). ``from ethogram.models.course import GaussianHMM`` still works and warns with a
:class:`DeprecationWarning` naming the new module; import from :mod:`ethogram.models` instead.
"""

from __future__ import annotations

from .._deprecation import moved_module

__getattr__ = moved_module("ethogram.models.course", "ethogram.models.families")
