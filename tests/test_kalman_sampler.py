"""The latent-pose and centroid samplers of ``ethogram.inference.kalman`` against dense algebra.

For tiny problems (T of 5 to 8 frames) the joint posterior precision of all latents is built by
hand, one factor at a time, and inverted: the posterior mean must equal the sampler's draw
from zero normals, and its covariance the sum of outer products of the draws from unit normals
(a draw is an affine map of the normals, so this checks the whole distribution exactly), to
1e-9. The log normaliser must equal ``log N(y; E[y], Cov[y])`` of the marginal Gaussian of the
observations (scipy). Then, with a fixed seed, 20000 draws from the ``Generator`` path give
Mahalanobis distances that a KS test cannot tell from chi-square(n). jax-moseq's chain
(``lag_noise=1e-2`` and ``jitter=1e-3``) is compared with a dense re-implementation of dynamax's
serial Kalman filter and backward sampler with jitter (covariance form), through the same
exact mean and covariance of the affine map. With ``lag_noise -> 0`` the companion chain must
approach the exact sampler. Masked frames follow section 3.5/3.7 of the model notes.
"""

import numpy as np
import pytest
from scipy import stats

from ethogram.inference import kalman as K


def _problem(seed, T=7, M=2, L=3, p=3, S=2):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(S, M, M * L)) * 0.4
    Ab = np.concatenate([A, rng.normal(size=(S, M, 1))], axis=2)
    G = rng.normal(size=(S, M, M))
    Q = G @ G.transpose(0, 2, 1) + 0.3 * np.eye(M)
    H = rng.normal(size=(p, M))
    d = rng.normal(size=p)
    y = rng.normal(size=(T, p)) * 2
    r = rng.uniform(0.3, 2.0, size=(T, p))
    z = rng.integers(0, S, size=T - L)
    return dict(
        obs=y,
        obs_var=r,
        emission_matrix=H,
        emission_offset=d,
        ar_weights=Ab,
        ar_covs=Q,
        syllables=z,
    )


# ------------------------------------------------------------------- dense references


def _add_factor(Lam, h, B, target, cov):
    """Add log N(B u; target, cov) to the precision ``Lam`` and linear term ``h``."""
    Ci = np.linalg.inv(cov)
    Lam += B.T @ Ci @ B
    h += B.T @ Ci @ target


def _gaussian(Lam, h):
    cov = np.linalg.inv(Lam)
    return cov @ h, cov


def _dense_exact(pr, mask, initial_var=10.0, masked_obs_var=10.0, masked_dyn=10.0):
    """Posterior of x (T*M) and the Gaussian of y, for the exact model (lag_noise=0)."""
    y, r, H, d = pr["obs"], pr["obs_var"], pr["emission_matrix"], pr["emission_offset"]
    Ab, Q, z = pr["ar_weights"], pr["ar_covs"], pr["syllables"]
    T, M = y.shape[0], H.shape[1]
    L = (Ab.shape[2] - 1) // M
    n = T * M
    Lam0, h0 = np.zeros((n, n)), np.zeros(n)
    for t in range(L):
        Lam0[t * M : (t + 1) * M, t * M : (t + 1) * M] += np.eye(M) / initial_var
    for t in range(L, T):
        B = np.zeros((M, n))
        if masked_dyn is not None and not mask[t - 1]:
            B[:, (t - 1) * M : t * M] = -np.eye(M)
            B[:, t * M : (t + 1) * M] = np.eye(M)
            _add_factor(Lam0, h0, B, np.zeros(M), masked_dyn * np.eye(M))
            continue
        s = z[t - L]
        for lag in range(L):  # A_{lag} multiplies x_{t-L+lag}
            B[:, (t - L + lag) * M : (t - L + lag + 1) * M] = -Ab[s, :, lag * M : (lag + 1) * M]
        B[:, t * M : (t + 1) * M] = np.eye(M)
        _add_factor(Lam0, h0, B, Ab[s, :, -1], Q[s])
    E, R, yy = [], [], []
    for t in range(T):
        var = r[t] if mask[t] else np.full(r.shape[1], masked_obs_var)
        if np.isinf(var).any():
            continue
        Et = np.zeros((r.shape[1], n))
        Et[:, t * M : (t + 1) * M] = H
        E.append(Et), R.append(var), yy.append(y[t] - d)
    E, R, yy = np.vstack(E), np.concatenate(R), np.concatenate(yy)
    prior_mean, prior_cov = _gaussian(Lam0, h0)
    log_norm = stats.multivariate_normal(E @ prior_mean, E @ prior_cov @ E.T + np.diag(R)).logpdf(
        yy
    )
    mean, cov = _gaussian(Lam0 + E.T @ (E / R[:, None]), h0 + E.T @ (yy / R))
    return mean, cov, log_norm


