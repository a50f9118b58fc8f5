"""Keypoint-SLDS geometry and conditionals (``ethogram.models.gibbs.keypoints``), checked
independently.

The centring matrix satisfies its identities and equals minus scipy's Helmert matrix transposed.
The pose sampler's inputs reproduce the model exactly (``egocentric(Yhat) = H x + d``). The
heading's von Mises conditional equals, on a fine grid, the normalised product of the keypoint
likelihoods as a function of the angle (2-D and 3-D), and 20000 draws pass a KS test against
that numerically integrated law. The noise scale and noise variance conditionals are
proportional to prior x likelihood on a grid (scipy densities), and their draws pass KS tests
against scipy's inverse gamma; jax-moseq's "+3" on 2-D data is a different law that the same
test rejects. The confidence map, and the centroid pseudo-observations (the product of the
keypoint likelihoods in ``v``), are checked against their closed forms.
"""

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.linalg import helmert

from ethogram.models import gibbs as G


@pytest.mark.parametrize("K", [2, 3, 4, 7])
def test_centering_matrix(K):
    Gm = G.centering_matrix(K)
    assert Gm.shape == (K, K - 1)
    np.testing.assert_allclose(Gm.T @ Gm, np.eye(K - 1), atol=1e-14)
    np.testing.assert_allclose(Gm @ Gm.T, np.eye(K) - np.ones((K, K)) / K, atol=1e-14)
    np.testing.assert_allclose(Gm, -helmert(K).T, atol=1e-15)
    j = K - 2
    assert Gm[j + 1, j] == pytest.approx(np.sqrt((j + 1) / (j + 2)))
    assert Gm[0, j] == pytest.approx(-1 / np.sqrt((j + 1) * (j + 2)))


def test_rotation():
    p = np.array([[[1.0, 0.0, 5.0]]])
    np.testing.assert_allclose(G.rotate(p, np.array([np.pi / 2])), [[[0.0, 1.0, 5.0]]], atol=1e-15)
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(6, 4, 2))
    h = rng.uniform(-np.pi, np.pi, 6)
    np.testing.assert_allclose(G.rotate(G.rotate(pts, h), -h), pts, atol=1e-14)


def _pose_model(seed, T=5, K=4, D=2, M=3):
    rng = np.random.default_rng(seed)
    C = rng.normal(size=((K - 1) * D, M)) * 3
    d = rng.normal(size=(K - 1) * D) * 5
    x = rng.normal(size=(T, M))
    v = rng.normal(size=(T, D)) * 20
    h = rng.uniform(-np.pi, np.pi, T)
    return C, d, x, v, h


@pytest.mark.parametrize("D", [2, 3])
def test_emission_inputs_reproduce_the_model(D):
    C, d, x, v, h = _pose_model(1, D=D)
    K = C.shape[0] // D + 1
    Yhat = G.estimate_keypoints(x, v, h, C, d)
    assert Yhat.shape == (5, K, D)
    np.testing.assert_allclose(Yhat.mean(axis=1), v, atol=1e-12)  # zero-mean pose
    H, off = G.slds_emission(C, d, K, D)
    ego = G.egocentric(Yhat, v, h).reshape(5, K * D)
    np.testing.assert_allclose(ego, x @ H.T + off, atol=1e-11)
    np.testing.assert_allclose(G.aligned_pose(x, C, d, K), G.egocentric(Yhat, v, h), atol=1e-11)


def _heading_logdensity(grid, Y, v, aligned, var):
    """log p(h) + const = sum_k -||Y_k - v - R(h) ybar_k||^2 / (2 var_k) on a grid of angles."""
    out = []
    for h in grid:
        pred = G.rotate(aligned[None], np.array([h]))[0] + v
        out.append(-0.5 * np.sum(np.sum((Y - pred) ** 2, axis=-1) / var))
    out = np.array(out)
    return out - out.max()


@pytest.mark.parametrize("D", [2, 3])
def test_heading_conditional_matches_numerical_integration(D):
    rng = np.random.default_rng(2 + D)
    K = 5
    aligned = rng.normal(size=(K, D)) * 0.8
    aligned -= aligned.mean(0)
    v = rng.normal(size=D)
    Y = G.rotate(aligned[None], np.array([1.1]))[0] + v + rng.normal(size=(K, D)) * 0.7
    var = rng.uniform(0.5, 2.0, K)
    kc, ks = G.heading_concentrations(aligned[None], (Y - v)[None], var[None])
    grid = np.linspace(-np.pi, np.pi, 20001)
    logp = _heading_logdensity(grid, Y, v, aligned, var)
    dens = np.exp(logp) / integrate.trapezoid(np.exp(logp), grid)
    vm = stats.vonmises(kappa=np.hypot(kc[0], ks[0]), loc=np.arctan2(ks[0], kc[0]))
    np.testing.assert_allclose(dens, vm.pdf(grid), rtol=1e-6, atol=1e-9)
    assert 1.0 < np.hypot(kc[0], ks[0]) < 50  # an informative but not degenerate case
    cdf = integrate.cumulative_trapezoid(dens, grid, initial=0.0)
    draws = G.sample_heading(np.random.default_rng(7), np.full(20000, kc[0]), np.full(20000, ks[0]))
    assert np.all((draws > -np.pi) & (draws <= np.pi))
    assert stats.kstest(draws, lambda a: np.interp(a, grid, cdf)).pvalue > 1e-3


def test_heading_without_information_is_uniform():
    draws = G.sample_heading(np.random.default_rng(8), np.zeros(20000), np.zeros(20000))
    assert stats.kstest(draws, stats.uniform(-np.pi, 2 * np.pi).cdf).pvalue > 1e-3


