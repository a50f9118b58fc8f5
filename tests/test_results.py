"""The results file: exact HDF5 and CSV round trips, atomic writes, refusal of foreign, newer and
truncated files, and recording names that cannot escape the CSV folder."""

import csv

import h5py
import numpy as np
import pytest

from ethogram import HMM
from ethogram.results import (
    FORMAT_VERSION,
    RecordingResult,
    Results,
    csv_folder,
    load_model,
    load_results,
    safe_file_names,
    write_results,
)


def _model(seed=0):
    rng = np.random.default_rng(seed)
    model = HMM(3, "autoregressive", dict(data_dim=2, num_lags=2), kappa=7.5)
    data = np.cumsum(rng.normal(size=(300, 2)), axis=0) * 0.1
    model.fit(data, num_iters=3, seed=seed)
    return model, data


def _recording(name, T, rng, K=3, keypoints=True):
    mask = rng.random(T) > 0.1
    inputs = rng.normal(size=(T, 2))
    inputs[~mask] = np.nan
    syl = rng.integers(0, K, T)
    syl[~mask] = -1
    return RecordingResult(
        name=name,
        syllables=syl,
        mask=mask,
        inputs=inputs,
        fps=30.0,
        centroid=rng.normal(size=(T, 2)) * 100,
        heading=rng.uniform(-np.pi, np.pi, T),
        timestamps=np.arange(T) / 30.0 + 12.5,
        expected_states=rng.dirichlet(np.ones(K), T).astype(np.float32),
        keypoints=rng.normal(size=(T, 4, 2)) * 50 if keypoints else None,
        bodyparts=("snout", "leftear", "rightear", "tailbase") if keypoints else None,
        source="/data/x.csv",
        format="dlc",
        video_path="/data/x.mp4" if keypoints else None,
    )


def _results(names=("mouse1", "cage/mouse2"), seed=0):
    rng = np.random.default_rng(seed)
    model, _ = _model(seed)
    recs = [_recording(n, 50 + 7 * i, rng, keypoints=(i % 2 == 0)) for i, n in enumerate(names)]
    recs[-1].fps = None
    return Results(
        model=model,
        preparation=None,
        recordings=recs,
        config={"num_states": 3, "num_lags": 2, "kappa": 7.5, "seed": 0, "note": "ünïcode"},
        fit={
            "objectives": np.array([-10.0, -5.0, -4.5]),
            "marginal_lls": np.array([-11.0, -6.0, -5.5]),
            "restart_objectives": np.array([-4.5]),
            "converged": False,
            "num_iters": 2,
            "chosen_restart": 0,
        },
        versions={"ethogram": "0.1.0"},
        created="2026-11-29T18:00:00+00:00",
    )


def test_hdf5_round_trip_is_exact(tmp_path):
    res = _results()
    path = write_results(tmp_path / "r.h5", res)
    back = load_results(path)
    assert back.path == str(path)
    assert (
        back.config == res.config and back.versions == res.versions and back.created == res.created
    )
    for key in ("objectives", "marginal_lls", "restart_objectives"):
        np.testing.assert_array_equal(back.fit[key], res.fit[key])
    assert (
        back.fit["converged"] is False
        and back.fit["num_iters"] == 2
        and back.fit["chosen_restart"] == 0
    )
    assert back.names == res.names
    for a, b in zip(res.recordings, back.recordings):
        for attr in (
            "syllables",
            "mask",
            "inputs",
            "centroid",
            "heading",
            "timestamps",
            "expected_states",
            "keypoints",
        ):
            x, y = getattr(a, attr), getattr(b, attr)
            if x is None:
                assert y is None
            else:
                assert y.dtype == np.asarray(x).dtype or attr in ("syllables",)
                np.testing.assert_array_equal(y, x)
        assert (a.fps, a.bodyparts, a.source, a.format, a.video_path) == (
            b.fps,
            b.bodyparts,
            b.source,
            b.format,
            b.video_path,
        )
    # the model: same class of model, same parameters, same predictions
    params, params_back = res.model.get_params(), back.model.get_params()
    assert params.keys() == params_back.keys()
    for k in params:
        np.testing.assert_array_equal(params_back[k], params[k])
    assert back.model.num_states == 3 and back.model.observations.num_lags == 2
    assert back.model.transitions.kappa == 7.5
    _, data = _model(0)
    np.testing.assert_array_equal(back.model.predict(data), res.model.predict(data))
    assert back.model.score(data) == res.model.score(data)


