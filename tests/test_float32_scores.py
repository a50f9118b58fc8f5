"""The optional float32 scoring of the AR model: close to float64, same labels, same fit."""

import numpy as np
import pytest

import ethogram as eg
from ethogram.models.examples import course_spiral_arhmm


def _spiral(seed=0, T=5000):
    states, data = course_spiral_arhmm(5).sample(T, seed=seed)
    return states, data


@pytest.mark.parametrize("noise", ["full", "diag", "tied"])
def test_float32_log_likelihoods_are_within_round_off_of_float64(noise):
    _, data = _spiral()
    m64 = eg.HMM(5, "autoregressive", dict(data_dim=2, num_lags=2, covariance_type=noise))
    m64.fit(data, num_iters=5, seed=0)
    m32 = eg.HMM.from_description({**m64.describe()})
    m32.observations.score_dtype = "float32"
    m32.set_params(m64.get_params())
    ll64, ll32 = m64.log_likelihoods(data), m32.log_likelihoods(data)
    assert ll32.dtype == np.float64
    # single precision of the whitened residuals: relative 1e-6 of each squared distance
    assert np.abs(ll32 - ll64).max() <= 1e-5 * max(1.0, np.abs(ll64).max())
    assert not np.array_equal(ll32, ll64)  # the float32 path really ran
    np.testing.assert_array_equal(m32.predict(data), m64.predict(data))
    assert abs(m32.score(data) - m64.score(data)) / data.shape[0] < 1e-6


def test_a_float32_fit_finds_the_float64_fit():
    _, data = _spiral(seed=3)
    kw = dict(data_dim=2, num_lags=1)
    m64 = eg.HMM(5, "autoregressive", kw)
    r64 = m64.fit(data, num_iters=60, seed=3)
    m32 = eg.HMM(5, "autoregressive", {**kw, "score_dtype": "float32"})
    r32 = m32.fit(data, num_iters=60, seed=3)
    np.testing.assert_array_equal(m32.predict(data), m64.predict(data))
    assert abs(r32.objectives[-1] - r64.objectives[-1]) / data.shape[0] < 1e-5
    # the setting travels with the model description (e.g. to Dask workers or a results file)
    assert eg.HMM.from_description(m32.describe()).observations.score_dtype == "float32"


def test_score_dtype_must_be_a_float_type_we_support():
    with pytest.raises(ValueError, match="score_dtype must be 'float64' or 'float32'"):
        eg.HMM(2, "autoregressive", dict(data_dim=2, score_dtype="float16"))
