"""Reading recordings: every supported file becomes a list of :class:`Recording`.

``read_recordings(paths, format=None, fps=None, bodyparts=None)`` is the entry point; the
formats (:data:`FORMATS`) are DeepLabCut, SLEAP, NWB ndx-pose, JABS,
the MoSeq NWB layout and moseq2 output, and plain ``.npy``/``.npz``/``.csv`` arrays. Readers
import their heavy dependencies when called, so importing this package stays fast.
"""

from .notes import ReadNoteWarning, SkippedFilesWarning
from .readers import FORMATS, describe, guess_format, read_file, read_recordings
from .recording import KINDS, LazyFrames, Recording


def write_moseq_nwb(*args, **kwargs):
    """Write a recording in the course's MoSeq NWB layout; see
    :func:`ethogram.io.moseq.write_moseq_nwb`."""
    from .moseq import write_moseq_nwb as _write

    return _write(*args, **kwargs)


__all__ = [
    "FORMATS",
    "KINDS",
    "LazyFrames",
    "ReadNoteWarning",
    "Recording",
    "SkippedFilesWarning",
    "describe",
    "guess_format",
    "read_file",
    "read_recordings",
    "write_moseq_nwb",
]
