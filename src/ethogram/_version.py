"""The version of ethogram, in a module of its own so that any floor can read it without
importing the package's public face (:mod:`ethogram` re-exports it as ``__version__``)."""

__version__ = "0.1.0"
