"""Plots of ethogram.viz: valid PNGs of the expected size, and planted data drawn where it should
be.

Each check reads back what matplotlib drew (bar heights, box medians, image arrays, quiver
vectors, line data) and compares it with values computed here independently (loops over
frames, the defining formulas).
"""

from __future__ import annotations

import matplotlib.image as mimage
import numpy as np
import pytest

from ethogram import viz
from ethogram.viz import _synthetic
from ethogram.viz._common import NO_SYLLABLE_COLOR


def brute_runs(z):
    """(value, length) of maximal runs, by a plain loop."""
    out = []
    for t, v in enumerate(z):
        if t > 0 and z[t - 1] == v:
            out[-1][1] += 1
        else:
            out.append([int(v), 1])
    return out


def check_png(path, width_px, height_px):
    img = mimage.imread(str(path))
    assert img.shape[:2] == (height_px, width_px)
    rgb = img[..., :3]
    assert rgb.std() > 0.02, "the image is blank"
    assert (rgb < 0.9).mean() > 0.01, "almost nothing drawn"
    return img


@pytest.fixture(scope="module")
def planted():
    z, cen, head, kp, x = _synthetic.planted_animal(1200, 6, seed=3)
    z = z.copy()
    z[100:130] = -1  # masked frames
    x = x.copy()
    x[100:130] = np.nan
    return z, cen, head, kp, x


# ------------------------------------------------------------------ palette
def test_palette_is_stable_distinct_and_never_the_masked_grey():
    big = viz.syllable_colors(60)
    assert np.array_equal(viz.syllable_colors(7), big[:7])
    assert big.shape == (60, 4) and np.all((big >= 0) & (big <= 1))
    assert len({tuple(np.round(c, 4)) for c in big}) == 60
    assert np.min(np.abs(big - NO_SYLLABLE_COLOR).sum(axis=1)) > 0.05
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="num_states"):
            viz.syllable_colors(bad)


# ------------------------------------------------------------------ PNG sizes
@pytest.mark.parametrize("dpi", [50, 100])
def test_every_plot_writes_a_png_of_figsize_times_dpi(tmp_path, planted, dpi):
    z, cen, head, kp, x = planted
    K = 6
    P = np.full((K, K), 0.02) + np.eye(K) * 0.88
    p = np.zeros((z.size, K))
    p[np.arange(z.size), np.maximum(z, 0)] = 1.0
    traj, _ = viz.syllable_trajectories(kp, cen, head, z, K)
    A = np.tile(0.9 * np.eye(3), (K, 1, 1))
    calls = [
        (viz.plot_syllables_and_data, dict(data=x, syllables=z, fps=30), (10, 5)),
        (viz.plot_state_probabilities, dict(expected_states=p, fps=30), (10, 4)),
        (viz.plot_usage, dict(syllables=z), (8, 3.5)),
        (viz.plot_durations, dict(syllables=z, fps=30), (8, 3.5)),
        (viz.plot_log_likelihood, dict(objectives=np.log(np.arange(1, 20))), (6, 3.5)),
        (viz.plot_transition_matrix, dict(transition_matrix=P), (6, 5)),
        (
            viz.plot_transition_graph,
            dict(transition_matrix=viz.off_diagonal_probabilities(P), usage=np.arange(1, K + 1)),
            (6.5, 6.5),
        ),
        (viz.plot_trajectory, dict(trajectory=traj[0]), (3, 3)),
    ]
    for i, (fn, kw, (w, h)) in enumerate(calls):
        out = tmp_path / f"p{i}.png"
        fig = fn(**kw, figsize=(w, h), dpi=dpi, path=out)
        assert fig.get_size_inches().tolist() == [w, h]
        check_png(out, int(round(w * dpi)), int(round(h * dpi)))
    out = tmp_path / "grid.png"
    viz.plot_trajectories(traj, ncols=3, panel_size=2.0, dpi=dpi, path=out)
    check_png(out, int(round(3 * 2.0 * dpi)), int(round(2 * 2.0 * 1.08 * dpi)))
    out = tmp_path / "dyn.png"
    viz.plot_ar_dynamics(A, np.zeros((K, 3)), ncols=3, panel_size=2.0, dpi=dpi, path=out)
    check_png(out, int(round(6 * dpi)), int(round(4 * dpi)))


