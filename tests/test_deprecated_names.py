"""Old names kept after the renames of issue 16 ("one word per concept"): each still works, gives
the same result as the new name bit for bit, and warns with a DeprecationWarning naming the new
name. One test per alias."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

from ethogram import HMM
from ethogram.models.observations import get_observation_class

RNG = np.random.default_rng


def _ar_data(T=300, D=2, seed=0):
    rng = RNG(seed)
    return [
        np.cumsum(rng.standard_normal((T, D)), axis=0) * 0.3 + 4.0,
        rng.standard_normal((120, D)),
    ]


def _fit_params(model, data, **kw):
    model.fit(data, num_iters=8, seed=3, progress=False, **kw)
    return model.get_params()


def _same_params(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict):
            _same_params(a[key], b[key])
        elif a[key] is None:
            assert b[key] is None
        else:
            assert np.array_equal(a[key], b[key]), key


@pytest.mark.parametrize("name", ["autoregressive", "robust_autoregressive"])
def test_ar_noise_keyword_is_covariance_type(name):
    data = _ar_data()
    new = HMM(3, name, dict(data_dim=2, num_lags=2, covariance_type="diag"))
    with pytest.warns(DeprecationWarning, match="covariance_type"):
        old = HMM(3, name, dict(data_dim=2, num_lags=2, noise="diag"))
    assert old.observations.covariance_type == "diag"
    _same_params(_fit_params(new, data), _fit_params(old, data))


def test_ar_noise_and_covariance_type_together_is_an_error():
    cls = get_observation_class("autoregressive")
    with pytest.raises(TypeError, match="covariance_type"):
        cls(2, data_dim=2, noise="diag", covariance_type="full")


def test_ar_noise_attribute_reads_covariance_type():
    m = get_observation_class("autoregressive")(2, data_dim=2, covariance_type="tied")
    with pytest.warns(DeprecationWarning, match="covariance_type"):
        assert m.noise == "tied"


def test_course_autoregressive_hmm_noise_keyword():
    from ethogram import AutoregressiveHMM

    data = _ar_data(seed=1)
    new = AutoregressiveHMM(3, 2, 1, covariance_type="tied", seed=0)
    with pytest.warns(DeprecationWarning, match="covariance_type"):
        old = AutoregressiveHMM(3, 2, 1, noise="tied", seed=0)
    _same_params(_fit_params(new, data), _fit_params(old, data))


def test_description_written_with_noise_rebuilds_silently():
    """A results file or checkpoint written before the rename holds ``noise``: reading it back
    is not the user's call, so it gives the same model without a warning."""
    import warnings

    model = HMM(3, "autoregressive", dict(data_dim=2, num_lags=1, covariance_type="diag"))
    model.fit(_ar_data(seed=2), num_iters=4, seed=0, progress=False)
    description = model.describe()
    kwargs = dict(description["observation_kwargs"])
    kwargs["noise"] = kwargs.pop("covariance_type")
    old = dict(description, observation_kwargs=kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        rebuilt = HMM.from_description(old, model.get_params())
    assert rebuilt.describe() == description
    _same_params(rebuilt.get_params(), model.get_params())


def test_models_course_module_is_models_families():
    from ethogram.models import families

    sys.modules.pop("ethogram.models.course", None)
    course = importlib.import_module("ethogram.models.course")
    for name in ("GaussianHMM", "AutoregressiveHMM", "CategoricalHMM", "PoissonHMM"):
        with pytest.warns(DeprecationWarning, match="ethogram.models.families"):
            assert getattr(course, name) is getattr(families, name)
    with pytest.warns(DeprecationWarning, match="ethogram.models.families"):
        from ethogram.models.course import GaussianHMM  # noqa: F401
    with pytest.raises(AttributeError):
        course.no_such_name  # noqa: B018


def test_fitting_sum_stats_is_sum_sufficient_stats():
    from ethogram.fitting import SufficientStats, sum_stats, sum_sufficient_stats

    rng = RNG(4)
    parts = [
        SufficientStats(
            float(rng.normal()), rng.random(3), rng.random((3, 3)), {"x": rng.random((3, 2))}
        )
        for _ in range(3)
    ]
    new = sum_sufficient_stats(parts)
    with pytest.warns(DeprecationWarning, match="sum_sufficient_stats"):
        old = sum_stats(parts)
    assert old.marginal_ll == new.marginal_ll
    assert np.array_equal(old.expected_transitions, new.expected_transitions)
    assert np.array_equal(old.observations["x"], new.observations["x"])


def test_observations_sum_stats_is_sum_observation_stats():
    from ethogram.models.observations import sum_observation_stats, sum_stats

    m = get_observation_class("gaussian")(2, data_dim=2)
    x = _ar_data(seed=5)
    w = [RNG(i).dirichlet([1, 1], size=len(d)) for i, d in enumerate(x)]
    parts = [m.sufficient_stats(d, p) for d, p in zip(x, w)]
    new = sum_observation_stats(parts)
    with pytest.warns(DeprecationWarning, match="sum_observation_stats"):
        old = sum_stats(parts)
    assert old.keys() == new.keys()
    for key in new:
        assert np.array_equal(old[key], new[key]), key
