"""What ``ethogram fit`` and the report say of a fit, alike for every method.

A kappa search that missed its target reaches the report's "This fit may be poor" box once, as
the fit's own warning line, from what results.h5's config keeps; the advice on a collapsed fit
follows the search's finding (never "lower kappa" after a search whose lower kappas gave shorter
syllables); the fit's summary and the report's summary table name the model; the Gibbs kappa
search's sweeps are said as the code runs them (at most ``SEARCH_ITERS``); the keypoint SLDS's
summary and preparation table speak of its latent pose, and a caption names grey masked frames
only when there are; trajectory plots and their redraw share their defaults. On the first 300
frames of the open-field mouse with a few iterations or sweeps (all-NaN confidences:
test_confidence_words.py).
"""

from __future__ import annotations

import contextlib
import html as html_lib
import inspect
import io
import re
from pathlib import Path

import numpy as np
import pytest

from _pose_files import renamed_bodyparts_csv
from conftest import undrawn_report_plots
from ethogram.cli import build_parser, main
from ethogram.stickiness import GIBBS_REMEDY

OPENFIELD = "tests/fixtures/openfield/keypoints.csv"
MODELS = {
    "em": "sticky AR-HMM, MAP by EM",
    "gibbs-arhmm": "sticky HDP-ARHMM by Gibbs sampling (MoSeq's model)",
    "keypoint-slds": "keypoint SLDS by Gibbs sampling (keypoint-MoSeq's model)",
}
SEARCH_HEAD = (
    "median duration 6 frames at kappa 1e+06 for a target of 12 frames; not within 10% up to "
    "kappa 1e+06 (100 times the reference kappa): "
)
#: a Gibbs search's message as the library writes it (its remedy in Python's words) ...
SEARCH_MESSAGE = SEARCH_HEAD + GIBBS_REMEDY
#: ... and as a command says it
SEARCH_SAID = SEARCH_HEAD + (
    "the AR likelihoods, not the transition prior, set the durations here: set --kappa "
    "yourself, fit fewer states (--states), or fit with --method em, whose AR prior lets kappa "
    "act (--prior-ridge)"
)


def _text(page: Path) -> str:
    """The report page's text, tags dropped, spaces collapsed."""
    text = html_lib.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
    return re.sub(r"\s+", " ", text)


def _box(page: Path) -> list:
    """The items of the report's "may be poor" box (empty when there is none)."""
    raw = page.read_text(encoding="utf-8")
    found = re.search(r'<section id="warnings".*?</section>', raw, flags=re.S)
    if found is None:
        return []
    items = re.findall(r"<li>(.*?)</li>", found.group(0), flags=re.S)
    return [
        re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", "", i))).strip() for i in items
    ]


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    """Each method fitted from the command line on 300 frames at a given kappa:
    {method: (results file, stdout)}."""
    root = tmp_path_factory.mktemp("fit_words")
    short = renamed_bodyparts_csv(OPENFIELD, root / "mouse.csv", {}, num_frames=300)
    common = [str(short), "--fps", "30", "--states", "4", "--kappa", "1000", "--quiet"]
    runs = {
        "em": ["--iters", "3"],
        "gibbs-arhmm": ["--method", "gibbs-arhmm", "--gibbs-iters", "3"],
        "keypoint-slds": ["--method", "keypoint-slds", "--ar-iters", "2", "--gibbs-iters", "2"],
    }
    out = {}
    for method, extra in runs.items():
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
            assert main(["fit", *common, *extra, "-o", str(root / method)]) == 0
        out[method] = (root / method / "results.h5", stdout.getvalue())
    return out


@pytest.fixture(scope="module")
def reports(fits):
    """Each fit's report page (its text is what is read: the plots are not drawn)."""
    from ethogram.viz.report import write_report

    with pytest.MonkeyPatch.context() as mp:
        undrawn_report_plots(mp)
        return {
            m: write_report(path, progress=False, trajectories=False, overwrite=True)
            for m, (path, _) in fits.items()
        }


# ----------------------------------------------------------------- 3: the model, named alike
@pytest.mark.parametrize("method", list(MODELS))
def test_the_fit_summary_names_the_model_as_info_does(method, fits, capsys):
    summary = fits[method][1]
    assert f"\nmodel: {MODELS[method]}\n" in summary
    assert main(["info", str(fits[method][0])]) == 0
    assert f"model: {MODELS[method]}, K = 4" in capsys.readouterr().out


@pytest.mark.parametrize("method", list(MODELS))
def test_the_reports_summary_table_has_the_model_row(method, reports):
    assert f" method {method}: {MODELS[method]} " in _text(reports[method])


