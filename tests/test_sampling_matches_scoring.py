"""``sample`` draws from the distribution that ``log_likelihoods`` scores, for every model.

Each test draws many frames from a model along a fixed state path and checks them against
the model's own scores with a goodness-of-fit test (fixed seeds; a p-value above 1e-3 is
required, and each test also shows that it rejects a wrong sampler):
- Gaussian (every covariance type) and AR (every noise type): the squared Mahalanobis
  distance read back from ``log_likelihoods`` of the state that emitted the frame is
  chi-squared with D degrees of freedom (Kolmogorov-Smirnov), and the sample moments match;
- robust AR: that distance divided by D is F(D, nu), the law of a Student-t residual (a
  Gaussian-noise sampler fails it);
- Poisson and categorical: the counts per value follow ``exp(log_likelihoods)`` (chi-squared
  test of the frequencies, per state).
"""

import numpy as np
import pytest
from scipy import stats

from ethogram.models.observations import get_observation_class

RNG = np.random.default_rng
P_MIN = 1e-3


def state_path(T, K, seed, stay=0.95):
    rng = RNG(seed)
    z = np.empty(T, dtype=np.intp)
    z[0] = 0
    for t in range(1, T):
        z[t] = z[t - 1] if rng.random() < stay else rng.integers(K)
    return z


def random_covs(kind, K, D, rng):
    B = rng.normal(size=(K, D, D))
    covs = np.einsum("kij,klj->kil", B, B) / D + 0.3 * np.eye(D)
    if kind == "diag":
        covs = np.einsum("kd,de->kde", np.diagonal(covs, axis1=1, axis2=2), np.eye(D))
    elif kind == "spherical":
        covs = np.trace(covs, axis1=1, axis2=2)[:, None, None] / D * np.eye(D)
    elif kind == "tied":
        covs = np.tile(covs[0], (K, 1, 1))
    return covs


def maha_from_scores(ll, z, covs, D):
    """Squared Mahalanobis distances implied by Gaussian log densities of the emitting states."""
    half_logdet = 0.5 * np.linalg.slogdet(covs)[1]
    own = ll[np.arange(z.size), z]
    return -2.0 * (own + half_logdet[z]) - D * np.log(2 * np.pi)


@pytest.mark.parametrize("cov", ["full", "diag", "tied", "spherical"])
def test_gaussian_samples_follow_the_scored_density(cov):
    K, D, T = 3, 3, 30000
    rng = RNG(1)
    m = get_observation_class("gaussian")(K, data_dim=D, covariance_type=cov)
    m.emission_means = rng.normal(size=(K, D)) * 5 + 1e4
    m.emission_covs = random_covs(cov, K, D, rng)
    z = state_path(T, K, 2)
    x = m.sample(z, RNG(3))
    d2 = maha_from_scores(m.log_likelihoods(x), z, m.emission_covs, D)
    assert stats.kstest(d2, stats.chi2(D).cdf).pvalue > P_MIN
    for k in range(K):
        xk = x[z == k]
        se = np.sqrt(np.diag(m.emission_covs[k]) / len(xk))
        assert np.all(np.abs(xk.mean(axis=0) - m.emission_means[k]) < 5 * se)
        np.testing.assert_allclose(
            np.cov(xk, rowvar=False),
            m.emission_covs[k],
            atol=6 * np.abs(m.emission_covs[k]).max() * np.sqrt(2 / len(xk)),
        )
    # the check has power: frames drawn with twice the covariance fail it
    wide = m.emission_means[z] + np.sqrt(2.0) * (x - m.emission_means[z])
    assert (
        stats.kstest(
            maha_from_scores(m.log_likelihoods(wide), z, m.emission_covs, D), stats.chi2(D).cdf
        ).pvalue
        < 1e-6
    )


def ar_model(name, noise, K=2, D=2, L=2, **kw):
    rng = RNG(4)
    m = get_observation_class(name)(K, data_dim=D, num_lags=L, covariance_type=noise, **kw)
    dyn = np.zeros((K, D, L * D))
    for k in range(K):
        th = 0.3 * (k + 1)
        dyn[k, :, :D] = 0.8 * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        dyn[k, :, D:] = 0.1 * rng.normal(size=(D, D))
    m.emission_dynamics = dyn
    m.emission_bias = rng.normal(size=(K, D)) + 300.0
    covs = random_covs(noise, K, D, rng) * 0.2
    m.emission_covs = covs
    return m


