"""Sequences too short for the model: left out of a fit with one warning, -1 / NaN outputs.

An autoregressive model of ``num_lags`` lags scores a frame only after ``num_lags`` earlier
ones, so a sequence of at most ``num_lags`` frames has none to score. In a batch such a
fragment is left out of the fit with one :class:`ShortSequenceWarning` naming it, and the fit
is exactly the fit without it; ``predict``, ``posterior`` and ``score`` return one output per
input (labels -1, NaN probabilities, NaN per-frame scores, nothing added to the total); only
when no sequence is long enough does ``fit`` raise, naming ``num_lags`` and the lengths. The
pipeline does the same for a recording shorter than ``num_lags + 1`` frames, naming it.
"""

import warnings

import numpy as np
import pytest

from ethogram import HMM, AutoregressiveHMM
from ethogram.data import openfield_keypoints
from ethogram.io import Recording, read_recordings
from ethogram.models.short_sequences import ShortSequenceWarning
from ethogram.pipeline import apply_model, fit_recordings


def _walk(T, seed=0):
    return np.cumsum(np.random.default_rng(seed).normal(size=(T, 2)), axis=0)


def _ar():
    return HMM(2, "autoregressive", dict(data_dim=2, num_lags=3))


def _short_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, ShortSequenceWarning)]


def test_a_short_fragment_is_left_out_of_the_fit_with_one_warning():
    x = _walk(60)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with_fragment = _ar()
        result = with_fragment.fit([x[:2], x], seed=0)
    (message,) = _short_warnings(record)
    assert "sequence 0 (2 frames)" in message and "num_lags=3" in message and "left out" in message
    alone = _ar()
    reference = alone.fit([x], seed=0)
    for k, v in alone.get_params().items():  # the fit is exactly the fit without the fragment
        np.testing.assert_array_equal(with_fragment.get_params()[k], v, err_msg=k)
    np.testing.assert_array_equal(result.objectives, reference.objectives)
    first, second = result.posterior
    assert first.expected_states.shape == (2, 2) and np.isnan(first.expected_states).all()
    assert np.isnan(first.marginal_ll)
    np.testing.assert_array_equal(second.expected_states, reference.posterior[0].expected_states)


def test_predict_posterior_and_score_give_one_output_per_input():
    x = _walk(60)
    model = _ar()
    model.fit(x, seed=0)
    batch = [x[:3], x, x[:1]]
    with pytest.warns(
        ShortSequenceWarning, match=r"sequence 0 \(3 frames\), sequence 2 \(1 frame\)"
    ):
        labels = model.predict(batch)
    assert [z.shape for z in labels] == [(3,), (60,), (1,)]
    assert (labels[0] == -1).all() and (labels[2] == -1).all()
    np.testing.assert_array_equal(labels[1], model.predict(x))
    with pytest.warns(ShortSequenceWarning):
        marginal = model.predict(batch, method="marginal")
    np.testing.assert_array_equal(marginal[1], model.predict(x, method="marginal"))
    assert (marginal[0] == -1).all()
    with pytest.warns(ShortSequenceWarning):
        posts = model.posterior(batch)
    assert (
        np.isnan(posts[0].expected_states).all() and np.isnan(posts[2].expected_transitions).all()
    )
    np.testing.assert_array_equal(posts[1].expected_states, model.posterior(x).expected_states)
    with pytest.warns(ShortSequenceWarning):
        total = model.score(batch)
    assert total == model.score(x)
    with pytest.warns(ShortSequenceWarning):
        frames = model.score(batch, per_frame=True)
    assert np.isnan(frames[0]).all() and np.isnan(frames[2]).all()
    np.testing.assert_array_equal(frames[1], model.score(x, per_frame=True))
    with pytest.warns(ShortSequenceWarning):  # a lone short sequence: no label, no error
        np.testing.assert_array_equal(model.predict(x[:2]), [-1, -1])


def test_no_sequence_long_enough_raises_naming_num_lags_and_lengths():
    x = _walk(10)
    with pytest.raises(
        ValueError, match=r"num_lags=3.*sequence 0 \(2 frames\), sequence 1 \(3 frames\)"
    ):
        _ar().fit([x[:2], x[:3]])
    with pytest.raises(ValueError, match="num_lags"):
        _ar().fit(x[:3])


def test_course_class_and_models_without_lags():
    x = _walk(60)
    with pytest.warns(ShortSequenceWarning, match="sequence 0"):
        AutoregressiveHMM(2, 2, num_lags=3).fit([x[:2], x], num_iters=5, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ShortSequenceWarning)  # one frame is enough without lags
        model = HMM(2, "gaussian", dict(data_dim=2))
        model.fit([x[:1], x], num_iters=5, seed=0)
        assert model.predict([x[:1], x])[0].shape == (1,)
    assert model.observations.min_frames == 1 and _ar().observations.min_frames == 4


# ---------------------------------------------------------------------- the pipeline
@pytest.fixture(scope="module")
def pieces():
    rec = read_recordings([str(openfield_keypoints())], format="dlc", fps=30.0)[0]

    def piece(name, sl):
        return Recording(
            name=name,
            data=rec.data[sl],
            kind="keypoints",
            fps=rec.fps,
            bodyparts=rec.bodyparts,
            confidence=rec.confidence[sl],
            source=rec.source,
            format=rec.format,
        )

    return [
        piece("first", slice(0, 1200)),
        piece("fragment", slice(1200, 1203)),
        piece("rest", slice(1203, 2400)),
    ]


def test_pipeline_leaves_out_a_recording_shorter_than_num_lags_plus_one(pieces):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        res = fit_recordings(
            pieces, num_states=4, num_iters=5, seed=0, expected_states=True, progress=False
        )
    (message,) = _short_warnings(record)
    assert "'fragment' (3 frames)" in message and "num_lags=3" in message
    frag = res.recordings[1]
    assert frag.name == "fragment" and frag.syllables.shape == (3,) and (frag.syllables == -1).all()
    assert np.isnan(frag.expected_states).all()
    assert all((r.syllables >= 0).any() for r in (res.recordings[0], res.recordings[2]))
    assert res.fit["usable_frames"] <= 2397
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        applied = apply_model(res, pieces)
    assert len(_short_warnings(record)) == 1
    for a, b in zip(applied.recordings, res.recordings):
        np.testing.assert_array_equal(a.syllables, b.syllables)
    with pytest.raises(ValueError, match=r"num_lags=3.*'fragment' \(3 frames\)"):
        fit_recordings([pieces[1]], num_states=2, num_iters=2, progress=False)


def test_cli_fit_and_apply_name_a_short_recording_in_one_line(tmp_path, capsys):
    from ethogram.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    x = _walk(400)
    np.save(folder / "long.npy", x)
    np.save(folder / "frag.npy", x[:3])
    out = tmp_path / "out"
    assert (
        main(
            [
                "fit",
                str(folder),
                "--fps",
                "30",
                "--states",
                "2",
                "--iters",
                "5",
                "-o",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err.splitlines()
    (line,) = [e for e in err if "frag" in e]
    assert line.startswith("ethogram: warning: 'frag' (3 frames)") and "num_lags=3" in line
    assert (
        main(
            [
                "apply",
                str(out / "results.h5"),
                str(folder),
                "--fps",
                "30",
                "-o",
                str(tmp_path / "applied"),
                "--quiet",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err.splitlines()
    assert len([e for e in err if "frag" in e and e.startswith("ethogram: warning:")]) == 1