def test_load_model_returns_model_and_preparation(tmp_path):
    res = _results()
    write_results(tmp_path / "r.h5", res)
    model, prep = load_model(tmp_path / "r.h5")
    assert prep is None  # none was stored
    np.testing.assert_array_equal(model.transition_matrix, res.model.transition_matrix)


def test_layout_follows_the_contract(tmp_path):
    res = _results()
    write_results(tmp_path / "r.h5", res)
    with h5py.File(tmp_path / "r.h5", "r") as f:
        assert (
            f.attrs["format"] == "ethogram-results" and f.attrs["format_version"] == FORMAT_VERSION
        )
        assert set(f.keys()) == {"config", "model", "fit", "preparation", "recordings"}
        assert f["model"].attrs["num_states"] == 3
        for key in res.model.get_params():
            assert key in f["model"]
        g = f["recordings/1"]
        assert g.attrs["name"] == "cage/mouse2"  # a name is an attribute, never a path
        assert g["syllables"].shape == (57,) and g["inputs"].shape == (57, 2)


def test_csv_round_trip_is_exact(tmp_path):
    res = _results()
    write_results(tmp_path / "r.h5", res)
    folder = csv_folder(tmp_path / "r.h5")
    assert folder == tmp_path / "r_csv"
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["cage_mouse2.csv", "mouse1.csv"]
    for rec, fname in zip(res.recordings, ["mouse1.csv", "cage_mouse2.csv"]):
        with open(folder / fname, newline="") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        assert header == [
            "frame",
            "time_s",
            "syllable",
            "centroid_x",
            "centroid_y",
            "heading",
            "input_0",
            "input_1",
        ]
        assert len(body) == rec.num_frames

        def col(name, conv=float):
            j = header.index(name)
            return np.array([conv(r[j]) if r[j] != "" else np.nan for r in body])

        np.testing.assert_array_equal(col("frame", int), np.arange(rec.num_frames))
        np.testing.assert_array_equal(col("syllable", int), rec.syllables)
        np.testing.assert_array_equal(col("time_s"), rec.timestamps)
        np.testing.assert_array_equal(col("centroid_x"), rec.centroid[:, 0])
        np.testing.assert_array_equal(col("centroid_y"), rec.centroid[:, 1])
        np.testing.assert_array_equal(col("heading"), rec.heading)
        np.testing.assert_array_equal(col("input_0"), rec.inputs[:, 0])
        np.testing.assert_array_equal(col("input_1"), rec.inputs[:, 1])


def test_time_column_from_fps_without_timestamps(tmp_path):
    res = _results(names=("a",))
    rec = res.recordings[0]
    rec.timestamps, rec.fps = None, 25.0
    write_results(tmp_path / "r.h5", res)
    with open(tmp_path / "r_csv" / "a.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["time_s"]) for r in rows] == [i / 25.0 for i in range(rec.num_frames)]


def test_existing_file_is_refused_then_replaced_with_overwrite(tmp_path):
    path = tmp_path / "r.h5"
    write_results(path, _results(seed=0))
    with pytest.raises(FileExistsError, match=r"exists; pass overwrite=True to replace it$"):
        write_results(path, _results(seed=1))
    assert (
        load_results(path).recordings[0].syllables.tolist()
        == _results(seed=0).recordings[0].syllables.tolist()
    )
    write_results(path, _results(seed=1, names=("only",)), overwrite=True)
    back = load_results(path)
    assert back.names == ["only"]
    assert sorted(p.name for p in (tmp_path / "r_csv").iterdir()) == ["only.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "r.h5",
        "r_csv",
    ]  # no temporary files left


def test_failed_write_leaves_nothing(tmp_path):
    res = _results()
    res.config["bad"] = object()  # cannot be stored as JSON
    with pytest.raises(TypeError):
        write_results(tmp_path / "r.h5", res)
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_the_old_results(tmp_path):
    path = tmp_path / "r.h5"
    write_results(path, _results(seed=0))
    before = path.read_bytes()
    res = _results(seed=1)
    res.config["bad"] = object()
    with pytest.raises(TypeError):
        write_results(path, res, overwrite=True)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5", "r_csv"]


def test_missing_output_folders_are_created_and_removed_on_failure(tmp_path):
    """As the command line does (and the README's Python example expects): missing folders
    are made; a failed write removes the folders it made and leaves nothing else."""
    path = write_results(tmp_path / "new" / "deeper" / "r.h5", _results())
    assert load_results(path).names == _results().names
    res = _results()
    res.config["bad"] = object()  # cannot be stored as JSON
    with pytest.raises(TypeError):
        write_results(tmp_path / "other" / "deeper" / "r.h5", res)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file; choose another path"):
        write_results(tmp_path / "file" / "r.h5", _results())


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "text.h5"
    text.write_text("not hdf5 at all\n")
    with pytest.raises(ValueError, match="not an ethogram results file"):
        load_results(text)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ValueError, match="not an ethogram results file"):
        load_results(other)
    with pytest.raises(FileNotFoundError):
        load_results(tmp_path / "absent.h5")


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "r.h5"
    write_results(path, _results())
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = FORMAT_VERSION + 1
    with pytest.raises(ValueError, match="newer"):
        load_results(path)
    with pytest.raises(ValueError, match="newer"):
        load_model(path)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_file_is_refused(tmp_path, fraction):
    path = tmp_path / "r.h5"
    write_results(path, _results())
    data = path.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ValueError):
        load_results(cut)


