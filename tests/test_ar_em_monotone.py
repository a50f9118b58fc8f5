"""EM never lowers the objective of an autoregressive HMM, for every variant and memory layout.

Scores are checked against an explicit per-frame computation on arrays of every memory layout
(among them a 1-D series given as ``x[:, None]``, stride 0 on its length-1 axis: the layout of
../shared/cases/case_32.py), and the EM property on every AR variant (bias on and off, each noise
type, 1 to 3 lags, both first-frame conventions, robust AR) on positive data with an offset and
on centred data.
"""

import numpy as np
import pytest
from scipy import stats

import ethogram as eg
from ethogram.models.observations import get_observation_class


def switching_series(seed, T=400, D=1, offset=1.0):
    """Two AR(1) regimes switching with probability 0.1, around ``offset`` (positive if > 0)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((T, D))
    x[0] = offset
    z = 0
    params = [(0.42, 0.6, 0.056), (0.98, 0.02, 0.26)]
    for t in range(1, T):
        if rng.random() < 0.1:
            z = 1 - z
        a, c, sd = params[z]
        x[t] = a * (x[t - 1] - offset) + offset + c * (offset != 0) + sd * rng.normal(size=D)
    return np.abs(x) if offset > 0 else x


# The fault behind ../shared/cases/case_32.py: a 1-D series given as ``x[:, None]`` has stride 0
# on its length-1 axis; numpy still calls it C-contiguous, and the lag windows of the scoring
# were built from ``x.strides``, so every window repeated x_{t-L}. Scores disagreed with the
# statistics, and the first M-step lowered the objective. With ``bias=True`` the data were
# centred into a fresh array first, which hid the fault.
def layouts(x):
    """The same values in different memory layouts (as users hand them over)."""
    T, D = x.shape
    out = {"c": np.ascontiguousarray(x), "fortran": np.asfortranarray(x)}
    padded = np.zeros((T, 2 * D))
    padded[:, ::2] = x
    out["column view"] = padded[:, ::2]
    rev = np.ascontiguousarray(x[::-1])
    out["reversed view"] = rev[::-1]
    if D == 1:
        out["1-D with None axis"] = np.ascontiguousarray(x[:, 0])[:, None]  # stride 0 on axis 1
    return out


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("num_lags", [1, 2, 3])
def test_log_likelihoods_match_explicit_regression_in_every_layout(bias, num_lags):
    x = switching_series(3, T=60, D=1)
    m = get_observation_class("autoregressive")(
        2, data_dim=1, num_lags=num_lags, bias=bias, prior=None
    )
    m.emission_dynamics = np.array(
        [[[0.5] + [0.1] * (num_lags - 1)], [[0.9] + [-0.05] * (num_lags - 1)]]
    )
    if bias:
        m.emission_bias = np.array([[0.3], [-0.2]])
    m.emission_covs = np.array([[[0.04]], [[0.1]]])
    expected = np.zeros((x.shape[0], 2))
    for t in range(num_lags, x.shape[0]):
        for k in range(2):
            lags = np.array([x[t - lag, 0] for lag in range(1, num_lags + 1)])
            mean = m.emission_dynamics[k, 0] @ lags + (m.emission_bias[k, 0] if bias else 0.0)
            expected[t, k] = stats.norm.logpdf(x[t, 0], mean, np.sqrt(m.emission_covs[k, 0, 0]))
    for name, arr in layouts(x).items():
        got = m.log_likelihoods(arr)
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10, err_msg=name)


def test_multidimensional_layouts_score_alike():
    x = switching_series(5, T=80, D=3, offset=0.0)
    m = get_observation_class("autoregressive")(2, data_dim=3, num_lags=2, bias=False, prior=None)
    rng = np.random.default_rng(0)
    m.emission_dynamics = 0.3 * rng.normal(size=(2, 3, 6))
    m.emission_covs = np.stack([np.eye(3) * 0.5, np.eye(3) * 2.0])
    ref = m.log_likelihoods(np.ascontiguousarray(x))
    for name, arr in layouts(x).items():
        np.testing.assert_allclose(
            m.log_likelihoods(arr), ref, rtol=1e-12, atol=1e-12, err_msg=name
        )


VARIANTS = [
    ("autoregressive", noise, bias, lags, first)
    for noise in ("full", "diag", "tied")
    for bias in (True, False)
    for lags in (1, 2, 3)
    for first in ("unscored", "standard_normal")
] + [
    ("robust_autoregressive", "full", bias, lags, "unscored")
    for bias in (True, False)
    for lags in (1, 3)
]


@pytest.mark.parametrize("name,noise,bias,num_lags,first_frames", VARIANTS)
@pytest.mark.parametrize("offset", [1.0, 0.0])
def test_em_objective_never_decreases(name, noise, bias, num_lags, first_frames, offset):
    D = 1 if noise == "full" and num_lags != 2 else 2
    x = switching_series(num_lags + 7 * bias, T=300, D=D, offset=offset)
    if D == 1:
        x = np.ascontiguousarray(x[:, 0])[:, None]  # the layout of case_32
    for prior in (None, "default"):
        kw = dict(data_dim=D, num_lags=num_lags, bias=bias, prior=prior, first_frames=first_frames)
        if name == "autoregressive":
            kw["covariance_type"] = noise
        model = eg.HMM(2, name, kw)
        result = model.fit(x, num_iters=60, seed=1)  # raises EMDecreaseError on a decrease
        h = np.asarray(result.objectives)
        assert np.all(np.diff(h) >= -1e-8 * np.abs(h).max()), (prior, np.diff(h).min())


def test_course_class_without_bias_fits_a_positive_series():
    """case_32 in the course's own class: every generating seed fits, objective non-decreasing."""
    for seed in range(4):
        x = switching_series(seed, T=522)
        x = np.ascontiguousarray(x[:, 0])[:, None]
        for prior in (None, "default"):
            hmm = eg.AutoregressiveHMM(2, 1, num_lags=1, bias=False, prior=prior)
            result = hmm.fit(x, num_iters=300, seed=0)
            h = np.asarray(result.objectives)
            assert np.all(np.diff(h) >= -1e-8 * np.abs(h).max())
