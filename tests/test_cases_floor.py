"""Inputs from public bug reports of HMM libraries (issue 6), as tests of the kinds of fault.

- Singular covariances under maximum likelihood (hmmlearn#285, #263, #528): the error says
  which state, how many frames it holds and what to do, for Gaussian and AR models.
- Degenerate dimensions (lindermanlab/ssm#2 and "an ARHMM on data with a constant
  dimension"): a constant dimension, whatever its value, dimensions of wildly different
  scale, duplicated frames and fewer distinct frames than states do not change the
  segmentation.
- Data of huge magnitude (hmmlearn#2): scores agree with SciPy at offsets to 1e7, fits at
  offsets to 1e8 succeed with the sample covariance.
- Zero rates and zero probabilities (pomegranate#120, blechpy#61): scores agree with a
  SciPy forward pass, and an observation impossible under every state is -inf or a
  ValueError, never a made-up finite number.
"""

import functools

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, poisson

import ethogram as eg

RNG = np.random.default_rng


def forward_score(pi, A, ll):
    """log p(x) by a plain forward pass in log space (SciPy's logsumexp)."""
    with np.errstate(divide="ignore"):
        logA = np.log(A)
        alpha = np.log(pi) + ll[0]
        for t in range(1, ll.shape[0]):
            alpha = logsumexp(alpha[:, None] + logA, axis=0) + ll[t]
    return logsumexp(alpha)


# ------------------------------------------------------------------ singular ML covariances
def rank3_data():
    rng = RNG(1)
    base = np.concatenate([rng.normal(m, 1.0, (15, 3)) for m in (-4.0, 0.0, 4.0)])
    return np.column_stack([base, base[:, 0] + base[:, 1], 2.0 * base[:, 2], np.full(45, 7.0)])


@pytest.mark.parametrize("cov", ["full", "diag", "tied"])
def test_singular_ml_covariance_names_state_frames_and_fix(cov):
    X = rank3_data()
    ml = eg.HMM(3, "gaussian", dict(data_dim=6, covariance_type=cov, prior=None))
    with pytest.raises(ValueError) as info:
        ml.fit(X, num_iters=50, seed=0)
    msg = str(info.value)
    assert "singular" in msg and "prior=None" in msg
    assert "holds" in msg and "expected frames" in msg
    for fix in ("prior='default'", "fewer states", "drop constant"):
        assert fix in msg
    # the default prior fits the same data with positive definite covariances
    m = eg.HMM(3, "gaussian", dict(data_dim=6, covariance_type=cov))
    r = m.fit(X, num_iters=50, seed=0)
    assert np.isfinite(r.objectives).all()
    assert all(np.linalg.eigvalsh(c).min() > 0 for c in m.get_params()["emission_covs"])


def test_singular_ml_error_reports_the_expected_frame_count():
    X = rank3_data()
    obs = eg.HMM(2, "gaussian", dict(data_dim=6, prior=None)).observations
    w = np.zeros((45, 2))
    w[:30, 0] = 1.0
    w[30:, 1] = 0.75
    w[30:, 0] = 0.25
    with pytest.raises(
        ValueError,
        match=r"emission_covs\[0\] became singular .* state 0 holds 33.75 expected frames",
    ):
        obs.m_step(obs.sufficient_stats(X, w))


def test_singular_ml_noise_of_an_ar_model_is_explained():
    x = constant_dim_data(2.5)
    with pytest.raises(
        ValueError,
        match=r"emission_covs\[\d\] became singular .*holds .* expected frames.*prior='default'",
    ):
        eg.HMM(4, "autoregressive", dict(data_dim=3, num_lags=2, prior=None)).fit(
            x, num_iters=60, seed=0
        )


# ------------------------------------------------------------------ degenerate dimensions
def constant_dim_data(value):
    rng = RNG(12)
    T = 300
    x = np.empty((T, 3))
    x[:, 0] = np.cumsum(rng.normal(0, 0.3, T))
    x[:, 1] = value
    x[:, 2] = rng.normal(0, 1, T)
    x[100:200, 2] = np.cos(0.3 * np.arange(100))  # noise-free AR(2) stretch
    return x


