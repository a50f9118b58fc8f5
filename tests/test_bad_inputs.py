"""A catalogue of bad inputs across the Python API and the command line.

Every entry is one mistake a user can make: wrong shapes and dtypes, inf in data, NaN with automatic
masking switched off, K < 1, more states than frames, non-stochastic or negative matrices, negative
variances and covariances that are not positive definite, no sequence longer than ``num_lags`` (a
shorter one among longer ones is left out with a warning), an empty recording list, recordings of
different dimension, missing or misspelled body parts, a body part missing in every frame, truncated
or foreign HDF5 and NWB files, a results file from a newer format version, missing paths, unknown
formats, a video shorter than its keypoints, and a model applied to recordings with other body
parts. Each must be answered by a ``ValueError``, ``TypeError`` or ``FileNotFoundError``
(``FileExistsError`` for an existing output) whose message names the argument (the words listed with
the entry), says what is wrong and what to do (one of :data:`REMEDY`; for a path that does not
exist, saying so is enough). On the command line the same mistakes must end with a non-zero exit
code and exactly one line on stderr (``ethogram: error: ...``, no traceback unless ``--debug``), and
leave nothing behind: no output file or folder, inputs untouched.

Inputs are small files written here (400 frames of the openfield DeepLabCut recording
shipped with ethogram, and variants of it) and one results file from a 2-iteration fit.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

import ethogram as eg
from ethogram.cli import main as cli_main
from ethogram.io import read_recordings
from ethogram.pipeline import apply_model, fit_recordings
from ethogram.prep import Preparation
from ethogram.results import load_results, write_results

#: words of which a message must contain one: it says what to do (or what is expected)
REMEDY = (
    "give",
    "use",
    "pass",
    "mask",
    "normalis",
    "normaliz",
    "rename",
    "check",
    "upgrade",
    "create",
    "drop",
    "leave",
    "again",
    "choose",
    "set ",
    "remove",
    "must",
    "need",
    "at least",
    "expected",
    "one of",
    "should",
    "keep",
    "fewer",
    "instead",
    "refusing",
    "it has",
    "there are",
    "body parts are",  # the names to choose from
)

OPENFIELD = Path(eg.__file__).parent / "data" / "openfield" / "keypoints.csv"


# ----------------------------------------------------------------------------- inputs


@pytest.fixture(scope="module")
def f(tmp_path_factory):
    """The input files, a fitted results file and a few recordings."""
    d = tmp_path_factory.mktemp("bad_inputs")
    lines = OPENFIELD.read_text().splitlines()
    header, rows = lines[:3], lines[3:403]
    (d / "mouse.csv").write_text("\n".join(header + rows) + "\n")
    (d / "other.csv").write_text(
        "\n".join([header[0], header[1].replace("snout", "nose"), header[2]] + rows) + "\n"
    )
    blank = [
        ",".join([r.split(",")[0], "", "", "0.0"] + r.split(",")[4:]) for r in rows
    ]  # no snout at all
    (d / "nosnout.csv").write_text("\n".join(header + blank) + "\n")
    (d / "trunc.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    (d / "trunc.nwb").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 50)
    with h5py.File(d / "foreign.h5", "w") as h:
        h["hello"] = np.arange(3)
    _write_empty_nwb(d / "foreign.nwb")
    (d / "table.xyz").write_text("1,2\n3,4\n")
    (d / "one_group.csv").write_text("recording,group\nmouse,a\n")
    (d / "bad_groups.csv").write_text("name,grp\nmouse,a\n")
    feats = np.random.default_rng(0).normal(size=(300, 3))
    np.save(d / "three.npy", feats)
    np.save(d / "four.npy", np.random.default_rng(1).normal(size=(300, 4)))
    feats[10, 1] = np.inf
    np.save(d / "inf.npy", feats)
    recordings = read_recordings(d / "mouse.csv", fps=30)
    results = fit_recordings(recordings, num_states=2, num_iters=2, progress=False)
    write_results(d / "res.h5", results)
    shutil.copy(d / "res.h5", d / "newer.h5")
    with h5py.File(d / "newer.h5", "a") as h:
        h.attrs["format_version"] = 99
    data = (d / "res.h5").read_bytes()
    (d / "trunc_res.h5").write_bytes(data[: len(data) // 2])
    from ethogram.viz._video import write_mp4

    write_mp4(d / "short.mp4", [np.zeros((64, 64), np.uint8)] * 10, fps=30)
    x = np.random.default_rng(0).normal(size=(50, 2))
    return SimpleNamespace(dir=d, recordings=recordings, x=x, res=d / "res.h5")


def _write_empty_nwb(path):
    """An NWB file with neither pose estimation nor MoSeq data."""
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile

    nwb = NWBFile(
        session_description="no pose here",
        identifier="foreign",
        session_start_time=datetime(2020, 1, 1, tzinfo=timezone.utc),
    )
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


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
        "confidence threshold above 1",
        lambda f: Preparation(confidence_threshold=2.0),
        V,
        ["confidence", ("[0, 1]", "between 0 and 1", "at most 1", "<= 1")],
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


#: for a path that does not exist, saying so (with the path) is the remedy: give one that does
MISSING = ("no such file", "does not exist", "not found")


def _check_message(message: str, words, missing_path: bool = False) -> list:
    """What the message lacks: each word (or one of a tuple of words), and a remedy."""
    low = message.lower()
    missing = [
        w
        for w in words
        if not (any(x.lower() in low for x in w) if isinstance(w, tuple) else w.lower() in low)
    ]
    hints = REMEDY + (MISSING if missing_path else ())
    if not re.search(
        r"\b(" + "|".join(re.escape(h) for h in hints) + ")", low
    ):  # "mouse" is not "use"
        missing.append("a remedy (what to do)")
    return missing


@pytest.mark.parametrize(("call", "exc", "words"), [c[1:] for c in API], ids=[c[0] for c in API])
def test_api_bad_input(f, call, exc, words):
    with pytest.raises((ValueError, TypeError, FileNotFoundError, FileExistsError)) as info:
        call(f)
    assert isinstance(info.value, exc), f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    lacks = _check_message(message, words, isinstance(info.value, FileNotFoundError))
    assert not lacks, f"message {message!r} lacks {lacks}"


# ----------------------------------------------------------------------------- command line

# (id, argv with {d} for the input folder and {out} for a fresh output, words of the message)
CLI = [
    ("missing input", "fit {d}/nothere.csv -o {out}", ["nothere.csv"]),
    ("unknown --format", "fit {d}/mouse.csv -o {out} --format xyz", ["--format", "xyz"]),
    ("unknown suffix", "fit {d}/table.xyz -o {out}", ["table.xyz", "--format"]),
    ("--states 0", "fit {d}/mouse.csv -o {out} --states 0 --fps 30", ["--states", ">= 1"]),
    ("--lags 0", "fit {d}/mouse.csv -o {out} --lags 0 --fps 30", ["--lags", ">= 1"]),
    ("--iters -1", "fit {d}/mouse.csv -o {out} --iters -1 --fps 30", ["--iters", ">= 0"]),
    ("--fps 0", "fit {d}/mouse.csv -o {out} --fps 0", ["fps"]),
    ("no frame rate", "fit {d}/mouse.csv -o {out} --states 2 --iters 1", ["fps"]),
    (
        "more states than frames",
        "fit {d}/mouse.csv -o {out} --states 500 --iters 1 --fps 30",
        ["--states", "frames"],
    ),
    (
        "misspelled --bodyparts",
        "fit {d}/mouse.csv -o {out} --bodyparts snoot --fps 30",
        ["snoot", "snout"],
    ),
    (
        "body part missing in every frame",
        "fit {d}/nosnout.csv -o {out} --fps 30 --states 2 --iters 1",
        ["snout", "every frame"],
    ),
    ("truncated HDF5", "fit {d}/trunc.h5 -o {out}", ["trunc.h5"]),
    ("foreign HDF5", "fit {d}/foreign.h5 -o {out}", ["foreign.h5"]),
    ("truncated NWB", "fit {d}/trunc.nwb -o {out}", ["trunc.nwb"]),
    ("NWB without pose", "fit {d}/foreign.nwb -o {out}", ["foreign.nwb"]),
    (
        "recordings of different dimension",
        "fit {d}/three.npy {d}/four.npy -o {out} --fps 30 --states 2 --iters 1",
        ["columns"],
    ),
    (
        "results from a newer format version",
        "apply {d}/newer.h5 {d}/mouse.csv -o {out} --fps 30",
        ["newer.h5", "upgrade"],
    ),
    ("missing model", "apply {d}/nope.h5 {d}/mouse.csv -o {out} --fps 30", ["nope.h5"]),
    (
        "model applied to other body parts",
        "apply {d}/res.h5 {d}/other.csv -o {out} --fps 30",
        ["snout", "nose"],
    ),
    (
        "existing output without --overwrite",
        "fit {d}/mouse.csv -o {d}/res.h5 --fps 30",
        ["res.h5", "--overwrite"],
    ),
    ("info on a missing file", "info {d}/nothere.h5", ["nothere.h5"]),
    ("info on a truncated results file", "info {d}/trunc_res.h5", ["trunc_res.h5"]),
    (
        "video shorter than its keypoints",
        "movies {d}/res.h5 --video {d}/short.mp4 --kind grid --syllables 0 --out {out} --quiet",
        ["short.mp4", "10 frames"],
    ),
    ("unknown command", "frobnicate", ["frobnicate"]),
    ("report on a foreign HDF5 file", "report {d}/foreign.h5 -o {out}", ["foreign.h5", "results"]),
    ("report on a missing folder", "report {d}/nothere -o {out}", ["nothere"]),
    (
        "compare with missing labels",
        "compare {d}/res.h5 --labels {d}/nothere.csv --out {out}",
        ["--labels", "nothere.csv"],
    ),
    (
        "compare with a file of no labels",
        "compare {d}/res.h5 --labels {d}/mouse.csv --out {out}",
        ["mouse.csv", "label"],
    ),
    (
        "stats with one group",
        "stats {d}/res.h5 --groups {d}/one_group.csv --out {out}",
        ["one_group.csv", "two groups"],
    ),
    (
        "stats with wrong columns",
        "stats {d}/res.h5 --groups {d}/bad_groups.csv --out {out}",
        ["bad_groups.csv", "recording", "group"],
    ),
    (
        "stats with a missing groups file",
        "stats {d}/res.h5 --groups {d}/nothere.csv --out {out}",
        ["nothere.csv"],
    ),
    (
        "stats on a newer results file",
        "stats {d}/newer.h5 --groups {d}/one_group.csv --out {out}",
        ["newer.h5", "upgrade"],
    ),
    (
        "select --states 0",
        "select {d}/mouse.csv -o {out} --fps 30 --states 0",
        ["--states", "positive"],
    ),
    (
        "select --states not numbers",
        "select {d}/mouse.csv -o {out} --fps 30 --states 2,x",
        ["--states", "2,x"],
    ),
]


def _snapshot(folder: Path) -> dict:
    return {
        p.relative_to(folder): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")
    }


@pytest.mark.parametrize(("argv", "words"), [c[1:] for c in CLI], ids=[c[0] for c in CLI])
def test_cli_bad_input(f, capsys, tmp_path, argv, words):
    out = tmp_path / "out"
    before = _snapshot(f.dir)
    args = [a.format(d=f.dir, out=out) for a in argv.split()]
    try:
        code = cli_main(args)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert code not in (0, None), f"exit code {code}; stderr {captured.err!r}"
    assert len(lines) == 1 and lines[0].startswith("ethogram: error: "), captured.err
    assert "Traceback" not in captured.err
    lacks = _check_message(lines[0], words, missing_path=True)
    assert not lacks, f"{lines[0]!r} lacks {lacks}"
    assert not out.exists(), f"{out} was left behind"
    assert _snapshot(f.dir) == before, "the command changed or left files in the input folder"


def test_cli_debug_shows_the_traceback(f):
    with pytest.raises(FileNotFoundError, match="nothere.csv"):
        cli_main(["fit", str(f.dir / "nothere.csv"), "-o", str(f.dir / "out_debug"), "--debug"])
    assert not (f.dir / "out_debug").exists()


def test_cli_process_exits_two_with_one_line(f):
    """The real command in a process: exit status 2, one line on stderr, nothing written."""
    out = f.dir / "out_process"
    proc = subprocess.run(
        [sys.executable, "-m", "ethogram.cli", "fit", str(f.dir / "foreign.h5"), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.count("\n") == 1
        and proc.stderr.startswith("ethogram: error: ")
        and "foreign.h5" in proc.stderr
    )
    assert proc.stdout == ""
    assert not out.exists()


def test_the_catalogue_is_complete():
    assert len(API) + len(CLI) >= 30
    assert len({c[0] for c in API}) == len(API) and len({c[0] for c in CLI}) == len(CLI)
