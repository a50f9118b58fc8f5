"""Preparation: planted geometry recovered exactly, masking and gaps by hand, PCA against an SVD,
exact round trips, clear errors, and the real openfield keypoints."""

import json

import numpy as np
import pytest

from conftest import DATA
from ethogram.io import Recording
from ethogram.prep import (
    Preparation,
    guess_axis_bodyparts,
    interpolate_gaps,
    medoid_outliers,
)

BODYPARTS = ("nose", "leftear", "rightear", "spine", "tailbase")


def wrap(a):
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


def planted(T=400, seed=0):
    """Keypoints built from known egocentric shapes, headings and centroids.

    Shapes are centred (mean over body parts zero) and have nose and tail base on the same
    y, so the centroid is exactly ``c`` and the heading exactly ``h``.
    """
    rng = np.random.default_rng(seed)
    shape = np.array([[30.0, 0.0], [18.0, 8.0], [18.0, -8.0], [0.0, 0.0], [-30.0, 0.0]])
    shapes = shape + rng.normal(scale=2.0, size=(T, 5, 2))
    shapes[:, 4, 1] = shapes[:, 0, 1]
    shapes -= shapes.mean(axis=1, keepdims=True)
    h = wrap(np.cumsum(rng.normal(scale=0.3, size=T)) + 2.0)
    c = 300 + np.cumsum(rng.normal(scale=3.0, size=(T, 2)), axis=0)
    R = np.stack(
        [np.stack([np.cos(h), -np.sin(h)], -1), np.stack([np.sin(h), np.cos(h)], -1)], -2
    )  # (T, 2, 2)
    kp = np.einsum("tij,tbj->tbi", R, shapes) + c[:, None, :]
    return kp, shapes, h, c


def rec(kp, name="r", conf=None, bodyparts=BODYPARTS, fps=30.0):
    return Recording(name, kp, "keypoints", fps=fps, bodyparts=bodyparts, confidence=conf)


def test_planted_centroid_heading_and_pose_are_recovered():
    kp, shapes, h, c = planted()
    out = Preparation().fit_transform([rec(kp)])[0]
    assert out.mask.all()
    np.testing.assert_allclose(out.centroid, c, rtol=0, atol=1e-9)
    np.testing.assert_allclose(wrap(out.heading - h), 0, atol=1e-12)
    np.testing.assert_allclose(out.aligned, shapes, rtol=0, atol=1e-9)
    assert out.fps == 30.0 and out.name == "r"


def test_egocentric_inputs_invariant_to_rotating_and_translating_the_recording():
    kp, _, h, c = planted(seed=1)
    phi, shift = 1.234, np.array([-57.0, 880.0])
    Rg = np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])
    moved = kp @ Rg.T + shift
    prep = Preparation(num_pcs=4)
    a = prep.fit_transform([rec(kp)])[0]
    b = prep.transform([rec(moved)])[0]
    np.testing.assert_allclose(b.aligned, a.aligned, rtol=0, atol=1e-9)
    np.testing.assert_allclose(b.inputs, a.inputs, rtol=0, atol=1e-9)
    np.testing.assert_allclose(wrap(b.heading - a.heading - phi), 0, atol=1e-12)
    np.testing.assert_allclose(b.centroid, a.centroid @ Rg.T + shift, rtol=0, atol=1e-9)


def test_three_d_keypoints_rotate_in_the_plane_and_keep_z():
    kp, shapes, h, _ = planted(T=100, seed=2)
    z = np.random.default_rng(3).uniform(0, 20, size=kp.shape[:2] + (1,))
    out = Preparation().fit_transform([rec(np.concatenate([kp, z], axis=2))])[0]
    np.testing.assert_allclose(out.aligned[..., :2], shapes, atol=1e-9)
    np.testing.assert_array_equal(out.aligned[..., 2], z[..., 0])
    np.testing.assert_allclose(wrap(out.heading - h), 0, atol=1e-12)


