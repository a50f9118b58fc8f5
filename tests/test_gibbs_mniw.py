"""The MNIW update of the AR dynamics (``ethogram.models.gibbs.mniw``) against independent algebra.

Statistics equal explicit loops over frames. The posterior of ``vec(Ab)`` given ``Q`` equals the
dense Gaussian conditional built from ``vec(Ab) ~ N(vec M_0, K_0 kron Q)`` and one Kronecker
factor per frame (mean ``vec M_n``, covariance ``K_n kron Q``, 1e-9). The marginal posterior of
``Q`` matches ``IW(nu_n, S_n)``: ``log IW(Q; nu_0, S_0) + log p(X | Q) - log IW(Q; nu_n, S_n)``
is the same constant for any ``Q`` (scipy densities, the dense Gaussian marginal of the data).
Draws (fixed seed, 20000): means and covariances within 5 empirical standard errors of the
posterior's; the inverse-Wishart draws indistinguishable from scipy's by two-sample KS tests.
"""

import numpy as np
import pytest
from scipy import stats

from ethogram.models import gibbs as G


def _data(seed, T=40, M=2, L=2, S=3):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=(T, M)), axis=0) * 0.3
    z = rng.integers(0, S - 1, size=T - L)  # the last syllable gets no frame
    mask = rng.random(T) > 0.2
    return x, z, mask


