"""Poisson observation model: log-likelihoods against SciPy (zero rates included),
maximum-likelihood M-step against weighted means by hand, masks and NaN, summable
statistics, the Gamma MAP as the argmax of the expected complete-data objective and its
prior against SciPy, recovery from 10^5 frames, relabeling, k-means initialisation,
validation errors, and EM monotonicity."""

import numpy as np
import pytest
from scipy import stats

from ethogram.models.observations.poisson import PoissonObservations

RNG = np.random.default_rng


def model(K=3, D=4, seed=0, **kw):
    m = PoissonObservations(K, D, **kw)
    m.emission_rates = RNG(seed).uniform(0.1, 8.0, (K, D))
    return m


# ------------------------------------------------------------------ log-likelihoods
@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_log_likelihoods_match_scipy(dtype):
    m = model(seed=1)
    x = RNG(2).poisson(3.0, (200, 4)).astype(dtype)
    ll = m.log_likelihoods(x)
    assert ll.shape == (200, 3)
    for k in range(3):
        np.testing.assert_allclose(
            ll[:, k], stats.poisson(m.emission_rates[k]).logpmf(x).sum(axis=1), rtol=1e-12
        )


def test_one_dimensional_data_and_zero_rates():
    m = PoissonObservations(2, 1)
    m.emission_rates = np.array([[0.0], [2.0]])
    x = np.array([0, 1, 3])
    ll = m.log_likelihoods(x)
    np.testing.assert_allclose(ll[:, 1], stats.poisson(2.0).logpmf(x), rtol=1e-12)
    assert ll[0, 0] == 0.0 and ll[1, 0] == -np.inf and ll[2, 0] == -np.inf


def test_masked_frames_score_zero_and_nan_does_not_leak():
    m = model(seed=3)
    x = RNG(4).poisson(2.0, (100, 4)).astype(float)
    mask = RNG(5).random(100) > 0.3
    xn = x.copy()
    xn[~mask] = np.nan
    ll = m.log_likelihoods(xn, mask)
    assert np.all(np.isfinite(ll)) and np.all(ll[~mask] == 0.0)
    np.testing.assert_allclose(ll[mask], m.log_likelihoods(x[mask]), rtol=1e-13)
    with pytest.raises(ValueError, match="data has NaN at frame"):
        m.log_likelihoods(xn)


# ------------------------------------------------------------------ maximum likelihood
def test_mle_m_step_equals_weighted_means_and_ignores_masked_frames():
    K, D, T = 3, 2, 400
    m = model(K, D, seed=6, prior=None)
    rng = RNG(7)
    x = rng.poisson([1.0, 6.0], (T, D)).astype(float)
    w = rng.dirichlet(np.ones(K), T)
    mask = rng.random(T) > 0.2
    xn = x.copy()
    xn[~mask] = np.nan
    m.m_step(m.sufficient_stats(xn, w, mask))
    ref = np.stack([np.average(x[mask], axis=0, weights=w[mask, k]) for k in range(K)])
    np.testing.assert_allclose(m.emission_rates, ref, rtol=1e-12)
    assert m.log_prior() == 0.0


