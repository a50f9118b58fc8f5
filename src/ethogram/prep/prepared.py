"""What the preparation returns for one recording: :class:`Prepared`, the model inputs with
their mask and, beside them, the centroid, heading, egocentric keypoints and frame rate.

Produced by :class:`~ethogram.prep.preparation.Preparation` (which also exports it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Prepared", "model_inputs"]


@dataclass
class Prepared:
    """One recording made ready for the model.

    Attributes
    ----------
    name : str
        The recording's name.
    inputs : ndarray, shape (T, D)
        float64 model inputs (standardized PCs); rows of unusable frames are NaN.
    mask : ndarray of bool, shape (T,)
        True where the frame is usable.
    centroid : ndarray, shape (T, 2), or None
        Pixels (keypoints: mean of the body parts present; features: from the file, if any).
    heading : ndarray, shape (T,), or None
        Radians, counter-clockwise from +x.
    aligned : ndarray, shape (T, B, S), or None
        Egocentric keypoints in pixels (keypoints only), NaN where missing.
    fps : float or None
        Frames per second of the recording.
    """

    name: str
    inputs: np.ndarray
    mask: np.ndarray
    centroid: np.ndarray | None = None
    heading: np.ndarray | None = None
    aligned: np.ndarray | None = None
    fps: float | None = None

    @property
    def num_frames(self) -> int:
        """T, the number of frames."""
        return int(self.inputs.shape[0])


def model_inputs(prepared) -> tuple[list, list, list]:
    """The HMM's inputs from prepared recordings: unusable frames as NaN, with their masks.

    Parameters
    ----------
    prepared : list of Prepared

    Returns
    -------
    sequences : list of ndarray, shape (T_i, D)
        Float64 copies of the inputs with NaN in every frame the mask rejects.
    masks : list of ndarray of bool, shape (T_i,)
    fps_values : list of float
        The frame rates that are known (empty when none is).
    """
    sequences, masks = [], []
    for p in prepared:
        x = np.array(p.inputs, dtype=np.float64)
        m = np.asarray(p.mask, dtype=bool)
        x[~m] = np.nan
        sequences.append(x)
        masks.append(m)
    return sequences, masks, [p.fps for p in prepared if p.fps]
