"""Pose files written as the tools write them, for the tests of frame rates, units and NWB export.

``write_pose_nwb`` writes an NWB file with ndx-pose as DeepLabCut's ``dlc2nwb`` does (a
``behavior`` processing module, one ``PoseEstimation`` per animal naming the tracked video in
``original_videos``, one ``PoseEstimationSeries`` per body part; timestamps in seconds, or the
frame numbers 0, 1, 2, ... that dlc2nwb writes when it does not know the frame rate);
``write_video`` a small h264 video with imageio-ffmpeg; ``mouse`` keypoints of a walking mouse.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

BODYPARTS = ("snout", "leftear", "rightear", "tailbase")


def mouse(num_frames: int, seed: int = 0) -> np.ndarray:
    """(T, 4, 2) pixels: a mouse body (snout, ears, tail base) walking and turning."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.08, num_frames))
    speed = 2.0 + 1.5 * np.sin(np.arange(num_frames) / 15.0) ** 2
    pos = np.cumsum(np.stack([speed * np.cos(heading), speed * np.sin(heading)], 1), 0) + 200
    body = np.array([[20.0, 0.0], [8.0, 6.0], [8.0, -6.0], [-20.0, 0.0]])
    c, s = np.cos(heading), np.sin(heading)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (T, 2, 2)
    pts = np.einsum("tij,bj->tbi", rot, body) + pos[:, None, :]
    return pts + rng.normal(0, 0.5, pts.shape)


def write_pose_nwb(
    path,
    keypoints,
    timestamps,
    video=None,
    unit="pixels",
    animals=None,
    bodyparts=BODYPARTS,
    source_video=False,
) -> None:
    """An ndx-pose NWB file as dlc2nwb writes it.

    Parameters
    ----------
    keypoints : ndarray (T, B, 2), or a list of them (one per animal)
    timestamps : ndarray (T,)
        Seconds (or frame numbers, as dlc2nwb writes without a frame rate).
    video : str, optional
        The tracked video named in ``original_videos``.
    unit : str
        The series' unit ("pixels"; "cm" for calibrated coordinates).
    animals : list of str, optional
        One PoseEstimation container per animal (names); one named "PoseEstimation" without.
    source_video : bool
        Name the video as ndx-pose >= 0.2 does (an ImageSeries with ``external_file``, linked as
        ``source_video``) instead of dlc2nwb's ``original_videos``.
    """
    import warnings

    from ndx_pose import PoseEstimation, PoseEstimationSeries, Skeleton, Skeletons
    from pynwb import NWBHDF5IO, NWBFile

    arrays = keypoints if isinstance(keypoints, list) else [keypoints]
    names = animals or ["PoseEstimation"]
    nwb = NWBFile(
        session_description="open field",
        identifier="session-1",
        session_start_time=datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc),
    )
    module = nwb.create_processing_module("behavior", "processed behavioral data")
    skeletons, poses = [], []
    for name, kp in zip(names, arrays):
        sk = Skeleton(
            name=f"skeleton_{name}",
            nodes=list(bodyparts),
            edges=np.array([[0, 1], [0, 2], [1, 3], [2, 3]], dtype="uint8"),
        )
        skeletons.append(sk)
        conf = np.full(kp.shape[:2], 0.99)
        series = [
            PoseEstimationSeries(
                name=b,
                data=kp[:, j],
                confidence=conf[:, j],
                unit=unit,
                reference_frame="(0,0) is the top left corner",
                timestamps=np.asarray(timestamps, dtype=np.float64),
            )
            for j, b in enumerate(bodyparts)
        ]
        videos = {}
        if video and source_video:
            from pynwb.image import ImageSeries

            movie = ImageSeries(
                name=f"video_{name}",
                external_file=[video],
                format="external",
                starting_frame=[0],
                timestamps=np.asarray(timestamps, dtype=np.float64),
            )
            nwb.add_acquisition(movie)
            videos = dict(source_video=movie)
        elif video:
            videos = dict(original_videos=[video])
        with (
            warnings.catch_warnings()
        ):  # ndx-pose 0.4 deprecates original_videos; dlc2nwb writes it
            warnings.simplefilter("ignore", DeprecationWarning)
            poses.append(
                PoseEstimation(
                    name=name,
                    pose_estimation_series=series,
                    skeleton=sk,
                    source_software="DeepLabCut",
                    scorer="DLC_resnet50",
                    **videos,
                )
            )
    module.add(Skeletons(skeletons=skeletons))
    for p in poses:
        module.add(p)
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)


def write_video(path, num_frames: int, fps: float) -> None:
    """A small grey h264 video (32 x 32) of ``num_frames`` frames at ``fps``."""
    import imageio_ffmpeg

    w = imageio_ffmpeg.write_frames(
        str(path),
        (32, 32),
        fps=fps,
        codec="libx264",
        pix_fmt_in="gray",
        macro_block_size=1,
        output_params=["-loglevel", "error"],
    )
    w.send(None)
    for i in range(num_frames):
        w.send(np.full((32, 32), i % 256, dtype=np.uint8).tobytes())
    w.close()


def renamed_bodyparts_csv(source, path, names: dict, num_frames: int | None = None):
    """Copy the DeepLabCut CSV ``source`` to ``path`` with body parts renamed (``{old: new}``)
    and, when given, only its first ``num_frames`` frames: a recording tracked under other
    names. Returns ``path``."""
    from pathlib import Path

    lines = Path(source).read_text().splitlines(keepends=True)
    head = lines[1].rstrip("\n").split(",")
    lines[1] = ",".join([head[0], *(names.get(b, b) for b in head[1:])]) + "\n"
    Path(path).write_text("".join(lines[: None if num_frames is None else 3 + num_frames]))
    return Path(path)
