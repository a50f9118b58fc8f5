"""Results that do not depend on the data's units: fitting ``a * x + b`` is fitting ``x``.

Real recordings come in pixels, millimetres, metres with UTM offsets near 1e6, or normalised
units with tiny spreads. For every continuous observation model (Gaussian of each covariance
type, AR of each noise type, robust AR) a default fit of ``a * x + b`` must give the same
labels as the fit of ``x``, parameters transformed accordingly (means ``a mu + b``,
covariances ``a^2 Sigma``, AR dynamics unchanged and biases ``a b_k + (I - sum_l A_kl) b``)
and the same marginal log-likelihood up to the Jacobian ``-N D log|a|`` (N the frames the
model scores). Scales run from 1e-7 to 1e6 and offsets up to 1e7 (not both at once: 1e7 +
1e-7 x cannot be stored in float64 at all). Poisson counts and categorical labels have no
units or offsets, so the property does not apply to them.
"""

import numpy as np
import pytest

from ethogram import HMM

RNG = np.random.default_rng
TRANSFORMS = [(1e-7, 0.0), (1e-3, 0.0), (1e6, 0.0), (1.0, 1e7), (1e3, 5e5), (2.5, -3e6)]


def gaussian_data():
    rng = RNG(0)
    z = np.repeat([0, 1, 2, 0, 2, 1], 100)
    means = np.array([[-4.0, 0.0], [0.0, 3.0], [4.0, 0.0]])
    return means[z] + rng.normal(size=(z.size, 2)) * np.array([1.0, 0.5])


def ar_data():
    rng = RNG(1)
    T, D = 900, 2
    z = np.repeat([0, 1, 0, 1, 0, 1], 150)
    th = (0.1, -0.3)
    x = np.zeros((T, D))
    for t in range(1, T):
        c, s = np.cos(th[z[t]]), np.sin(th[z[t]])
        A = 0.95 * np.array([[c, -s], [s, c]])
        x[t] = (
            A @ x[t - 1]
            + (1.0 if z[t] else -1.0) * np.array([0.2, 0.1])
            + 0.1 * rng.standard_normal(D)
        )
    return x


CASES = [
    ("gaussian", dict(covariance_type="full"), gaussian_data),
    ("gaussian", dict(covariance_type="diag"), gaussian_data),
    ("gaussian", dict(covariance_type="tied"), gaussian_data),
    ("gaussian", dict(covariance_type="spherical"), gaussian_data),
    ("autoregressive", dict(covariance_type="full"), ar_data),
    ("autoregressive", dict(covariance_type="diag"), ar_data),
    ("autoregressive", dict(covariance_type="tied"), ar_data),
    ("robust_autoregressive", dict(covariance_type="full"), ar_data),
]


def fit(name, kw, x, K):
    m = HMM(K, name, dict(data_dim=x.shape[1], **kw))
    m.fit(x, num_iters=60, seed=3)
    return m


def scored_frames(m, x):
    return x.shape[0] - (m.observations.num_lags if hasattr(m.observations, "num_lags") else 0)


