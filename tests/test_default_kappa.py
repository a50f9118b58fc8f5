"""The default stickiness (``ethogram.stickiness``): the smallest kappa whose fit gives a median
syllable of at least 90% of the target, kappa 0 when the data's own syllables are that long.

The rule is checked on known curves of median duration against kappa; the pipeline's default
fit is the fit at the kappa it reports; on sticky synthetic HMMs whose syllables already last
longer than 0.4 s, ``ethogram select`` with its defaults finds the number of states (within
one) and the default's held-out log-likelihood is within 0.01 nats per frame of the best kappa
of a grid. That on the open-field mouse, whose syllables are short without stickiness, the default
brings them to 0.4 s is checked on the demo's fit (test_cli.py). The full five seeds per model
are marked ``slow``; two seeds run by default.
"""

from __future__ import annotations

import numpy as np
import pytest

from _sticky_hmms import ar_recordings, gaussian_recordings
from ethogram.stickiness import median_run_length, reference_kappa, smallest_kappa


def _curve(a: float, b: float, c: float):
    """``evaluate`` with median ``a + b log10(1 + kappa / c)`` frames, and the kappas it saw."""
    calls = []

    def evaluate(k):
        calls.append(k)
        return {"median_duration": a + b * np.log10(1 + k / c), "objective": -k}

    return evaluate, calls


def _kappa_at(a, b, c, m):
    """The kappa at which the curve's median is ``m`` (0 when it starts above)."""
    return max(0.0, c * (10 ** ((m - a) / b) - 1))


def test_kappa_0_when_the_data_already_reach_the_target():
    evaluate, calls = _curve(15.0, 3.0, 100.0)
    choice = smallest_kappa(evaluate, 12, reference=1000)
    assert choice.kappa == 0 and choice.reached and calls == [0.0]
    assert choice.median_duration == 15 and "without stickiness" in choice.message
    assert choice.curve == [{"kappa": 0.0, "median_duration": 15.0, "objective": -0.0}]


@pytest.mark.parametrize(
    "a, b, c, reference",
    [
        (4.0, 4.0, 100.0, 1000.0),  # reached on the way up, at 10 x the reference
        (4.0, 8.0, 10.0, 1225.0),  # the reference overshoots: down the ladder, then inside
        (10.0, 1.0, 1.0, 100.0),  # a flat curve: kappa barely acts
        (3.0, 6.0, 30.0, 50.0),  # ten times the reference
        (11.0, 0.5, 1.0, 1e4),  # just short without stickiness
    ],
)
def test_the_smallest_kappa_that_reaches_the_target(a, b, c, reference):
    evaluate, calls = _curve(a, b, c)
    target = 12.0
    choice = smallest_kappa(evaluate, target, reference)
    median = a + b * np.log10(1 + choice.kappa / c)
    assert (
        choice.reached
        and median >= 0.9 * target - 1e-9
        and choice.median_duration == pytest.approx(median)
    )
    # never more stickiness than a median of the target itself needs,
    # or 1.25 x the least that reaches 90%
    smallest = _kappa_at(a, b, c, 0.9 * target)
    assert choice.kappa <= max(_kappa_at(a, b, c, target), 1.25 * smallest, reference / 100) * (
        1 + 1e-9
    )
    assert calls[0] == 0.0 and len(calls) <= 8 and len(set(calls)) == len(calls)
    assert [row["kappa"] for row in choice.curve] == calls


def test_a_target_out_of_reach_keeps_the_longest_syllables_and_says_so():
    calls = []

    def evaluate(k):  # kappa barely acts: 3 frames, 3.5 from 10 x the reference on
        calls.append(k)
        return {"median_duration": 3.0 if k < 1e4 else 3.5}

    choice = smallest_kappa(evaluate, 10, reference=1e3, max_factor=100)
    assert not choice.reached and choice.kappa == 1e4 and choice.median_duration == 3.5
    assert calls == [0.0, 1e3, 1e4, 1e5]
    # the remedy names fewer states and a stronger prior ridge, in the library's words (the
    # command's fit-quality warning says them as --states and --prior-ridge)
    assert (
        "not within 10%" in choice.message
        and "fewer states (num_states)" in choice.message
        and "raise prior_ridge tenfold" in choice.message
    )


