"""``ethogram compare`` on a real fit: reference labels (CSV, results file, MoSeq NWB) and
annotations."""

import numpy as np
import pandas as pd
import pytest

from conftest import DATA


@pytest.fixture(scope="module")
def fit(tmp_path_factory):
    from ethogram.cli import main

    out = tmp_path_factory.mktemp("fit")
    rc = main(
        [
            "fit",
            str(DATA / "openfield" / "keypoints.csv"),
            "--fps",
            "30",
            "-o",
            str(out),
            "--states",
            "5",
            "--iters",
            "10",
            "--quiet",
        ]
    )
    assert rc == 0
    return out


def _labels(fit):
    from ethogram.results import load_results

    r = load_results(fit / "results.h5").recordings[0]
    return r.name, r.syllables


def test_permuted_reference_scores_one(fit, tmp_path, capsys):
    from ethogram.cli import main

    name, lab = _labels(fit)
    perm = np.array([3, 0, 4, 1, 2])
    ref = np.where(lab >= 0, perm[np.clip(lab, 0, None)] + 100, -1)
    pd.DataFrame(
        {"recording": name, "frame": np.arange(lab.size)[::-1], "label": ref[::-1]}
    ).to_csv(tmp_path / "ref.csv", index=False)  # rows in reverse: sorted by frame on reading
    assert main(["compare", str(fit), "--overwrite", "--labels", str(tmp_path / "ref.csv")]) == 0
    out = capsys.readouterr().out
    assert "matched accuracy 1.000" in out and "NMI 1.000" in out and "ARI 1.000" in out
    assert "one-to-one matching" not in out  # every syllable paired: nothing left out
    scores = pd.read_csv(fit / "compare" / "labels_scores.csv")
    row = scores.iloc[0]
    assert row["recording"] == "all" and row["num_frames"] == int((lab >= 0).sum())
    assert (
        row["accuracy"] == 1.0
        and row["boundary_precision"] == 1.0
        and row["boundary_recall"] == 1.0
    )
    assert row["nmi"] == pytest.approx(1.0) and row["ari"] == pytest.approx(1.0)
    mapping = pd.read_csv(fit / "compare" / "labels_mapping.csv")
    assert dict(zip(mapping["syllable"], mapping["reference"])) == {
        k: int(perm[k]) + 100 for k in np.unique(lab[lab >= 0])
    }
    conf = pd.read_csv(fit / "compare" / "labels_confusion.csv", index_col=0)
    assert conf.to_numpy().sum() == int((lab >= 0).sum())


def test_known_disagreement_and_results_file_reference(fit, tmp_path, capsys):
    from ethogram.analysis.labels_compare import compare_labels
    from ethogram.cli import main

    name, lab = _labels(fit)
    ref = lab.copy()
    ref[500:600] = np.where(ref[500:600] >= 0, 7, -1)  # a label the fit does not have
    pd.DataFrame({"label": ref}).to_csv(
        tmp_path / "other.csv", index=False
    )  # no recording column: the only one
    assert (
        main(
            [
                "compare",
                str(fit),
                "--overwrite",
                "--labels",
                str(tmp_path / "other.csv"),
                "--tolerance",
                "0",
            ]
        )
        == 0
    )
    row = pd.read_csv(fit / "compare" / "labels_scores.csv").iloc[0]
    # a reference label without a syllable of its own: said, with what the accuracy leaves out
    said = capsys.readouterr().out
    n_syl = len(np.unique(lab[lab >= 0]))
    assert (
        f"(one-to-one matching pairs {n_syl} of the {n_syl} syllables with {n_syl} of the "
        f"{n_syl + 1} reference labels; the frames of the unpaired ones count as wrong"
    ) in said
    valid = lab >= 0
    changed = int(valid[500:600].sum())
    assert row["accuracy"] == pytest.approx(1 - changed / valid.sum())
    direct = compare_labels(ref, lab, tolerance=0)
    assert row["nmi"] == pytest.approx(direct.nmi) and row["ari"] == pytest.approx(direct.ari)
    # another results file as the reference: the same fit agrees with itself
    assert main(["compare", str(fit), "--overwrite", "--labels", str(fit / "results.h5")]) == 0
    assert "matched accuracy 1.000" in capsys.readouterr().out
    # or its folder, as every command takes a fit (a fresh user's `--labels of_gibbs/` was
    # refused: "no CSV with a 'syllable' column", although its results_csv/ has one)
    assert main(["compare", str(fit), "--overwrite", "--labels", str(fit)]) == 0
    assert "matched accuracy 1.000" in capsys.readouterr().out


def test_moseq_nwb_labels_clean_as_reference(tmp_path):
    from ethogram.analysis.labels_compare import compare_labels, pair_labels
    from ethogram.io.moseq import write_moseq_nwb
    from ethogram.results import read_labels

    rng = np.random.default_rng(0)
    T = 300
    labels = np.repeat(rng.integers(0, 4, size=30), 10)
    labels[:5] = -1
    write_moseq_nwb(
        tmp_path / "s.nwb",
        pcs=rng.normal(size=(T, 3)),
        timestamps=np.arange(T) / 30,
        centroid=rng.normal(size=(T, 2)) + 100,
        angle=np.zeros(T),
        labels=labels,
    )
    ref = read_labels(tmp_path / "s.nwb")
    assert len(ref) == 1 and np.array_equal(next(iter(ref.values())), labels)
    r, p = pair_labels(ref, {"anything": (labels + 1) % 4 * (labels >= 0) - (labels < 0)})
    assert compare_labels(r, p).accuracy == 1.0
    with pytest.raises(ValueError, match="300 reference labels"):
        pair_labels(ref, {"x": np.zeros(10, int)})


def test_annotations(fit, tmp_path, capsys):
    from ethogram.analysis.annotations import compare_annotations, read_annotations
    from ethogram.cli import main

    name, lab = _labels(fit)
    # "behavior A" is wherever syllable 0 runs between frames 0 and 1200, given in seconds
    starts = np.flatnonzero(np.diff(np.r_[-9, lab]) != 0)
    stops = np.r_[starts[1:], lab.size]
    rows = [(name, s / 30, e / 30, "A") for s, e in zip(starts, stops) if lab[s] == 0 and e <= 1200]
    ann = pd.DataFrame(rows, columns=["recording", "start", "stop", "behavior"])
    ann.to_csv(tmp_path / "ann.csv", index=False)
    assert (
        main(
            [
                "compare",
                str(fit),
                "--overwrite",
                "--labels",
                str(tmp_path / "ann.csv"),
                "--units",
                "seconds",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "A" in out
    summary = pd.read_csv(fit / "compare" / "annotations_summary.csv")
    a = summary.set_index("behavior").loc["A"]
    assert str(a["syllables"]) == "0" and a["recall"] == 1.0
    inside = sum(e - s for s, e in zip(starts, stops) if lab[s] == 0 and e <= 1200)
    assert a["precision"] == pytest.approx(inside / (lab == 0).sum())
    direct, _, confusion = compare_annotations(
        {name: lab}, read_annotations(ann, units="seconds", fps=30), 5
    )
    assert direct.iloc[0]["f1"] == pytest.approx(a["f1"])
    saved = pd.read_csv(fit / "compare" / "annotations_confusion.csv", index_col=0)
    assert saved.to_numpy().tolist() == confusion.to_numpy().tolist()
    # without units anywhere: a one-line error
    ann.to_csv(tmp_path / "ann2.csv", index=False)
    assert main(["compare", str(fit), "--overwrite", "--labels", str(tmp_path / "ann2.csv")]) == 2
    assert "units" in capsys.readouterr().err
