"""The MoSeq NWB layout of the course's files: read into feature recordings, and written.

``processing/MoSeq`` holds ``PCs/pcs_clean`` (T x n_pcs, timestamps), ``Scalars/centroid_x_px``,
``centroid_y_px``, ``angle``, ``Labels/labels_clean`` and ``Images/frames`` (T x 80 x 80 uint8),
the layout of the Datta lab files the course uses. :func:`read_moseq_nwb` gives one feature
recording: ``data`` = the principal-component scores, the centroid (pixels), heading (radians)
and depth frames (read lazily) that crowd movies need, and MoSeq's own labels when the file has
them; :func:`write_moseq_nwb` writes the layout with pynwb.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .rates import file_rate_against
from .recording import LazyFrames, Recording

_MOSEQ = "processing/MoSeq"


def _series(f, path: str):
    """(data dataset, timestamps or None, dataset path) of a TimeSeries group or a bare dataset."""
    import h5py

    from .pose import _nwb_series_times

    if path not in f:
        return None, None, None
    obj = f[path]
    if isinstance(obj, h5py.Dataset):
        return obj, None, path
    return obj["data"], _nwb_series_times(obj), f"{path}/data"


def read_moseq_nwb(path, fps=None) -> list[Recording]:
    """Read an NWB file in the course's MoSeq layout (``processing/MoSeq``).

    Parameters
    ----------
    path : str or Path
    fps : float, optional
        Used only when the PCs have no timestamps; checked against them otherwise (more than 1%
        apart: ValueError).

    Returns
    -------
    list of Recording
        One features recording: ``data`` = ``PCs/pcs_clean`` (T, n_pcs) float64,
        ``timestamps`` (s), ``fps`` from them, ``centroid`` (T, 2) pixels from
        ``Scalars/centroid_x_px``/``centroid_y_px``, ``heading`` (T,) radians from
        ``Scalars/angle``, ``labels`` (T,) int from ``Labels/labels_clean`` (-1 where negative or
        NaN) and ``frames`` (T, H, W) read lazily from ``Images/frames``; each extra is None
        when the file lacks it.

    Raises
    ------
    ValueError
        When the file has no ``processing/MoSeq/PCs`` series, or an extra's length differs.
    """
    import h5py

    from .pose import fps_from_timestamps

    path = Path(path)
    with h5py.File(path, "r") as f:
        if f"{_MOSEQ}/PCs" not in f:
            raise ValueError(f"{path}: no {_MOSEQ}/PCs in this NWB file (not the MoSeq layout)")
        pcs_key = f"{_MOSEQ}/PCs/pcs_clean"
        if pcs_key not in f:
            names = sorted(f[f"{_MOSEQ}/PCs"])
            if not names:
                raise ValueError(f"{path}: {_MOSEQ}/PCs is empty")
            pcs_key = f"{_MOSEQ}/PCs/{names[0]}"
        ds, ts, _ = _series(f, pcs_key)
        data = np.asarray(ds[()], dtype=np.float64)
        if data.ndim == 1:
            data = data[:, None]
        T = data.shape[0]

        def column(key):
            d, _, _ = _series(f, f"{_MOSEQ}/{key}")
            if d is None:
                return None
            v = np.asarray(d[()])
            if v.shape[0] != T:
                raise ValueError(
                    f"{path}: {_MOSEQ}/{key} has {v.shape[0]} frames but the PCs have {T}"
                )
            return v

        cx, cy, ang = (
            column("Scalars/centroid_x_px"),
            column("Scalars/centroid_y_px"),
            column("Scalars/angle"),
        )
        lab = column("Labels/labels_clean")
        _, _, frames_key = _series(f, f"{_MOSEQ}/Images/frames")
        if frames_key is not None and f[frames_key].shape[0] != T:
            raise ValueError(
                f"{path}: {_MOSEQ}/Images/frames has {f[frames_key].shape[0]} frames but the PCs "
                f"have {T}"
            )
    centroid = None if cx is None or cy is None else np.stack([cx, cy], axis=1).astype(np.float64)
    labels = None
    if lab is not None:
        lab = np.asarray(lab, dtype=np.float64).reshape(T)
        labels = np.where(np.isfinite(lab) & (lab >= 0), lab, -1).astype(np.int64)
    file_fps = fps_from_timestamps(ts) if ts is not None else None
    return [
        Recording(
            name="",
            data=data,
            kind="features",
            fps=file_rate_against(path, file_fps, fps),
            timestamps=ts,
            source=str(path),
            format="moseq-nwb",
            centroid=centroid,
            heading=None if ang is None else np.asarray(ang, dtype=np.float64),
            labels=labels,
            frames=None if frames_key is None else LazyFrames(path, frames_key),
            attrs={"pcs": pcs_key},
        )
    ]


def write_moseq_nwb(
    path,
    pcs,
    timestamps,
    centroid,
    angle,
    labels=None,
    frames=None,
    session_description="MoSeq depth recording",
    identifier=None,
    session_start_time=None,
):
    """Write a recording in the course's MoSeq NWB layout with pynwb.

    Parameters
    ----------
    path : str or Path
        Output ``.nwb`` file (overwritten).
    pcs : array_like, shape (T, n_pcs)
        Principal-component scores (NaN rows allowed), stored as ``PCs/pcs_clean``.
    timestamps : array_like, shape (T,)
        Seconds; shared by every series.
    centroid : array_like, shape (T, 2)
        Pixels, stored as ``Scalars/centroid_x_px`` and ``Scalars/centroid_y_px``.
    angle : array_like, shape (T,)
        Heading in radians, ``Scalars/angle``.
    labels : array_like of int, shape (T,), optional
        ``Labels/labels_clean``.
    frames : array_like, shape (T, H, W), optional
        Depth crops (uint8), ``Images/frames`` (an ImageSeries).
    session_description, identifier : str, optional
        NWB file metadata (identifier defaults to the file stem).
    session_start_time : datetime, optional
        Defaults to 1970-01-01 UTC so the file is reproducible.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    ValueError
        When an array's length is not T.
    """
    from datetime import datetime, timezone

    from pynwb import NWBHDF5IO, NWBFile, TimeSeries
    from pynwb.behavior import BehavioralTimeSeries
    from pynwb.image import ImageSeries

    path = Path(path)
    pcs = np.asarray(pcs, dtype=np.float64)
    ts = np.asarray(timestamps, dtype=np.float64)
    centroid = np.asarray(centroid, dtype=np.float64)
    angle = np.asarray(angle, dtype=np.float64)
    T = pcs.shape[0]
    for name, v, shape in (
        ("timestamps", ts, (T,)),
        ("centroid", centroid, (T, 2)),
        ("angle", angle, (T,)),
    ):
        if v.shape != shape:
            raise ValueError(f"{name} must have shape {shape} to match pcs, got {v.shape}")
    if labels is not None and np.shape(labels) != (T,):
        raise ValueError(f"labels must have shape {(T,)}, got {np.shape(labels)}")
    if frames is not None and np.shape(frames)[0] != T:
        raise ValueError(f"frames must have {T} frames to match pcs, got {np.shape(frames)[0]}")
    nwb = NWBFile(
        session_description=session_description,
        identifier=identifier or path.stem,
        session_start_time=session_start_time or datetime(1970, 1, 1, tzinfo=timezone.utc),
    )
    mod = nwb.create_processing_module(
        name="MoSeq", description="MoSeq extraction: PCs, scalars, labels, frames"
    )
    pcs_ts = TimeSeries(
        name="pcs_clean", data=pcs, timestamps=ts, unit="n.a.", description="PC scores"
    )
    mod.add(BehavioralTimeSeries(time_series=[pcs_ts], name="PCs"))
    scal = [
        TimeSeries(name="centroid_x_px", data=centroid[:, 0], timestamps=pcs_ts, unit="pixels"),
        TimeSeries(name="centroid_y_px", data=centroid[:, 1], timestamps=pcs_ts, unit="pixels"),
        TimeSeries(name="angle", data=angle, timestamps=pcs_ts, unit="radians"),
    ]
    mod.add(BehavioralTimeSeries(time_series=scal, name="Scalars"))
    if labels is not None:
        lab = TimeSeries(
            name="labels_clean",
            data=np.asarray(labels, dtype=np.int64),
            timestamps=pcs_ts,
            unit="n.a.",
        )
        mod.add(BehavioralTimeSeries(time_series=[lab], name="Labels"))
    if frames is not None:
        img = ImageSeries(
            name="frames", data=np.asarray(frames), timestamps=pcs_ts, unit="mm", format="raw"
        )
        mod.add(BehavioralTimeSeries(time_series=[img], name="Images"))
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwb)
    return path
