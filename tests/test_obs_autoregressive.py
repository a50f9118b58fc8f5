"""The autoregressive observation model on its own: log-likelihoods against SciPy's
multivariate normal, maximum-likelihood M-steps against weighted least squares by hand,
masks and NaN, statistics summable over sequences (lags never cross a boundary), the skipped
negligible rows of the statistics, the MAP objective and its prior, sampling, relabeling and
errors (the course spiral: tests/test_obs_autoregressive_spiral.py)."""

import numpy as np
import pytest
from scipy import stats

from ethogram.models.observations import get_observation_class, sum_observation_stats
from ethogram.models.observations._ar_linalg import lagged_rows

RNG = np.random.default_rng
NOISES = ["full", "diag", "tied"]
LAGS_BIAS = [(1, True), (1, False), (3, True), (3, False)]


def make(
    K=3,
    D=3,
    L=1,
    bias=True,
    covariance_type="full",
    prior="default",
    seed=0,
    name="autoregressive",
    first_frames="standard_normal",
    **kw,
):
    """A model with random stable dynamics, biases and covariances of the given covariance_type type
    (the course's N(0, I) first frames unless said otherwise)."""
    rng = RNG(seed)
    m = get_observation_class(name)(
        K,
        data_dim=D,
        num_lags=L,
        bias=bias,
        covariance_type=covariance_type,
        prior=prior,
        first_frames=first_frames,
        **kw,
    )
    dyn = np.zeros((K, D, L * D))
    for k in range(K):
        Q, _ = np.linalg.qr(rng.normal(size=(D, D)))
        dyn[k, :, :D] = 0.7 * Q
        for lag in range(1, L):
            dyn[k, :, lag * D : (lag + 1) * D] = 0.1 / lag * rng.normal(size=(D, D)) / np.sqrt(D)
    m.emission_dynamics = dyn
    if bias:
        m.emission_bias = rng.normal(size=(K, D))
    B = rng.normal(size=(K, D, D))
    covs = 0.2 * np.einsum("kij,klj->kil", B, B) / D + 0.05 * np.eye(D)
    if covariance_type == "diag":
        covs = np.einsum("kd,de->kde", np.diagonal(covs, axis1=1, axis2=2), np.eye(D))
    elif covariance_type == "tied":
        covs = np.tile(covs[0], (K, 1, 1))
    m.emission_covs = covs
    return m


def predictions(m, x):
    """Means ``sum_l A_kl x_{t-l} + b_k`` for t >= L, shape (T - L, K, D), by explicit loops."""
    L, T = m.num_lags, x.shape[0]
    out = np.empty((T - L, m.num_states, m.data_dim))
    for t in range(L, T):
        for k in range(m.num_states):
            mean = m.emission_bias[k].copy()
            for lag in range(1, L + 1):
                mean += (
                    m.emission_dynamics[k][:, (lag - 1) * m.data_dim : lag * m.data_dim]
                    @ x[t - lag]
                )
            out[t - L, k] = mean
    return out


def regressors(x, L, bias):
    """Rows ``u_t = [x_{t-1}, ..., x_{t-L}, 1]`` for t >= L, built independently of the library."""
    cols = [x[L - lag : x.shape[0] - lag] for lag in range(1, L + 1)]
    if bias:
        cols.append(np.ones((x.shape[0] - L, 1)))
    return np.hstack(cols)


# ------------------------------------------------------------------ log-likelihoods
@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("L,bias", LAGS_BIAS)
def test_log_likelihoods_match_scipy(noise, L, bias):
    m = make(L=L, bias=bias, covariance_type=noise)
    x = RNG(1).normal(size=(80, 3))
    ll = m.log_likelihoods(x)
    assert ll.shape == (80, 3)
    head = stats.multivariate_normal(np.zeros(3), np.eye(3)).logpdf(x[:L])
    np.testing.assert_allclose(ll[:L], np.reshape(head, (L, 1)) * np.ones((1, 3)), rtol=1e-12)
    means = predictions(m, x)
    for k in range(3):
        ref = [
            stats.multivariate_normal(means[t, k], m.emission_covs[k]).logpdf(x[L + t])
            for t in range(80 - L)
        ]
        np.testing.assert_allclose(ll[L:, k], ref, rtol=1e-10)


