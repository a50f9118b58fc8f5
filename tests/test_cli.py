"""The ``ethogram`` command end to end: ``demo`` on the shipped openfield mouse, ``fit`` / ``apply``
/ ``info`` on the real recordings shipped with the tests (DeepLabCut, JABS, SLEAP) and a synthetic
project in moseq2's layout, and bad input answered with one line on stderr, exit code 2 and nothing
written."""

import csv
import subprocess
import sys

import numpy as np
import pytest

from conftest import DATA
from ethogram.cli import main
from ethogram.data import openfield_keypoints
from ethogram.results import load_results
from ethogram.stickiness import median_run_length

#: a given kappa and 4 states, for tests of a summary line or an error when the results are
#: written (the default kappa search and 20 states are not what they check)
SMALL = ["--states", "4", "--kappa", "1000"]
#: short fits at a given kappa: the tests that take them check reading, writing and wording, not
#: the default kappa search (test_default_kappa.py's, and the demo's below)
FAST = ["--states", "4", "--iters", "5", "--kappa", "1000", "--quiet"]


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ethogram: error: ")
    assert "Traceback" not in err
    return lines[0]


def _csv_syllables(path):
    with open(path, newline="") as fh:
        return np.array([int(r["syllable"]) for r in csv.DictReader(fh)])


