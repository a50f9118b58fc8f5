"""Model selection on real recordings: moseq2's own changepoints, and kappa on open-field
keypoints."""

import numpy as np
import pytest

from conftest import DATA, SHARED, needs_shared
from ethogram.selection import changepoints, find_kappa, run_lengths
from ethogram.selection._common import viterbi_labels

UUID = "5c72bf30-9596-4d4d-ae38-db9a7a28e912"


@needs_shared
def test_changepoints_match_moseq2():
    """moseq2-pca computed changepoints of this recording from random projections of its depth
    frames; ours from random projections of its 50 PC scores (the same distribution, up to the
    variance the PCs leave out, and other random draws): the scores correlate, most of
    moseq2's changepoints are found within one frame, and the block durations agree."""
    import h5py

    with h5py.File(SHARED / "moseq2" / "test_scores.h5", "r") as f:
        scores = f[f"scores/{UUID}"][()].astype(np.float64)
    with h5py.File(SHARED / "moseq2" / "changepoints.h5", "r") as f:
        their_s = f[f"cps/{UUID}"][()].ravel()
        their_score = f[f"cps_score/{UUID}"][()].astype(np.float64)
        fps = float(f["metadata/fps"][()])
    theirs = np.round(their_s * fps).astype(int)  # moseq2 stores seconds
    cp = changepoints(scores, seed=0)
    assert cp.score.shape == (908,)
    # NaN where moseq2 has NaN: dropped frames and the edges
    np.testing.assert_array_equal(np.isnan(cp.score), np.isnan(their_score))
    ok = np.isfinite(cp.score)
    assert np.corrcoef(cp.score[ok], their_score[ok])[0, 1] > 0.9
    recall = np.mean([np.abs(cp.frames - t).min() <= 1 for t in theirs])
    precision = np.mean([np.abs(theirs - t).min() <= 1 for t in cp.frames])
    assert recall >= 0.75 and precision >= 0.85
    assert abs(np.median(cp.durations) - np.median(np.diff(theirs))) <= 2
    np.testing.assert_array_equal(cp.durations, np.diff(cp.frames))


def test_kappa_search_on_openfield_keypoints():
    """The open-field DLC keypoints, prepared by ethogram.prep (4 PCs), cut into two recordings;
    an ARHMM with 20 states; the search hits 0.4 s at 30 fps (12 frames) within 15%."""
    from ethogram.io import read_recordings
    from ethogram.prep import Preparation

    recs = read_recordings(DATA / "openfield" / "keypoints.csv", fps=30)
    prep = Preparation(num_pcs=4).fit_transform(recs)[0]
    x = prep.inputs.copy()
    x[~prep.mask] = np.nan
    half = x.shape[0] // 2
    sequences = [x[:half], x[half:]]
    s = find_kappa(
        sequences,
        20,
        target_duration=0.4,
        fps=prep.fps,
        observation_kwargs={"num_lags": 3},
        num_iters=100,
        seed=0,
    )
    assert s.target_frames == pytest.approx(12.0)
    assert abs(s.median_duration - 12.0) <= 0.15 * 12.0, (s.message, s.curve)
    labels = viterbi_labels(s.model(), sequences, [~np.isnan(d).any(axis=1) for d in sequences])
    assert np.median(run_lengths(labels)) == s.median_duration
