"""The confidence threshold is checked against the data, not against [0, 1].

Trackers score their points on different scales: DeepLabCut and SLEAP in [0, 1], JABS with
heatmap peaks (its own rule: valid above 0.3; 1.0 to 5.2 on the shipped multi-mouse sample).
``Preparation`` used to refuse any threshold above 1 with "tracking confidences are in [0, 1]",
false for JABS files, so ``--confidence 1.5`` on one was refused wrongly. Now any finite
threshold >= 0 is accepted when the preparation is made, and a threshold above every confidence
of a recording's body parts (a percentage, ``50``, for scores in [0, 1]) is refused when the
recording is prepared, naming the recording and the range of its confidences.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from conftest import DATA
from ethogram.cli._errors import error_line
from ethogram.errors import ArgumentError, ArgumentWarning
from ethogram.io import read_recordings
from ethogram.prep import Preparation
from ethogram.prep._keypoint_path import VALID_POINTS_REMOVED

JABS_V2 = DATA / "jabs" / "sample_pose_est_v2.h5"
JABS_V3 = DATA / "jabs" / "sample_pose_est_v3.h5"
KEYPOINTS = DATA / "openfield" / "keypoints.csv"


def _refusal(rec, threshold, warned: str = "default") -> ArgumentError:
    """The error of preparing ``rec`` at ``threshold``, with ArgumentWarnings ``warned``
    ("ignore": not the subject; "error": none may be said before the refusal)."""
    with warnings.catch_warnings():
        warnings.simplefilter(warned, ArgumentWarning)
        with pytest.raises(ArgumentError) as exc:
            Preparation(confidence_threshold=threshold).fit_transform([rec])
    return exc.value


def test_a_jabs_multi_mouse_recording_fits_with_a_threshold_above_1():
    rec = read_recordings(JABS_V3)[0]  # sample_pose_est_v3/id0: confidences 1.0 to 5.2
    prep = Preparation(confidence_threshold=1.5, max_gap=0)
    # the points JABS counts valid (above 0.3) but below 1.5 are removed, and that is said
    with pytest.warns(ArgumentWarning, match=VALID_POINTS_REMOVED):
        prep.fit_transform([rec])
        kept = np.isfinite(prep._select(rec, fitting=False)).all(axis=2)
    idx = [rec.bodyparts.index(b) for b in prep.bodyparts_]
    conf = rec.confidence[:, idx]
    # exactly the points above the threshold are kept (none sits at 1.5 itself)
    assert kept.sum() == (conf > 1.5).sum() == 3793
    np.testing.assert_array_equal(kept, conf >= 1.5)


def test_a_body_part_below_the_threshold_in_every_frame_is_still_named():
    # id2's right ear and right front paw never reach 1.5, its other body parts do: the
    # threshold is inside the recording's range, so the partial case says which body parts
    rec = read_recordings(JABS_V3)[2]
    assert str(_refusal(rec, 1.5, "ignore")) == (
        "recording 'sample_pose_est_v3/id2': body part(s) ['right_ear', 'right_front_paw'] are "
        "missing (or below confidence_threshold=1.5) in every frame; lower "
        "confidence_threshold=1.5 (their confidences are all below it), or leave them out with "
        "bodyparts=[...]"
    )


def test_a_threshold_above_every_confidence_is_refused_with_their_range_before_anything_else():
    (rec,) = read_recordings(JABS_V2)  # single-mouse model: 0.557 to 1.05
    # said first: neither the JABS warning about valid points removed nor _absent_error
    error = _refusal(rec, 1.5, "error")
    assert str(error) == (
        "confidence_threshold=1.5 is above every confidence in recording 'sample_pose_est_v2' "
        "(they range from 0.557 to 1.05); give a threshold inside that range (JABS counts "
        "points valid above 0.3)"
    )
    assert error.arguments == ("confidence_threshold",)
    (dlc,) = read_recordings(KEYPOINTS, fps=30)
    error = _refusal(dlc, 50)  # a percentage
    assert str(error) == (
        "confidence_threshold=50 is above every confidence in recording 'keypoints' (they range "
        "from 0.0923 to 0.998); give a threshold inside that range (DeepLabCut and SLEAP scores "
        "are in [0, 1], e.g. 0.5)"
    )


def test_a_threshold_at_the_highest_confidence_keeps_those_points():
    conf = np.full((40, 3), 0.2)
    conf[5:30] = 0.8  # the highest confidence, reached by every body part
    xy = np.random.default_rng(0).normal(50, 5, (40, 3, 2))
    from ethogram.io.recording import Recording

    rec = Recording(
        "r", xy, kind="keypoints", fps=30.0, bodyparts=("nose", "mid", "tail"), confidence=conf
    )
    prep = Preparation(confidence_threshold=0.8, max_gap=0)
    prep.fit_transform([rec])
    np.testing.assert_array_equal(
        np.isfinite(prep._select(rec, fitting=False)).all(axis=2), conf >= 0.8
    )
    # a recording given to the fitted preparation (a saved model) whose confidences are all
    # below its threshold: the model's threshold is named, fitting again is the remedy
    low = dataclasses.replace(rec, name="dim", confidence=conf / 2)
    with pytest.raises(ArgumentError) as exc:
        prep.transform([low])
    assert str(exc.value) == (
        "confidence_threshold=0.8 is above every confidence in recording 'dim' (they range from "
        "0.1 to 0.4); every point would be missing; fit the model again with a threshold inside "
        "that range (DeepLabCut and SLEAP scores are in [0, 1], e.g. 0.5)"
    )
    assert error_line(exc.value, "apply").startswith(
        "the model's --confidence 0.8 is above every confidence in recording 'dim'"
    )


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf"), -np.inf])
def test_negative_and_non_finite_thresholds_are_refused_when_made(bad):
    with pytest.raises(ArgumentError) as exc:
        Preparation(confidence_threshold=bad)
    assert exc.value.arguments == ("confidence_threshold",)
    assert str(exc.value) == (
        "confidence_threshold must be a finite number >= 0 (points with a lower confidence "
        f"become missing; confidence_threshold=None keeps every point), got {float(bad)!r}"
    )


@pytest.mark.parametrize("good", [0, 0.5, 1.5, 50, None])
def test_any_finite_threshold_at_least_0_is_accepted_when_made(good):
    assert Preparation(confidence_threshold=good).confidence_threshold == (
        None if good is None else float(good)
    )


def test_confidences_all_0_say_the_threshold_that_keeps_every_point():
    from ethogram.io.recording import Recording

    xy = np.random.default_rng(1).normal(50, 5, (40, 3, 2))
    rec = Recording(
        "zero",
        xy,
        kind="keypoints",
        fps=30.0,
        bodyparts=("nose", "mid", "tail"),
        confidence=np.zeros((40, 3)),
    )
    error = _refusal(rec, 0.5)
    assert str(error) == (
        "confidence_threshold=0.5 is above every confidence in recording 'zero' (they are all "
        "0); give confidence_threshold=None, which keeps every point (DeepLabCut and SLEAP "
        "scores are in [0, 1], e.g. 0.5)"
    )
    assert error_line(error, "fit").startswith(
        "--confidence 0.5 is above every confidence in recording 'zero' (they are all 0); give "
        "--confidence 0, which keeps every point"
    )
    assert Preparation(confidence_threshold=0).fit_transform([rec])[0].mask.all()