@pytest.mark.parametrize("first_frames", ["unscored", "standard_normal"])
@pytest.mark.parametrize("noise", ["full", "diag", "tied"])
def test_ar_samples_follow_the_scored_density(noise, first_frames):
    m = ar_model("autoregressive", noise, first_frames=first_frames)
    T, L, D = 30000, m.num_lags, m.data_dim
    z = state_path(T, m.num_states, 5)
    x = m.sample(z, RNG(6))
    d2 = maha_from_scores(m.log_likelihoods(x), z, m.emission_covs, D)[L:]
    assert stats.kstest(d2, stats.chi2(D).cdf).pvalue > P_MIN
    # residuals by hand have the noise covariance of their state
    lags = np.hstack([x[L - lag : T - lag] for lag in range(1, L + 1)])
    zz = z[L:]
    resid = x[L:] - np.einsum("tij,tj->ti", m.emission_dynamics[zz], lags) - m.emission_bias[zz]
    for k in range(m.num_states):
        rk = resid[zz == k]
        np.testing.assert_allclose(
            np.cov(rk, rowvar=False),
            m.emission_covs[k],
            atol=6 * np.abs(m.emission_covs[k]).max() * np.sqrt(2 / len(rk)),
        )


def test_robust_ar_samples_student_t_noise_as_it_scores():
    nu = 4.0
    m = ar_model("robust_autoregressive", "full", nu=nu)
    T, L, D = 30000, m.num_lags, m.data_dim
    z = state_path(T, m.num_states, 7)
    x = m.sample(z, RNG(8))
    ll = m.log_likelihoods(x)[L:]
    zz = z[L:]
    # invert the Student-t log density of the emitting state to its Mahalanobis distance
    const = stats.multivariate_t(np.zeros(D), np.eye(D), df=nu).logpdf(np.zeros(D))
    half_logdet = 0.5 * np.linalg.slogdet(m.emission_covs)[1]
    own = ll[np.arange(zz.size), zz]
    d2 = nu * np.expm1((const - half_logdet[zz] - own) * 2.0 / (nu + D))
    assert stats.kstest(d2 / D, stats.f(D, nu).cdf).pvalue > P_MIN
    # the Gaussian AR sampler with the same parameters fails this test
    gauss = ar_model("autoregressive", "full")
    xg = gauss.sample(z, RNG(8))
    llg = m.log_likelihoods(xg)[L:][np.arange(zz.size), zz]
    d2g = nu * np.expm1((const - half_logdet[zz] - llg) * 2.0 / (nu + D))
    assert stats.kstest(d2g / D, stats.f(D, nu).cdf).pvalue < 1e-6


def test_poisson_samples_follow_the_scored_pmf():
    K, D, T = 3, 2, 30000
    m = get_observation_class("poisson")(K, data_dim=D)
    m.emission_rates = np.array([[0.5, 3.0], [7.0, 1.0], [2.0, 0.0]])
    z = state_path(T, K, 9)
    x = m.sample(z, RNG(10))
    assert np.all(x[z == 2][:, 1] == 0)  # a zero rate never fires
    for k in range(K):
        for d in range(D):
            if m.emission_rates[k, d] == 0:
                continue
            counts = x[z == k, d].astype(int)
            top = int(stats.poisson(m.emission_rates[k, d]).ppf(0.999))
            far = int(stats.poisson(m.emission_rates[k, d]).ppf(1 - 1e-14)) + 5
            # probabilities read from the model's own scores of frames with one non-zero
            # channel, normalised over a support holding all but 1e-14 of the mass
            frames = np.zeros((far + 1, D))
            frames[:, d] = np.arange(far + 1)
            ll = m.log_likelihoods(frames)[:, k]
            p = np.exp(ll - ll.max())
            p /= p.sum()
            expected = np.append(p[:top], p[top:].sum()) * len(counts)
            observed = np.array(
                [np.sum(counts == v) for v in range(top)] + [np.sum(counts >= top)], dtype=float
            )
            assert stats.chisquare(observed, expected).pvalue > P_MIN


def test_categorical_samples_follow_the_scored_probabilities():
    K, C, T = 3, 5, 30000
    m = get_observation_class("categorical")(K, num_classes=C)
    m.emission_probs = np.array(
        [
            [0.5, 0.2, 0.1, 0.1, 0.1],
            [0.0, 0.25, 0.25, 0.25, 0.25],
            [0.9, 0.025, 0.025, 0.025, 0.025],
        ]
    )
    z = state_path(T, K, 11)
    x = m.sample(z, RNG(12))
    p_scored = np.exp(m.log_likelihoods(np.arange(C))).T  # (K, C) from the scores
    for k in range(K):
        counts = np.bincount(x[z == k], minlength=C).astype(float)
        keep = p_scored[k] > 0
        assert counts[~keep].sum() == 0
        assert stats.chisquare(counts[keep], p_scored[k, keep] * counts.sum()).pvalue > P_MIN