def test_file_without_completion_mark_is_refused(tmp_path):
    path = tmp_path / "r.h5"
    write_results(path, _results())
    with h5py.File(path, "r+") as f:
        del f.attrs["complete"]
    with pytest.raises(ValueError, match="incomplete"):
        load_results(path)


def test_hostile_names_stay_inside_the_csv_folder(tmp_path):
    names = ["../../escape", "/abs/path", "a\x00b\nc", "", "..", "CON", "Mouse", "mouse", "é/ü"]
    out = safe_file_names(names)
    assert len(set(n.lower() for n in out)) == len(names)
    for n in out:
        assert n and "/" not in n and "\\" not in n and not n.startswith(".")
        assert all(c.isalnum() or c in "._-" for c in n)
    res = _results(names=names[:3] + names[4:])
    (tmp_path / "out").mkdir()
    write_results(tmp_path / "out" / "r.h5", res)
    inside = list((tmp_path / "out" / "r_csv").iterdir())
    assert len(inside) == len(res.recordings)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["r.h5", "r_csv"]
    back = load_results(tmp_path / "out" / "r.h5")
    assert back.names == res.names  # the names themselves survive unchanged in the HDF5 file


def test_tables_are_written_and_replaced_with_the_results(tmp_path):
    import pandas as pd

    path = tmp_path / "r.h5"
    t1 = pd.DataFrame({"x": [0.1, 1 / 3]}, index=pd.Index([0, 1], name="syllable"))
    write_results(path, _results(), tables={"summary": t1, "../evil": t1})
    folder = tmp_path / "r_tables"
    assert sorted(p.name for p in folder.iterdir()) == ["evil.csv", "summary.csv"]
    back = pd.read_csv(folder / "summary.csv", index_col=0)
    np.testing.assert_array_equal(back["x"].to_numpy(), t1["x"].to_numpy())
    with pytest.raises(FileExistsError):
        write_results(path, _results(), tables={"other": t1})
    write_results(path, _results(), overwrite=True, tables={"other": t1})
    assert sorted(p.name for p in folder.iterdir()) == ["other.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5", "r_csv", "r_tables"]


def test_repr_is_a_summary_not_the_arrays(tmp_path):
    res = _results()
    text = repr(res)
    assert text.startswith("Results(") and "K = " in text and len(text) < 300
    rec = res.recordings[0]
    assert repr(rec) == (
        f"RecordingResult({rec.name!r}: {rec.num_frames} frames, "
        f"{int((rec.syllables >= 0).sum())} labelled, "
        + ("fps unknown" if rec.fps is None else f"{rec.fps:g} fps")
        + ")"
    )


def test_the_old_home_ethogram_io_results_still_imports_with_a_deprecation_warning():
    """The README's former ``from ethogram.io.results import ...`` finds the same objects and says
    where they live now; a name the module never had is still an AttributeError."""
    import ethogram.io.results as old
    import ethogram.results as new

    for name in (
        "write_results",
        "load_results",
        "load_model",
        "Results",
        "RecordingResult",
        "FORMAT_VERSION",
        "csv_folder",
        "model_frame_rate",
        "library_versions",
    ):
        with pytest.warns(DeprecationWarning, match=f"import {name} from ethogram.results"):
            assert getattr(old, name) is getattr(new, name)
    with pytest.warns(DeprecationWarning):
        from ethogram.io.results import load_results as loader
    assert loader is load_results
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        old.nothing


def test_labels_is_a_deprecated_alias_of_syllables():
    res = _results()
    with pytest.warns(DeprecationWarning, match=r"Results\.syllables\(\)"):
        old = res.labels()
    new = res.syllables()
    assert list(old) == list(new) == res.names
    assert all(np.array_equal(old[k], new[k]) for k in new)
    assert all(np.array_equal(new[r.name], r.syllables) for r in res.recordings)
