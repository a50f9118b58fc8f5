"""The job, recordings to syllables: syllables numbered by frequency in the model and the labels,
the same seed gives the same labels, a saved model applied to its training data gives the fit's
labels, masked frames are -1, and the results file round trip keeps everything needed to apply."""

import numpy as np
import pytest

from conftest import DATA
from ethogram.analysis import syllable_usage
from ethogram.data import openfield_keypoints
from ethogram.io import Recording, read_recordings
from ethogram.pipeline import apply_model, fit_recordings
from ethogram.prep import Preparation
from ethogram.results import load_model, load_results, write_results


@pytest.fixture(scope="module")
def openfield():
    return read_recordings([str(openfield_keypoints())], format="dlc", fps=30.0)


def _halves(rec):
    T = rec.num_frames // 2
    out = []
    for i, sl in enumerate((slice(0, T), slice(T, None))):
        out.append(
            Recording(
                name=f"half{i}",
                data=rec.data[sl],
                kind="keypoints",
                fps=rec.fps,
                bodyparts=rec.bodyparts,
                confidence=rec.confidence[sl],
                source=rec.source,
                format=rec.format,
            )
        )
    return out


@pytest.fixture(scope="module")
def fitted(openfield):
    recs = _halves(openfield[0])
    return recs, fit_recordings(recs, num_states=6, num_iters=15, seed=3, expected_states=True)


def test_labels_are_numbered_by_frequency_in_model_and_labels(fitted):
    recs, res = fitted
    labels = res.syllables()
    K = res.num_states
    # instances (runs) per syllable, counted here independently of ethogram.analysis
    inst = np.zeros(K, dtype=int)
    for z in labels.values():
        starts = np.flatnonzero(np.r_[True, z[1:] != z[:-1]])
        for k in z[starts]:
            if k >= 0:
                inst[k] += 1
    assert np.all(np.diff(inst) <= 0), inst
    # the model itself is renumbered: Viterbi with the stored model gives the stored labels
    preds = res.model.predict(
        [r.inputs for r in res.recordings], mask=[r.mask for r in res.recordings]
    )
    for r, p in zip(res.recordings, preds):
        np.testing.assert_array_equal(np.where(r.mask, p, -1), r.syllables)
    # usage table agrees with the labels: instances, frames and both fractions, per recording
    usage = syllable_usage(labels, K)
    assert len(usage) == K * len(labels)
    for name, z in labels.items():
        rows = usage[usage["recording"] == name].sort_values("syllable")
        assert rows["syllable"].tolist() == list(range(K))
        starts = np.flatnonzero(np.r_[True, z[1:] != z[:-1]])
        runs_here = np.array([np.sum(z[starts] == k) for k in range(K)])
        frames_here = np.array([np.sum(z == k) for k in range(K)])
        np.testing.assert_array_equal(rows["instances"], runs_here)
        np.testing.assert_array_equal(rows["frames"], frames_here)
        np.testing.assert_allclose(rows["usage"], runs_here / runs_here.sum())
        np.testing.assert_allclose(rows["frame_usage"], frames_here / np.sum(z >= 0))