def test_low_confidence_short_gap_interpolated_long_gap_masked():
    kp, _, _, _ = planted(T=200, seed=4)
    conf = np.ones(kp.shape[:2])
    conf[50:53, 1] = 0.2  # 3 frames: interpolated (max_gap=5)
    conf[100:110, 2] = 0.49  # 10 frames: stays missing, frames masked
    conf[150:155, 3] = 0.5  # at the threshold: kept
    out = Preparation(confidence_threshold=0.5, max_gap=5).fit_transform([rec(kp, conf=conf)])[0]
    expected_mask = np.ones(200, bool)
    expected_mask[100:110] = False
    np.testing.assert_array_equal(out.mask, expected_mask)
    assert np.isnan(out.inputs[100:110]).all() and np.isfinite(out.inputs[expected_mask]).all()
    # the interpolated ear, by hand, before alignment: the centroid is the mean with it
    t = np.arange(50, 53)
    ear = np.stack([np.interp(t, [49, 53], kp[[49, 53], 1, d]) for d in range(2)], axis=1)
    filled = kp[50:53].copy()
    filled[:, 1] = ear
    np.testing.assert_allclose(out.centroid[50:53], filled.mean(axis=1), atol=1e-9)
    # long gap: centroid of the 4 body parts present, aligned NaN only for the missing one
    np.testing.assert_allclose(
        out.centroid[100:110], np.delete(kp[100:110], 2, axis=1).mean(axis=1), atol=1e-9
    )
    assert (
        np.isnan(out.aligned[100:110, 2]).all()
        and np.isfinite(np.delete(out.aligned[100:110], 2, axis=1)).all()
    )
    np.testing.assert_allclose(out.centroid[150:155], kp[150:155].mean(axis=1), atol=1e-9)


def test_interpolate_gaps_against_a_loop():
    rng = np.random.default_rng(5)
    T, B = 120, 3
    x = rng.normal(size=(T, B, 2))
    miss = rng.random((T, B)) < 0.25
    miss[:3, 0] = True  # leading gap: never filled
    miss[-2:, 1] = True  # trailing gap: never filled
    x[miss, rng.integers(0, 2, size=miss.sum())] = np.nan  # one coordinate NaN = point missing
    got = interpolate_gaps(x, max_gap=2)
    want = x.copy()
    for b in range(B):
        bad = ~np.isfinite(x[:, b]).all(axis=1)
        want[bad, b] = np.nan
        t = 0
        while t < T:
            if not bad[t]:
                t += 1
                continue
            e = t
            while e < T and bad[e]:
                e += 1
            if t > 0 and e < T and e - t <= 2:
                for d in range(2):
                    want[t:e, b, d] = np.interp(np.arange(t, e), [t - 1, e], x[[t - 1, e], b, d])
            t = e
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert np.isnan(got[:3, 0]).all() and np.isnan(got[-2:, 1]).all()
    np.testing.assert_array_equal(
        np.isnan(interpolate_gaps(x, 0)), np.isnan(want) | np.isnan(x).any(-1, keepdims=True)
    )


def test_outliers_become_missing_and_are_interpolated():
    kp, _, _, _ = planted(T=100, seed=6)
    bad = kp.copy()
    bad[40, 3] += [600.0, -400.0]  # the spine jumps far away for one frame
    prep = Preparation(outlier_distance=1.5)
    out = prep.fit_transform([rec(bad)])[0]
    # body length: median nose-to-tailbase distance, by hand
    np.testing.assert_allclose(
        prep.body_length_, np.median(np.linalg.norm(kp[:, 0] - kp[:, 4], axis=1))
    )
    filled = kp[40].copy()
    filled[3] = (kp[39, 3] + kp[41, 3]) / 2
    np.testing.assert_allclose(out.centroid[40], filled.mean(axis=0), atol=1e-9)
    assert out.mask.all()
    kept = Preparation().fit_transform([rec(bad)])[
        0
    ]  # off by default: the jump shifts the centroid
    np.testing.assert_allclose(kept.centroid[40], bad[40].mean(axis=0), atol=1e-9)


def test_medoid_outliers_against_brute_force():
    rng = np.random.default_rng(7)
    x = rng.normal(scale=10, size=(50, 6, 2))
    x[rng.random((50, 6)) < 0.1] = np.nan
    got = medoid_outliers(x, 12.0)
    for t in range(50):
        pts = x[t][np.isfinite(x[t]).all(axis=1)]
        med = np.array([np.median(pts[:, 0]), np.median(pts[:, 1])])
        for b in range(6):
            d = np.hypot(*(x[t, b] - med))
            assert got[t, b] == (np.isfinite(d) and d > 12.0)


