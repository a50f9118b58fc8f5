"""The inputs of the bad-input catalogue (tests/test_bad_inputs.py, tests/test_bad_inputs_cli.py):
small files written once per test session (400 frames of the openfield DeepLabCut recording
shipped with ethogram and variants of it, foreign and truncated HDF5 and NWB files, a results file
from a 2-iteration fit), and the check that an error message names its argument and a remedy.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import h5py
import numpy as np

import ethogram as eg
from ethogram.io import read_recordings
from ethogram.pipeline import fit_recordings
from ethogram.results import write_results

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


def write_inputs(tmp_path_factory):
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


#: for a path that does not exist, saying so (with the path) is the remedy: give one that does
MISSING = ("no such file", "does not exist", "not found")


def check_message(message: str, words, missing_path: bool = False) -> list:
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