def test_effective_mask_requires_the_frame_and_its_lags():
    m = make(L=2)
    x = RNG(0).normal(size=(9, 3))
    mask = np.array([1, 1, 1, 0, 1, 1, 1, 1, 1], bool)
    np.testing.assert_array_equal(m.effective_mask(x, mask), [1, 1, 1, 0, 0, 0, 1, 1, 1])
    first = np.array([0, 1, 1, 1, 1, 1, 1, 1, 1], bool)  # frames < L need only themselves
    np.testing.assert_array_equal(m.effective_mask(x, first), [0, 1, 0, 1, 1, 1, 1, 1, 1])
    assert m.effective_mask(x, None) is None and m.effective_mask(x, np.ones(9, bool)) is None
    x[5] = np.nan  # NaN rows count as unobserved
    np.testing.assert_array_equal(m.effective_mask(x, None), [1, 1, 1, 1, 1, 0, 0, 0, 1])


@pytest.mark.parametrize("L", [1, 3])
def test_masked_frames_score_zero_and_nan_does_not_leak(L):
    m = make(L=L)
    x = RNG(2).normal(size=(60, 3))
    raw = np.ones(60, bool)
    raw[[0, 10, 11, 30, 59]] = False
    dirty = x.copy()
    dirty[~raw] = np.nan
    eff = m.effective_mask(dirty, raw)
    ll = m.log_likelihoods(dirty, eff)
    assert np.isfinite(ll).all()
    assert (ll[~eff] == 0).all()
    np.testing.assert_allclose(ll[eff], m.log_likelihoods(x)[eff], rtol=1e-12)
    # NaN in the lags is never scored, even if the caller forgot to mask it
    ll_nomask = m.log_likelihoods(dirty)
    assert np.isfinite(ll_nomask).all()
    np.testing.assert_array_equal(ll_nomask, ll)


# ------------------------------------------------------------------ maximum likelihood
def weighted_least_squares(x, w, L, bias, noise):
    """Reference M-step: ``lstsq`` on sqrt-weighted rows per state; weighted residual
    covariances."""
    U, Y = regressors(x, L, bias), x[L:]
    w = w[L:]
    K, D = w.shape[1], x.shape[1]
    Ws, scatters = [], []
    for k in range(K):
        s = np.sqrt(w[:, k])[:, None]
        Wk = np.linalg.lstsq(U * s, Y * s, rcond=None)[0].T
        r = Y - U @ Wk.T
        Ws.append(Wk)
        scatters.append((r * w[:, k : k + 1]).T @ r)
    n = w.sum(axis=0)
    if noise == "tied":
        covs = np.tile(sum(scatters) / n.sum(), (K, 1, 1))
    else:
        covs = np.stack([S / nk for S, nk in zip(scatters, n)])
        if noise == "diag":
            covs = np.einsum("kd,de->kde", np.diagonal(covs, axis1=1, axis2=2), np.eye(D))
    return np.stack(Ws), covs


@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("L,bias", LAGS_BIAS)
def test_mle_m_step_equals_weighted_least_squares(noise, L, bias):
    m = make(L=L, bias=bias, covariance_type=noise, prior=None)
    x = RNG(3).normal(size=(400, 3)).cumsum(axis=0) * 0.1
    w = RNG(4).dirichlet(np.ones(3), size=400)
    m.m_step(m.sufficient_stats(x, w))
    W, covs = weighted_least_squares(x, w, L, bias, noise)
    np.testing.assert_allclose(m.emission_dynamics, W[:, :, : 3 * L], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        m.emission_bias, W[:, :, 3 * L] if bias else 0.0, rtol=1e-8, atol=1e-10
    )
    np.testing.assert_allclose(m.emission_covs, covs, rtol=1e-8, atol=1e-12)
    assert m.log_prior() == 0.0


@pytest.mark.parametrize("L", [1, 3])
def test_masked_frames_and_frames_with_masked_lags_get_no_weight(L):
    m = make(L=L, prior=None)
    rng = RNG(5)
    x = rng.normal(size=(300, 3))
    w = rng.dirichlet(np.ones(3), size=300)
    raw = rng.random(300) > 0.1
    dirty = x.copy()
    dirty[~raw] = np.nan
    eff = m.effective_mask(dirty, raw)
    got = m.sufficient_stats(dirty, w, eff)
    assert all(np.isfinite(v).all() for v in got.values())
    # by hand: the same rows with zero weight wherever the frame or a lag is missing
    want = m.sufficient_stats(x, w * eff[:, None])
    for key in got:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-12)
    garbage = x.copy()
    garbage[~raw] = 1e6  # whatever sits in masked rows changes nothing
    for key in got:
        np.testing.assert_allclose(
            m.sufficient_stats(garbage, w, eff)[key], got[key], rtol=1e-12, atol=1e-12
        )
    # and the NaN guard alone (no mask given) drops the same frames
    for key in got:
        np.testing.assert_allclose(
            m.sufficient_stats(dirty, w * raw[:, None])[key], got[key], rtol=1e-12, atol=1e-12
        )


