"""The report as a scientist reads it: a real fit, and the cards of syllables without a movie.

The real fit is of the shipped openfield excerpt at a given kappa; the card test plants one
recording whose syllables have instances to show, only short runs, or none.
"""

from __future__ import annotations

import numpy as np
import pytest

from _report_pages import brute_instances, check_links, parse
from conftest import DATA, undrawn_report_plots
from ethogram.viz._synthetic import synthetic_results
from ethogram.viz.report import write_report


def test_report_of_a_real_openfield_fit(tmp_path):
    from ethogram.io import read_recordings
    from ethogram.pipeline import fit_recordings
    from ethogram.results import write_results

    recs = read_recordings(DATA / "openfield" / "keypoints.csv", fps=30.0)
    # at a given kappa: what is checked is the report of a real fit, not the kappa search
    res = fit_recordings(
        recs, num_states=10, num_iters=20, kappa=1000, seed=0, progress=False, expected_states=True
    )
    write_results(tmp_path / "results.h5", res)
    index = write_report(tmp_path, progress=False)
    parsed = parse(index)
    check_links(index, parsed)
    counts = brute_instances([r.syllables for r in res.recordings], res.num_states)
    used = [k for k in range(res.num_states) if counts[k] > 0]
    assert sorted(parsed.cards) == used
    assert all(f"plots/trajectory_{k}.png" in parsed.links for k in used)
    assert "plots/probabilities_0.png" in parsed.links
    html = index.read_text(encoding="utf-8")
    assert "keypoints" in html
    # the configuration says how the keypoints became the model's inputs
    prep = res.preparation
    D = prep.num_inputs
    kept = 100 * prep.explained_variance_ratio_[:D].sum()
    config = html[html.index('id="config"') :]
    for row in (
        "<td>confidence threshold</td><td>0.5: keypoints tracked with a lower confidence "
        "are missing</td>",
        "<td>body parts</td><td>4: snout, leftear, rightear, tailbase</td>",
        f"<td>principal components</td><td>{D} of the egocentric pose, keeping {kept:.1f}% "
        "of its variance (the fewest above 90%)</td>",
        "<td>frame rate</td><td>30 fps</td>",
        "<td>outliers</td><td>not removed</td>",
    ):
        assert row in config, row
    assert kept > 90 and 100 * prep.explained_variance_ratio_[: D - 1].sum() <= 90


# ------------------------------------------------------------------------ as a scientist reads it
def _card(html: str, k: int) -> str:
    card = html[html.index(f'id="syllable-{k}"') :]
    return card[: card.index("</dl>")]


@pytest.fixture()
def movie_fit(tmp_path):
    """One planted recording: syllable 1 has instances to show, syllable 2 only runs of 1-2 frames,
    syllable 3 never occurs; skeleton movies asked for syllables 1 and 2."""
    from ethogram.results import write_results

    out = tmp_path / "fit"
    res = synthetic_results(
        num_states=4, num_recordings=1, num_frames=600, expected_states=False, seed=3
    )
    z = np.zeros(600, dtype=np.int64)
    for a, b in [(100, 110), (300, 310), (150, 152), (250, 251)]:
        z[a:b] = 1 if b - a == 10 else 2
    z[400:402] = 3
    res.recordings[0].syllables = z
    write_results(out / "results.h5", res, csv=False)
    return out


def test_a_syllable_without_a_movie_says_why_on_its_card(movie_fit):
    from ethogram.viz.movie_files import make_movies

    with pytest.MonkeyPatch.context() as mp:  # this first page is read for its words only
        undrawn_report_plots(mp)
        index = write_report(movie_fit, progress=False, trajectories=False)
    html = index.read_text(encoding="utf-8")
    fit = movie_fit.resolve()  # the command names the fit by a path usable from any folder
    for k in (0, 1, 2, 3):  # no movie made at all
        assert (
            f"No movie: none made for this fit; &#39;ethogram movies {fit}&#39; makes them."
            in _card(html, k)
        )
    small = dict(kind="skeleton", num_instances=4, rows=2, cols=2, tile_size=32)
    man = make_movies(movie_fit, syllables=[1, 2], **small)
    assert man["syllable"].tolist() == [1] and man.attrs["skipped"] == [2]
    index = write_report(movie_fit, progress=False, trajectories=False, overwrite=True)
    html = index.read_text(encoding="utf-8")
    check_links(index, parse(index))
    assert "movies/skeleton_syllable_01.mp4" in _card(html, 1) and "No movie" not in _card(html, 1)
    assert (
        "No movie: skeleton movie: no instance at least 3 frames long, with 1 s (30 frames) of "
        "recording before its onset and 2 s (60 frames) after its end (of its 2 instances, 2 "
        "shorter than 3 frames)." in _card(html, 2)
    )
    for k in (0, 3):
        assert (
            "No movie: not asked for (movies were made for syllables 1); &#39;ethogram movies "
            f"{fit} --syllables {k}&#39; makes one." in _card(html, k)
        )
    assert "movies/skipped.csv" in parse(index).links
    # a later run that makes syllable 2's movie takes it off the list of skipped syllables
    import pandas as pd

    make_movies(movie_fit, syllables=[0], **small)
    assert pd.read_csv(movie_fit / "movies" / "skipped.csv")["syllable"].tolist() == [2]
