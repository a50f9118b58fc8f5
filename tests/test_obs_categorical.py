"""Categorical observation model: log-likelihoods by hand, maximum-likelihood M-step against
weighted counts, masks and NaN, summable statistics, the Dirichlet MAP as the argmax of the
expected complete-data objective and its prior against SciPy, recovery from 10^5 frames,
relabeling, the windowed k-means initialisation, validation errors, and EM monotonicity."""

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import linear_sum_assignment

from ethogram.models.observations.categorical import CategoricalObservations

RNG = np.random.default_rng


def model(K=3, C=5, seed=0, **kw):
    m = CategoricalObservations(K, C, **kw)
    m.emission_probs = RNG(seed).dirichlet(np.ones(C), K)
    return m


def sticky_path(T, K, stay, rng):
    z = np.empty(T, int)
    z[0] = 0
    jump = rng.random(T) > stay
    new = rng.integers(0, K, T)
    for t in range(1, T):
        z[t] = new[t] if jump[t] else z[t - 1]
    return z


# ------------------------------------------------------------------ log-likelihoods
@pytest.mark.parametrize("as_type", ["int", "float", "column"])
def test_log_likelihoods_are_log_probs_of_the_labels(as_type):
    m = model(seed=1)
    labels = RNG(2).integers(0, 5, 60)
    data = {"int": labels, "float": labels.astype(float), "column": labels[:, None]}[as_type]
    ll = m.log_likelihoods(data)
    assert ll.shape == (60, 3)
    for t in range(60):
        for k in range(3):
            assert ll[t, k] == np.log(m.emission_probs[k, labels[t]])


def test_zero_probability_gives_minus_inf_and_masked_frames_give_zero():
    m = model(seed=3)
    m.emission_probs[1] = [0.0, 0.5, 0.5, 0.0, 0.0]
    labels = np.array([0.0, 1.0, np.nan, 3.0])
    mask = np.array([True, True, False, True])
    ll = m.log_likelihoods(labels, mask)
    assert ll[0, 1] == -np.inf and ll[3, 1] == -np.inf and ll[1, 1] == np.log(0.5)
    assert np.all(ll[2] == 0.0)
    with pytest.raises(ValueError, match="data has NaN at frame 2"):
        m.log_likelihoods(labels)


# ------------------------------------------------------------------ maximum likelihood
def test_mle_m_step_equals_weighted_frequencies_and_ignores_masked_frames():
    K, C, T = 3, 4, 500
    m = CategoricalObservations(K, C, prior=None)
    rng = RNG(4)
    labels = rng.integers(0, C, T)
    w = rng.dirichlet(np.ones(K), T)
    mask = rng.random(T) > 0.2
    data = labels.astype(float)
    data[~mask] = np.nan
    m.m_step(m.sufficient_stats(data, w, mask))
    counts = np.stack(
        [np.bincount(labels[mask], weights=w[mask, k], minlength=C) for k in range(K)]
    )
    np.testing.assert_allclose(
        m.emission_probs, counts / counts.sum(axis=1, keepdims=True), rtol=1e-12
    )
    assert m.log_prior() == 0.0