# ------------------------------------------------- 6: the keypoint SLDS's inputs in its words
def test_the_slds_summary_speaks_of_its_latent_pose(fits):
    from ethogram.results import load_results

    dim = load_results(fits["keypoint-slds"][0]).model.latent_dim
    slds = fits["keypoint-slds"][1]
    assert (
        f"; latent pose D = {dim} (the keypoint SLDS's own PCA of the aligned keypoints) from 4 "
        "body parts\n"
    ) in slds
    assert " inputs from " not in slds
    assert re.search(r"; \d+ inputs from 4 body parts\n", fits["em"][1])


def test_the_slds_preparation_table_shows_its_latent_pose_not_pcs(fits, reports):
    from ethogram.results import load_results

    dim = load_results(fits["keypoint-slds"][0]).model.latent_dim
    slds, em = _text(reports["keypoint-slds"]), _text(reports["em"])
    assert (
        f" latent pose {dim} dimensions: the keypoint SLDS's own PCA of the aligned keypoints "
        "(the fewest components explaining 90% of their variance, at most 10) "
    ) in slds
    assert " principal components " not in slds and " standardized " not in slds
    assert f" latent pose dimensions {dim} " in slds
    assert " principal components " in em and " input dimensions " in em


def test_the_over_time_caption_names_grey_frames_only_when_there_are(fits, reports):
    from ethogram.results import load_results

    slds, em = _text(reports["keypoint-slds"]), _text(reports["em"])
    assert "no frame is masked" in slds and "grey: masked frames" not in slds
    # the EM fit drops the frames with an unsure point: they are grey in its plot
    assert (load_results(fits["em"][0]).recordings[0].syllables < 0).any()
    assert "behind them (grey: masked frames); the first 60 s" in em


