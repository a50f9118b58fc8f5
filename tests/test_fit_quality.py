"""A word when a fit is poor: each warning of ethogram.analysis.diagnostics fires on a fit built to
trigger it (EM stopped at 3 iterations, syllables of one frame, two states alternating every
frame or two) and stays silent on a good fit; the definitions hold at their boundaries; the
command line prints them as one line each with its options, and the report shows them."""

import functools
import itertools
import pickle
import re
import warnings

import numpy as np
import pytest

from ethogram.analysis.diagnostics import (
    FitQualityWarning,
    fit_quality_warnings,
    flicker_pairs,
    label_warnings,
    median_duration,
    results_quality_warnings,
)
from ethogram.cli import main
from ethogram.cli._errors import OPTIONS as COMMAND_LINE_OPTIONS
from ethogram.io import Recording
from ethogram.pipeline import FitQualityWarning as exported
from ethogram.pipeline import apply_model, fit_recordings

#: four regimes of the synthetic recordings: means 8 noise standard deviations apart
MEANS = 8.0 * np.eye(4)


def _regime_data(runs, seed):
    """(T, 4) features, frame t around the mean of its regime; ``runs``: [(regime, frames)]."""
    z = np.concatenate([np.full(n, k) for k, n in runs])
    return MEANS[z] + np.random.default_rng(seed).normal(size=(len(z), 4))


def _sticky_runs(T, rng):
    """Regimes 0-2 in runs of 20 to 59 frames (0.7 to 2 s at 30 fps): a good fit's data."""
    out, t, prev = [], 0, -1
    while t < T:
        k = int(rng.choice([s for s in (0, 1, 2) if s != prev]))
        out.append((k, int(rng.integers(20, 60))))
        t, prev = t + out[-1][1], k
    return out


def _flicker_runs(T, rng):
    """Runs of 20 to 59 frames of regime 2 or 3, each followed by 10 to 29 runs of 1 or 2 frames
    alternating between regimes 0 and 1: a flicker pair in the data itself."""
    out, t = [], 0
    while t < T:
        out.append((int(rng.choice([2, 3])), int(rng.integers(20, 60))))
        out += [(i % 2, int(rng.integers(1, 3))) for i in range(int(rng.integers(10, 30)))]
        t = sum(n for _, n in out)
    return out


def _fast_runs(T, rng):
    """Every frame another of the four regimes, chosen uniformly: 1-frame syllables, no pair."""
    out, prev = [], -1
    for _ in range(T):
        prev = int(rng.choice([s for s in range(4) if s != prev]))
        out.append((prev, 1))
    return out


def _recordings(kind, T=1500, n=2):
    runs = {"good": _sticky_runs, "flicker": _flicker_runs, "fast": _fast_runs}[kind]
    return [
        Recording(
            name=f"{kind}{i}",
            data=_regime_data(runs(T, np.random.default_rng(10 * i + 1)), 10 * i),
            kind="features",
            fps=30.0,
        )
        for i in range(n)
    ]


def _fit(kind, **kwargs):
    """(the fit of ``kind``'s recordings, the FitQualityWarnings it gave); a fit asked for twice
    is made once (the same seed gives the same bits) and shared: read only, the list a copy."""
    res, found = _shared_fit(kind, tuple(sorted(kwargs.items())))
    return res, list(found)


