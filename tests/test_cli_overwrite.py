"""An existing output is never replaced without --overwrite: `report`, `movies`, `compare` and
`stats`.

A second run refuses (exit code 2, one line on stderr naming the earlier output and both fixes)
and leaves every byte of the earlier output as it was; with --overwrite it replaces it, and a
run that fails half-way leaves the earlier output whole and no temporary folder behind. Movies
of other syllables or kinds are added beside earlier ones without --overwrite (nothing is
replaced). The fits are planted (``synthetic_results``) so these tests run in seconds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ethogram.cli import main
from ethogram.results import write_results
from ethogram.viz._synthetic import synthetic_results


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ethogram: error: ") and "Traceback" not in err
    return lines[0]


def _snapshot(folder: Path) -> dict:
    """Every file under ``folder``: relative path -> bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _hidden(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _write_fit(out: Path) -> Path:
    out.mkdir()
    res = synthetic_results(
        num_states=4, num_recordings=1, num_frames=600, expected_states=False, seed=1
    )
    write_results(out / "results.h5", res)
    return out


@pytest.fixture()
def fit_dir(tmp_path):
    return _write_fit(tmp_path / "fit")


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """The report a first run leaves, made once (read only): the library's report of the same
    fit as ``fit_dir``. (The movies are ``earlier_movies``'s: a worker makes only what its tests
    use.)"""
    from ethogram.viz.report import write_report

    fit = _write_fit(tmp_path_factory.mktemp("earlier") / "fit")
    write_report(fit, progress=False, trajectories=False)
    return fit


@pytest.fixture(scope="module")
def earlier_movies(tmp_path_factory):
    """The movies a first run leaves, made once (read only): the first movie run of the movie
    tests (syllables 0 and 1) on the same fit as ``fit_dir``."""
    fit = _write_fit(tmp_path_factory.mktemp("earlier_movies") / "fit")
    assert main([str(a) for a in _movies(fit, "--syllables", "0,1")]) == 0
    return fit


def _put_earlier(earlier: Path, fit_dir: Path, name: str) -> Path:
    """A copy of an earlier run's ``name`` folder (``report`` or ``movies``) in ``fit_dir``, as
    that first run leaves it: for the tests whose subject is what a second run does to it."""
    import shutil

    return Path(shutil.copytree(earlier / name, fit_dir / name))


# --------------------------------------------------------------------------- report
def test_a_second_report_is_refused_and_the_first_left_as_it_was(fit_dir, earlier, capsys):
    # the first report is the module's (the same fit, the same options): the second is the subject
    report = _put_earlier(earlier, fit_dir, "report")
    before = _snapshot(report)
    assert "index.html" in before and any(k.startswith("tables/") for k in before)
    code, out, err = _run(["report", fit_dir, "--quiet", "--no-trajectories"], capsys)
    assert code == 2
    line = _one_error_line(err)
    assert repr(str(report)) in line and "earlier report" in line
    assert "--overwrite" in line and "--out DIR" in line
    assert _snapshot(report) == before
    assert _hidden(fit_dir) == []
    # another folder is not refused, and -o/--output name the same option as --out
    code, _, err = _run(
        ["report", fit_dir, "--quiet", "--no-trajectories", "--out", fit_dir / "report2"], capsys
    )
    assert code == 0, err
    code, _, err = _run(
        ["report", fit_dir, "--quiet", "--no-trajectories", "-o", fit_dir / "report2"], capsys
    )
    assert code == 2 and repr(str(fit_dir / "report2")) in _one_error_line(err)


def test_overwrite_replaces_the_report_and_keeps_other_files(fit_dir, earlier, capsys):
    report = _put_earlier(earlier, fit_dir, "report")  # the first report (the library's, shared)
    # that report's page as written here: it names its fit's folder, the rest is the same
    fresh = (report / "index.html").read_bytes().replace(bytes(earlier), bytes(fit_dir))
    (report / "index.html").write_bytes(b"<html>an earlier report</html>")
    (report / "plots" / "stale.png").write_bytes(b"stale")
    (report / "notes.txt").write_text("mine")
    code, _, err = _run(["report", fit_dir, "--quiet", "--no-trajectories", "--overwrite"], capsys)
    assert code == 0, err
    page = (report / "index.html").read_bytes()
    assert page != b"<html>an earlier report</html>" and b'href="tables/summary.csv"' in page
    assert len(page) == pytest.approx(
        len(fresh), abs=50
    )  # the page anew (only its times may differ)
    assert not (report / "plots" / "stale.png").exists()
    assert (report / "notes.txt").read_text() == "mine"
    assert _hidden(fit_dir) == []


def test_a_failing_overwrite_leaves_the_earlier_report_whole(fit_dir, earlier, capsys, monkeypatch):
    import ethogram.viz.plots as plots_module

    report = _put_earlier(earlier, fit_dir, "report")
    before = _snapshot(report)

    def broken(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(plots_module, "plot_durations", broken)
    code, _, err = _run(["report", fit_dir, "--quiet", "--no-trajectories", "--overwrite"], capsys)
    assert code == 1 and "plot failed" in err.strip().splitlines()[-1]
    assert _snapshot(report) == before
    assert _hidden(fit_dir) == []


def test_a_rename_failing_while_swapping_puts_the_earlier_report_back(
    fit_dir, earlier, monkeypatch
):
    """The last step (the new page moved in) fails: the earlier report is renamed back, whole."""
    import os

    from ethogram.viz.report import write_report

    index = _put_earlier(earlier, fit_dir, "report") / "index.html"
    (index.parent / "notes.txt").write_text("mine")
    before = _snapshot(index.parent)
    real = os.replace

    def failing(src, dst):
        if Path(dst) == index and ".tmp-" in str(src):
            raise OSError(28, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError, match="No space"):
        write_report(fit_dir, progress=False, trajectories=False, overwrite=True)
    monkeypatch.undo()
    assert _snapshot(index.parent) == before
    assert _hidden(fit_dir) == []


def test_a_failing_report_into_new_folders_creates_none(fit_dir, tmp_path, capsys, monkeypatch):
    import ethogram.viz.plots as plots_module

    monkeypatch.setattr(
        plots_module,
        "plot_durations",
        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("plot failed")),
    )
    code, _, _ = _run(
        ["report", fit_dir, "--quiet", "--no-trajectories", "--out", tmp_path / "a" / "b" / "rep"],
        capsys,
    )
    assert code == 1
    assert not (tmp_path / "a").exists()


def test_the_library_refuses_too(fit_dir, earlier):
    from ethogram.viz.report import existing_report, write_report

    index = _put_earlier(earlier, fit_dir, "report") / "index.html"  # the library's report
    assert [p.name for p in existing_report(index.parent)] == ["index.html", "plots", "tables"]
    before = _snapshot(index.parent)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_report(fit_dir, progress=False, trajectories=False)
    assert _snapshot(index.parent) == before
    assert write_report(fit_dir, progress=False, trajectories=False, overwrite=True) == index


# --------------------------------------------------------------------------- movies
def _movies(fit_dir, *extra):
    return [
        "movies",
        fit_dir,
        "--kind",
        "skeleton",
        "--instances",
        "4",
        "--rows",
        "2",
        "--cols",
        "2",
        "--quiet",
        *extra,
    ]


def test_a_second_movie_run_is_refused_and_the_movies_left_as_they_were(
    fit_dir, earlier_movies, capsys
):
    movies = _put_earlier(earlier_movies, fit_dir, "movies")  # the first run: syllables 0 and 1
    before = _snapshot(movies)
    assert sorted(before) == [
        "instances.csv",
        "movies.csv",
        "skeleton_syllable_00.mp4",
        "skeleton_syllable_01.mp4",
    ]
    code, _, err = _run(_movies(fit_dir, "--syllables", "1,2", "--seed", "5"), capsys)
    assert code == 2
    line = _one_error_line(err)
    assert (
        repr(str(movies)) in line
        and "skeleton_syllable_01.mp4" in line
        and "skeleton_syllable_00.mp4" not in line
    )
    assert "--overwrite" in line and "--out DIR" in line
    assert _snapshot(movies) == before  # syllable 2 was not added either: nothing was done
    assert _hidden(fit_dir) == []


def test_many_existing_movies_are_named_a_few_then_counted(fit_dir, capsys):
    assert _run(_movies(fit_dir), capsys)[0] == 0
    files = sorted(p.name for p in (fit_dir / "movies").glob("*.mp4"))
    assert len(files) == 4
    code, _, err = _run(_movies(fit_dir), capsys)
    line = _one_error_line(err)
    assert code == 2 and ", ".join(files[:3]) + " and 1 more" in line


def test_other_syllables_and_kinds_are_added_beside_earlier_movies(fit_dir, capsys):
    assert _run(_movies(fit_dir, "--syllables", "0"), capsys)[0] == 0
    first = (fit_dir / "movies" / "skeleton_syllable_00.mp4").read_bytes()
    code, _, err = _run(_movies(fit_dir, "--syllables", "2"), capsys)
    assert code == 0, err
    manifest = pd.read_csv(fit_dir / "movies" / "movies.csv")
    assert manifest["syllable"].tolist() == [0, 2]
    assert (fit_dir / "movies" / "skeleton_syllable_00.mp4").read_bytes() == first


def test_overwrite_replaces_the_movies_and_their_manifest_rows(fit_dir, earlier_movies, capsys):
    movies = _put_earlier(earlier_movies, fit_dir, "movies")  # the first run: syllables 0 and 1
    old = _snapshot(movies)
    old_instances = pd.read_csv(movies / "instances.csv")
    code, _, err = _run(
        _movies(fit_dir, "--syllables", "1", "--seed", "7", "--instances", "3", "--overwrite"),
        capsys,
    )
    assert code == 0, err
    new = _snapshot(movies)
    assert new["skeleton_syllable_00.mp4"] == old["skeleton_syllable_00.mp4"]
    assert new["skeleton_syllable_01.mp4"] != old["skeleton_syllable_01.mp4"]
    manifest = pd.read_csv(movies / "movies.csv")
    assert manifest["syllable"].tolist() == [0, 1] and manifest["num_instances"].tolist() == [4, 3]
    instances = pd.read_csv(movies / "instances.csv")
    pd.testing.assert_frame_equal(
        instances[instances["syllable"] == 0].reset_index(drop=True),
        old_instances[old_instances["syllable"] == 0].reset_index(drop=True),
    )
    assert (instances["syllable"] == 1).sum() == 3
    assert _hidden(fit_dir) == []


def test_a_failing_overwrite_leaves_the_earlier_movies_whole(
    fit_dir, earlier_movies, capsys, monkeypatch
):
    import ethogram.viz._movie_grid as movies_module  # a grid movie is drawn here, one by one

    movies = _put_earlier(earlier_movies, fit_dir, "movies")  # the first run: syllables 0 and 1
    before = _snapshot(movies)
    real, calls = movies_module.draw_grid, []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("render failed")
        return real(*args, **kwargs)

    monkeypatch.setattr(movies_module, "draw_grid", second_fails)
    code, _, err = _run(
        _movies(fit_dir, "--syllables", "0,1", "--seed", "9", "--overwrite"), capsys
    )
    assert code == 1 and "render failed" in err and len(calls) == 2
    assert _snapshot(movies) == before
    assert _hidden(fit_dir) == []


def test_a_failing_movie_run_into_new_folders_creates_none(fit_dir, tmp_path, capsys, monkeypatch):
    import ethogram.viz._movie_grid as movies_module

    monkeypatch.setattr(
        movies_module,
        "draw_grid",
        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("render failed")),
    )
    code, _, _ = _run(_movies(fit_dir, "--syllables", "0", "--out", tmp_path / "x" / "y"), capsys)
    assert code == 1 and not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- compare and stats