def test_save_figure_forces_png_and_creates_folders(tmp_path):
    fig = viz.plot_usage(np.array([0, 0, 1, 2, 2, 2]))
    written = viz.save_figure(fig, tmp_path / "a" / "b" / "usage.jpg")
    assert written == tmp_path / "a" / "b" / "usage.png"
    with open(written, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ usage and durations
@pytest.mark.parametrize("count", ["instances", "frames"])
def test_usage_bars_are_the_counts_in_decreasing_order(planted, count):
    z = planted[0]
    other = np.array([5, 5, 5, 4, 4, -1, 4, 0, 0, 0, 0])
    labels = {"a": z, "b": other}
    truth = np.zeros(6, dtype=int)
    for seq in labels.values():
        if count == "frames":
            for v in seq:
                if v >= 0:
                    truth[v] += 1
        else:
            for v, _ in brute_runs(seq):
                if v >= 0:
                    truth[v] += 1
    fig = viz.plot_usage(labels, num_states=6, count=count)
    ax = fig.axes[0]
    heights = np.array([b.get_height() for b in ax.patches])
    ticks = [int(t.get_text()) for t in ax.get_xticklabels()]
    assert sorted(ticks) == list(range(6))
    assert np.array_equal(heights, truth[ticks])
    assert np.all(np.diff(heights) <= 0)
    colors = np.array([b.get_facecolor() for b in ax.patches])
    assert np.allclose(colors, viz.syllable_colors(6)[ticks])
    fig = viz.plot_usage(labels, num_states=6, count=count, normalize=True)
    assert np.allclose([b.get_height() for b in fig.axes[0].patches], truth[ticks] / truth.sum())


def test_durations_box_medians_are_the_median_instance_lengths_in_seconds(planted):
    z = planted[0]
    fps = 25.0
    per = {k: [] for k in range(6)}
    for v, n in brute_runs(z):
        if v >= 0:
            per[v].append(n / fps)
    fig = viz.plot_durations(z, fps=fps, num_states=6)
    ax = fig.axes[0]
    shown = [int(t.get_text()) for t in ax.get_xticklabels()]
    counts = [len(per[k]) for k in shown]
    assert counts == sorted(counts, reverse=True)
    medians = [ln.get_ydata()[0] for ln in ax.lines if ln.get_label() == "_median"]
    assert np.allclose(medians, [np.median(per[k]) for k in shown])
    got = viz.syllable_durations_seconds(z, 6, fps)
    for k in range(6):
        assert np.allclose(np.sort(got[k]), np.sort(per[k]))
    assert ax.get_ylabel() == "duration (s)"


# ------------------------------------------------------------------ time series
def test_syllable_bands_have_each_frames_colour_and_masked_frames_grey(planted):
    z, _, _, _, x = planted
    fig = viz.plot_syllables_and_data(x, z, fps=30, num_states=6, start=50, stop=400)
    ax = fig.axes[0]
    band = np.asarray(ax.images[0].get_array())
    assert band.shape == (1, 350, 4)
    pal = viz.syllable_colors(6)
    for t in range(50, 400):
        want = NO_SYLLABLE_COLOR if z[t] < 0 else pal[z[t]]
        assert np.allclose(band[0, t - 50, :3], want[:3])
    assert len([ln for ln in ax.lines if ln.get_color() == "#222222"]) == x.shape[1]
    lo, hi = ax.get_xlim()
    assert np.isclose(lo, 50 / 30) and np.isclose(hi, 400 / 30)


def test_state_probability_opacity_is_the_probability():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=300)
    fig = viz.plot_state_probabilities(p)
    img = np.asarray(fig.axes[0].images[0].get_array())
    assert img.shape == (4, 300, 4)
    assert np.allclose(img[..., 3], p.T)
    assert np.allclose(img[2, :, :3], viz.syllable_colors(4)[2, :3])
    with pytest.raises(ValueError, match="probabilities"):
        viz.plot_state_probabilities(p * 3)


def test_log_likelihood_line_is_the_objectives_per_frame():
    obj = np.cumsum(np.r_[-500.0, np.full(9, 10.0)])
    fig = viz.plot_log_likelihood(obj, marginal_lls=obj - 1, per_frame=100)
    ax = fig.axes[0]
    assert np.allclose(ax.lines[0].get_ydata(), obj / 100)
    assert np.allclose(ax.lines[0].get_xdata(), np.arange(10))
    assert np.allclose(ax.lines[1].get_ydata(), (obj - 1) / 100)
    with pytest.raises(ValueError, match="objectives"):
        viz.plot_log_likelihood([])