def _companion_pieces(
    pr, mask, lag_noise, observe_first=False, initial_var=10.0, masked_obs_var=10.0, masked_dyn=10.0
):
    """Per-step LGSSM of jax-moseq over xi_i = [x_i .. x_{i+L-1}] (section 3.5)."""
    y, r, H, d = pr["obs"], pr["obs_var"], pr["emission_matrix"], pr["emission_offset"]
    Ab, Q, z = pr["ar_weights"], pr["ar_covs"], pr["syllables"]
    T, M = y.shape[0], H.shape[1]
    L = (Ab.shape[2] - 1) // M
    N = M * L
    steps = T - L + 1
    m0, P0 = np.zeros(N), initial_var * np.eye(N)
    for b in range(L - 1 if observe_first else 0):  # the prior conditioned on them, unmasked
        C0 = np.zeros((H.shape[0], N))
        C0[:, b * M : (b + 1) * M] = H
        S = C0 @ P0 @ C0.T + np.diag(r[b])
        Kg = P0 @ C0.T @ np.linalg.inv(S)
        m0, P0 = m0 + Kg @ (y[b] - d - C0 @ m0), P0 - Kg @ S @ Kg.T
    C = np.zeros((H.shape[0], N))
    C[:, -M:] = H
    dyn = []
    for i in range(steps - 1):
        if masked_dyn is not None and not mask[i + L - 1]:
            F = np.zeros((N, N))
            F[-M:, -M:] = np.eye(M)
            dyn.append((F, np.zeros(N), masked_dyn * np.eye(N)))
            continue
        s = z[i]
        F = np.zeros((N, N))
        F[: N - M, M:] = np.eye(N - M)
        F[N - M :] = Ab[s, :, :-1]
        c = np.zeros(N)
        c[-M:] = Ab[s, :, -1]
        Sig = np.zeros((N, N))
        Sig[: N - M, : N - M] = lag_noise * np.eye(N - M)
        Sig[N - M :, N - M :] = Q[s]
        dyn.append((F, c, Sig))
    ems = []
    for i in range(steps):
        t = i + L - 1
        var = r[t] if mask[t] else np.full(r.shape[1], masked_obs_var)
        ems.append((y[t], var))
    return m0, P0, C, d, dyn, ems, (T, M, L)


def _dense_companion(pr, mask, lag_noise, **kw):
    """Posterior of x and log p(y) of jax-moseq's companion chain, by one dense Gaussian."""
    m0, P0, C, d, dyn, ems, (T, M, L) = _companion_pieces(pr, mask, lag_noise, **kw)
    N = M * L
    steps = len(ems)
    n = steps * N
    Lam, h = np.zeros((n, n)), np.zeros(n)
    _add_factor(Lam, h, np.eye(n)[:N], m0, P0)
    for i, (F, c, Sig) in enumerate(dyn):
        B = np.zeros((N, n))
        B[:, i * N : (i + 1) * N] = -F
        B[:, (i + 1) * N : (i + 2) * N] = np.eye(N)
        _add_factor(Lam, h, B, c, Sig)
    prior_mean, prior_cov = _gaussian(Lam, h)
    E = np.zeros((steps * C.shape[0], n))
    for i in range(steps):
        E[i * C.shape[0] : (i + 1) * C.shape[0], i * N : (i + 1) * N] = C
    yy = np.concatenate([e[0] - d for e in ems])
    R = np.concatenate([e[1] for e in ems])
    # the first L-1 frames entered m0, P0; their marginal likelihood is added separately
    log_norm = stats.multivariate_normal(E @ prior_mean, E @ prior_cov @ E.T + np.diag(R)).logpdf(
        yy
    )
    if kw.get("observe_first"):
        log_norm += _first_frames_loglik(pr, L, M)
    mean, cov = _gaussian(Lam + E.T @ (E / R[:, None]), h + E.T @ (yy / R))
    Rd = _readout(T, M, L)
    return Rd @ mean, Rd @ cov @ Rd.T, log_norm


