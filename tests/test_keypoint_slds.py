"""keypoint-MoSeq's keypoint SLDS by Gibbs sampling (ethogram.models.keypoint_slds).

- the log joint the sampler records equals ``log_joint_keypoint_slds`` (the groups that equal
  jax-moseq's ``model_likelihood``) at the same state, group by group;
- Geweke's (2004) joint-distribution test on a tiny problem: the marginal-conditional
  simulator (parameters from the prior, then states and keypoints from the model) and the
  successive-conditional one (the library's global and local steps, then fresh keypoints)
  agree: moments (batch-means z-scores) and two-sample Kolmogorov-Smirnov tests;
- on keypoints drawn from the model with well separated syllables the planted syllables are
  recovered (matched accuracy >= 0.9) in 2-D and 3-D, and the per-keypoint noise variances
  lie inside their posterior intervals;
- missing keypoints (NaN) are inferred, never a dropped frame;
- a seed gives the same bits serially, on threads and on a process pool.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import linear_sum_assignment

from _arhmm_data import true_model
from ethogram.fitting.executors import SerialExecutor, ThreadExecutor
from ethogram.fitting.gibbs import GibbsSettings, run_gibbs
from ethogram.models.gibbs import arhmm as ar
from ethogram.models.gibbs import keypoint_slds as sweep
from ethogram.models.gibbs.keypoints import centering_matrix, estimate_keypoints, rotate
from ethogram.models.gibbs.log_joint import log_joint_keypoint_slds
from ethogram.models.keypoint_slds import KeypointPrior, KeypointSLDS
from ethogram.models.moseq_arhmm import MoseqPrior


def matched_accuracy(found, truth) -> float:
    found, truth = np.concatenate(found), np.concatenate(truth)
    C = np.zeros((found.max() + 1, truth.max() + 1))
    np.add.at(C, (found, truth), 1)
    rows, cols = linear_sum_assignment(-C)
    return C[rows, cols].sum() / truth.size


def easy_arhmm():
    """3 syllables of distinct dynamics around distinct fixed points, sticky (mean run 33)."""
    model = true_model(num_states=3, data_dim=2, num_lags=2, stay=0.97)
    centres = np.array([[2.5, 0.0], [-1.5, 2.0], [-1.0, -2.5]])
    for k in range(3):
        th = 0.3 * (k + 1)
        A = 0.7 * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        model.ar_weights[k, :, :2] = 0.0
        model.ar_weights[k, :, 2:4] = A
        model.ar_weights[k, :, -1] = centres[k] - A @ centres[k]
    model.ar_covs[:] = 0.05 * np.eye(2)
    return model


def planted(lengths=(300, 250), K=5, D=2, seed=0, sigmasq=None):
    """Keypoints from a keypoint SLDS whose latent follows the ARHMM of ``_arhmm_data``
    (:func:`easy_arhmm`), a slowly turning heading and moving centroid."""
    rng = np.random.default_rng(seed)
    arhmm = easy_arhmm()
    # pose in keypoint space: keypoints 0 and 1 (the heading's ends) do not move with x, so
    # the heading of the start is the true one and the PCA finds the true subspace
    offset = rng.normal(size=(K, D)) * 6.0
    offset[0], offset[1] = 0.0, 0.0
    offset[0, 0], offset[1, 0] = 12.0, -12.0
    basis = rng.normal(size=(K, D, 2)) * 3.0
    basis[:2] = 0.0
    G = centering_matrix(K)
    C = np.einsum("kj,kdm->jdm", G, basis).reshape((K - 1) * D, 2)
    d = (G.T @ offset).reshape(-1)
    sig = np.ones(K) if sigmasq is None else np.asarray(sigmasq, dtype=float)
    Ys, confs, truth, clean, scales = [], [], [], [], []
    for T in lengths:
        x, z = arhmm.sample(T, rng)
        h = np.cumsum(rng.normal(scale=0.05, size=T))
        v = np.cumsum(rng.normal(scale=0.7, size=(T, D)), axis=0) + 100.0
        conf = rng.uniform(0.6, 1.0, size=(T, K))
        s0 = 10 ** (2 * (-0.5 * np.log10(conf + 1e-3 + 1e-6) + 0.25))
        s = 5 * s0 / rng.chisquare(5, size=(T, K))
        Y = estimate_keypoints(x, v, h, C, d)
        clean.append(Y.copy())
        scales.append(s)
        Y += np.sqrt(s * sig)[..., None] * rng.standard_normal((T, K, D))
        Ys.append(Y)
        confs.append(conf)
        truth.append(z)
    planted.geometry = (C, d)  # the true loadings and offset of the last call
    planted.clean, planted.scales = clean, scales  # its keypoints without noise, its s
    return Ys, confs, truth


def small_slds(**kw):
    kp = kw.pop("keypoint_prior", KeypointPrior())
    return KeypointSLDS(
        num_states=8,
        num_lags=2,
        latent_dim=2,
        prior=MoseqPrior(kappa=kw.pop("kappa", 100.0)),
        keypoint_prior=kp,
        anterior=[0],
        posterior=[1],
        **kw,
    )


# --------------------------------------------------------------------------- the log joint


def test_recorded_log_joint_equals_the_reference_log_joint():
    Ys, confs, _ = planted(lengths=(120, 90))
    model = small_slds(keypoint_prior=KeypointPrior(resample_sigmasq=True, nu_sigma=5.0))
    fit = model.fit(
        Ys, confs, num_ar_iters=2, num_full_iters=3, seed=3, progress=False, marginals_from_last=2
    )
    assert all(len(v) == 6 for v in fit.log_joint.values())
    for marg, z in zip(fit.marginals, fit.syllables, strict=True):  # sampled syllables counted
        assert marg.shape == (len(z), 8) and np.allclose(marg.sum(axis=1), 1.0)
        assert np.all(marg[np.arange(len(z)), z] >= 0.5)  # the last sample is one of the two
    sequences, _ = model.prepare(Ys, confs)
    p = model.get_params()
    total = dict.fromkeys(fit.log_joint, 0.0)
    for data, st in zip(sequences, fit.run.local_states, strict=True):
        Y, s0, _ = sweep.unpack_recording(data, 2)
        ref = log_joint_keypoint_slds(
            Y, st["latent"], st["centroid"], st["heading"], st["scales"], st["syllables"],
            p["transition_matrix"], p["ar_weights"], p["ar_covs"], p["loadings"], p["offset"],
            s0, model.keypoint_prior.nu_s, model.sigmasq_loc, p["sigmasq"],
        )  # fmt: skip
        total = {k: total[k] + ref[k] for k in total}
    for k, v in total.items():
        assert fit.log_joint[k][-1] == pytest.approx(v, rel=1e-12, abs=1e-9), k


# --------------------------------------------------------------------------- Geweke


T_G, K_G, S_G = 12, 3, 3
GEWEKE_PRIOR = KeypointPrior(
    nu_s=5.0, sigmasq_loc=0.3, centroid_initial_var=1.0, resample_sigmasq=True,
    nu_sigma=8.0, sigmasq_0=1.0,
)  # fmt: skip


def _geweke_model():
    rng = np.random.default_rng(99)
    model = KeypointSLDS(
        num_states=S_G, num_lags=1, latent_dim=2,
        prior=MoseqPrior(gamma=3.0, alpha=3.0, kappa=4.0, S_0_scale=0.4, K_0_scale=0.1, nu_0=7.0),
        keypoint_prior=GEWEKE_PRIOR, anterior=[0], posterior=[1], latent_initial_var=1.0,
    )  # fmt: skip
    model.num_keypoints, model.num_dims = K_G, 2
    model.loadings = rng.normal(size=((K_G - 1) * 2, 2)) * 0.7
    model.offset = rng.normal(size=(K_G - 1) * 2)
    return model


def _prior_draw(model, rng):
    model.initialize(rng)
    kp = model.keypoint_prior
    model.sigmasq = kp.nu_sigma * kp.sigmasq_0 / rng.chisquare(kp.nu_sigma, size=K_G)


def _functionals(p, st, Y):
    z, x, h, v, s = (st[k] for k in ("syllables", "latent", "heading", "centroid", "scales"))
    return np.array([
        p["global_weights"][0], np.mean(np.diag(p["transition_matrix"])),
        np.linalg.slogdet(p["ar_covs"][0])[1], p["ar_weights"][0, 0, 0], p["ar_weights"][1, 0, -1],
        np.mean(z[1:] == z[:-1]), np.mean(z == 1), np.mean(x[:, 0] ** 2) ** 0.25,
        np.mean(np.cos(h)), np.mean(np.sin(h)), np.mean(np.diff(v, axis=0) ** 2),
        np.mean(np.log(s)), np.log(p["sigmasq"][0]), np.log(np.mean((Y - v[:, None]) ** 2)),
    ])  # fmt: skip


def _redraw_keypoints(rng, p, st):
    pose = rotate(sweep.aligned_pose(st["latent"], p["loadings"], p["offset"], K_G), st["heading"])
    sd = np.sqrt(st["scales"] * p["sigmasq"])[..., None]
    return pose + st["centroid"][:, None, :] + sd * rng.standard_normal(pose.shape)


def _global_stats(model, p, st, Y, s0):
    mask = np.ones(T_G, bool)
    out = ar.sequence_stats(st["latent"], st["syllables"], mask, S_G, 1)
    pose = rotate(sweep.aligned_pose(st["latent"], p["loadings"], p["offset"], K_G), st["heading"])
    e = np.sum((Y - pose - st["centroid"][:, None, :]) ** 2, axis=-1)
    out["noise_sq_over_scale"] = np.sum(e / st["scales"], axis=0)
    out["noise_frames"] = np.array(float(T_G))
    return out


def _geweke(n, seed):
    model, s0 = _geweke_model(), np.ones((T_G, K_G))
    desc = model.describe()
    rng = np.random.default_rng(seed)
    mc = []
    for _ in range(n):
        _prior_draw(model, rng)
        Y, st = sweep.sample_keypoint_slds(rng, model.get_params(), desc, s0)
        mc.append(_functionals(model.get_params(), st, Y))
    rng = np.random.default_rng(seed + 1)
    _prior_draw(model, rng)
    Y, st = sweep.sample_keypoint_slds(rng, model.get_params(), desc, s0)
    sc, mask = [], np.ones(T_G, bool)
    for _ in range(n):
        model.global_step(_global_stats(model, model.get_params(), st, Y, s0), rng)
        data = np.concatenate([Y, s0[..., None], np.ones((T_G, K_G, 1))], axis=-1)
        seed_ = np.random.SeedSequence(int(rng.integers(2**63)))
        st = sweep.keypoint_local_step(model.local_params(), desc, data, mask, st, seed_)[0]
        Y = _redraw_keypoints(rng, model.get_params(), st)
        sc.append(_functionals(model.get_params(), st, Y))
    return np.array(mc), np.array(sc)[n // 20 :]


def geweke_statistics(n, seed):
    """z-scores of the 14 functionals' means and KS p-values (successive-conditional draws
    thinned by 10 against the marginal-conditional ones)."""
    mc, sc = _geweke(n, seed)
    se_mc = mc.std(axis=0, ddof=1) / np.sqrt(len(mc))
    b = sc[: len(sc) // 40 * 40].reshape(40, -1, sc.shape[1]).mean(axis=1)
    se_sc = b.std(axis=0, ddof=1) / np.sqrt(40)
    z = (mc.mean(axis=0) - sc.mean(axis=0)) / np.sqrt(se_mc**2 + se_sc**2)
    thin = sc[::10]
    p = np.array([stats.ks_2samp(mc[:, j], thin[:, j]).pvalue for j in range(mc.shape[1])])
    print("Geweke z:", np.round(z, 2), "KS p:", np.round(p, 3))
    return z, p


def test_geweke_keypoint_slds():
    z, p = geweke_statistics(n=1000, seed=2)
    assert np.all(np.abs(z) < 4.0), np.round(z, 2)
    assert p.min() > 1e-3 / len(p), np.round(p, 4)  # Bonferroni over the functionals


@pytest.mark.slow
def test_geweke_keypoint_slds_long():
    z, p = geweke_statistics(n=8000, seed=1)
    assert np.all(np.abs(z) < 4.0), np.round(z, 2)
    assert p.min() > 1e-3 / len(p), np.round(p, 4)


# --------------------------------------------------------------------------- recovery

#: an easy problem: ethogram's k-means start (from the prior start, as keypoint-moseq, a few
#: seeds merge two syllables within these sweeps), kappa 100 in both stages
EASY = {
    "num_ar_iters": 30,
    "num_full_iters": 20,
    "kappa_full": 100.0,
    "init": "kmeans",
    "progress": False,
}


def _distances(a, b):
    return np.concatenate([np.linalg.norm(x - y, axis=-1).ravel() for x, y in zip(a, b)])


@pytest.mark.parametrize("D", [2, 3])
def test_recovers_planted_syllables(D):
    Ys, confs, truth = planted(D=D, seed=0)
    model = small_slds()
    fit = model.fit(Ys, confs, **EASY, seed=0)
    acc = matched_accuracy([s[2:] for s in fit.syllables], truth)
    print(f"D={D}: matched accuracy {acc:.3f}")
    assert acc >= 0.9
    assert all(k.shape == Y.shape for k, Y in zip(fit.keypoints, Ys, strict=True))
    err = np.median(_distances(fit.keypoints, planted.clean))
    noise = np.median(_distances(Ys, planted.clean))
    print(f"median distance to the true keypoints: estimated {err:.2f}, tracked {noise:.2f}")
    assert err < 0.7 * noise  # the estimate is closer to the truth than the tracked points


def test_noise_variances_inside_their_posterior_intervals():
    """The sampler's sigmasq posterior covers the truth given the true PCA geometry (the PCA
    of keypoint-MoSeq, fixed after the start, tilts towards the noisiest keypoints and biases
    sigmasq: that is the model's start, not its sampler)."""
    true = np.array([0.5, 1.0, 2.0, 4.0, 1.0])
    Ys, confs, _ = planted(lengths=(300, 300), sigmasq=true, seed=8)
    kp = KeypointPrior(resample_sigmasq=True, nu_sigma=1.0, sigmasq_0=1.0, sigmasq_loc=0.49)
    model = small_slds(keypoint_prior=kp)
    sequences, masks = model.prepare(Ys, confs)
    model.fit_pca(sequences)
    model.loadings, model.offset = planted.geometry
    draws = []
    real = model.global_step

    def global_step(stats, rng):  # record every draw of sigmasq
        real(stats, rng)
        draws.append(model.sigmasq.copy())

    model.global_step = global_step
    run_gibbs(model, sequences, masks, GibbsSettings(num_iters=50), seed=2, progress=False,
              initialize=lambda rng: model.initialize(rng, sequences, "kmeans"))  # fmt: skip
    draws = np.array(draws[20:])
    mean, sd = draws.mean(axis=0), draws.std(axis=0, ddof=1)
    print("sigmasq posterior mean", np.round(mean, 2), "sd", np.round(sd, 2), "true", true)
    assert np.all(np.abs(mean - true) < 3.5 * sd)