def test_stats_are_summable_and_lags_do_not_cross_sequences():
    m = make(L=2, prior=None)
    rng = RNG(6)
    x1, x2 = rng.normal(size=(120, 3)), rng.normal(size=(90, 3))
    w1, w2 = rng.dirichlet(np.ones(3), 120), rng.dirichlet(np.ones(3), 90)
    total = sum_observation_stats([m.sufficient_stats(x1, w1), m.sufficient_stats(x2, w2)])
    # by hand from each sequence's own lagged rows (frames 0, 1 of each contribute nothing),
    # about the reference point the first sequence fixed (its mean frame)
    c = m.data_center
    np.testing.assert_allclose(c, x1.mean(axis=0), rtol=1e-12)
    rows = [np.hstack([x[2:] - c, regressors(x - c, 2, True)]) for x in (x1, x2)]
    ws = [w1[2:], w2[2:]]
    G = sum(np.einsum("tk,ti,tj->kij", wk, Z, Z) for wk, Z in zip(ws, rows))
    np.testing.assert_allclose(total["G"], G, rtol=1e-12)
    np.testing.assert_allclose(total["n"], w1[2:].sum(0) + w2[2:].sum(0), rtol=1e-12)
    glued = m.sufficient_stats(np.vstack([x1, x2]), np.vstack([w1, w2]))
    assert not np.allclose(glued["G"], total["G"])  # concatenating would invent two frames


def test_hmm_e_step_sums_statistics_over_a_list_of_sequences():
    from ethogram import HMM
    from ethogram.fitting import e_step
    from ethogram.inference import forward_backward

    model = HMM(3, "autoregressive", dict(data_dim=3, num_lags=2))
    model.observations.set_params(make(L=2).get_params())
    rng = RNG(7)
    sequences = [rng.normal(size=(150, 3)), rng.normal(size=(80, 3))]
    got = e_step(model, sequences, [None, None], num_threads=1).observations
    parts = []
    for x in sequences:
        post = forward_backward(
            model.initial_probs, model.transition_matrix, model.observations.log_likelihoods(x)
        )
        parts.append(model.observations.sufficient_stats(x, post.expected_states))
    for key, value in sum_observation_stats(parts).items():
        np.testing.assert_allclose(got[key], value, rtol=1e-12)


def test_statistics_skip_only_negligible_rows():
    """Concentrated posteriors: rows of negligible weight are skipped; the result matches the
    dense sum, a state carrying 1e-300 everywhere gives an all-zero Gram matrix."""
    m = make(K=4, L=3, prior=None)
    rng = RNG(8)
    x = rng.normal(size=(5000, 3))
    z = rng.integers(0, 3, 5000)
    w = np.full((5000, 4), 1e-30)
    w[:, 3] = 1e-300
    w[np.arange(5000), z] = 1.0
    w[::7, (z[::7] + 1) % 3] = 0.3  # some genuinely shared frames
    got = m.sufficient_stats(x, w)["G"]
    y = x - m.data_center
    Z = np.hstack([y[3:], regressors(y, 3, True)])
    want = np.einsum("tk,ti,tj->kij", w[3:], Z, Z)
    for k in range(3):
        assert np.abs(got[k] - want[k]).max() <= 1e-12 * np.trace(want[k])
    assert (got[3] == 0).all()
    m.m_step(m.sufficient_stats(x, w))  # a state without data keeps its parameters (ML)
    assert np.isfinite(m.log_likelihoods(x)).all()


# ------------------------------------------------------------------ MAP and prior
def expected_objective(m, x, w):
    return float((w[m.num_lags :] * m.log_likelihoods(x)[m.num_lags :]).sum() + m.log_prior())


