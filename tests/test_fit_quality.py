"""A word when a fit is poor: each warning of ethogram.analysis.diagnostics fires on a fit built to
trigger it (EM stopped at 3 iterations, syllables of one frame, two states alternating every
frame or two) and stays silent on a good fit; the command line prints them as one line each with
its options, and the report shows them. The definitions at their boundaries, on labels alone:
tests/test_fit_quality_rules.py."""

import functools
import pickle
import re
import warnings

import numpy as np
import pytest

from ethogram.analysis.diagnostics import (
    FitQualityWarning,
    fit_quality_warnings,
    flicker_pairs,
    results_quality_warnings,
)
from ethogram.cli import main
from ethogram.cli._errors import OPTIONS as COMMAND_LINE_OPTIONS
from ethogram.io import Recording
from ethogram.pipeline import FitQualityWarning as exported
from ethogram.pipeline import apply_model, fit_recordings
from test_fit_quality_rules import _alternating

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


def test_em_stopped_while_crawling_does_not_contradict_its_tolerance():
    """A fresh user's JABS fit: "its last iteration still raised the objective by 2.8e-08 nats
    per frame; the tolerance is 1e-06" read as a contradiction. Accelerated EM stops when the
    gain still to come at its rate is under the tolerance, not the last step's: said so."""
    from ethogram.analysis.diagnostics import fit_quality_warnings

    labels = [np.repeat(np.arange(10) % 4, 100)]  # 4 syllables of 100 frames: nothing else to say
    objectives = [-1000.0, -999.0, -999.0 + 2.8e-08 * 1000]
    (w,) = fit_quality_warnings(
        labels,
        [30.0],
        converged=False,
        num_iters=40,
        objectives=objectives,
        num_frames=1000,
        tol=1e-6,
    )
    assert str(w).startswith(
        "EM did not converge in 40 iterations (its last iteration raised the objective by only "
        "2.8e-08 nats per frame, under the tolerance of 1e-06, but it was crawling: the gain "
        "still to come, estimated from its rate, was not): raise num_iters (e.g. to 120)"
    )


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
