"""Gaussian observation model, for every covariance type: log-likelihoods against SciPy
(also far from the origin), masking without NaN leaks, maximum-likelihood M-steps against
weighted estimates by hand, summable statistics, the MAP M-step as the argmax of the
expected complete-data objective, the prior against SciPy's inverse-Wishart / inverse-gamma
densities, parameter recovery from 10^5 frames, relabeling, initialisation, errors, and EM
monotonicity through the HMM."""

import numpy as np
import pytest
from scipy import stats

from ethogram.models.observations.gaussian import GaussianObservations

COV_TYPES = ["full", "diag", "tied", "spherical"]
RNG = np.random.default_rng


def random_covs(covariance_type, K, D, rng):
    """Random covariances (K, D, D) of the given type."""
    B = rng.normal(size=(K, D, D))
    full = np.einsum("kij,klj->kil", B, B) / D + 0.3 * np.eye(D)
    if covariance_type == "diag":
        return np.diagonal(full, axis1=1, axis2=2)[:, :, None] * np.eye(D)
    if covariance_type == "spherical":
        return rng.uniform(0.5, 2.0, K)[:, None, None] * np.eye(D)
    if covariance_type == "tied":
        return np.tile(full[0], (K, 1, 1))
    return full


def model(covariance_type, K=3, D=3, seed=0, **kw):
    rng = RNG(seed)
    m = GaussianObservations(K, D, covariance_type=covariance_type, **kw)
    m.emission_means = rng.normal(size=(K, D)) * 3
    m.emission_covs = random_covs(covariance_type, K, D, rng)
    return m


def project(covs, covariance_type, weights=None):
    """Constrain weighted sample covariances (K, D, D) to a covariance type."""
    K, D = covs.shape[:2]
    if covariance_type == "diag":
        return np.diagonal(covs, axis1=1, axis2=2)[:, :, None] * np.eye(D)
    if covariance_type == "spherical":
        return (np.trace(covs, axis1=1, axis2=2) / D)[:, None, None] * np.eye(D)
    if covariance_type == "tied":
        return np.tile(np.einsum("k,kij->ij", weights, covs) / weights.sum(), (K, 1, 1))
    return covs


def assert_structure(covs, covariance_type):
    """Covariances of a type have exactly its structure (and are symmetric)."""
    K, D = covs.shape[:2]
    np.testing.assert_array_equal(covs, np.swapaxes(covs, 1, 2))
    if covariance_type == "tied":
        np.testing.assert_array_equal(covs, np.tile(covs[0], (K, 1, 1)))
    elif covariance_type == "diag":
        np.testing.assert_array_equal(covs, project(covs, covariance_type))
    elif covariance_type == "spherical":  # exactly v_k I
        np.testing.assert_array_equal(covs, covs[:, :1, :1] * np.eye(D))


# ------------------------------------------------------------------ log-likelihoods
@pytest.mark.parametrize("cov", COV_TYPES)
@pytest.mark.parametrize("K,D,offset", [(3, 3, 0.0), (4, 1, 0.0), (2, 5, 500.0)])
def test_log_likelihoods_match_scipy(cov, K, D, offset):
    m = model(cov, K, D, seed=1)
    m.emission_means = m.emission_means + offset  # e.g. keypoints in pixels
    x = RNG(2).normal(size=(300, D)) * 2 + offset
    ll = m.log_likelihoods(x)
    assert ll.shape == (300, K) and ll.dtype == np.float64
    for k in range(K):
        ref = stats.multivariate_normal(m.emission_means[k], m.emission_covs[k]).logpdf(x)
        np.testing.assert_allclose(ll[:, k], ref, rtol=1e-12, atol=1e-10)