@pytest.mark.parametrize("noise", NOISES)
def test_map_m_step_maximises_expected_objective(noise):
    m = make(L=2, covariance_type=noise)
    rng = RNG(9)
    x = rng.normal(size=(60, 3))  # few frames: the prior matters
    w = rng.dirichlet(np.ones(3), size=60)
    m.m_step(m.sufficient_stats(x, w))
    best = expected_objective(m, x, w)
    params = m.get_params()
    for i in range(30):
        trial = make(L=2, covariance_type=noise)
        trial.set_params(params)
        scale = 10.0 ** -(i % 3 + 1)
        trial.emission_dynamics = params["emission_dynamics"] + scale * rng.normal(
            size=params["emission_dynamics"].shape
        )
        trial.emission_bias = params["emission_bias"] + scale * rng.normal(size=(3, 3))
        E = scale * rng.normal(size=(3, 3))
        S = np.eye(3) + 0.5 * (E + E.T)
        covs = np.einsum("ij,kjl,ml->kim", S, params["emission_covs"], S)
        if noise == "diag":
            covs = np.einsum("kd,de->kde", np.diagonal(covs, axis1=1, axis2=2), np.eye(3))
        elif noise == "tied":
            covs = np.tile(covs[0], (3, 1, 1))
        trial.emission_covs = covs
        assert expected_objective(trial, x, w) < best


@pytest.mark.parametrize("noise", NOISES)
def test_log_prior_is_the_documented_mniw_density(noise):
    m = make(L=2, covariance_type=noise, prior_ridge=0.3, prior_count=2.0, prior_scale=0.5)
    lam, n0, s0 = 0.3, 2.0, 0.5
    want = 0.0
    for k in range(3):
        W = np.hstack([m.emission_dynamics[k], m.emission_bias[k][:, None]])
        Qinv = np.linalg.inv(m.emission_covs[k])
        want += -0.5 * lam * np.trace(Qinv @ W @ W.T)
        if noise != "tied" or k == 0:  # a tied noise is one matrix, its prior counted once
            want += -0.5 * n0 * np.linalg.slogdet(m.emission_covs[k])[1] - 0.5 * n0 * s0 * np.trace(
                Qinv
            )
    assert m.log_prior() == pytest.approx(want, rel=1e-12)


