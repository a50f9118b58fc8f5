"""Preparation: recordings become model inputs (cleaning, egocentric alignment, PCA, scaling).

:class:`Preparation` is learned on training recordings, saved with the model
(:meth:`Preparation.to_dict`) and applied unchanged to new ones; :class:`Prepared` is what it
returns per recording. The array steps are in :mod:`ethogram.prep.keypoints`;
:class:`Whitening` gives the zero-mean, identity-covariance inputs MoSeq's ARHMM expects.
"""

from .keypoints import (
    ANTERIOR_NAMES,
    POSTERIOR_NAMES,
    centroid_and_heading,
    egocentric,
    guess_axis_bodyparts,
    interpolate_gaps,
    mask_low_confidence,
    medoid_outliers,
)
from .preparation import Preparation, Prepared
from .prepared import model_inputs
from .whitening import Whitening

__all__ = [
    "ANTERIOR_NAMES",
    "POSTERIOR_NAMES",
    "Preparation",
    "Prepared",
    "Whitening",
    "centroid_and_heading",
    "egocentric",
    "guess_axis_bodyparts",
    "interpolate_gaps",
    "mask_low_confidence",
    "medoid_outliers",
    "model_inputs",
]
