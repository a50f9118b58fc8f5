"""Grid movies of one call share a decoding pass per batch: the same frames as one at a time,
each video decoded once per batch."""

import numpy as np
import pandas as pd
import pytest

from ethogram.viz import _movie_plan, _video
from ethogram.viz._movie_output import write_movies
from ethogram.viz._movie_plan import GridBatches, MoviePlan
from ethogram.viz._video import VideoReader, write_mp4
from ethogram.viz.movies import grid_movie

T, H, W = 240, 48, 64
PRE, POST, TILE = 4, 12, 16


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A 240-frame video of a bright block walking over a textured floor, its keypoints, and a
    plan of grid movies of 5 syllables of 3 instances each."""
    folder = tmp_path_factory.mktemp("batches")
    rng = np.random.default_rng(3)
    floor = rng.integers(0, 120, size=(H, W)).astype(np.uint8)
    t = np.arange(T)
    cen = np.stack([32 + 18 * np.sin(t / 17), 24 + 12 * np.cos(t / 23)], axis=1)
    head = np.unwrap(np.arctan2(np.gradient(cen[:, 1]), np.gradient(cen[:, 0])))
    frames = np.repeat(floor[None], T, axis=0)
    for i, (x, y) in enumerate(cen.astype(int)):
        frames[i, y - 3 : y + 3, x - 5 : x + 5] = 200 + i % 50
    video = write_mp4(folder / "r.mp4", frames, fps=30)
    ahead = np.stack([np.cos(head), np.sin(head)], axis=1)
    kp = np.stack([cen + 4 * ahead, cen, cen - 4 * ahead], axis=1)
    chosen = {
        k: [("r", int(a), int(a) + 3) for a in rng.choice(np.arange(PRE, T - POST), 3, False)]
        for k in range(5)
    }
    plan = MoviePlan(
        "grid", 30.0, PRE, {"r": cen}, {"r": head}, {"r": np.zeros(T, int)}, cols=2,
        tile_size=TILE, post=POST, keypoints={"r": kp}, videos={"r": str(video)},
        index={"r": np.arange(T)}, edges=[(0, 1), (1, 2)],
    )  # fmt: skip
    return plan, chosen, video


def _movie_bytes(plan, sample) -> int:
    return len(sample) * (plan.pre + plan.post) * plan.tile_size**2


def test_shared_passes_give_the_frames_of_movies_made_one_at_a_time(scene):
    plan, chosen, video = scene
    budget = 2 * _movie_bytes(plan, chosen[0])  # two movies a batch: three batches
    batches = GridBatches(plan, chosen, budget=budget)
    assert batches.batches == [[0, 1], [2, 3], [4]]
    frames = VideoReader(video)[:]  # every frame, held in memory: no reader shared
    for k in [3, 0, 4, 1, 2]:  # in any order
        shared, window = batches.take(k)
        alone, window_alone = plan.render(chosen[k])
        assert window == window_alone
        assert shared.shape == (PRE + POST, 2 * TILE, 2 * TILE, 3)
        np.testing.assert_array_equal(shared, alone)
        public = grid_movie(
            {"r": frames}, plan.cents, plan.heads, chosen[k], keypoints=plan.keypoints,
            edges=plan.edges, rows=2, cols=2, window_size=window, pre=PRE, post=POST,
            tile_size=TILE, frame_index=plan.index,
            window_offset=_movie_plan_offset(plan, chosen[k]),
        )  # fmt: skip
        np.testing.assert_array_equal(shared, public)
        assert shared[:, :TILE, :TILE].std() > 10  # the tiles show the video
    with pytest.raises(KeyError):
        batches.take(0)  # each movie is taken once: its tiles are released


def _movie_plan_offset(plan, sample):
    from ethogram.viz.movie_render import tile_window

    return tile_window(plan.keypoints, plan.cents, plan.heads, sample, post=plan.post)[1]


def test_a_video_is_decoded_once_per_batch(scene, monkeypatch):
    """One reader per batch; it reads every frame its movies show once, in increasing order, and
    decodes no more than the video holds."""
    plan, chosen, _ = scene
    readers = []

    class Counting(VideoReader):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.asked = []
            readers.append(self)

        def _read_one(self, i):
            self.asked.append(i)
            return super()._read_one(i)

    monkeypatch.setattr(_video, "VideoReader", Counting)
    batches = GridBatches(plan, chosen, budget=2 * _movie_bytes(plan, chosen[0]))
    for k in sorted(chosen):
        batches.take(k)
    assert len(readers) == len(batches.batches) == 3
    for reader, batch in zip(readers, batches.batches):
        shown = {
            t for k in batch for _, a, _ in chosen[k] for t in range(a - PRE, a + POST)
        }  # every frame of the batch's tiles (the index is the identity)
        assert reader.asked == sorted(shown)
        assert len(shown) <= reader.decoded <= T
    one_pass = GridBatches(plan, chosen)  # the default budget holds them all
    assert one_pass.batches == [sorted(chosen)]
    for k in sorted(chosen):
        one_pass.take(k)
    assert len(readers) == 4 and readers[-1].decoded <= T


@pytest.mark.parametrize("workers", [1, 2])
def test_written_movies_do_not_depend_on_the_batches(scene, tmp_path, monkeypatch, workers):
    plan, chosen, _ = scene
    names = {k: f"grid_syllable_{k:02d}.mp4" for k in chosen}
    counts = {k: {"usable": 3, "all": 3} for k in chosen}
    why = pd.DataFrame(columns=["syllable", "kind", "reason"])
    written = {}
    for budget in (1, 10**9):  # one movie a batch; one batch
        monkeypatch.setattr(_movie_plan, "BATCH_BYTES", budget)
        out = tmp_path / str(budget)
        manifest = write_movies(plan, chosen, counts, names, out, why, workers, False)
        assert manifest["file"].tolist() == [names[k] for k in sorted(chosen)]
        written[budget] = {k: VideoReader(out / names[k], gray=False)[:] for k in chosen}
    for k in chosen:
        np.testing.assert_array_equal(written[1][k], written[10**9][k])


def test_memory_is_bounded_by_the_batch_not_by_the_number_of_movies(scene, tmp_path, monkeypatch):
    """With a budget of two movies' tiles, 8 movies peak no higher than 2 do (plus one movie's
    tiles); in one batch the 8 movies' tiles are all held at once."""
    import dataclasses
    import tracemalloc

    plan, chosen, _ = scene
    plan = dataclasses.replace(plan, tile_size=64)
    one = _movie_bytes(plan, chosen[0])  # 3 tiles x 16 frames x 64 x 64 grey: 196 kB
    why = pd.DataFrame(columns=["syllable", "kind", "reason"])

    def peak(n, budget):
        monkeypatch.setattr(_movie_plan, "BATCH_BYTES", budget)
        sample = {k: chosen[k % 5] for k in range(n)}
        names = {k: f"grid_syllable_{k:02d}.mp4" for k in sample}
        counts = {k: {"usable": 3, "all": 3} for k in sample}
        out = tmp_path / f"{n}_{budget}"
        tracemalloc.start()
        write_movies(plan, sample, counts, names, out, why, 1, False)
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return top

    two, eight = peak(2, 2 * one), peak(8, 2 * one)
    assert eight < two + one
    assert peak(8, 10**9) > eight + 4 * one
