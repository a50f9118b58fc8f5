"""MoSeq PC scores keep their first 10 components by default (moseq2-model's ``--npcs 10``);
other feature arrays keep every column, and ``num_pcs`` overrides both."""

from __future__ import annotations

import numpy as np
import pytest

from ethogram.io import Recording
from ethogram.prep import Preparation
from ethogram.prep.preparation import DEFAULT_SCORE_PCS


def _recs(fmt, D=50, n=2, T=200):
    rng = np.random.default_rng(0)
    return [
        Recording(
            f"r{i}",
            rng.normal(size=(T, D)) * np.linspace(5, 0.1, D),
            "features",
            fps=30.0,
            format=fmt,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("fmt", ["moseq2", "moseq-nwb"])
def test_pc_scores_keep_the_first_ten_by_default(fmt):
    recs = _recs(fmt)
    prep = Preparation()
    out = prep.fit_transform(recs)
    assert DEFAULT_SCORE_PCS == 10 and out[0].inputs.shape == (200, 10)
    x = recs[0].data[:, :10]
    np.testing.assert_allclose(out[0].inputs, (x - prep.input_mean_) / prep.input_scale_)
    back = Preparation.from_dict(prep.to_dict())
    np.testing.assert_array_equal(back.transform(recs)[1].inputs, out[1].inputs)
    assert Preparation(num_pcs=20).fit_transform(recs)[0].inputs.shape == (200, 20)
    assert Preparation().fit_transform(_recs(fmt, D=6))[0].inputs.shape == (
        200,
        6,
    )  # fewer than 10: all


@pytest.mark.parametrize("fmt", ["npy", "csv", None])
def test_other_features_keep_every_column(fmt):
    assert Preparation().fit_transform(_recs(fmt))[0].inputs.shape == (200, 50)
