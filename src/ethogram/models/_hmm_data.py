"""The HMM's inputs, checked: one sequence or a list of them, their masks (given, and the NaN
rows masked automatically), turned into the lists of arrays and effective masks that EM and
inference read (:func:`prepare_sequences`), or kept on disk and read once to find their masks
(:func:`fit_inputs`). Each function takes the observation model that checks a sequence and says
which of its frames are scored.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_inputs", "is_batch", "prepare_sequences"]


def is_batch(observations, data) -> bool:
    """A list/tuple of sequences (vs. one sequence given as a nested list)."""
    nd = observations.sequence_ndim
    return isinstance(data, (list, tuple)) and len(data) > 0 and all(np.ndim(x) == nd for x in data)


def _mask_list(mask, batch: bool, n: int) -> list:
    """One mask (or None) per sequence."""
    if mask is None:
        return [None] * n
    if batch:
        if not isinstance(mask, (list, tuple)) or len(mask) != n:
            raise ValueError(
                f"mask must be a list with one boolean mask (or None) per sequence; got "
                f"{type(mask).__name__} for {n} sequences"
            )
        return list(mask)
    return [mask]


def _observed(d: np.ndarray, m, i: int, mask_nan: bool):
    """The checked mask of sequence ``i`` (T,) with its NaN rows masked (None: all observed).

    Raises
    ------
    ValueError
        A mask of the wrong shape or type, or NaN rows with ``mask_nan=False``.
    """
    T = d.shape[0]
    if m is not None:
        m = np.asarray(m)
        if m.shape != (T,) or not (m.dtype == bool or np.isin(m, (0, 1)).all()):
            raise ValueError(
                f"mask of sequence {i} must be boolean of shape ({T},) (True = observed), "
                f"got dtype {m.dtype} shape {m.shape}"
            )
        m = m.astype(bool)
    if np.issubdtype(d.dtype, np.floating):
        nan_rows = np.isnan(d.reshape(T, -1)).any(axis=1)
        if nan_rows.any():
            if not mask_nan:
                raise ValueError(
                    f"data (sequence {i}) has NaN in {int(nan_rows.sum())} frames; pass "
                    "mask_nan=True to ignore them or give a mask"
                )
            m = ~nan_rows if m is None else (m & ~nan_rows)
    return m


def prepare_sequences(observations, data, mask=None, mask_nan=True):
    """Validate data into (list of arrays, list of effective masks, was_batch).

    Parameters
    ----------
    observations : ObservationModel
        Checks each sequence (``check_data``) and gives its scored frames (``effective_mask``).
    data : array_like, shape (T, ...), or list of them
    mask : array_like of bool, shape (T,), or list of them (or None), optional
        True where a frame is observed.
    mask_nan : bool, default True
        Mask the frames holding NaN (else they raise).

    Returns
    -------
    sequences : list of ndarray
    masks : list of (ndarray of bool, shape (T_n,), or None)
    batch : bool
        Whether ``data`` was a list of sequences.

    Raises
    ------
    ValueError
        An empty list, masks that do not match the sequences, or NaN with ``mask_nan=False``.
    """
    if isinstance(data, (list, tuple)) and len(data) == 0:
        raise ValueError(
            "data is an empty list: give at least one sequence (an array of frames x features)"
        )
    batch = is_batch(observations, data)
    sequences = list(data) if batch else [data]
    mlist = _mask_list(mask, batch, len(sequences))
    out_d, out_m = [], []
    for i, (d, m) in enumerate(zip(sequences, mlist)):
        d = observations.check_data(d)
        m = _observed(d, m, i, mask_nan)
        out_d.append(d)
        out_m.append(observations.effective_mask(d, m))
    return out_d, out_m, batch


def fit_inputs(observations, data, mask, mask_nan: bool):
    """Validated sequences, their effective mask, whether the input was a batch, and whether it
    stays on disk (each recording of an
    :class:`~ethogram.fitting.ondisk.OnDiskSequences` read once to check it and find its mask).
    """
    from ..fitting.ondisk import OnDiskSequences

    if not isinstance(data, OnDiskSequences):
        return (*prepare_sequences(observations, data, mask, mask_nan), False)
    mlist = [None] * len(data) if mask is None else list(mask)
    ms = [
        prepare_sequences(observations, d.read_sequence(), m, mask_nan)[1][0]
        for d, m in zip(data, mlist, strict=True)
    ]
    return list(data), ms, True, True