@functools.cache
def _shared_fit(kind, kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_recordings(_recordings(kind), progress=False, **dict(kwargs))
    return res, [w.message for w in caught if issubclass(w.category, FitQualityWarning)]


# ------------------------------------------------------------- each warning on a fit made for it
def test_em_stopped_at_three_iterations_says_so_and_what_to_raise():
    res, found = _fit("good", num_states=6, num_iters=3)
    assert not res.fit["converged"]
    assert [w.kind for w in found] == ["not_converged"]
    w = found[0]
    obj = res.fit["objectives"]
    rise = (obj[-1] - obj[-2]) / res.fit["usable_frames"]
    assert str(w).startswith(
        f"EM did not converge in 3 iterations (its last iteration still raised the objective by "
        f"{rise:.2g} nats per frame; the tolerance is 1e-06): raise num_iters (e.g. to 100); "
        "fewer num_states also help"
    )
    assert w.arguments == ("num_iters", "num_states")
    assert "\n" not in str(w)


def test_a_good_fit_gives_no_warning():
    """The same data fitted to convergence, with twice the states it needs: silent."""
    res, found = _fit("good", num_states=6)
    assert res.fit["converged"]
    assert found == []


def test_one_frame_syllables_are_too_short():
    """With kappa searched (the default) and the target missed, kappa is not the advice."""
    res, found = _fit("fast", num_states=4)
    assert [w.kind for w in found] == ["short_syllables"]
    assert res.config["kappa_search_reached"] is False
    assert str(found[0]) == (
        "the median syllable lasts 33 ms, under a third of the target of 400 ms: the searched "
        "stickiness alone does not lengthen them; fit fewer num_states and raise prior_ridge "
        "(e.g. to 10)"
    )
    assert found[0].arguments == ("num_states", "prior_ridge")


def test_one_frame_syllables_with_a_given_kappa_advise_raising_it():
    res, found = _fit("fast", num_states=4, kappa=100.0)
    assert [w.kind for w in found] == ["short_syllables"]
    assert str(found[0]) == (
        "the median syllable lasts 33 ms, under a third of MoSeq's 400 ms: "
        "raise kappa (100 now; try 10x) or search it with target_duration, fit fewer num_states, "
        "or raise prior_ridge (e.g. to 10)"
    )
    assert found[0].arguments == ("kappa", "target_duration", "num_states", "prior_ridge")


def test_two_alternating_states_are_a_flicker_pair():
    res, found = _fit("flicker", num_states=4)
    kinds = [w.kind for w in found]
    assert "flicker_pair" in kinds
    w = found[kinds.index("flicker_pair")]
    # the alternating regimes have the most instances: syllables 0 and 1 after renumbering
    pairs = flicker_pairs(list(res.syllables().values()), res.num_states)
    assert [p["syllables"] for p in pairs] == [(0, 1)]
    assert str(w).startswith("syllables 0 and 1 (")
    assert str(w).endswith(
        "flicker: they likely split one behavior; raise kappa, fit fewer num_states or raise "
        "prior_ridge (e.g. to 10)"
    )
    assert w.arguments == ("kappa", "num_states", "prior_ridge")


def test_applying_a_model_checks_the_new_labels_not_the_training_fit():
    fitted, _ = _fit(
        "good", num_states=6, num_iters=3
    )  # not converged: said when fitted, not again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        apply_model(fitted, _recordings("good"))
    assert [w for w in caught if issubclass(w.category, FitQualityWarning)] == []
    fast, _ = _fit("fast", num_states=4, kappa=100.0)
    with pytest.warns(
        FitQualityWarning, match=r"^the median syllable lasts 33 ms.*: when refitting, raise kappa"
    ):
        apply_model(fast, _recordings("fast"))


def test_a_kappa_search_measures_against_its_own_target():
    from ethogram.selection import fit_to_target_duration

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res, _ = fit_to_target_duration(
            _recordings("fast"),
            target_duration=0.5,
            num_states=4,
            num_iters=20,
            progress=False,
            search_kwargs={"max_rounds": 2},
        )
    found = [w.message for w in caught if issubclass(w.category, FitQualityWarning)]
    assert [w.kind for w in found].count("short_syllables") == 1  # said once, after the search
    w = next(w for w in found if w.kind == "short_syllables")
    assert (
        "under a third of the target of 500 ms: the searched stickiness alone does not lengthen "
        "them" in str(w)
    )
    assert w.arguments == ("num_states", "prior_ridge") and res.config["target_duration"] == 0.5


# ------------------------------------------------------------------ the definitions at their edges
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
    # a new recording a model is applied to may truly be one behavior: (d) is the fit's sign
    assert label_warnings([at[:50], over], [30.0, 30.0], num_states=2, applied=True) == []


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


# --------------------------------------------------------------------------- the warning object
def test_the_warning_carries_its_arguments_and_says_them_either_way():
    w = FitQualityWarning(
        "short_syllables", "raise {kappa} or fit fewer {num_states}", ("kappa", "num_states")
    )
    assert exported is FitQualityWarning and issubclass(FitQualityWarning, UserWarning)
    assert str(w) == "raise kappa or fit fewer num_states"
    assert w.worded(COMMAND_LINE_OPTIONS) == "raise --kappa or fit fewer --states"
    copy = pickle.loads(pickle.dumps(w))
    assert (str(copy), copy.kind, copy.arguments) == (str(w), w.kind, w.arguments)
    with pytest.raises(ValueError, match="template fields"):
        FitQualityWarning("x", "raise {kappa}", ("kappa", "num_states"))


def test_every_argument_a_warning_names_has_a_command_line_option():
    _, found = _fit("flicker", num_states=4, num_iters=2)
    found += fit_quality_warnings([np.zeros(10, int)], [30.0], converged=False, num_iters=2)
    assert {w.kind for w in found} == {
        "not_converged",
        "short_syllables",
        "flicker_pair",
        "dominant_syllable",
    }
    for w in found:
        assert set(w.arguments) <= set(COMMAND_LINE_OPTIONS)
        cli = w.worded(COMMAND_LINE_OPTIONS)
        assert not re.search(
            r"(?<![-\w])(num_iters|num_states|kappa|prior_ridge|target_duration|method)\b", cli
        ), cli


# ------------------------------------------------------------------ command line and report
def _items(html_text) -> list:
    """The text of each list item of a piece of the report."""
    import html

    return [
        html.unescape(re.sub(r"<[^>]+>", "", s)) for s in re.findall(r"<li>(.*?)</li>", html_text)
    ]


def _save(tmp_path, kind):
    paths = []
    for r in _recordings(kind):
        paths.append(tmp_path / f"{r.name}.npy")
        np.save(paths[-1], r.data)
    return [str(p) for p in paths]


def test_the_command_line_prints_each_warning_as_one_line_with_its_options(
    tmp_path, capsys, no_report_plots
):
    files = _save(tmp_path, "flicker")
    code = main(
        [
            "fit",
            *files,
            "--fps",
            "30",
            "--states",
            "4",
            "--iters",
            "2",
            "--kappa",
            "100",
            "--quiet",
            "-o",
            str(tmp_path / "fit"),
        ]
    )
    cap = capsys.readouterr()
    assert code == 0, cap.err
    lines = cap.err.splitlines()
    assert [ln.split(":")[2].split()[0] for ln in lines] == [
        "EM",
        "the",
        "syllables",
    ]  # (a), (b), (c) in order
    assert all(ln.startswith("ethogram: warning: ") for ln in lines)
    assert "raise --iters (e.g. to 100); fewer --states also help" in lines[0]
    assert (
        "raise --kappa" in lines[1]
        and "--target-duration S" in lines[1]
        and "--prior-ridge" in lines[1]
    )
    assert "num_" not in cap.err and "prior_ridge" not in cap.err
    assert "results:" in cap.out  # the summary came first, on stdout
    # the report of that fit shows the same lines at its top
    code = main(["report", str(tmp_path / "fit"), "--quiet", "--no-trajectories"])
    assert code == 0
    html = (tmp_path / "fit" / "report" / "index.html").read_text()
    top = html[html.index('<section id="warnings"') : html.index('<section id="summary"')]
    assert "This fit may be poor" in top
    assert _items(top) == [ln[len("ethogram: warning: ") :] for ln in lines]
    assert '<code class="opt">--target-duration S</code>' in top  # options kept whole
    # apply says what its labels deserve (these flicker too), for a refit
    code = main(
        [
            "apply",
            str(tmp_path / "fit"),
            *files,
            "--fps",
            "30",
            "--quiet",
            "-o",
            str(tmp_path / "ap"),
        ]
    )
    cap = capsys.readouterr()
    assert code == 0, cap.err
    lines = cap.err.splitlines()
    assert len(lines) == 2 and all("when refitting, raise --kappa" in ln for ln in lines), lines
    assert lines[0].startswith("ethogram: warning: the median syllable lasts ")
    assert lines[1].startswith("ethogram: warning: syllables 0 and 1 (")


def test_a_good_fit_on_the_command_line_is_silent(tmp_path, capsys, no_report_plots):
    code = main(
        [
            "fit",
            *_save(tmp_path, "good"),
            "--fps",
            "30",
            "--states",
            "6",
            "--quiet",
            "-o",
            str(tmp_path / "f"),
        ]
    )
    cap = capsys.readouterr()
    assert code == 0 and cap.err == ""
    assert main(["report", str(tmp_path / "f"), "--quiet", "--no-trajectories"]) == 0
    assert 'id="warnings"' not in (tmp_path / "f" / "report" / "index.html").read_text()


def test_select_warns_about_the_model_it_hands_back(tmp_path, capsys):
    code = main(
        [
            "select",
            *_save(tmp_path, "fast"),
            "--fps",
            "30",
            "--states",
            "4",
            "--restarts",
            "1",
            "--stability",
            "2",
            "--iters",
            "20",
            "--workers",
            "1",
            "--quiet",
            "-o",
            str(tmp_path / "sel"),
        ]
    )
    cap = capsys.readouterr()
    assert code == 0, cap.err
    lines = cap.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "ethogram: warning: the chosen model (K = 4): the median syllable lasts 33 ms, under a "
        "third of MoSeq's 400 ms: raise --kappa"
    )