def test_a_constant_dimension_does_not_change_the_ar_segmentation():
    labels = []
    for value in (0.0, 2.5, -1e6):
        x = constant_dim_data(value)
        m = eg.HMM(4, "autoregressive", dict(data_dim=3, num_lags=2))
        r = m.fit(x, num_iters=100, seed=0)
        assert np.isfinite(r.objectives).all() and np.all(
            np.diff(r.objectives) >= -1e-8 * np.abs(r.objectives[:-1])
        )
        assert all(np.linalg.eigvalsh(c).min() > 0 for c in m.get_params()["emission_covs"])
        labels.append(m.predict(x))
    for z in labels[1:]:
        np.testing.assert_array_equal(z, labels[0])
    z = labels[0]
    k = np.bincount(z[100:200], minlength=4).argmax()
    assert np.sum(z[100:200] == k) >= 90 and np.sum(z == k) <= 110  # the stretch has its own state


@functools.cache
def planted_split_objective(noise):
    """The objective EM reaches from the planted split of ``constant_dim_data(2.5)`` (it does
    not depend on the seed of the fit it is compared with: computed once per noise)."""
    x = constant_dim_data(2.5)
    lab = np.zeros(300, int)
    lab[:100], lab[200:250], lab[250:] = 1, 2, 3
    mp = eg.HMM(4, "autoregressive", dict(data_dim=3, num_lags=2, covariance_type=noise))
    mp.initialize(x, seed=0)
    mp.observations.m_step(mp.observations.sufficient_stats(x, np.eye(4)[lab]))
    return mp.fit(x, num_iters=100, init="params").objectives[-1]


@pytest.mark.parametrize("noise,seed", [("full", 0), ("full", 1), ("full", 2), ("diag", 0)])
def test_default_ar_fit_is_not_worse_than_em_from_the_planted_split(noise, seed):
    x = constant_dim_data(2.5)
    planted = planted_split_objective(noise)
    m = eg.HMM(4, "autoregressive", dict(data_dim=3, num_lags=2, covariance_type=noise))
    assert m.fit(x, num_iters=100, seed=seed).objectives[-1] >= planted - 1.0


def gaussian_clusters():
    rng = RNG(5)
    z = np.repeat([0, 1, 2, 1, 0, 2], 80)
    means = np.array([[-3.0, 0.0], [0.0, 3.0], [3.0, 0.0]])
    return means[z] + rng.normal(size=(z.size, 2)), z


def matched(z, ref):
    """True when z equals ref up to renaming the states."""
    K = max(z.max(), ref.max()) + 1
    C = np.zeros((K, K), int)
    np.add.at(C, (z, ref), 1)
    return (C > 0).sum(axis=1).max() == 1 and (C > 0).sum(axis=0).max() == 1


@pytest.mark.parametrize("cov", ["full", "diag"])
def test_degenerate_dimensions_do_not_change_the_gaussian_segmentation(cov):
    x, truth = gaussian_clusters()
    ref = eg.HMM(3, "gaussian", dict(data_dim=2, covariance_type=cov))
    ref.fit(x, num_iters=50, seed=0)
    z_ref = ref.predict(x)
    assert matched(z_ref, truth)
    variants = {
        "constant column": np.column_stack([x, np.full(len(x), 4.2)]),
        "zero column": np.column_stack([x, np.zeros(len(x))]),
        "wildly different scales": x * np.array([1e-6, 1e6]),
        "offset column": np.column_stack([x[:, 0] + 1e7, x[:, 1]]),
    }
    for name, y in variants.items():
        m = eg.HMM(3, "gaussian", dict(data_dim=y.shape[1], covariance_type=cov))
        m.fit(y, num_iters=50, seed=0)
        assert matched(m.predict(y), z_ref), name
    # duplicated frames (every frame twice in a row): the same clusters; only the chain's
    # timing changes (twice as long dwell times), which may move a boundary frame
    y = np.repeat(x, 2, axis=0)
    m = eg.HMM(3, "gaussian", dict(data_dim=2, covariance_type=cov))
    m.fit(y, num_iters=50, seed=0)
    z = m.predict(y)[::2]
    C = np.zeros((3, 3), int)
    np.add.at(C, (z, z_ref), 1)
    assert C.max(axis=1).sum() >= 0.99 * len(z) and sorted(C.argmax(axis=1)) == [0, 1, 2]
    order = C.argmax(axis=1)
    np.testing.assert_allclose(
        m.get_params()["emission_means"], ref.get_params()["emission_means"][order], atol=0.05
    )


