"""The bad-input catalogue on the command line (the Python API's is tests/test_bad_inputs.py, whose
docstring lists the mistakes): each must end with a non-zero exit code and exactly one line on
stderr (``ethogram: error: ...``, no traceback unless ``--debug``) naming the option and what to do,
and leave nothing behind: no output file or folder, inputs untouched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from _bad_inputs import check_message
from ethogram.cli import main as cli_main
from test_bad_inputs import API


@pytest.fixture(scope="module")
def f(bad_inputs):
    return bad_inputs


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
    lacks = check_message(lines[0], words, missing_path=True)
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