def test_stats_match_loops():
    x, z, mask = _data(0)
    T, M = x.shape
    L, S = 2, 3
    st = G.ar_regression_stats(x, z, S, L, mask)
    P = M * L + 1
    ref = [np.zeros((S, P, P)), np.zeros((S, M, P)), np.zeros((S, M, M)), np.zeros(S)]
    for t in range(L, T):
        if not mask[t]:
            continue
        u = np.concatenate([x[t - L + lag] for lag in range(L)] + [[1.0]])
        s = z[t - L]
        ref[0][s] += np.outer(u, u)
        ref[1][s] += np.outer(x[t], u)
        ref[2][s] += np.outer(x[t], x[t])
        ref[3][s] += 1
    for got, want in zip(st, ref, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert st.counts[2] == 0
    both = st + st
    np.testing.assert_allclose(both.S_ii, 2 * st.S_ii)


def _prior(M, L, seed=1):
    rng = np.random.default_rng(seed)
    P = M * L + 1
    A = rng.normal(size=(P, P))
    B = rng.normal(size=(M, M))
    return dict(
        M_0=rng.normal(size=(M, P)), K_0=A @ A.T + np.eye(P), S_0=B @ B.T + np.eye(M), nu_0=M + 2.5
    )


def _vec(A):
    return A.reshape(-1, order="F")


@pytest.mark.parametrize("state", [0, 1, 2])
def test_posterior_of_weights_given_q_is_dense_gaussian(state):
    x, z, mask = _data(2)
    M, L = 2, 2
    pr = _prior(M, L)
    post = G.mniw_posterior(G.ar_regression_stats(x, z, 3, L, mask), **pr)
    rng = np.random.default_rng(3)
    B = rng.normal(size=(M, M))
    Q = B @ B.T + 0.5 * np.eye(M)
    Qi = np.linalg.inv(Q)
    prec = np.kron(np.linalg.inv(pr["K_0"]), Qi)
    h = prec @ _vec(pr["M_0"])
    for t in range(L, len(x)):
        if mask[t] and z[t - L] == state:
            u = np.concatenate([x[t - L + lag] for lag in range(L)] + [[1.0]])
            J = np.kron(u[None, :], np.eye(M))  # x_t = J vec(Ab)
            prec += J.T @ Qi @ J
            h += J.T @ Qi @ x[t]
    cov = np.linalg.inv(prec)
    np.testing.assert_allclose(_vec(post.M[state]), cov @ h, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(np.kron(post.K[state], Q), cov, rtol=1e-9, atol=1e-12)


def test_marginal_posterior_of_q_is_inverse_wishart():
    x, z, mask = _data(4)
    M, L, state = 2, 2, 0
    pr = _prior(M, L, seed=5)
    post = G.mniw_posterior(G.ar_regression_stats(x, z, 3, L, mask), **pr)
    rows = [t for t in range(L, len(x)) if mask[t] and z[t - L] == state]
    U = np.array([np.concatenate([x[t - L + lag] for lag in range(L)] + [[1.0]]) for t in rows]).T
    X = x[rows].T
    n = len(rows)
    rng = np.random.default_rng(6)
    diffs = []
    for _ in range(4):
        B = rng.normal(size=(M, M))
        Q = B @ B.T + 0.2 * np.eye(M)
        mean = _vec(pr["M_0"] @ U)
        cov = np.kron(U.T @ pr["K_0"] @ U, Q) + np.kron(np.eye(n), Q)
        log_lik = stats.multivariate_normal(mean, cov).logpdf(_vec(X))
        log_prior = stats.invwishart(df=pr["nu_0"], scale=pr["S_0"]).logpdf(Q)
        log_post = stats.invwishart(df=post.nu[state], scale=post.S[state]).logpdf(Q)
        diffs.append(log_prior + log_lik - log_post)
    np.testing.assert_allclose(diffs, diffs[0], rtol=0, atol=1e-8)
    assert post.nu[state] == pr["nu_0"] + n


def test_empty_syllable_keeps_the_prior_and_boost_is_small():
    x, z, mask = _data(7)
    pr = _prior(2, 2)
    post = G.mniw_posterior(G.ar_regression_stats(x, z, 3, 2, mask), **pr)
    np.testing.assert_allclose(post.M[2], pr["M_0"], atol=1e-12)
    np.testing.assert_allclose(post.K[2], pr["K_0"], rtol=1e-10)
    np.testing.assert_allclose(post.S[2], pr["S_0"], rtol=1e-10, atol=1e-10)
    boosted = G.mniw_posterior(G.ar_regression_stats(x, z, 3, 2, mask), **pr, diagonal_boost=1e-6)
    np.testing.assert_allclose(boosted.M, post.M, rtol=1e-4, atol=1e-6)
    assert not np.allclose(boosted.M, post.M, rtol=1e-12, atol=0)


def test_moseq_prior():
    pr = G.moseq_ar_prior(3, 2)
    assert pr["nu_0"] == 5
    np.testing.assert_array_equal(pr["M_0"][:, 3:6], np.eye(3))
    assert pr["M_0"][:, :3].sum() == 0 and pr["M_0"][:, -1].sum() == 0
    np.testing.assert_array_equal(pr["K_0"], 10 * np.eye(7))
    np.testing.assert_array_equal(pr["S_0"], 0.01 * np.eye(3))


def _within(draws, expected, n_se=5.0):
    se = draws.std(axis=0) / np.sqrt(len(draws))
    return np.all(np.abs(draws.mean(axis=0) - expected) <= n_se * se + 1e-15)


def test_draws_match_posterior_moments():
    x, z, mask = _data(8, T=60)
    M, L = 2, 2
    pr = _prior(M, L, seed=9)
    pr["nu_0"] = M + 6.0  # so that the prior-only syllable has finite variances
    post = G.mniw_posterior(G.ar_regression_stats(x, z, 3, L, mask), **pr)
    rng = np.random.default_rng(10)
    n = 20000
    Ab, Q = zip(*(G.sample_ar_params(rng, post) for _ in range(n)), strict=True)
    Ab, Q = np.array(Ab), np.array(Q)
    for s in range(3):
        EQ = post.S[s] / (post.nu[s] - M - 1)
        assert _within(Q[:, s].reshape(n, -1), EQ.ravel())
        assert _within(Ab[:, s].reshape(n, -1), post.M[s].ravel())
        dev = np.array([_vec(a) for a in Ab[:, s]]) - _vec(post.M[s])
        prods = (dev[:, :, None] * dev[:, None, :]).reshape(n, -1)
        assert _within(prods, np.kron(post.K[s], EQ).ravel())


@pytest.mark.parametrize("M, nu", [(1, 3.5), (2, 4.0), (3, 9.0)])
def test_invwishart_against_scipy(M, nu):
    rng = np.random.default_rng(11)
    B = rng.normal(size=(M, M))
    scale = B @ B.T + np.eye(M)
    ours = G.sample_invwishart(rng, np.full(20000, nu), np.broadcast_to(scale, (20000, M, M)))
    ref = stats.invwishart(df=nu, scale=scale).rvs(20000, random_state=12).reshape(20000, M, M)
    feats = [
        lambda q: np.log(q[:, 0, 0]),
        lambda q: np.linalg.slogdet(q)[1],
        lambda q: np.trace(q, axis1=1, axis2=2),
    ]
    if M > 1:
        feats.append(lambda q: q[:, 0, 1] / np.sqrt(q[:, 0, 0] * q[:, 1, 1]))
    for f in feats:
        assert stats.ks_2samp(f(ours), f(ref)).pvalue > 1e-3


def test_matrix_normal_covariance():
    rng = np.random.default_rng(13)
    mean = rng.normal(size=(2, 3))
    U = np.array([[2.0, 0.5], [0.5, 1.0]])
    V = np.array([[1.0, 0.2, 0.0], [0.2, 2.0, 0.3], [0.0, 0.3, 0.5]])
    draws = G.sample_matrix_normal(rng, np.broadcast_to(mean, (20000, 2, 3)), U, V)
    dev = np.array([_vec(a) for a in draws]) - _vec(mean)
    prods = (dev[:, :, None] * dev[:, None, :]).reshape(20000, -1)
    assert _within(prods, np.kron(V, U).ravel())


def test_bad_inputs():
    x, z, mask = _data(0)
    with pytest.raises(ValueError, match="syllables"):
        G.ar_regression_stats(x, z[:-1], 3, 2)
    with pytest.raises(ValueError, match="syllables"):
        G.ar_regression_stats(x, z + 5, 3, 2)
    with pytest.raises(ValueError, match="nu"):
        G.sample_invwishart(np.random.default_rng(0), 0.5, np.eye(3))
    st = G.ar_regression_stats(x, z, 3, 2)
    with pytest.raises(ValueError, match="M_0"):
        G.mniw_posterior(st, np.zeros((2, 2)), np.eye(5), np.eye(2), 4.0)
