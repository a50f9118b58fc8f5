"""What the preparation says of the tracker's confidences: a file whose confidences are all NaN is
read as one without confidences, said in one warning for every method in its own words; body
parts the tracker placed but whose confidences are all under the threshold are missing because
of the threshold, and the fix said first is to lower it (not to leave out every body part).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from _pose_files import renamed_bodyparts_csv
from ethogram.cli import main
from ethogram.io import read_recordings

OPENFIELD = "tests/fixtures/openfield/keypoints.csv"


@pytest.fixture()
def mouse(tmp_path):
    (rec,) = read_recordings(
        renamed_bodyparts_csv(OPENFIELD, tmp_path / "mouse.csv", {}, 300), fps=30
    )
    return rec


def _nan_and_none_fits(rec, **kw):
    """The same fit of ``rec`` with all-NaN confidences and with none: (the no-confidence
    warnings of the first, its results, the second's results); the second must say none."""
    from ethogram.pipeline import fit_recordings

    nan = dataclasses.replace(rec, confidence=np.full_like(rec.confidence, np.nan))
    none = dataclasses.replace(rec, confidence=None)
    with pytest.warns(UserWarning, match="has no confidence") as caught:
        got = fit_recordings([nan], **kw)
    said = [str(w.message) for w in caught if "has no confidence" in str(w.message)]
    with warnings.catch_warnings(record=True) as quiet:
        warnings.simplefilter("always")
        want = fit_recordings([none], **kw)
    assert not any("has no confidence" in str(w.message) for w in quiet)
    return said, got, want


def test_all_nan_confidences_are_said_for_em_and_read_as_none(mouse):
    kw = dict(num_states=3, kappa=100.0, num_iters=3, seed=0, progress=False)
    said, got, want = _nan_and_none_fits(mouse, **kw)
    assert set(said) == {
        f"recording 'mouse' ({mouse.source}) has no confidence for its body parts (all NaN): "
        "read as a file without confidences, every point with coordinates kept whatever the "
        "confidence threshold; give the tracker's scores in the file to leave unsure points out"
    }
    np.testing.assert_array_equal(got.recordings[0].syllables, want.recordings[0].syllables)


def test_all_nan_confidences_are_read_as_none_and_said_by_the_keypoint_slds(tmp_path):
    (rec,) = read_recordings(
        renamed_bodyparts_csv(OPENFIELD, tmp_path / "mouse.csv", {}, 120), fps=30
    )
    kw = dict(method="keypoint-slds", num_states=3, kappa=100.0, ar_iters=1, gibbs_iters=1,
              seed=0, progress=False)  # fmt: skip
    said, got, want = _nan_and_none_fits(rec, **kw)
    assert said == [
        f"recording 'mouse' ({rec.source}) has no confidence for its body parts (all NaN): read "
        "as a file without confidences, every point as sure as the tracker's best (confidence "
        "1, keypoint-moseq's default); give the tracker's scores in the file to let unsure "
        "points count less"
    ]
    np.testing.assert_array_equal(got.recordings[0].syllables, want.recordings[0].syllables)
    np.testing.assert_array_equal(
        got.recordings[0].estimated_keypoints, want.recordings[0].estimated_keypoints
    )


def test_a_fit_says_all_nan_confidences_once_on_the_command_line(mouse, tmp_path, capsys):
    import pandas as pd

    table = pd.read_csv(mouse.source, header=[0, 1, 2], index_col=0)
    table.loc[:, table.columns.get_level_values(2) == "likelihood"] = np.nan
    table.to_csv(tmp_path / "nanconf.csv")
    args = ["fit", str(tmp_path / "nanconf.csv"), "--fps", "30", "--states", "3"]
    code = main([*args, "--kappa", "100", "--iters", "3", "--quiet", "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 0
    lines = [ln for ln in err.splitlines() if "has no confidence" in ln]
    assert len(lines) == 1 and lines[0].startswith("ethogram: warning: recording 'nanconf'")


def test_body_parts_under_the_threshold_in_every_frame_advise_lowering_it(tmp_path, capsys):
    import pandas as pd

    table = pd.read_csv(OPENFIELD, header=[0, 1, 2], index_col=0).iloc[:300]
    table.loc[:, table.columns.get_level_values(2) == "likelihood"] = 0.1
    table.to_csv(tmp_path / "unsure.csv")
    code = main(["fit", str(tmp_path / "unsure.csv"), "--fps", "30", "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    # every point is under the threshold: that is said first, with the confidences there are
    # (a body part under it in every frame, others not, is tests/test_confidence_range.py's)
    assert err == (
        "ethogram: error: --confidence 0.5 is above every confidence in recording 'unsure' (they "
        "are all 0.1); give a threshold at or below it (DeepLabCut and SLEAP scores are in "
        "[0, 1], e.g. 0.5)"
    )
    assert not (tmp_path / "o").exists()
