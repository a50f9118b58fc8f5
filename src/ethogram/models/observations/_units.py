"""Parameters in the training data's units: the coordinates in which EM's steps are measured.

SQUAREM (:mod:`ethogram.fitting.squarem`) measures the length of EM's steps to choose how far
to extrapolate, and the EM loop measures how fast they shrink to judge convergence. Measured
on the raw parameters these depend on the data's units (a mean moves by ``a`` and a
covariance by ``a^2`` when the data are scaled by ``a``), so the fit of ``a x + b`` would take
other steps than the fit of ``x``. :func:`unit_free` maps the parameters of the Gaussian and
autoregressive models, affinely, to coordinates relative to the training data's
``data_center`` and ``data_scale``, in which both fits take the same steps.
"""

from __future__ import annotations

import numpy as np

__all__ = ["unit_free"]


def unit_free(model, params: dict) -> dict:
    """The learned parameters of ``params`` relative to the model's training data.

    Means and an AR model's centred bias ``b - (I - sum_l A_l) c`` minus ``c = data_center``
    (the bias: centred, as the model scores) over ``sqrt(data_scale)``; covariances over
    ``sqrt(s_i s_j)``; AR dynamics ``S^-1/2 A_l S^1/2``. An affine map of the parameters (the
    data-derived constants are fixed during a fit).

    Parameters
    ----------
    model : GaussianObservations or AutoregressiveObservations
    params : dict of str to ndarray
        As returned by ``get_params`` (the data-derived constants are left out).

    Returns
    -------
    dict of str to ndarray
    """
    D = model.data_dim
    root = np.ones(D) if model.data_scale is None else np.sqrt(model.data_scale)
    center = np.zeros(D) if model.data_center is None else model.data_center
    out = {}
    for k in model.param_names:
        v = np.asarray(params[k], dtype=np.float64)
        if k == "emission_means":
            v = (v - center) / root
        elif k == "emission_covs":
            v = v / np.outer(root, root)
        elif k == "emission_dynamics":
            v = v / root[:, None] * np.tile(root, v.shape[-1] // D)
        elif k == "emission_bias":
            if model.bias:
                dyn = np.asarray(params["emission_dynamics"], dtype=np.float64)
                lags = dyn.reshape(dyn.shape[0], D, -1, D).sum(axis=2)
                v = v - (center - lags @ center)
            v = v / root
        out[k] = v
    return out