@pytest.mark.parametrize(
    "name,kw,frames",
    [
        ("gaussian", dict(data_dim=2), np.array([[0.0, 1.0], [5.0, 5.0]])),
        ("poisson", dict(data_dim=2), np.array([[0.0, 1.0], [5.0, 5.0]])),
        ("autoregressive", dict(data_dim=2), None),
    ],
)
def test_fewer_distinct_frames_than_states(name, kw, frames):
    if frames is None:
        x = np.tile([[0.0, 1.0], [1.0, 0.0]], (50, 1))  # a period-2 orbit: two distinct rows
    else:
        x = np.tile(frames, (50, 1))
    m = eg.HMM(3, name, kw)
    m.initialize(x, seed=0)
    assert all(np.isfinite(v).all() for v in m.get_params().values())
    r = m.fit(x, num_iters=20, seed=0)
    assert np.isfinite(r.objectives).all()


# ------------------------------------------------------------------ huge magnitudes
@pytest.mark.parametrize("offset", [1e4, 1e6, 1e7])
@pytest.mark.parametrize("cov", ["full", "diag", "tied", "spherical"])
def test_scores_at_large_offsets_agree_with_scipy(offset, cov):
    y = offset + RNG(15).standard_normal((2000, 2))
    mu, S = y.mean(0), np.cov(y, rowvar=False, bias=True)
    C = {
        "full": S,
        "tied": S,
        "diag": np.diag(np.diag(S)),
        "spherical": np.trace(S) / 2 * np.eye(2),
    }[cov]
    m = eg.HMM(1, "gaussian", dict(data_dim=2, covariance_type=cov))
    m.set_params({"emission_means": mu[None], "emission_covs": C[None]})
    np.testing.assert_allclose(
        m.log_likelihoods(y)[:, 0], multivariate_normal(mu, C).logpdf(y), rtol=0, atol=1e-6
    )


@pytest.mark.parametrize("cov", ["full", "diag", "tied", "spherical"])
def test_scores_of_states_far_apart_relative_to_their_spread_agree_with_scipy(cov):
    """Two places 1 km apart in metres, 1 cm of spread: no expanded square loses precision."""
    rng = RNG(18)
    means = np.array([[4.2e5, 5.1e6], [4.21e5, 5.101e6]])
    C = (
        1e-4
        * {
            "full": np.array([[1.0, 0.3], [0.3, 0.5]]),
            "tied": np.array([[1.0, 0.3], [0.3, 0.5]]),
            "diag": np.diag([1.0, 0.5]),
            "spherical": 0.7 * np.eye(2),
        }[cov]
    )
    x = np.concatenate(
        [
            means[0] + 0.01 * rng.standard_normal((500, 2)),
            means[1] + 0.01 * rng.standard_normal((500, 2)),
        ]
    )
    m = eg.HMM(2, "gaussian", dict(data_dim=2, covariance_type=cov))
    m.set_params({"emission_means": means, "emission_covs": np.stack([C, C])})
    ll = m.log_likelihoods(x)
    for k in range(2):
        np.testing.assert_allclose(
            ll[:, k], multivariate_normal(means[k], C).logpdf(x), rtol=1e-12, atol=1e-7
        )