def test_missing_keypoints_are_inferred_and_no_frame_is_dropped():
    Ys, confs, truth = planted(lengths=(250,), seed=4)
    clean = planted.clean[0]
    Y = Ys[0].copy()
    Y[50:80, 2] = np.nan  # one body part lost for a second
    Y[120:125] = np.nan  # every body part lost for 5 frames
    model = small_slds()
    fit = model.fit([Y], confs, **EASY, seed=0)
    z = fit.syllables[0]
    assert z.shape == (250,) and np.all(z >= 0)
    est = fit.keypoints[0]
    assert np.all(np.isfinite(est)) and np.all(np.isfinite(fit.latent[0]))
    gap = np.median(np.linalg.norm(est[50:80, 2] - clean[50:80, 2], axis=-1))
    w = np.linspace(0, 1, 32)[1:-1, None]
    line = (1 - w) * Y[49, 2] + w * Y[80, 2]  # what interpolating the tracked points gives
    interp = np.median(np.linalg.norm(line - clean[50:80, 2], axis=-1))
    seen = np.median(np.linalg.norm(est[150:] - clean[150:], axis=-1))
    print(
        f"median error in the gap: inferred {gap:.2f}, interpolated {interp:.2f}; seen {seen:.2f}"
    )
    assert gap < interp and gap < 1.5 * seen  # inferred from the pose and the other points
    nv = fit.noise_variance[0]
    assert np.median(nv[50:80, 2]) > 10 * np.median(nv[:50, 2])  # known to be uncertain
    assert matched_accuracy([z[2:]], truth) >= 0.85


