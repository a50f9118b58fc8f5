"""``fit_recordings(method=...)`` and ``apply_model`` for the Gibbs methods, and the results file.

On 300 frames of the open-field mouse: both Gibbs methods fit, write a results file (format
version 2, the method in the config, the Gibbs model rebuilt from its description), and
``apply`` labels recordings with every method: the sticky HDP-ARHMM by Viterbi (the fit's own
labels), the keypoint SLDS by states-only sweeps (its estimated keypoints and noise variances
stored per recording); ``ethogram fit --method keypoint-slds`` runs from the command line.
"""

from __future__ import annotations

from dataclasses import replace

import h5py
import numpy as np
import pytest

from ethogram.analysis import relabel_by_frequency
from ethogram.io import read_recordings
from ethogram.models import KeypointSLDS, StickyHDPARHMM
from ethogram.pipeline import apply_model, fit_recordings
from ethogram.results import FORMAT_VERSION, load_results, write_results

OPENFIELD = "tests/fixtures/openfield/keypoints.csv"


@pytest.fixture(scope="module")
def recordings():
    rec = read_recordings(OPENFIELD, fps=30)[0]
    short = replace(rec, data=rec.data[:300], confidence=rec.confidence[:300], timestamps=None)
    holes = short.data.copy()
    holes[100:110, 0] = np.nan  # a lost snout: the keypoint SLDS keeps these frames
    return [short, replace(short, name="holes", data=holes)]


@pytest.mark.parametrize(
    "method, cls", [("keypoint-slds", KeypointSLDS), ("gibbs-arhmm", StickyHDPARHMM)]
)
def test_fit_write_load_apply(method, cls, recordings, tmp_path):
    ar = {"ar_iters": 3} if method == "keypoint-slds" else {}  # the ARHMM has no AR-only stage
    res = fit_recordings(recordings, method=method, num_states=10, gibbs_iters=4, seed=0,
                         progress=False, **ar)  # fmt: skip
    assert isinstance(res.model, cls) and res.config["method"] == method
    assert res.fit["log_joint"].shape == (res.fit["sweeps"] + 1,)
    if method == "keypoint-slds":  # no kappa given: searched, as the EM path does
        assert res.config["kappa_search"] and "kappa_search_message" in res.config
    path = write_results(tmp_path / "fit.h5", res)
    with h5py.File(path) as f:
        assert f.attrs["format_version"] == FORMAT_VERSION == 2
    back = load_results(path)
    assert isinstance(back.model, cls) and back.config["method"] == method
    for a, b in zip(res.recordings, back.recordings, strict=True):
        np.testing.assert_array_equal(a.syllables, b.syllables)
    applied = apply_model(path, recordings)
    assert applied.config["command"] == "apply" and applied.config["method"] == method
    order = relabel_by_frequency(res.syllables(), res.num_states)
    np.testing.assert_array_equal(order, np.arange(res.num_states))  # renumbered by frequency
    if method == "keypoint-slds":
        r = back.recordings[1]
        assert np.all(r.syllables >= 0) and r.mask.all()  # no frame dropped
        assert r.estimated_keypoints.shape == recordings[1].data.shape
        assert np.isfinite(r.estimated_keypoints).all() and r.noise_variance.shape == (300, 4)
        assert r.noise_variance[100:110, 0].mean() > 10 * r.noise_variance[:100, 0].mean()
        assert applied.recordings[0].estimated_keypoints is not None
    else:  # Viterbi under the fitted parameters: the fit's own labels
        for a, b in zip(res.recordings, applied.recordings, strict=True):
            np.testing.assert_array_equal(a.syllables, b.syllables)


def test_cli_fit_method_keypoint_slds(tmp_path, capsys):
    from ethogram.cli import main

    out = tmp_path / "fit.h5"
    code = main(["fit", OPENFIELD, "--fps", "30", "--method", "keypoint-slds", "--ar-iters", "2",
                 "--gibbs-iters", "2", "--states", "8", "-o", str(out), "--quiet"])  # fmt: skip
    printed = capsys.readouterr().out  # the two stages' sweeps apart
    assert code == 0 and "keypoint-slds: 2 AR-only + 2 full-model Gibbs sweeps" in printed
    assert load_results(out).config["method"] == "keypoint-slds"


def test_report_shows_the_log_joint_and_the_estimated_keypoints(recordings, tmp_path):
    from ethogram.viz.report import write_report

    res = fit_recordings(recordings[1:], method="keypoint-slds", num_states=8, ar_iters=2,
                         gibbs_iters=2, seed=0, progress=False)  # fmt: skip
    path = write_results(tmp_path / "fit.h5", res)
    out = write_report(path, tmp_path / "report", trajectories=False, progress=False)
    html = (tmp_path / "report" / "index.html").read_text()
    for png in ("plots/log_joint.png", "plots/keypoint_estimates.png"):
        assert (tmp_path / "report" / png).is_file() and png in html, (png, out)


