"""The HTML report: every link resolves inside the report folder, the content follows the fit.

Reports are built from planted results written with ``write_results`` (so they go through
the real results file), from the command line, and from a real fit of the openfield mouse
(skipped without ../shared/data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _report_pages import brute_instances, check_links, parse
from ethogram.viz._synthetic import synthetic_results
from ethogram.viz.report import write_report


@pytest.fixture(scope="module")
def fit_dir(tmp_path_factory):
    from ethogram.results import write_results

    out = tmp_path_factory.mktemp("fit")
    res = synthetic_results(num_states=7, num_recordings=2, num_frames=900, mask_every=5, seed=4)
    write_results(out / "results.h5", res)
    return out, res


@pytest.fixture(scope="module")
def small_fit(tmp_path_factory):
    """A small fit (3 states, 1 recording of 300 frames) for the tests about a report's files
    rather than its pictures (read only)."""
    from ethogram.results import write_results

    out = tmp_path_factory.mktemp("small_fit")
    res = synthetic_results(num_states=3, num_recordings=1, num_frames=300, seed=4)
    write_results(out / "results.h5", res)
    return out


@pytest.fixture(scope="module")
def fit_report(fit_dir):
    """The report of ``fit_dir`` in its default place, written once for the tests that read it
    (read only: a test that changes a report changes a copy)."""
    out, _ = fit_dir
    return write_report(out, progress=False)


def test_report_of_a_results_folder_links_only_to_files_inside_it(fit_dir, fit_report):
    out, res = fit_dir
    index = fit_report
    assert index == out / "report" / "index.html"
    parsed = parse(index)
    check_links(index, parsed)
    # every plot written is shown, and there is one per kind
    pngs = {p.relative_to(index.parent).as_posix() for p in (index.parent / "plots").glob("*.png")}
    assert pngs == {ln for ln in parsed.links if ln.startswith("plots/")}
    for name in (
        "usage",
        "durations",
        "transition_probabilities",
        "transition_graph",
        "model_transition_matrix",
        "log_likelihood",
        "data_0",
        "data_1",
        "probabilities_0",
        "probabilities_1",
        "ar_dynamics",
        "trajectories",
    ):
        assert f"plots/{name}.png" in pngs
    # syllable cards in usage order (most instances first), one per used syllable
    counts = brute_instances([r.syllables for r in res.recordings], 7)
    used = [k for k in range(7) if counts[k] > 0]
    assert sorted(parsed.cards) == used
    assert [counts[k] for k in parsed.cards] == sorted(counts[used], reverse=True)
    for k in used:
        assert f"plots/trajectory_{k}.png" in pngs
    for name in (
        "summary",
        "usage",
        "durations",
        "bigrams",
        "transitions",
        "durations_summary",
        "transitions_rows",
    ):
        assert f"tables/{name}.csv" in parsed.links


def test_report_tables_are_the_files_beside_the_results(fit_dir, tmp_path, no_report_plots):
    """report/tables/ holds the fit's results_tables/ files under the same names, byte for byte."""
    import shutil

    import pandas as pd

    from ethogram.cli._common import syllable_tables
    from ethogram.results import load_results, write_results

    src, _ = fit_dir
    out = tmp_path / "fit"
    out.mkdir()
    res = load_results(src / "results.h5")
    write_results(
        out / "results.h5", res, tables=syllable_tables(res)
    )  # as 'ethogram fit' writes them
    # the tables are the subject: no plot is drawn (no_report_plots)
    index = write_report(out, progress=False, trajectories=False)
    fit_tables = sorted(p.name for p in (out / "results_tables").iterdir())
    assert fit_tables == [
        "bigrams.csv",
        "durations.csv",
        "summary.csv",
        "transitions.csv",
        "usage.csv",
    ]
    for name in fit_tables:
        assert (index.parent / "tables" / name).read_bytes() == (
            out / "results_tables" / name
        ).read_bytes(), name
    assert sorted(p.name for p in (index.parent / "tables").iterdir()) == sorted(
        fit_tables + ["durations_summary.csv", "transitions_rows.csv"]
    )
    # no column of bare row numbers: usage and durations start with the recording
    labels = {r.name: r.syllables for r in res.recordings}
    durations = pd.read_csv(out / "results_tables" / "durations.csv")
    assert list(durations.columns[:2]) == ["recording", "syllable"]
    brute = [
        (name, int(z[i]))
        for name, z in labels.items()
        for i in range(len(z))
        if z[i] >= 0 and (i == 0 or z[i] != z[i - 1])
    ]
    assert list(zip(durations["recording"], durations["syllable"])) == brute
    usage = pd.read_csv(out / "results_tables" / "usage.csv")
    assert list(usage.columns[:2]) == ["recording", "syllable"]
    assert len(usage) == 7 * len(labels)
    # the rows-normalised table: from each syllable, the next one's probabilities sum to one
    rows = pd.read_csv(index.parent / "tables" / "transitions_rows.csv", index_col=0)
    used = [k for k in range(7) if np.isfinite(rows.iloc[k]).any()]
    np.testing.assert_allclose(rows.iloc[used].sum(axis=1).to_numpy(), 1.0)
    shutil.rmtree(out)


