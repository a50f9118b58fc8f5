"""Sticky HDP transitions (``ethogram.models.gibbs.hdp``) against exact laws.

The number of tables among n customers seated with concentration c has the law
``P(m) = |s(n, m)| c^m Gamma(c) / Gamma(c + n)`` (Antoniak 1974; unsigned Stirling numbers of
the first kind); draws of ``sample_table_counts`` (fixed seed, >= 15000 per case) must pass a
chi-square goodness-of-fit test against it, off the diagonal and on it (concentration
``alpha beta_j + kappa``), and the override correction must follow the binomial mixture of that
law. For large n the mean and variance must match ``sum_k c/(k+c)`` and its Bernoulli variance.
Dirichlet draws match Beta marginals (KS) and Dirichlet moments, also for concentrations far
below 1 where a gamma-and-normalise draw would give 0/0. Counts equal explicit loops, and one
HDP update equals its steps chained in the order of section 3.1 (old beta for the tables, new
beta for pi).
"""

import numpy as np
import pytest
from scipy import stats
from scipy.special import digamma, gammaln

from ethogram.models import gibbs as G


def _stirling1_unsigned(n):
    s = np.zeros((n + 1, n + 1))
    s[0, 0] = 1.0
    for i in range(1, n + 1):
        for k in range(1, i + 1):
            s[i, k] = (i - 1) * s[i - 1, k] + s[i - 1, k - 1]
    return s[n]


def _table_pmf(n, c):
    m = np.arange(n + 1)
    s = _stirling1_unsigned(n)
    with np.errstate(divide="ignore"):
        logp = np.log(s) + m * np.log(c) + gammaln(c) - gammaln(c + n)
    p = np.exp(logp)
    assert abs(p.sum() - 1) < 1e-12
    return p


def _gof(samples, pmf):
    observed = np.bincount(samples, minlength=len(pmf)).astype(float)
    expected = pmf * len(samples)
    order = np.argsort(expected)  # pool the rarest outcomes until every bin expects >= 5
    obs, exp = [], []
    acc_o = acc_e = 0.0
    for i in order:
        acc_o += observed[i]
        acc_e += expected[i]
        if acc_e >= 5:
            obs.append(acc_o), exp.append(acc_e)
            acc_o = acc_e = 0.0
    obs[-1] += acc_o
    exp[-1] += acc_e
    if len(obs) < 2:
        return 1.0
    return stats.chisquare(obs, exp).pvalue


def test_pmf_helper_is_right():
    # n = 3, c = 1: s(3, .) = 0, 2, 3, 1 over 3! = 6
    np.testing.assert_allclose(_table_pmf(3, 1.0), [0, 2 / 6, 3 / 6, 1 / 6], atol=1e-15)


@pytest.mark.parametrize("n, c", [(1, 0.5), (5, 0.3), (8, 2.0), (6, 7.5), (4, 0.05)])
def test_off_diagonal_tables_follow_antoniak(n, c):
    rng = np.random.default_rng(n * 100 + int(10 * c))
    S = 150
    m = G.sample_table_counts(rng, np.full((S, S), n), np.full(S, c), kappa=0.0)
    assert m.dtype == np.int64 and m.min() >= 1 and m.max() <= n
    assert _gof(m.ravel(), _table_pmf(n, c)) > 1e-3


@pytest.mark.parametrize("n, c, kappa", [(6, 0.4, 3.0), (7, 1.5, 20.0)])
def test_diagonal_tables_and_override(n, c, kappa):
    rng = np.random.default_rng(7)
    S = 150
    diag, kept = [], []
    for _ in range(100):
        m = G.sample_table_counts(rng, np.full((S, S), n), np.full(S, c), kappa)
        diag.append(np.diag(m).copy())
        kept.append(np.diag(G.override_tables(rng, m, np.full(S, c), kappa)))
        np.testing.assert_array_equal(
            G.override_tables(rng, m, np.full(S, c), kappa)[~np.eye(S, dtype=bool)],
            m[~np.eye(S, dtype=bool)],
        )
    diag, kept = np.concatenate(diag), np.concatenate(kept)
    pm = _table_pmf(n, c + kappa)
    assert _gof(diag, pm) > 1e-3
    # m_bar = Binomial(m, c / (c + kappa)) mixed over the law of m
    p = c / (c + kappa)
    mix = np.array(
        [sum(pm[m] * stats.binom(m, p).pmf(a) for m in range(n + 1)) for a in range(n + 1)]
    )
    assert _gof(kept, mix) > 1e-3


def test_large_counts_mean_and_variance():
    rng = np.random.default_rng(3)
    n, c, S = 5000, 4.0, 40
    m = G.sample_table_counts(rng, np.full((S, S), n), np.full(S, c), 0.0).ravel()
    k = np.arange(n)
    p = c / (k + c)
    mean, var = p.sum(), (p * (1 - p)).sum()
    assert mean == pytest.approx(c * (digamma(c + n) - digamma(c)), rel=1e-12)
    assert abs(m.mean() - mean) < 5 * np.sqrt(var / m.size)
    chi = (m.size - 1) * m.var(ddof=1) / var  # sample variance of near-normal draws
    assert stats.chi2(m.size - 1).sf(chi) > 1e-4 and stats.chi2(m.size - 1).cdf(chi) > 1e-4


