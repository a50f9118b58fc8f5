"""Frame rates (issue 18): one rule, mixed rates refused, a model's rate checked and offered,
the video's rate taken when the file has none.

Recordings are NWB files written as DeepLabCut's dlc2nwb writes them (timestamps in seconds, or
frame numbers 0, 1, 2, ... when it did not know the rate) and plain arrays; videos are small
h264 files written with imageio-ffmpeg.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from _pose_files import BODYPARTS, mouse, write_pose_nwb, write_video
from ethogram.cli import main
from ethogram.io import Recording, read_recordings
from ethogram.io.rates import (
    FrameRateWarning,
    common_frame_rate,
    fps_from_timestamps,
    frame_rate,
    video_frame_rate,
)


def _rec(name, fps=None, timestamps=None, T=300, seed=0):
    return Recording(
        name, mouse(T, seed), "keypoints", fps=fps, timestamps=timestamps, bodyparts=BODYPARTS
    )


def _features(T=300, seed=0):
    return np.cumsum(np.random.default_rng(seed).normal(size=(T, 3)), axis=0)


# --------------------------------------------------------------------------- one rule
def test_one_rule_for_the_rate_of_timestamps():
    import ethogram.io.pose as pose
    import ethogram.pipeline as pipeline

    assert pose.fps_from_timestamps is fps_from_timestamps and pipeline.frame_rate is frame_rate
    rng = np.random.default_rng(1)
    ts = np.arange(3000) / 30.0 + rng.normal(0, 1e-4, 3000)  # clock jitter
    ts = np.delete(ts, [100, 101, 102, 2000])  # dropped frames
    # the mean of the regular steps (within 1.5x of the median), by hand
    d = np.diff(ts)
    regular = d[(d > np.median(d) / 1.5) & (d < np.median(d) * 1.5)]
    assert frame_rate(None, ts) == pytest.approx(1 / regular.mean(), rel=1e-12)
    assert frame_rate(None, ts) == pytest.approx(30.0, rel=1e-4)
    assert frame_rate(25.0, ts) == 25.0  # a given rate wins
    assert frame_rate(None, None) is None and frame_rate(None, [1.0]) is None
    # a recording with timestamps only: the same rule in the fit and in the check of rates
    rec = _rec("a", timestamps=ts[:300])
    assert common_frame_rate([rec]) == frame_rate(None, ts[:300])


# --------------------------------------------------------------------------- mixed rates
def test_recordings_at_30_and_120_fps_are_refused_naming_both(tmp_path):
    from ethogram.pipeline import fit_recordings

    recs = [
        _rec("slow", fps=30.0),
        _rec("fast", fps=120.0, seed=1),
        _rec("slow2", fps=29.97, seed=2),
    ]
    with pytest.raises(ValueError) as e:
        fit_recordings(recs, num_states=3, num_iters=2)
    msg = str(e.value)
    assert "('slow', 'slow2' at 29.97-30 fps; 'fast' at 120 fps)" in msg
    assert "fit each frame rate separately" in msg and "resample" in msg
    # 29.97 and 30 are one rate (1%): fitted together
    res = fit_recordings(recs[::2], num_states=3, num_iters=2, progress=False)
    assert res.config["fps"] == pytest.approx(np.median([30.0, 29.97]))


def test_cli_refuses_mixed_rates_in_one_line_before_reading_the_fit(tmp_path, capsys):
    kp = mouse(300)
    write_pose_nwb(tmp_path / "s30.nwb", kp, np.arange(300) / 30.0)
    write_pose_nwb(tmp_path / "s120.nwb", kp, np.arange(300) / 120.0)
    out = tmp_path / "out"
    code = main(
        [
            "fit",
            str(tmp_path / "s30.nwb"),
            str(tmp_path / "s120.nwb"),
            "-o",
            str(out),
            "--states",
            "3",
            "--iters",
            "2",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith(
        "ethogram: error: the recordings run at 2 frame rates ('s30' at 30 fps; 's120' at 120 fps)"
    )
    assert not out.exists()  # nothing written, not even the folder


def test_select_and_the_kappa_search_use_the_same_rule():
    from ethogram.selection import fit_to_target_duration

    with pytest.raises(ValueError, match="2 frame rates"):
        fit_to_target_duration(
            [_rec("a", fps=30.0), _rec("b", fps=60.0, seed=1)], 0.4, num_states=3
        )


# --------------------------------------------------------------------------- a model's rate
@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from ethogram.pipeline import fit_recordings
    from ethogram.results import write_results

    tmp = tmp_path_factory.mktemp("model")
    train = Recording("train", _features(400), "features", fps=30.0)
    res = fit_recordings([train], num_states=3, num_iters=3, progress=False)
    write_results(tmp / "results.h5", res, csv=False)
    return tmp / "results.h5"


def test_apply_model_in_python_warns_about_another_rate(model):
    from ethogram.pipeline import apply_model

    with pytest.warns(FrameRateWarning) as w:
        res = apply_model(model, [Recording("fast", _features(), "features", fps=120.0)])
    (msg,) = [str(x.message) for x in w if issubclass(x.category, FrameRateWarning)]
    assert msg.startswith("recording 'fast' is at 120 fps, but the model") and "at 30 fps" in msg
    assert w[0].filename == __file__  # points at the caller's line
    assert res.recordings[0].fps == 120.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        apply_model(
            model, [Recording("same", _features(), "features", fps=30.2)]
        )  # within 1%: no warning


def test_apply_model_takes_the_models_rate_for_a_recording_without_one(model):
    from ethogram.pipeline import apply_model

    rec = Recording("plain", _features(), "features")
    with pytest.warns(
        FrameRateWarning,
        match="recording 'plain' has no frame rate; labelled at the model's 30 fps",
    ):
        res = apply_model(model, rec)
    assert (
        res.recordings[0].fps == 30.0 and rec.fps is None
    )  # the caller's recording is left as it was
    np.testing.assert_allclose(res.recordings[0].times(), np.arange(300) / 30.0)


def test_cli_apply_without_fps_takes_the_models_rate_in_one_line(model, tmp_path, capsys):
    np.save(tmp_path / "new.npy", _features(300, seed=5))
    code = main(
        ["apply", str(model), str(tmp_path / "new.npy"), "-o", str(tmp_path / "ap"), "--quiet"]
    )
    cap = capsys.readouterr()
    assert code == 0, cap.err
    # the rate is said once, in one line (the labels' own warnings may follow: on these random
    # features one syllable holds most frames, which apply now says too)
    rate = [line for line in cap.err.splitlines() if "no frame rate" in line]
    assert rate == [
        "ethogram: warning: recording 'new' has no frame rate; labelled at the model's "
        f"30 fps ({model}); give --fps if the recording runs at another rate"
    ]
    assert all(line.startswith("ethogram: warning: ") for line in cap.err.splitlines())
    from ethogram.results import load_results

    assert load_results(tmp_path / "ap" / "results.h5").recordings[0].fps == 30.0


# --------------------------------------------------------------------------- the video's rate
@pytest.mark.parametrize("source_video", [False, True])
def test_nwb_with_frame_numbers_takes_the_rate_of_its_video(tmp_path, capsys, source_video):
    write_video(tmp_path / "session.mp4", 300, 25)
    assert video_frame_rate(tmp_path / "session.mp4") == (25.0, 300)
    write_pose_nwb(
        tmp_path / "session.nwb",
        mouse(300),
        np.arange(300.0),
        video="session.mp4",
        source_video=source_video,
    )
    with pytest.warns(
        UserWarning,
        match="no frame rate in the file; 25 fps taken from its video session.mp4 "
        r"\(the same 300 frames\)",
    ):
        (rec,) = read_recordings(tmp_path / "session.nwb")
    assert rec.fps == 25.0 and rec.timestamps is None and rec.attrs["fps_from"] == "video"
    with pytest.warns(UserWarning, match=r"runs at 25 fps \(the same 300 frames\) but fps=30"):
        (given,) = read_recordings(tmp_path / "session.nwb", fps=30)  # a given rate wins, said
    assert given.fps == 30.0
    assert main(["info", str(tmp_path / "session.nwb")]) == 0
    assert "fps: 25 (from its video session.mp4)" in capsys.readouterr().out


def test_a_video_of_the_same_name_beside_the_nwb_file_is_its_video(tmp_path):
    write_video(tmp_path / "mouse3.mp4", 120, 30)
    write_pose_nwb(
        tmp_path / "mouse3.nwb", mouse(120), np.arange(120.0), video="C:/lab/fake_path.avi"
    )
    with pytest.warns(UserWarning, match="30 fps taken from its video mouse3.mp4"):
        (rec,) = read_recordings(tmp_path / "mouse3.nwb")
    assert rec.fps == 30.0 and rec.video_path == str((tmp_path / "mouse3.mp4").resolve())


def test_a_video_of_other_length_is_offered_not_taken(tmp_path, capsys):
    write_video(tmp_path / "session.mp4", 250, 25)
    write_pose_nwb(tmp_path / "session.nwb", mouse(300), np.arange(300.0), video="session.mp4")
    (rec,) = read_recordings(tmp_path / "session.nwb")
    assert rec.fps is None
    code = main(["fit", str(tmp_path / "session.nwb"), "-o", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0] == (
        "ethogram: error: recording 'session' has no frame rate (its file's timestamps are frame "
        "numbers 0, 1, 2, ..., not seconds; its video session.mp4 runs at 25 fps but has 250 "
        "frames "
        "against the recording's 300); give --fps 25 if that video is the tracked one"
    )


def test_video_frame_rate_of_a_file_that_is_no_video(tmp_path):
    (tmp_path / "notes.mp4").write_text("not a video")
    assert video_frame_rate(tmp_path / "notes.mp4") is None
    assert video_frame_rate(tmp_path / "missing.mp4") is None