def test_pca_keeps_the_variance_fraction_of_an_svd():
    kp, shapes, _, _ = planted(T=500, seed=8)
    X = shapes.reshape(500, -1)
    s = np.linalg.svd(X - X.mean(0), compute_uv=False)
    ratio = s**2 / (s**2).sum()
    for variance in (0.5, 0.8, 0.9, 0.99):
        prep = Preparation(variance=variance)
        out = prep.fit_transform([rec(kp)])[0]
        k = int(np.argmax(np.cumsum(ratio) > variance)) + 1  # fewest components exceeding it
        assert prep.num_inputs == k == out.inputs.shape[1]
        np.testing.assert_allclose(prep.explained_variance_ratio_[:8], ratio[:8], atol=1e-10)
        np.testing.assert_allclose(out.inputs.mean(0), 0, atol=1e-10)
        np.testing.assert_allclose(out.inputs.std(0), 1, atol=1e-10)
    prep = Preparation(num_pcs=6, variance=0.5)
    assert prep.fit_transform([rec(kp)])[0].inputs.shape == (500, 6)


def test_inputs_are_standardized_projections_by_hand():
    kp, shapes, _, _ = planted(T=300, seed=9)
    prep = Preparation(num_pcs=3)
    out = prep.fit_transform([rec(kp[:200], "a"), rec(kp[200:], "b")])
    X = shapes.reshape(300, -1)
    _, _, Vt = np.linalg.svd(X - X.mean(0), full_matrices=False)
    Z = (X - X.mean(0)) @ Vt[:3].T
    Z = (Z - Z.mean(0)) / Z.std(0)
    got = np.concatenate([o.inputs for o in out])
    signs = np.sign((got * Z).sum(0))  # principal axes are defined up to sign
    np.testing.assert_allclose(got, Z * signs, atol=1e-8)
    unstd = Preparation(num_pcs=3, standardize=False).fit_transform([rec(kp)])[0].inputs
    np.testing.assert_allclose(np.abs(unstd), np.abs((X - X.mean(0)) @ Vt[:3].T), atol=1e-8)


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.name == y.name and x.fps == y.fps
        np.testing.assert_array_equal(x.inputs, y.inputs)
        np.testing.assert_array_equal(x.mask, y.mask)
        for f in ("centroid", "heading", "aligned"):
            u, v = getattr(x, f), getattr(y, f)
            assert (u is None) == (v is None)
            if u is not None:
                np.testing.assert_array_equal(u, v)


def test_transform_reproduces_fit_transform_and_round_trip_is_exact():
    kp, _, _, _ = planted(T=300, seed=10)
    conf = np.random.default_rng(11).uniform(0.3, 1.0, size=kp.shape[:2])
    recs = [rec(kp[:170], "a", conf[:170]), rec(kp[170:], "b", conf[170:])]
    prep = Preparation(outlier_distance=1.2, max_gap=3, variance=0.95)
    first = prep.fit_transform(recs)
    _same(first, prep.transform(recs))
    state = prep.to_dict()
    assert set(state) == {"arrays", "attrs"}
    assert all(
        isinstance(v, np.ndarray) and v.dtype == np.float64 for v in state["arrays"].values()
    )
    attrs = json.loads(json.dumps(state["attrs"]))  # JSON-able, and survives JSON
    again = Preparation.from_dict(
        {"arrays": {k: v.copy() for k, v in state["arrays"].items()}, "attrs": attrs}
    )
    _same(first, again.transform(recs))
    # as HDF5 attributes come back: numpy scalars and arrays, or one JSON string
    h5ish = {
        k: (np.array(v) if isinstance(v, list) else np.float64(v) if isinstance(v, float) else v)
        for k, v in state["attrs"].items()
        if v is not None
    }
    h5ish.update({k: None for k, v in state["attrs"].items() if v is None})
    _same(first, Preparation.from_dict({"arrays": state["arrays"], "attrs": h5ish}).transform(recs))
    _same(
        first,
        Preparation.from_dict(
            {"arrays": state["arrays"], "attrs": json.dumps(state["attrs"])}
        ).transform(recs),
    )
    s2 = again.to_dict()
    assert s2["attrs"] == state["attrs"]
    for k in state["arrays"]:
        np.testing.assert_array_equal(s2["arrays"][k], state["arrays"][k])


