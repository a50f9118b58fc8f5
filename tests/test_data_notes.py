"""The notes on a fit's data (ethogram.analysis._data_notes): what the command line's summary
prints after a fit and the report shows in its box of warnings, from a results file alone."""

from types import SimpleNamespace

import numpy as np

from ethogram.analysis._data_notes import data_notes


def _results(labelled, frames, command="fit", usable=None, per_state=62, K=20):
    recs = [
        SimpleNamespace(name=f"r{i}", syllables=np.r_[np.zeros(n, int), -np.ones(T - n, int)],
                        num_frames=T)
        for i, (n, T) in enumerate(zip(labelled, frames))
    ]  # fmt: skip
    usable = sum(labelled) if usable is None else usable
    return SimpleNamespace(
        config={"command": command},
        fit={"parameters_per_state": per_state, "usable_frames": usable},
        num_states=K,
        recordings=recs,
        model=SimpleNamespace(observations=SimpleNamespace(min_frames=4)),
    )


def test_too_few_frames_per_parameter_is_noted_for_a_fit_only():
    # 20 syllables of 62 parameters: 2480 frames are two per parameter
    (note,) = data_notes(_results([2479], [2479]))
    assert note.kind == "few_frames"
    assert note.worded({"num_states": "--states"}) == (
        "2479 usable frames for 20 syllables of 62 parameters each (fewer than 2 frames per "
        "parameter): syllables may be fragmented; consider fewer --states or more data"
    )
    assert data_notes(_results([2480], [2480])) == []
    # an applied model's frames did not fit it
    assert data_notes(_results([100], [100], command="apply")) == []


def test_recordings_with_fewer_than_half_their_frames_labelled_are_named():
    res = _results([10, 50, 49, 0, 2], [100, 100, 100, 100, 3], usable=10**6)
    (note,) = data_notes(res)
    assert note.kind == "sparse_recordings"
    text = note.worded({"confidence_threshold": "--confidence", "bodyparts": "--bodyparts NAMES"})
    # r1 has exactly half (not named); r4 is shorter than the model's least length (warned of
    # elsewhere)
    assert "3 recording(s) have fewer than half their frames usable" in text
    assert "r0 (10 of 100), r2 (49 of 100), r3 (0 of 100);" in text
    # the threshold only when it is the cause (a fresh user's JABS note said "lower
    # --confidence" where 'ethogram info' said that changes nothing: points never placed)
    assert text.endswith(
        "then keep fewer --bodyparts NAMES (those most often missing), or lower --confidence "
        "if the tracker's scores are what removes their points (not when the tracker placed "
        "none)"
    )
    many = _results([0] * 7, [100] * 7, usable=10**6)
    assert "r4 (0 of 100) ...;" in str(data_notes(many)[0])


def test_after_a_keypoint_slds_fit_the_sparse_note_blames_the_tracking_not_the_threshold():
    res = _results([16, 1800], [1800, 1800], usable=10**6)
    res.config["method"] = "keypoint-slds"
    (note,) = data_notes(res)
    text = note.worded({"confidence_threshold": "--confidence"})
    assert text == (
        "1 recording(s) have a syllable in fewer than half their frames (the others are in "
        "stretches with no body part seen, longer than the target syllable duration: the "
        "tracker lost the animal): r0 (16 of 1800); see 'ethogram info' on the input"
    )
