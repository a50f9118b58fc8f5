"""`ethogram compare` with annotation CSVs that are wrong in the ways users get them wrong.

Each mistake is one error line (exit code 2) that names the real problem: a recording the
results do not hold (with the names they do hold, a few then how many more), a missing or empty
units column (with the accepted values and --units), a recording without a frame rate annotated
in seconds (without advice to "give fps", an option compare does not have). Nothing is written.
The fits are planted (``synthetic_results``), so these tests run in seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ethogram.cli import main
from ethogram.results import write_results
from ethogram.viz._synthetic import synthetic_results


@pytest.fixture()
def fit_dir(tmp_path):
    out = tmp_path / "fit"
    out.mkdir()
    res = synthetic_results(
        num_states=3, num_recordings=7, num_frames=120, expected_states=False, seed=4
    )
    res.recordings[6].fps = None  # mouse6: no frame rate (and no timestamps)
    res.recordings[6].timestamps = None
    write_results(out / "results.h5", res, csv=False)
    return out


def _error(argv, capsys) -> str:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    assert code == 2 and cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ethogram: error: "), cap.err
    return lines[0][len("ethogram: error: ") :]


def _csv(path, **columns) -> str:
    pd.DataFrame(columns).to_csv(path, index=False)
    return str(path)


def test_an_unknown_recording_is_named_with_the_known_ones(fit_dir, tmp_path, capsys):
    ann = _csv(
        tmp_path / "ann.csv",
        recording=["mouse1", "rat1"],
        start=[0, 0],
        stop=[1, 1],
        behavior=["groom"] * 2,
        units=["seconds"] * 2,
    )
    msg = _error(["compare", fit_dir, "--labels", ann], capsys)
    assert msg == (
        f"{ann} names recording(s) 'rat1' that are not in the results; "
        "the results hold 7 recording(s): "
        "'mouse0', 'mouse1', 'mouse2', 'mouse3', 'mouse4' and 2 more "
        "(the recording column must use these names)"
    )
    assert not (fit_dir / "compare").exists()


def test_an_unknown_recording_without_units_is_still_named_first(fit_dir, tmp_path, capsys):
    """The user's case: 'mouse1' does not exist and the CSV has no units column."""
    res = synthetic_results(
        num_states=3, num_recordings=1, num_frames=120, expected_states=False, seed=4
    )
    res.recordings[0].name = "keypoints"
    write_results(tmp_path / "one.h5", res, csv=False)
    ann = _csv(tmp_path / "ann.csv", recording=["mouse1"], start=[0], stop=[10], behavior=["groom"])
    msg = _error(["compare", tmp_path / "one.h5", "--labels", ann], capsys)
    assert msg == (
        f"{ann} names recording(s) 'mouse1' that are not in the results; "
        "the results hold 1 recording(s): "
        "'keypoints' (the recording column must use these names)"
    )
    assert "fps" not in msg


def test_no_units_column_says_so_and_what_is_accepted(fit_dir, tmp_path, capsys):
    ann = _csv(tmp_path / "ann.csv", recording=["mouse1"], start=[0], stop=[1], behavior=["groom"])
    msg = _error(["compare", fit_dir, "--labels", ann], capsys)
    assert msg == (
        f"{ann} has no units column, so start/stop could be seconds or frames; "
        "add a units column with "
        "'seconds' (or s, sec, second) or 'frames' (or frame, f) on every row, "
        "or give units for all rows "
        "(--units seconds or --units frames)"
    )
    assert not (fit_dir / "compare").exists()


def test_an_empty_or_unknown_unit_names_its_line(fit_dir, tmp_path, capsys):
    ann = _csv(
        tmp_path / "ann.csv",
        recording=["mouse1"] * 3,
        start=[0, 0, 0],
        stop=[1, 1, 1],
        behavior=["groom"] * 3,
        units=["frames", "", "minutes"],
    )
    msg = _error(["compare", fit_dir, "--labels", ann], capsys)
    assert msg == (
        f"{ann}: the units column is empty in row 2 (line 3) "
        "(1 more row(s) with an empty or unknown unit); "
        "accepted values are 'seconds' (or s, sec, second) or 'frames' (or frame, f) "
        "(or give units for the "
        "rows left empty: --units)"
    )
    ann = _csv(
        tmp_path / "ann2.csv",
        recording=["mouse1"],
        start=[0],
        stop=[1],
        behavior=["groom"],
        units=["minutes"],
    )
    msg = _error(["compare", fit_dir, "--labels", ann], capsys)
    assert msg == (
        f"{ann}: the units column is 'minutes' in row 1 (line 2); accepted values are 'seconds' "
        "(or s, sec, second) or 'frames' (or frame, f)"
    )
    # --units fills the empty cells (and only those)
    ann = _csv(
        tmp_path / "ann3.csv",
        recording=["mouse1", "mouse2"],
        start=[0, 1.0],
        stop=[30, 2.0],
        behavior=["groom"] * 2,
        units=["frames", ""],
    )
    assert main(["compare", str(fit_dir), "--labels", ann, "--units", "seconds"]) == 0
    summary = pd.read_csv(fit_dir / "compare" / "annotations_summary.csv")
    assert summary["frames"].tolist() == [30 + 30]  # 30 frames + [1, 2) s at 30 fps


def test_seconds_for_a_recording_without_frame_rate(fit_dir, tmp_path, capsys):
    ann = _csv(
        tmp_path / "ann.csv",
        recording=["mouse6"],
        start=[0],
        stop=[1],
        behavior=["groom"],
        units=["seconds"],
    )
    msg = _error(["compare", fit_dir, "--labels", ann], capsys)
    assert msg == (
        f"{ann}: recording 'mouse6' is annotated in seconds but has no frame rate in the results; "
        "give its start/stop in frames (units 'frames')"
    )
    assert not (fit_dir / "compare").exists()
    # in frames it works
    ann = _csv(
        tmp_path / "ann.csv",
        recording=["mouse6"],
        start=[0],
        stop=[12],
        behavior=["groom"],
        units=["frames"],
    )
    assert main(["compare", str(fit_dir), "--labels", ann]) == 0
    assert pd.read_csv(fit_dir / "compare" / "annotations_summary.csv")["frames"].tolist() == [12]


def test_the_library_names_unknown_recordings_and_missing_fps():
    from ethogram.analysis.annotations import annotation_masks, read_annotations

    df = pd.DataFrame(
        {"recording": ["a"], "start": [0.0], "stop": [1.0], "behavior": ["b"], "units": ["s"]}
    )
    with pytest.raises(
        ValueError,
        match=r"^annotations: recording 'a' is annotated in seconds but fps is not given; "
        r"give fps= \(frames per second\), or start/stop in frames$",
    ):
        read_annotations(df)
    names = {f"r{i}": 10 for i in range(8)}
    with pytest.raises(
        ValueError,
        match=r"names recording\(s\) 'a' that are not in the results; the results hold 8 "
        r"recording\(s\): 'r0', 'r1', 'r2', 'r3', 'r4' and 3 more",
    ):
        read_annotations(df, fps={k: 30.0 for k in names})
    ann = read_annotations(df, fps=30.0)
    assert ann["start_frame"].tolist() == [0] and ann["stop_frame"].tolist() == [30]
    with pytest.raises(ValueError, match=r"'r0', 'r1', 'r2', 'r3', 'r4' and 3 more"):
        annotation_masks(ann, names)
    np.testing.assert_array_equal(annotation_masks(ann, {"a": 40})["b"]["a"], np.arange(40) < 30)