def test_default_prior_keeps_an_empty_state_well_posed():
    m = make(L=3)
    x = RNG(10).normal(size=(200, 3))
    w = np.zeros((200, 3))
    w[:, :2] = RNG(11).dirichlet(np.ones(2), 200)
    m.m_step(m.sufficient_stats(x, w))
    np.testing.assert_allclose(m.emission_dynamics[2], 0.0)
    # the prior mode: centred bias 0 (the state sits at the data's centre), Q = Psi / n0
    np.testing.assert_allclose(m.emission_bias[2], x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(m.emission_covs[2], np.diag(1e-4 * x.var(axis=0)), rtol=1e-12)
    assert np.isfinite(m.log_likelihoods(x)).all()


# ------------------------------------------------------------------ sampling
def test_sample_follows_the_recursion_with_n01_start():
    m = make(L=2, covariance_type="full")
    rng = RNG(12)
    z = rng.integers(0, 3, 20000)
    x = m.sample(z, rng)
    assert x.shape == (20000, 3)
    resid = x[2:] - predictions(m, x)[np.arange(19998), z[2:]]
    for k in range(3):
        r = resid[z[2:] == k]
        n = r.shape[0]
        assert np.all(np.abs(r.mean(axis=0)) < 5 * np.sqrt(np.diag(m.emission_covs[k]) / n))
        np.testing.assert_allclose(
            np.cov(r, rowvar=False),
            m.emission_covs[k],
            atol=6 * np.sqrt(2 / n) * np.abs(m.emission_covs[k]).max(),
        )
    heads = np.stack([m.sample(np.zeros(3, int), RNG(100 + i))[:2] for i in range(400)]).reshape(
        -1, 3
    )
    np.testing.assert_allclose(heads.mean(axis=0), 0.0, atol=5 / np.sqrt(800))
    np.testing.assert_allclose(np.cov(heads, rowvar=False), np.eye(3), atol=6 * np.sqrt(2 / 800))


# ------------------------------------------------------------------ bookkeeping
@pytest.mark.parametrize("noise", NOISES)
def test_permute_reorders_states_and_tied_noise_stays(noise):
    m = make(K=4, L=2, covariance_type=noise)
    x = RNG(13).normal(size=(50, 3))
    before, ll = m.get_params(), m.log_likelihoods(x)
    order = np.array([2, 0, 3, 1])
    m.permute(order)
    np.testing.assert_array_equal(m.emission_dynamics, before["emission_dynamics"][order])
    np.testing.assert_array_equal(m.emission_bias, before["emission_bias"][order])
    np.testing.assert_array_equal(
        m.emission_covs,
        before["emission_covs"][order] if noise != "tied" else before["emission_covs"],
    )
    np.testing.assert_allclose(m.log_likelihoods(x), ll[:, order], rtol=1e-12)


@pytest.mark.parametrize(
    "noise,bias,per_noise",
    [("full", True, 6), ("full", False, 6), ("diag", True, 3), ("tied", True, 6)],
)
def test_num_parameters(noise, bias, per_noise):
    K, D, L = 4, 3, 2
    m = get_observation_class("autoregressive")(
        K, data_dim=D, num_lags=L, bias=bias, covariance_type=noise
    )
    expected = K * (D * L * D + D * bias) + (per_noise if noise == "tied" else K * per_noise)
    assert m.num_parameters() == expected


def test_errors_name_the_argument():
    cls = get_observation_class("autoregressive")
    m = cls(2, data_dim=3, num_lags=2)
    with pytest.raises(ValueError, match="data"):
        m.check_data(np.zeros((10, 4)))
    # a sequence of at most num_lags frames is valid data with no frame to score: the HMM
    # leaves it out of a fit (tests/test_short_sequences.py), so the check lets it through
    assert m.check_data(np.zeros((2, 3))).shape == (2, 3) and m.min_frames == 3
    with pytest.raises(ValueError, match="inf"):
        m.check_data(np.full((10, 3), np.inf))
    with pytest.raises(ValueError, match="covariance_type"):
        cls(2, data_dim=3, covariance_type="spherical")
    with pytest.raises(ValueError, match="num_lags"):
        cls(2, data_dim=3, num_lags=0)
    with pytest.raises(ValueError, match="data_dim"):
        cls(2, data_dim=0)
    with pytest.raises(ValueError, match="prior"):
        cls(2, data_dim=3, prior="flat")
    with pytest.raises(ValueError, match="prior_ridge"):
        cls(2, data_dim=3, prior_ridge=0.0)
    x = RNG(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="expected_states"):
        m.sufficient_stats(x, np.ones((20, 3)))
    with pytest.raises(ValueError, match="expected_states"):
        m.sufficient_stats(x, np.full((20, 2), -0.5))
    with pytest.raises(ValueError, match="stats"):
        m.m_step({"n": np.ones(2), "G": np.zeros((2, 5, 5))})
    with pytest.raises(ValueError, match=r"emission_dynamics must have shape \(2, 3, 6\)"):
        m.emission_dynamics = np.zeros((2, 3, 3))  # refused where it is written
    with pytest.raises(ValueError, match="first_frames"):
        cls(2, data_dim=3, first_frames="zeros")
    with pytest.raises(ValueError, match="states"):
        cls(2, data_dim=3).sample(np.array([0, 2]), RNG(0))


def test_lagged_rows_layout():
    x = np.arange(12.0).reshape(6, 2)
    Z = lagged_rows(x, 2, True)
    np.testing.assert_array_equal(Z[0], [4, 5, 2, 3, 0, 1, 1])  # [x_2, x_1, x_0, 1]
    assert Z.shape == (4, 7)


def test_ml_m_step_with_collinear_regressors_is_the_least_squares_fit():
    """Two exactly collinear dimensions (the second twice the first) make S_xx singular under
    maximum likelihood: the M-step gives the minimum-norm least-squares fit, whose residuals
    are those of numpy's lstsq, and EM stays monotone."""
    from ethogram import HMM

    rng = RNG(30)
    base = np.cumsum(rng.normal(size=300)) * 0.1
    x = np.column_stack([base, 2 * base])
    m = get_observation_class("autoregressive")(
        1, data_dim=2, num_lags=2, covariance_type="diag", prior=None
    )
    m.m_step(m.sufficient_stats(x, np.ones((300, 1))))
    U = np.hstack([x[1:-1], x[:-2], np.ones((298, 1))])
    coef, *_ = np.linalg.lstsq(U, x[2:], rcond=None)
    resid = x[2:] - U @ coef
    np.testing.assert_allclose(np.diag(m.emission_covs[0]), (resid**2).mean(axis=0), rtol=1e-6)
    robust = HMM(
        1, "robust_autoregressive", dict(data_dim=2, num_lags=2, covariance_type="diag", prior=None)
    )
    try:
        obj = robust.fit(x, num_iters=20, seed=0).objectives
    except ValueError as exc:  # a degenerate noise may be reported instead
        assert "prior" in str(exc)
    else:
        assert np.all(np.diff(obj) >= -1e-8 * np.maximum(1.0, np.abs(obj[:-1])))
