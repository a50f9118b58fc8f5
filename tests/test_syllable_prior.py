"""The application's AR prior (``ethogram.pipeline.SYLLABLE_PRIOR``) and what it is for.

The library's AR default is nearly maximum likelihood; syllable fits use a ridge of one
pseudo-frame and a noise prior at 0.1 of the variance on the standardized inputs, chosen on
held-out frames of four real data sets (``bench/study_ar_prior.py``). These tests check that
every route to a syllable model uses it (fit, the kappa search, the saved results) and that
on the shipped open-field mouse kappa then acts on syllable durations.
"""

from __future__ import annotations

import numpy as np
import pytest

from ethogram.data import openfield_keypoints
from ethogram.io import read_recordings
from ethogram.pipeline import SYLLABLE_PRIOR, fit_recordings
from ethogram.results import load_results, write_results
from ethogram.selection import run_lengths


@pytest.fixture(scope="module")
def openfield():
    return read_recordings(openfield_keypoints(), fps=30)


def _spy_observation_kwargs(monkeypatch, module, name) -> dict:
    """Wrap ``module.name`` so that the returned dict receives the ``observation_kwargs`` it is
    called with."""
    seen = {}
    real = getattr(module, name)

    def spy(*args, **kwargs):
        seen.update(kwargs["observation_kwargs"])
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


def _prior(model):
    obs = model.observations
    return {"prior_ridge": obs.prior_ridge, "prior_scale": obs.prior_scale}


#: kappa given where the prior, not the search, is the subject (the search's own fits are
#: checked for the prior by test_kappa_search_fits_with_the_syllable_prior)
KAPPA = 2000.0


def test_fit_uses_the_syllable_prior_and_saves_it(openfield, tmp_path):
    res = fit_recordings(openfield, kappa=KAPPA, num_iters=5, progress=False, seed=0)
    assert SYLLABLE_PRIOR == {"prior_ridge": 1.0, "prior_scale": 0.1}
    assert _prior(res.model) == SYLLABLE_PRIOR
    path = write_results(tmp_path / "results.h5", res)
    assert _prior(load_results(path).model) == SYLLABLE_PRIOR


def test_kappa_search_fits_with_the_syllable_prior(openfield, monkeypatch):
    import ethogram.selection.kappa as kappa
    from ethogram.selection.target import fit_to_target_duration

    seen = _spy_observation_kwargs(monkeypatch, kappa, "find_kappa")
    # 4 states, not the default 20: what is checked is the prior the search's fits are given
    fit_to_target_duration(
        openfield, target_duration=0.4, num_states=4, num_iters=5, progress=False, seed=0
    )
    assert {k: seen[k] for k in SYLLABLE_PRIOR} == SYLLABLE_PRIOR


def test_kappa_acts_on_durations_of_the_open_field_mouse(openfield):
    """With the syllable prior, 100 times the reference kappa (ethogram's default until issue 15)
    at least doubles the median syllable (measured: 10.5 -> 28 frames at seed 0; 7.3 -> 16.2
    fold-averaged with the library's prior, bench/results/ar_prior.md), and 1-frame
    syllables stay rare."""
    from ethogram.stickiness import reference_kappa

    usable = 2228  # frames of the shipped recording that preparation keeps
    k0 = reference_kappa(usable, 20, 0.4 * 30.0)
    runs = {}
    for factor in (1, 100):
        res = fit_recordings(openfield, kappa=k0 * factor, progress=False, seed=0)
        assert int(res.recordings[0].mask.sum()) == usable
        runs[factor] = run_lengths(res.recordings[0].syllables)
    assert np.median(runs[100]) >= 2 * np.median(runs[1])
    assert np.mean(runs[1] == 1) < 0.05