def test_sufficient_stats_are_summable_across_sequences():
    m = model(seed=5)
    rng = RNG(6)
    labels = rng.integers(0, 5, 300)
    w = rng.dirichlet(np.ones(3), 300)
    mask = rng.random(300) > 0.3
    whole = m.sufficient_stats(labels, w, mask)
    a = m.sufficient_stats(labels[:111], w[:111], mask[:111])
    b = m.sufficient_stats(labels[111:], w[111:], mask[111:])
    np.testing.assert_allclose(a["counts"] + b["counts"], whole["counts"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(whole["counts"].sum(axis=1), w[mask].sum(axis=0), rtol=1e-12)


# ------------------------------------------------------------------ MAP
@pytest.mark.parametrize("alpha", [1.01, 2.5])
def test_map_m_step_maximises_expected_complete_data_objective(alpha):
    K, C, T = 3, 5, 80  # few frames: some symbols are never seen in some states
    m = model(K, C, seed=7, concentration=alpha)
    rng = RNG(8)
    labels = rng.integers(0, 3, T)  # symbols 3 and 4 never occur
    w = rng.dirichlet(np.ones(K), T)

    def objective():
        return float((w * m.log_likelihoods(labels)).sum() + m.log_prior())

    stats_ = m.sufficient_stats(labels, w)
    m.m_step(stats_)
    assert np.all(m.emission_probs > 0) and np.isfinite(m.log_prior())
    expected = (stats_["counts"] + alpha - 1) / (
        stats_["counts"].sum(1, keepdims=True) + C * (alpha - 1)
    )
    np.testing.assert_allclose(m.emission_probs, expected, rtol=1e-12)
    best, probs = objective(), m.emission_probs.copy()
    for scale in (1e-4, 1e-2, 1e-1):
        for _ in range(10):
            logits = np.log(probs) + scale * rng.normal(size=probs.shape)
            trial = np.exp(logits)
            m.emission_probs = trial / trial.sum(axis=1, keepdims=True)
            assert objective() < best
    m.emission_probs = probs


def test_log_prior_is_scipy_dirichlet_up_to_a_constant():
    a, b = model(seed=9, concentration=1.7), model(seed=10, concentration=1.7)
    ref = lambda m: sum(stats.dirichlet(np.full(5, 1.7)).logpdf(p) for p in m.emission_probs)  # noqa: E731
    assert a.log_prior() - b.log_prior() == pytest.approx(ref(a) - ref(b), rel=1e-10)


def test_state_without_data_takes_the_prior_mean():
    m = model(seed=11)
    w = np.zeros((10, 3))
    w[:, 0] = 1.0
    m.m_step(m.sufficient_stats(np.arange(10) % 5, w))
    np.testing.assert_allclose(m.emission_probs[2], np.full(5, 0.2), rtol=1e-12)


# ------------------------------------------------------------------ recovery and sampling
def test_parameter_recovery_from_true_states():
    """10^5 frames; each probability within 5 binomial standard errors sqrt(p (1 - p) / N_k)
    (plus the prior's bias, at most 0.01 / N_k, which is far below)."""
    K, C, T = 3, 6, 100_000
    truth = model(K, C, seed=12)
    rng = RNG(13)
    z = rng.choice(K, size=T, p=[0.2, 0.3, 0.5])
    labels = truth.sample(z, rng)
    assert labels.shape == (T,) and np.issubdtype(labels.dtype, np.integer)
    assert labels.min() >= 0 and labels.max() < C
    fit = CategoricalObservations(K, C)
    fit.m_step(fit.sufficient_stats(labels, np.eye(K)[z]))
    n = np.bincount(z, minlength=K)[:, None]
    p = truth.emission_probs
    assert np.all(np.abs(fit.emission_probs - p) < 5 * np.sqrt(p * (1 - p) / n) + 0.01 / n)


def test_permute_reorders_rows():
    m = model(seed=14)
    before = m.emission_probs.copy()
    m.permute([1, 2, 0])
    np.testing.assert_array_equal(m.emission_probs, before[[1, 2, 0]])


def test_num_parameters():
    assert CategoricalObservations(4, 6).num_parameters() == 4 * 5


# ------------------------------------------------------------------ initialisation
def test_kmeans_initialisation_starts_near_the_truth_on_sticky_data():
    K, C = 4, 8
    rng = RNG(15)
    truth = CategoricalObservations(K, C)
    truth.emission_probs = rng.dirichlet(np.full(C, 0.5), K)
    z = sticky_path(20_000, K, 0.95, rng)
    labels = truth.sample(z, rng).astype(float)
    mask = rng.random(20_000) > 0.05
    labels[~mask] = np.nan

    def error(m):  # summed L1 distance after the best matching of states
        cost = np.abs(m.emission_probs[:, None] - truth.emission_probs[None]).sum(-1)
        r, c = linear_sum_assignment(cost)
        return cost[r, c].sum()

    km = CategoricalObservations(K, C)
    km.initialize([labels[:7000], labels[7000:]], [mask[:7000], mask[7000:]], RNG(16))
    rnd = CategoricalObservations(K, C)
    rnd.initialize([labels], [mask], RNG(16), method="random")
    np.testing.assert_allclose(km.emission_probs.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(km.emission_probs > 0)
    assert error(km) < 0.6 < error(rnd)


# ------------------------------------------------------------------ errors
def test_errors_name_the_argument():
    m = CategoricalObservations(2, 3)
    with pytest.raises(ValueError, match=r"data labels must lie in \[0, 3\)"):
        m.check_data([0, 1, 3])
    with pytest.raises(ValueError, match=r"data labels must lie in \[0, 3\)"):
        m.check_data([0, -1])
    with pytest.raises(ValueError, match=r"data labels must lie in \[0, 3\)"):
        m.log_likelihoods(np.array([0, 5]))
    with pytest.raises(ValueError, match="data must hold whole-number class labels"):
        m.check_data([0.0, 1.5])
    with pytest.raises(ValueError, match="data must hold whole-number class labels"):
        m.log_likelihoods(np.array([0.0, 1.5]))
    with pytest.raises(ValueError, match="data must be a non-empty 1-D array"):
        m.check_data(np.zeros((4, 2)))
    with pytest.raises(TypeError, match="data must hold integer class labels"):
        m.check_data(["a", "b"])
    with pytest.raises(ValueError, match="concentration"):
        CategoricalObservations(2, 3, concentration=0.5)
    with pytest.raises(ValueError, match="num_classes"):
        CategoricalObservations(2, 0)
    with pytest.raises(ValueError, match="method"):
        m.initialize([np.zeros(10)], [None], RNG(0), method="spectral")
    with pytest.raises(ValueError, match=r"stats\['counts'\] must have shape \(2, 3\)"):
        m.m_step({"counts": np.ones((3, 3))})
    np.testing.assert_array_equal(m.check_data(np.array([[0], [2]])), [0.0, 2.0])


# ------------------------------------------------------------------ EM through the HMM
def test_em_is_monotone_and_recovers_emissions():
    from ethogram.models import HMM

    K, C = 3, 6
    rng = RNG(17)
    truth = CategoricalObservations(K, C)
    truth.emission_probs = rng.dirichlet(np.full(C, 0.4), K)
    z = sticky_path(6000, K, 0.95, rng)
    labels = truth.sample(z, rng)
    hmm = HMM(K, "categorical", dict(num_classes=C))
    res = hmm.fit([labels[:3000], labels[3000:]], num_iters=60, seed=18, progress=False)
    obj = res.objectives
    assert np.all(np.diff(obj) >= -1e-9 * np.abs(obj[:-1])) and obj[-1] > obj[0]
    cost = np.abs(hmm.observations.emission_probs[:, None] - truth.emission_probs[None]).sum(-1)
    r, c = linear_sum_assignment(cost)
    assert cost[r, c].max() < 0.1
