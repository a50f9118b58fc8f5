"""A kappa search of ``ethogram.selection`` whose best kappa is far beyond the frames says its
remedy in Python's words (``ethogram.stickiness.REMEDY``: num_states, prior_ridge), and
``ethogram select`` says it in its options (--states, --prior-ridge): the message mixed both
("prior_ridge in observation_kwargs or fit_recordings" on the command line)."""

from __future__ import annotations

from ethogram.cli.select import _in_flags
from ethogram.selection.kappa import _Rounds
from ethogram.stickiness import REMEDY


def _outcome(kappa: float, total: int = 100):
    rounds = _Rounds.__new__(_Rounds)
    rounds.target, rounds.rel_tol, rounds.round = 12.0, 0.1, 3
    rounds.evaluated = [{"kappa": kappa, "median_duration": 4.0, "params": None}]
    return rounds.outcome({}, total, 30.0, +1, True)


def test_the_remedy_is_in_python_words_in_the_library_and_in_flags_on_the_command_line():
    far = _outcome(kappa=1e6).message  # 1e4 times the 100 frames
    assert far == (
        "median duration 4 frames at kappa 1e+06 for a target of 12 frames; not within 10% after "
        f"3 rounds (stopped at kappa_max); kappa is 1e+04 times the number of frames: {REMEDY} "
        "(see ethogram.selection.kappa)"
    )
    assert "--" not in far
    said = _in_flags(far)
    assert said.endswith(
        "set the durations here: fewer states (--states) and a stronger AR prior (raise "
        "--prior-ridge tenfold) let kappa act again (see ethogram.selection.kappa)"
    )
    near = _outcome(kappa=50.0).message  # not beyond the frames: no remedy, said as it is
    assert "let kappa act again" not in near and _in_flags(near) == near
