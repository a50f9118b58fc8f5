"""Where the commands that read a fit write by default: the fit's own folder, or beside a file.

A fit written with ``fit -o DIR`` keeps its outputs in ``DIR/report``, ``DIR/stats``,
``DIR/compare``, ``DIR/movies`` and ``DIR/nwb``. A fit written with ``fit -o shared/a.h5`` sits
in a folder that other fits may share, so its outputs are named after it (``a_stats/`` as its
``a_report/`` and ``a_csv/``): two results files in one folder never write into, or have their
report copy, each other's outputs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ethogram.viz._report_files import OUTPUTS, output_folder
from ethogram.viz._synthetic import synthetic_results


@pytest.mark.parametrize("command", ["report", "movies", "compare", "stats", "nwb"])
def test_output_folder_of_a_fit_folder_and_of_a_named_file(command):
    assert output_folder(Path("fits/one/results.h5"), command) == Path(f"fits/one/{command}")
    assert output_folder(Path("shared/a.h5"), command) == Path(f"shared/a_{command}")
    assert output_folder("shared/b.hdf5", command) == Path(f"shared/b_{command}")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """``shared/a.h5`` and ``shared/b.h5``, four recordings each, and a groups table."""
    from ethogram.results import write_results

    folder = tmp_path_factory.mktemp("shared")
    results = synthetic_results(num_states=4, num_recordings=4, num_frames=300, seed=3)
    for name in ("a", "b"):
        write_results(folder / f"{name}.h5", results, csv=False)
    groups = [(r.name, "g1" if i % 2 else "g0") for i, r in enumerate(results.recordings)]
    pd.DataFrame(groups, columns=["recording", "group"]).to_csv(folder / "groups.csv", index=False)
    return folder


def test_stats_of_two_fits_in_one_folder_go_to_folders_of_their_own(
    shared, capsys, no_report_plots
):
    from ethogram.cli import main
    from ethogram.viz.report import write_report

    for name in ("a", "b"):
        argv = ["stats", str(shared / f"{name}.h5"), "--groups", str(shared / "groups.csv")]
        assert main(argv) == 0
        assert (
            capsys.readouterr()
            .out.rstrip()
            .endswith(
                f"tables and plots: {shared / f'{name}_stats'}/ ({', '.join(OUTPUTS['stats'])})"
            )
        )
    assert not (shared / "stats").exists()
    # b's statistics are b's alone: a second run for b is refused, a's folder is untouched
    before = (shared / "a_stats" / "group_stats.csv").read_bytes()
    assert main(["stats", str(shared / "b.h5"), "--groups", str(shared / "groups.csv")]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (shared / "a_stats" / "group_stats.csv").read_bytes() == before
    # each report copies its own fit's statistics, not the other's
    index = write_report(shared / "a.h5", progress=False, trajectories=False)
    assert index == shared / "a_report" / "index.html"
    copied = {p.relative_to(index.parent).as_posix() for p in index.parent.rglob("*.csv")}
    assert {c for c in copied if "stats" in c} == {
        "extra/a_stats/group_stats.csv",
        "extra/a_stats/per_recording.csv",
    }
