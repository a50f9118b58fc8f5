"""The report draws its per-syllable trajectory plots on one figure, redrawn per syllable: the
PNGs are those that plot_trajectory draws afresh, pixel for pixel."""

import numpy as np
from PIL import Image

from ethogram.viz import _report_plots
from ethogram.viz.trajectories import _limits, plot_trajectory, skeleton_edges


def _pixels(path):
    return np.asarray(Image.open(path).convert("RGBA"))


def test_redrawn_trajectory_plots_equal_fresh_ones(tmp_path):
    rng = np.random.default_rng(0)
    T = np.cumsum(rng.normal(size=(3, 20, 4, 2)), axis=1) * 5
    kw = dict(
        num_states=3,
        pre=5,
        edges=skeleton_edges(T),
        lims=_limits(T[:, 5:]),
        bodyparts=["snout", "ear", "back", "tail"],
        units="mm",
    )
    jobs = [
        ("trajectory", dict(trajectory=T[k], syllable=k, **kw), f"plots/trajectory_{k}.png")
        for k in (2, 0, 1)
    ]
    # a job whose frame differs (no shared limits) is drawn on a figure of its own
    jobs.append(("trajectory", dict(trajectory=T[1], syllable=1, pre=5), "plots/own.png"))
    _report_plots._render_trajectories(jobs, str(tmp_path / "reused"))
    for _, kwargs, rel in jobs:
        fresh = tmp_path / "fresh" / rel
        fresh.parent.mkdir(parents=True, exist_ok=True)
        plot_trajectory(**kwargs).savefig(fresh, format="png", dpi=100)
        assert np.array_equal(_pixels(tmp_path / "reused" / rel), _pixels(fresh)), rel
    # the syllable's own colour frames each redrawn plot
    assert not np.array_equal(
        _pixels(tmp_path / "reused/plots/trajectory_2.png"),
        _pixels(tmp_path / "reused/plots/trajectory_0.png"),
    )