def test_the_ladder_goes_down_no_further_than_the_reference_over_max_factor():
    calls = []

    def evaluate(k):
        calls.append(k)
        return {"median_duration": 8.0 if k == 0 else 30.0}

    choice = smallest_kappa(evaluate, 12, reference=1e3, max_factor=100)
    assert choice.reached and choice.kappa == pytest.approx(10.0)
    assert calls == pytest.approx([0.0, 1e3, 1e2, 1e1])


def test_no_run_at_all_counts_as_short():
    choice = smallest_kappa(
        lambda k: {"median_duration": np.nan if k == 0 else 12.0}, 12, reference=50
    )
    assert choice.kappa == 50 and choice.reached


def test_bad_arguments_are_named():
    evaluate, _ = _curve(4, 4, 100)
    with pytest.raises(ValueError, match="more than one frame"):
        smallest_kappa(evaluate, 1.0, 100)
    with pytest.raises(ValueError, match="reference"):
        smallest_kappa(evaluate, 12, 0.0)
    with pytest.raises(ValueError, match="rel_tol"):
        smallest_kappa(evaluate, 12, 10, rel_tol=1.0)
    with pytest.raises(ValueError, match="max_fits"):
        smallest_kappa(evaluate, 12, 10, max_fits=1)


def test_reference_kappa_and_median_run_length():
    # the prior alone gives a state of N / K frames a self-transition of (d - 1) / d
    N, K, d = 9000, 5, 12.0
    kappa = reference_kappa(N, K, d)
    assert kappa == pytest.approx(11 * 9000 / 5)
    assert kappa / (N / K + kappa) == pytest.approx((d - 1) / d)
    from ethogram.selection import run_lengths

    rng = np.random.default_rng(0)
    labels = [np.repeat(rng.integers(-1, 4, 60), rng.integers(1, 9, 60)) for _ in range(3)]
    assert median_run_length(labels) == np.median(run_lengths(labels))
    assert np.isnan(median_run_length([np.full(5, -1)]))


# ------------------------------------------------------------------ the pipeline's default
def _recordings(sequences, fps=30.0):
    from ethogram.io import Recording

    return [
        Recording(name=f"rec{i}", data=x, kind="features", fps=fps) for i, x in enumerate(sequences)
    ]


def test_fit_on_syllables_long_enough_keeps_maximum_likelihood_transitions():
    """On a sticky ARHMM (median syllable 17 frames at 30 fps) the default is kappa 0, one fit,
    and the same as asking for kappa 0."""
    from ethogram.pipeline import fit_recordings

    recs = _recordings(ar_recordings(0, num_frames=600))
    res = fit_recordings(recs, num_states=4, num_lags=1, num_iters=30, progress=False, seed=1)
    assert res.config["kappa"] is None and res.config["kappa_used"] == 0.0
    assert res.config["target_duration"] == 0.4 and res.config["kappa_search_reached"]
    assert [row["kappa"] for row in res.config["kappa_search"]] == [0.0]
    again = fit_recordings(
        recs, num_states=4, num_lags=1, num_iters=30, progress=False, seed=1, kappa=0.0
    )
    for a, b in zip(res.syllables().values(), again.syllables().values()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="not both"):
        fit_recordings(recs, kappa=1.0, target_duration=0.4)
    with pytest.raises(ValueError, match="target_duration must be a positive"):
        fit_recordings(recs, target_duration=-1)
    with pytest.raises(
        ValueError, match=r"target_duration \(0.02 s\) must last more than one frame"
    ):
        fit_recordings(recs, target_duration=0.02)