# ------------------------------------------- 2: a missed kappa search reaches the report's box
def _missed(path: Path, dest: Path, *, median_s: float | None = None) -> Path:
    """``path``'s results as a kappa search that missed its target would have written them
    (the config keys every method's search writes); with ``median_s``, labels whose median
    syllable lasts that long."""
    from ethogram.results import load_results, write_results

    res = load_results(path)
    res.config.update(
        kappa=None,
        target_duration=0.4,
        kappa_search=[{"kappa": 0.0, "median_duration": 1.0}],
        kappa_search_message=SEARCH_MESSAGE,
        kappa_search_reached=False,
    )
    if median_s is not None:  # runs of one length, the syllables in turn
        for r in res.recordings:
            n = max(1, round(median_s * r.fps))
            z = (np.arange(r.num_frames) // n % res.num_states).astype(r.syllables.dtype)
            r.syllables = np.where(r.syllables < 0, -1, z)  # masked frames stay masked
    write_results(dest / "results.h5", res)
    return dest / "results.h5"


@pytest.mark.parametrize("method", list(MODELS))
def test_a_missed_kappa_search_reaches_the_may_be_poor_box(
    method, fits, tmp_path, capsys, no_report_plots
):
    """A median of 0.2 s misses the 0.4 s target (not within 10%) but is not "too short" (a
    third of it): the search's own line is the box's, in the command's words."""
    path = _missed(fits[method][0], tmp_path / "fit", median_s=0.2)
    assert main(["report", str(path), "--no-trajectories", "--quiet"]) == 0
    capsys.readouterr()
    box = _box(tmp_path / "fit" / "report" / "index.html")
    (line,) = [w for w in box if w.startswith("kappa search:")]
    # the search's line, then (the default target: a mouse's 0.4 s) a shorter target named
    assert line == (
        f"kappa search: {SEARCH_SAID}; if this animal's movements are faster than a mouse's "
        "(a fly's), give a shorter --target-duration S instead"
    )


def test_it_is_said_once_when_the_syllables_are_too_short_too(
    fits, tmp_path, capsys, no_report_plots
):
    """At a median of 33 ms the warning on too-short syllables says the search could not
    lengthen them: the search's line is not said again."""
    path = _missed(fits["keypoint-slds"][0], tmp_path / "fit", median_s=1 / 30)
    assert main(["report", str(path), "--no-trajectories", "--quiet"]) == 0
    capsys.readouterr()
    box = _box(tmp_path / "fit" / "report" / "index.html")
    assert any("the searched stickiness alone does not lengthen them" in w for w in box), box
    assert not any(w.startswith("kappa search:") for w in box), box


def test_the_fit_says_it_once_on_stderr_after_the_summary(tmp_path, capsys, no_report_plots):
    """A Gibbs search that misses its target (3 s on 300 frames of the mouse) is said once, on
    stderr under --quiet too, as a warning the report's box also shows."""
    from ethogram.results import load_results

    short = renamed_bodyparts_csv(OPENFIELD, tmp_path / "mouse.csv", {}, num_frames=300)
    argv = ["fit", short, "--fps", "30", "--states", "4", "--method", "gibbs-arhmm",
            "--gibbs-iters", "2", "--target-duration", "3", "--quiet",
            "-o", tmp_path / "fit"]  # fmt: skip
    assert main([str(a) for a in argv]) == 0
    err = capsys.readouterr().err.splitlines()
    cfg = load_results(tmp_path / "fit" / "results.h5").config
    assert cfg["kappa_search_reached"] is False
    said = [
        ln
        for ln in err
        if ln.startswith("ethogram: warning: kappa search:") or "searched stickiness" in ln
    ]
    assert len(said) == 1, err
    assert said[0].startswith("ethogram: warning: ")
    assert main(["report", str(tmp_path / "fit"), "--no-trajectories", "--quiet"]) == 0
    box = _box(tmp_path / "fit" / "report" / "index.html")
    assert said[0][len("ethogram: warning: ") :] in box


# -------------------------------------------------- 4: collapse advice after the kappa search
def _collapsed():
    return [np.repeat([0, 1, 0, 2, 0], [400, 30, 400, 30, 100])]  # 94% in syllable 0


def test_collapse_advice_after_a_search_that_missed_does_not_say_lower_kappa():
    from ethogram.analysis.diagnostics import label_warnings

    search = {"reached": False, "message": SEARCH_MESSAGE}
    found = label_warnings(_collapsed(), [30.0], num_states=3, kappa=1e6, search=search)
    # the search's own line is not said after it: its Gibbs remedy "set kappa yourself"
    # contradicted "a lower kappa would shorten them further" (a fresh user's reading)
    assert [w.kind for w in found] == ["dominant_syllable"]
    assert str(found[0]) == (
        "syllable 0 holds 94% of the labelled frames: unless the animal did one thing most of "
        "the time, the fit collapsed onto one state; the kappa search kept kappa 1e+06 for its "
        "longest syllables, still short of its target, so a lower kappa would shorten them "
        "further: fit with another method"
    )
    assert "lower kappa (" not in str(found[0]) and "raise" not in str(found[0])


def test_a_search_message_without_a_known_remedy_is_said_as_written():
    """A results file of an older ethogram holds its own words: said as they are, no fields."""
    from ethogram.analysis.diagnostics import label_warnings

    old = SEARCH_HEAD + "give --kappa to fit at a kappa of your choice"
    search = {"reached": False, "message": old}
    labels = [np.repeat(np.arange(4) % 2, 6)]
    found = label_warnings(labels, [30.0], num_states=2, search=search)
    assert [str(w) for w in found] == [f"kappa search: {old}"] and found[0].arguments == ()


def test_collapse_advice_after_a_search_that_reached_its_target():
    from ethogram.analysis.diagnostics import label_warnings

    search = {"reached": True, "message": "median duration 12 frames at kappa 1e+04"}
    found = label_warnings(_collapsed(), [30.0], num_states=3, kappa=1e4, search=search)
    assert [w.kind for w in found] == ["dominant_syllable"]
    assert str(found[0]).endswith(
        "the fit collapsed onto one state; its kappa (1e+04 now) is the smallest the kappa "
        "search found to reach the target duration: a lower kappa may split that state, with "
        "shorter syllables; or fit with another method"
    )
    # a given kappa: lower it (as before)
    (given,) = label_warnings(_collapsed(), [30.0], num_states=3, kappa=1e6)
    assert str(given).endswith("lower kappa (1e+06 now) or give it, or fit with another method")


def test_an_applied_models_labels_leave_the_training_search_out():
    from ethogram.analysis.diagnostics import label_warnings

    search = {"reached": False, "message": SEARCH_MESSAGE}
    labels = [np.repeat(np.arange(4) % 2, 6)]  # 200 ms syllables: not too short
    assert label_warnings(labels, [30.0], num_states=2, search=search, applied=True) == []
    assert [w.kind for w in label_warnings(labels, [30.0], num_states=2, search=search)] == [
        "kappa_target_missed"
    ]


# ---------------------------------------------------- 5: the search's sweeps, as the code runs
def test_the_help_says_the_search_sweeps_the_code_runs(capsys):
    from ethogram.gibbs_kappa import SEARCH_ITERS

    with pytest.raises(SystemExit):
        build_parser().parse_args(["fit", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert (
        f"searched with short Gibbs runs of at most {SEARCH_ITERS} sweeps per stage, fewer when "
        "--gibbs-iters or --ar-iters is fewer" in text
    )
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    assert (
        f"a short Gibbs run per kappa tried of {SEARCH_ITERS} sweeps, or of `--gibbs-iters` when "
        f"fewer (the keypoint SLDS's of at most {SEARCH_ITERS} AR-only then {SEARCH_ITERS} full "
        "sweeps, fewer when `--ar-iters` or `--gibbs-iters` is fewer)" in readme
    )


# ------------------------------------------------------------ 6: shared trajectory defaults
def test_trajectory_plots_and_their_redraw_share_their_defaults():
    from ethogram.viz import trajectories as tr

    for fn in (tr.plot_trajectory, tr.plot_trajectories):
        params = inspect.signature(fn).parameters
        assert params["pre"].default == tr.DEFAULT_PRE == 5
        assert params["num_poses"].default == tr.DEFAULT_NUM_POSES == 5
    source = inspect.getsource(tr._redraw_trajectory)
    assert 'rest.get("pre", DEFAULT_PRE)' in source
    assert 'rest.get("num_poses", DEFAULT_NUM_POSES)' in source


# ------------------------------------- the preparation's confidence threshold reaches the model
def test_the_keypoint_slds_aligns_its_start_at_the_preparations_confidence_threshold(tmp_path):
    """``--confidence`` (``Preparation(confidence_threshold=...)``) sets the threshold under
    which the keypoint SLDS interpolates a point for the alignment that starts the fit; it was
    ignored (always 0.5)."""
    from ethogram.io import read_recordings
    from ethogram.pipeline import fit_recordings
    from ethogram.prep import Preparation
    from ethogram.results import load_results, write_results

    recs = read_recordings(
        renamed_bodyparts_csv(OPENFIELD, tmp_path / "mouse.csv", {}, 120), fps=30
    )
    kw = dict(method="keypoint-slds", num_states=3, kappa=100.0, ar_iters=1, gibbs_iters=1,
              seed=0, progress=False)  # fmt: skip
    for th, want in ((0.9, 0.9), (None, 0.0)):
        res = fit_recordings(recs, prep=Preparation(confidence_threshold=th), **kw)
        assert res.model.keypoint_prior.conf_threshold == want
        write_results(tmp_path / f"{th}.h5", res)
        assert load_results(tmp_path / f"{th}.h5").model.keypoint_prior.conf_threshold == want
    default = fit_recordings(recs, **kw)
    assert default.model.keypoint_prior.conf_threshold == 0.5


def test_the_data_notes_are_notes_in_the_report_not_warnings(
    fits, tmp_path, capsys, no_report_plots
):
    """The report showed the command line's notes on the data as more "Warnings (N)" of a fit
    that "may be poor", although the command line printed them as notes (a fresh user's JABS
    fit with one warning and two notes read "Warnings (3)"). Notes now follow the warnings,
    marked; a fit with notes alone has a box of notes."""
    from ethogram.results import load_results, write_results

    def report(res, name):
        (tmp_path / name).mkdir()
        write_results(tmp_path / name / "results.h5", res)
        assert main(["report", str(tmp_path / name), "--no-trajectories", "--quiet"]) == 0
        capsys.readouterr()
        page = tmp_path / name / "report" / "index.html"
        return _box(page), page.read_text(encoding="utf-8")

    res = load_results(fits["em"][0])  # EM stopped at 3 iterations: a warning
    r = res.recordings[0]
    hidden = np.arange(r.num_frames) < 0.6 * r.num_frames  # 60% without a syllable: a note
    r.syllables = np.where(hidden, -1, r.syllables)
    box, raw = report(res, "both")
    notes = [w for w in box if w.startswith("Note: ")]
    # this small fit also has too few frames per parameter: two notes
    assert len(notes) == 2 and "have fewer than half their frames usable" in notes[1]
    assert box[-2:] == notes and len(box) > 2  # the warnings first, then the notes
    assert f"Warnings ({len(box) - 2})" in raw and "This fit may be poor" in raw
    # converged, syllables of 0.4 s in turn: no warning left, the note alone
    res.fit["converged"] = True
    z = (np.arange(r.num_frames) // 12 % res.num_states).astype(r.syllables.dtype)
    r.syllables = np.where(hidden, -1, z)
    box, raw = report(res, "notes")
    assert len(box) == 2 and all(w.startswith("Note: ") for w in box)
    assert "Notes on the data" in raw and "Notes (2)" in raw
    assert "Warnings (" not in raw and "This fit may be poor" not in raw