def test_select_command_fits_with_the_syllable_prior(monkeypatch, tmp_path, capsys):
    import ethogram.selection as selection
    from ethogram.cli import main

    seen = _spy_observation_kwargs(monkeypatch, selection, "cross_validate")
    code = main(
        [
            "select",
            str(openfield_keypoints()),
            "--fps",
            "30",
            "--states",
            "2",
            "--iters",
            "3",
            "--restarts",
            "1",
            "--quiet",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert {k: seen[k] for k in SYLLABLE_PRIOR} == SYLLABLE_PRIOR


def test_prior_ridge_can_be_raised_from_python_and_the_command_line(openfield, tmp_path, capsys):
    from ethogram.cli import main

    res = fit_recordings(
        openfield, kappa=KAPPA, num_iters=3, progress=False, seed=0, prior_ridge=10
    )
    assert res.model.observations.prior_ridge == 10.0 and res.config["prior_ridge"] == 10.0
    assert res.model.observations.prior_scale == SYLLABLE_PRIOR["prior_scale"]
    with pytest.raises(
        ValueError,
        match=r"^prior_ridge must be a non-negative number of pseudo-frames, e.g. 1 or 10, got -1$",
    ):
        fit_recordings(openfield, kappa=KAPPA, num_iters=3, progress=False, prior_ridge=-1)
    code = main(
        [
            "fit",
            str(openfield_keypoints()),
            "--fps",
            "30",
            "--iters",
            "3",
            "--prior-ridge",
            "10",
            "--kappa",
            str(KAPPA),
            "--quiet",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert load_results(tmp_path / "out" / "results.h5").model.observations.prior_ridge == 10.0
    assert (
        fit_recordings(openfield, kappa=KAPPA, num_iters=3, progress=False).config["prior_ridge"]
        == SYLLABLE_PRIOR["prior_ridge"]
    )


def test_a_kappa_search_that_misses_its_target_says_so_and_how_to_fix_it(tmp_path, capsys):
    """A 3 s median is out of reach on the open-field mouse: the search stops at kappa_max, and
    even --quiet prints one warning line naming --prior-ridge and --states."""
    from ethogram.cli import main

    code = main(
        [
            "fit",
            str(openfield_keypoints()),
            "--fps",
            "30",
            "--target-duration",
            "3",
            # 6 states, not the default 20: the search's miss and its line are the subject
            "--states",
            "6",
            "--iters",
            "20",
            "--quiet",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    search = [ln for ln in lines if "kappa search" in ln]
    assert len(search) == 1 and search[0].startswith(
        "ethogram: warning: kappa search: median duration"
    )
    # besides it, at most the fit's own word on 20 iterations
    assert all(
        ln.startswith("ethogram: warning: EM did not converge in 20 iterations")
        for ln in lines
        if ln != search[0]
    ), lines
    lines = search
    assert (
        "not within 10%" in lines[0]
        and "raise --prior-ridge tenfold" in lines[0]
        and "--states" in lines[0]
    )
    # it names the kappa the fit kept (a fresh user could not tell): the results' own
    from ethogram.results import load_results

    cfg = load_results(tmp_path / "out" / "results.h5").config
    tried = len(cfg["kappa_search"])
    assert (
        f"times the reference kappa), so the fit keeps kappa {cfg['kappa_used']:.4g}, whose "
        f"syllables were the longest of the {tried} tried: "
    ) in lines[0]


def test_a_kappa_search_that_meets_its_target_is_quiet(tmp_path, capsys):
    from ethogram.cli import main

    code = main(
        [
            "fit",
            str(openfield_keypoints()),
            "--fps",
            "30",
            "--target-duration",
            "0.4",
            # 6 states, not the default 20: the search's silence when it meets its target is the
            # subject (the default search on the mouse is checked on the demo's fit, test_cli.py)
            "--states",
            "6",
            "--iters",
            "20",
            "--quiet",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    captured = capsys.readouterr()
    # the search says nothing; a line about the fit itself may follow (20 iterations are few for EM)
    lines = captured.err.splitlines()
    assert code == 0 and not [ln for ln in lines if "kappa search" in ln], lines
    assert all(
        ln.startswith("ethogram: warning: EM did not converge in 20 iterations") for ln in lines
    ), lines
    msg = load_results(tmp_path / "out" / "results.h5").config["kappa_search_message"]
    assert "not within" not in msg  # the search did meet the 0.4 s target here
