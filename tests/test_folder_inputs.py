"""Folders as inputs: files that are not recordings are skipped out loud, never silently.

A ``notes.csv`` or a broken ``.h5`` dropped beside the recordings, or a file its reader cannot
read, is skipped with one ``SkippedFilesWarning`` line naming it and why; the command line
prints each as one line on stderr. A folder of good recordings gives no warning; a file named
on its own that is not readable is an error naming it. The real folders of ../shared/data still
read.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, SHARED, needs_shared
from ethogram.cli import main
from ethogram.io import read_recordings
from ethogram.io.readers import SkippedFilesWarning


def _good(folder: Path, rng) -> dict:
    """Two recordings: a .npy and a numeric .csv with a header; returns the raw arrays by stem."""
    folder.mkdir(parents=True, exist_ok=True)
    a = rng.normal(size=(50, 3))
    b = np.round(rng.normal(size=(40, 3)), 6)
    np.save(folder / "a.npy", a)
    (folder / "b.csv").write_text(
        "f0,f1,f2\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in b)
    )
    return {"a": a, "b": b}


def _bad(folder: Path) -> list:
    """Files with a recording's suffix that are not recordings, and one without such a suffix."""
    (folder / "notes.csv").write_text(
        "date,experimenter,comment\n2024-05-01,ana,mouse 3 jumped out\n"
    )
    (folder / "broken.h5").write_bytes(
        b"\x89HDF\r\n\x1a\n" + b"\x00" * 40
    )  # an HDF5 signature, cut short
    (folder / "README.txt").write_text("not a recording and not with a recording's suffix")
    return ["broken.h5", "notes.csv"]


def _skipped_warnings(record) -> list:
    return [w for w in record if issubclass(w.category, SkippedFilesWarning)]


def test_files_that_are_not_recordings_are_skipped_with_one_line_each_naming_them(tmp_path):
    raw = _good(tmp_path / "d", np.random.default_rng(0))
    _bad(tmp_path / "d")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        recs = read_recordings(tmp_path / "d")
    found = _skipped_warnings(record)
    msgs = [str(w.message) for w in found]
    assert msgs == [
        # h5py's own reason in the brackets; a file that is not HDF5 at all is said to be
        # damaged, not of an unknown format (no --format can read it)
        f"{tmp_path / 'd' / 'broken.h5'}: skipped: not a readable HDF5 file "
        f"({msgs[0].split('not a readable HDF5 file (')[1].rsplit('): it may', 1)[0]}): "
        "it may be damaged or cut short",
        f"{tmp_path / 'd' / 'notes.csv'}: skipped: not a recording of a known format "
        "(csv: text where "
        "numbers should be)",
    ]
    assert all(m.count("\n") == 0 for m in msgs)
    assert all(
        Path(w.filename).name == Path(__file__).name for w in found
    )  # the caller's line, not ethogram's
    # the good recordings are read, with their raw values
    assert [r.name for r in recs] == ["a", "b"]
    np.testing.assert_array_equal(recs[0].data, np.load(tmp_path / "d" / "a.npy"))
    np.testing.assert_array_equal(
        recs[1].data, np.loadtxt(tmp_path / "d" / "b.csv", delimiter=",", skiprows=1)
    )
    np.testing.assert_array_equal(recs[1].data, raw["b"])


def test_a_folder_of_good_recordings_gives_no_warning(tmp_path):
    _good(tmp_path / "d", np.random.default_rng(1))
    (tmp_path / "d" / "README.txt").write_text("other suffixes are not looked at")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        recs = read_recordings(tmp_path / "d")
    assert [r.name for r in recs] == ["a", "b"]