def test_sufficient_stats_are_summable_across_sequences():
    m = model(seed=8)
    rng = RNG(9)
    x = rng.poisson(2.0, (300, 4)).astype(float)
    w = rng.dirichlet(np.ones(3), 300)
    mask = rng.random(300) > 0.3
    whole = m.sufficient_stats(x, w, mask)
    a, b = (
        m.sufficient_stats(x[:120], w[:120], mask[:120]),
        m.sufficient_stats(x[120:], w[120:], mask[120:]),
    )
    for key in whole:
        np.testing.assert_allclose(a[key] + b[key], whole[key], rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ MAP
def test_map_m_step_maximises_expected_complete_data_objective():
    K, D, T = 3, 4, 60
    m = model(K, D, seed=10)
    rng = RNG(11)
    x = rng.poisson(1.5, (T, D)).astype(float)
    x[:, 3] = 0.0  # a silent channel: the MLE would be a zero rate
    w = rng.dirichlet(np.ones(K), T)

    def objective():
        return float((w * m.log_likelihoods(x)).sum() + m.log_prior())

    s = m.sufficient_stats(x, w)
    m.m_step(s)
    np.testing.assert_allclose(
        m.emission_rates, (s["x"] + 0.01) / (s["n"][:, None] + 0.01), rtol=1e-12
    )
    assert np.all(m.emission_rates > 0) and np.isfinite(m.log_prior())
    best, rates = objective(), m.emission_rates.copy()
    for scale in (1e-4, 1e-2, 1e-1):
        for _ in range(10):
            m.emission_rates = rates * np.exp(scale * rng.normal(size=rates.shape))
            assert objective() < best
    m.emission_rates = rates


def test_log_prior_is_scipy_gamma_up_to_a_constant():
    a, b = (
        model(seed=12, prior_shape=2.5, prior_rate=0.7),
        model(seed=13, prior_shape=2.5, prior_rate=0.7),
    )
    ref = lambda m: stats.gamma(2.5, scale=1 / 0.7).logpdf(m.emission_rates).sum()  # noqa: E731
    assert a.log_prior() - b.log_prior() == pytest.approx(ref(a) - ref(b), rel=1e-10)


# ------------------------------------------------------------------ recovery, sampling, bookkeeping
def test_parameter_recovery_from_true_states():
    """10^5 frames; every rate within 5 standard errors sqrt(r / N_k) (the prior's bias,
    about 0.01 (1 - r) / N_k, is far below)."""
    K, D, T = 3, 4, 100_000
    truth = model(K, D, seed=14)
    rng = RNG(15)
    z = rng.choice(K, size=T, p=[0.2, 0.3, 0.5])
    x = truth.sample(z, rng)
    assert x.shape == (T, D) and np.all(x == np.round(x)) and x.min() >= 0
    fit = PoissonObservations(K, D)
    fit.m_step(fit.sufficient_stats(x, np.eye(K)[z]))
    n = np.bincount(z, minlength=K)[:, None]
    assert np.all(
        np.abs(fit.emission_rates - truth.emission_rates) < 5 * np.sqrt(truth.emission_rates / n)
    )


def test_permute_and_num_parameters():
    m = model(seed=16)
    before = m.emission_rates.copy()
    m.permute([2, 1, 0])
    np.testing.assert_array_equal(m.emission_rates, before[[2, 1, 0]])
    assert m.num_parameters() == 3 * 4


def test_kmeans_initialisation_finds_separated_rates():
    truth = PoissonObservations(3, 2)
    truth.emission_rates = np.array([[1.0, 1.0], [30.0, 1.0], [1.0, 30.0]])
    rng = RNG(17)
    z = rng.integers(0, 3, 3000)
    x = truth.sample(z, rng)
    mask = rng.random(3000) > 0.1
    x[~mask] = np.nan
    m = PoissonObservations(3, 2)
    m.initialize([x], [mask], RNG(18))
    order = np.argsort(m.emission_rates[:, 0] + 2 * m.emission_rates[:, 1])
    assert np.abs(m.emission_rates[order] - truth.emission_rates).max() < 1.0
    r = PoissonObservations(3, 2)
    r.initialize([x], [mask], RNG(18), method="random")
    assert np.all(r.emission_rates > 0) and np.isfinite(r.log_likelihoods(x, mask)).all()


def test_errors_name_the_argument():
    m = PoissonObservations(2, 2)
    with pytest.raises(ValueError, match="data must hold non-negative whole-number counts"):
        m.check_data([[0.5, 1.0]])
    with pytest.raises(ValueError, match="data must hold non-negative whole-number counts"):
        m.check_data([[-1, 1]])
    with pytest.raises(ValueError, match=r"data must have shape \(num_timesteps, 2\)"):
        m.check_data(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="inf"):
        m.check_data([[np.inf, 1]])
    with pytest.raises(ValueError, match="prior_shape"):
        PoissonObservations(2, 2, prior_shape=0.5)
    with pytest.raises(ValueError, match="prior_rate"):
        PoissonObservations(2, 2, prior_rate=-1.0)
    with pytest.raises(ValueError, match="method"):
        m.initialize([np.zeros((10, 2))], [None], RNG(0), method="spectral")
    with pytest.raises(
        ValueError, match=r"emission_rates must be non-negative; emission_rates\[0, 0\] = -1"
    ):
        m.emission_rates = -np.ones((2, 2))  # refused where it is written
    np.testing.assert_array_equal(m.check_data(np.array([[1, 2]], dtype=np.int32)), [[1.0, 2.0]])


def test_em_is_monotone_and_recovers_rates():
    from ethogram.models import HMM

    truth = PoissonObservations(3, 3)
    truth.emission_rates = np.array([[1.0, 5.0, 0.5], [6.0, 1.0, 2.0], [2.0, 2.0, 8.0]])
    rng = RNG(19)
    z = np.repeat(rng.integers(0, 3, 200), 20)
    x = truth.sample(z, rng)
    hmm = HMM(3, "poisson", dict(data_dim=3))
    res = hmm.fit(x, num_iters=50, seed=20, progress=False)
    obj = res.objectives
    assert np.all(np.diff(obj) >= -1e-9 * np.abs(obj[:-1])) and obj[-1] > obj[0]
    rates = hmm.observations.emission_rates
    order = [int(np.argmin(np.abs(rates - r).sum(1))) for r in truth.emission_rates]
    assert sorted(order) == [0, 1, 2]
    assert np.abs(rates[order] - truth.emission_rates).max() < 0.3