def test_report_tables_hold_the_counts_and_the_summary(fit_dir, fit_report):
    import pandas as pd

    out, res = fit_dir
    index = fit_report
    summ = pd.read_csv(index.parent / "tables" / "summary.csv", index_col=0)
    counts = brute_instances([r.syllables for r in res.recordings], 7)
    assert np.array_equal(summ["instances"].to_numpy(), counts)
    html = index.read_text(encoding="utf-8")
    frames = sum(r.num_frames for r in res.recordings)
    usable = sum(int(r.mask.sum()) for r in res.recordings)
    assert f"{frames:,} ({usable:,} usable" in html
    assert "kappa" in html and "100" in html
    assert f"{int(np.count_nonzero(counts))} used of K = 7" in html
    # configuration and versions are shown
    assert "numpy" in html and np.__version__ in html


def _tiny_mp4(path: Path, frames: int = 12):
    import imageio.v2 as imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    with imageio.get_writer(path, fps=10, codec="libx264", macro_block_size=1) as w:
        for i in range(frames):
            w.append_data(np.full((32, 32, 3), 20 * i % 255, dtype=np.uint8))


def test_movies_and_comparison_outputs_are_copied_in_and_shown(fit_dir, fit_report, tmp_path):
    import shutil

    src, res = fit_dir
    out = tmp_path / "fit"
    out.mkdir()
    shutil.copy(src / "results.h5", out / "results.h5")
    # the layout of 'ethogram movies' (OUT/movies/<kind>_syllable_<k>.mp4 and its manifests) ...
    _tiny_mp4(out / "movies" / "skeleton_syllable_03.mp4")
    _tiny_mp4(out / "movies" / "grid_syllable_03.mp4")
    _tiny_mp4(out / "movies" / "overview.mp4")
    (out / "movies" / "movies.csv").write_text("syllable,kind,file\n3,grid,grid_syllable_03.mp4\n")
    # ... and movies in a folder of their own ('ethogram movies -o OUT/crowd', with its manifest)
    _tiny_mp4(out / "crowd" / "syllable3.mp4")
    (out / "crowd" / "movies.csv").write_text("syllable,kind,file\n3,crowd,syllable3.mp4\n")
    # the files 'ethogram stats' writes (cli/stats.py OUTPUTS)
    (out / "stats").mkdir()
    (out / "stats" / "group_stats.csv").write_text(
        "syllable,p_value,significant\n0,0.001,True\n1,0.5,False\n"
    )
    import matplotlib.image as mimage

    mimage.imsave(out / "stats" / "usage.png", np.random.default_rng(0).random((20, 30, 3)))
    # another report in the folder (with movies of its own) is not an output to show
    shutil.copytree(fit_report.parent, out / "older_report")
    _tiny_mp4(out / "older_report" / "movies" / "grid_syllable_03.mp4")
    index = write_report(out, progress=False, trajectories=False)  # the outputs are the subject
    parsed = parse(index)
    check_links(index, parsed)
    assert not any("older_report" in ln for ln in parsed.links)
    assert sorted(parsed.videos) == sorted(
        [
            "movies/grid_syllable_03.mp4",
            "movies/skeleton_syllable_03.mp4",
            "movies/crowd/syllable3.mp4",
            "movies/overview.mp4",
        ]
    )
    html = index.read_text(encoding="utf-8")
    card3 = html[html.index('id="syllable-3"') :]
    card3 = card3[: card3.index("</dl>")]
    # crowd, grid, skeleton: in that order on the syllable's card
    pos = [
        card3.index(m)
        for m in (
            "movies/crowd/syllable3.mp4",
            "movies/grid_syllable_03.mp4",
            "movies/skeleton_syllable_03.mp4",
        )
    ]
    assert pos == sorted(pos)
    assert "overview.mp4" not in card3 and "movies/overview.mp4" in html
    assert "movies/movies.csv" in parsed.links
    assert not any(ln.startswith("extra/movies") for ln in parsed.links)
    assert "extra/stats/group_stats.csv" in parsed.links and "extra/stats/usage.png" in parsed.links
    assert "<td>0.001</td>" in html
    # the copies are the files
    assert (index.parent / "movies/grid_syllable_03.mp4").read_bytes() == (
        out / "movies/grid_syllable_03.mp4"
    ).read_bytes()
    # zipped and moved elsewhere, the report still resolves
    moved = tmp_path / "elsewhere"
    shutil.copytree(index.parent, moved)
    check_links(moved / "index.html", parse(moved / "index.html"))


