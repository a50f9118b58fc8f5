"""The log joint groups (``ethogram.models.gibbs.log_joint``) against scipy densities, term by term.

A tiny keypoint SLDS (T = 9, K = 4, D = 2 and 3, M = 2, L = 2, S = 3) with a mask: every group of
section 4 of the model notes is recomputed by explicit loops over frames with scipy's densities and
an independent construction of the predicted keypoints (explicit rotation matrices, the Helmert
matrix from scipy); the AR log-likelihoods of every syllable and frame likewise. jax-moseq's
unnormalised scale prior differs from scipy's inverse gamma by exactly the dropped constant.
"""

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import helmert
from scipy.special import gammaln

from ethogram.models import gibbs as G


def _model(D, seed=0, T=9, K=4, M=2, L=2, S=3):
    rng = np.random.default_rng(seed)
    Ab = np.concatenate([rng.normal(size=(S, M, M * L)) * 0.4, rng.normal(size=(S, M, 1))], axis=2)
    B = rng.normal(size=(S, M, M))
    Q = B @ B.transpose(0, 2, 1) + 0.3 * np.eye(M)
    pi = rng.dirichlet(np.ones(S), size=S)
    return dict(
        keypoints=rng.normal(size=(T, K, D)) * 3,
        x=rng.normal(size=(T, M)),
        centroid=rng.normal(size=(T, D)) * 5,
        heading=rng.uniform(-np.pi, np.pi, T),
        scales=rng.uniform(0.5, 4, (T, K)),
        syllables=rng.integers(0, S, T - L),
        transition_matrix=pi,
        ar_weights=Ab,
        ar_covs=Q,
        loadings=rng.normal(size=((K - 1) * D, M)),
        offset=rng.normal(size=(K - 1) * D),
        noise_prior=rng.uniform(1, 5, (T, K)),
        nu_s=5.0,
        sigmasq_loc=0.7,
        sigmasq=rng.uniform(0.5, 2, K),
        mask=np.array([1, 1, 1, 0, 1, 1, 0, 1, 1], bool),
    )


def _u(x, t, L):
    return np.concatenate([x[t - L + lag] for lag in range(L)] + [[1.0]])


def _predicted(m):
    T, K, D = m["keypoints"].shape
    Gm = -helmert(K).T
    out = np.zeros((T, K, D))
    for t in range(T):
        ybar = Gm @ (m["loadings"] @ m["x"][t] + m["offset"]).reshape(K - 1, D)
        c, s = np.cos(m["heading"][t]), np.sin(m["heading"][t])
        R = np.eye(D)
        R[:2, :2] = [[c, -s], [s, c]]
        out[t] = ybar @ R.T + m["centroid"][t]
    return out


def _reference(m):
    T, K, D = m["keypoints"].shape
    L = 2
    mask, z, x = m["mask"], m["syllables"], m["x"]
    ref = dict(z=0.0, x=0.0, Y=0.0, s=0.0, v=0.0)
    for t in range(L + 1, T):
        ref["z"] += mask[t] * np.log(m["transition_matrix"][z[t - L - 1], z[t - L]])
    for t in range(L, T):
        Ab = m["ar_weights"][z[t - L]]
        ref["x"] += mask[t] * stats.multivariate_normal(
            Ab @ _u(x, t, L), m["ar_covs"][z[t - L]]
        ).logpdf(x[t])
    Yhat = _predicted(m)
    nu = m["nu_s"]
    for t in range(T):
        for k in range(K):
            var = m["scales"][t, k] * m["sigmasq"][k]
            ref["Y"] += mask[t] * stats.multivariate_normal(Yhat[t, k], var * np.eye(D)).logpdf(
                m["keypoints"][t, k]
            )
            s0 = m["noise_prior"][t, k]
            const = 0.5 * nu * np.log(nu * s0 / 2) - gammaln(nu / 2)
            ref["s"] += mask[t] * (
                stats.invgamma(nu / 2, scale=nu * s0 / 2).logpdf(m["scales"][t, k]) - const
            )
    for t in range(1, T):
        ref["v"] += mask[t] * stats.multivariate_normal(
            m["centroid"][t - 1], m["sigmasq_loc"] * np.eye(D)
        ).logpdf(m["centroid"][t])
    return ref, Yhat


@pytest.mark.parametrize("D", [2, 3])
def test_every_group_matches_scipy(D):
    m = _model(D)
    ref, Yhat = _reference(m)
    np.testing.assert_allclose(
        G.estimate_keypoints(m["x"], m["centroid"], m["heading"], m["loadings"], m["offset"]),
        Yhat,
        atol=1e-12,
    )
    got = G.log_joint_keypoint_slds(**m)
    assert set(got) == {"z", "x", "Y", "s", "v"}
    for key in ref:
        assert got[key] == pytest.approx(ref[key], rel=1e-12), key
    arhmm = G.log_joint_arhmm(
        m["x"], m["syllables"], m["transition_matrix"], m["ar_weights"], m["ar_covs"], m["mask"]
    )
    assert arhmm == pytest.approx({"z": ref["z"], "x": ref["x"]}, rel=1e-12)


def test_ar_log_likes_every_state():
    m = _model(2, seed=1)
    ll = G.ar_log_likes(m["x"], m["ar_weights"], m["ar_covs"])
    assert ll.shape == (9 - 2, 3)
    for t in range(2, 9):
        for s in range(3):
            want = stats.multivariate_normal(
                m["ar_weights"][s] @ _u(m["x"], t, 2), m["ar_covs"][s]
            ).logpdf(m["x"][t])
            assert ll[t - 2, s] == pytest.approx(want, rel=1e-12)


def test_normalised_scale_prior_is_scipys():
    m = _model(2, seed=2)
    want = sum(
        m["mask"][t]
        * stats.invgamma(2.5, scale=2.5 * m["noise_prior"][t, k]).logpdf(m["scales"][t, k])
        for t in range(9)
        for k in range(4)
    )
    got = G.log_prob_noise_scales(m["scales"], m["noise_prior"], 5.0, m["mask"], normalized=True)
    assert got == pytest.approx(want, rel=1e-12)


def test_impossible_transition_and_masking():
    pi = np.array([[1.0, 0.0], [0.5, 0.5]])
    z = np.array([0, 1, 1])
    assert G.log_prob_syllables(z, pi, 0) == -np.inf
    # the impossible transition lands on a masked frame: it does not count
    assert G.log_prob_syllables(z, pi, 0, mask=[1, 0, 1]) == pytest.approx(np.log(0.5))
    with pytest.raises(ValueError, match="mask"):
        G.log_prob_syllables(z, pi, 0, mask=[1, 1])
