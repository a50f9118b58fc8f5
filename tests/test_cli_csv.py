"""CSV outputs hold each float in its shortest text that reads back exactly (0.6, not
0.59999999999999998).

The per-recording CSVs and the syllable tables beside a results file: every cell is Python's
``repr`` of the float64 value (so reading it back gives the same bits), including float32 arrays,
which are written as their exact float64 value.
"""

from __future__ import annotations

import csv

import numpy as np

from ethogram.cli import main
from ethogram.results import write_results
from ethogram.viz._synthetic import synthetic_results


def _rows(path):
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def test_recording_csv_cells_are_the_shortest_exact_text(tmp_path):
    res = synthetic_results(num_states=2, num_recordings=1, num_frames=50, expected_states=False)
    rec = res.recordings[0]
    rec.inputs[:, 0] = 0.6
    rec.inputs[1, 1] = 1 / 3
    rec.centroid = rec.centroid.astype(np.float32)  # written as its exact float64 value
    write_results(tmp_path / "r.h5", res)
    header, body = _rows(tmp_path / "r_csv" / "mouse0.csv")
    col = {name: [r[j] for r in body] for j, name in enumerate(header)}
    assert col["input_0"] == ["0.6"] * 50
    assert col["input_1"][1] == "0.3333333333333333"
    assert col["time_s"][:4] == ["0.0", "0.03333333333333333", "0.06666666666666667", "0.1"]
    for name, values in (
        ("input_1", rec.inputs[:, 1]),
        ("heading", rec.heading),
        ("centroid_x", rec.centroid[:, 0].astype(np.float64)),
    ):
        assert col[name] == [repr(float(v)) for v in values]
    assert col["centroid_x"][0] == repr(float(np.float32(rec.centroid[0, 0])))
    assert (
        max(len(v) for vals in col.values() for v in vals) <= 24
    )  # no 17-digit padding of short values


def test_fit_csvs_and_tables_have_no_17_digit_padding(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", np.cumsum(rng.normal(size=(300, 3)), axis=0))
    assert (
        main(
            [
                "fit",
                str(tmp_path / "x.npy"),
                "--fps",
                "30",
                "-o",
                str(tmp_path / "fit"),
                "--states",
                "2",
                "--iters",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    header, body = _rows(tmp_path / "fit" / "results_csv" / "x.csv")
    times = [r[header.index("time_s")] for r in body]
    assert times[:4] == ["0.0", "0.03333333333333333", "0.06666666666666667", "0.1"]
    assert [float(t) for t in times] == list(np.arange(300) / 30.0)
    header, body = _rows(tmp_path / "fit" / "results_tables" / "durations.csv")
    for r in body:
        for cell in r:
            try:
                v = float(cell)
            except ValueError:
                continue
            assert cell == repr(v) or cell == str(int(v)), cell
