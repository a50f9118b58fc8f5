"""Reading recordings: every supported file becomes a list of :class:`Recording`."""

from .recording import KINDS, LazyFrames, Recording

__all__ = ["KINDS", "LazyFrames", "Recording"]