def _first_frames_loglik(pr, L, M, initial_var=10.0):
    y, r, H, d = pr["obs"], pr["obs_var"], pr["emission_matrix"], pr["emission_offset"]
    return sum(
        stats.multivariate_normal(d, initial_var * H @ H.T + np.diag(r[b])).logpdf(y[b])
        for b in range(L - 1)
    )


def _readout(T, M, L):
    N = M * L
    steps = T - L + 1
    Rd = np.zeros((T * M, steps * N))
    for t in range(L - 1):
        Rd[t * M : (t + 1) * M, t * M : (t + 1) * M] = np.eye(M)
    for i in range(steps):
        t = i + L - 1
        Rd[t * M : (t + 1) * M, i * N + N - M : (i + 1) * N] = np.eye(M)
    return Rd


def _dynamax_serial(pr, mask, lag_noise, jitter, normals):
    """dynamax's lgssm_filter + serial lgssm_posterior_sample(jitter), dense, given normals."""
    m0, P0, C, d, dyn, ems, (T, M, L) = _companion_pieces(pr, mask, lag_noise)
    means, covs = [], []
    m, P = m0, P0
    for i, (yt, var) in enumerate(ems):
        S = C @ P @ C.T + np.diag(var)
        Kg = P @ C.T @ np.linalg.inv(S)
        m, P = m + Kg @ (yt - d - C @ m), P - Kg @ S @ Kg.T
        means.append(m), covs.append(P)
        if i < len(dyn):
            F, c, Sig = dyn[i]
            m, P = F @ m + c, F @ P @ F.T + Sig
    steps = len(ems)
    xs = [None] * steps
    xs[-1] = means[-1] + np.linalg.cholesky(covs[-1]) @ normals[-1]
    for i in range(steps - 2, -1, -1):
        F, c, Sig = dyn[i]
        Pp = F @ covs[i] @ F.T + Sig
        G = covs[i] @ F.T @ np.linalg.inv(Pp)
        mu = means[i] + G @ (xs[i + 1] - F @ means[i] - c)
        cov = covs[i] - G @ Pp @ G.T + jitter * np.eye(len(mu))
        xs[i] = mu + np.linalg.cholesky((cov + cov.T) / 2) @ normals[i]
    return _readout(T, M, L) @ np.concatenate(xs)


def _affine_moments(fn, shape):
    """Exact mean and covariance of fn(eps), eps ~ N(0, I) of ``shape``, for affine fn."""
    base = fn(np.zeros(shape)).ravel()
    cols = []
    for j in range(int(np.prod(shape))):
        e = np.zeros(int(np.prod(shape)))
        e[j] = 1.0
        cols.append(fn(e.reshape(shape)).ravel() - base)
    Bm = np.array(cols).T
    return base, Bm @ Bm.T


# ------------------------------------------------------------------------- exact model


@pytest.mark.parametrize(
    "seed, T, M, L, p", [(0, 7, 2, 3, 3), (1, 5, 1, 1, 2), (2, 8, 3, 2, 4), (3, 6, 2, 1, 1)]
)
@pytest.mark.parametrize("masked", [False, True])
def test_exact_mean_cov_and_normaliser(seed, T, M, L, p, masked):
    pr = _problem(seed, T=T, M=M, L=L, p=p)
    mask = np.ones(T, bool)
    if masked:
        mask[[1, T - 2]] = False
    mean, cov, log_norm = _dense_exact(pr, mask)

    def draw(e):
        return K.ar_lds_from_normals(e, **pr, mask=mask, lag_noise=0.0, jitter=0.0).states

    got_mean, got_cov = _affine_moments(draw, K.ar_lds_noise_shape(T, M, L, 0.0))
    np.testing.assert_allclose(got_mean, mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got_cov, cov, rtol=1e-9, atol=1e-10)
    out = K.ar_lds_posterior_mean(**pr, mask=mask, lag_noise=0.0)
    np.testing.assert_allclose(out.states.ravel(), mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out.log_normalizer, log_norm, rtol=1e-10)