def test_same_bits_on_every_executor():
    Ys, confs, _ = planted(lengths=(80, 60, 70))

    def fit(ex):
        m = small_slds()
        return m.fit(Ys, confs, num_ar_iters=2, num_full_iters=2, seed=11, executor=ex,
                     progress=False)  # fmt: skip

    ref = fit(SerialExecutor())
    with ProcessPoolExecutor(2) as pool:
        others = [fit(ThreadExecutor(2)), fit(pool)]
    for other in others:
        assert other.log_joint.keys() == ref.log_joint.keys()
        for k in ref.log_joint:
            np.testing.assert_array_equal(other.log_joint[k], ref.log_joint[k])
        for a, b in zip(ref.run.local_states, other.run.local_states, strict=True):
            for k in a:
                np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        for k in ref.run.params:
            np.testing.assert_array_equal(ref.run.params[k], other.run.params[k], err_msg=k)


def test_apply_and_description_round_trip():
    import json

    Ys, confs, truth = planted(lengths=(200,), seed=5)
    model = small_slds()
    fit = model.fit(Ys, confs, **EASY, seed=0)
    copy = KeypointSLDS.from_description(json.loads(json.dumps(model.describe())),
                                         model.get_params())  # fmt: skip
    a = copy.apply(Ys, confs, num_iters=5, seed=3, progress=False)
    b = model.apply(Ys, confs, num_iters=5, seed=3, progress=False)
    np.testing.assert_array_equal(a.syllables[0], b.syllables[0])
    assert matched_accuracy([a.syllables[0][2:]], truth) >= 0.85
    assert matched_accuracy([a.syllables[0]], [fit.syllables[0]]) >= 0.85
    with pytest.raises(ValueError, match="keypoints"):
        model.apply(np.zeros((50, 3, 2)), progress=False)
