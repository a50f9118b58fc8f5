"""Errors raised by the library in Python words name the command's options on the command line.

The preparation says ``pass bodyparts=[...]``; ``ethogram fit`` says ``--bodyparts NAMES``, and
``ethogram apply`` (whose body parts were fixed by the fit) says to fit again with
``ethogram fit --bodyparts NAMES``. Checked on the real recordings (openfield DLC with 4 body
parts, JABS with 12) and on the wording function itself.
"""

from __future__ import annotations

import pytest

from conftest import DATA, needs_data
from ethogram.cli import main
from ethogram.cli._common import cli_wording

OPENFIELD = ["'snout'", "'leftear'", "'rightear'", "'tailbase'"]
JABS = ["'nose'", "'left_ear'", "'right_ear'", "'base_neck'", "'left_front_paw'", "'right_front_paw'", "'center_spine'",
        "'left_rear_paw'", "'right_rear_paw'", "'base_tail'", "'mid_tail'", "'tip_tail'"]


def _error(argv, capsys) -> str:
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    assert code == 2, cap.err
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ethogram: error: ")
    return lines[0][len("ethogram: error: "):]


def _names(quoted) -> str:
    return "[" + ", ".join(quoted) + "]"


@needs_data
def test_fit_with_different_body_parts_names_the_option(tmp_path, capsys):
    msg = _error(["fit", DATA / "openfield" / "keypoints.csv", DATA / "jabs" / "sample_pose_est_v2.h5", "--fps", "30",
                  "-o", tmp_path / "fit", "--quiet"], capsys)
    assert msg == (f"recording 'keypoints' lacks body part(s) {_names(JABS)}; it has {_names(OPENFIELD)}, the first "
                   f"training recording had {_names(JABS)}; pass --bodyparts NAMES to keep a common subset")
    assert not (tmp_path / "fit").exists()


@needs_data
def test_apply_with_other_body_parts_says_to_fit_again(tmp_path, capsys):
    assert main(["fit", str(DATA / "openfield" / "keypoints.csv"), "--fps", "30", "-o", str(tmp_path / "fit"),
                 "--states", "3", "--iters", "2", "--quiet"]) == 0
    capsys.readouterr()
    msg = _error(["apply", tmp_path / "fit", DATA / "jabs" / "sample_pose_est_v2.h5", "--fps", "30",
                  "-o", tmp_path / "ap", "--quiet"], capsys)
    assert msg == (f"recording 'sample_pose_est_v2' lacks body part(s) {_names(OPENFIELD)}; it has {_names(JABS)}, the "
                   f"preparation's training recordings had {_names(OPENFIELD)}; fit the model again with "
                   "'ethogram fit --bodyparts NAMES' to keep a common subset")
    assert not (tmp_path / "ap").exists()


@needs_data
def test_fit_confidence_is_named_as_the_option(tmp_path, capsys):
    msg = _error(["fit", DATA / "openfield" / "keypoints.csv", "--fps", "30", "-o", tmp_path / "fit", "--quiet",
                  "--confidence", "1.5"], capsys)
    assert msg.startswith("--confidence must be between 0 and 1") and msg.endswith("got 1.5")
    assert "confidence_threshold" not in msg


@pytest.mark.parametrize("command, message, expected", [
    ("fit", "recording 'r': body part(s) ['a'] are missing (or below confidence_threshold=0.5) in every frame; leave "
            "them out with bodyparts=[...]",
     "recording 'r': body part(s) ['a'] are missing (or below --confidence 0.5) in every frame; leave them out with "
     "--bodyparts NAMES"),
    ("apply", "recording 'r': body part(s) ['a'] are missing (or below confidence_threshold=0.5) in every frame; leave "
              "them out with bodyparts=[...]",
     "recording 'r': body part(s) ['a'] are missing (or below the model's --confidence 0.5) in every frame; leave them "
     "out by fitting the model again with 'ethogram fit --bodyparts NAMES'"),
    ("select", "cannot guess the anterior body parts from ['a', 'b']; give anterior=[...] and posterior=[...] "
               "(--anterior/--posterior on the command line), e.g. the nose and the tail base",
     "cannot guess the anterior body parts from ['a', 'b']; give --anterior NAMES and --posterior NAMES, e.g. the nose "
     "and the tail base"),
    ("fit", "'out/results.h5' exists; pass overwrite=True (--overwrite on the command line) to replace it",
     "'out/results.h5' exists; pass --overwrite to replace it"),
    ("info", "pass bodyparts=[...] here", "pass bodyparts=[...] here"),  # info has no --bodyparts: left alone
    ("fit", "give fps (--fps on the command line)", "give fps (--fps on the command line)"),
])
def test_cli_wording(command, message, expected):
    assert cli_wording(message, command) == expected
