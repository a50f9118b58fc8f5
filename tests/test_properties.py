"""Property tests (hypothesis) over random models and data for every observation model.

For each observation model (categorical; Gaussian with full, diagonal, tied and spherical
covariances; Poisson; autoregressive and robust autoregressive with full, diagonal and tied
noise) hypothesis draws the number of states, the dimension, the recordings and a kind of data
from the ordinary to the degenerate (constant data, duplicated frames, collinear dimensions,
values scaled by 1e-150 .. 1e150, noiseless rotations, tiny recordings, huge counts, NaN frames
and all-NaN recordings); with the default prior ``fit`` succeeds with finite, valid outputs, the
EM objective never decreases (1e-8 relative), the reported objective is the one computed from
the fitted parameters, and without a prior a fit either succeeds or stops with a ValueError that
says to use a prior, never NaN. Hypothesis runs derandomized with a bounded number of examples,
so the suite is deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ethogram as eg

SETTINGS = settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

CONTINUOUS = (
    "ordinary",
    "constant",
    "duplicated",
    "collinear",
    "scaled",
    "integers",
    "one cluster",
    "short",
    "exact dynamics",
)
DISCRETE = ("ordinary", "constant", "duplicated", "one cluster", "huge", "short")

VARIANTS = (
    [("categorical", {})]
    + [("poisson", {})]
    + [("gaussian", dict(covariance_type=c)) for c in ("full", "diag", "tied", "spherical")]
    + [("autoregressive", dict(covariance_type=n)) for n in ("full", "diag", "tied")]
    + [("robust_autoregressive", dict(covariance_type=n)) for n in ("full", "diag", "tied")]
)
IDS = [
    f"{name}-{kw.get('covariance_type', kw.get('noise', ''))}".rstrip("-") for name, kw in VARIANTS
]

NUM_STEPS = 4  # single EM steps checked one by one after the initial fit


@st.composite
def problems(draw, observations):
    discrete = observations in ("categorical", "poisson")
    return dict(
        seed=draw(st.integers(0, 2**32 - 1)),
        num_states=draw(st.integers(1, 4)),
        data_dim=draw(st.integers(1, 3)),
        num_lags=draw(st.integers(1, 2)),
        lengths=draw(st.lists(st.integers(20, 60), min_size=1, max_size=3)),
        kind=draw(st.sampled_from(DISCRETE if discrete else CONTINUOUS)),
        nan_frames=draw(st.sampled_from([0.0, 0.0, 0.1])),
        nan_recording=draw(st.booleans()),
    )


def _segments(rng, T, K):
    """A sticky state path of length T over K states."""
    z = np.empty(T, dtype=int)
    z[0] = rng.integers(K)
    for t in range(1, T):
        z[t] = z[t - 1] if rng.random() < 0.9 else rng.integers(K)
    return z


def _make_data(p, observations, num_classes):
    rng = np.random.default_rng(p["seed"])
    K, D = p["num_states"], p["data_dim"]
    kind = p["kind"]
    # one unit for all recordings: moderate, or anywhere in 1e-150 .. 1e150
    scale = 10.0 ** (rng.uniform(-6, 6) if rng.random() < 0.5 else rng.uniform(-150, 150))
    shift = scale * 10.0 ** rng.uniform(0, 6)
    lengths = p["lengths"]
    if kind == "short":  # many recordings of a few frames (an AR model needs num_lags + 1)
        lengths = list(rng.integers(p["num_lags"] + 1, p["num_lags"] + 4, size=12))
    sequences = []
    for T in lengths:
        z = _segments(rng, T, K if kind != "one cluster" else 1)
        if observations == "categorical":
            probs = rng.dirichlet(np.ones(num_classes) * 0.5, size=K)
            x = np.array([rng.choice(num_classes, p=probs[s]) for s in z])
            if kind == "constant":
                x[:] = 1
            elif kind == "duplicated":
                x = np.resize(x[:3], T)
            x = x.astype(float)
        elif observations == "poisson":
            rates = rng.gamma(2.0, 3.0, size=(K, D))
            x = rng.poisson(rates[z]).astype(float)
            if kind == "constant":
                x[:] = 0.0
            elif kind == "duplicated":
                x = np.resize(x[:3], (T, D))
            elif kind == "huge":
                x[rng.random(T) < 0.1] = 1e12
        else:
            means = rng.normal(size=(K, D)) * 5
            x = np.empty((T, D))
            x[0] = means[z[0]]
            for t in range(1, T):  # an AR(1) around each state's level
                x[t] = 0.7 * x[t - 1] + 0.3 * means[z[t]] + rng.normal(size=D) * 0.5
            if kind == "constant":
                x[:] = rng.normal(size=D)
            elif kind == "duplicated":
                x = np.resize(x[:3], (T, D))
            elif kind == "collinear" and D > 1:
                x[:, 1:] = x[:, :1] * np.arange(2, D + 1)
            elif kind == "scaled":
                x = x * scale + shift
            elif kind == "integers":
                x = np.round(x / 5)
            elif kind == "exact dynamics":  # a noiseless rotation: AR residuals vanish
                rotation = np.linalg.qr(rng.normal(size=(D, D)))[0] * 0.99
                x[0] = rng.normal(size=D)
                for t in range(1, T):
                    x[t] = rotation @ x[t - 1]
        if p["nan_frames"]:
            x[rng.random(T) < p["nan_frames"]] = np.nan
        sequences.append(x)
    if p["nan_recording"]:
        sequences.insert(1 if len(sequences) > 1 else 0, np.full_like(sequences[0], np.nan))
    # a recording must keep at least one scored frame overall for a fit to mean anything
    if all(np.isnan(d).all() for d in sequences):
        sequences.append(np.nan_to_num(sequences[0]))
    return sequences


def _model(observations, kw, p, prior="default"):
    kw = dict(kw)
    if observations == "categorical":
        kw["num_classes"] = 4
    else:
        kw["data_dim"] = p["data_dim"]
    if "autoregressive" in observations:
        kw["num_lags"] = p["num_lags"]
    kw["prior"] = prior
    return eg.HMM(p["num_states"], observations, kw)


def _objective(model, sequences):
    return model.score(sequences) + model.log_prior()


def _assert_finite_model(model, sequences, where):
    for name, value in model.get_params().items():
        assert np.all(np.isfinite(value)), f"{where}: parameter {name} is not finite: {value}"
    posts = model.posterior(sequences)
    for post in posts:
        assert np.isfinite(post.marginal_ll), where
        assert np.all(np.isfinite(post.expected_states)), where
        np.testing.assert_allclose(post.expected_states.sum(axis=1), 1.0, rtol=1e-10)
        assert np.all(np.isfinite(post.expected_transitions)), where
    for labels, d in zip(model.predict(sequences), sequences):
        assert (
            labels.shape == (d.shape[0],) and labels.min() >= 0 and labels.max() < model.num_states
        )


def _check_monotone_steps(model, sequences, where):
    prev = _objective(model, sequences)
    assert np.isfinite(prev), where
    for step in range(NUM_STEPS):
        model.fit(sequences, num_iters=1, init="params", progress=False)
        obj = _objective(model, sequences)
        assert np.isfinite(obj), f"{where}: objective {obj} after step {step}"
        assert obj >= prev - 1e-8 * max(1.0, abs(prev)), (
            f"{where}: objective fell from {prev!r} to {obj!r} at step {step}"
        )
        prev = obj


@pytest.mark.parametrize(("observations", "kw"), VARIANTS, ids=IDS)
def test_fits_stay_finite_and_em_never_decreases(observations, kw):
    @SETTINGS
    @given(problems(observations))
    def check(p):
        sequences = _make_data(p, observations, num_classes=4)
        where = f"{observations} {kw} {p}"
        model = _model(observations, kw, p)
        result = model.fit(sequences, num_iters=5, seed=p["seed"] % 1000, progress=False)
        assert np.all(np.isfinite(result.objectives)), where
        assert np.all(
            np.diff(result.objectives) >= -1e-8 * np.maximum(1.0, np.abs(result.objectives[:-1]))
        ), where
        np.testing.assert_allclose(
            result.objectives[-1], _objective(model, sequences), rtol=1e-9, atol=1e-9, err_msg=where
        )
        _assert_finite_model(model, sequences, where)
        _check_monotone_steps(model, sequences, where)
        _assert_finite_model(model, sequences, where)

    check()


@pytest.mark.parametrize(("observations", "kw"), VARIANTS, ids=IDS)
def test_maximum_likelihood_is_finite_or_asks_for_a_prior(observations, kw):
    @settings(SETTINGS, max_examples=8)
    @given(problems(observations))
    def check(p):
        sequences = _make_data(p, observations, num_classes=4)
        where = f"{observations} {kw} {p}"
        model = _model(observations, kw, p, prior=None)
        try:
            model.fit(sequences, num_iters=5, seed=p["seed"] % 1000, progress=False)
        except ValueError as exc:
            assert "prior" in str(exc), f"{where}: {exc}"
            return
        _assert_finite_model(model, sequences, where)

    check()


# ----------------------------------------------------------------------------- found here

#: small integer data (23 frames, 2 dimensions) on which 4 states with 2 lags fit their
#: frames exactly: the maximum-likelihood noise covariance is singular
INTEGER_AR_DATA = np.array(
    [
        [1.0] * 21 + [0.0, -1.0],
        [1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    ],
    dtype=float,
).T


@pytest.mark.parametrize("noise", ["full", "diag", "tied"])
def test_singular_maximum_likelihood_noise_asks_for_a_prior(noise):
    """Found by the property search: with ``covariance_type="full"`` or ``"diag"`` the singular
    ML covariance is reported (a ValueError saying to use a prior); with
    ``covariance_type="tied"`` it was kept (eigenvalues ~1e-17) and EM then failed with
    EMDecreaseError."""
    model = eg.HMM(
        4, "autoregressive", dict(data_dim=2, num_lags=2, covariance_type=noise, prior=None)
    )
    with pytest.raises(ValueError, match="prior"):
        model.fit(INTEGER_AR_DATA, num_iters=20, seed=126, progress=False)
    # the default prior fits the same data
    model = eg.HMM(4, "autoregressive", dict(data_dim=2, num_lags=2, covariance_type=noise))
    result = model.fit(INTEGER_AR_DATA, num_iters=20, seed=126, progress=False)
    assert np.all(np.isfinite(result.objectives))
    _assert_finite_model(model, [INTEGER_AR_DATA], noise)


def test_robust_autoregressive_diag_noise_on_collinear_dimensions():
    """Found by the property search: one state, two exactly collinear dimensions (the second
    is twice the first), two lags, prior=None. Robust AR with ``covariance_type="full"`` or
    ``"tied"`` reports the singular ML covariance (ValueError saying to use a prior) and plain AR
    with ``covariance_type="diag"`` fits; robust AR with ``covariance_type="diag"`` failed with
    EMDecreaseError (the objective fell by 2.6 nats at iteration 3), which no EM step may do."""
    p = dict(
        seed=182186,
        num_states=1,
        data_dim=2,
        num_lags=2,
        lengths=[46, 28],
        kind="collinear",
        nan_frames=0.0,
        nan_recording=False,
    )
    sequences = _make_data(p, "robust_autoregressive", num_classes=4)
    np.testing.assert_allclose(sequences[0][:, 1], 2 * sequences[0][:, 0])
    for noise in ("full", "tied"):
        singular = _model("robust_autoregressive", dict(covariance_type=noise), p, prior=None)
        with pytest.raises(ValueError, match="prior"):
            singular.fit(sequences, num_iters=30, seed=186, progress=False)
    model = _model("robust_autoregressive", dict(covariance_type="diag"), p, prior=None)
    result = model.fit(sequences, num_iters=30, seed=186, progress=False)
    assert np.all(
        np.diff(result.objectives) >= -1e-8 * np.maximum(1.0, np.abs(result.objectives[:-1]))
    )
    _assert_finite_model(model, sequences, "robust AR diag, collinear")