def test_features_keep_first_columns_standardized_with_training_stats():
    rng = np.random.default_rng(12)
    train = rng.normal(loc=3, scale=[1, 2, 3, 4, 5], size=(200, 5))
    train[[5, 17]] = np.nan
    cen, hd = rng.normal(size=(200, 2)), rng.normal(size=200)
    r = Recording("m", train, "features", fps=30, centroid=cen, heading=hd)
    prep = Preparation(num_pcs=3)
    out = prep.fit_transform([r])[0]
    ok = np.isfinite(train).all(1)
    mu, sd = train[ok, :3].mean(0), train[ok, :3].std(0)
    np.testing.assert_array_equal(out.mask, ok)
    np.testing.assert_allclose(out.inputs[ok], (train[ok, :3] - mu) / sd, atol=1e-12)
    assert np.isnan(out.inputs[~ok]).all()
    np.testing.assert_array_equal(out.centroid, cen)
    np.testing.assert_array_equal(out.heading, hd)
    assert out.aligned is None
    new = rng.normal(loc=-7, size=(50, 5))  # another mean: the training one is used
    got = Preparation.from_dict(prep.to_dict()).transform([Recording("n", new, "features")])[0]
    np.testing.assert_allclose(got.inputs, (new[:, :3] - mu) / sd, atol=1e-12)
    assert got.centroid is None and got.heading is None
    _same([out], prep.transform([r]))
    assert Preparation().fit_transform([r])[0].inputs.shape == (200, 5)
    with pytest.raises(ValueError, match="feature columns"):
        prep.transform([Recording("x", new[:, :2], "features")])
    with pytest.raises(ValueError, match="num_pcs=9"):
        Preparation(num_pcs=9).fit_transform([r])


def test_bodyparts_subset_and_errors():
    kp, _, _, _ = planted(T=100, seed=13)
    extra = np.concatenate([kp, np.full((100, 1, 2), 5.0)], axis=1)  # an arena corner
    names = BODYPARTS + ("corner",)
    prep = Preparation(bodyparts=["nose", "spine", "tailbase"])
    out = prep.fit_transform([rec(extra, bodyparts=names)])[0]
    assert out.aligned.shape == (100, 3, 2) and prep.bodyparts_ == ("nose", "spine", "tailbase")
    np.testing.assert_allclose(out.centroid, kp[:, [0, 3, 4]].mean(1), atol=1e-9)
    prep.transform([rec(kp)])  # the kept ones are there: fine
    with pytest.raises(
        ValueError, match=r"\['nose', 'leftear', 'rightear', 'spine', 'tailbase', 'corner'\]"
    ):
        Preparation(bodyparts=["nose", "spin"]).fit_transform([rec(extra, bodyparts=names)])
    full = Preparation()
    full.fit_transform([rec(kp)])
    with pytest.raises(ValueError, match="body parts"):
        full.transform([rec(extra, bodyparts=names)])
    with pytest.raises(ValueError, match="lacks body part"):
        full.transform([rec(kp[:, :4], bodyparts=BODYPARTS[:4])])
    with pytest.raises(ValueError, match="3-D keypoints"):
        full.transform([rec(np.concatenate([kp, kp[..., :1]], 2))])
    gone = kp.copy()
    gone[:, 2] = np.nan
    with pytest.raises(ValueError, match=r"\['rightear'\].*every frame"):
        Preparation().fit_transform([rec(gone)])
    with pytest.raises(ValueError, match="mix kinds"):
        Preparation().fit_transform([rec(kp), Recording("f", kp[:, 0], "features")])
    with pytest.raises(ValueError, match="not fitted"):
        Preparation().transform([rec(kp)])
    with pytest.raises(ValueError, match="holds features"):
        full.transform([Recording("f", kp[:, 0], "features")])


def test_anterior_posterior_guesses_and_errors():
    assert guess_axis_bodyparts(
        ["NOSE", "LEFT_EAR", "BASE_NECK", "BASE_TAIL", "MID_TAIL", "TIP_TAIL"]
    ) == (("NOSE",), ("BASE_TAIL",))
    assert guess_axis_bodyparts(["head", "thorax", "abdomen", "wingL"]) == (("head",), ("abdomen",))
    assert guess_axis_bodyparts(["Snout", "ear", "Tail_Base"]) == (("Snout",), ("Tail_Base",))
    assert guess_axis_bodyparts(["neck", "tail"]) == (("neck",), ("tail",))
    assert guess_axis_bodyparts(["a", "b", "c"], anterior=["a", "b"], posterior="c") == (
        ("a", "b"),
        ("c",),
    )
    with pytest.raises(ValueError, match=r"anterior.*\['p1', 'p2', 'p3'\]"):
        guess_axis_bodyparts(["p1", "p2", "p3"])
    with pytest.raises(ValueError, match=r"posterior.*\['nose', 'ear'\]"):
        guess_axis_bodyparts(["nose", "ear"])
    with pytest.raises(ValueError, match="not found"):
        guess_axis_bodyparts(["nose", "tailbase"], anterior="snout")
    with pytest.raises(ValueError, match="both anterior and posterior"):
        guess_axis_bodyparts(["nose", "tailbase"], anterior="nose", posterior=["nose"])
    # user-given ends define the heading: the left ear to the right ear points along -y here
    kp, shapes, h, _ = planted(T=50, seed=14)
    out = Preparation(anterior="rightear", posterior="leftear").fit_transform([rec(kp)])[0]
    want = np.arctan2(kp[:, 2, 1] - kp[:, 1, 1], kp[:, 2, 0] - kp[:, 1, 0])
    np.testing.assert_allclose(wrap(out.heading - want), 0, atol=1e-12)


