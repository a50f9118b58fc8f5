"""Observation models one by one: log-likelihoods against SciPy, maximum-likelihood M-steps
against weighted estimates computed by hand, masking, summable statistics, MAP optimality,
parameter recovery from 10^5 frames, and relabeling."""

import numpy as np
import pytest
from scipy import stats

from ethogram.models.observations import get_observation_class
from ethogram.models.observations.autoregressive import lagged_rows

RNG = np.random.default_rng


def make(name, K=3, **kw):
    return get_observation_class(name)(K, **kw)


def gaussian(covariance_type, K=3, D=3, seed=0, prior="default"):
    rng = RNG(seed)
    m = make("gaussian", K, data_dim=D, covariance_type=covariance_type, prior=prior)
    m.emission_means = rng.normal(size=(K, D)) * 3
    B = rng.normal(size=(K, D, D))
    full = np.einsum("kij,klj->kil", B, B) / D + 0.3 * np.eye(D)
    if covariance_type == "diag":
        full = np.einsum("kd,de->kde", np.diagonal(full, axis1=1, axis2=2), np.eye(D))
    elif covariance_type == "spherical":
        full = rng.uniform(0.5, 2, K)[:, None, None] * np.eye(D)
    elif covariance_type == "tied":
        full = np.tile(full[0], (K, 1, 1))
    m.emission_covs = full
    return m


def ar(covariance_type="full", K=3, D=2, L=1, bias=True, seed=0, robust=False, prior="default"):
    rng = RNG(seed)
    m = make(
        "robust_autoregressive" if robust else "autoregressive",
        K,
        data_dim=D,
        num_lags=L,
        bias=bias,
        covariance_type=covariance_type,
        prior=prior,
        first_frames="standard_normal",
    )
    dyn = np.zeros((K, D, L * D))
    for k in range(K):
        th = 0.2 * (k + 1)
        R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        dyn[k, :, :D] = 0.7 * R
        if L > 1:
            dyn[k, :, D : 2 * D] = 0.1 * np.eye(D)
    m.emission_dynamics = dyn
    if bias:
        m.emission_bias = rng.normal(size=(K, D))
    covs = np.stack([np.array([[0.1, 0.03], [0.03, 0.05]]) * (k + 1) for k in range(K)])
    if covariance_type == "diag":
        covs = np.einsum("kd,de->kde", np.diagonal(covs, axis1=1, axis2=2), np.eye(D))
    if covariance_type == "tied":
        covs = np.tile(covs[0], (K, 1, 1))
    m.emission_covs = covs
    return m


def states_path(T, K, seed, stay=0.95):
    rng = RNG(seed)
    z = np.empty(T, int)
    z[0] = 0
    u = rng.random(T)
    jumps = rng.integers(1, K, T)
    for t in range(1, T):
        z[t] = z[t - 1] if u[t] < stay else (z[t - 1] + jumps[t]) % K
    return z


COV_TYPES = ["full", "diag", "tied", "spherical"]


# ------------------------------------------------------------------ log-likelihoods
@pytest.mark.parametrize("cov", COV_TYPES)
def test_gaussian_log_likelihoods_match_scipy(cov):
    m = gaussian(cov)
    x = RNG(1).normal(size=(50, 3)) * 2
    ll = m.log_likelihoods(x)
    for k in range(3):
        np.testing.assert_allclose(
            ll[:, k],
            stats.multivariate_normal(m.emission_means[k], m.emission_covs[k]).logpdf(x),
            rtol=1e-10,
        )


def test_poisson_and_categorical_log_likelihoods_match_scipy():
    p = make("poisson", data_dim=4)
    p.emission_rates = RNG(0).uniform(0.1, 5, (3, 4))
    x = RNG(1).poisson(2.0, (40, 4)).astype(float)
    for k in range(3):
        np.testing.assert_allclose(
            p.log_likelihoods(x)[:, k],
            stats.poisson(p.emission_rates[k]).logpmf(x).sum(1),
            rtol=1e-12,
        )
    c = make("categorical", num_classes=5)
    c.emission_probs = RNG(2).dirichlet(np.ones(5), 3)
    labels = RNG(3).integers(0, 5, 30)
    np.testing.assert_allclose(
        c.log_likelihoods(labels.astype(float)), np.log(c.emission_probs[:, labels]).T, rtol=1e-12
    )