def test_log_likelihoods_beyond_one_block_of_frames():
    m = model("full", K=2, D=2, seed=3)
    x = RNG(4).normal(size=(20_000, 2))  # more than one 8192-frame GEMM block
    ll = m.log_likelihoods(x)
    ref = stats.multivariate_normal(m.emission_means[1], m.emission_covs[1]).logpdf(x)
    np.testing.assert_allclose(ll[:, 1], ref, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("cov", COV_TYPES)
def test_masked_frames_score_zero_and_nan_does_not_leak(cov):
    m = model(cov, seed=5)
    x = RNG(6).normal(size=(100, 3))
    mask = RNG(7).random(100) > 0.3
    xn = x.copy()
    xn[~mask] = np.nan
    xn[np.flatnonzero(~mask)[0], 1] = np.inf  # anything may sit in a masked frame
    ll = m.log_likelihoods(xn, mask)
    assert np.all(np.isfinite(ll))
    assert np.all(ll[~mask] == 0.0)
    np.testing.assert_allclose(ll[mask], m.log_likelihoods(x[mask]), rtol=1e-13)


def test_nan_in_an_observed_frame_is_an_error_not_a_zero():
    m = model("full", seed=8)
    x = RNG(9).normal(size=(10, 3))
    x[4, 2] = np.nan
    with pytest.raises(ValueError, match="data has NaN at frame 4"):
        m.log_likelihoods(x)
    with pytest.raises(ValueError, match="data has NaN at frame 4"):
        m.sufficient_stats(x, np.full((10, 3), 1 / 3))
    mask = np.ones(10, bool)
    mask[4] = False
    assert np.isfinite(m.log_likelihoods(x, mask)).all()


# ------------------------------------------------------------------ maximum likelihood
@pytest.mark.parametrize("cov", COV_TYPES)
def test_mle_m_step_equals_weighted_estimates_and_ignores_masked_frames(cov):
    K, D, T = 3, 3, 400
    m = model(cov, K, D, seed=10, prior=None)
    x = RNG(11).normal(size=(T, D)) * [1.0, 2.0, 3.0] + [5.0, 0.0, -1.0]
    w = RNG(12).dirichlet(np.ones(K), T)
    mask = RNG(13).random(T) > 0.2
    xn = x.copy()
    xn[~mask] = np.nan
    m.m_step(m.sufficient_stats(xn, w, mask))
    xo, wo = x[mask], w[mask]
    means = np.stack([np.average(xo, axis=0, weights=wo[:, k]) for k in range(K)])
    covs = np.stack([np.cov(xo, rowvar=False, aweights=wo[:, k], bias=True) for k in range(K)])
    np.testing.assert_allclose(m.emission_means, means, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(
        m.emission_covs, project(covs, cov, wo.sum(axis=0)), rtol=1e-10, atol=1e-12
    )
    assert m.log_prior() == 0.0


@pytest.mark.parametrize("cov", COV_TYPES)
def test_sufficient_stats_are_summable_across_sequences(cov):
    m = model(cov, seed=14)
    x = RNG(15).normal(size=(250, 3))
    w = RNG(16).dirichlet(np.ones(3), 250)
    mask = RNG(17).random(250) > 0.25
    whole = m.sufficient_stats(x, w, mask)
    a = m.sufficient_stats(x[:90], w[:90], mask[:90])
    b = m.sufficient_stats(x[90:], w[90:], mask[90:])
    assert set(whole) == {"n", "x", "xx", "center", "frames"}
    assert whole["frames"] == pytest.approx(mask.sum(), rel=1e-12)
    np.testing.assert_allclose(whole["center"], m.data_center * mask.sum(), rtol=1e-12)
    for key in whole:
        np.testing.assert_allclose(a[key] + b[key], whole[key], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(whole["n"], w[mask].sum(axis=0), rtol=1e-12)


# ------------------------------------------------------------------ MAP
def perturb(params, cov, scale, rng):
    """Random perturbation of (means, covs) that stays in the model's family."""
    K, D = params["emission_means"].shape
    means = params["emission_means"] + scale * rng.normal(size=(K, D))
    A = scale * rng.normal(size=(K, D, D))
    covs = params["emission_covs"] + 0.5 * (A + np.swapaxes(A, 1, 2))
    covs = project(covs, cov, np.ones(K)) if cov != "tied" else np.tile(covs[0], (K, 1, 1))
    return {"emission_means": means, "emission_covs": covs}


@pytest.mark.parametrize("cov", COV_TYPES)
def test_map_m_step_maximises_expected_complete_data_objective(cov):
    K, D, T = 3, 3, 200
    m = model(cov, K, D, seed=18)
    x = RNG(19).normal(size=(T, D)) * 0.5
    w = RNG(20).dirichlet(np.ones(K) * 0.3, T)

    def objective():
        return float((w * m.log_likelihoods(x)).sum() + m.log_prior())

    m.m_step(m.sufficient_stats(x, w))
    assert np.isfinite(m.log_prior()) and m.log_prior() != 0.0
    best, params = objective(), m.get_params()
    rng = RNG(21)
    for scale in (1e-4, 1e-2, 1e-1):
        for _ in range(10):
            trial = perturb(params, cov, scale, rng)
            if np.linalg.eigvalsh(trial["emission_covs"]).min() <= 0:
                continue
            m.set_params(trial)
            assert objective() < best
    m.set_params(params)
    # and the closed form of the module docstring; the default prior scale is 1e-4 times
    # the variance of each dimension of the data the model saw
    n = w.sum(axis=0)
    scatter = np.stack(
        [np.cov(x, rowvar=False, aweights=w[:, k], bias=True) * n[k] for k in range(K)]
    )
    psi = np.diag(1e-4 * x.var(axis=0))
    if cov == "tied":
        expected = np.tile((scatter.sum(0) + psi) / (n.sum() + 1), (K, 1, 1))
    else:
        expected = project((scatter + psi) / (n + 1)[:, None, None], cov)
    np.testing.assert_allclose(m.emission_covs, expected, rtol=1e-10)


@pytest.mark.parametrize("cov", ["full", "diag", "spherical"])
def test_empty_state_gets_the_prior_floor_and_stays_positive_definite(cov):
    m = model(cov, seed=22, prior_scale=1e-4)  # an absolute prior scale
    x = RNG(23).normal(size=(50, 3))
    w = np.zeros((50, 3))
    w[:, 0] = 1.0
    w[0] = [0.0, 1.0, 0.0]  # state 1 sees a single frame, state 2 none
    m.m_step(m.sufficient_stats(x, w))
    np.testing.assert_allclose(m.emission_covs[2], 1e-4 * np.eye(3), rtol=1e-12)
    np.testing.assert_allclose(m.emission_covs[1], 0.5e-4 * np.eye(3), rtol=1e-10, atol=1e-18)
    assert np.isfinite(m.log_likelihoods(x)).all() and np.isfinite(m.log_prior())


@pytest.mark.parametrize("cov", COV_TYPES)
def test_log_prior_is_scipy_inverse_wishart_or_gamma_up_to_a_constant(cov):
    D, n0, s0 = 3, 2 * 3 + 3, 0.5  # a proper prior (nu0 = D + 2) so that SciPy can evaluate it
    a = model(cov, K=2, D=D, seed=24, prior_count=n0, prior_scale=s0)
    b = model(cov, K=2, D=D, seed=25, prior_count=n0, prior_scale=s0)

    def scipy_log_prior(m):
        covs = m.emission_covs
        if cov == "full":
            return sum(
                stats.invwishart(df=n0 - D - 1, scale=n0 * s0 * np.eye(D)).logpdf(c) for c in covs
            )
        if cov == "tied":
            return stats.invwishart(df=n0 - D - 1, scale=n0 * s0 * np.eye(D)).logpdf(covs[0])
        var = np.diagonal(covs, axis1=1, axis2=2)
        if cov == "diag":  # inverse-gamma per dimension: shape n0/2 - 1, scale n0 s0 / 2
            return stats.invgamma(n0 / 2 - 1, scale=n0 * s0 / 2).logpdf(var).sum()
        return stats.invgamma(D * n0 / 2 - 1, scale=D * n0 * s0 / 2).logpdf(var[:, 0]).sum()

    diff = a.log_prior() - b.log_prior()
    assert diff != 0.0
    assert diff == pytest.approx(scipy_log_prior(a) - scipy_log_prior(b), rel=1e-10)


# ------------------------------------------------------------------ recovery
@pytest.mark.parametrize("cov", COV_TYPES)
def test_parameter_recovery_from_true_states(cov):
    """10^5 frames given a known path; every estimate within 5 standard errors.

    Mean entries: SE = sqrt(Sigma_dd / N_k). Covariance entries of a Gaussian sample:
    Var(S_ij) = (Sigma_ij^2 + Sigma_ii Sigma_jj) / N (2 Sigma_ii^2 / N on the diagonal);
    the spherical variance averages D dimensions (SE = v sqrt(2 / (N D))), the tied matrix
    pools all frames. With a few dozen entries, a 5-SE miss has probability ~1e-5.
    """
    K, D, T = 3, 3, 100_000
    truth = model(cov, K, D, seed=26)
    rng = RNG(27)
    z = rng.choice(K, size=T, p=[0.5, 0.3, 0.2])
    x = truth.sample(z, rng)
    fit = GaussianObservations(K, D, covariance_type=cov)
    fit.m_step(fit.sufficient_stats(x, np.eye(K)[z]))
    n = np.bincount(z, minlength=K).astype(float)
    S = truth.emission_covs
    var = np.diagonal(S, axis1=1, axis2=2)
    se_means = np.sqrt(var / n[:, None])
    assert np.all(np.abs(fit.emission_means - truth.emission_means) < 5 * se_means)
    pooled = n.sum() if cov == "tied" else n
    se_covs = np.sqrt(
        (S**2 + var[:, :, None] * var[:, None, :]) / np.broadcast_to(pooled, (K,))[:, None, None]
    )
    if cov == "spherical":
        se_covs = var[:, 0, None, None] * np.sqrt(2.0 / (n * D))[:, None, None] * np.eye(D)
    err = np.abs(fit.emission_covs - S)
    assert np.all(err <= 5 * se_covs + 1e-12)
    # the structure of the type is kept exactly
    assert_structure(fit.emission_covs, cov)


def test_sample_statistics_and_shape():
    m = model("full", K=2, D=2, seed=28)
    z = np.repeat([0, 1], 50_000)
    x = m.sample(z, RNG(29))
    assert x.shape == (100_000, 2)
    for k in range(2):
        c = np.cov(x[z == k], rowvar=False)
        assert (
            np.abs(c - m.emission_covs[k]).max()
            < 5 * np.sqrt(2 / 50_000) * np.abs(m.emission_covs[k]).max()
        )
    with pytest.raises(ValueError, match="states must lie in"):
        m.sample([0, 2], RNG(0))


# ------------------------------------------------------------------ relabeling, counting, init
@pytest.mark.parametrize("cov", COV_TYPES)
def test_permute_reorders_states_and_keeps_tied_covariance(cov):
    m = model(cov, seed=30)
    before = m.get_params()
    x = RNG(31).normal(size=(20, 3))
    ll = m.log_likelihoods(x)
    m.permute([2, 0, 1])
    np.testing.assert_array_equal(m.emission_means, before["emission_means"][[2, 0, 1]])
    np.testing.assert_array_equal(m.emission_covs, before["emission_covs"][[2, 0, 1]])
    np.testing.assert_allclose(m.log_likelihoods(x), ll[:, [2, 0, 1]], rtol=1e-13)
    if cov == "tied":
        assert m.state_param_names() == ("emission_means",)


@pytest.mark.parametrize(
    "cov,count",
    [
        ("full", 3 * 2 + 3 * 3),
        ("diag", 3 * 2 + 3 * 2),
        ("tied", 3 * 2 + 3),
        ("spherical", 3 * 2 + 3),
    ],
)
def test_num_parameters(cov, count):
    assert GaussianObservations(3, 2, covariance_type=cov).num_parameters() == count


@pytest.mark.parametrize("cov", COV_TYPES)
def test_kmeans_initialisation_finds_separated_clusters_and_skips_masked_frames(cov):
    truth = model(cov, K=3, D=2, seed=32)
    truth.emission_means = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    rng = RNG(33)
    z = rng.integers(0, 3, 3000)
    x = truth.sample(z, rng)
    mask = rng.random(3000) > 0.1
    x[~mask] = np.nan
    m = GaussianObservations(3, 2, covariance_type=cov)
    m.initialize([x[:1000], x[1000:]], [mask[:1000], mask[1000:]], RNG(34))
    order = np.argsort(m.emission_means[:, 0] + 2 * m.emission_means[:, 1])
    assert np.abs(m.emission_means[order] - truth.emission_means).max() < 0.3
    # per-cluster covariances (not the global one, which the 20-unit separation would inflate)
    assert (
        np.abs(m.emission_covs[order] - truth.emission_covs).max()
        < 0.25 * np.abs(truth.emission_covs).max()
    )
    assert np.all(np.linalg.eigvalsh(m.emission_covs) > 0)
    assert_structure(m.emission_covs, cov)
    assert np.isfinite(m.log_likelihoods(x, mask)).all()


def test_random_initialisation_uses_observed_frames_and_global_covariance():
    x = RNG(35).normal(size=(500, 2)) * [1.0, 3.0]
    m = GaussianObservations(4, 2)
    m.initialize([x], [None], RNG(36), method="random")
    assert all(any(np.array_equal(mu, row) for row in x) for mu in m.emission_means)
    np.testing.assert_allclose(
        m.emission_covs, np.tile(np.cov(x, rowvar=False), (4, 1, 1)), rtol=1e-4
    )


# ------------------------------------------------------------------ errors
def test_errors_name_the_argument():
    m = GaussianObservations(2, 3)
    with pytest.raises(ValueError, match=r"data must have shape \(num_timesteps, 3\)"):
        m.check_data(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"data must have shape"):
        m.check_data(np.zeros(5))
    with pytest.raises(ValueError, match=r"data must have shape \(num_timesteps, 3\)"):
        m.log_likelihoods(np.zeros((5, 3, 1)))
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianObservations(2, 3, covariance_type="banded")
    with pytest.raises(ValueError, match="prior"):
        GaussianObservations(2, 3, prior="strong")
    with pytest.raises(ValueError, match="prior_count"):
        GaussianObservations(2, 3, prior_count=0.0)
    with pytest.raises(ValueError, match="data_dim"):
        GaussianObservations(2, 0)
    with pytest.raises(ValueError, match="method"):
        m.initialize([np.zeros((10, 3))], [None], RNG(0), method="spectral")
    with pytest.raises(ValueError, match="mask must have shape"):
        m.log_likelihoods(np.zeros((5, 3)), np.ones(4, bool))
    with pytest.raises(ValueError, match="expected_states"):
        m.sufficient_stats(np.zeros((5, 3)), np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"stats\['xx'\] must have shape"):
        m.m_step({"n": np.ones(2), "x": np.ones((2, 3)), "xx": np.ones((3, 3))})
    d = GaussianObservations(2, 3, covariance_type="diag")
    with pytest.raises(ValueError, match="emission_covs must be diagonal"):  # refused where written
        d.emission_covs = np.tile(np.eye(3) + 0.1, (2, 1, 1))
    with pytest.raises(ValueError, match=r"emission_covs\[0\] must be positive definite"):
        m.emission_covs = -np.tile(np.eye(3), (2, 1, 1))


# ------------------------------------------------------------------ EM through the HMM
@pytest.mark.parametrize("cov", COV_TYPES)
def test_em_is_monotone_and_its_objective_is_marginal_ll_plus_log_prior(cov):
    from ethogram.inference import forward_backward
    from ethogram.models import HMM

    truth = model(cov, K=3, D=2, seed=37)
    rng = RNG(38)
    z = np.repeat(rng.integers(0, 3, 60), 25)
    x = truth.sample(z, rng)
    x[100:110] = np.nan  # masked automatically by the HMM
    hmm = HMM(3, "gaussian", dict(data_dim=2, covariance_type=cov))
    res = hmm.fit([x[:800], x[800:]], num_iters=40, tol=0.0, seed=39, progress=False)
    obj = res.objectives
    assert np.all(np.diff(obj) >= -1e-9 * np.abs(obj[:-1]))
    assert obj[-1] > obj[0]
    lls = [
        hmm.observations.log_likelihoods(d, ~np.isnan(d).any(axis=1)) for d in (x[:800], x[800:])
    ]
    marginal = sum(
        p.marginal_ll for p in forward_backward(hmm.initial_probs, hmm.transition_matrix, lls)
    )
    assert obj[-1] == pytest.approx(marginal + hmm.log_prior(), rel=1e-10)
