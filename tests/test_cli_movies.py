"""`ethogram movies` says why a syllable gets no movie or fewer instances than asked for.

The labels are planted by hand so that every instance's fate is known: an instance is shown
when it lasts at least 3 frames and the recording holds 1 s before its onset and (grid and
skeleton movies) 2 s after its end, the rule of ``syllable_instances`` as ``make_movies`` calls
it. The counts printed and written to the manifest are checked against the planted ones, and
a skipped syllable is reported with --quiet too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ethogram.cli import main
from ethogram.results import write_results
from ethogram.viz._synthetic import synthetic_results

RULE = (
    "at least 3 frames long, with 1 s (30 frames) of recording before its onset "
    "and 2 s (60 frames) after its end"
)
#: syllable 1: [10, 20) too close to the start, [100, 110) and [300, 310) shown, [200, 202) too
#: short, [560, 570) too close to the end (570 + 60 > 600); syllable 2: only runs of 1 and 2
#: frames; 3 never occurs
RUNS = {1: [(10, 20), (100, 110), (200, 202), (300, 310), (560, 570)], 2: [(150, 152), (250, 251)]}


@pytest.fixture()
def fit_dir(tmp_path):
    out = tmp_path / "fit"
    out.mkdir()
    res = synthetic_results(
        num_states=4, num_recordings=1, num_frames=600, expected_states=False, seed=3
    )
    z = np.zeros(600, dtype=np.int64)
    for k, runs in RUNS.items():
        for a, b in runs:
            z[a:b] = k
    res.recordings[0].syllables = z
    write_results(out / "results.h5", res, csv=False)
    return out


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _movies(fit_dir, *extra):
    return [
        "movies",
        fit_dir,
        "--kind",
        "skeleton",
        "--instances",
        "4",
        "--rows",
        "2",
        "--cols",
        "2",
        "--quiet",
        *extra,
    ]


def test_fewer_instances_and_a_skipped_syllable_are_explained_with_quiet(fit_dir, capsys):
    code, out, err = _run(_movies(fit_dir), capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == [
        (
            f"2 skeleton movie(s) in {fit_dir / 'movies'}/ "
            "(manifest: movies.csv, instances shown: instances.csv)"
        ),
        (
            "fewer than 4 instances per movie for 1 syllable(s); "
            f"an instance is shown when it is {RULE}:"
        ),
        (
            "  syllable 1: 2 of 5 instances shown "
            "(1 shorter than 3 frames, 2 too close to the recording's start or end)"
        ),
        (
            f"no movie for syllable 2: it has no instance {RULE} "
            "(of its 2 instances, 2 shorter than 3 frames)"
        ),
    ]
    manifest = pd.read_csv(fit_dir / "movies" / "movies.csv")
    assert manifest["syllable"].tolist() == [0, 1]
    row = manifest.set_index("syllable").loc[1]
    assert (row["num_instances"], row["usable_instances"], row["all_instances"]) == (2, 2, 5)
    zero_runs = 1 + sum(
        len(r) for r in RUNS.values()
    )  # syllable 0 fills every gap between the planted runs
    assert manifest.set_index("syllable").loc[0, "all_instances"] == zero_runs
    shown = pd.read_csv(fit_dir / "movies" / "instances.csv")
    one = shown[shown["syllable"] == 1]
    assert list(zip(one["start"], one["stop"])) == [(100, 110), (300, 310)]


def test_one_syllable_without_movie_says_why_and_writes_nothing(fit_dir, capsys):
    code, out, err = _run(_movies(fit_dir, "--syllables", "2"), capsys)
    assert code == 0 and err == ""
    assert out.splitlines() == [
        f"no movie made: syllable 2 has no instance {RULE} "
        "(of its 2 instances, 2 shorter than 3 frames)"
    ]
    assert not (fit_dir / "movies").exists()
    code, out, err = _run(_movies(fit_dir, "--syllables", "2,3"), capsys)
    assert code == 0 and out.splitlines() == [
        (
            f"no movie made: syllable 2 has no instance {RULE} "
            "(of its 2 instances, 2 shorter than 3 frames)"
        ),
        "no movie made for syllable 3: it does not occur in the recordings",
    ]
    assert not (fit_dir / "movies").exists()


def test_several_syllables_without_movie(fit_dir, capsys):
    from ethogram.results import load_results

    res = load_results(fit_dir / "results.h5")
    z = res.recordings[0].syllables
    z[20:22] = 3  # syllable 3: one run of 2 frames, and close to the start
    write_results(fit_dir / "results.h5", res, overwrite=True, csv=False)
    code, out, _ = _run(_movies(fit_dir, "--syllables", "1-3"), capsys)
    assert code == 0
    assert out.splitlines()[-1] == (
        f"no movie for syllables 2, 3: none has an instance {RULE} "
        "(syllable 2: of its 2 instances, 2 shorter than 3 "
        "frames; syllable 3: of its 1 instances, 1 shorter than 3 frames)"
    )


def test_a_manifest_of_an_earlier_version_keeps_its_rows(fit_dir, capsys):
    movies = fit_dir / "movies"
    movies.mkdir()
    old = pd.DataFrame(
        [
            {
                "syllable": 3,
                "kind": "grid",
                "file": "grid_syllable_03.mp4",
                "num_instances": 24,
                "num_frames": 90,
                "height": 512,
                "width": 768,
                "fps": 30.0,
            }
        ]
    )
    old.to_csv(movies / "movies.csv", index=False)
    assert _run(_movies(fit_dir, "--syllables", "1"), capsys)[0] == 0
    manifest = pd.read_csv(movies / "movies.csv")
    assert list(zip(manifest["kind"], manifest["syllable"])) == [("grid", 3), ("skeleton", 1)]
    assert manifest["num_instances"].tolist() == [24, 2]
    assert manifest["usable_instances"].isna().tolist() == [True, False]


def test_the_library_reports_counts_and_rule(fit_dir):
    from ethogram.viz.movie_files import make_movies

    man = make_movies(
        fit_dir, syllables=[1, 2], kind="skeleton", num_instances=4, rows=2, cols=2, tile_size=64
    )
    assert man.attrs["skipped"] == [2]
    assert man.attrs["instance_counts"] == {
        1: {"all": 5, "short": 1, "edge": 2, "usable": 2},
        2: {"all": 2, "short": 2, "edge": 0, "usable": 0},
    }
    assert man.attrs["rule"] == RULE and man.attrs["requested"] == 4
    # crowd-style window (nothing after the end): the rule says so
    from ethogram.viz.movie_files import usable_rule

    assert (
        usable_rule(3, 30, 0, 30.0)
        == "at least 3 frames long, with 1 s (30 frames) of recording before its onset"
    )
    assert usable_rule(5, 0, 0, None) == "at least 5 frames long"
