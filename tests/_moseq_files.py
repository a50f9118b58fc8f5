"""A moseq2 project written in moseq2's own layout, synthetic, for the tests that read one.

The real moseq2 files in ../shared/data may not be copied (non-commercial licence), so the
tests read files written here with the same groups, datasets, dtypes and conventions:
moseq2-extract's ``proc/results_00.h5`` (80x80 uint8 egocentric depth crops of an elongated
mouse, ``frames_mask``, ``scalars/*`` with pixel and millimetre centroids, MoSeq's angle in
radians counter-clockwise on screen, ``velocity_2d_mm`` as forward differences in mm per frame,
``timestamps`` in ms on a jittered 30 Hz camera clock, ``metadata/uuid``, the extraction's
``parameters/fps``) beside its ``results_00.yaml``; moseq2-pca's scores file (``scores/<uuid>``
with NaN rows at dropped frames, ``scores_idx/<uuid>`` NaN there too, two sessions of which only
one has an extraction); a PCA model file; a changepoints file; and the moseq2 index yaml. The
scores come from a sticky switching autoregressive process, so they hold syllables to find.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

UUID = "5c72bf30-9596-4d4d-ae38-db9a7a28e912"  # the session that has an extraction
OTHER_UUID = "abe92017-1d40-495e-95ef-e420b7f0f4b9"  # scores only
NUM_FRAMES = 900  # extraction frames
DROPPED = (1, 2, 3, 4, 18, 19, 20, 22)  # score rows of frames the extraction dropped
NUM_ROWS = NUM_FRAMES + len(DROPPED)
NUM_PCS = 50
FPS = 30.0
#: millimetres per pixel of the synthetic camera, per axis (moseq2's are about 1.62 and 1.66)
MM_PER_PX = (1.62, 1.66)

_ACQUISITION = {
    "ColorDataType": "Byte[]",
    "ColorResolution": np.array([512, 424]),
    "DepthDataType": "UInt16[]",
    "DepthResolution": np.array([512, 424]),
    "IsLittleEndian": True,
    "NidaqChannels": 0,
    "NidaqSamplingRate": 0.0,
    "SessionName": "012517",
    "StartTime": "2017-01-25T10:42:07.1734698-05:00",
    "SubjectName": "synthetic_mouse",
}


def _trajectory(rng: np.random.Generator, num_frames: int):
    """Centroid (pixels) and MoSeq angle of a mouse walking forward along (cos a, -sin a)."""
    angle = np.cumsum(rng.normal(0, 0.06, num_frames)) + 0.3
    speed = 1.5 + 2.5 * (np.sin(np.arange(num_frames) / 23.0) > 0.2)
    step = speed[:, None] * np.stack([np.cos(angle), -np.sin(angle)], axis=1)
    xy = np.empty((num_frames, 2))
    xy[0] = (256.0, 212.0)
    for t in range(1, num_frames):  # bounce off the walls of a 512 x 424 arena
        nxt = xy[t - 1] + step[t]
        out = (nxt < 60) | (nxt > np.array([452.0, 364.0]))
        step[t:, out] *= -1
        xy[t] = xy[t - 1] + step[t]
    return xy + rng.normal(0, 0.4, xy.shape), angle


def _crops(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """(T, 80, 80) uint8 heights in mm: an elongated mouse facing right, head narrower than
    its rump, stretching and rearing over time."""
    yy, xx = np.mgrid[0:80, 0:80].astype(float) - 39.5
    length = 14.0 + 3.0 * np.sin(np.arange(num_frames) / 17.0)
    height = 25.0 + 10.0 * np.clip(np.sin(np.arange(num_frames) / 41.0), 0, None)
    frames = np.zeros((num_frames, 80, 80), dtype=np.uint8)
    for t in range(num_frames):
        width = 7.0 - 2.5 * np.clip(xx / length[t], 0, 1)  # narrower towards the head (+x)
        inside = (xx / length[t]) ** 2 + (yy / width) ** 2 < 1
        h = height[t] * (1 - 0.5 * (yy / width) ** 2) + rng.normal(0, 1.0, xx.shape)
        frames[t] = np.where(inside, np.clip(h, 0, 255), 0).astype(np.uint8)
    return frames


def _sticky_scores(rng: np.random.Generator, num_rows: int) -> np.ndarray:
    """(num_rows, NUM_PCS) float32: 10 PCs switching among 5 AR regimes every ~12 frames,
    then 40 PCs of shrinking noise."""
    num_states, dim = 5, 10
    mats = [0.9 * np.linalg.qr(rng.normal(size=(dim, dim)))[0] for _ in range(num_states)]
    biases = rng.normal(0, 1.0, (num_states, dim))
    x = np.zeros((num_rows, NUM_PCS))
    z = 0
    for t in range(1, num_rows):
        if rng.random() < 1 / 12:
            z = (z + 1 + rng.integers(num_states - 1)) % num_states
        x[t, :dim] = mats[z] @ x[t - 1, :dim] + biases[z] + rng.normal(0, 0.3, dim)
    x[:, dim:] = rng.normal(0, 1, (num_rows, NUM_PCS - dim)) * np.geomspace(
        0.5, 0.01, NUM_PCS - dim
    )
    return x.astype(np.float32)


def _scores_index() -> np.ndarray:
    idx = np.full(NUM_ROWS, np.nan, dtype=np.float32)
    kept = np.setdiff1d(np.arange(NUM_ROWS), DROPPED)
    idx[kept] = np.arange(NUM_FRAMES)
    return idx


def _write_extraction(path: Path, rng: np.random.Generator) -> None:
    xy, angle = _trajectory(rng, NUM_FRAMES)
    frames = _crops(rng, NUM_FRAMES)
    rows = np.flatnonzero(~np.isnan(_scores_index()))  # the score row of each frame
    ts = 666649625.0 + rows * (1000.0 / FPS) + rng.normal(0, 0.4, NUM_FRAMES)
    mm = (xy - [256.0, 212.0]) * MM_PER_PX + rng.normal(0, 0.3, xy.shape)
    v_mm = np.r_[0.0, np.hypot(*np.diff(mm, axis=0).T)]
    v_px = np.r_[0.0, np.hypot(*np.diff(xy, axis=0).T)]
    area_px = (frames > 0).sum(axis=(1, 2)).astype(float)
    scalars = {
        "angle": angle,
        "area_mm": area_px * np.prod(MM_PER_PX),
        "area_px": area_px,
        "centroid_x_mm": mm[:, 0],
        "centroid_x_px": xy[:, 0],
        "centroid_y_mm": mm[:, 1],
        "centroid_y_px": xy[:, 1],
        "height_ave_mm": frames.reshape(NUM_FRAMES, -1).max(axis=1) * 0.8,
        "velocity_2d_mm": v_mm,
        "velocity_2d_px": v_px,
        "velocity_theta": np.r_[0.0, np.diff(angle)],
    }
    with h5py.File(path, "w") as f:
        f.create_dataset("frames", data=frames, compression="gzip", chunks=(50, 80, 80))
        f["frames"].attrs["description"] = "3D Numpy array of depth frames (nframes x w x h, in mm)"
        f.create_dataset("frames_mask", data=frames > 0, compression="gzip", chunks=(50, 80, 80))
        for key, value in scalars.items():
            f[f"scalars/{key}"] = np.asarray(value, dtype=np.float32)
        f["timestamps"] = ts
        f["metadata/uuid"] = UUID
        for key, value in _ACQUISITION.items():
            f[f"metadata/acquisition/{key}"] = value
        ext = f.create_group("metadata/extraction")
        ext["background"] = np.full((424, 512), 673.5)
        ext["extract_version"] = np.bytes_("0.1.3")
        ext["true_depth"] = 673.5
        ext["parameters/fps"] = int(FPS)
        ext["parameters/crop_size"] = np.array([80, 80])


def _write_yaml(path: Path, text: str) -> None:
    path.write_text(text)


def write_moseq2_project(root) -> Path:
    """Write the synthetic moseq2 project under ``root``; returns ``root``.

    Files: ``proc/results_00.h5`` and ``proc/results_00.yaml`` (the extraction of ``UUID``),
    ``test_scores.h5`` (``UUID`` and ``OTHER_UUID``, ``NUM_ROWS`` x ``NUM_PCS``, NaN rows at
    ``DROPPED``), ``testh5.h5`` (a PCA model), ``changepoints.h5`` and ``test_index.yaml``.
    """
    root = Path(root)
    rng = np.random.default_rng(2017)
    (root / "proc").mkdir(parents=True, exist_ok=True)
    _write_extraction(root / "proc" / "results_00.h5", rng)
    meta = "\n".join(f"  {k}: {v!r}" for k, v in _ACQUISITION.items() if np.ndim(v) == 0)
    _write_yaml(
        root / "proc" / "results_00.yaml",
        f"complete: true\nskip: false\nuuid: {UUID}\nparameters:\n  fps: {int(FPS)}\n"
        f"  crop_size: [80, 80]\nmetadata:\n{meta}\n",
    )
    idx = _scores_index()
    with h5py.File(root / "test_scores.h5", "w") as f:
        for uuid in (UUID, OTHER_UUID):
            scores = _sticky_scores(rng, NUM_ROWS)
            scores[np.isnan(idx)] = np.nan
            f[f"scores/{uuid}"] = scores
            f[f"scores_idx/{uuid}"] = idx
            for key, value in _ACQUISITION.items():
                f[f"metadata/{uuid}/{key}"] = value
        f["groups/group1"], f["groups/group2"] = "name1", "name2"
    with h5py.File(root / "testh5.h5", "w") as f:
        components = np.linalg.qr(rng.normal(size=(80 * 80, NUM_PCS)))[0].T
        variance = np.geomspace(100.0, 0.1, NUM_PCS)
        f["components"] = components.astype(np.float32)
        f["explained_variance"] = variance.astype(np.float32)
        f["explained_variance_ratio"] = (variance / variance.sum()).astype(np.float32)
        f["mean"] = np.zeros(80 * 80, dtype=np.float32)
        f["singular_values"] = np.sqrt(variance * NUM_FRAMES).astype(np.float32)
    with h5py.File(root / "changepoints.h5", "w") as f:
        f[f"cps/{UUID}"] = (np.arange(12, NUM_ROWS, 12) / FPS).astype(np.float32)[:, None]
        score = rng.random(NUM_ROWS).astype(np.float32)
        score[np.isnan(idx)] = np.nan
        f[f"cps_score/{UUID}"] = score
        f["metadata/fps"] = np.float32(FPS)
    entries = "".join(
        f"- path:\n  - proc/results_00.h5\n  - proc/results_00.yaml\n  uuid: {u}\n  group: Group1\n"
        for u in (UUID, OTHER_UUID)
    )
    _write_yaml(root / "test_index.yaml", f"files:\n{entries}pca_path: _pca/pca_scores.h5\n")
    return root
