"""What a report copies in: only what ethogram's own commands wrote for this fit.

The report folder is meant to be zipped and sent, so a CSV or folder of another project lying
beside the results (a fit written into ``/tmp``) must never ride along: the report takes the
files ``ethogram compare``, ``stats``, ``select`` and ``movies`` write, in the folders they
write, and nothing else. A results file not named ``results.h5`` (``fit -o X.h5``) gets its own
``X_report/``, so two fits in one folder never share a report. Reports here draw no plots
(``no_report_plots``): what is checked is which files are copied and linked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from _report_pages import parse
from ethogram.viz import _report_files as rf
from ethogram.viz._synthetic import synthetic_results
from ethogram.viz.report import write_report


@pytest.fixture(scope="module")
def results():
    return synthetic_results(num_states=5, num_recordings=1, num_frames=300, seed=2)


def _write(path: Path, results) -> Path:
    from ethogram.results import write_results

    path.parent.mkdir(parents=True, exist_ok=True)
    write_results(path, results)
    return path


def _plant_unrelated(folder: Path) -> None:
    """What another project leaves in a shared folder: its own sub-folder with a CSV and a
    movie, a loose CSV, a CSV of its own in the stats folder and a folder of clips in the
    movies folder (ethogram movies writes its movies flat)."""
    (folder / "my_other_project").mkdir(parents=True)
    (folder / "my_other_project" / "participants.csv").write_text("name,age\nalice,34\n")
    (folder / "my_other_project" / "holiday.mp4").write_bytes(b"not ours")
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    (folder / "stats").mkdir(exist_ok=True)
    (folder / "stats" / "participants.csv").write_text("name,age\nbob,41\n")
    (folder / "movies" / "holiday").mkdir(parents=True)
    (folder / "movies" / "holiday" / "clip_syllable_0.mp4").write_bytes(b"not ours")


def _plant_outputs(folder: Path) -> None:
    """The files the other commands write (their names from cli/compare.py, cli/stats.py,
    cli/select.py and 'ethogram movies')."""
    (folder / "compare").mkdir(parents=True, exist_ok=True)
    for name in ("labels_scores.csv", "labels_confusion.csv"):
        (folder / "compare" / name).write_text("syllable,score\n0,0.5\n")
    (folder / "stats").mkdir(exist_ok=True)
    (folder / "stats" / "group_stats.csv").write_text("syllable,p_value\n0,0.25\n")
    (folder / "selection").mkdir()
    (folder / "selection" / "selection_summary.csv").write_text("num_states,score\n5,1.0\n")
    (folder / "movies").mkdir(exist_ok=True)
    (folder / "movies" / "grid_syllable_00.mp4").write_bytes(b"movie")
    (folder / "movies" / "movies.csv").write_text("syllable,kind,file\n0,grid,x.mp4\n")


def _links(index: Path) -> list:
    """The page's links to copied files (not its plots, undrawn here), each naming a file of
    the report."""
    links = [ln for ln in parse(index).links if ln.startswith(("extra/", "movies/"))]
    for ln in links:
        assert (index.parent / ln).is_file(), ln
    return links


def _copied(report: Path) -> set:
    return {
        p.relative_to(report).as_posix()
        for p in report.rglob("*")
        if p.is_file() and p.parts[len(report.parts)] in ("extra", "movies")
    }


def test_the_report_copies_only_the_commands_outputs(results, tmp_path, no_report_plots):
    fit = tmp_path / "fit"
    _write(fit / "results.h5", results)
    _plant_unrelated(fit)
    _plant_outputs(fit)
    index = write_report(fit, progress=False, trajectories=False)
    assert index == fit / "report" / "index.html"
    links = _links(index)
    assert _copied(index.parent) == {
        "extra/compare/labels_confusion.csv",
        "extra/compare/labels_scores.csv",
        "extra/stats/group_stats.csv",
        "extra/selection/selection_summary.csv",
        "movies/grid_syllable_00.mp4",
        "movies/movies.csv",
    }
    html = index.read_text(encoding="utf-8")
    for unrelated in ("participants", "notes.csv", "my_other_project", "holiday", "alice", "bob"):
        assert unrelated not in html, unrelated
    assert not any("participants" in ln or "notes" in ln for ln in links)
    assert "extra/stats/group_stats.csv" in links
    assert "extra/compare/labels_scores.csv" in links
    assert "extra/selection/selection_summary.csv" in links
    assert "Model selection (selection/)" in html


def test_an_output_written_elsewhere_with_o_is_known_by_its_files(
    results, tmp_path, no_report_plots
):
    """``ethogram stats -o fit/by_sex`` and ``movies -o fit/crowd``: known by their whole set
    of files and manifest; a folder holding only one of those names is not an output."""
    fit = tmp_path / "fit"
    _write(fit / "results.h5", results)
    for name in rf.OUTPUTS["stats"]:
        (fit / "by_sex" / name).parent.mkdir(exist_ok=True)
        (fit / "by_sex" / name).write_bytes(b"a,b\n1,2\n")
    (fit / "by_sex" / "participants.csv").write_text("name\nalice\n")
    (fit / "crowd").mkdir()
    (fit / "crowd" / "crowd_syllable_01.mp4").write_bytes(b"movie")
    (fit / "crowd" / "movies.csv").write_text("syllable,kind,file\n1,crowd,x.mp4\n")
    (fit / "other").mkdir()
    (fit / "other" / "group_stats.csv").write_text("a\n1\n")
    (fit / "other" / "clip.mp4").write_bytes(b"not ours")
    index = write_report(fit, progress=False, trajectories=False)
    _links(index)
    assert _copied(index.parent) == {f"extra/by_sex/{n}" for n in rf.OUTPUTS["stats"]} | {
        "movies/crowd/crowd_syllable_01.mp4",
        "movies/crowd/movies.csv",
    }


def test_the_reports_list_of_outputs_is_the_commands_own():
    """The names the report copies are the names the commands write (one list drifting from
    the other would drop a real output from the report)."""
    from ethogram.cli import compare, stats

    assert set(rf.OUTPUTS["compare"]) == set(compare.ANNOTATION_TABLES + compare.LABEL_TABLES)
    assert set(rf.OUTPUTS["stats"]) == set(stats.OUTPUTS)
    select = (Path(compare.__file__).parent / "select.py").read_text()
    for name in rf.OUTPUTS["selection"]:
        assert f'tmp / "{name}"' in select, name


def test_two_h5_fits_in_one_folder_get_reports_of_their_own(results, tmp_path, no_report_plots):
    """``fit -o shared/a.h5`` (an .h5 output is documented): its report is ``shared/a_report/``,
    not the folder's generic ``report/``; it takes the output folders named after it
    (``a_stats/``), never the folder's generic ones (``stats/``: another fit's or another
    project's), another fit's (``b_stats/``) nor other projects' folders."""
    shared = tmp_path / "shared"
    a = _write(shared / "a.h5", results)
    _write(shared / "b.h5", results)
    _plant_unrelated(shared)
    # what 'ethogram stats' wrote for some other fit into the folder's generic stats/
    (shared / "stats" / "group_stats.csv").write_text("syllable,p_value\n0,0.5\n")
    for fit in ("a", "b"):
        for name in rf.OUTPUTS["stats"]:
            (shared / f"{fit}_stats").mkdir(exist_ok=True)
            (shared / f"{fit}_stats" / name).write_bytes(b"a,b\n1,2\n")
        (shared / f"{fit}_movies").mkdir()
        (shared / f"{fit}_movies" / "grid_syllable_00.mp4").write_bytes(fit.encode())
        (shared / f"{fit}_movies" / "movies.csv").write_text("syllable,kind,file\n0,grid,x\n")
    index = write_report(a, progress=False, trajectories=False)
    assert index == shared / "a_report" / "index.html"
    assert not (shared / "report").exists()
    _links(index)
    assert _copied(index.parent) == {f"extra/a_stats/{n}" for n in rf.OUTPUTS["stats"]} | {
        "movies/a_movies/grid_syllable_00.mp4",
        "movies/a_movies/movies.csv",
    }
    assert (index.parent / "movies/a_movies/grid_syllable_00.mp4").read_bytes() == b"a"
    assert write_report(shared / "b.h5", progress=False, trajectories=False) == (
        shared / "b_report" / "index.html"
    )
    # a folder holding one results file that is not results.h5: the report is named after it
    solo = _write(tmp_path / "solo" / "fit.h5", results)
    assert write_report(solo.parent, progress=False, trajectories=False) == (
        solo.parent / "fit_report" / "index.html"
    )


