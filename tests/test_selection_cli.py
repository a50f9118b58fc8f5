"""``ethogram select``: CSV with one row per K and restart beside its plots, errors as one line."""

import numpy as np
import pandas as pd
import pytest

from conftest import DATA
from ethogram.cli import main

KEYPOINTS = DATA / "openfield" / "keypoints.csv"


def test_select_writes_csv_and_plots(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "select",
            str(KEYPOINTS),
            "--fps",
            "30",
            "--pcs",
            "3",
            "--states",
            "3,2",
            "--restarts",
            "2",
            "--iters",
            "5",
            "--target-duration",
            "0.4",
            "--stability",
            "2",
            "--workers",
            "1",
            "--quiet",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    sel = out / "selection"
    table = pd.read_csv(sel / "selection.csv")
    assert len(table) == 2 * 2
    assert table["num_states"].tolist() == [2, 2, 3, 3] and table["restart"].tolist() == [
        0,
        1,
        0,
        1,
    ]
    assert np.isfinite(table["heldout_ll_per_frame"]).all()
    summary = pd.read_csv(sel / "selection_summary.csv")
    assert summary["mean"].tolist() == pytest.approx(
        table.groupby("num_states")["heldout_ll_per_frame"].mean().tolist()
    )
    assert (table["states_used"] <= table["num_states"]).all()
    for png in (
        "heldout_ll.png",
        "kappa_search.png",
        "durations.png",
        "stability.png",
        "dendrogram.png",
    ):
        assert (sel / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    curve = pd.read_csv(sel / "kappa_search.csv")
    assert {"kappa", "median_duration", "median_duration_s"} <= set(curve.columns)
    said = capsys.readouterr().out
    assert "best K" in said
    # the next step: a fit of the K chosen here (the smallest within one standard error)
    chosen = int(said.split("smallest K within one standard error: ")[1].split()[0])
    # with the options fit takes too, as given (a printed line without --fps failed)
    assert said.splitlines()[-1] == (
        f"next: ethogram fit {KEYPOINTS} --fps 30 --pcs 3 --restarts 2 --iters 5 "
        f"--target-duration 0.4 --quiet --states {chosen} -o DIR (a fit without --states uses "
        "K = 20; it searches kappa itself unless --kappa is given)"
    )
    import shlex

    from ethogram.cli import build_parser

    command = said.splitlines()[-1].removeprefix("next: ethogram ").split(" (a fit")[0]
    parsed = build_parser().parse_args(shlex.split(command.replace("DIR", str(tmp_path / "f"))))
    assert parsed.command == "fit" and parsed.fps == 30 and parsed.states == chosen
    # refuses to overwrite without --overwrite, leaves no temporary folder
    code = main(["select", str(KEYPOINTS), "--fps", "30", "--states", "2", "-o", str(out)])
    assert code == 2
    assert "--overwrite" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["selection"]


def test_select_bad_states(tmp_path, capsys):
    code = main(["select", "missing.csv", "--states", "a,b", "-o", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "--states" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_fit_with_target_duration_reproduces_the_search(tmp_path, capsys):
    """``ethogram fit --target-duration``: kappa is searched first, the pipeline's fit at that
    kappa is the search's chosen fit (same seed, same tolerance), and the search is recorded."""
    from ethogram.results import load_results
    from ethogram.selection import run_lengths

    out = tmp_path / "fit"
    code = main(
        [
            "fit",
            str(KEYPOINTS),
            "--fps",
            "30",
            "--pcs",
            "3",
            "--states",
            "6",
            "--iters",
            "30",
            "--target-duration",
            "0.4",
            "--quiet",
            "-o",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    res = load_results(out / "results.h5")
    curve = pd.DataFrame(res.config["kappa_search"])
    assert res.config["target_duration"] == 0.4
    chosen = curve.loc[curve["kappa"] == res.config["kappa_used"]]
    assert len(chosen) == 1
    labels = list(res.syllables().values())
    assert np.median(run_lengths(labels)) == chosen["median_duration"].iloc[0]
    assert (
        main(
            [
                "fit",
                str(KEYPOINTS),
                "--fps",
                "30",
                "--kappa",
                "10",
                "--target-duration",
                "0.4",
                "-o",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "not both" in capsys.readouterr().err


def test_select_notes_a_best_k_at_the_edge_of_the_grid(tmp_path, capsys):
    from ethogram.data import openfield_keypoints

    code = main(
        [
            "select",
            str(openfield_keypoints()),
            "--fps",
            "30",
            "--states",
            "1,2",
            "--restarts",
            "1",
            "--iters",
            "5",
            "--workers",
            "1",
            "--quiet",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    summary = pd.read_csv(tmp_path / "out" / "selection" / "selection_summary.csv")
    best = int(
        summary.loc[summary["mean"].idxmax(), "num_states"]
    )  # with two values, always at an edge
    side, other = ("largest", "larger") if best == 2 else ("smallest", "smaller")
    assert (
        f"note: the best K is the {side} one tried" in out
        and f"try {other} values of --states" in out
    )
    code = main(
        [
            "select",
            str(openfield_keypoints()),
            "--fps",
            "30",
            "--states",
            "1,2,3",
            "--restarts",
            "1",
            "--iters",
            "5",
            "--workers",
            "1",
            "--quiet",
            "--overwrite",
            "-o",
            str(tmp_path / "out"),
        ]
    )
    out = capsys.readouterr().out
    summary = pd.read_csv(tmp_path / "out" / "selection" / "selection_summary.csv")
    inside = int(summary.loc[summary["mean"].idxmax(), "num_states"]) == 2
    assert ("note: the best K" in out) != inside