@pytest.mark.parametrize("a,b", TRANSFORMS)
@pytest.mark.parametrize(
    "name,kw,data", CASES, ids=[f"{c[0]}-{list(c[1].values())[0]}" for c in CASES]
)
def test_fit_of_transformed_data_is_the_transformed_fit(name, kw, data, a, b):
    x = data()
    K = 3 if name == "gaussian" else 2
    ref = fit(name, kw, x, K)
    y = a * x + b
    got = fit(name, kw, y, K)
    # the same segmentation; state numbers may differ when two short starts reach the same
    # optimum in different orders (their objectives then tie up to round-off)
    z_ref, z_got = ref.predict(x), got.predict(y)
    order = np.array([np.bincount(z_ref[z_got == k], minlength=K).argmax() for k in range(K)])
    assert sorted(order) == list(range(K))
    ref.permute(order)
    np.testing.assert_array_equal(got.predict(y), ref.predict(x))
    p, q = ref.get_params(), got.get_params()
    np.testing.assert_allclose(q["transition_matrix"], p["transition_matrix"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        q["emission_covs"],
        a**2 * p["emission_covs"],
        rtol=1e-6,
        atol=1e-6 * a**2 * np.abs(p["emission_covs"]).max(),
    )
    if name == "gaussian":
        np.testing.assert_allclose(
            q["emission_means"], a * p["emission_means"] + b, rtol=1e-9, atol=1e-6 * abs(a)
        )
    else:
        np.testing.assert_allclose(
            q["emission_dynamics"], p["emission_dynamics"], rtol=1e-6, atol=1e-7
        )
        D = x.shape[1]
        Asum = p["emission_dynamics"].reshape(K, D, -1, D).sum(axis=2)
        want = a * p["emission_bias"] + np.einsum("kij,j->ki", np.eye(D) - Asum, np.full(D, b))
        np.testing.assert_allclose(
            q["emission_bias"], want, rtol=1e-6, atol=1e-6 * abs(a) + 1e-12 * abs(b)
        )
    jacobian = -scored_frames(got, x) * x.shape[1] * np.log(abs(a))
    ll_x, ll_y = ref.score(x), got.score(y)
    assert ll_y == pytest.approx(ll_x + jacobian, abs=1e-7 * (abs(ll_x) + abs(jacobian)))


def test_prior_and_reference_follow_the_data_and_travel_with_the_parameters():
    """The default prior is relative: its scale is the data's variance, stored in get_params."""
    x = 1e-7 * gaussian_data() + 5.0
    m = HMM(3, "gaussian", dict(data_dim=2))
    m.fit(x, num_iters=30, seed=0)
    params = m.get_params()
    np.testing.assert_allclose(params["data_center"], x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(params["data_scale"], x.var(axis=0), rtol=1e-9)
    # fitted spreads are the data's (the absolute 1e-4 prior used to set them ~3000x too wide)
    z = m.predict(x)
    for k in range(3):
        sd = x[z == k].std(axis=0)
        np.testing.assert_allclose(np.sqrt(np.diag(params["emission_covs"][k])), sd, rtol=0.02)
    clone = HMM(3, "gaussian", dict(data_dim=2))
    clone.set_params(params)
    assert clone.log_prior() == pytest.approx(m.log_prior(), rel=1e-12)


@pytest.mark.parametrize("cov", ["full", "diag", "tied", "spherical"])
def test_ml_m_step_on_a_spread_of_1e7_is_positive_definite_and_exact(cov):
    x = 5.0 + 1e-7 * RNG(14).standard_normal((1000, 3))
    obs = HMM(1, "gaussian", dict(data_dim=3, prior=None, covariance_type=cov)).observations
    obs.m_step(obs.sufficient_stats(x, np.ones((1000, 1))))
    S = np.cov(x, rowvar=False, bias=True)
    want = {
        "full": S,
        "tied": S,
        "diag": np.diag(np.diag(S)),
        "spherical": np.trace(S) / 3 * np.eye(3),
    }[cov]
    assert np.linalg.eigvalsh(obs.emission_covs[0]).min() > 0
    np.testing.assert_allclose(obs.emission_covs[0], want, rtol=1e-6, atol=1e-6 * np.abs(S).max())
    np.testing.assert_allclose(obs.emission_means[0], x.mean(axis=0), rtol=1e-13)


@pytest.mark.parametrize("a,b", [(1.0, 1e7), (1e-7, 5.0), (1e6, 0.0)])
@pytest.mark.parametrize("noise", ["full", "diag", "tied"])
def test_ar_ml_m_step_on_transformed_data_is_least_squares(noise, a, b):
    x = ar_data()
    obs = HMM(1, "autoregressive", dict(data_dim=2, prior=None, covariance_type=noise)).observations
    obs.m_step(obs.sufficient_stats(x, np.ones((x.shape[0], 1))))
    ref = obs.get_params()
    big = HMM(1, "autoregressive", dict(data_dim=2, prior=None, covariance_type=noise)).observations
    y = a * x + b
    big.m_step(big.sufficient_stats(y, np.ones((x.shape[0], 1))))
    assert np.linalg.eigvalsh(big.emission_covs[0]).min() > 0
    np.testing.assert_allclose(big.emission_covs, a**2 * ref["emission_covs"], rtol=1e-6)
    np.testing.assert_allclose(
        big.emission_dynamics, ref["emission_dynamics"], rtol=1e-6, atol=1e-9
    )


def test_ar_first_frames_unscored_by_default_and_course_convention_on_request():
    x = ar_data() + 1e6
    m = HMM(2, "autoregressive", dict(data_dim=2, num_lags=2))
    ll = m.log_likelihoods(x)
    np.testing.assert_array_equal(ll[:2], 0.0)  # conditioned on: no score, no statistics
    assert m.observations.effective_mask(x, None)[:2].tolist() == [False, False]
    stats = m.observations.sufficient_stats(x, np.full((x.shape[0], 2), 0.5), None)
    assert stats["n"].sum() == pytest.approx(x.shape[0] - 2, rel=1e-12)
    course = HMM(2, "autoregressive", dict(data_dim=2, num_lags=2, first_frames="standard_normal"))
    head = course.log_likelihoods(x)[:2]
    want = -0.5 * (2 * np.log(2 * np.pi) + (x[:2] ** 2).sum(axis=1))  # N(0, I) of the raw frames
    np.testing.assert_allclose(head, np.repeat(want[:, None], 2, axis=1), rtol=1e-12)
    from ethogram.models.families import AutoregressiveHMM

    assert AutoregressiveHMM(2, 2).observations.first_frames == "standard_normal"


@pytest.mark.parametrize("name", ["gaussian", "autoregressive"])
def test_statistics_about_another_reference_point_are_refused(name):
    """Statistics are accumulated about the model's data_center; an M-step refuses ones
    accumulated about another model's (they would silently shift every mean)."""
    x = ar_data()
    a = HMM(2, name, dict(data_dim=2)).observations
    b = HMM(2, name, dict(data_dim=2)).observations
    w = np.full((x.shape[0], 2), 0.5)
    a.initialize([x], [None], RNG(0))
    b.initialize([x + 1e3], [None], RNG(0))
    with pytest.raises(ValueError, match="another reference point"):
        b.m_step(a.sufficient_stats(x, w))
    fresh = HMM(2, name, dict(data_dim=2)).observations  # a model without one adopts it
    if name == "gaussian":
        fresh.m_step(a.sufficient_stats(x, w))
        np.testing.assert_allclose(
            fresh.emission_means, np.tile(x.mean(axis=0), (2, 1)), rtol=1e-12
        )
    else:
        with pytest.raises(ValueError, match="does not have"):
            fresh.m_step(a.sufficient_stats(x, w))