def test_cli_fit_to_an_h5_file_then_report_writes_beside_it(results, tmp_path, capsys):
    """The fresh user's steps: ``ethogram report /tmp/trial.h5`` on an .h5 written with
    ``fit -o``: the report goes to ``trial_report/`` beside it, not to ``/tmp/report/``, and
    carries none of the folder's other files."""
    from ethogram.cli import main

    trial = _write(tmp_path / "trial.h5", results)
    _plant_unrelated(tmp_path)
    assert main(["report", str(trial), "--quiet", "--no-trajectories"]) == 0
    index = tmp_path / "trial_report" / "index.html"
    assert str(index.resolve()) in capsys.readouterr().out
    assert not (tmp_path / "report").exists()
    assert _copied(index.parent) == set()
    assert "participants" not in index.read_text(encoding="utf-8")


def test_select_refuses_an_o_named_like_a_results_file(tmp_path, capsys):
    """``select`` writes a folder (DIR/selection/), unlike ``fit`` and ``apply`` whose ``-o``
    may be a results file: ``-o x.h5`` is refused in one line before any work, not made into
    a folder called ``x.h5``."""
    from ethogram.cli import main

    assert main(["select", str(tmp_path), "-o", str(tmp_path / "x.h5")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "-o/--out names a folder" in err
    assert not (tmp_path / "x.h5").exists()