def test_exact_unobserved_masked_frames_and_no_hold():
    pr = _problem(4, T=8, M=2, L=2, p=3)
    mask = np.array([1, 1, 0, 0, 1, 1, 0, 1], bool)
    mean, cov, log_norm = _dense_exact(pr, mask, masked_obs_var=np.inf, masked_dyn=None)
    opts = dict(
        mask=mask, lag_noise=0.0, jitter=0.0, masked_obs_var=np.inf, masked_dynamics_var=None
    )
    got_mean, got_cov = _affine_moments(
        lambda e: K.ar_lds_from_normals(e, **pr, **opts).states, (8, 2)
    )
    np.testing.assert_allclose(got_mean, mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got_cov, cov, rtol=1e-9, atol=1e-10)
    assert K.ar_lds_posterior_mean(
        **pr, **{k: v for k, v in opts.items() if k != "jitter"}
    ).log_normalizer == pytest.approx(log_norm, rel=1e-10)


def test_exact_sampler_chi_square():
    """20000 draws (one factorisation): Mahalanobis distances ~ chi-square(T*M)."""
    pr = _problem(5, T=6, M=2, L=2, p=3)
    mask = np.array([1, 1, 1, 0, 1, 1], bool)
    mean, cov, _ = _dense_exact(pr, mask)
    rng = np.random.default_rng(123)
    normals = rng.standard_normal((20000,) + K.ar_lds_noise_shape(6, 2, 2, 0.0))
    draws = K.ar_lds_from_normals(
        normals, **pr, mask=mask, lag_noise=0.0, jitter=0.0
    ).states.reshape(20000, -1)
    resid = draws - mean
    d2 = np.einsum("ni,ij,nj->n", resid, np.linalg.inv(cov), resid)
    assert stats.kstest(d2, stats.chi2(df=mean.size).cdf).pvalue > 1e-3
    # and the sample mean within 5 standard errors of the exact mean, coordinate by coordinate
    se = np.sqrt(np.diag(cov) / len(draws))
    assert np.all(np.abs(draws.mean(0) - mean) < 5 * se)


# ----------------------------------------------------------- jax-moseq's companion chain


