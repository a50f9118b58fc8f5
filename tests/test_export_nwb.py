"""``ethogram export OUT --nwb`` (issue 18): the syllables of a fit in copies of its NWB files,
a processing module ``ethogram`` read back by pynwb, by ``ethogram info`` and by ``compare``."""

from __future__ import annotations

import numpy as np
import pytest

from _pose_files import mouse, write_pose_nwb
from ethogram.cli import main


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _runs(z):
    """(start, stop, syllable) by a plain loop."""
    out, t = [], 0
    while t < len(z):
        u = t
        while u < len(z) and z[u] == z[t]:
            u += 1
        if z[t] >= 0:
            out.append((t, u, int(z[t])))
        t = u
    return out


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A fit on a two-animal NWB file (seconds as timestamps), a one-animal one with a delayed
    clock, and a DeepLabCut-like array file that has no NWB to join."""
    tmp = tmp_path_factory.mktemp("export")
    write_pose_nwb(
        tmp / "pair.nwb",
        [mouse(300, 0), mouse(300, 1)],
        np.arange(300) / 30.0,
        animals=["male", "female"],
    )
    write_pose_nwb(tmp / "solo.nwb", mouse(300, 2), 100.0 + np.arange(300) / 30.0)
    np.save(tmp / "plain.npy", mouse(300, 3))
    code = main(
        [
            "fit",
            str(tmp / "pair.nwb"),
            str(tmp / "solo.nwb"),
            "-o",
            str(tmp / "out"),
            "--states",
            "4",
            "--iters",
            "5",
            "--quiet",
        ]
    )
    assert code == 0
    return tmp


def test_export_writes_syllables_into_copies_of_the_nwb_files(fitted, capsys):
    from pynwb import NWBHDF5IO

    from ethogram.results import load_results

    code, out, err = _run(["export", fitted / "out", "--nwb"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (fitted / "out" / "nwb").iterdir()) == ["pair.nwb", "solo.nwb"]
    res = load_results(fitted / "out" / "results.h5")
    with NWBHDF5IO(str(fitted / "out" / "nwb" / "pair.nwb"), "r", load_namespaces=True) as io:
        nwb = io.read()
        assert set(nwb.processing["behavior"].data_interfaces) >= {
            "male",
            "female",
        }  # the pose data kept
        module = nwb.processing["ethogram"]
        assert "K = 4 syllables" in module.description
        for animal in ("male", "female"):
            z = res[f"pair/{animal}"].syllables
            np.testing.assert_array_equal(module[f"syllable_{animal}"].data[:], z)
            table = module[f"syllables_{animal}"].to_dataframe()
            want = _runs(z)
            assert list(zip(table["start_frame"], table["stop_frame"], table["syllable"])) == want
            np.testing.assert_allclose(
                table["start_time"], [a / 30.0 for a, _, _ in want], atol=1e-12
            )
            np.testing.assert_allclose(
                table["stop_time"], [b / 30.0 for _, b, _ in want], atol=1e-12
            )
    with NWBHDF5IO(str(fitted / "out" / "nwb" / "solo.nwb"), "r", load_namespaces=True) as io:
        module = io.read().processing["ethogram"]
        table = module["syllables"].to_dataframe()
        assert table["start_time"].iloc[0] == pytest.approx(100.0)  # the file's own clock
        np.testing.assert_allclose(module["syllable"].timestamps[:], 100.0 + np.arange(300) / 30.0)
    from pynwb import validate

    assert validate(path=str(fitted / "out" / "nwb" / "pair.nwb")) == []


def test_info_and_compare_read_the_exported_syllables_back(fitted, capsys):
    _run(["export", fitted / "out", "--nwb", "--overwrite"], capsys)
    code, out, _ = _run(["info", fitted / "out" / "nwb" / "solo.nwb"], capsys)
    assert code == 0
    assert "syllables (processing/ethogram): behavioral syllables from ethogram" in out
    assert "  syllable: 300 frames, 300 labelled" in out
    from ethogram.results import load_results, read_labels

    res = load_results(fitted / "out" / "results.h5")
    back = read_labels(fitted / "out" / "nwb" / "pair.nwb")
    assert sorted(back) == ["pair/female", "pair/male"]
    np.testing.assert_array_equal(back["pair/male"], res["pair/male"].syllables)
    # the copy is still a recording ethogram reads, with its animals
    from ethogram.io import read_recordings

    assert [r.name for r in read_recordings(fitted / "out" / "nwb" / "pair.nwb")] == [
        "pair/female",
        "pair/male",
    ]


def test_a_second_export_is_refused_without_overwrite(fitted, capsys):
    _run(["export", fitted / "out", "--nwb", "--overwrite"], capsys)
    before = (fitted / "out" / "nwb" / "pair.nwb").stat().st_mtime_ns
    code, out, err = _run(["export", fitted / "out", "--nwb"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--overwrite" in err
    assert (fitted / "out" / "nwb" / "pair.nwb").stat().st_mtime_ns == before


def test_recordings_from_other_formats_are_named_and_left_out(fitted, tmp_path, capsys):
    from ethogram.results import load_results, write_results

    res = load_results(fitted / "out" / "results.h5")
    res.recordings[0].format, res.recordings[0].source = "dlc", str(fitted / "male.csv")
    write_results(tmp_path / "part" / "results.h5", res, csv=False)
    code, out, err = _run(["export", tmp_path / "part", "--nwb"], capsys)
    assert code == 0
    assert err.splitlines() == [
        f"ethogram: warning: {res.recordings[0].name}: not exported: read from a dlc file, "
        "not NWB: convert it to NWB (DeepLabCut: dlc2nwb; SLEAP: sleap-io) and fit that "
        "file to export its syllables"
    ]
    assert sorted(p.name for p in (tmp_path / "part" / "nwb").iterdir()) == ["pair.nwb", "solo.nwb"]
    # nothing from NWB at all: one line, nothing written
    assert (
        main(
            [
                "fit",
                str(fitted / "plain.npy"),
                "--fps",
                "30",
                "-o",
                str(tmp_path / "npy"),
                "--states",
                "3",
                "--anterior",
                "bodypart0",
                "--posterior",
                "bodypart3",
                "--iters",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    code, out, err = _run(["export", tmp_path / "npy", "--nwb"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "was read from an NWB file (formats: npy)" in err and "convert it to NWB" in err
    assert not (tmp_path / "npy" / "nwb").exists()


def test_export_needs_a_format(fitted, capsys):
    code, _, err = _run(["export", fitted / "out"], capsys)
    assert code == 2 and "--nwb" in err