# ------------------------------------------------------------------ transitions
def test_transition_matrix_image_is_the_matrix_in_the_given_order():
    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.ones(5), size=5)
    order = [3, 0, 4, 1, 2]
    fig = viz.plot_transition_matrix(P, order=order)
    img = np.asarray(fig.axes[0].images[0].get_array())
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            assert img[i, j] == P[a, b]
    off = viz.off_diagonal_probabilities(P)
    for i in range(5):
        for j in range(5):
            want = 0.0 if i == j else P[i, j] / (1.0 - P[i, i])
            assert np.isclose(off[i, j], want)
    fig = viz.plot_transition_matrix(P, exclude_self=True)
    assert np.allclose(np.asarray(fig.axes[0].images[0].get_array()), off)
    with pytest.raises(ValueError, match="square"):
        viz.plot_transition_matrix(P[:, :4])
    with pytest.raises(ValueError, match="order"):
        viz.plot_transition_matrix(P, order=[0, 0, 1])


def test_transition_graph_draws_edges_above_threshold_without_self_loops_and_sizes_nodes_by_usage():
    from matplotlib.collections import PathCollection
    from matplotlib.patches import FancyArrowPatch

    P = np.array(
        [[0.5, 0.3, 0.2, 0.0], [0.04, 0.9, 0.06, 0.0], [0.3, 0.3, 0.3, 0.1], [0.0, 0.0, 0.5, 0.5]]
    )
    usage = np.array([40.0, 10.0, 20.0, 5.0])
    fig = viz.plot_transition_graph(
        P, usage, threshold=0.05, max_node_size=1000.0, max_edge_width=5.0
    )
    ax = fig.axes[0]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    want = sorted((i, j) for i in range(4) for j in range(4) if i != j and P[i, j] >= 0.05)
    assert len(arrows) == len(want) == 7
    assert sorted(a.get_linewidth() for a in arrows) == pytest.approx(
        sorted(5.0 * P[i, j] for i, j in want)
    )
    nodes = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(nodes) == 1
    assert np.allclose(nodes[0].get_sizes(), 1000.0 * usage / usage.max())
    # unused syllables are left out
    fig = viz.plot_transition_graph(P, np.array([1.0, 0.0, 1.0, 1.0]))
    nodes = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert len(nodes[0].get_sizes()) == 3
    with pytest.raises(ValueError, match="usage"):
        viz.plot_transition_graph(P, usage[:3])


# ------------------------------------------------------------------ trajectories
def _straight_walkers(v=3.0, pre=5, post=15):
    """Recordings of an animal walking straight at v px/frame, each at its own heading."""
    rng = np.random.default_rng(7)
    kps, cents, heads, labels = [], [], [], []
    for h in (0.0, 0.7, -2.4):
        T = 400
        d = np.array([np.cos(h), np.sin(h)])
        cen = np.array([100.0, 50.0]) + v * np.arange(T)[:, None] * d
        R = np.array([[np.cos(h), -np.sin(h)], [np.sin(h), np.cos(h)]])
        kp = cen[:, None, :] + (_synthetic.BODY @ R.T)[None]
        kp = np.concatenate([kp, rng.random((T, 4, 1))], axis=2)  # a likelihood column, ignored
        z = np.zeros(T, dtype=int)
        t, k = 0, 0
        while t < T:
            n = int(rng.integers(2, 12))
            z[t : t + n] = k
            t, k = t + n, 1 - k
        kps.append(kp), cents.append(cen), heads.append(np.full(T, h)), labels.append(z)
    expected = np.empty((pre + post, 4, 2))
    for i, t in enumerate(range(-pre, post)):
        expected[i] = _synthetic.BODY + np.array([v * t, 0.0])
    return kps, cents, heads, labels, expected


def test_trajectories_are_egocentric_at_onset_and_count_the_eligible_instances():
    kps, cents, heads, labels, expected = _straight_walkers()
    traj, counts = viz.syllable_trajectories(
        kps, cents, heads, labels, num_states=3, pre=5, post=15, min_duration=3, num_samples=1000
    )
    assert traj.shape == (3, 20, 4, 2)
    for k in (0, 1):
        assert np.allclose(traj[k], expected, atol=1e-9)
    assert np.isnan(traj[2]).all() and counts[2] == 0
    for k in (0, 1):
        n = 0
        for z in labels:
            t = 0
            for v, length in brute_runs(z):
                if v == k and length >= 3 and t - 5 >= 0 and t + 15 <= z.size:
                    n += 1
                t += length
        assert counts[k] == n
    few, c = viz.syllable_trajectories(
        kps, cents, heads, labels, num_states=2, num_samples=4, seed=1
    )
    assert np.all(c == 4)
    again, _ = viz.syllable_trajectories(
        kps, cents, heads, labels, num_states=2, num_samples=4, seed=1
    )
    assert np.array_equal(few, again)


