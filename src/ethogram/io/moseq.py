"""MoSeq readers (and one writer), one module per layout, importable from here.

Both give feature recordings: ``data`` = principal-component scores (T, D) with NaN rows where a
frame was dropped, plus the centroid (pixels), heading (radians) and depth frames (read lazily)
that crowd movies need, and MoSeq's own labels when the file has them. ``moseq-nwb``, the
course's NWB layout (``processing/MoSeq``), is read and written by
:mod:`ethogram.io.moseq_nwb`; ``moseq2``, moseq2-pca's scores joined to moseq2-extract's
``results_XX.h5``, is read by :mod:`ethogram.io.moseq2`, which says how each file finds the other.
"""

from .moseq2 import is_moseq2_extraction, is_moseq2_scores, read_moseq2
from .moseq_nwb import read_moseq_nwb, write_moseq_nwb

__all__ = [
    "read_moseq_nwb",
    "write_moseq_nwb",
    "read_moseq2",
    "is_moseq2_scores",
    "is_moseq2_extraction",
]