def test_zero_concentration_gives_no_tables():
    rng = np.random.default_rng(0)
    m = G.sample_table_counts(rng, [[3, 0], [0, 2]], [0.0, 1.0], 0.0)
    np.testing.assert_array_equal(m[0], [0, 0])
    assert m[1, 1] >= 1


def test_transition_counts_match_loops():
    rng = np.random.default_rng(1)
    S, L, T = 4, 3, 50
    z = rng.integers(0, S, T - L)
    mask = rng.random(T) > 0.3
    ref = np.zeros((S, S), int)
    for t in range(L + 1, T):
        if mask[t]:
            ref[z[t - L - 1], z[t - L]] += 1
    np.testing.assert_array_equal(G.transition_counts(z, S, L, mask), ref)
    full = np.zeros((S, S), int)
    np.add.at(full, (z[:-1], z[1:]), 1)
    np.testing.assert_array_equal(G.transition_counts(z, S), full)


@pytest.mark.parametrize("alpha", [np.array([0.5, 2.0, 7.0]), np.array([1e-3, 0.02, 1.0, 0.0])])
def test_dirichlet_rows(alpha):
    rng = np.random.default_rng(4)
    n = 20000
    draws = G.dirichlet_rows(rng, np.broadcast_to(alpha, (n, len(alpha))))
    assert np.all(np.isfinite(draws)) and np.allclose(draws.sum(1), 1, rtol=0, atol=1e-12)
    a0 = alpha.sum()
    for j, a in enumerate(alpha):
        if a == 0:
            assert np.all(draws[:, j] == 0)
            continue
        # Beta(a, a0 - a) marginal, checked at quantiles (a tiny a puts mass below 1e-300,
        # which float64 rounds to 0, and near 1 it rounds to 1: a KS test would see ties)
        law = stats.beta(a, a0 - a)
        for q in (0.05, 0.3, 0.6, 0.95):
            x = law.ppf(q)
            if 1e-290 < x < 1 - 1e-12:
                frac = np.mean(draws[:, j] <= x)
                assert abs(frac - q) < 5 * np.sqrt(q * (1 - q) / n)
        se = np.sqrt(a * (a0 - a) / (a0**2 * (a0 + 1)) / n)
        assert abs(draws[:, j].mean() - a / a0) < 5 * se


def test_global_weights_and_rows_moments():
    rng = np.random.default_rng(5)
    S, n = 3, 20000
    tables = np.array([[2, 0, 1], [0, 5, 0], [1, 1, 0]])
    beta = np.array([G.sample_global_weights(rng, tables, gamma=3.0) for _ in range(n)])
    conc = tables.sum(0) + 1.0
    assert np.all(np.abs(beta.mean(0) - conc / conc.sum()) < 5 * beta.std(0) / np.sqrt(n))
    counts = np.array([[10, 1, 0], [2, 3, 4], [0, 0, 0]])
    b = np.array([0.2, 0.5, 0.3])
    pis = np.array(
        [G.sample_transition_matrix(rng, counts, b, alpha=2.0, kappa=4.0) for _ in range(n)]
    )
    conc = counts + 2.0 * b + 4.0 * np.eye(S)
    expected = conc / conc.sum(1, keepdims=True)
    assert np.all(np.abs(pis.mean(0) - expected) < 5 * pis.std(0) / np.sqrt(n))


def test_hdp_update_chains_the_steps_in_order():
    counts = np.array([[30, 2, 0], [1, 12, 3], [0, 4, 9]])
    beta = np.array([0.5, 0.3, 0.2])
    alpha, kappa, gamma = 5.7, 20.0, 3.0
    got = G.sample_hdp_transitions(np.random.default_rng(9), counts, beta, alpha, kappa, gamma)
    rng = np.random.default_rng(9)
    m = G.sample_table_counts(rng, counts, alpha * beta, kappa)
    m = G.override_tables(rng, m, alpha * beta, kappa)
    b = G.sample_global_weights(rng, m, gamma)
    pi = G.sample_transition_matrix(rng, counts, b, alpha, kappa)
    np.testing.assert_array_equal(got.table_counts, m)
    np.testing.assert_array_equal(got.global_weights, b)
    np.testing.assert_array_equal(got.transition_matrix, pi)


def test_init_has_floor_and_rows_sum_to_one():
    draw = G.init_hdp_transitions(np.random.default_rng(0), 100, alpha=5.7, kappa=1e6, gamma=1e3)
    pi = draw.transition_matrix
    assert pi.shape == (100, 100) and np.all(pi > 0)
    np.testing.assert_allclose(pi.sum(1), 1, rtol=0, atol=1e-12)
    assert np.all(np.diag(pi) > 0.99)  # kappa 1e6 against alpha 5.7
    assert draw.global_weights.shape == (100,)


def test_bad_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="counts"):
        G.sample_table_counts(rng, [[1, -1], [0, 0]], [1.0, 1.0], 0.0)
    with pytest.raises(ValueError, match="concentrations"):
        G.sample_table_counts(rng, [[1, 1], [0, 0]], [1.0], 0.0)
    with pytest.raises(ValueError, match="syllables"):
        G.transition_counts([0, 3], 2)
    with pytest.raises(ValueError, match="concentration"):
        G.dirichlet_rows(rng, [0.0, 0.0])