def test_bad_settings_are_named():
    for kw, word in (
        (dict(variance=1.5), "variance"),
        (dict(num_pcs=0), "num_pcs"),
        (dict(max_gap=-1), "max_gap"),
        (dict(outlier_distance=0), "outlier_distance"),
        (dict(confidence_threshold=-0.1), "confidence_threshold"),
    ):
        with pytest.raises(ValueError, match=word):
            Preparation(**kw)
    with pytest.raises(ValueError, match="format"):
        Preparation.from_dict({"arrays": {}, "attrs": {"format": "something"}})
    kp = planted(T=60)[0]
    st = Preparation().fit(rec(kp)).to_dict()
    st["attrs"]["format_version"] = 99
    with pytest.raises(ValueError, match="newer"):
        Preparation.from_dict(st)


def _read_openfield_csv(path):
    import pandas as pd

    df = pd.read_csv(path, header=[0, 1, 2], index_col=0)
    names = list(dict.fromkeys(df.columns.get_level_values(1)))
    cube = np.stack(
        [
            [df.xs((b, c), axis=1, level=[1, 2]).to_numpy()[:, 0] for c in ("x", "y", "likelihood")]
            for b in names
        ]
    ).transpose(2, 0, 1)  # (T, B, 3)
    return names, cube


def test_openfield_snout_ahead_of_tailbase():
    names, cube = _read_openfield_csv(DATA / "openfield" / "keypoints.csv")
    assert names == ["snout", "leftear", "rightear", "tailbase"]
    r = Recording(
        "openfield", cube[..., :2], "keypoints", fps=30, bodyparts=names, confidence=cube[..., 2]
    )
    prep = Preparation()
    out = prep.fit_transform([r])[0]
    assert prep.anterior_ == ("snout",) and prep.posterior_ == ("tailbase",)
    assert 1 <= prep.num_inputs <= 8 and out.mask.mean() > 0.9
    al = out.aligned[out.mask]
    assert (al[:, 0, 0] > 0).all() and (al[:, 3, 0] < 0).all()
    np.testing.assert_allclose(
        al[:, 0, 1], al[:, 3, 1], atol=1e-9
    )  # the body axis is parallel to +x
    # frames where every point is confident: centroid and heading straight from the file
    sure = (cube[..., 2] >= 0.5).all(axis=1)
    xy = cube[sure, :, :2]
    np.testing.assert_allclose(out.centroid[sure], xy.mean(axis=1), atol=1e-9)
    d = xy[:, 0] - xy[:, 3]
    np.testing.assert_allclose(
        wrap(out.heading[sure] - np.arctan2(d[:, 1], d[:, 0])), 0, atol=1e-12
    )
    _same([out], Preparation.from_dict(prep.to_dict()).transform([r]))


def test_openfield_through_movement_matches_pandas():
    from movement.io import load

    ds = load.load_dataset(
        DATA / "openfield" / "keypoints.csv", source_software="DeepLabCut", fps=30
    )
    pos = ds.position.transpose("time", "individuals", "keypoints", "space").values[:, 0]
    conf = ds.confidence.transpose("time", "individuals", "keypoints").values[:, 0]
    names = [str(k) for k in ds.keypoints.values]
    _, cube = _read_openfield_csv(DATA / "openfield" / "keypoints.csv")
    a = Preparation().fit_transform(
        [Recording("m", pos, "keypoints", fps=30, bodyparts=names, confidence=conf)]
    )[0]
    b = Preparation().fit_transform(
        [
            Recording(
                "p", cube[..., :2], "keypoints", fps=30, bodyparts=names, confidence=cube[..., 2]
            )
        ]
    )[0]
    np.testing.assert_allclose(a.inputs, b.inputs, atol=1e-6)