def test_a_second_report_in_the_same_folder_leaves_nothing_stale(small_fit, fit_report, tmp_path):
    import shutil

    # the second report is of a small fit: what is checked is what is left of the first
    out = small_fit
    shutil.copytree(fit_report.parent, tmp_path / "again")  # a first report there
    index = tmp_path / "again" / "index.html"
    (index.parent / "plots" / "trajectory_99.png").write_bytes(b"stale")
    (tmp_path / "again" / "notes.txt").write_text("mine")
    # no trajectories this time: the first report's trajectory plots must go too
    index = write_report(
        out, tmp_path / "again", progress=False, overwrite=True, trajectories=False
    )
    assert not list((index.parent / "plots").glob("trajectory*.png"))
    assert (
        tmp_path / "again" / "notes.txt"
    ).read_text() == "mine"  # only the report's own folders are cleared
    check_links(index, parse(index))


def test_a_failing_report_leaves_nothing_behind(fit_dir, tmp_path, monkeypatch):
    import ethogram.viz.plots as plots_module

    out, _ = fit_dir

    def broken(*args, **kwargs):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(plots_module, "plot_durations", broken)
    with pytest.raises(RuntimeError, match="plot failed"):
        write_report(out, tmp_path / "rep", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_parallel_report_draws_the_same_pictures(fit_dir, fit_report, tmp_path):
    out, _ = fit_dir
    a = fit_report  # drawn serially
    b = write_report(out, tmp_path / "parallel", num_workers=2, progress=False)
    pa = sorted(p.name for p in (a.parent / "plots").glob("*.png"))
    assert pa == sorted(p.name for p in (b.parent / "plots").glob("*.png"))
    for name in pa:
        assert (a.parent / "plots" / name).read_bytes() == (
            b.parent / "plots" / name
        ).read_bytes(), name


def test_results_without_keypoints_or_probabilities_still_make_a_report(tmp_path):
    res = synthetic_results(
        num_states=4, num_recordings=1, num_frames=600, expected_states=False, seed=2
    )
    for r in res.recordings:
        r.keypoints = None
        r.fps = None
        r.name = "m<1>&x"
    index = write_report(res, tmp_path / "rep", progress=False)
    parsed = parse(index)
    check_links(index, parsed)
    assert not any("trajectory" in ln or "probabilities_" in ln for ln in parsed.links)
    assert "plots/usage.png" in parsed.links
    html = index.read_text(encoding="utf-8")
    assert "m&lt;1&gt;&amp;x" in html and "m<1>" not in html  # names are escaped
    assert (
        "median (frames)" in html and "median (s)" not in html
    )  # no frame rate: durations in frames


def test_errors_name_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_report(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no results file"):
        write_report(tmp_path / "empty")
    with pytest.raises(ValueError, match="num_workers"):
        write_report(tmp_path / "empty", num_workers=0)


def test_cli_report_writes_index_and_fails_cleanly(small_fit, tmp_path, capsys):
    from ethogram.cli import main

    out = small_fit  # the command's page and its failure do not depend on the fit's size
    # --no-trajectories: what is checked is the command's page and its failure (the trajectory
    # plots and their links are test_report_of_a_results_folder_links_only_to_files_inside_it's)
    argv = ["report", str(out), "-o", str(tmp_path / "cli"), "--quiet", "--no-trajectories"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert str((tmp_path / "cli" / "index.html").resolve()) in printed
    check_links(tmp_path / "cli" / "index.html", parse(tmp_path / "cli" / "index.html"))
    assert main(["report", str(tmp_path / "missing"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err


def test_the_configuration_lists_the_preparation_and_the_units(fit_dir, tmp_path, monkeypatch):
    import copy

    from ethogram.viz import report as report_module

    res = copy.deepcopy(fit_dir[1])  # the module's fixture stays as it was
    # what is checked is the configuration's text and the jobs' arguments: the plots are not
    # drawn (other tests draw them)
    jobs = []
    monkeypatch.setattr(report_module, "run_plot_jobs", lambda j, *a: jobs.extend(j))
    index = write_report(res, tmp_path / "px", progress=False, trajectories=False)
    html = index.read_text(encoding="utf-8")
    config = html[html.index('id="config"') :]
    assert "<td>frame rate</td><td>30 fps</td>" in config
    assert (
        "<td>units</td><td>pixels (no scale in the files; give --px-per-mm to &#39;ethogram "
        "fit&#39;)" in config
    )
    # with a scale for every recording: trajectories averaged in mm, axes and scale bar in mm
    for r, s in zip(res.recordings, (2.0, 4.0)):
        r.px_per_mm = s
    jobs.clear()
    index = write_report(res, tmp_path / "mm", progress=False)
    config = index.read_text(encoding="utf-8")
    assert "<td>units</td><td>millimetres (2, 4 pixels per mm)" in config
    assert "Axes and scale bar in millimetres" in config
    grid = next(kw for name, kw, _ in jobs if name == "trajectories")
    one = [kw for name, kw, _ in jobs if name == "trajectory"]
    assert grid["units"] == "mm" and all(kw["units"] == "mm" for kw in one)
    assert grid["bodyparts"] == list(res.recordings[0].bodyparts)
    from ethogram.viz import syllable_trajectories

    recs = res.recordings
    want, _ = syllable_trajectories(
        [r.keypoints / s for r, s in zip(recs, (2.0, 4.0))],
        [r.centroid / s for r, s in zip(recs, (2.0, 4.0))],
        [r.heading for r in recs],
        [r.syllables for r in recs],
        num_states=7,
        pre=5,
        post=15,
        num_samples=40,
        seed=0,
    )
    np.testing.assert_allclose(grid["trajectories"], want)
    # a scale for only one recording: pixels, and why
    recs[1].px_per_mm = None
    jobs.clear()
    config = write_report(res, tmp_path / "some", progress=False).read_text(encoding="utf-8")
    assert "<td>units</td><td>pixels (only 1 of 2 recordings have a scale)" in config
    assert next(kw for name, kw, _ in jobs if name == "trajectories")["units"] == "px"
