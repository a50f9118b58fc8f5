"""Video in and out for the movies: a lazy frame reader, an h264 writer, and frame alignment.

Reading uses OpenCV's ``VideoCapture`` (FFmpeg backend): frames are decoded only when asked
for, consecutive requests are served by decoding forward (``grab`` skips without converting)
and far jumps by seeking, so a movie of a few dozen two-second clips touches a few thousand
frames of an hour-long video, never the whole file. Writing pipes raw frames to the FFmpeg
binary shipped with imageio-ffmpeg (libx264, yuv420p, so that every browser plays it) and
renames the finished file into place, so a crash never leaves a half-written movie behind.
Alignment decides which video frame goes with each tracked frame: identity when the counts
agree, nearest timestamp when both sides have timestamps, otherwise a ValueError: never a
silent shift.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from .._files import written_atomically
from ..errors import InputNotFoundError

__all__ = [
    "VideoReader",
    "write_mp4",
    "count_frames",
    "align_video_frames",
    "read_video_timestamps",
]

#: a forward jump of at most this many frames is decoded through rather than seeked
_MAX_SKIP = 120


def count_frames(path) -> int:
    """Number of frames of a video file's first video stream, counted in the file's packets.

    FFmpeg reads the stream's packets without decoding them (``-c copy``): one packet per
    frame, counted as found in the file, not as stated in its header (a truncated file is
    counted to where it ends, and a header may state any count). Decoding every frame gave
    the same counts on the videos we have, at far more CPU (BENCHMARKS.md, "Counting a
    video's frames"). The count is kept for this process per
    file, size, inode and modification time: a video counted again (movies of several
    syllables, the report after them) is read once, a changed or replaced file again.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    int

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    RuntimeError
        When FFmpeg cannot read the file's video stream.
    """
    path = Path(path)
    if not path.is_file():
        raise InputNotFoundError(
            f"video {str(path)!r} not found; give an existing file as {{video}}", "video"
        )
    st = path.stat()
    return _packet_count(str(path.resolve()), st.st_size, st.st_ino, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _packet_count(path: str, size: int, inode: int, mtime_ns: int) -> int:
    """Video packets FFmpeg reads from ``path`` (the other arguments key the cache)."""
    return count_packets(path)


def count_packets(path: str) -> int:
    """Packets of the first video stream of ``path``, read by FFmpeg without decoding.

    Raises
    ------
    RuntimeError
        With FFmpeg's last lines, when it fails or reports no count.
    """
    import subprocess

    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-i", path]
    cmd += ["-map", "0:v:0", "-c", "copy", "-f", "null", "-"]
    done = subprocess.run(cmd, capture_output=True)
    log = done.stderr.decode(errors="replace").replace("\r", "\n")
    counts = [line for line in log.splitlines() if line.startswith("frame=")]
    if done.returncode != 0 or not counts:
        last = " / ".join(line.strip() for line in log.splitlines()[-2:] if line.strip())
        raise RuntimeError(f"FFmpeg could not read the video stream of {path!r}: {last}")
    return int(counts[-1].split("=", 1)[1].split()[0])


class VideoReader:
    """Frames of a video file, decoded on demand.

    Parameters
    ----------
    path : str or Path
        Any file FFmpeg reads (mp4, avi, mov, ...).
    gray : bool, default True
        Return (H, W) grey frames; else (H, W, 3) RGB.

    Attributes
    ----------
    decoded : int
        Frames this reader has decoded so far (those read and those decoded through on the
        way to them), for tests and benchmarks.

    Notes
    -----
    Not safe to share between threads: give each worker its own reader (it is cheap; the
    file is opened at the first read).
    """

    def __init__(self, path, gray: bool = True):
        self.path = Path(path)
        if not self.path.is_file():
            raise InputNotFoundError(
                f"video {str(self.path)!r} not found; give an existing file as {{video}}", "video"
            )
        self.gray = bool(gray)
        self._cap = None
        self._next = 0  # index of the frame the next read() returns
        self._len = None
        self.decoded = 0
        import cv2

        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise ValueError(f"video {str(self.path)!r} cannot be opened by OpenCV/FFmpeg")
        self.fps = float(cap.get(cv2.CAP_PROP_FPS)) or None
        self.width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        cap.release()

    def __len__(self) -> int:
        if self._len is None:
            self._len = count_frames(self.path)
        return self._len

    @property
    def shape(self) -> tuple:
        """(T, H, W) or (T, H, W, 3)."""
        return (len(self), self.height, self.width) + (() if self.gray else (3,))

    def _open(self):
        import cv2

        if self._cap is None:
            self._cap = cv2.VideoCapture(str(self.path))
            self._next = 0
        return self._cap

    def close(self) -> None:
        """Release the decoder (reopened on the next read)."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_one(self, i: int) -> np.ndarray | None:
        import cv2

        cap = self._open()
        if i < self._next or i - self._next > _MAX_SKIP:
            cap.set(cv2.CAP_PROP_POS_FRAMES, int(i))
            self._next = i
        while self._next < i:
            if not cap.grab():
                return None
            self._next += 1
            self.decoded += 1
        ok, frame = cap.read()
        if not ok:
            return None
        self._next += 1
        self.decoded += 1
        if self.gray:
            return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def __getitem__(self, idx) -> np.ndarray:
        """``reader[i]`` -> one frame; ``reader[[i, j, ...]]`` or a slice -> (n, H, W[, 3]) uint8.

        Indices are read in increasing order (so a clip decodes forward once) and returned in
        the order asked. Frames past the end of the video raise IndexError.
        """
        if isinstance(idx, slice):
            idx = np.arange(*idx.indices(len(self)))
        single = np.ndim(idx) == 0
        rows = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        out = np.empty(
            (len(rows), self.height, self.width) + (() if self.gray else (3,)), dtype=np.uint8
        )
        for k in np.argsort(rows, kind="stable"):
            i = int(rows[k])
            if i < 0:
                raise IndexError(f"video frame {i} < 0 in {str(self.path)!r}")
            frame = self._read_one(i)
            if frame is None:
                raise IndexError(f"video {str(self.path)!r} has no frame {i}")
            out[k] = frame
        return out[0] if single else out

    def __repr__(self) -> str:
        return f"VideoReader({str(self.path)!r}, {self.width}x{self.height}, fps={self.fps})"


def read_video_timestamps(path) -> np.ndarray:
    """Presentation time of every frame of a video, in seconds from the first frame.

    Decodes the whole file once (``grab`` only, no colour conversion).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray, shape (num_video_frames,)
    """
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise ValueError(f"video {str(path)!r} cannot be opened by OpenCV/FFmpeg")
    times = []
    try:
        while cap.grab():
            times.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
    finally:
        cap.release()
    t = np.asarray(times, dtype=np.float64)
    return t - t[0] if t.size else t


def align_video_frames(
    num_frames: int,
    num_video_frames: int,
    timestamps=None,
    video_timestamps=None,
    video_path: str = "the video",
) -> np.ndarray:
    """Which video frame shows each tracked frame.

    Parameters
    ----------
    num_frames : int
        Frames of the recording (keypoints, syllables).
    num_video_frames : int
        Frames of the video.
    timestamps : array_like, shape (num_frames,), optional
        Time of each tracked frame in seconds (any origin; the first one is taken as the
        start of the video).
    video_timestamps : array_like, shape (num_video_frames,), optional
        Time of each video frame in seconds from its first frame
        (:func:`read_video_timestamps`).

    Returns
    -------
    ndarray of int64, shape (num_frames,)
        Video frame index of each tracked frame.

    Raises
    ------
    ValueError
        When the counts differ and there are not timestamps on both sides, or when a
        tracked frame is farther than half a video frame from every video frame.
    """
    num_frames, num_video_frames = int(num_frames), int(num_video_frames)
    if num_frames == num_video_frames:
        return np.arange(num_frames, dtype=np.int64)
    if timestamps is None or video_timestamps is None:
        raise ValueError(
            f"{video_path} has {num_video_frames} frames but the recording has {num_frames}: "
            "refusing to guess which frames go together; give the matching video "
            "(or a recording with timestamps to align by)"
        )
    t = np.asarray(timestamps, dtype=np.float64)
    v = np.asarray(video_timestamps, dtype=np.float64)
    if t.shape != (num_frames,) or v.shape != (num_video_frames,):
        raise ValueError(
            f"timestamps must have shape ({num_frames},) and video_timestamps ({num_video_frames},)"
        )
    t = t - t[0]
    pos = np.clip(np.searchsorted(v, t), 1, max(len(v) - 1, 1))
    left = np.clip(pos - 1, 0, len(v) - 1)
    pos = np.clip(pos, 0, len(v) - 1)
    nearest = np.where(np.abs(v[left] - t) <= np.abs(v[pos] - t), left, pos)
    step = np.median(np.diff(v)) if len(v) > 1 else np.inf
    err = np.abs(v[nearest] - t)
    if np.any(err > step / 2 + 1e-9):
        bad = int(np.argmax(err > step / 2 + 1e-9))
        raise ValueError(
            f"{video_path}: tracked frame {bad} at {t[bad]:.3f} s has no video frame "
            "within half a frame "
            f"({num_video_frames} video frames, {num_frames} tracked); give the matching video"
        )
    return nearest.astype(np.int64)


def write_mp4(path, frames, fps: float, quality: float = 7, preset: str = "veryfast") -> Path:
    """Write frames to an h264 mp4 (yuv420p, plays in browsers), atomically.

    Parameters
    ----------
    path : str or Path
        Output file (``.mp4``); its folder is created.
    frames : iterable of ndarray
        (H, W) grey or (H, W, 3) RGB uint8 frames, all the same shape. Odd sizes are padded
        with one black row/column (yuv420p needs even sizes).
    fps : float
        Frames per second of the movie.
    quality : float, default 7
        imageio-ffmpeg quality, 0 (worst) to 10 (best).
    preset : str, default "veryfast"
        libx264 speed preset; "veryfast" encodes about twice as fast as x264's default
        "medium" at about the same size for these movies.

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        When there are no frames or their shapes differ.
    """
    import imageio_ffmpeg  # noqa: F401 (missing: fail before making the folder)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_atomically(path, suffix=f"-{id(frames)}{path.suffix or '.mp4'}") as tmp:
        _write_frames(tmp, path, frames, fps, quality, preset)
    return path


def _write_frames(tmp: Path, path: Path, frames, fps, quality, preset) -> None:
    """Encode ``frames`` into ``tmp`` (``path`` is named in the messages)."""
    import imageio_ffmpeg

    writer = None
    shape = None
    try:
        for frame in frames:
            frame = np.asarray(frame)
            if frame.dtype != np.uint8:
                raise ValueError(f"frames must be uint8, got {frame.dtype}")
            if shape is None:
                shape = frame.shape
                if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] != 3):
                    raise ValueError(f"frames must be (H, W) or (H, W, 3), got {frame.shape}")
                H, W = frame.shape[:2]
                size = (W + W % 2, H + H % 2)
                writer = imageio_ffmpeg.write_frames(
                    str(tmp),
                    size,
                    pix_fmt_in="gray" if frame.ndim == 2 else "rgb24",
                    fps=float(fps),
                    quality=quality,
                    codec="libx264",
                    macro_block_size=1,
                    ffmpeg_log_level="error",
                    output_params=["-preset", str(preset)],
                )
                writer.send(None)
            elif frame.shape != shape:
                raise ValueError(f"all frames must have the same shape: {shape} then {frame.shape}")
            if H % 2 or W % 2:
                pad = ((0, H % 2), (0, W % 2)) + (((0, 0),) if frame.ndim == 3 else ())
                frame = np.pad(frame, pad)
            writer.send(np.ascontiguousarray(frame))
        if writer is None:
            raise ValueError(f"no frames to write to {str(path)!r}")
    finally:
        if writer is not None:
            writer.close()
