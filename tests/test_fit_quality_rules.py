"""The signs of a poor fit (ethogram.analysis.diagnostics) at the edges of their definitions, on
labels made for each: a collapsed fit is more than four fifths of the frames in one syllable, a
flicker pair needs every one of its conditions, masked frames break instances and hand-overs, and
syllables cut short by masked frames name the masks, not kappa. The warnings on real fits, the
command line and the report: tests/test_fit_quality.py."""

import itertools

import numpy as np
import pytest

from ethogram.analysis.diagnostics import (
    flicker_pairs,
    label_warnings,
    median_duration,
)
from ethogram.cli._errors import OPTIONS as COMMAND_LINE_OPTIONS


def _alternating(frames_a, frames_b, cycles, long_runs=0):
    """Labels: ``cycles`` of (0 for frames_a, 1 for frames_b), then ``long_runs`` runs of 30
    frames of 2 and 3 in turn."""
    z = []
    for _ in range(cycles):
        z += [0] * frames_a + [1] * frames_b
    for i in range(long_runs):
        z += [2 + i % 2] * 30
    return np.array(z)


def test_one_syllable_holding_most_frames_is_a_collapsed_fit():
    """(d): more than 80% of the labelled frames in one syllable (the keypoint SLDS at kappa 1e6
    on the open-field mouse put 93% in one); long syllables, so (b) and (c) stay silent."""
    z = np.repeat([0, 1, 0, 2, 0], [400, 30, 400, 30, 100])  # 900 of 960 frames: 93.75%
    masked = np.concatenate([z, -np.ones(500, int)])  # frames without a syllable do not count
    found = label_warnings([masked], [30.0], num_states=3, kappa=1e6)
    assert [w.kind for w in found] == ["dominant_syllable"]
    assert str(found[0]) == (
        "syllable 0 holds 94% of the labelled frames: unless the animal did one thing most of "
        "the time, the fit collapsed onto one state; lower kappa (1e+06 now) or give it, or fit "
        "with another method"
    )
    assert found[0].arguments == ("kappa", "method")
    assert found[0].worded(COMMAND_LINE_OPTIONS).endswith("or fit with another --method")


def test_a_dominant_syllable_means_more_than_four_fifths_of_the_frames():
    at = np.repeat([0, 1], [80, 20])  # exactly 80%: not more than the share
    assert label_warnings([at], [30.0], num_states=2) == []
    over = np.repeat([0, 1], [81, 19])
    found = label_warnings([at[:50], over], [30.0, 30.0], num_states=2)  # pooled: 131 of 150
    assert [w.kind for w in found] == ["dominant_syllable"]
    assert "syllable 0 holds 87%" in str(found[0])
    # a new recording a model is applied to may truly be one behavior, or differ from the
    # fit's recordings: said, without a refit's advice (a fresh user's apply that gave one
    # syllable for 77 s said nothing)
    (applied,) = label_warnings([at[:50], over], [30.0, 30.0], num_states=2, applied=True)
    assert applied.kind == "dominant_syllable" and applied.arguments == ()
    assert str(applied).startswith("syllable 0 holds 87% of the labelled frames of these ")
    assert "the fit may have collapsed onto it already" in str(applied)
    assert "differ from the recordings the model was fitted to" in str(applied)
    assert label_warnings([at], [30.0], num_states=2, applied=True) == []


def test_a_pair_flickers_exactly_when_every_condition_holds():
    base = _alternating(3, 3, 20, long_runs=10)  # 20 instances each of 0 and 1, 10 of the others
    (pair,) = flicker_pairs([base])
    assert pair["syllables"] == (0, 1) and pair["median_frames"] == (3.0, 3.0)
    # 0 has 20 exits, all to 1; 1 has 19 to 0 and 1 to syllable 2
    assert pair["exit_shares"] == (1.0, 19 / 20)
    assert pair["shares"] == (20 / 50, 20 / 50)
    # a few frames is at most 3: a median of 4 frames is not a flicker
    assert flicker_pairs([_alternating(4, 3, 20, long_runs=10)]) == []


def test_frequent_means_five_percent_of_the_instances():
    others = (
        np.arange(360) % 50 + 2
    )  # 360 runs of 5 frames of syllables 2..51, each unlike the one before
    z = np.concatenate([_alternating(1, 1, 20), np.repeat(others, 5)])
    assert [p["syllables"] for p in flicker_pairs([z])] == [(0, 1)]  # 20 of 400 instances each: 5%
    z = np.concatenate([_alternating(1, 1, 20), np.repeat(np.r_[others, 2], 5)])
    assert flicker_pairs([z]) == []  # 20 of 401: just under 5%