def _labels_csv(fit_dir, path):
    from ethogram.results import load_results

    rec = load_results(fit_dir / "results.h5").recordings[0]
    pd.DataFrame(
        {"recording": rec.name, "frame": np.arange(rec.num_frames), "label": rec.syllables}
    ).to_csv(path, index=False)
    return rec


def test_a_second_compare_is_refused_and_the_first_left_as_it_was(fit_dir, tmp_path, capsys):
    rec = _labels_csv(fit_dir, tmp_path / "ref.csv")
    argv = ["compare", fit_dir, "--labels", tmp_path / "ref.csv"]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    compare = fit_dir / "compare"
    before = _snapshot(compare)
    assert sorted(before) == [
        "labels_confusion.csv",
        "labels_durations.csv",
        "labels_mapping.csv",
        "labels_scores.csv",
    ]
    assert pd.read_csv(compare / "labels_scores.csv")["accuracy"].tolist() == [1.0]
    # another reference: refused before any work, every byte left as it was
    other = rec.syllables.copy()
    other[:100] = np.where(other[:100] >= 0, 9, -1)
    pd.DataFrame(
        {"recording": rec.name, "frame": np.arange(rec.num_frames), "label": other}
    ).to_csv(tmp_path / "ref2.csv", index=False)
    code, out, err = _run(["compare", fit_dir, "--labels", tmp_path / "ref2.csv"], capsys)
    assert code == 2 and out == ""
    line = _one_error_line(err)
    assert line == (
        f"ethogram: error: {str(compare)!r} already holds labels_scores.csv, labels_confusion.csv, "
        "labels_mapping.csv and 1 more from an earlier 'ethogram compare'; pass --overwrite "
        "to replace them, "
        "or write elsewhere with -o/--out DIR"
    )
    assert _snapshot(compare) == before
    assert _hidden(fit_dir) == []
    # with --overwrite the new tables replace the old ones
    code, out, err = _run(
        ["compare", fit_dir, "--labels", tmp_path / "ref2.csv", "--overwrite"], capsys
    )
    assert code == 0, err
    valid = rec.syllables >= 0
    expected = 1 - valid[:100].sum() / valid.sum()
    assert pd.read_csv(compare / "labels_scores.csv")["accuracy"].iloc[0] == pytest.approx(expected)
    assert sorted(_snapshot(compare)) == sorted(before) and _hidden(fit_dir) == []


