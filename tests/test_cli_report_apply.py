"""The report of `ethogram apply` results says the EM numbers are the training fit's.

Applied results carry the training fit's EM history (iterations, objective), and their
recordings are not the ones the model was fitted on: the report labels those numbers as the
training fit's, names the training recordings and the model file, and gives the objective per
frame over the training fit's usable frames (not the applied recordings').
"""

from __future__ import annotations

import html

import numpy as np
import pytest

from ethogram.cli import main


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rep")
    rng = np.random.default_rng(1)
    np.save(tmp / "train.npy", np.cumsum(rng.normal(size=(400, 3)), axis=0))
    np.save(tmp / "new.npy", np.cumsum(rng.normal(size=(150, 3)), axis=0))
    assert (
        main(
            [
                "fit",
                str(tmp / "train.npy"),
                "--fps",
                "30",
                "-o",
                str(tmp / "fit"),
                "--states",
                "3",
                "--iters",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "apply",
                str(tmp / "fit"),
                str(tmp / "new.npy"),
                "--fps",
                "30",
                "-o",
                str(tmp / "ap"),
                "--quiet",
            ]
        )
        == 0
    )
    return tmp


def test_fit_summary_of_applied_results(applied):
    from ethogram.results import load_results
    from ethogram.viz._report_data import fit_summary

    fit = load_results(applied / "fit" / "results.h5")
    ap = load_results(applied / "ap" / "results.h5")
    train_frames = sum(int(r.mask.sum()) for r in fit.recordings)
    new_frames = sum(int(r.mask.sum()) for r in ap.recordings)
    assert train_frames != new_frames
    obj = float(np.asarray(fit.fit["objectives"])[-1])
    rows = dict(fit_summary(ap))
    assert rows["model"] == (
        f"fitted on train by 'ethogram fit', applied to these recordings by 'ethogram apply' from "
        f"{applied / 'fit' / 'results.h5'}; the EM numbers below are the training fit's"
    )
    assert (
        rows["final objective (training fit)"]
        == f"{obj:,.2f} ({obj / train_frames:.4f} per usable training frame)"
    )
    assert rows["EM iterations (training fit)"].startswith(str(int(fit.fit["num_iters"])))
    assert "final objective" not in rows and "EM iterations" not in rows
    # the fit's own report is unchanged in wording, per frame over its own usable frames
    own = dict(fit_summary(fit))
    assert (
        own["final objective"] == f"{obj:,.2f} ({obj / train_frames:.4f} per usable frame)"
        and "model" not in own
    )


def test_report_of_applied_results(applied, capsys, no_report_plots):
    from ethogram.results import load_results
    from ethogram.viz.report import plot_jobs

    assert main(["report", str(applied / "ap"), "--quiet", "--no-trajectories"]) == 0
    page = html.unescape((applied / "ap" / "report" / "index.html").read_text())
    assert "<h2>Summary (fitted model applied)</h2>" in page
    assert "EM objective of the training fit (on train, by 'ethogram fit') over iterations" in page
    assert "the EM numbers below are the training fit's" in page
    fit = load_results(applied / "fit" / "results.h5")
    ap = load_results(applied / "ap" / "results.h5")
    job = [j for j in plot_jobs(ap, [0, 1, 2]) if j[0] == "log_likelihood"][0]
    assert job[1]["per_frame"] == sum(int(r.mask.sum()) for r in fit.recordings)
    assert job[1]["title"] == "EM objective of the training fit"