@pytest.mark.parametrize("seed, T, M, L, p", [(0, 7, 2, 3, 3), (2, 8, 3, 2, 4), (6, 6, 1, 2, 2)])
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("observe_first", [None, True])
def test_companion_mean_cov_and_normaliser(seed, T, M, L, p, masked, observe_first):
    """None: jax-moseq's code (first L-1 frames unobserved); True: section 3.5's conditioning."""
    pr = _problem(seed, T=T, M=M, L=L, p=p)
    mask = np.ones(T, bool)
    if masked:
        mask[[0, T - 3]] = False  # frame 0 is among the first L-1 frames for L > 1
    mean, cov, log_norm = _dense_companion(pr, mask, 1e-2, observe_first=bool(observe_first))
    opts = dict(mask=mask, observe_first_frames=observe_first)

    def draw(e):
        return K.ar_lds_from_normals(e, **pr, **opts, jitter=0.0).states

    got_mean, got_cov = _affine_moments(draw, K.ar_lds_noise_shape(T, M, L))
    np.testing.assert_allclose(got_mean, mean, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(got_cov, cov, rtol=1e-8, atol=1e-10)
    out = K.ar_lds_posterior_mean(**pr, **opts)
    np.testing.assert_allclose(out.log_normalizer, log_norm, rtol=1e-10)


@pytest.mark.parametrize("masked", [False, True])
def test_companion_jitter_matches_dynamax_serial(masked):
    """Same distribution as dynamax's serial FFBS with jitter 1e-3 (exact moments)."""
    T, M, L = 7, 2, 3
    pr = _problem(7, T=T, M=M, L=L, p=3)
    mask = np.ones(T, bool)
    if masked:
        mask[[2, 5]] = False
    shape = K.ar_lds_noise_shape(T, M, L)
    n = int(np.prod(shape))

    def ours(e):
        e = e.reshape(2, *shape)
        return K.ar_lds_from_normals(e[0], **pr, mask=mask, jitter_normals=e[1]).states

    def ref(e):
        return _dynamax_serial(pr, mask, 1e-2, 1e-3, e.reshape(shape))

    m1, c1 = _affine_moments(ours, (2 * n,))
    m2, c2 = _affine_moments(ref, (n,))
    np.testing.assert_allclose(m1, m2, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(c1, c2, rtol=1e-7, atol=1e-10)
    # jitter changes the distribution measurably (so this check could fail)
    m0, c0 = _affine_moments(lambda e: ref_nojit(pr, mask, e.reshape(shape)), (n,))
    assert np.max(np.abs(c0 - c2)) > 1e-4


def ref_nojit(pr, mask, e):
    return _dynamax_serial(pr, mask, 1e-2, 0.0, e)


@pytest.mark.parametrize("observe_first", [False, True])
def test_companion_approaches_exact_as_lag_noise_vanishes(observe_first):
    pr = _problem(8, T=8, M=2, L=3, p=3)
    opts = dict(observe_first_frames=observe_first)
    exact = K.ar_lds_posterior_mean(**pr, lag_noise=0.0, **opts)
    near = K.ar_lds_posterior_mean(**pr, lag_noise=1e-7, **opts)
    far = K.ar_lds_posterior_mean(**pr, lag_noise=1e-2, **opts)
    np.testing.assert_allclose(near.states, exact.states, rtol=0, atol=1e-5)
    assert np.max(np.abs(far.states - exact.states)) > 1e-3
    # the copies are integrated out of p(y), so the normaliser converges to the exact one
    assert near.log_normalizer == pytest.approx(exact.log_normalizer, abs=1e-4)
    assert abs(far.log_normalizer - exact.log_normalizer) > 1e-3


def test_companion_sampler_chi_square():
    T, M, L = 6, 2, 2
    pr = _problem(9, T=T, M=M, L=L, p=3)
    mean, cov, _ = _dense_companion(pr, np.ones(T, bool), 1e-2)
    rng = np.random.default_rng(321)
    normals = rng.standard_normal((20000,) + K.ar_lds_noise_shape(T, M, L))
    draws = K.ar_lds_from_normals(normals, **pr, jitter=0.0).states.reshape(20000, -1)
    resid = draws - mean
    d2 = np.einsum("ni,ij,nj->n", resid, np.linalg.inv(cov), resid)
    assert stats.kstest(d2, stats.chi2(df=mean.size).cdf).pvalue > 1e-3


@pytest.mark.parametrize("lag_noise", [0.0, 1e-2])
def test_generator_path_is_the_map_of_its_normals(lag_noise):
    """sample_ar_lds draws the normals, then the jitter normals, and applies the same map;
    a batch of normals gives the draws one by one."""
    pr = _problem(12)
    shape = K.ar_lds_noise_shape(7, 2, 3, lag_noise)
    got = K.sample_ar_lds(np.random.default_rng(3), **pr, lag_noise=lag_noise).states
    rng = np.random.default_rng(3)
    e, j = rng.standard_normal(shape), rng.standard_normal(shape)
    want = K.ar_lds_from_normals(e, **pr, lag_noise=lag_noise, jitter_normals=j).states
    np.testing.assert_array_equal(got, want)
    batch = K.ar_lds_from_normals(
        np.stack([e, 2 * e]), **pr, lag_noise=lag_noise, jitter_normals=np.stack([j, j])
    ).states
    np.testing.assert_array_equal(batch[0], want)
    two = K.ar_lds_from_normals(2 * e, **pr, lag_noise=lag_noise, jitter_normals=j).states
    np.testing.assert_allclose(batch[1], two, rtol=1e-13, atol=1e-13)


def test_same_seed_same_draw():
    pr = _problem(10)
    a = K.sample_ar_lds(np.random.default_rng(5), **pr).states
    b = K.sample_ar_lds(np.random.default_rng(5), **pr).states
    c = K.sample_ar_lds(np.random.default_rng(6), **pr).states
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# ------------------------------------------------------------------------- random walk


def _dense_random_walk(y, g, q, mask, initial_var=1e4, masked_obs_var=10.0, scale=10.0):
    T, D = y.shape
    Lam, h = np.zeros((T, T)), np.zeros(T)
    Lam[0, 0] += 1 / initial_var
    for t in range(1, T):
        B = np.zeros((1, T))
        B[0, t - 1], B[0, t] = -1, 1
        _add_factor(Lam, h, B, np.zeros(1), np.array([[q[t - 1] * (1 if mask[t - 1] else scale)]]))
    prior_cov = np.linalg.inv(Lam)
    var = np.where(mask, g, masked_obs_var)
    keep = np.isfinite(var)
    E = np.eye(T)[keep]
    post_cov = np.linalg.inv(Lam + E.T @ (E / var[keep, None]))
    mean = post_cov @ (E.T @ (y[keep] / var[keep, None]))
    marg = stats.multivariate_normal(np.zeros(keep.sum()), E @ prior_cov @ E.T + np.diag(var[keep]))
    log_norm = sum(marg.logpdf(y[keep, k]) for k in range(D))
    return mean, post_cov, log_norm


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("D", [1, 2, 3])
def test_random_walk_mean_cov_normaliser(masked, D):
    rng = np.random.default_rng(D)
    T = 7
    y = rng.normal(size=(T, D)) * 3
    g = rng.uniform(0.2, 2, T)
    q = rng.uniform(0.1, 1, T - 1)
    mask = np.ones(T, bool)
    if masked:
        mask[[0, 4]] = False
    mean, cov, log_norm = _dense_random_walk(y, g, q, mask)
    got_mean, got_cov = _affine_moments(
        lambda e: K.random_walk_from_normals(e, y, g, q, mask).states, (T, D)
    )
    np.testing.assert_allclose(got_mean.reshape(T, D), mean, rtol=1e-9, atol=1e-9)
    full = np.kron(cov, np.eye(D))  # coordinates independent, frame-major flattening
    np.testing.assert_allclose(got_cov, full, rtol=1e-9, atol=1e-10)
    out = K.random_walk_posterior_mean(y, g, q, mask)
    assert out.log_normalizer == pytest.approx(log_norm, rel=1e-10)


def test_random_walk_unobserved_frames_and_chi_square():
    rng = np.random.default_rng(11)
    T, D = 6, 2
    y = rng.normal(size=(T, D))
    mask = np.array([1, 0, 0, 1, 1, 1], bool)
    mean, cov, _ = _dense_random_walk(y, 0.5, np.full(T - 1, 0.3), mask, masked_obs_var=np.inf)
    draws = np.array(
        [
            K.sample_random_walk(rng, y, 0.5, 0.3, mask, masked_obs_var=np.inf).states
            for _ in range(20000)
        ]
    )
    prec = np.linalg.inv(cov)
    resid = draws - mean
    d2 = np.einsum("nti,ts,nsi->n", resid, prec, resid)
    assert stats.kstest(d2, stats.chi2(df=T * D).cdf).pvalue > 1e-3


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "change, word",
    [
        (dict(obs_var=-1.0), "obs_var"),
        (dict(syllables=np.array([0, 5, 1, 0])), "syllables"),
        (dict(syllables=np.zeros(3, int)), "syllables"),
        (dict(ar_covs=-np.ones((2, 2, 2))), "ar_covs"),
        (dict(emission_offset=np.zeros(4)), "emission_offset"),
    ],
)
def test_bad_inputs_name_the_argument(change, word):
    pr = _problem(0)
    if "obs_var" in change:
        pr["obs_var"] = pr["obs_var"] * change.pop("obs_var")
    pr.update(change)
    with pytest.raises(ValueError, match=word):
        K.ar_lds_posterior_mean(**pr)


def test_bad_options_and_normals():
    pr = _problem(0)
    with pytest.raises(ValueError, match="lag_noise"):
        K.ar_lds_posterior_mean(**pr, lag_noise=-1)
    with pytest.raises(ValueError, match="mask"):
        K.ar_lds_posterior_mean(**pr, mask=np.ones(3, bool))
    with pytest.raises(ValueError, match="normals"):
        K.ar_lds_from_normals(np.zeros((2, 2)), **pr)
    with pytest.raises(ValueError, match="num_lags"):
        K.ar_lds_posterior_mean(**_problem(0, T=3, L=3) | dict(syllables=np.zeros(0, int)))
    with pytest.raises(ValueError, match="step_var"):
        K.random_walk_posterior_mean(np.zeros((4, 2)), 1.0, np.ones(2))
