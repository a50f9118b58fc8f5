"""The reference point of the Gaussian and autoregressive models: the training data's mean
(``data_center``), about which their statistics are summed so that data far from the origin keep
full precision, and per-dimension variance (``data_scale``), which scales their default priors.
It is set once from the first observed frames (:class:`DataReferenceMixin`), carried in the
statistics (:func:`reference_stats`) and checked by every M-step (:func:`check_stats_reference`).
"""

from __future__ import annotations

import threading

import numpy as np

from ._checks import check_shape


def data_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference point and per-dimension scale of the training frames (for centring and priors).

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Observed, finite frames (N >= 1).

    Returns
    -------
    center : ndarray, shape (D,)
        The mean frame.
    scale : ndarray, shape (D,)
        The variance of each dimension (data units squared). A dimension that is constant
        (variance 0 or at the round-off level of its values) gets the smallest variance of
        the other dimensions, and 1.0 when every dimension is constant, so the scale is
        always > 0 and changes by ``a**2`` when the data become ``a * x + b``.
    """
    x = np.asarray(x, dtype=np.float64)
    center = x.mean(axis=0)
    var = ((x - center) ** 2).mean(axis=0)
    tiny = (1e-12 * np.abs(x).max(axis=0)) ** 2
    real = (var > 0) & (var > tiny)
    scale = var.copy()
    scale[~real] = var[real].min() if real.any() else 1.0
    return center, scale


def reference_stats(center: np.ndarray, num_frames: float) -> dict:
    """Bookkeeping statistics of the reference point: ``center * frames`` and ``frames``.

    ``frames`` is the total posterior weight of the scored frames, so that the statistics of
    a sequence cut in pieces still add up to those of the whole sequence, and a masked frame
    counts as a frame of zero weight.
    """
    return {"center": center * float(num_frames), "frames": np.array(float(num_frames))}


def check_stats_reference(
    stats: dict, center: np.ndarray | None, data_dim: int
) -> np.ndarray | None:
    """The reference point summed statistics were accumulated about, checked against the model's.

    Statistics carry ``center`` (each sequence's reference times its frames, summed) and
    ``frames`` (see :func:`reference_stats`), so an M-step can tell statistics accumulated
    about another reference point (another model's, or a mix) from its own.

    Parameters
    ----------
    stats : dict
        Summed statistics (``center`` and ``frames`` optional: without them the model's own
        reference is assumed).
    center : ndarray, shape (D,), or None
        The model's ``data_center`` (None: not set yet).
    data_dim : int

    Returns
    -------
    ndarray, shape (D,), or None
        The statistics' reference (the model's, or the one the statistics bring when the
        model has none).

    Raises
    ------
    ValueError
        If the statistics were accumulated about another reference point.
    """
    if "center" not in stats or "frames" not in stats:
        return center
    count = float(np.asarray(stats["frames"], dtype=np.float64))
    ref = np.asarray(stats["center"], dtype=np.float64).reshape(-1)
    if ref.shape != (data_dim,):
        raise ValueError(f"stats['center'] must have shape ({data_dim},), got {ref.shape}")
    if not count > 0:
        return center
    ref = ref / count
    if center is None:
        return ref if np.any(ref != 0.0) else None
    if not np.allclose(ref, center, rtol=1e-9, atol=1e-9 * (np.abs(center).max() + 1e-300)):
        raise ValueError(
            "stats were accumulated about another reference point (data_center) than this model's: "
            "compute them with this model (or one built from its get_params()), and do not mix "
            "statistics of models initialised on different data"
        )
    return center


_REFERENCE_LOCK = threading.Lock()


class DataReferenceMixin:
    """``data_center`` / ``data_scale``: the training data's mean and per-dimension variance.

    Shared by the Gaussian and autoregressive models, whose statistics are summed about
    ``data_center`` and whose default priors scale with ``data_scale`` (set once, from the
    first observed frames, under a lock so that threaded E-steps agree).
    """

    def _set_reference(self, x: np.ndarray) -> None:
        """Set ``data_center`` and ``data_scale`` from observed frames (N, D) if not yet set."""
        with _REFERENCE_LOCK:
            if self.data_center is None and x.shape[0] > 0:
                center, scale = data_moments(x)
                self.data_scale = scale
                self.data_center = center

    def _check_reference(self, name: str, value) -> np.ndarray:
        """Validate ``data_center`` (D,) finite or ``data_scale`` (D,) finite and > 0."""
        arr = check_shape(name, value, (self.data_dim,))
        if name == "data_scale" and not np.all(arr > 0):
            raise ValueError(f"data_scale must be > 0 in every dimension, got {arr}")
        return arr