@pytest.mark.parametrize("offset", [1e6, 1e8])
@pytest.mark.parametrize("prior", ["default", None])
def test_one_state_fit_at_a_large_offset_gives_the_sample_covariance(offset, prior):
    y = offset + RNG(16).standard_normal((2000, 2))
    m = eg.HMM(1, "gaussian", dict(data_dim=2, prior=prior))
    m.fit(y, num_iters=20, seed=0)
    S = np.cov(y, rowvar=False, bias=True) * 2000
    want = S / 2000 if prior is None else (S + np.diag(1e-4 * y.var(axis=0))) / 2001
    np.testing.assert_allclose(m.get_params()["emission_covs"][0], want, rtol=1e-6)
    np.testing.assert_allclose(m.get_params()["emission_means"][0], y.mean(axis=0), rtol=1e-14)


@pytest.mark.parametrize("offset,cov", [(5e5, "diag"), (4e6, "full"), (4e6, "tied")])
def test_separated_clusters_at_utm_offsets_fit_like_at_the_origin(offset, cov):
    rng = RNG(15)
    base = np.concatenate([rng.normal(c, 1.0, (300, 2)) for c in (-5, 0, 5)])
    for seed in range(3):
        ref = eg.HMM(3, "gaussian", dict(data_dim=2, covariance_type=cov))
        ref.fit(base, num_iters=100, seed=seed)
        m = eg.HMM(3, "gaussian", dict(data_dim=2, covariance_type=cov))
        r = m.fit(base + offset, num_iters=100, seed=seed)
        assert np.isfinite(r.objectives).all()
        assert matched(m.predict(base + offset), ref.predict(base))
        assert m.score(base + offset) == pytest.approx(ref.score(base), rel=1e-8)


# ------------------------------------------------------------------ impossible observations
def spike_counts():
    rng = RNG(17)
    rates = np.array([[1, 5, 0.5, 0], [6, 1, 2, 0], [0, 0, 0, 0]], float)
    return rng.poisson(rates[np.repeat([0, 1, 2, 0, 1], 40)]).astype(float)


@pytest.mark.parametrize("prior", ["default", None])
def test_poisson_zero_channels_fit_and_score_like_scipy(prior):
    X = spike_counts()
    m = eg.HMM(3, "poisson", dict(data_dim=4, prior=prior))
    r = m.fit(X, num_iters=100, seed=0)
    obj = r.objectives
    assert np.isfinite(obj).all() and np.all(np.diff(obj) >= -1e-8 * np.abs(obj[:-1]))
    rates = m.get_params()["emission_rates"]
    assert np.all(rates >= 0)
    ll = poisson(rates[None]).logpmf(X[:, None, :]).sum(-1)
    assert m.score(X) == pytest.approx(
        forward_score(m.initial_probs, m.transition_matrix, ll), rel=1e-10
    )
    bad = np.array([[1.0, 1.0, 1.0, 2.0]])  # a count in the channel that never fired
    ref = forward_score(
        m.initial_probs, m.transition_matrix, poisson(rates[None]).logpmf(bad[:, None, :]).sum(-1)
    )
    if prior is None:
        assert ref == -np.inf and np.all(m.log_likelihoods(bad) == -np.inf)
        with pytest.raises(ValueError, match="impossible under every state"):
            m.score(bad)
    else:
        assert np.isfinite(ref) and m.score(bad) == pytest.approx(ref, rel=1e-10)


def test_categorical_zero_probability_is_minus_inf_not_a_number():
    m = eg.HMM(2, "categorical", dict(num_classes=3))
    m.set_params({"emission_probs": np.array([[0.5, 0.5, 0.0], [0.2, 0.8, 0.0]])})
    ll = m.log_likelihoods(np.array([0, 2, 1]))
    assert ll[1].tolist() == [-np.inf, -np.inf] and np.isfinite(ll[[0, 2]]).all()
    with pytest.raises(ValueError, match="impossible under every state"):
        m.score(np.array([0, 2, 1]))
    # possible under one state only: a finite score equal to the forward pass
    m.set_params({"emission_probs": np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])})
    x = np.array([0, 2, 1, 2])
    with np.errstate(divide="ignore"):
        ll = np.log(m.get_params()["emission_probs"][:, x].T)
    assert m.score(x) == pytest.approx(
        forward_score(m.initial_probs, m.transition_matrix, ll), rel=1e-12
    )