@pytest.mark.parametrize("noise", ["full", "diag", "tied"])
@pytest.mark.parametrize("L,bias", [(1, True), (3, True), (3, False)])
def test_ar_log_likelihoods_match_scipy(noise, L, bias):
    m = ar(noise, L=L, bias=bias)
    x = RNG(4).normal(size=(60, 2))
    ll = m.log_likelihoods(x)
    np.testing.assert_allclose(
        ll[:L],
        np.atleast_1d(stats.multivariate_normal(np.zeros(2), np.eye(2)).logpdf(x[:L]))[:, None]
        * np.ones(3),
        rtol=1e-12,
    )
    for t in range(L, 60):
        lags = x[t - L : t][::-1].reshape(-1)
        for k in range(3):
            mean = m.emission_dynamics[k] @ lags + m.emission_bias[k]
            assert ll[t, k] == pytest.approx(
                stats.multivariate_normal(mean, m.emission_covs[k]).logpdf(x[t]), rel=1e-10
            )


def test_robust_ar_log_likelihoods_match_student_t():
    m = ar(robust=True)
    x = RNG(5).normal(size=(30, 2))
    ll = m.log_likelihoods(x)
    for t in range(1, 30):
        for k in range(3):
            mean = m.emission_dynamics[k] @ x[t - 1] + m.emission_bias[k]
            ref = stats.multivariate_t(mean, m.emission_covs[k], df=m.nu).logpdf(x[t])
            assert ll[t, k] == pytest.approx(ref, rel=1e-10)


# ------------------------------------------------------------------ maximum likelihood M-steps
@pytest.mark.parametrize("cov", COV_TYPES)
def test_gaussian_mle_m_step_equals_weighted_estimates(cov):
    m = gaussian(cov, prior=None)
    x = RNG(6).normal(size=(400, 3)) * [1, 2, 3]
    w = RNG(7).dirichlet(np.ones(3), 400)
    m.m_step(m.sufficient_stats(x, w))
    means = (w.T @ x) / w.sum(0)[:, None]
    np.testing.assert_allclose(m.emission_means, means, rtol=1e-10)
    covs = np.stack([np.cov(x.T, aweights=w[:, k], bias=True) for k in range(3)])
    if cov == "diag":
        covs = np.einsum("kd,de->kde", np.diagonal(covs, axis1=1, axis2=2), np.eye(3))
    elif cov == "spherical":
        covs = np.trace(covs, axis1=1, axis2=2)[:, None, None] / 3 * np.eye(3)
    elif cov == "tied":
        covs = np.tile((covs * w.sum(0)[:, None, None]).sum(0) / w.sum(), (3, 1, 1))
    np.testing.assert_allclose(m.emission_covs, covs, rtol=1e-9, atol=1e-12)