def test_most_means_more_than_half_of_at_least_ten_exits():
    # 0 -> 1 in 10 of 20 exits (the others to 2), 1 -> 0 always: half is not most
    z = []
    for i in range(20):
        z += [0, 1] if i % 2 == 0 else [0, 2, 2, 2, 2, 1]
    z = np.array(z + [2] * 5)
    counts = {(a, b): 0 for a in range(3) for b in range(3)}
    for a, b in itertools.pairwise(z):
        if a != b:
            counts[(a, b)] += 1
    assert counts[(0, 1)] == 10 and counts[(0, 2)] == 10
    assert flicker_pairs([z]) == []
    z2 = z.copy()
    z2[np.flatnonzero((z[:-1] == 0) & (z[1:] == 2))[0] + 1] = 1  # one exit more to 1: 11 of 20
    assert [p["syllables"] for p in flicker_pairs([z2])] == [(0, 1)]
    # nine exits each are too few to say "most"; ten are enough
    assert flicker_pairs([_alternating(1, 1, 10)[:-1]]) == []  # 0 1 0 1 ... 0: 9 exits each
    assert [p["syllables"] for p in flicker_pairs([_alternating(1, 1, 11)])] == [
        (0, 1)
    ]  # 11 and 10 exits


def test_labels_beyond_num_states_are_an_error():
    with pytest.raises(ValueError, match=r"syllable 3 but num_states=3; give num_states > 3"):
        flicker_pairs([np.array([0, 3, 1])], num_states=3)


def test_masked_frames_break_instances_and_hand_overs():
    z = np.array([0, -1, 1, -1] * 30)
    assert flicker_pairs([z]) == []  # no instance touches the next: no exit at all
    assert median_duration(
        [np.array([0, 0, -1, 0, 1, 1, 1]), np.array([2] * 6)], [30.0, 15.0]
    ) == pytest.approx(np.median([2 / 30, 1 / 30, 3 / 30, 6 / 15]))
    assert np.isnan(median_duration([np.array([0, 0])], [None]))


def test_syllables_cut_short_by_masked_frames_name_the_masks_not_kappa():
    """A JABS recording whose usable stretches last a few frames: no kappa lengthens syllables
    past the masked frames between them, so the advice names what drops the frames."""
    from ethogram.analysis.diagnostics import median_stretch
    from ethogram.cli._errors import command_words

    z = np.tile(np.r_[0, 0, 1, -1, -1], 200)  # 3 labelled frames (100 ms at 30 fps), 2 masked
    assert median_stretch([z], [30.0]) == pytest.approx(0.1)
    assert median_duration([z], [30.0]) == pytest.approx(0.05)
    (w,) = label_warnings([z], [30.0], num_states=3, kappa=1e4)
    assert w.kind == "short_syllables"
    assert w.arguments == ("bodyparts", "confidence_threshold", "method")
    assert "stretches of a median 100 ms" in str(w) and "kappa" not in str(w)
    # true whether the threshold removed the points or the tracker placed none (JABS' padding,
    # where a lower --confidence changes nothing): the body parts first, the threshold with
    # its condition
    assert command_words(w, "fit").endswith(
        "no syllable outlasts its stretch; leave out the body parts most often missing "
        "(--bodyparts NAMES), lower --confidence if the tracker's scores are what removes their "
        "points (not when the tracker placed none), or fit --method keypoint-slds, which infers "
        "missing points and keeps every frame"
    )
    # the same syllables with no masked frame between them: the stickiness is the advice
    whole = np.tile(np.r_[0, 0, 1, 2, 2], 200)
    (w,) = label_warnings([whole], [30.0], num_states=3, kappa=1e4)
    assert "raise kappa (1e+04 now; try 10x)" in str(w)
    assert median_stretch([whole], [30.0]) == pytest.approx(1000 / 30)


def test_a_missed_kappa_search_names_a_shorter_target_only_at_the_mouse_default():
    """The flies' missed search (a default 0.4 s target: MoSeq's mouse syllables) never named
    --target-duration, the fix docs/usage.md gives for a faster animal; and after (d) on a
    missed search, (e) is not said again with other advice."""
    from ethogram.analysis._fit_advice import _target_missed
    from ethogram.stickiness import REMEDY

    message = f"median duration 5 frames at kappa 1e5 for a target of 10 frames: {REMEDY}"
    default = _target_missed(message, target_given=False)
    assert "target_duration" in default.arguments
    assert str(default).endswith("give a shorter target_duration instead")
    given = _target_missed(message, target_given=True)
    assert "target_duration" not in given.arguments and "faster" not in str(given)
    labels = [np.zeros(300, int)]  # one syllable: (d)
    search = {"reached": False, "message": message}
    kinds = [
        w.kind
        for w in label_warnings(labels, [30.0], num_states=2, search=search, target_duration=0.4)
    ]
    assert kinds == ["dominant_syllable"]
