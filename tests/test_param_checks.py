"""Parameters are checked where they are written, with a ValueError naming the parameter.

Direct assignment, ``set_params`` (of the observation model or the HMM) and the course
classes' attribute setters all go through the observation model's ``validate_param``: wrong
shapes, non-finite values, covariances that are not symmetric or not positive definite,
full matrices given to a diagonal model, probability rows that do not sum to 1 and negative
rates are refused at once instead of failing later with a broadcast error or being silently
reduced to their diagonal.
"""

import numpy as np
import pytest

from ethogram import HMM
from ethogram.models.families import AutoregressiveHMM, CategoricalHMM, GaussianHMM, PoissonHMM
from ethogram.models.observations import get_observation_class

K, D = 2, 3
SPD = np.tile(np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 1.5]]), (K, 1, 1))
NOT_PD = np.tile(np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), (K, 1, 1))
NOT_SYM = SPD.copy()
NOT_SYM[:, 0, 1] += 0.1
NAN = np.full((K, D), np.nan)


def gaussian(cov="full"):
    return get_observation_class("gaussian")(K, data_dim=D, covariance_type=cov)


def ar(covariance_type="full"):
    return get_observation_class("autoregressive")(
        K, data_dim=D, num_lags=2, covariance_type=covariance_type
    )


@pytest.mark.parametrize(
    "build,name,value,match",
    [
        (
            gaussian,
            "emission_means",
            np.zeros((K, D + 1)),
            r"emission_means must have shape \(2, 3\)",
        ),
        (gaussian, "emission_means", np.zeros(D), r"emission_means must have shape \(2, 3\)"),
        (gaussian, "emission_means", NAN, "emission_means must be finite"),
        (gaussian, "emission_means", "abc", "emission_means must be a numeric array"),
        (gaussian, "emission_covs", np.ones((K, D)), r"emission_covs must have shape \(2, 3, 3\)"),
        (gaussian, "emission_covs", NOT_PD, r"emission_covs\[0\] must be positive definite"),
        (gaussian, "emission_covs", NOT_SYM, "emission_covs must be symmetric"),
        (gaussian, "emission_covs", np.full((K, D, D), np.inf), "emission_covs must be finite"),
        (
            lambda: gaussian("diag"),
            "emission_covs",
            SPD,
            "emission_covs must be diagonal for covariance type 'diag'",
        ),
        (lambda: gaussian("diag"), "emission_covs", NOT_PD, "emission_covs must be diagonal"),
        (
            lambda: gaussian("diag"),
            "emission_covs",
            -np.tile(np.eye(D), (K, 1, 1)),
            r"emission_covs\[0\] must be positive definite",
        ),
        (
            lambda: gaussian("spherical"),
            "emission_covs",
            np.tile(np.diag([1.0, 2.0, 3.0]), (K, 1, 1)),
            "v_k \\* I",
        ),
        (
            lambda: gaussian("tied"),
            "emission_covs",
            np.stack([np.eye(D), 2 * np.eye(D)]),
            "same matrix for every state",
        ),
        (gaussian, "data_scale", np.array([1.0, 0.0, 1.0]), "data_scale must be > 0"),
        (
            ar,
            "emission_dynamics",
            np.zeros((K, D, D)),
            r"emission_dynamics must have shape \(2, 3, 6\)",
        ),
        (ar, "emission_bias", np.zeros((K + 1, D)), r"emission_bias must have shape \(2, 3\)"),
        (ar, "emission_bias", NAN, "emission_bias must be finite"),
        (ar, "emission_covs", NOT_PD, r"emission_covs\[0\] must be positive definite"),
        (lambda: ar("diag"), "emission_covs", SPD, "must be diagonal"),
        (
            lambda: ar("tied"),
            "emission_covs",
            np.stack([np.eye(D), 2 * np.eye(D)]),
            "same matrix for every state",
        ),
        (
            lambda: get_observation_class("poisson")(K, data_dim=D),
            "emission_rates",
            -np.ones((K, D)),
            "emission_rates must be non-negative",
        ),
        (
            lambda: get_observation_class("poisson")(K, data_dim=D),
            "emission_rates",
            np.ones((K, D + 1)),
            r"emission_rates must have shape \(2, 3\)",
        ),
        (
            lambda: get_observation_class("poisson")(K, data_dim=D),
            "emission_rates",
            NAN,
            "emission_rates must be finite",
        ),
        (
            lambda: get_observation_class("categorical")(K, num_classes=D),
            "emission_probs",
            np.full((K, D), 0.5),
            "rows must sum to 1",
        ),
        (
            lambda: get_observation_class("categorical")(K, num_classes=D),
            "emission_probs",
            np.array([[1.5, -0.5, 0.0], [1.0, 0.0, 0.0]]),
            "must be non-negative",
        ),
        (
            lambda: get_observation_class("categorical")(K, num_classes=D),
            "emission_probs",
            np.full((K, D + 1), 0.25),
            r"emission_probs must have shape \(2, 3\)",
        ),
    ],
)
def test_bad_values_are_refused_where_they_are_written(build, name, value, match):
    m = build()
    before = m.get_params()
    with pytest.raises(ValueError, match=match):
        setattr(m, name, value)
    with pytest.raises(ValueError, match=match):
        m.set_params({name: value})
    for key, arr in before.items():  # nothing was changed by the refused writes
        np.testing.assert_array_equal(getattr(m, key), arr)


def test_good_values_are_stored_as_float_copies():
    m = gaussian()
    covs = SPD.copy()
    m.emission_covs = covs
    covs[0, 0, 0] = 99.0
    assert m.emission_covs[0, 0, 0] == 2.0 and m.emission_covs.dtype == np.float64
    c = get_observation_class("categorical")(K, num_classes=D)
    c.emission_probs = [[1, 0, 0], [0.2, 0.3, 0.5]]
    np.testing.assert_array_equal(c.emission_probs, [[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])
    p = get_observation_class("poisson")(K, data_dim=D)
    p.emission_rates = np.zeros((K, D))  # a zero rate is a valid (ML) value


def test_hmm_set_params_and_course_setters_check_too():
    model = HMM(K, "gaussian", dict(data_dim=D))
    with pytest.raises(ValueError, match=r"emission_means must have shape \(2, 3\)"):
        model.set_params({"emission_means": np.zeros((K, 2))})
    g = GaussianHMM(K, D)
    with pytest.raises(ValueError, match=r"emission_covs\[0\] must be positive definite"):
        g.emission_covs = NOT_PD
    with pytest.raises(ValueError, match="emission_covs must be diagonal"):
        GaussianHMM(K, D, covariance_type="diag").emission_covs = SPD
    with pytest.raises(ValueError, match="emission_probs rows must sum to 1"):
        CategoricalHMM(K, D).emission_probs = np.full((K, D), 0.5)
    with pytest.raises(ValueError, match="emission_rates must be non-negative"):
        PoissonHMM(K, D).emission_rates = -np.ones((K, D))
    with pytest.raises(ValueError, match="emission_dynamics must have shape"):
        AutoregressiveHMM(K, D).emission_dynamics = np.zeros((K, D, 2 * D))