def test_masked_frames_are_minus_one_and_shapes(fitted):
    recs, res = fitted
    for rec, r in zip(recs, res.recordings):
        T = rec.num_frames
        assert r.syllables.shape == (T,) and r.mask.shape == (T,)
        assert np.all(r.syllables[~r.mask] == -1) and np.all(r.syllables[r.mask] >= 0)
        assert np.all(r.syllables < res.num_states)
        assert r.inputs.shape[0] == T and r.centroid.shape == (T, 2) and r.heading.shape == (T,)
        assert r.expected_states.shape == (T, res.num_states)
        np.testing.assert_allclose(r.expected_states[r.mask].sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_array_equal(r.keypoints, rec.data)
        assert r.bodyparts == rec.bodyparts and r.fps == 30.0
    assert res.config["num_states"] == 6 and res.config["seed"] == 3
    assert res.config["kappa"] is None
    # the default kappa is searched (ethogram.stickiness): kappa 0 first, the chosen one among
    # those fitted
    kappas = [row["kappa"] for row in res.config["kappa_search"]]
    assert kappas[0] == 0.0 and res.config["kappa_used"] in kappas
    assert res.config["target_duration"] == 0.4
    assert res.fit["usable_frames"] == sum(int(r.mask.sum()) for r in res.recordings)
    obj = res.fit["objectives"]
    assert len(obj) == res.fit["num_iters"] + 1 and np.all(np.diff(obj) >= -1e-8 * np.abs(obj[:-1]))


def test_same_seed_same_labels(fitted):
    recs, res = fitted
    again = fit_recordings(recs, num_states=6, num_iters=15, seed=3)
    for a, b in zip(res.recordings, again.recordings):
        np.testing.assert_array_equal(a.syllables, b.syllables)
    for k, v in res.model.get_params().items():
        np.testing.assert_array_equal(again.model.get_params()[k], v)


def test_kappa_auto_is_the_search_as_in_cross_validate_and_the_command(fitted):
    recs, res = fitted
    auto = fit_recordings(recs, num_states=6, num_iters=15, seed=3, kappa="auto")
    assert auto.config["kappa_used"] == res.config["kappa_used"]

    def curve(config):  # the search's rows, their timings aside
        return [{k: v for k, v in row.items() if k != "seconds"} for row in config["kappa_search"]]

    assert curve(auto.config) == curve(res.config) and len(curve(res.config)) > 1
    for a, b in zip(auto.recordings, res.recordings):
        np.testing.assert_array_equal(a.syllables, b.syllables)


def test_fit_then_apply_gives_the_same_labels(fitted, tmp_path):
    recs, res = fitted
    in_memory = apply_model(res, recs)
    path = write_results(tmp_path / "fit.h5", res)
    from_file = apply_model(path, recs, expected_states=True)
    for a, b, c in zip(res.recordings, in_memory.recordings, from_file.recordings):
        np.testing.assert_array_equal(b.syllables, a.syllables)
        np.testing.assert_array_equal(c.syllables, a.syllables)
        np.testing.assert_array_equal(c.inputs, a.inputs)
        np.testing.assert_allclose(c.expected_states, a.expected_states, atol=1e-6)
    assert from_file.config["command"] == "apply" and from_file.config["model_file"] == str(path)


def test_apply_to_new_recording_uses_training_preparation(fitted, openfield):
    recs, res = fitted
    # the whole recording, never seen as one piece: prepared with the halves' PCA and scales
    out = apply_model(res, openfield)
    prep = Preparation.from_dict(res.preparation.to_dict())
    (p,) = prep.transform(openfield)
    np.testing.assert_array_equal(out.recordings[0].inputs, p.inputs)
    assert out.recordings[0].syllables.shape == (openfield[0].num_frames,)


def test_saved_model_and_preparation_round_trip(fitted, tmp_path):
    recs, res = fitted
    write_results(tmp_path / "fit.h5", res)
    model, prep = load_model(tmp_path / "fit.h5")
    for k, v in res.model.get_params().items():
        np.testing.assert_array_equal(model.get_params()[k], v)
    a, b = res.preparation.transform(recs), prep.transform(recs)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.inputs, y.inputs)
        np.testing.assert_array_equal(x.mask, y.mask)
    back = load_results(tmp_path / "fit.h5")
    np.testing.assert_array_equal(back.fit["objectives"], res.fit["objectives"])


def test_missing_frame_rate_asks_for_fps(openfield):
    rec = openfield[0]
    bare = Recording(name="nofps", data=rec.data, kind="keypoints", bodyparts=rec.bodyparts)
    with pytest.raises(ValueError, match="fps"):
        fit_recordings([bare], num_states=2, num_iters=1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        fit_recordings([], num_states=2)
    rec = Recording(name="x", data=np.zeros((50, 2)), kind="features", fps=30.0)
    with pytest.raises(ValueError, match="num_states"):
        fit_recordings([rec], num_states=0)
    with pytest.raises(ValueError, match="kappa"):
        fit_recordings([rec], num_states=2, kappa=-1.0)
    # a word other than "auto" is refused by name, not by a numpy TypeError
    with pytest.raises(ValueError, match=r"kappa must be a non-negative number, or 'auto'"):
        fit_recordings([rec], num_states=2, kappa="sticky")
    with pytest.raises(ValueError, match="unique"):
        fit_recordings([rec, rec], num_states=2)
    with pytest.raises(TypeError):
        fit_recordings([np.zeros((5, 2))], num_states=2)


@pytest.mark.skipif(not (DATA / "moseq2").exists(), reason="moseq2 recording absent")
def test_moseq2_features_with_dropped_frames():
    recs = read_recordings([str(DATA / "moseq2" / "proc" / "results_00.h5")])
    res = fit_recordings(recs, num_states=5, num_iters=10, seed=0, prep=Preparation(num_pcs=10))
    r = res.recordings[0]
    assert r.inputs.shape[1] == 10
    raw = recs[0].data
    dropped = np.isnan(raw).any(axis=1)
    assert np.all(r.syllables[dropped] == -1)
    assert np.all(r.syllables[~dropped & r.mask] >= 0)