def test_gibbs_fits_and_their_apply_say_when_the_fit_is_poor(recordings):
    """fit_recordings and apply_model warn for the Gibbs methods as for EM (a fresh user's
    gibbs-arhmm fit at kappa 100 gave 100 ms syllables without a word); their advice names EM
    for a prior that lets kappa act, not prior_ridge, which the Gibbs methods do not have."""
    from ethogram.analysis.diagnostics import FitQualityWarning

    with pytest.warns(FitQualityWarning) as caught:
        res = fit_recordings(recordings, method="gibbs-arhmm", num_states=10, kappa=1.0,
                             gibbs_iters=4, seed=0, progress=False)  # fmt: skip
    found = [w.message for w in caught if isinstance(w.message, FitQualityWarning)]
    assert "short_syllables" in [w.kind for w in found]
    for w in found:
        assert "prior_ridge" not in w.arguments and "prior_ridge" not in str(w)
    short = next(w for w in found if w.kind == "short_syllables")
    assert "method" in short.arguments and "fit with method=em" in str(short)
    with pytest.warns(FitQualityWarning) as applied:
        apply_model(res, recordings[:1])
    kinds = [w.message.kind for w in applied if isinstance(w.message, FitQualityWarning)]
    assert "short_syllables" in kinds and "dominant_syllable" not in kinds


def test_the_keypoint_slds_leaves_long_stretches_with_no_point_seen_without_syllables(
    recordings,
):
    """A fresh user's keypoint-slds fit of the JABS v3 sample gave the ghost track id4 (16
    tracked frames of 1800) one syllable over the whole minute, inferred from nothing, counted
    in the usage tables and called 100% usable. A stretch with no body part seen longer than
    the target syllable duration (0.4 s: 12 frames at 30 fps) now has no syllable and is out of
    the mask, in the fit and in apply; a shorter one (a brief dropout) is bridged."""
    rec = recordings[0]
    data, conf = rec.data.copy(), rec.confidence.copy()
    data[150:170] = np.nan  # the animal lost for 20 frames
    data[50:55] = np.nan  # and for 5
    conf[250:265] = 0.0  # 15 frames the tracker placed with no belief (JABS, SLEAP: 0)
    lost = replace(rec, name="lost", data=data, confidence=conf)
    res = fit_recordings([lost], method="keypoint-slds", num_states=8, kappa=1e4, ar_iters=2,
                         gibbs_iters=2, seed=0, progress=False)  # fmt: skip
    unseen = np.zeros(300, bool)
    unseen[150:170] = unseen[250:265] = True
    for r in (res.recordings[0], apply_model(res, [lost]).recordings[0]):
        np.testing.assert_array_equal(r.syllables < 0, unseen)
        np.testing.assert_array_equal(r.mask, ~unseen)
        # no invented position, heading, pose or keypoints there either; the bridged 5 kept
        for a in (r.centroid, r.heading, r.inputs, r.estimated_keypoints):
            np.testing.assert_array_equal(np.isnan(a).reshape(300, -1).all(axis=1), unseen)
            assert np.isfinite(a[~unseen]).all()
    # at a target of 1 s (30 frames; kappa searched for it) every stretch is bridged
    longer = fit_recordings([lost], method="keypoint-slds", num_states=8, ar_iters=2,
                            gibbs_iters=2, seed=0, progress=False,
                            target_duration=1.0)  # fmt: skip
    assert (longer.recordings[0].syllables >= 0).all()


def test_unseen_stretches_counts_a_point_seen_only_with_coordinates_and_confidence():
    from ethogram.prep.keypoints import unseen_stretches

    Y = np.ones((40, 3, 2))
    Y[5:10] = np.nan  # 5 frames: not longer than 5
    Y[12:25] = np.nan  # 13 frames, but frame 18 has one point
    Y[18, 1] = 1.0
    Y[30:40, :, 0] = np.nan  # one coordinate missing is a missing point; 10 frames to the end
    conf = np.ones((40, 3))
    got = unseen_stretches(Y, conf, 5)
    want = np.zeros(40, bool)
    want[12:18] = want[30:40] = True  # 12..17 is 6 frames; 19..24 is 6 frames too
    want[19:25] = True
    np.testing.assert_array_equal(got, want)
    conf[18, 1] = 0.0  # the one point of frame 18 had no belief: 13 unseen frames in a row
    want[18] = True
    np.testing.assert_array_equal(unseen_stretches(Y, conf, 5), want)
    assert not unseen_stretches(Y, None, 13).any()
