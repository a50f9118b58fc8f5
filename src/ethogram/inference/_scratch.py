"""Reusable per-thread work arrays for loops that run the same kernels over and over.

A Gibbs sampler allocates the same ``T x K`` temporaries (log-likelihoods, filtered
probabilities) every iteration; arrays that large are mapped fresh from the operating system
each time, and touching their new pages costs more than the kernels that fill them (several
milliseconds per iteration on a virtual machine). :func:`scratch` hands out a view of a
float64 buffer kept per thread and per name, grown when a larger one is asked for, so the
pages are touched once. A view is valid until the same thread asks for the same name again:
only for temporaries that never leave the function that asked.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["scratch"]

_local = threading.local()


def scratch(name: str, shape: tuple) -> np.ndarray:
    """An uninitialised C-contiguous float64 array of ``shape``, reused across calls.

    Parameters
    ----------
    name : str
        Which buffer (one per purpose, so two temporaries alive together never share one).
    shape : tuple of int

    Returns
    -------
    ndarray
        A view of this thread's buffer ``name``.
    """
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    size = int(np.prod(shape))
    buf = buffers.get(name)
    if buf is None or buf.size < size:
        buf = buffers[name] = np.empty(max(size, 1))
    return buf[:size].reshape(shape)