# --------------------------------------------------------------------------- demo and info
def test_demo_end_to_end_and_again(tmp_path, capsys):
    out = tmp_path / "demo"
    code, stdout, err = _run(["demo", "-o", out, "--quiet"], capsys)
    assert code == 0, err
    assert "ethogram: warning" not in err  # the default fit of the shipped mouse is not a poor one
    assert "syllables used" in stdout and "median duration" in stdout
    assert f"results: {out / 'results.h5'}" in stdout
    # the demo ends with grid movies of the 4 most frequent syllables and the report
    assert f"open the report: {(out / 'report' / 'index.html').resolve()}" in stdout
    assert (out / "report" / "index.html").is_file()
    import imageio.v3 as iio
    import pandas as pd

    shown = pd.read_csv(out / "movies" / "movies.csv").set_index("syllable")["num_instances"]
    for k in range(4):
        movie = out / "movies" / f"grid_syllable_{k:02d}.mp4"
        frames = [f.shape for f in iio.imiter(movie)]
        # 128-px tiles, at most 4 x 6: 6 columns (fewer with fewer instances), the rows they fill
        cols = min(6, shown[k])
        assert len(frames) > 30 and set(frames) == {(-(-shown[k] // cols) * 128, cols * 128, 3)}
        assert f"grid_syllable_{k:02d}.mp4" in (out / "report" / "index.html").read_text()
    res = load_results(out / "results.h5")
    assert res.names == ["keypoints"] and res.num_states == 20
    assert res.recordings[0].num_frames == 2330
    # the default kappa search (stickiness.smallest_kappa): without stickiness the mouse's
    # syllables last 4 frames; the demo's fit is the search's fit at the smallest kappa whose
    # median syllable reaches 90% of 0.4 s (12 frames; measured: kappa 2264, median 11.5)
    curve = res.config["kappa_search"]
    assert curve[0]["kappa"] == 0 and curve[0]["median_duration"] < 0.9 * 12
    assert res.config["kappa_search_reached"] and res.config["kappa_used"] > 0
    median = median_run_length([r.syllables for r in res.recordings])
    assert 0.9 * 12 <= median <= 12
    chosen = [row for row in curve if row["kappa"] == res.config["kappa_used"]]
    assert len(chosen) == 1 and chosen[0]["median_duration"] == median
    # the smaller kappas tried did not reach the target
    assert all(
        row["median_duration"] < 0.9 * 12
        for row in curve
        if row["kappa"] < res.config["kappa_used"]
    )
    np.testing.assert_array_equal(
        _csv_syllables(out / "results_csv" / "keypoints.csv"), res.recordings[0].syllables
    )
    # the syllable table counts what the labels say: the first row is the most frequent syllable
    first_row = next(line for line in stdout.splitlines() if line.startswith("0 "))
    z = res.recordings[0].syllables
    starts = np.flatnonzero(np.r_[True, z[1:] != z[:-1]])
    inst = np.bincount(z[starts][z[starts] >= 0], minlength=20)
    assert float(first_row.split()[1]) == pytest.approx(100 * inst[0] / inst.sum(), abs=0.051)
    # a second run refuses to replace without --overwrite and leaves the first as it was
    (out / "report" / "plots" / "stale.png").write_bytes(b"stale")
    (out / "notes.txt").write_text("mine")
    code, _, err = _run(["demo", "-o", out, "--quiet", "--no-report"], capsys)
    assert code == 2 and "--overwrite" in _one_error_line(err)
    assert (out / "report" / "plots" / "stale.png").read_bytes() == b"stale"
    # `make demo` runs `ethogram demo --overwrite`: the second run replaces the fit, its movies
    # and report (short fits from here: what is checked is replacing, not fitting; the two
    # replacing runs below were once tests of their own, each making its own first demo)
    # 4 states: the report and movies replaced are a few plots and one movie, not 20 syllables
    short = ["--states", "4", "--iters", "3", "--kappa", "1000"]  # no kappa search either
    code, stdout, err = _run(
        ["demo", "-o", out, "--quiet", *short, "--movies", "1", "--overwrite"], capsys
    )
    assert code == 0, err
    assert not (out / "report" / "plots" / "stale.png").exists()
    assert (out / "report" / "index.html").is_file()
    assert (out / "movies" / "grid_syllable_00.mp4").is_file()
    assert f"open the report: {(out / 'report' / 'index.html').resolve()}" in stdout
    # movies and a report beside replaced results would show another fit's syllables: a run
    # without them removes them, and leaves the user's own files
    code, stdout, err = _run(
        ["demo", "-o", out, "--quiet", *short, "--overwrite", "--no-report"], capsys
    )
    assert code == 0, err
    assert "removed the previous fit's movies/, report/" in stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "notes.txt",
        "results.h5",
        "results_csv",
        "results_tables",
    ]
    assert sorted(p.name for p in (out / "results_tables").iterdir()) == [
        "bigrams.csv",
        "durations.csv",
        "summary.csv",
        "transitions.csv",
        "usage.csv",
    ]
    res = load_results(out / "results.h5")
    z = res.recordings[0].syllables
    starts = np.flatnonzero(np.r_[True, z[1:] != z[:-1]])
    starts = starts[z[starts] >= 0]
    with open(out / "results_tables" / "durations.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(starts)
    assert [int(r["syllable"]) for r in rows] == z[starts].tolist()


def test_course_demo_reports_accuracy(capsys):
    code, stdout, err = _run(["demo", "--course", "--seed", "0"], capsys)
    assert code == 0, err
    lines = [line for line in stdout.splitlines() if "matched accuracy" in line]
    assert len(lines) == 2
    accuracies = [float(line.split()[2]) for line in lines]
    assert accuracies[0] >= 0.9 and accuracies[1] >= 0.95
    assert "fixed points" in stdout


def test_info_versions(capsys):
    code, out, _ = _run(["info"], capsys)
    assert code == 0 and "ethogram" in out and "numba" in out


def test_fit_apply_info_on_shipped_keypoints(tmp_path, capsys):
    src = openfield_keypoints()
    code, out, err = _run(
        ["fit", src, "--fps", "30", "-o", tmp_path / "fit", *FAST, "--seed", "1"], capsys
    )
    assert code == 0, err
    fitted = load_results(tmp_path / "fit" / "results.h5")
    assert fitted.config["argv"][0] == "fit" and fitted.config["seed"] == 1
    # apply the saved model to the same recording: the fit's labels
    code, out, err = _run(
        [
            "apply",
            tmp_path / "fit" / "results.h5",
            src,
            "--fps",
            "30",
            "-o",
            tmp_path / "applied.h5",
        ],
        capsys,
    )
    assert code == 0, err
    applied = load_results(tmp_path / "applied.h5")
    np.testing.assert_array_equal(applied.recordings[0].syllables, fitted.recordings[0].syllables)
    assert (tmp_path / "applied_csv" / "keypoints.csv").is_file()
    # info on the results file and on the recording
    code, out, _ = _run(["info", tmp_path / "fit" / "results.h5"], capsys)
    assert code == 0 and "K = 4" in out and "keypoints: 2330 frames" in out
    code, out, _ = _run(["info", src], capsys)
    assert code == 0 and "snout" in out and "2330" in out


def test_pcs_and_bodyparts_options(tmp_path, capsys):
    code, _, err = _run(
        [
            "fit",
            openfield_keypoints(),
            "--fps",
            "30",
            "--pcs",
            "2",
            "--bodyparts",
            "snout,leftear,rightear",
            "--anterior",
            "snout",
            "--posterior",
            "leftear,rightear",
            "-o",
            tmp_path / "r.h5",
            *FAST,
        ],
        capsys,
    )
    assert code == 0, err
    res = load_results(tmp_path / "r.h5")
    assert res.recordings[0].inputs.shape[1] == 2
    assert res.preparation.bodyparts_ == ("snout", "leftear", "rightear")


# --------------------------------------------------------------------------- bad input
def test_missing_fps_is_one_line_and_writes_nothing(tmp_path, capsys):
    code, _, err = _run(["fit", openfield_keypoints(), "-o", tmp_path / "out", *FAST], capsys)
    assert code == 2 and "--fps" in _one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_unknown_bodypart_writes_nothing(tmp_path, capsys):
    code, _, err = _run(
        [
            "fit",
            openfield_keypoints(),
            "--fps",
            "30",
            "--bodyparts",
            "wing",
            "-o",
            tmp_path / "a" / "b",
            *FAST,
        ],
        capsys,
    )
    assert code == 2 and "wing" in _one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    cases = [
        ["fit", tmp_path / "absent.csv", "-o", tmp_path / "o1"],
        ["fit", text, "-o", tmp_path / "o2"],
        ["apply", text, openfield_keypoints(), "-o", tmp_path / "o4"],
        ["apply", tmp_path / "absent.h5", openfield_keypoints(), "-o", tmp_path / "o5"],
        ["info", tmp_path / "absent.h5"],
        ["fit", openfield_keypoints(), "--fps", "-3", "-o", tmp_path / "o6"],
        ["fit", openfield_keypoints(), "--fps", "30", "-o", tmp_path / "notes.txt" / "sub"],
    ]
    for argv in cases:
        code, _, err = _run(argv, capsys)
        assert code == 2, (argv, err)
        _one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_usage_errors_are_one_line(capsys):
    for argv in (
        ["no-such-command"],
        ["fit"],
        ["fit", "x.csv"],
        ["fit", "x", "-o", "y", "--pcs", "2", "--variance", "0.8"],
        ["fit", "x.csv", "--fps", "30", "--states", "0", "-o", "y"],  # refused by the parser
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        _one_error_line(capsys.readouterr().err)


def test_existing_output_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "r.h5").write_text("precious")
    code, _, err = _run(["fit", tmp_path / "absent.csv", "-o", tmp_path / "r.h5"], capsys)
    assert code == 2 and "--overwrite" in _one_error_line(err)
    assert (tmp_path / "r.h5").read_text() == "precious"


def test_debug_shows_the_traceback(tmp_path, capsys):
    # --debug as a user meets it: the interpreter prints the traceback of the exception main
    # re-raises (a process of its own); without it, one line and exit code 2 (cli.main)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ethogram.cli",
            "--debug",
            "fit",
            str(openfield_keypoints()),
            "-o",
            str(tmp_path / "o"),
            *FAST,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr
    code, _, err = _run(["fit", openfield_keypoints(), "-o", tmp_path / "o", *FAST], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


# --------------------------------------------------------------------------- the real recordings
def test_fit_jabs_folder_and_glob(tmp_path, capsys):
    code, out, err = _run(["fit", DATA / "jabs", "-o", tmp_path / "folder", *FAST], capsys)
    assert code == 0, err
    res = load_results(tmp_path / "folder" / "results.h5")
    assert "sample_pose_est_v2" in res.names
    assert any(n.startswith("sample_pose_est_v3/") for n in res.names)  # several mice in one file
    assert all(r.fps == 30.0 for r in res.recordings)
    code, _, err = _run(
        ["fit", str(DATA / "jabs" / "*v2.h5"), "-o", tmp_path / "glob", *FAST], capsys
    )
    assert code == 0, err
    assert load_results(tmp_path / "glob" / "results.h5").names == ["sample_pose_est_v2"]


def test_fit_sleap_flies(tmp_path, capsys):
    code, out, err = _run(
        ["fit", DATA / "flies" / "clip.slp", "--fps", "25", "-o", tmp_path / "flies", *FAST], capsys
    )
    assert code == 0, err
    res = load_results(tmp_path / "flies" / "results.h5")
    assert len(res.recordings) == 2 and all(r.num_frames == 300 for r in res.recordings)
    assert all(r.keypoints.shape[1:] == (13, 2) for r in res.recordings)
    assert len(list((tmp_path / "flies" / "results_csv").iterdir())) == 2


def test_fit_moseq2_recording(tmp_path, capsys, moseq2_dir):
    code, out, err = _run(
        ["fit", moseq2_dir / "proc" / "results_00.h5", "--pcs", "10", "-o", tmp_path / "m", *FAST],
        capsys,
    )
    assert code == 0, err
    res = load_results(tmp_path / "m" / "results.h5")
    r = res.recordings[0]
    assert r.inputs.shape[1] == 10 and r.fps == pytest.approx(30.0, rel=0.01)
    assert r.centroid is not None and np.isfinite(r.centroid[r.mask]).all()


def test_fit_dlc_with_missing_values_and_nwb(tmp_path, capsys):
    code, _, err = _run(
        [
            "fit",
            DATA / "openfield" / "keypoints_missingdata.csv",
            DATA / "openfield" / "keypoints_ndx_pose.nwb",
            "--fps",
            "30",
            "-o",
            tmp_path / "o",
            *FAST,
        ],
        capsys,
    )
    assert code == 0, err
    res = load_results(tmp_path / "o" / "results.h5")
    assert len(res.recordings) == 2


def test_apply_to_recordings_the_model_cannot_prepare(tmp_path, capsys, moseq2_dir):
    code, _, err = _run(
        ["fit", openfield_keypoints(), "--fps", "30", "-o", tmp_path / "m", *FAST], capsys
    )
    assert code == 0, err
    for other in (DATA / "jabs" / "sample_pose_est_v2.h5", moseq2_dir / "proc" / "results_00.h5"):
        code, _, err = _run(
            ["apply", tmp_path / "m" / "results.h5", other, "-o", tmp_path / "a"], capsys
        )
        assert code == 2
        _one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_a_full_disk_is_one_clear_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    """ENOSPC while the results are written: exit 2, one line saying what to do, no output, input
    intact."""
    import errno
    import hashlib

    import ethogram.results.hdf5 as results_module

    source = tmp_path / "mouse.csv"
    source.write_bytes(openfield_keypoints().read_bytes())
    before = hashlib.sha256(source.read_bytes()).hexdigest()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results_module, "write_csvs", full)
    out = tmp_path / "out"
    code, _, err = _run(
        ["fit", source, "--fps", "30", "--iters", "2", "--quiet", "-o", out], capsys
    )
    assert code == 2
    line = _one_error_line(err)
    assert "no space left on the device" in line and "--resume" in line
    # no results, CSVs or tables: only the checkpoint the message names, so the fit is not lost, and
    # those of the default kappa's search beside it (so that --resume need not search again)
    names = sorted(p.name for p in out.iterdir())
    assert names[0] == "results.checkpoint.h5"
    assert all(n.startswith("results.checkpoint.kappa-") for n in names[1:])
    assert str(out / "results.checkpoint.h5") in line
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before
    # with room again, --resume finishes the fit and the checkpoint goes
    monkeypatch.undo()
    code, _, err = _run(
        ["fit", source, "--fps", "30", "--iters", "2", "--quiet", "-o", out, "--resume"], capsys
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["results.h5", "results_csv", "results_tables"]


def test_info_takes_the_output_folder_of_a_fit(tmp_path, capsys):
    out = tmp_path / "fit"
    code, _, err = _run(["demo", "-o", out, "--quiet", "--iters", "2", "--no-report"], capsys)
    assert code == 0, err
    code, stdout, err = _run(["info", out], capsys)
    assert code == 0, err
    assert (
        stdout.startswith(f"ethogram results file {out / 'results.h5'}")
        and "K = 20 syllables" in stdout
    )


def test_recordings_with_few_usable_frames_are_named_in_the_summary(tmp_path, capsys):
    code, stdout, err = _run(
        ["fit", DATA / "jabs", "-o", tmp_path / "j", "--quiet", "--iters", "2", *SMALL], capsys
    )
    assert code == 0, err
    note = next(
        line for line in stdout.splitlines() if "fewer than half their frames usable" in line
    )
    assert "sample_pose_est_v3/id2 (0 of 600)" in note and "sample_pose_est_v2 " not in note
    # the summary's first line says in how many frames the syllables are, as the results hold
    from ethogram.results import load_results

    recs = load_results(tmp_path / "j" / "results.h5").recordings
    labelled, frames = (
        sum(int((r.syllables >= 0).sum()) for r in recs),
        sum(len(r.syllables) for r in recs),
    )
    head = next(line for line in stdout.splitlines() if "syllables used" in line)
    assert f" in {labelled:,} of {frames:,} frames ({100 * labelled / frames:.0f}%; " in head
    assert labelled < frames
    # the report's box of warnings says the same note, in the command line's words (it
    # showed only the fit's quality warnings, so a report of this fit never named id2)
    from ethogram.cli._errors import option_names
    from ethogram.viz._report_data import data_notes

    shown = data_notes(load_results(tmp_path / "j" / "results.h5"), option_names())
    assert note.removeprefix("note: ") in shown
    assert "keep fewer --bodyparts NAMES" in note and "lower --confidence if" in note


def test_a_read_only_output_folder_is_one_clear_line(tmp_path, capsys, monkeypatch):
    """EROFS when the results are written (root ignores chmod, so the file system's answer is
    simulated)."""
    import errno

    import ethogram.results.hdf5 as results_module

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "out"))

    monkeypatch.setattr(results_module, "write_csvs", read_only)
    code, _, err = _run(
        [
            "fit",
            openfield_keypoints(),
            "--fps",
            "30",
            "--iters",
            "2",
            *SMALL,
            "--quiet",
            "--checkpoint-every",
            "0",
            "-o",
            tmp_path / "out",
        ],
        capsys,
    )
    assert code == 2
    line = _one_error_line(err)
    assert "read-only" in line and "choose another output folder with -o" in line
    assert not (tmp_path / "out").exists()
