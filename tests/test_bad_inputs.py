"""A catalogue of bad inputs across the Python API and the command line.

Every entry is one mistake a user can make (wrong shapes and dtypes, inf or unmasked NaN in
data, K < 1, more states than frames, invalid matrices and covariances, sequences no longer
than ``num_lags``, empty or mismatched recording lists, missing or misspelled body parts,
truncated or foreign HDF5 and NWB files, a results file from a newer format version, missing
paths, unknown formats, a video shorter than its keypoints, a model applied to recordings with
other body parts), and each must be answered by a ``ValueError``, ``TypeError`` or
``FileNotFoundError`` (``FileExistsError`` for an existing output) whose message names the
argument (the words listed with the entry), says what is wrong and what to do (one of
``_bad_inputs.REMEDY``), on small files written once per session by tests/_bad_inputs.py; the
command line's version of the catalogue is tests/test_bad_inputs_cli.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import ethogram as eg
from _bad_inputs import check_message
from ethogram.io import read_recordings
from ethogram.pipeline import apply_model, fit_recordings
from ethogram.prep import Preparation
from ethogram.results import load_results, write_results


@pytest.fixture(scope="module")
def f(bad_inputs):
    return bad_inputs


def _fit(model, data, **kw):
    return model.fit(data, num_iters=2, progress=False, **kw)


def _gauss(K=2, D=2, **kw):
    return eg.HMM(K, "gaussian", dict(data_dim=D, **kw))


def _with(x, i, j, value):
    x = x.copy()
    x[i, j] = value
    return x


E = np.eye(2)
V, T, F = ValueError, TypeError, FileNotFoundError

# (id, call(f), exception type(s), words the message must contain: a str, or a tuple of which one)
API = [
    # kernels
    (
        "log_likes 3-D",
        lambda f: eg.forward_backward([0.5, 0.5], E, np.zeros((2, 3, 2))),
        V,
        ["log_likes", "dimension"],
    ),
    (
        "log_likes of strings",
        lambda f: eg.forward_backward([0.5, 0.5], E, [["a", "b"]]),
        T,
        ["log_likes", "numeric"],
    ),
    (
        "log_likes NaN",
        lambda f: eg.viterbi([0.5, 0.5], E, [[0.0, np.nan]]),
        V,
        ["log_likes", "nan"],
    ),
    (
        "transition_matrix rows not summing to 1",
        lambda f: eg.forward_pass([0.5, 0.5], [[0.5, 0.4], [0.5, 0.5]], np.zeros((3, 2))),
        V,
        ["transition_matrix", "sum to 1"],
    ),
    (
        "transition_matrix negative",
        lambda f: eg.forward_pass([0.5, 0.5], [[1.5, -0.5], [0.5, 0.5]], np.zeros((3, 2))),
        V,
        ["transition_matrix", "negative"],
    ),
    (
        "transition_matrix not square",
        lambda f: eg.viterbi([0.5, 0.5], np.ones((2, 3)) / 3, np.zeros((3, 2))),
        V,
        ["transition_matrix", "square"],
    ),
    (
        "initial_probs wrong length",
        lambda f: eg.forward_backward([1.0], E, np.zeros((3, 2))),
        V,
        ["initial_probs", "entries"],
    ),
    (
        "impossible observations",
        lambda f: eg.forward_backward([1.0, 0.0], E, [[0.0, 0.0], [-np.inf, 0.0]]),
        V,
        ["impossible", "transition_matrix"],
    ),
    (
        "mask wrong shape",
        lambda f: eg.forward_backward([0.5, 0.5], E, np.zeros((3, 2)), mask=[True]),
        V,
        ["mask", "shape"],
    ),
    # models
    ("num_states 0", lambda f: _gauss(K=0), V, ["num_states", "positive"]),
    ("num_states 2.5", lambda f: _gauss(K=2.5), V, ["num_states", "integer"]),
    ("course class num_states 0", lambda f: eg.GaussianHMM(0, 2), V, ["num_states"]),
    ("unknown observation model", lambda f: eg.HMM(2, "gausian"), V, ["gausian", "gaussian"]),
    ("more states than frames", lambda f: _fit(_gauss(K=10), f.x[:5]), V, ["num_states", "frames"]),
    ("inf in data", lambda f: _fit(_gauss(), _with(f.x, 3, 1, np.inf)), V, ["data", "inf"]),
    (
        "NaN with mask_nan=False",
        lambda f: _fit(_gauss(), _with(f.x, 3, 1, np.nan), mask_nan=False),
        V,
        ["nan", "mask_nan"],
    ),
    ("data of the wrong dimension", lambda f: _fit(_gauss(D=3), f.x), V, ["data", "data_dim"]),
    ("data 3-D", lambda f: _fit(_gauss(), f.x[None]), V, ["data", "shape"]),
    (
        "data of strings",
        lambda f: _fit(_gauss(), np.array([["a", "b"]] * 10)),
        T,
        ["data", "numeric"],
    ),
    (
        "recordings of different dimension",
        lambda f: _fit(_gauss(), [f.x, np.ones((20, 3))]),
        V,
        ["data", "data_dim"],
    ),
    (
        "an empty list of sequences",
        lambda f: _fit(_gauss(), []),
        V,
        ["data", ("empty", "at least one")],
    ),
    (
        "no sequence longer than num_lags",
        lambda f: _fit(
            eg.HMM(2, "autoregressive", dict(data_dim=2, num_lags=3)), [f.x[:2], f.x[:3]]
        ),
        V,
        ["num_lags", "frames"],
    ),
    (
        "negative variance",
        lambda f: _gauss(covariance_type="diag").set_params(
            {"emission_covs": np.array([np.diag([1.0, -1.0]), E])}
        ),
        V,
        ["emission_covs", ("positive", "negative")],
    ),
    (
        "covariance not positive definite",
        lambda f: _gauss().set_params({"emission_covs": np.array([[[1.0, 2.0], [2.0, 1.0]]] * 2)}),
        V,
        ["emission_covs", "positive definite"],
    ),
    (
        "covariance not symmetric",
        lambda f: _gauss().set_params({"emission_covs": np.array([[[1.0, 0.5], [0.0, 1.0]]] * 2)}),
        V,
        ["emission_covs", "symmetric"],
    ),
    (
        "non-stochastic transition_matrix on a model",
        lambda f: setattr(_gauss(), "transition_matrix", [[0.5, 0.4], [0.5, 0.5]]),
        V,
        ["transition_matrix", "sum to 1"],
    ),
    (
        "emission_probs not summing to 1",
        lambda f: eg.HMM(2, "categorical", dict(num_classes=2)).set_params(
            {"emission_probs": np.array([[0.5, 0.6], [0.5, 0.5]])}
        ),
        V,
        ["emission_probs", "sum to 1"],
    ),
    (
        "negative Poisson rates",
        lambda f: eg.HMM(2, "poisson", dict(data_dim=1)).set_params(
            {"emission_rates": np.array([[-1.0], [1.0]])}
        ),
        V,
        ["emission_rates", "negative"],
    ),
    (
        "class labels out of range",
        lambda f: _fit(eg.HMM(2, "categorical", dict(num_classes=3)), np.array([0, 1, 5, 1] * 10)),
        V,
        ["data", "[0, 3)"],
    ),
    (
        "negative counts",
        lambda f: _fit(
            eg.HMM(2, "poisson", dict(data_dim=1)), np.array([[0], [1], [-2], [1]] * 10)
        ),
        V,
        ["data", "non-negative"],
    ),
    ("num_iters negative", lambda f: _gauss().fit(f.x, num_iters=-1), V, ["num_iters"]),
    # readers, preparation, pipeline, results
    ("missing path", lambda f: read_recordings(f.dir / "nothere.csv"), F, ["nothere.csv"]),
    ("empty list of paths", lambda f: read_recordings([]), V, ["paths", "empty"]),
    (
        "unknown format",
        lambda f: read_recordings(f.dir / "mouse.csv", format="xyz"),
        V,
        ["format", "xyz", "dlc"],
    ),
    (
        "unknown suffix",
        lambda f: read_recordings(f.dir / "table.xyz"),
        V,
        ["table.xyz", ".xyz", "format"],
    ),
    ("truncated HDF5", lambda f: read_recordings(f.dir / "trunc.h5"), V, ["trunc.h5", "hdf5"]),
    ("foreign HDF5", lambda f: read_recordings(f.dir / "foreign.h5"), V, ["foreign.h5", "hello"]),
    ("truncated NWB", lambda f: read_recordings(f.dir / "trunc.nwb"), V, ["trunc.nwb"]),
    (
        "NWB without pose or MoSeq data",
        lambda f: read_recordings(f.dir / "foreign.nwb"),
        V,
        ["foreign.nwb", ("pose", "moseq")],
    ),
    (
        "misspelled body part",
        lambda f: read_recordings(f.dir / "mouse.csv", bodyparts=["snoot"]),
        V,
        ["snoot", "snout"],
    ),
    ("fps 0", lambda f: read_recordings(f.dir / "mouse.csv", fps=0), V, ["fps", "positive"]),
    (
        "body part missing in every frame",
        lambda f: fit_recordings(
            read_recordings(f.dir / "nosnout.csv", fps=30),
            num_states=2,
            num_iters=1,
            progress=False,
        ),
        V,
        ["snout", "every frame", "bodyparts"],
    ),
    (
        "inf in recorded features",
        lambda f: fit_recordings(
            read_recordings(f.dir / "inf.npy", fps=30), num_states=2, num_iters=1, progress=False
        ),
        V,
        ["inf"],
    ),
    (
        # no fixed bound (JABS confidences are heatmap peaks, above 1): checked against the data
        "confidence threshold above every confidence of the recording",
        lambda f: Preparation(confidence_threshold=2.0).fit_transform(f.recordings),
        V,
        ["confidence_threshold=2", "above every confidence", "'mouse'", "range from", "[0, 1]"],
    ),
    (
        "negative confidence threshold",
        lambda f: Preparation(confidence_threshold=-0.5),
        V,
        ["confidence_threshold", ">= 0", "-0.5"],
    ),
    (
        "NaN confidence threshold",
        lambda f: Preparation(confidence_threshold=float("nan")),
        V,
        ["confidence_threshold", "finite", "nan"],
    ),
    (
        "empty recording list",
        lambda f: fit_recordings([], num_states=2),
        V,
        ["recordings", "empty"],
    ),
    (
        "recordings of different dimension (features)",
        lambda f: fit_recordings(
            read_recordings([f.dir / "three.npy", f.dir / "four.npy"], fps=30),
            num_states=2,
            num_iters=1,
            progress=False,
        ),
        V,
        ["columns", "four", "three"],
    ),
    (
        "keypoints without a frame rate",
        lambda f: fit_recordings(
            read_recordings(f.dir / "mouse.csv"), num_states=2, num_iters=1, progress=False
        ),
        V,
        ["fps"],
    ),
    (
        "model applied to other body parts",
        lambda f: apply_model(f.res, read_recordings(f.dir / "other.csv", fps=30)),
        V,
        ["snout", "nose", "bodyparts"],
    ),
    (
        "results from a newer format version",
        lambda f: load_results(f.dir / "newer.h5"),
        V,
        ["newer.h5", "version", "upgrade"],
    ),
    ("missing results file", lambda f: load_results(f.dir / "nope.h5"), F, ["nope.h5"]),
    (
        "foreign HDF5 as results",
        lambda f: load_results(f.dir / "foreign.h5"),
        V,
        ["foreign.h5", "results"],
    ),
    (
        "truncated results file",
        lambda f: load_results(f.dir / "trunc_res.h5"),
        V,
        ["trunc_res.h5", ("truncated", "damaged", "incomplete")],
    ),
    (
        "results written over without overwrite",
        lambda f: write_results(f.res, load_results(f.res)),
        FileExistsError,
        ["res.h5", "overwrite"],
    ),
    (
        "video shorter than its keypoints",
        lambda f: __import__("ethogram.viz._video", fromlist=["x"]).align_video_frames(
            400, 10, video_path="short.mp4"
        ),
        V,
        ["short.mp4", "10 frames", "400"],
    ),
]


@pytest.mark.parametrize(("call", "exc", "words"), [c[1:] for c in API], ids=[c[0] for c in API])
def test_api_bad_input(f, call, exc, words):
    with pytest.raises((ValueError, TypeError, FileNotFoundError, FileExistsError)) as info:
        call(f)
    assert isinstance(info.value, exc), f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    lacks = check_message(message, words, isinstance(info.value, FileNotFoundError))
    assert not lacks, f"message {message!r} lacks {lacks}"
