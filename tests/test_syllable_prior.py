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
from ethogram.io.results import load_results, write_results
from ethogram.pipeline import SYLLABLE_PRIOR, default_kappa, fit_recordings
from ethogram.selection import run_lengths


@pytest.fixture(scope="module")
def openfield():
    return read_recordings(openfield_keypoints(), fps=30)


def _prior(model):
    obs = model.observations
    return {"prior_ridge": obs.prior_ridge, "prior_scale": obs.prior_scale}


def test_fit_uses_the_syllable_prior_and_saves_it(openfield, tmp_path):
    res = fit_recordings(openfield, num_iters=5, progress=False, seed=0)
    assert SYLLABLE_PRIOR == {"prior_ridge": 1.0, "prior_scale": 0.1}
    assert _prior(res.model) == SYLLABLE_PRIOR
    path = write_results(tmp_path / "results.h5", res)
    assert _prior(load_results(path).model) == SYLLABLE_PRIOR


def test_kappa_search_fits_with_the_syllable_prior(openfield, monkeypatch):
    import ethogram.selection.kappa as kappa
    from ethogram.selection.target import fit_to_target_duration

    seen = {}
    real = kappa.find_kappa

    def spy(*args, **kwargs):
        seen.update(kwargs["observation_kwargs"])
        return real(*args, **kwargs)

    monkeypatch.setattr(kappa, "find_kappa", spy)
    fit_to_target_duration(openfield, target_duration=0.4, num_iters=5, progress=False, seed=0)
    assert {k: seen[k] for k in SYLLABLE_PRIOR} == SYLLABLE_PRIOR


def test_kappa_acts_on_durations_of_the_open_field_mouse(openfield):
    """With the syllable prior, 100 times the default kappa at least doubles the median
    syllable (measured: 10.5 -> 28 frames at seed 0; 7.3 -> 16.2 fold-averaged with the
    library's prior, bench/results/ar_prior.md), and 1-frame syllables stay rare."""
    usable = 2228  # frames of the shipped recording that preparation keeps
    k0 = default_kappa(usable, 20, 30.0)
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

    seen = {}
    real = selection.cross_validate

    def spy(*args, **kwargs):
        seen.update(kwargs["observation_kwargs"])
        return real(*args, **kwargs)

    monkeypatch.setattr(selection, "cross_validate", spy)
    code = main(["select", str(openfield_keypoints()), "--fps", "30", "--states", "2", "--iters", "3", "--restarts", "1",
                 "--quiet", "-o", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    assert {k: seen[k] for k in SYLLABLE_PRIOR} == SYLLABLE_PRIOR