#: the kappa searches on the open-field mouse below: 6 states, not the default 20, and 20
#: iterations, not 100 (what is checked is which fit the search keeps and where its fits run,
#: not their quality; the default search, 100 iterations at 20 states, is checked on the demo's
#: fit in test_cli.py, test_demo_end_to_end_and_again)
SEARCH = dict(num_states=6, num_iters=20, progress=False, seed=0)


@pytest.fixture(scope="module")
def mouse_search():
    """The open-field mouse and its kappa search at ``SEARCH``, run once for the tests that read
    it: (recordings, results, timings). Read only."""
    from ethogram.data import openfield_keypoints
    from ethogram.io import read_recordings
    from ethogram.pipeline import fit_recordings

    recs = read_recordings([str(openfield_keypoints())], format="dlc", fps=30.0)
    timings = {}
    res = fit_recordings(recs, timings=timings, **SEARCH)
    return recs, res, timings


def test_the_search_hands_back_its_fit_at_the_chosen_kappa(mouse_search):
    """The fit a search hands back is the fit at the kappa it chose, bit for bit, and its time
    is counted."""
    from ethogram.pipeline import fit_recordings

    recs, res, timings = mouse_search
    curve = res.config["kappa_search"]
    assert res.config["kappa_search_reached"] and res.config["kappa_used"] > 0 and len(curve) > 1
    median = median_run_length(list(res.syllables().values()))
    chosen = [row for row in curve if row["kappa"] == res.config["kappa_used"]]
    assert len(chosen) == 1 and chosen[0]["median_duration"] == median
    again = fit_recordings(recs, kappa=res.config["kappa_used"], **SEARCH)
    np.testing.assert_array_equal(again.recordings[0].syllables, res.recordings[0].syllables)
    assert set(timings) >= {"kappa_search", "fit"} and timings["kappa_search"] > 0


def test_restarts_refit_at_the_chosen_kappa():
    from ethogram.data import openfield_keypoints
    from ethogram.io import read_recordings
    from ethogram.pipeline import fit_recordings

    recs = read_recordings([str(openfield_keypoints())], format="dlc", fps=30.0)
    # 6 states, not the default 20: what is checked is where the restarts run, not the fit
    two = fit_recordings(
        recs,
        progress=False,
        seed=0,
        num_states=6,
        num_restarts=2,
        num_iters=10,
        target_duration=0.3,
    )
    assert two.config["kappa_used"] == next(
        r["kappa"] for r in two.config["kappa_search"] if r["kappa"] == two.config["kappa_used"]
    )
    assert len(two.fit["restart_objectives"]) == 2 and two.config["target_duration"] == 0.3


