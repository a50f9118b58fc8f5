"""The robust (Student-t) autoregressive observation model: log-likelihoods against a
hand-written multivariate Student-t and SciPy's, the Gaussian limit, the M-step as least
squares weighted by the expected precisions, EM never decreasing the observed-data
objective, robustness to heavy-tailed noise compared with the Gaussian model, sampling,
masks, relabeling and errors."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln

from ethogram import HMM
from ethogram.models.observations import get_observation_class
from test_obs_autoregressive import LAGS_BIAS, NOISES, make, predictions, regressors

RNG = np.random.default_rng


def robust(nu=4.0, **kw):
    return make(name="robust_autoregressive", nu=nu, **kw)


def student_t_logpdf(x, mean, scale, nu):
    """Multivariate Student-t log density, written out."""
    D = x.shape[-1]
    r = x - mean
    maha = r @ np.linalg.solve(scale, r)
    return (
        gammaln((nu + D) / 2)
        - gammaln(nu / 2)
        - D / 2 * np.log(nu * np.pi)
        - 0.5 * np.linalg.slogdet(scale)[1]
        - (nu + D) / 2 * np.log1p(maha / nu)
    )


def heavy_tailed_data(T, nu, seed, L=1):
    """One-state AR data with Student-t noise (and its true model)."""
    truth = robust(nu=nu, K=1, D=2, L=L, seed=seed)
    rng = RNG(seed)
    return truth, truth.sample(np.zeros(T, int), rng)


# ------------------------------------------------------------------ log-likelihoods
@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("L,bias", LAGS_BIAS)
def test_log_likelihoods_match_student_t(noise, L, bias):
    m = robust(nu=3.5, L=L, bias=bias, covariance_type=noise)
    x = RNG(1).normal(size=(60, 3)) * 2
    ll = m.log_likelihoods(x)
    head = stats.multivariate_normal(np.zeros(3), np.eye(3)).logpdf(x[:L])
    np.testing.assert_allclose(ll[:L], np.reshape(head, (L, 1)) * np.ones((1, 3)), rtol=1e-12)
    means = predictions(m, x)
    for k in range(3):
        ref = [
            student_t_logpdf(x[L + t], means[t, k], m.emission_covs[k], 3.5) for t in range(60 - L)
        ]
        np.testing.assert_allclose(ll[L:, k], ref, rtol=1e-10)
        if noise == "full":  # and an independent implementation
            ref2 = [
                stats.multivariate_t(means[t, k], m.emission_covs[k], df=3.5).logpdf(x[L + t])
                for t in range(60 - L)
            ]
            np.testing.assert_allclose(ll[L:, k], ref2, rtol=1e-10)


def test_large_nu_approaches_the_gaussian_model():
    m, g = robust(nu=1e9, L=2), make(L=2)
    x = RNG(2).normal(size=(100, 3))
    np.testing.assert_allclose(m.log_likelihoods(x), g.log_likelihoods(x), rtol=1e-6)


def test_expected_precisions_by_hand():
    m = robust(nu=4.0, L=2)
    x = RNG(3).normal(size=(50, 3))
    means = predictions(m, x)
    tau = m.expected_precisions(x)
    assert (tau[:2] == 1).all()
    for k in range(3):
        r = x[2:] - means[:, k]
        maha = np.einsum("ti,ij,tj->t", r, np.linalg.inv(m.emission_covs[k]), r)
        np.testing.assert_allclose(tau[2:, k], (4.0 + 3) / (4.0 + maha), rtol=1e-10)


def test_masked_frames_score_zero_and_nan_does_not_leak():
    m = robust(L=2)
    rng = RNG(4)
    x = rng.normal(size=(80, 3))
    raw = rng.random(80) > 0.15
    x[~raw] = np.nan
    eff = m.effective_mask(x, raw)
    ll = m.log_likelihoods(x, eff)
    assert np.isfinite(ll).all() and (ll[~eff] == 0).all()
    s = m.sufficient_stats(x, rng.dirichlet(np.ones(3), 80), eff)
    assert all(np.isfinite(v).all() for v in s.values())


# ------------------------------------------------------------------ M-step and EM
@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("L,bias", [(1, True), (3, False)])
@pytest.mark.parametrize("weights", ["spread", "concentrated"])
def test_m_step_is_least_squares_weighted_by_expected_precisions(noise, L, bias, weights):
    m = robust(nu=3.0, L=L, bias=bias, covariance_type=noise, prior=None)
    rng = RNG(5)
    x = rng.standard_t(3.0, size=(400, 3)).cumsum(axis=0) * 0.1
    w = rng.dirichlet(np.ones(3), size=400)[L:]
    if weights == "concentrated":  # most entries negligible: the statistics gather the rest
        w = np.where(w > 0.5, w, 1e-30 * w)
    means = predictions(m, x)
    U, Y = regressors(x, L, bias), x[L:]
    Ws, scatters = [], []
    for k in range(3):
        r = Y - means[:, k]
        tau = (3.0 + 3) / (3.0 + np.einsum("ti,ij,tj->t", r, np.linalg.inv(m.emission_covs[k]), r))
        s = np.sqrt(w[:, k] * tau)[:, None]
        Wk = np.linalg.lstsq(U * s, Y * s, rcond=None)[0].T
        res = (Y - U @ Wk.T) * s
        Ws.append(Wk)
        scatters.append(res.T @ res)
    n = w.sum(axis=0)  # counts are not weighted by tau
    if noise == "tied":
        covs = np.tile(sum(scatters) / n.sum(), (3, 1, 1))
    else:
        covs = np.stack([S / nk for S, nk in zip(scatters, n)])
        if noise == "diag":
            covs = np.einsum("kd,de->kde", np.diagonal(covs, axis1=1, axis2=2), np.eye(3))
    m.m_step(m.sufficient_stats(x, np.vstack([np.full((L, 3), 1 / 3), w])))
    W = np.stack(Ws)
    np.testing.assert_allclose(m.emission_dynamics, W[:, :, : 3 * L], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        m.emission_bias, W[:, :, 3 * L] if bias else 0.0, rtol=1e-8, atol=1e-10
    )
    np.testing.assert_allclose(m.emission_covs, covs, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("prior", ["default", None])
def test_em_never_decreases_the_weighted_observed_objective(noise, prior):
    """With the state weights held fixed, repeated M-steps are EM for the Student-t
    likelihood: ``sum_tk w_tk log t(x_t; k) + log_prior`` must not decrease."""
    rng = RNG(6)
    truth = robust(nu=2.5, L=2, covariance_type=noise, seed=1)
    z = rng.integers(0, 3, 3000)
    x = truth.sample(z, rng)
    w = 0.7 * np.eye(3)[z] + 0.3 * rng.dirichlet(np.ones(3), 3000)
    m = robust(nu=2.5, L=2, covariance_type=noise, prior=prior, seed=2)
    objectives = []
    for _ in range(15):
        objectives.append(float((w[2:] * m.log_likelihoods(x)[2:]).sum() + m.log_prior()))
        m.m_step(m.sufficient_stats(x, w))
    objectives.append(float((w[2:] * m.log_likelihoods(x)[2:]).sum() + m.log_prior()))
    steps = np.diff(objectives)
    assert np.all(steps >= -1e-9 * np.abs(objectives[:-1]))
    assert objectives[-1] > objectives[0] + 100


def test_hmm_em_with_outliers_is_monotone():
    rng = RNG(7)
    truth = HMM(
        3, "robust_autoregressive", dict(data_dim=2, num_lags=2, covariance_type="diag", nu=3.0)
    )
    truth.observations.set_params(
        robust(nu=3.0, K=3, D=2, L=2, covariance_type="diag", seed=3).get_params()
    )
    truth.transition_matrix = 0.95 * np.eye(3) + 0.05 / 3
    _, x = truth.sample(3000, seed=8)
    x[rng.choice(3000, 30, replace=False)] += rng.normal(scale=20.0, size=(30, 2))  # glitches
    model = HMM(
        3,
        "robust_autoregressive",
        dict(data_dim=2, num_lags=2, covariance_type="diag", nu=3.0),
        kappa=10.0,
    )
    result = model.fit([x[:1800], x[1800:]], num_iters=20, tol=0.0, seed=0)
    obj = result.objectives
    assert np.all(np.isfinite(obj))
    assert np.all(np.diff(obj) >= -1e-8 * np.abs(obj[:-1]))
    assert obj[-1] > obj[0]


def fit_both(x, nu, iters=30):
    """Gaussian ML fit, and the robust fit by EM started from it (one state, all frames)."""
    w = np.ones((x.shape[0], 1))
    gauss = get_observation_class("autoregressive")(1, data_dim=2, num_lags=1)
    gauss.m_step(gauss.sufficient_stats(x, w))
    rob = get_observation_class("robust_autoregressive")(1, data_dim=2, nu=nu)
    rob.set_params(gauss.get_params())
    for _ in range(iters):
        rob.m_step(rob.sufficient_stats(x, w))
    return gauss, rob


def regression_error(m, truth):
    return float(
        np.sum((m.emission_dynamics - truth.emission_dynamics) ** 2)
        + np.sum((m.emission_bias - truth.emission_bias) ** 2)
    )


def test_robust_beats_gaussian_on_heavy_tailed_noise():
    """nu = 1.5 (infinite-variance noise), six data sets of 5000 frames: the robust fit's
    squared error on dynamics and bias is a small fraction of the Gaussian fit's, and it
    explains held-out data from the same model better every time."""
    err_g, err_r = [], []
    for seed in range(6):
        truth, x = heavy_tailed_data(5000, nu=1.5, seed=seed)
        held_out = truth.sample(np.zeros(5000, int), RNG(100 + seed))
        gauss, rob = fit_both(x, 1.5)
        err_g.append(regression_error(gauss, truth))
        err_r.append(regression_error(rob, truth))
        assert rob.log_likelihoods(held_out).sum() > gauss.log_likelihoods(held_out).sum() + 500
    assert np.mean(err_r) < 0.2 * np.mean(err_g)


def test_robust_recovers_parameters_from_student_t_noise():
    truth, x = heavy_tailed_data(40000, nu=2.5, seed=9)
    _, rob = fit_both(x, 2.5, iters=50)
    assert np.abs(rob.emission_dynamics - truth.emission_dynamics).max() < 0.01
    assert np.abs(rob.emission_bias - truth.emission_bias).max() < 0.02
    np.testing.assert_allclose(
        rob.emission_covs, truth.emission_covs, rtol=0.05, atol=0.005
    )  # the scale matrix
    # the fitted model explains the data at least as well as the truth (it is the MLE)
    assert (
        rob.log_likelihoods(x).sum() + rob.log_prior()
        >= truth.log_likelihoods(x).sum() + truth.log_prior()
    )


# ------------------------------------------------------------------ sampling and bookkeeping
def test_sample_has_student_t_noise():
    nu = 5.0
    truth, x = heavy_tailed_data(60000, nu=nu, seed=11)
    resid = x[1:] - predictions(truth, x)[:, 0]
    n = resid.shape[0]
    cov = np.cov(resid, rowvar=False)
    np.testing.assert_allclose(cov, nu / (nu - 2) * truth.emission_covs[0], rtol=0.1, atol=0.01)
    white = np.linalg.solve(np.linalg.cholesky(truth.emission_covs[0]), resid.T).T
    kurt = stats.kurtosis(
        white[:, 0]
    )  # excess kurtosis 6 / (nu - 4) = 6 for nu = 5 (slow to converge)
    assert kurt > 2.0
    assert np.abs(resid.mean(axis=0)).max() < 5 * np.sqrt(cov.diagonal().max() / n)


def test_permute_and_tied_noise():
    m = robust(K=4, L=2, covariance_type="tied")
    order = np.array([3, 1, 0, 2])
    before = m.get_params()
    x = RNG(12).normal(size=(40, 3))
    ll = m.log_likelihoods(x)
    m.permute(order)
    np.testing.assert_array_equal(m.emission_dynamics, before["emission_dynamics"][order])
    np.testing.assert_array_equal(m.emission_covs, before["emission_covs"])
    np.testing.assert_allclose(m.log_likelihoods(x), ll[:, order], rtol=1e-12)
    assert (
        m.num_parameters()
        == get_observation_class("autoregressive")(
            4, data_dim=3, num_lags=2, covariance_type="tied"
        ).num_parameters()
    )


@pytest.mark.parametrize("nu", [0.0, -1.0, np.inf, "many"])
def test_bad_nu_is_rejected(nu):
    with pytest.raises(ValueError, match="nu"):
        get_observation_class("robust_autoregressive")(2, data_dim=2, nu=nu)