def test_annotations_are_added_beside_label_tables_and_refused_the_second_time(
    fit_dir, tmp_path, capsys
):
    rec = _labels_csv(fit_dir, tmp_path / "ref.csv")
    assert _run(["compare", fit_dir, "--labels", tmp_path / "ref.csv"], capsys)[0] == 0
    labels_tables = _snapshot(fit_dir / "compare")
    pd.DataFrame(
        {
            "recording": [rec.name],
            "start": [0],
            "stop": [90],
            "behavior": ["groom"],
            "units": ["frames"],
        }
    ).to_csv(tmp_path / "ann.csv", index=False)
    code, _, err = _run(["compare", fit_dir, "--labels", tmp_path / "ann.csv"], capsys)
    assert code == 0, err
    now = _snapshot(fit_dir / "compare")
    assert {k: now[k] for k in labels_tables} == labels_tables
    assert sorted(set(now) - set(labels_tables)) == [
        "annotations_confusion.csv",
        "annotations_coverage.csv",
        "annotations_summary.csv",
    ]
    code, _, err = _run(["compare", fit_dir, "--labels", tmp_path / "ann.csv"], capsys)
    assert (
        code == 2
        and "annotations_summary.csv" in _one_error_line(err)
        and _snapshot(fit_dir / "compare") == now
    )