# ------------------------------------------------------------------ select on sticky HMMs
def _select(tmp_path, capsys, sequences, model, states):
    """``ethogram select`` with its defaults on .npy recordings: (best K, chosen K, table)."""
    import re

    import pandas as pd

    from ethogram.cli import main

    paths = []
    for i, x in enumerate(sequences):
        paths.append(tmp_path / f"rec{i}.npy")
        np.save(paths[-1], x)
    out = tmp_path / "out"
    code = main(
        [
            "select",
            *map(str, paths),
            "--fps",
            "30",
            "--model",
            model,
            "--states",
            states,
            "--workers",
            "1",
            "--quiet",
            "-o",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    best = int(re.search(r"best K = (\d+)", printed).group(1))
    chosen = int(re.search(r"smallest K within one standard error: (\d+)", printed).group(1))
    return best, chosen, pd.read_csv(out / "selection" / "selection.csv")


def _best_of_grid(sequences, model, K, grid_size):
    """Held-out log-likelihood per frame of the best of a grid of kappas at K (the first
    ``grid_size`` kappas of the grid), cross-validated as ``ethogram select`` does."""
    from ethogram.pipeline import SYLLABLE_PRIOR
    from ethogram.selection import cross_validate

    x = np.concatenate(sequences)
    sequences = [
        (d - x.mean(0)) / x.std(0) for d in sequences
    ]  # as the preparation standardizes them
    obs = {} if model == "gaussian" else {"num_lags": 3, **SYLLABLE_PRIOR}
    train = 0.8 * sum(d.shape[0] for d in sequences)
    ref = reference_kappa(train, K, 12)  # the default kappa before issue 15
    grid = [0, 10, 1e3, ref, 100, 1, 1e4, 10 * ref]
    scores = [
        cross_validate(sequences, [K], model=model, observation_kwargs=obs, kappa=k)
        .summary["mean"]
        .iloc[0]
        for k in grid[:grid_size]
    ]
    return max(scores)


CASES = [("gaussian", gaussian_recordings, 5), ("arhmm", ar_recordings, 4)]


def _check_select(tmp_path, capsys, model, generate, true_K, seed, num_frames=1500, grid_size=8):
    sequences = generate(seed, num_frames=num_frames)
    best, chosen, table = _select(tmp_path, capsys, sequences, model, "2,3,4,5,6,8")
    assert abs(chosen - true_K) <= 1 and abs(best - true_K) <= 1, (best, chosen)
    # syllables of 17 frames: no stickiness is needed at the true K
    assert (table.loc[table["num_states"] == true_K, "kappa"] == 0).all()
    # the default kappa's held-out score at the true K: select's own cross-validation there
    # (its rows at K; the same fits as cross_validate(kappa="auto") on the standardized data,
    # which this test used to run again)
    default = table.loc[table["num_states"] == true_K, "heldout_ll_per_frame"].mean()
    assert default >= _best_of_grid(sequences, model, true_K, grid_size) - 0.01


@pytest.mark.parametrize("model, generate, true_K", CASES)
def test_select_finds_the_number_of_states_with_its_defaults(
    tmp_path, capsys, model, generate, true_K
):
    """The small version of the test below: one seed, 2 x 1000 frames, 4 kappas in the grid."""
    _check_select(tmp_path, capsys, model, generate, true_K, 0, num_frames=1000, grid_size=4)


@pytest.mark.slow
@pytest.mark.parametrize("model, generate, true_K", CASES)
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_select_finds_the_number_of_states_with_its_defaults_five_seeds(
    tmp_path, capsys, model, generate, true_K, seed
):
    """Five generating seeds per model, 2 x 1500 frames, a grid of 8 kappas from 0 to ten times
    the reference kappa."""
    _check_select(tmp_path, capsys, model, generate, true_K, seed)


def test_the_search_is_checkpointed_and_resumed(mouse_search, tmp_path):
    """With a checkpoint, every fit of the search writes its own beside it; the fit's checkpoint is
    the chosen fit's, and resuming replays the search from them to the same labels (those of the
    same search without a checkpoint, ``mouse_search``)."""
    from ethogram.fitting.checkpoint import load_checkpoint
    from ethogram.pipeline import fit_recordings, kappa_checkpoints

    recs, plain, _ = mouse_search
    kw = SEARCH
    ck = tmp_path / "fit.checkpoint.h5"
    first = fit_recordings(recs, checkpoint=ck, **kw)
    searched = kappa_checkpoints(ck)
    assert len(searched) == len(first.config["kappa_search"]) and ck.is_file()
    assert (
        load_checkpoint(ck)["description"]["kappa"]
        == first.config["kappa_used"]
        == plain.config["kappa_used"]
    )
    again = fit_recordings(recs, checkpoint=ck, resume=True, **kw)
    for res in (first, again):
        np.testing.assert_array_equal(res.recordings[0].syllables, plain.recordings[0].syllables)
    assert [r["kappa"] for r in again.config["kappa_search"]] == [
        r["kappa"] for r in first.config["kappa_search"]
    ]