def test_poisson_and_categorical_mle_m_steps():
    w = RNG(8).dirichlet(np.ones(3), 300)
    p = make("poisson", data_dim=2, prior=None)
    x = RNG(9).poisson(3.0, (300, 2)).astype(float)
    p.m_step(p.sufficient_stats(x, w))
    np.testing.assert_allclose(p.emission_rates, (w.T @ x) / w.sum(0)[:, None], rtol=1e-12)
    c = make("categorical", num_classes=4, prior=None)
    labels = RNG(10).integers(0, 4, 300)
    c.m_step(c.sufficient_stats(labels.astype(float), w))
    counts = np.stack([np.bincount(labels, weights=w[:, k], minlength=4) for k in range(3)])
    np.testing.assert_allclose(c.emission_probs, counts / counts.sum(1, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("noise", ["full", "diag", "tied"])
@pytest.mark.parametrize("L,bias", [(1, True), (2, False)])
def test_ar_mle_m_step_equals_weighted_least_squares(noise, L, bias):
    m = ar(noise, L=L, bias=bias, prior=None)
    x = RNG(11).normal(size=(500, 2)).cumsum(0) * 0.1
    w = RNG(12).dirichlet(np.ones(3), 500)
    m.m_step(m.sufficient_stats(x, w))
    Z = lagged_rows(x, L, bias)
    Y, X = Z[:, :2], Z[:, 2:]
    resid_covs = []
    for k in range(3):
        sw = np.sqrt(w[L:, k])[:, None]
        Wk = np.linalg.lstsq(X * sw, Y * sw, rcond=None)[0].T
        np.testing.assert_allclose(m.emission_dynamics[k], Wk[:, : 2 * L], rtol=1e-7, atol=1e-10)
        if bias:
            np.testing.assert_allclose(m.emission_bias[k], Wk[:, -1], rtol=1e-7, atol=1e-10)
        R = Y - X @ Wk.T
        resid_covs.append((R * w[L:, k : k + 1]).T @ R / w[L:, k].sum())
    covs = np.stack(resid_covs)
    if noise == "diag":
        covs = np.einsum("kd,de->kde", np.diagonal(covs, axis1=1, axis2=2), np.eye(2))
    if noise == "tied":
        covs = np.tile((covs * w[L:].sum(0)[:, None, None]).sum(0) / w[L:].sum(), (3, 1, 1))
    np.testing.assert_allclose(m.emission_covs, covs, rtol=1e-7, atol=1e-12)


# ------------------------------------------------------------------ masks and summability
@pytest.mark.parametrize(
    "name,kw",
    [
        ("gaussian", dict(data_dim=2)),
        ("poisson", dict(data_dim=2)),
        ("categorical", dict(num_classes=3)),
    ],
)
def test_iid_stats_are_summable_and_ignore_masked_frames(name, kw):
    m = make(name, **kw)
    rng = RNG(13)
    if name == "categorical":
        x = rng.integers(0, 3, 200).astype(float)
    else:
        x = rng.poisson(2.0, (200, 2)).astype(float)
    w = rng.dirichlet(np.ones(3), 200)
    whole = m.sufficient_stats(x, w)
    a, b = m.sufficient_stats(x[:80], w[:80]), m.sufficient_stats(x[80:], w[80:])
    for key in whole:
        np.testing.assert_allclose(a[key] + b[key], whole[key], rtol=1e-12, atol=1e-12)
    mask = rng.random(200) > 0.3
    xn = x.copy()
    xn[~mask] = np.nan
    masked = m.sufficient_stats(xn, w, mask)
    kept = m.sufficient_stats(x[mask], w[mask])
    for key in masked:
        np.testing.assert_allclose(masked[key], kept[key], rtol=1e-12, atol=1e-12)
    ll = m.log_likelihoods(xn, mask)
    assert np.all(np.isfinite(ll)) and np.all(ll[~mask] == 0)


def test_ar_stats_split_with_overlapping_lags_and_masks():
    m = ar(L=2)
    x = RNG(14).normal(size=(300, 2))
    w = RNG(15).dirichlet(np.ones(3), 300)
    whole = m.sufficient_stats(x, w)
    a = m.sufficient_stats(x[:120], w[:120])
    b = m.sufficient_stats(x[118:], w[118:])  # frames 120.. with their two lags
    for key in whole:
        np.testing.assert_allclose(a[key] + b[key], whole[key], rtol=1e-11, atol=1e-11)
    mask = np.ones(300, bool)
    mask[50] = False
    eff = m.effective_mask(x, mask)
    assert not eff[50] and not eff[51] and not eff[52] and eff[53]
    xn = x.copy()
    xn[50] = np.nan
    ll = m.log_likelihoods(xn, eff)
    assert np.all(np.isfinite(ll)) and np.all(ll[50:53] == 0)
    s = m.sufficient_stats(xn, w, eff)
    w2 = w.copy()
    w2[50:53] = 0
    ref = m.sufficient_stats(np.where(np.isnan(xn), 0, xn), w2)
    for key in s:
        np.testing.assert_allclose(s[key], ref[key], rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ MAP optimality
@pytest.mark.parametrize(
    "name,builder",
    [
        ("gaussian-full", lambda: gaussian("full")),
        ("gaussian-diag", lambda: gaussian("diag")),
        ("gaussian-spherical", lambda: gaussian("spherical")),
        ("gaussian-tied", lambda: gaussian("tied")),
        ("ar-full", lambda: ar("full")),
        ("ar-diag", lambda: ar("diag")),
        ("ar-tied", lambda: ar("tied")),
    ],
)
def test_map_m_step_maximises_expected_complete_objective(name, builder):
    m = builder()
    D = m.data_dim
    x = RNG(16).normal(size=(150, D))
    w = RNG(17).dirichlet(np.ones(3), 150)

    def objective():
        return float((w * m.log_likelihoods(x)).sum() + m.log_prior())

    m.m_step(m.sufficient_stats(x, w))
    best = objective()
    params = m.get_params()
    rng = RNG(18)
    for _ in range(20):
        perturbed = {k: v + 1e-3 * rng.normal(size=v.shape) for k, v in params.items()}
        perturbed["emission_covs"] = 0.5 * (
            perturbed["emission_covs"] + np.swapaxes(perturbed["emission_covs"], 1, 2)
        )
        if "tied" in name:
            perturbed["emission_covs"] = np.tile(perturbed["emission_covs"][0], (3, 1, 1))
        if "diag" in name:
            perturbed["emission_covs"] = np.einsum(
                "kd,de->kde", np.diagonal(perturbed["emission_covs"], axis1=1, axis2=2), np.eye(D)
            )
        if "spherical" in name:
            perturbed["emission_covs"] = (
                np.trace(perturbed["emission_covs"], axis1=1, axis2=2)[:, None, None]
                / D
                * np.eye(D)
            )
        m.set_params(perturbed)
        assert objective() <= best + 1e-9
    m.set_params(params)


# ------------------------------------------------------------------ recovery from 10^5 frames
@pytest.mark.parametrize("cov", COV_TYPES)
def test_gaussian_recovery(cov):
    truth = gaussian(cov, seed=20)
    z = states_path(100_000, 3, seed=21)
    x = truth.sample(z, RNG(22))
    fit = make("gaussian", data_dim=3, covariance_type=cov)
    fit.m_step(fit.sufficient_stats(x, np.eye(3)[z]))
    n = np.bincount(z)
    se_mean = np.sqrt(np.diagonal(truth.emission_covs, axis1=1, axis2=2) / n[:, None])
    assert np.all(np.abs(fit.emission_means - truth.emission_means) < 5 * se_mean)
    # covariance entries: standard error about sqrt(2 / n) * scale
    scale = np.abs(truth.emission_covs).max()
    assert np.abs(fit.emission_covs - truth.emission_covs).max() < 5 * np.sqrt(2 / n.min()) * scale


def test_poisson_and_categorical_recovery():
    z = states_path(100_000, 3, seed=23)
    pt = make("poisson", data_dim=4)
    pt.emission_rates = RNG(24).uniform(0.5, 10, (3, 4))
    x = pt.sample(z, RNG(25))
    pf = make("poisson", data_dim=4)
    pf.m_step(pf.sufficient_stats(x, np.eye(3)[z]))
    se = np.sqrt(pt.emission_rates / np.bincount(z)[:, None])
    assert np.all(np.abs(pf.emission_rates - pt.emission_rates) < 5 * se)
    ct = make("categorical", num_classes=6)
    ct.emission_probs = RNG(26).dirichlet(np.ones(6), 3)
    labels = ct.sample(z, RNG(27))
    cf = make("categorical", num_classes=6)
    cf.m_step(cf.sufficient_stats(labels.astype(float), np.eye(3)[z]))
    se = np.sqrt(ct.emission_probs * (1 - ct.emission_probs) / np.bincount(z)[:, None])
    assert np.all(np.abs(cf.emission_probs - ct.emission_probs) < 5 * se + 1e-4)


def test_ar_recovery_course_spiral():
    from ethogram.models.examples import course_spiral_arhmm

    course = course_spiral_arhmm(5)
    dynamics, bias, covs, P = (
        course.emission_dynamics,
        course.emission_bias,
        course.emission_covs,
        course.transition_matrix,
    )
    truth = course.observations
    rng = RNG(28)
    z = np.empty(100_000, int)
    z[0] = 0
    for t in range(1, len(z)):
        z[t] = rng.choice(5, p=P[z[t - 1]])
    x = truth.sample(z, rng)
    fit = make("autoregressive", 5, data_dim=2)
    fit.m_step(fit.sufficient_stats(x, np.eye(5)[z]))
    assert np.abs(fit.emission_dynamics - dynamics).max() < 0.02
    assert np.abs(fit.emission_bias - bias).max() < 0.02
    assert np.abs(fit.emission_covs - covs).max() < 1e-4
    eye = np.eye(2)
    for k in range(5):
        fp = np.linalg.solve(eye - fit.emission_dynamics[k], fit.emission_bias[k])
        assert np.linalg.norm(fp - np.linalg.solve(eye - dynamics[k], bias[k])) < 0.05


def t_noise_ar(T, seed):
    """One-state AR data with Student-t (df = 2) noise, and the true model."""
    truth = ar(K=1, seed=29)
    x = np.zeros((T, 2))
    noise = stats.multivariate_t(np.zeros(2), truth.emission_covs[0], df=2.0).rvs(
        T, random_state=seed
    )
    for t in range(1, T):
        x[t] = truth.emission_dynamics[0] @ x[t - 1] + truth.emission_bias[0] + noise[t]
    return truth, x


def test_robust_ar_beats_gaussian_ar_on_heavy_tailed_noise():
    T = 20000
    truth, x = t_noise_ar(T, seed=31)
    w = np.ones((T, 1))
    gauss = make("autoregressive", 1, data_dim=2)
    robust = make("robust_autoregressive", 1, data_dim=2, nu=2.0)
    gauss.m_step(gauss.sufficient_stats(x, w))
    robust.set_params(gauss.get_params())
    for _ in range(30):  # EM for the latent precisions
        robust.m_step(robust.sufficient_stats(x, w))
    err_g = np.abs(gauss.emission_dynamics - truth.emission_dynamics).max()
    err_r = np.abs(robust.emission_dynamics - truth.emission_dynamics).max()
    assert err_r < err_g
    assert robust.log_likelihoods(x).sum() > gauss.log_likelihoods(x).sum()


# ------------------------------------------------------------------ relabeling, counts, errors
@pytest.mark.parametrize("cov", COV_TYPES)
def test_permute(cov):
    m = gaussian(cov)
    before = m.get_params()
    m.permute([2, 0, 1])
    np.testing.assert_array_equal(m.emission_means, before["emission_means"][[2, 0, 1]])
    np.testing.assert_array_equal(m.emission_covs, before["emission_covs"][[2, 0, 1]])


def test_ar_permute_keeps_tied_noise():
    m = ar("tied")
    before = m.get_params()
    m.permute([1, 2, 0])
    np.testing.assert_array_equal(m.emission_dynamics, before["emission_dynamics"][[1, 2, 0]])
    np.testing.assert_array_equal(m.emission_covs, before["emission_covs"])


def test_data_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"data must have shape \(num_timesteps, 3\)"):
        gaussian("full").check_data(np.zeros((5, 2)))
    with pytest.raises(ValueError, match="inf"):
        gaussian("full").check_data(np.full((5, 3), np.inf))
    with pytest.raises(ValueError, match="whole-number counts"):
        make("poisson", data_dim=1).check_data([[0.5]])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        make("categorical", num_classes=3).check_data([0, 1, 3])
    with pytest.raises(ValueError, match="covariance_type"):
        make("gaussian", data_dim=2, covariance_type="banded")
    with pytest.raises(ValueError, match="covariance_type"):
        make("autoregressive", data_dim=2, covariance_type="isotropic")
    with pytest.raises(ValueError, match="num_lags"):
        make("autoregressive", data_dim=2, num_lags=0)
    with pytest.raises(ValueError, match="nu"):
        make("robust_autoregressive", data_dim=2, nu=-1)


def test_robust_ar_recovery_from_student_t_noise():
    T = 100_000
    truth, x = t_noise_ar(T, seed=32)
    robust = make("robust_autoregressive", 1, data_dim=2, nu=2.0)
    robust.emission_covs = np.eye(2)[None]
    w = np.ones((T, 1))
    for _ in range(50):
        robust.m_step(robust.sufficient_stats(x, w))
    # standard errors here are about 0.002 for dynamics and bias
    assert np.abs(robust.emission_dynamics - truth.emission_dynamics).max() < 0.01
    assert np.abs(robust.emission_bias - truth.emission_bias).max() < 0.01
    assert np.abs(robust.emission_covs - truth.emission_covs).max() < 0.005  # the t scale matrix