def test_files_of_another_format_than_asked_are_left_out_quietly(tmp_path):
    _good(tmp_path / "d", np.random.default_rng(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        recs = read_recordings(tmp_path / "d", format="npy")
    assert [r.name for r in recs] == ["a"]


def test_every_skipped_file_of_every_folder_gets_its_own_line(tmp_path):
    _good(tmp_path / "d1", np.random.default_rng(3))
    _good(tmp_path / "d2", np.random.default_rng(4))
    _bad(tmp_path / "d1")
    _bad(tmp_path / "d2")
    (tmp_path / "d2" / "empty.csv").write_text("")
    (tmp_path / "d2" / "header_only.csv").write_text("x,y\n")
    with pytest.warns(SkippedFilesWarning) as record:
        recs = read_recordings([tmp_path / "d1", tmp_path / "d2"])
    named = [str(w.message).split(": skipped: ")[0] for w in _skipped_warnings(record)]
    assert named == [
        str(tmp_path / d / f)
        for d, f in (
            ("d1", "broken.h5"),
            ("d1", "notes.csv"),
            ("d2", "broken.h5"),
            ("d2", "empty.csv"),
            ("d2", "header_only.csv"),
            ("d2", "notes.csv"),
        )
    ]
    why = {
        Path(n).name: str(w.message).split(": skipped: ")[1]
        for n, w in zip(named, _skipped_warnings(record))
    }
    assert why["empty.csv"] == "not a recording of a known format (csv: empty)"
    assert why["header_only.csv"] == "not a recording of a known format (csv: a header and no rows)"
    assert len(recs) == 4  # a and b of each folder (names prefixed by the folder where stems clash)


def test_files_named_on_their_own_are_read_or_refused_naming_them(tmp_path):
    _good(tmp_path / "d", np.random.default_rng(5))
    _bad(tmp_path / "d")
    with pytest.raises(ValueError, match=r"notes\.csv.*not numeric"):
        read_recordings(tmp_path / "d" / "notes.csv")
    with pytest.raises(ValueError, match=r"broken\.h5.*not a readable HDF5 file"):
        read_recordings(tmp_path / "d" / "broken.h5")
    with pytest.raises(
        ValueError, match=r"notes\.csv"
    ):  # a glob names files too: no silent skipping there
        read_recordings(str(tmp_path / "d" / "*.csv"))


def test_a_folder_with_nothing_but_skipped_files_says_so(tmp_path):
    (tmp_path / "d").mkdir()
    _bad(tmp_path / "d")
    with pytest.raises(FileNotFoundError) as info:
        read_recordings(tmp_path / "d")
    msg = str(info.value)
    assert f"no recordings of a known format in folder {tmp_path / 'd'}" in msg
    assert f"skipped {tmp_path / 'd' / 'notes.csv'}: not a recording" in msg and "broken.h5" in msg


def test_the_command_line_prints_the_warning_as_one_line(tmp_path, capsys):
    _good(tmp_path / "d", np.random.default_rng(6))
    _bad(tmp_path / "d")
    code = main(["info", str(tmp_path / "d")])
    err = capsys.readouterr().err
    assert code == 0
    lines = err.splitlines()
    assert [line.split(": skipped: ")[0] for line in lines] == [
        f"ethogram: warning: {tmp_path / 'd' / 'broken.h5'}",
        f"ethogram: warning: {tmp_path / 'd' / 'notes.csv'}",
    ]
    code = main(
        [
            "fit",
            str(tmp_path / "d"),
            "--fps",
            "30",
            "-o",
            str(tmp_path / "out"),
            "--states",
            "2",
            "--iters",
            "2",
            "--pcs",
            "2",
            "--quiet",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    got = (
        out.err.splitlines()
    )  # the skipped files once each, then what the 2-iteration fit deserves
    assert got[: len(lines)] == lines
    assert all(
        ln.startswith("ethogram: warning: EM did not converge in 2 iterations")
        for ln in got[len(lines) :]
    ), got
    assert out.out.startswith("2 recording(s), 90 frames")


@pytest.mark.parametrize(
    "folder, skipped, names",
    [
        (
            "openfield",
            ["human_labels_other_video.csv"],
            ["keypoints", "keypoints_missingdata", "keypoints_ndx_pose"],
        ),
        pytest.param("moseq2", ["changepoints.h5", "testh5.h5"], None, marks=needs_shared),
        # the shipped v3 excerpt (600 frames) holds no point of identity 4: left out with a note
        ("jabs", [], ["sample_pose_est_v2"] + [f"sample_pose_est_v3/id{i}" for i in range(4)]),
        ("flies", [], ["clip/female", "clip/male"]),
    ],
)
def test_the_real_data_folders_read_and_name_what_they_skip(folder, skipped, names):
    root = SHARED if folder == "moseq2" else DATA  # moseq2's files may not be copied
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        recs = read_recordings(
            root / folder, fps=30.0 if folder in ("openfield", "moseq2") else None
        )
    found = _skipped_warnings(record)
    assert [str(w.message).split(": skipped: ")[0] for w in found] == [
        str(root / folder / s) for s in skipped
    ]
    if names is not None:
        assert [r.name for r in recs] == names
    else:
        assert recs and all(r.format == "moseq2" for r in recs)