def test_a_failing_compare_overwrite_leaves_the_earlier_tables_whole(
    fit_dir, tmp_path, capsys, monkeypatch
):
    _labels_csv(fit_dir, tmp_path / "ref.csv")
    assert _run(["compare", fit_dir, "--labels", tmp_path / "ref.csv"], capsys)[0] == 0
    before = _snapshot(fit_dir / "compare")
    real = pd.DataFrame.to_csv

    def failing(self, path=None, *args, **kwargs):
        if path is not None and str(path).endswith("labels_mapping.csv"):
            raise OSError(28, "No space left on device", str(path))
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", failing)
    code, _, err = _run(
        ["compare", fit_dir, "--labels", tmp_path / "ref.csv", "--overwrite"], capsys
    )
    assert code == 2 and "no space left" in _one_error_line(err)
    assert _snapshot(fit_dir / "compare") == before
    assert _hidden(fit_dir) == []


@pytest.fixture()
def cohort_dir(tmp_path):
    out = tmp_path / "cohort"
    out.mkdir()
    res = synthetic_results(
        num_states=3, num_recordings=4, num_frames=300, expected_states=False, seed=2
    )
    write_results(out / "results.h5", res, csv=False)
    pd.DataFrame({"recording": res.names, "group": ["a", "a", "b", "b"]}).to_csv(
        out / "index.csv", index=False
    )
    return out


def test_a_second_stats_is_refused_and_the_first_left_as_it_was(cohort_dir, capsys):
    argv = ["stats", cohort_dir, "--groups", cohort_dir / "index.csv"]
    code, _, err = _run(argv, capsys)
    assert code == 0, err
    stats = cohort_dir / "stats"
    before = _snapshot(stats)
    assert sorted(before) == ["duration.png", "group_stats.csv", "per_recording.csv", "usage.png"]
    code, out, err = _run(argv + ["--alpha", "0.1"], capsys)
    assert code == 2 and out == ""
    line = _one_error_line(err)
    assert line == (
        f"ethogram: error: {str(stats)!r} already holds group_stats.csv, per_recording.csv, "
        "usage.png and "
        "1 more from an earlier 'ethogram stats'; pass --overwrite to replace them, "
        "or write elsewhere "
        "with -o/--out DIR"
    )
    assert _snapshot(stats) == before
    code, _, err = _run(argv + ["--overwrite"], capsys)
    assert code == 0, err
    after = _snapshot(stats)
    assert sorted(after) == sorted(before)
    assert (
        after["group_stats.csv"] == before["group_stats.csv"]
    )  # the same inputs give the same table
    assert _hidden(cohort_dir) == []


def test_a_failing_stats_run_into_a_new_folder_leaves_nothing(
    cohort_dir, tmp_path, capsys, monkeypatch
):
    import ethogram.analysis.groups as groups_module

    monkeypatch.setattr(
        groups_module,
        "plot_group_stats",
        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("plot failed")),
    )
    code, _, err = _run(
        ["stats", cohort_dir, "--groups", cohort_dir / "index.csv", "--out", tmp_path / "n" / "s"],
        capsys,
    )
    assert code == 1 and "plot failed" in err
    assert not (tmp_path / "n").exists() and _hidden(tmp_path) == []