def test_a_report_of_an_older_results_file_shows_the_warnings_in_python_words(
    tmp_path, no_report_plots
):
    """Results without the EM's frames or tolerance, made in Python (no argv): the label checks
    still run, and the advice names the Python arguments."""
    from ethogram.viz._synthetic import synthetic_results
    from ethogram.viz.report import write_report

    res = synthetic_results(num_states=4, num_recordings=1, num_frames=600, expected_states=False)
    z = _alternating(1, 2, 200)
    res.recordings[0].syllables = z  # flicker between syllables 0 and 1
    res.fit["converged"] = True
    assert "usable_frames" not in res.fit and "tol" not in res.config and "argv" not in res.config
    expected = [w.worded() for w in results_quality_warnings(res)]
    assert [w.kind for w in results_quality_warnings(res)] == ["short_syllables", "flicker_pair"]
    index = write_report(res, tmp_path / "report", trajectories=False, progress=False)
    html = index.read_text()
    top = html[html.index('<section id="warnings"') : html.index('<section id="summary"')]
    assert _items(top) == expected
    assert "raise kappa (100 now; try 10x)" in expected[0] and "--kappa" not in top


def test_a_missed_kappa_search_with_too_short_syllables_is_said_once(tmp_path, capsys):
    """The default search misses on one-frame syllables: the short-syllable warning names the
    remedy; the search's own miss line would repeat it, so it is left out."""
    files = _save(tmp_path, "fast")
    code = main(
        ["fit", *files, "--fps", "30", "--states", "4", "--quiet", "-o", str(tmp_path / "f")]
    )
    cap = capsys.readouterr()
    assert code == 0, cap.err
    lines = cap.err.splitlines()
    assert [ln for ln in lines if "kappa search" in ln] == []
    short = [ln for ln in lines if "under a third of the target of 400 ms" in ln]
    assert len(short) == 1 and "fit fewer --states and raise --prior-ridge" in short[0]


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
    assert w.arguments == ("confidence_threshold", "bodyparts", "method")
    assert "stretches of a median 100 ms" in str(w) and "kappa" not in str(w)
    assert command_words(w, "fit").endswith(
        "lower --confidence or leave the unsure body parts out (--bodyparts NAMES), or fit "
        "--method keypoint-slds, which infers missing points and keeps every frame"
    )
    # the same syllables with no masked frame between them: the stickiness is the advice
    whole = np.tile(np.r_[0, 0, 1, 2, 2], 200)
    (w,) = label_warnings([whole], [30.0], num_states=3, kappa=1e4)
    assert "raise kappa (1e+04 now; try 10x)" in str(w)
    assert median_stretch([whole], [30.0]) == pytest.approx(1000 / 30)