def _assert_proportional(grid, prior_logpdf, loglik, law):
    """prior x likelihood is proportional to the law's density: the log ratio is constant."""
    ratio = prior_logpdf(grid) + loglik(grid) - law.logpdf(grid)
    np.testing.assert_allclose(ratio, ratio[0], rtol=0, atol=1e-9)


@pytest.mark.parametrize("D", [2, 3])
def test_noise_scale_conditional(D):
    rng = np.random.default_rng(10 + D)
    nu, s0, sig = 5.0, 3.0, 1.7
    r = rng.normal(size=D) * 2
    e = np.sum(r**2)
    grid = np.geomspace(1e-2, 1e3, 2001)
    prior = stats.invgamma(nu / 2, scale=nu * s0 / 2)
    law = stats.invgamma((nu + D) / 2, scale=(nu * s0 + e / sig) / 2)
    _assert_proportional(
        grid, prior.logpdf, lambda s: stats.norm(0, np.sqrt(s[:, None] * sig)).logpdf(r).sum(1), law
    )
    draws = G.sample_noise_scales(np.random.default_rng(1), np.full((200, 100), e), s0, nu, D, sig)
    assert draws.shape == (200, 100)
    assert stats.kstest(draws.ravel(), law.cdf).pvalue > 1e-3


def test_moseq_plus_three_is_another_law_on_2d():
    nu, s0, e = 5.0, 3.0, 4.0
    quirk = G.sample_noise_scales(
        np.random.default_rng(2), np.full(20000, e), s0, nu, 2, added_dof=3
    )
    assert stats.kstest(quirk, stats.invgamma(4.0, scale=(nu * s0 + e) / 2).cdf).pvalue > 1e-3
    assert stats.kstest(quirk, stats.invgamma(3.5, scale=(nu * s0 + e) / 2).cdf).pvalue < 1e-6


@pytest.mark.parametrize("D", [2, 3])
def test_noise_variance_conditional(D):
    rng = np.random.default_rng(20 + D)
    T = 6
    nu, s2_0 = 4.0, 0.5
    s = rng.uniform(0.5, 2.0, T)
    mask = np.array([1, 1, 0, 1, 1, 1], bool)
    r = rng.normal(size=(T, D))
    e = np.sum(r**2, axis=1)
    grid = np.geomspace(1e-2, 1e2, 2001)
    prior = stats.invgamma(nu / 2, scale=nu * s2_0 / 2)

    def loglik(sig):
        sd = np.sqrt(sig[:, None, None] * s[None, mask, None])
        return stats.norm(0, sd).logpdf(r[None, mask]).sum(axis=(1, 2))

    n = mask.sum()
    law = stats.invgamma((nu + D * n) / 2, scale=(nu * s2_0 + np.sum(e[mask] / s[mask])) / 2)
    _assert_proportional(grid, prior.logpdf, loglik, law)
    draws = np.concatenate(
        [
            G.sample_noise_variances(
                np.random.default_rng(k),
                e[:, None].repeat(50, 1),
                s[:, None].repeat(50, 1),
                nu,
                s2_0,
                D,
                mask,
            )
            for k in range(400)
        ]
    )
    assert stats.kstest(draws, law.cdf).pvalue > 1e-3


def test_noise_prior_from_confidence():
    conf = np.array([[1.0, 0.0, 0.5, np.nan, -0.2]])
    s0 = G.noise_prior_from_confidence(conf)
    c = np.array([1.001, 0.001, 0.501, 0.001, 0.001])
    np.testing.assert_allclose(s0[0], 10 ** (2 * (-0.5 * np.log10(c + 1e-6) + 0.25)), rtol=1e-14)
    assert s0[0, 0] == pytest.approx(np.sqrt(10), rel=1e-3)  # "about 3.16 at conf = 1"
    assert s0[0, 1] == pytest.approx(np.sqrt(10) / 1e-3, rel=1e-2)  # "about 3.16e3 at conf = 0"
    np.testing.assert_allclose(
        G.noise_prior_from_confidence(conf, -1.0, 0.5, 0.0)[0, 2],
        (10**0.5 * (0.5 + 1e-6) ** -1.0) ** 2,
        rtol=1e-12,
    )


@pytest.mark.parametrize("D", [2, 3])
def test_centroid_pseudo_observation_is_the_product_of_keypoint_likelihoods(D):
    rng = np.random.default_rng(30)
    T, K = 3, 5
    Y = rng.normal(size=(T, K, D)) * 4
    pose = rng.normal(size=(T, K, D))
    var = rng.uniform(0.3, 3, (T, K))
    mu, g = G.centroid_pseudo_observations(Y, pose, var)
    diffs = []
    for _ in range(3):
        v = rng.normal(size=(T, D)) * 3
        full = stats.norm(v[:, None, :], np.sqrt(var)[..., None]).logpdf(Y - pose).sum(axis=(1, 2))
        pseudo = stats.norm(v, np.sqrt(g)[:, None]).logpdf(mu).sum(axis=1)
        diffs.append(full - pseudo)
    np.testing.assert_allclose(diffs, np.broadcast_to(diffs[0], (3, T)), atol=1e-9)
    np.testing.assert_allclose(g, 1 / (1 / var).sum(1))


def test_bad_inputs():
    with pytest.raises(ValueError, match="num_keypoints"):
        G.centering_matrix(1)
    with pytest.raises(ValueError, match="num_dims"):
        G.sample_noise_scales(np.random.default_rng(0), np.ones((2, 2)), 1.0, 5.0, 4)
