"""What the preparation says of the tracker's confidences, as a fresh user's trial found them
wanting: a file whose confidences are all NaN is read as one without confidences, said in one
warning for every method (EM kept every point without a word); body parts the tracker placed
but whose confidences are all under the threshold are missing because of the threshold, and
the fix said first is to lower it (not to leave out every body part)."""

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


def test_all_nan_confidences_are_said_for_em_and_read_as_none(mouse):
    from ethogram.pipeline import fit_recordings

    nan = dataclasses.replace(mouse, confidence=np.full_like(mouse.confidence, np.nan))
    none = dataclasses.replace(mouse, confidence=None)
    kw = dict(num_states=3, kappa=100.0, num_iters=3, seed=0, progress=False)
    with pytest.warns(UserWarning, match="has no confidence") as caught:
        got = fit_recordings([nan], **kw)
    said = {str(w.message) for w in caught if "has no confidence" in str(w.message)}
    assert said == {
        f"recording 'mouse' ({mouse.source}) has no confidence for its body parts (all NaN): "
        "read as a file without confidences, every point with coordinates kept whatever the "
        "confidence threshold; give the tracker's scores in the file to leave unsure points out"
    }
    with warnings.catch_warnings(record=True) as quiet:
        warnings.simplefilter("always")
        want = fit_recordings([none], **kw)
    assert not any("has no confidence" in str(w.message) for w in quiet)
    np.testing.assert_array_equal(got.recordings[0].syllables, want.recordings[0].syllables)


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
    assert err.endswith(
        "are missing (or below --confidence 0.5) in every frame; lower --confidence 0.5 (their "
        "confidences are all below it), or leave them out with --bodyparts NAMES"
    )
    assert not (tmp_path / "o").exists()
