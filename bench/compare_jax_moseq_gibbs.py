"""ethogram's Gibbs kernels against jax-moseq's own functions, on the same inputs.

On a small keypoint SLDS, in float64, with a Python that has jax-moseq 0.3.7 beside ethogram's
dependencies (the only place that imports jax): the log joint by group and the AR
log-likelihoods (equal to relative 1e-10), and the laws of the latent pose, centroid, noise
scales, heading and AR parameters (many draws of jax-moseq's samplers tested against ethogram's
exact laws). What is compared in detail and how to run it: bench/README.md.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# one thread, synchronous dispatch: with XLA's defaults runs on this 2-core machine stalled
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_cpu_enable_async_dispatch", False)
import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from jax_moseq.models.arhmm import gibbs as jm_arhmm  # noqa: E402
from jax_moseq.models.keypoint_slds import gibbs as jm_gibbs  # noqa: E402
from jax_moseq.models.keypoint_slds import log_prob as jm_log_prob  # noqa: E402
from jax_moseq.models.keypoint_slds.alignment import center_embedding  # noqa: E402
from jax_moseq.utils.autoregression import ar_log_likelihood  # noqa: E402
from scipy import stats  # noqa: E402

from ethogram.inference import kalman  # noqa: E402
from ethogram.models import gibbs as G  # noqa: E402

N_DRAWS = 20000


def problem(seed=0, T=14, K=4, D=2, M=2, L=3, S=3):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(S, M, M * L)) * 0.3
    A[:, :, -M:] += 0.6 * np.eye(M)
    Ab = np.concatenate([A, rng.normal(size=(S, M, 1)) * 0.3], axis=2)
    B = rng.normal(size=(S, M, M))
    Q = 0.1 * (B @ B.transpose(0, 2, 1)) + 0.05 * np.eye(M)
    C = rng.normal(size=((K - 1) * D, M)) * 2
    d = rng.normal(size=(K - 1) * D)
    x = rng.normal(size=(T, M))
    v = rng.normal(size=(T, D)) * 3
    h = rng.uniform(-np.pi, np.pi, T)
    Y = G.estimate_keypoints(x, v, h, C, d) + rng.normal(size=(T, K, D)) * 0.5
    mask = np.ones(T, bool)
    mask[[6, T - 2, T - 1]] = False
    return dict(
        Y=Y, mask=mask, x=x, v=v, h=h, s=rng.uniform(0.2, 1.0, (T, K)),
        z=rng.integers(0, S, T - L), pi=rng.dirichlet(np.ones(S) * 3, size=S), Ab=Ab, Q=Q,
        C=C, d=d, sigmasq=np.ones(K), sigmasq_loc=0.5, s_0=rng.uniform(1, 4, (T, K)), nu_s=5.0,
    )  # fmt: skip


CHUNK = 500  # recordings per jax-moseq call (one compiled shape; larger batches stalled XLA here)


def _tile(a, n):
    return jnp.asarray(np.broadcast_to(a, (n,) + np.shape(a)).copy())


def _draws(fn, seed, *tiled, **fixed):
    """N_DRAWS draws of a jax-moseq update: the one recording repeated CHUNK times per call."""
    out = []
    for key in jr.split(jr.PRNGKey(seed), N_DRAWS // CHUNK):
        out.append(np.asarray(fn(key, *(_tile(a, CHUNK) for a in tiled), **fixed)))
    return np.concatenate(out)


def check_log_joint(p):
    Cd = np.concatenate([p["C"], p["d"][:, None]], axis=1)
    args = {k: jnp.asarray(p[k])[None] for k in ("Y", "mask", "x", "v", "h", "s", "z", "s_0")}
    ref = jm_log_prob.log_joint_likelihood(
        **args, pi=p["pi"], Ab=p["Ab"], Q=p["Q"], Cd=Cd, sigmasq=p["sigmasq"],
        sigmasq_loc=p["sigmasq_loc"], nu_s=p["nu_s"],
    )  # fmt: skip
    ours = G.log_joint_keypoint_slds(
        p["Y"], p["x"], p["v"], p["h"], p["s"], p["z"], p["pi"], p["Ab"], p["Q"], p["C"], p["d"],
        p["s_0"], p["nu_s"], p["sigmasq_loc"], p["sigmasq"], p["mask"],
    )  # fmt: skip
    rows = [(f"log joint '{k}'", abs(ours[k] - float(ref[k])) / abs(float(ref[k])), 1e-10)
            for k in ref]  # fmt: skip
    jm_ll = np.stack([np.asarray(ar_log_likelihood(jnp.asarray(p["x"]), (p["Ab"][s], p["Q"][s])))
                      for s in range(len(p["Ab"]))], axis=1)  # fmt: skip
    rel = np.max(np.abs(G.ar_log_likes(p["x"], p["Ab"], p["Q"]) - jm_ll) / np.abs(jm_ll))
    rows.append(("AR log-likelihoods, every syllable", rel, 1e-10))
    K = p["Y"].shape[1]
    rows.append(("centring matrix", np.max(np.abs(G.centering_matrix(K) - center_embedding(K))),
                 1e-14))  # fmt: skip
    return [(name, f"{val:.1e}", val <= tol) for name, val, tol in rows]


def _chi2_check(draws, mean, cov):
    resid = draws.reshape(len(draws), -1) - mean
    prec = np.linalg.inv(cov)
    d2 = np.einsum("ni,ij,nj->n", resid, prec, resid)
    p_ks = stats.kstest(d2, stats.chi2(df=mean.size).cdf).pvalue
    z = np.max(np.abs(resid.mean(0)) / np.sqrt(np.diag(cov) / len(draws)))
    return p_ks, z


def _affine_moments(fn, shape):
    base = fn(np.zeros(shape)).ravel()
    n = int(np.prod(shape))
    cols = [fn(np.eye(n)[j].reshape(shape)).ravel() - base for j in range(n)]
    Bm = np.array(cols).T
    return base, Bm @ Bm.T


def check_latent(p):
    T, K, D = p["Y"].shape
    M, L = p["Q"].shape[1], 3
    Cd = np.concatenate([p["C"], p["d"][:, None]], axis=1)
    H, off = G.slds_emission(p["C"], p["d"], K, D)
    obs = G.egocentric(p["Y"], p["v"], p["h"]).reshape(T, K * D)
    var = np.repeat(p["s"] * p["sigmasq"], D, axis=1)
    out = []
    for parallel, jitter in ((False, 1e-3), (True, 0.0)):
        draws = _draws(
            jm_gibbs.resample_continuous_stateseqs, 1, p["Y"], p["mask"], p["v"], p["h"], p["s"],
            p["z"], Cd=Cd, sigmasq=p["sigmasq"], Ab=p["Ab"], Q=p["Q"], jitter=1e-3,
            parallel_message_passing=parallel,
        )  # fmt: skip
        shape = (2,) + kalman.ar_lds_noise_shape(T, M, L)

        def ours(e, jitter=jitter, shape=shape):
            e = e.reshape(shape)
            return kalman.ar_lds_from_normals(
                e[0], obs, var, H, off, p["Ab"], p["Q"], p["z"], p["mask"], jitter=jitter,
                jitter_normals=e[1],
            ).states  # fmt: skip

        mean, cov = _affine_moments(ours, shape)
        p_ks, z = _chi2_check(np.asarray(draws), mean, cov)
        path = "parallel (no jitter)" if parallel else "serial, jitter 1e-3"
        out.append((f"latent pose x, {path}: KS p / max |z| of means", f"{p_ks:.3f} / {z:.2f}",
                    p_ks > 1e-3 and z < 4.5))  # fmt: skip
    return out


def check_centroid(p):
    T, K, D = p["Y"].shape
    Cd = np.concatenate([p["C"], p["d"][:, None]], axis=1)
    draws = _draws(
        jm_gibbs.resample_location,
        2,
        p["Y"],
        p["mask"],
        p["x"],
        p["h"],
        p["s"],
        Cd=Cd,
        sigmasq=p["sigmasq"],
        sigmasq_loc=p["sigmasq_loc"],
    )  # fmt: skip  (its parallel path, which resample_model always takes: no jitter)
    pose = G.rotate(G.aligned_pose(p["x"], p["C"], p["d"], K), p["h"])
    mu, g = G.centroid_pseudo_observations(p["Y"], pose, p["s"] * p["sigmasq"])
    mean, cov = _affine_moments(
        lambda e: kalman.random_walk_from_normals(
            e, mu, g, p["sigmasq_loc"], p["mask"], masked_obs_var=10 * p["sigmasq"].max()
        ).states, (T, D),
    )  # fmt: skip
    p_ks, z = _chi2_check(np.asarray(draws), mean, cov)
    return [("centroid v: KS p / max |z| of means", f"{p_ks:.3f} / {z:.2f}",
             p_ks > 1e-3 and z < 4.5)]  # fmt: skip


def check_scales_and_heading(p):
    T, K, D = p["Y"].shape
    Cd = np.concatenate([p["C"], p["d"][:, None]], axis=1)
    s = _draws(
        jm_gibbs.resample_scales, 3, p["Y"], p["x"], p["v"], p["h"], Cd=Cd, sigmasq=p["sigmasq"],
        nu_s=p["nu_s"], s_0=p["s_0"],
    )  # fmt: skip
    e = G.squared_errors(p["Y"], G.estimate_keypoints(p["x"], p["v"], p["h"], p["C"], p["d"]))
    ps = []
    for t, k in ((0, 0), (5, 2), (T - 1, 3)):
        law = stats.invgamma((p["nu_s"] + 3) / 2, scale=(p["nu_s"] * p["s_0"][t, k] + e[t, k]) / 2)
        ps.append(stats.kstest(np.asarray(s)[:, t, k], law.cdf).pvalue)
    h = _draws(
        jm_gibbs.resample_heading, 4, p["Y"], p["x"], p["v"], p["s"], Cd=Cd, sigmasq=p["sigmasq"]
    )  # fmt: skip
    kc, ks = G.heading_concentrations(G.aligned_pose(p["x"], p["C"], p["d"], K),
                                      p["Y"] - p["v"][:, None], p["s"] * p["sigmasq"])  # fmt: skip
    laws = [stats.vonmises(np.hypot(kc[t], ks[t]), loc=np.arctan2(ks[t], kc[t])) for t in range(T)]
    ph = [stats.kstest(np.asarray(h)[:, t], laws[t].cdf).pvalue for t in (0, 6, T - 1)]
    return [("noise scales s (+3), 3 entries: min KS p", f"{min(ps):.3f}", min(ps) > 1e-3),
            ("heading h, 3 frames: min KS p", f"{min(ph):.3f}", min(ph) > 1e-3)]  # fmt: skip


def check_ar_params(p, n=4000):
    M, L, S = p["Q"].shape[1], 3, len(p["Ab"])
    prior = G.moseq_ar_prior(M, L)
    x = np.asarray(p["x"])
    xs = np.concatenate([x, x[::-1], x], axis=0)  # a longer trajectory for a sharper posterior
    z = np.concatenate([p["z"], np.zeros(2 * len(x), int)])
    mask = np.ones(len(xs), bool)
    fn = jax.jit(
        lambda key: jm_arhmm.resample_ar_params(
            key, nlags=L, num_states=S, mask=mask[None], x=xs[None], z=z[None], **prior
        )
    )
    draws = [fn(k) for k in jr.split(jr.PRNGKey(5), n)]
    Ab = np.array([np.asarray(a) for a, _ in draws])
    Q = np.array([np.asarray(q) for _, q in draws])
    post = G.mniw_posterior(G.ar_regression_stats(xs, z, S, L, mask), **prior, diagonal_boost=1e-6)
    zmax = 0.0
    for s in range(S):
        EQ = post.S[s] / (post.nu[s] - M - 1)
        for arr, want in ((Ab[:, s], post.M[s]), (Q[:, s], EQ)):
            se = arr.std(0) / np.sqrt(n)
            zmax = max(zmax, float(np.max(np.abs(arr.mean(0) - want) / se)))
    return [("AR parameters Ab, Q: max |z| of means (4000 draws)", f"{zmax:.2f}", zmax < 4.5)]


def main():
    p = problem()
    rows = check_log_joint(p) + check_latent(p) + check_centroid(p)
    rows += check_scales_and_heading(p) + check_ar_params(p)
    import importlib.metadata as md

    print(f"jax-moseq {md.version('jax-moseq')}, jax {jax.__version__}, float64\n")
    print("| check | value | agrees |")
    print("|---|---|---|")
    for name, val, ok in rows:
        print(f"| {name} | {val} | {'yes' if ok else 'NO'} |")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    from _cli import no_options

    no_options(__doc__)
    sys.exit(main())
