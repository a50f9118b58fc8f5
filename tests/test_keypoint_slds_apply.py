"""``KeypointSLDS.apply``: states-only sweeps with a tempered start.

- the schedule: the first half of the sweeps at ``Q`` times 100, 100^(3/4), 100^(1/2),
  100^(1/4), the rest at the fitted ``Q``; ``temper=1`` is keypoint-moseq's ``apply_model``
  (the same bits as one untempered states-only run);
- on the shipped open-field mouse, a fit's model (tests/data/openfield_slds_fit.npz, written by
  tests/data/openfield_slds_fit.py: ``ethogram fit --method keypoint-slds --seed 0``, 9 of 20
  syllables used) applied to its own training recording with the pipeline's 50 sweeps and the
  fit's seed: untempered, the chain stays in short bouts of the fitted model's noisiest
  syllables, 11 of them unused by the fit; tempered, the labels agree with the fit's (mostly
  frames of the fit's rarer syllables taken by its main one differ) and unused syllables take
  at most a frame (the figures per seed: docs/keypoint_slds.md, "apply").
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ethogram.fitting.gibbs import GibbsSettings, run_gibbs
from ethogram.io import read_recordings
from ethogram.models import KeypointSLDS
from ethogram.models.gibbs.keypoint_start import apply_schedule, untempered_sweeps

FIT = Path(__file__).with_name("data") / "openfield_slds_fit.npz"
OPENFIELD = Path(__file__).with_name("fixtures") / "openfield" / "keypoints.csv"


@pytest.fixture(scope="module")
def mouse():
    """The fitted model, the fit's labels (T,), keypoints (T, 4, 2) and confidences (T, 4)."""
    f = np.load(FIT)
    params = {k: f[k] for k in f.files if k not in ("description", "bodyparts", "syllables")}
    model = KeypointSLDS.from_description(json.loads(str(f["description"])), params)
    rec = read_recordings(OPENFIELD, fps=30)[0]
    idx = [list(rec.bodyparts).index(b) for b in f["bodyparts"]]
    return model, f["syllables"], rec.data[:, idx], rec.confidence[:, idx]


def test_schedule():
    t = 100.0 ** np.array([1.0, 0.75, 0.5, 0.25, 0.0])
    stages = apply_schedule(50)
    assert [s[0] for s in stages] == [6, 12, 18, 24, 50]
    np.testing.assert_allclose([s[1] for s in stages], t, rtol=1e-12)
    assert apply_schedule(50, 1.0) == [(50, 1.0)] and apply_schedule(0) == [(0, 1.0)]
    assert untempered_sweeps(50) == 26 and untempered_sweeps(50, 1.0) == 51
    for bad in ({"temper": 0.5}, {"temper": float("nan")}, {"num_iters": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            apply_schedule(**{"num_iters": 10, **bad})


def test_untempered_apply_is_keypoint_moseqs(mouse):
    model, _, Y, conf = mouse
    Y, conf = Y[:200], conf[:200]
    a = model.apply(Y, conf, num_iters=4, seed=5, temper=1.0, progress=False)
    sequences, masks = model.prepare(Y, conf)
    run = run_gibbs(model, sequences, masks, GibbsSettings(num_iters=4, states_only=True),
                    seed=5, progress=False)  # fmt: skip
    for k, v in run.local_states[0].items():
        ref = a.run.local_states[0][k]
        np.testing.assert_array_equal(ref, v, err_msg=k)
    tempered = model.apply(Y, conf, num_iters=4, seed=5, progress=False, marginals_from_last=3)
    assert not np.array_equal(tempered.latent[0], a.latent[0])
    assert model._temperature == 1.0  # the model is left as it was
    with pytest.raises(ValueError, match="marginals_from_last"):
        model.apply(Y, conf, num_iters=4, seed=5, progress=False, marginals_from_last=4)


def test_apply_to_the_training_recording_gives_the_fits_labels(mouse):
    model, fitted, Y, conf = mouse
    unused = np.setdiff1d(np.arange(model.num_states), fitted)
    T = len(fitted)

    def apply(temper):
        z = model.apply(Y, conf, num_iters=50, seed=0, temper=temper, progress=False).syllables
        return int(np.sum(z[0] != fitted)), int(np.isin(z[0], unused).sum())

    differ, in_unused = apply(100.0)  # the default
    assert differ <= 0.1 * T and in_unused <= 5
    differ, in_unused = apply(1.0)  # keypoint-moseq's start: why the default tempers
    assert differ >= 0.2 * T and in_unused >= 100