def test_trajectory_plot_draws_the_poses_from_onset():
    kps, cents, heads, labels, expected = _straight_walkers()
    traj, _ = viz.syllable_trajectories(kps, cents, heads, labels, num_states=2)
    fig = viz.plot_trajectory(traj[1], syllable=1, pre=5, num_poses=4)
    ax = fig.axes[0]
    offsets = [c.get_offsets() for c in ax.collections]
    assert len(offsets) == 4
    times = np.round(np.linspace(5, 19, 4)).astype(int)
    for off, t in zip(offsets, times):
        assert np.allclose(off, expected[t])
    lo, hi = ax.get_ylim()
    assert lo > hi, "y must point down as in the video"
    with pytest.raises(ValueError, match="body part"):
        viz.plot_trajectory(traj[1], edges=[("snout", "ear")], bodyparts=["snout", "a", "b", "c"])


# ------------------------------------------------------------------ AR dynamics
def test_ar_vector_field_is_the_expected_one_step_change():
    theta = np.pi / 8
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    A = np.stack(
        [np.hstack([0.5 * R, 0.3 * np.eye(2)]), np.hstack([0.2 * np.eye(2), 0.1 * np.eye(2)])]
    )
    b = np.array([[1.0, -1.0], [0.0, 0.5]])
    fig = viz.plot_ar_dynamics(A, b, lims=((-2, 2), (-1, 3)), num_grid=5)
    for k, ax in enumerate(fig.axes):
        q = ax.collections[-1]
        pts = q.get_offsets()
        for (px, py), u, v in zip(pts, q.U, q.V):
            x = np.array([px, py])
            want = A[k][:, :2] @ x + A[k][:, 2:] @ x + b[k] - x
            assert np.allclose([u, v], want)
    # three dimensions: the plane of inputs 0 and 2, input 1 held at 0
    A3 = np.tile(np.array([[0.9, 0.2, 0.0], [0.0, 0.8, 0.0], [0.1, 0.3, 0.7]]), (2, 1, 1))
    f = viz.ar_vector_field(A3, None, np.array([[1.0, 2.0]]), dims=(0, 2))
    x = np.array([1.0, 0.0, 2.0])
    assert np.allclose(f[0, 0], (A3[0] @ x - x)[[0, 2]])
    with pytest.raises(ValueError, match="dims"):
        viz.ar_vector_field(A3, None, np.zeros((1, 2)), dims=(1, 1))
    with pytest.raises(ValueError, match="bias"):
        viz.plot_ar_dynamics(A3, np.zeros((2, 2)))


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="syllables has 3 frames but data has 4"):
        viz.plot_syllables_and_data(np.zeros((4, 2)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="num_states"):
        viz.plot_usage(np.array([0, 5]), num_states=3)
    with pytest.raises(ValueError, match="count"):
        viz.plot_usage(np.array([0, 1]), count="seconds")
    with pytest.raises(TypeError, match="syllables"):
        viz.plot_usage([])
    with pytest.raises(ValueError, match="fps"):
        viz.plot_syllables_and_data(np.zeros((4, 2)), np.zeros(4, dtype=int), fps=0)


def test_trajectory_limits_hold_every_point_of_every_syllable():
    """Shared limits of the report's trajectory plots: no syllable's pose is clipped (the widest
    one included), with a margin on every side."""
    from ethogram.viz.trajectories import _limits

    rng = np.random.default_rng(0)
    trajs = rng.normal(size=(6, 20, 4, 2)) * 10
    trajs[3] *= 8  # one syllable that moves far more than the others
    trajs[1, 5, 2] = np.nan
    (x0, x1), (y0, y1) = _limits(trajs)
    pts = trajs.reshape(-1, 2)
    pts = pts[np.isfinite(pts).all(axis=1)]
    assert (
        x0 < pts[:, 0].min()
        and pts[:, 0].max() < x1
        and y0 < pts[:, 1].min()
        and pts[:, 1].max() < y1
    )
    assert np.isclose(x1 - x0, y1 - y0)  # square, as the plots are


# ------------------------------------------------------------------ read as a scientist reads them
def test_scale_bar_lengths_are_round():
    from ethogram.viz.trajectories import nice_length

    spans = (200.0, 7.0, 0.3, 40.0, 1000.0)
    assert [nice_length(s) for s in spans] == [50.0, 1.0, 0.05, 10.0, 200.0]


@pytest.mark.parametrize("units", ["px", "mm"])
def test_trajectory_plot_has_axes_a_scale_bar_and_a_body_part_legend(units):
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    kps, cents, heads, labels, expected = _straight_walkers()
    traj, _ = viz.syllable_trajectories(kps, cents, heads, labels, num_states=2)
    fig = viz.plot_trajectory(
        traj[1], syllable=1, pre=5, bodyparts=_synthetic.BODYPARTS, units=units
    )
    ax = fig.axes[0]
    assert ax.get_xlabel() == f"forward ({units})" and ax.get_ylabel() == f"sideways ({units})"
    assert ax.axison and len(ax.get_xticks()) >= 3  # real axes with ticks, no longer switched off
    bars = [a for a in ax.artists if isinstance(a, AnchoredSizeBar)]
    assert len(bars) == 1
    width = abs(np.diff(ax.get_xlim())[0])
    label = bars[0].txt_label.get_text()
    length = float(label.split()[0])
    assert label == f"{length:g} {units}" and 0.1 * width <= length <= 0.3 * width
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(_synthetic.BODYPARTS)
    # the legend's markers have the colours of the body parts' dots
    dots = ax.collections[-1].get_facecolors()[:, :3]
    marks = [h.get_markerfacecolor()[:3] for h in fig.legends[0].legend_handles]
    assert np.allclose(dots, marks)
    # the legend lies below the axes, inside the figure
    fig.canvas.draw()
    box, axbox = fig.legends[0].get_window_extent(), ax.get_window_extent()
    W, H = fig.bbox.width, fig.bbox.height
    assert box.y1 <= axbox.y0 and box.x0 >= 0 and box.x1 <= W + 1 and box.y0 >= 0
    assert H > fig.dpi * 3.0  # taller than the axes alone by the legend
    with pytest.raises(ValueError, match="bodyparts names 3 body parts"):
        viz.plot_trajectory(traj[1], bodyparts=["a", "b", "c"])


def test_trajectory_grid_names_its_axes_once_and_shows_the_legend():
    kps, cents, heads, labels, _ = _straight_walkers()
    traj, _ = viz.syllable_trajectories(kps, cents, heads, labels, num_states=2)
    fig = viz.plot_trajectories(traj, bodyparts=_synthetic.BODYPARTS, units="mm", ncols=2)
    assert fig._supxlabel.get_text() == "forward, along the heading at onset (mm)"
    assert fig._supylabel.get_text() == "sideways (mm)"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == list(_synthetic.BODYPARTS)
    assert all(any(type(a).__name__ == "AnchoredSizeBar" for a in ax.artists) for ax in fig.axes)
    assert [ax.get_xlim() for ax in fig.axes] == [fig.axes[0].get_xlim()] * 2  # one scale


def test_ar_dynamics_panels_have_titles_named_axes_and_readable_ticks():
    K = 3
    A = np.tile(np.hstack([0.9 * np.eye(3)]), (K, 1, 1))
    fig = viz.plot_ar_dynamics(
        A, np.zeros((K, 3)), syllables=[2, 0, 1], input_names=["PC 1", "PC 2", "PC 3"], ncols=2
    )
    assert [ax.get_title() for ax in fig.axes] == ["syllable 2", "syllable 0", "syllable 1"]
    fig.canvas.draw()
    for ax in fig.axes:
        assert ax.get_xlabel() == "PC 1" and ax.get_ylabel() == "PC 2"
        labels = [t for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
        assert len(labels) >= 4 and min(t.get_fontsize() for t in labels) >= 9
    assert "plane of PC 1 and PC 2 (others at 0)" in fig._suptitle.get_text()
    two = viz.plot_ar_dynamics(A[:, :2, :2], None)
    title = two._suptitle.get_text()
    assert title.startswith("AR dynamics") and "others" not in title
    assert two.axes[0].get_xlabel() == "input 0"
    with pytest.raises(ValueError, match="input_names has 2 names for 3 inputs"):
        viz.plot_ar_dynamics(A, None, input_names=["a", "b"])


def test_ar_dynamics_on_one_scale_draws_equal_changes_equally_long():
    A = np.stack([0.5 * np.eye(2), 0.9 * np.eye(2)])  # one-step change -0.5 x and -0.1 x
    fig = viz.plot_ar_dynamics(A, None, lims=((-2, 2), (-2, 2)), num_grid=5, shared_scale=True)
    scales = {ax.collections[-1].scale for ax in fig.axes}
    assert len(scales) == 1 and fig.axes[0].collections[-1].scale_units == "xy"
    # the 95th percentile arrow (of both panels) spans 90% of a grid step (1.0)
    quivers = [ax.collections[-1] for ax in fig.axes]
    lengths = np.concatenate([np.hypot(q.U, q.V) for q in quivers])
    assert np.percentile(lengths, 95) / scales.pop() == pytest.approx(0.9)
