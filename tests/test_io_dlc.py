"""DeepLabCut tables read by column name (issue 18, case_21).

A multi-animal project with unique body parts (arena corners, an object, a cricket) stores them
under the individual ``single``: the columns are not a full (individual x body part x coordinate)
product, and a reshape halved the frames and moved values between animals and body parts (or
stopped with a bare reshape error). Tables are written here as DeepLabCut writes them (pandas
MultiIndex columns scorer/individuals/bodyparts/coords, ``to_csv`` and ``to_hdf`` under
``df_with_missing``), and under the other keys tools use (``df``, ``tracks``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ethogram.io import ReadNoteWarning, guess_format, read_recordings
from ethogram.io.dlc import read_dlc

MICE, PARTS, UNIQUE = (
    ["mouse1", "mouse2"],
    ["nose", "leftear", "rightear", "tailbase"],
    ["corner1", "corner2"],
)


def table(T, unique=True, scorer="DLC_resnet50_arenaJan1shuffle1_100000"):
    """A multi-animal DeepLabCut prediction table and the truth {(individual, part): (T, 3)}."""
    cols, vals, truth = [], [], {}
    t = np.arange(T)
    for i, ind in enumerate(MICE):
        for j, b in enumerate(PARTS):
            xyl = np.stack(
                [
                    100.0 * (i + 1) + 10 * j + 0.1 * t,
                    1000.0 + 100 * i + 10 * j + 0.1 * t,
                    np.full(T, 0.9 - 0.1 * j),
                ],
                1,
            )
            truth[(ind, b)] = xyl
            for c, v in zip(("x", "y", "likelihood"), xyl.T):
                cols.append((scorer, ind, b, c))
                vals.append(v)
    if unique:
        for j, b in enumerate(UNIQUE):
            xyl = np.stack([np.full(T, 5000.0 + j), np.full(T, 6000.0 + j), np.full(T, 0.99)], 1)
            truth[("single", b)] = xyl
            for c, v in zip(("x", "y", "likelihood"), xyl.T):
                cols.append((scorer, "single", b, c))
                vals.append(v)
    idx = pd.MultiIndex.from_tuples(cols, names=["scorer", "individuals", "bodyparts", "coords"])
    return pd.DataFrame(np.array(vals).T, columns=idx), truth


@pytest.mark.parametrize("T", [90, 100])
@pytest.mark.parametrize("suffix", [".csv", ".h5"])
def test_unique_body_parts_keep_every_frame_and_value_in_place(tmp_path, T, suffix):
    df, truth = table(T)
    path = tmp_path / f"ma_unique_{T}{suffix}"
    df.to_csv(path) if suffix == ".csv" else df.to_hdf(path, key="df_with_missing", format="table")
    with pytest.warns(ReadNoteWarning) as record:
        recs = read_recordings(path, fps=30)
    assert [str(w.message) for w in record] == [
        f"{path}: unique body parts ['corner1', 'corner2'] (DeepLabCut individual 'single') "
        "left out: they are not an animal; read them with "
        "ethogram.io.dlc.read_dlc(path, unique_bodyparts=True)"
    ]
    assert [r.name for r in recs] == [f"{path.stem}/{m}" for m in MICE]
    for r, m in zip(recs, MICE):
        assert r.data.shape == (T, 4, 2) and r.bodyparts == tuple(PARTS)
        for j, b in enumerate(PARTS):
            np.testing.assert_array_equal(r.data[:, j], truth[(m, b)][:, :2])
            np.testing.assert_array_equal(r.confidence[:, j], truth[(m, b)][:, 2])
    # asked for, the unique body parts are a recording of their own with their own body parts
    single = read_dlc(path, unique_bodyparts=True)[-1]
    assert single.name == "single" and single.bodyparts == tuple(UNIQUE)
    np.testing.assert_array_equal(single.data[:, 1], truth[("single", "corner2")][:, :2])


def test_the_table_is_read_under_any_single_key(tmp_path):
    df, truth = table(60, unique=False)
    for key in ("df", "tracks"):
        path = tmp_path / f"session_{key}.h5"
        df.to_hdf(path, key=key)  # fixed format, as pandas does by default
        assert guess_format(path) == "dlc"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            recs = read_recordings(path)
        assert [r.name for r in recs] == [f"{path.stem}/{m}" for m in MICE]
        np.testing.assert_array_equal(recs[1].data[:, 3], truth[("mouse2", "tailbase")][:, :2])
        assert recs[0].attrs["key"] == f"/{key}"


def test_several_tables_or_none_are_named(tmp_path):
    df, _ = table(20, unique=False)
    two = tmp_path / "two.h5"
    df.to_hdf(two, key="df")
    df.to_hdf(two, key="tracks")
    with pytest.raises(
        ValueError,
        match=r"two\.h5: several DeepLabCut tables \(/df, /tracks\); save one table per file",
    ):
        read_recordings(two)
    other = tmp_path / "other.h5"
    pd.DataFrame({"speed": np.arange(5.0)}).to_hdf(other, key="features")
    with pytest.raises(
        ValueError, match=r"other\.h5: no DeepLabCut table \(pandas keys: /features\)"
    ):
        read_recordings(other)
    # beside DeepLabCut's own key, a copy under another key does not make the file ambiguous
    both = tmp_path / "both.h5"
    df.to_hdf(both, key="df_with_missing")
    df.to_hdf(both, key="backup")
    assert [r.attrs["key"] for r in read_recordings(both)] == [
        "/df_with_missing",
        "/df_with_missing",
    ]


def test_individuals_with_different_body_parts_each_keep_their_own(tmp_path):
    df, truth = table(30, unique=False)
    df = df.drop(columns=[c for c in df.columns if c[1] == "mouse2" and c[2] == "rightear"])
    df = df[
        [c for c in df.columns if c[1] == "mouse2"] + [c for c in df.columns if c[1] == "mouse1"]
    ]  # any order
    df.to_csv(tmp_path / "ragged.csv")
    recs = read_recordings(tmp_path / "ragged.csv")
    assert [r.name for r in recs] == ["ragged/mouse2", "ragged/mouse1"]
    assert recs[0].bodyparts == ("nose", "leftear", "tailbase") and recs[1].bodyparts == tuple(
        PARTS
    )
    np.testing.assert_array_equal(recs[0].data[:, 2], truth[("mouse2", "tailbase")][:, :2])
    np.testing.assert_array_equal(recs[1].data[:, 2], truth[("mouse1", "rightear")][:, :2])


def test_a_body_part_without_y_is_an_error_naming_it(tmp_path):
    df, _ = table(10, unique=False)
    df.drop(
        columns=[c for c in df.columns if c[1] == "mouse1" and c[2] == "nose" and c[3] == "y"]
    ).to_csv(tmp_path / "t.csv")
    with pytest.raises(
        ValueError, match=r"t\.csv: individual 'mouse1': body part\(s\) \['nose'\] lack an x or y"
    ):
        read_recordings(tmp_path / "t.csv")
