"""`ethogram apply`: a warning (one line) at another frame rate than the model's, and --quiet.

The model's stickiness and AR dynamics are per frame, so labelling 60 fps recordings with a
model fitted at 30 fps gives syllables whose durations in seconds mean something else. The
warning names the recording, both rates and the model file; within 1% there is none. With
--quiet, apply says only its summary, as fit does, and refuses a second run into its folder.
"""

from __future__ import annotations

import numpy as np
import pytest

from ethogram.cli import main


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("apply")
    rng = np.random.default_rng(0)
    np.save(tmp / "x.npy", np.cumsum(rng.normal(size=(400, 3)), axis=0))
    assert (
        main(
            [
                "fit",
                str(tmp / "x.npy"),
                "--fps",
                "30",
                "-o",
                str(tmp / "fit"),
                "--states",
                "3",
                "--iters",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    return tmp


def _apply(model, out, fps, capsys):
    code = main(
        [
            "apply",
            str(model / "fit"),
            str(model / "x.npy"),
            "--fps",
            str(fps),
            "-o",
            str(out),
            "--quiet",
        ]
    )
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_another_frame_rate_is_one_warning_line(model, tmp_path, capsys):
    code, out, err = _apply(model, tmp_path / "ap", 60, capsys)
    assert code == 0 and (tmp_path / "ap" / "results.h5").is_file()
    assert err.splitlines() == [
        f"ethogram: warning: recording 'x' is at 60 fps, "
        f"but the model ({model / 'fit' / 'results.h5'}) was fitted on "
        "recordings at 30 fps: its syllables' stickiness and dynamics are per frame, "
        "so their durations mean something "
        "else here; resample the recordings to the model's frame rate, check --fps, "
        "or fit a model at this frame rate"
    ]
    assert "results:" in out


def test_within_one_percent_there_is_no_warning(model, tmp_path, capsys):
    for i, fps in enumerate((30, 30.29, 29.71)):
        code, _, err = _apply(model, tmp_path / f"ap{i}", fps, capsys)
        assert code == 0 and err == "", (fps, err)
    code, _, err = _apply(model, tmp_path / "ap9", 30.31, capsys)
    assert code == 0 and "at 30.31 fps" in err


def test_the_summary_says_the_numbering_is_the_models(model, tmp_path, capsys):
    """On new recordings syllable 0 need not be the most frequent: apply keeps the model's
    numbering and says so (a fresh user read '0 = most frequent' where it was 5%)."""
    code, out, _ = _apply(model, tmp_path / "ap", 30, capsys)
    assert code == 0
    assert "syllables used (the model's numbering: 0 = most frequent in its fit)" in out


def test_training_fps_from_attributes_or_timestamps(tmp_path):
    from ethogram.results import load_results, model_frame_rate, write_results
    from ethogram.viz._synthetic import synthetic_results

    res = synthetic_results(
        num_states=2, num_recordings=3, num_frames=60, fps=25.0, expected_states=False
    )
    res.config.pop("fps", None)  # a file written before the fit stored its rate
    res.recordings[0].fps = None  # its timestamps say 25 fps
    res.recordings[1].fps = 24.0
    write_results(tmp_path / "r.h5", res, csv=False)
    # median of 25 (timestamps), 24, 25, read from the file without loading the recordings
    header_only = load_results(tmp_path / "r.h5", recordings=False)
    assert model_frame_rate(header_only) == pytest.approx(25.0)
    assert model_frame_rate(load_results(tmp_path / "r.h5")) == pytest.approx(25.0)
    for r in res.recordings:
        r.fps, r.timestamps = None, None
    write_results(tmp_path / "none.h5", res, csv=False)
    assert model_frame_rate(load_results(tmp_path / "none.h5", recordings=False)) is None
    res.config["fps"] = 30.0  # what a fit stores now wins
    assert model_frame_rate(res) == 30.0


def test_apply_takes_quiet_like_fit_and_the_fit_folder_as_model(model, tmp_path, capsys):
    """apply --quiet: no progress bar, nothing on stderr; the summary on stdout, as fit --quiet;
    a second apply into the same folder is refused like a second fit, in one line."""
    from ethogram.results import load_results

    argv = ["apply", model / "fit", model / "x.npy", "--fps", "30", "-o", tmp_path / "ap"]
    code = main([str(a) for a in [*argv, "--quiet"]])
    out = capsys.readouterr()
    assert code == 0 and out.err == ""
    assert f"results: {tmp_path / 'ap' / 'results.h5'}" in out.out
    fitted, applied = (
        load_results(model / "fit" / "results.h5"),
        load_results(tmp_path / "ap" / "results.h5"),
    )
    np.testing.assert_array_equal(applied.recordings[0].syllables, fitted.recordings[0].syllables)
    code = main([str(a) for a in [*argv, "--quiet"]])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("ethogram: error: ")
    assert "--overwrite" in lines[0] and "Traceback" not in lines[0]
