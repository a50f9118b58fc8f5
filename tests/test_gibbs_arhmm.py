"""MoSeq's sticky HDP-ARHMM (ethogram.models.moseq_arhmm): jax-moseq's numbers, recovery, API.

- jax-moseq 0.3.7's own log joint (groups z and x), marginal log-likelihood and AR
  log-likelihoods on its own sample (tests/data/arhmm_jax_moseq.npz, written by
  ``bench/jax_moseq_arhmm.py fixture`` in the reference environment: parameters and
  syllables after its init and 3 sweeps, padding as keypoint-moseq pads) equal ethogram's to
  relative 1e-10;
- the log joint the loop records equals the model's recomputation by an independent path;
- on sequences drawn from a sticky ARHMM (5 syllables, 3-D, 3300 frames), a fit with MoSeq's
  defaults (100 states, kappa 1e6, prior start) finds the syllables: matched accuracy >= 0.9
  (Hungarian matching, scipy); also from the k-means start;
- description and parameters round-trip (JSON, no pickle); predict's three methods; sample;
  the empirical-Bayes S_0 against a least-squares fit; whitening; input checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from _arhmm_data import draw_sequences, small_model, true_model
from ethogram.fitting.gibbs import GibbsSettings
from ethogram.inference import forward_pass
from ethogram.models.gibbs import arhmm as sweep
from ethogram.models.moseq_arhmm import MoseqPrior, StickyHDPARHMM
from ethogram.prep.whitening import Whitening

FIXTURE = Path(__file__).with_name("data") / "arhmm_jax_moseq.npz"


def _rel(a, b):
    return abs(a - b) / abs(b)


def test_log_joint_equals_jax_moseq():
    f = np.load(FIXTURE)
    assert str(f["jax_moseq_version"]) == "0.3.7"
    N, T, D = f["x"].shape
    K = f["pi"].shape[0]
    model = StickyHDPARHMM(D, num_states=K, num_lags=3)
    model.set_params(
        dict(
            global_weights=f["betas"],
            transition_matrix=f["pi"],
            ar_weights=f["Ab"],
            ar_covs=f["Q"],
            S_0=0.01 * np.eye(D),
        )
    )
    sequences, masks = list(f["x"]), [m > 0 for m in f["mask"]]
    ours = model.log_joint(sequences, list(f["z"]), masks)
    assert _rel(ours["z"], float(f["log_joint_z"])) < 1e-10
    assert _rel(ours["x"], float(f["log_joint_x"])) < 1e-10
    lp = model.local_params()
    mll = 0.0
    for x, m, ref in zip(sequences, masks, f["ar_log_likes"], strict=True):
        ll = sweep.masked_ar_log_likes(x, m, lp["scoring"], lp["half_logdet"], 3)
        scored = m[3:]
        np.testing.assert_allclose(ll[scored], ref[scored], rtol=1e-12)
        mll += forward_pass(np.full(K, 1.0 / K), f["pi"], ll)[1]
    assert _rel(mll, float(f["marginal_ll"])) < 1e-10


def test_recorded_log_joint_equals_recomputation():
    sequences, masks, _ = draw_sequences()
    model = small_model()
    fit = model.fit(sequences, masks, GibbsSettings(num_iters=5), seed=2, progress=False)
    zs = [s["syllables"] for s in fit.run.local_states]
    again = model.log_joint(sequences, zs, masks)
    for g in ("z", "x"):
        assert _rel(fit.log_joint[g][-1], again[g]) < 1e-12
    assert len(fit.log_joint["x"]) == 6


def _recovery_data():
    model = true_model(num_states=5, data_dim=3, num_lags=3, stay=0.98, seed=0)
    rng = np.random.default_rng(1)
    sequences, truth = [], []
    for T in (1800, 1500):
        x, z = model.sample(T, rng)
        sequences.append(x)
        truth.append(z)
    w = Whitening.fit(sequences)
    return [w.transform(x) for x in sequences], truth


def matched_accuracy(found, truth) -> float:
    found, truth = np.concatenate(found), np.concatenate(truth)
    C = np.zeros((found.max() + 1, truth.max() + 1))
    np.add.at(C, (found, truth), 1)
    rows, cols = linear_sum_assignment(-C)
    return C[rows, cols].sum() / truth.size


@pytest.mark.parametrize("seed", [0, 1])
def test_recovers_syllables_with_moseq_defaults(seed):
    sequences, truth = _recovery_data()
    fit = StickyHDPARHMM(3).fit(
        sequences, settings=GibbsSettings(num_iters=100), seed=seed, progress=False
    )
    assert matched_accuracy([s[3:] for s in fit.syllables], truth) >= 0.9


@pytest.mark.slow
@pytest.mark.parametrize(
    "seed, init", [(s, "prior") for s in range(2, 8)] + [(0, "kmeans"), (2, "kmeans")]
)
def test_recovers_syllables_more_seeds_and_kmeans_start(seed, init):
    sequences, truth = _recovery_data()
    fit = StickyHDPARHMM(3).fit(
        sequences, settings=GibbsSettings(num_iters=100), seed=seed, init=init, progress=False
    )
    assert matched_accuracy([s[3:] for s in fit.syllables], truth) >= 0.9


def test_description_and_params_round_trip():
    model = small_model(score_dtype="float32")
    model.kappa = 55.0
    sequences, masks, _ = draw_sequences()
    model.fit(sequences, masks, GibbsSettings(num_iters=2), seed=0, progress=False)
    desc = json.loads(json.dumps(model.describe()))
    copy = StickyHDPARHMM.from_description(desc, model.get_params())
    assert copy.describe() == model.describe() and copy.kappa == 55.0
    for k, v in model.get_params().items():
        np.testing.assert_array_equal(copy.get_params()[k], v)
    for a, b in zip(
        copy.predict(sequences, masks, seed=4), model.predict(sequences, masks, seed=4), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="StickyHDPARHMM.describe"):
        StickyHDPARHMM.from_description({"kind": "hmm"})
    with pytest.raises(ValueError, match="ar_covs"):
        model.set_params(dict(model.get_params(), ar_covs=np.eye(2)))
    with pytest.raises(ValueError, match="missing 'S_0'"):
        model.set_params({k: v for k, v in model.get_params().items() if k != "S_0"})
    with pytest.raises(ValueError, match="no parameters yet"):
        small_model().get_params()


def test_predict_methods():
    model = true_model()
    sequences, masks, truth = draw_sequences()
    vit = model.predict(sequences, masks, method="viterbi")
    marg = model.predict(sequences, masks, method="marginals")
    draw = model.predict(sequences, masks, method="sample", seed=3)
    for v, m, d, x, z in zip(vit, marg, draw, sequences, truth, strict=True):
        assert v.shape == d.shape == (len(x),) and m.shape == (len(x), model.num_states)
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-12)
        assert np.mean(v[2:] == z) > 0.95 and np.mean(d[2:] == z) > 0.9
        assert np.all(v[:2] == v[2])  # the first L frames take frame L's syllable
    again = model.predict(sequences, masks, method="sample", seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(draw, again))
    longer = model.predict(sequences, masks, method="sample", seed=3, num_iters=2)
    assert all(a.shape == b.shape for a, b in zip(draw, longer))
    with pytest.raises(ValueError, match="method must be"):
        model.predict(sequences, masks, method="mode")


def test_sample_given_syllables_and_shapes():
    model = true_model()
    x, z = model.sample(50, seed=0)
    assert x.shape == (50, 2) and z.shape == (48,)
    x2, z2 = model.sample(50, seed=1, syllables=z)
    np.testing.assert_array_equal(z2, z)


def test_empirical_bayes_S_0_is_the_least_squares_noise_covariance():
    sequences, masks, _ = draw_sequences()
    model = small_model()
    model.prior = MoseqPrior(kappa=100.0, empirical_bayes=True, nu_0=7.0)
    xs, ms = model.clean(sequences, masks)
    model.initialize(xs, ms, np.random.default_rng(0))
    U, Y = [], []
    for x, m in zip(xs, ms):
        t = np.flatnonzero(m[2:]) + 2
        U.append(np.hstack([x[t - 2], x[t - 1], np.ones((len(t), 1))]))
        Y.append(x[t])
    U, Y = np.concatenate(U), np.concatenate(Y)
    W = np.linalg.lstsq(U, Y, rcond=None)[0]
    R = Y - U @ W
    np.testing.assert_allclose(model.S_0, R.T @ R / len(R) * (7.0 - 2 - 1), rtol=1e-8)
    assert model.nu_0 == 7.0


def test_whitening():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 3)) @ np.array([[2.0, 0, 0], [1.0, 0.5, 0], [0.3, 0.2, 3.0]]) + 5
    x[10] = np.nan
    w = Whitening.fit([x[:300], x[300:]])
    y = w.transform(x)
    keep = np.isfinite(y).all(axis=1)
    np.testing.assert_allclose(np.cov(y[keep], rowvar=False), np.eye(3), atol=1e-12)
    np.testing.assert_allclose(y[keep].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(w.inverse_transform(y[keep]), x[keep], rtol=1e-12)
    assert np.isnan(y[10]).all()
    w2 = Whitening.from_dict(w.to_dict())
    np.testing.assert_array_equal(w2.transform(x[:5]), y[:5])
    with pytest.raises(ValueError, match="singular"):
        Whitening.fit(np.c_[x[keep], x[keep, 0]])
    with pytest.raises(ValueError, match="shape"):
        w.transform(x[:, :2])


def test_clean_sequences_masks_missing_frames_and_their_lags():
    x = np.arange(20.0).reshape(10, 2)
    x[4] = np.nan
    xs, ms = sweep.clean_sequences([x], [np.arange(10) != 8], num_lags=2, data_dim=2)
    np.testing.assert_array_equal(ms[0], [1, 1, 1, 1, 0, 0, 0, 1, 0, 0])
    assert np.isfinite(xs[0]).all()


@pytest.mark.parametrize(
    "sequences, masks, match",
    [
        (np.zeros((2, 2)), None, "T > num_lags"),
        (np.zeros((10, 3)), None, r"shape \(T, 2\)"),
        ([np.zeros((10, 2))], [np.ones(9, bool)], "masks\\[0\\]"),
        ([np.zeros((10, 2))], [np.ones(10)], "boolean"),
        ([np.full((10, 2), np.nan)], None, "no frame is scored"),
        ([np.zeros((10, 2))], [None, None], "one per sequence"),
    ],
)
def test_input_checks(sequences, masks, match):
    with pytest.raises(ValueError, match=match):
        small_model().fit(sequences, masks, GibbsSettings(num_iters=1), progress=False)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: MoseqPrior(gamma=0), "gamma"),
        (lambda: MoseqPrior(kappa=-1), "kappa"),
        (lambda: StickyHDPARHMM(0), "data_dim"),
        (lambda: StickyHDPARHMM(2, num_states=2.5), "num_states"),
        (lambda: StickyHDPARHMM(2, score_dtype="float16"), "score_dtype"),
        (lambda: small_model().fit(np.zeros((20, 2)), init="random"), "init must be"),
    ],
)
def test_argument_checks(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()
