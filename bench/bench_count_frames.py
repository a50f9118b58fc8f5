"""Counting a video's frames: FFmpeg's packets (ethogram) against decoding every frame.

Times, on each video given (default: the shipped open-field video), ethogram's count (FFmpeg
reads the packets of the first video stream without decoding, ``viz._video.count_packets``)
against imageio-ffmpeg's ``count_frames_and_secs`` (FFmpeg decodes every frame), alternating,
and prints both counts, the median CPU of the FFmpeg process (children's user + system) and the
median wall time of each.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path


def _timed(func, path: str):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    count = func(path)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return count, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", help="video files (default: the shipped one)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import imageio_ffmpeg

    import ethogram
    from ethogram.viz._video import count_packets

    videos = args.videos or [str(Path(ethogram.__file__).parent / "data/openfield/video.mp4")]
    ways = {
        "packets (ethogram)": count_packets,
        "decoding (imageio-ffmpeg)": lambda p: imageio_ffmpeg.count_frames_and_secs(p)[0],
    }
    for video in videos:
        runs = {name: [_timed(func, video) for _ in range(1)] for name, func in ways.items()}
        for _ in range(args.rounds - 1):
            for name, func in ways.items():
                runs[name].append(_timed(func, video))
        for name, rows in runs.items():
            cpu = statistics.median(r[1] for r in rows)
            wall = statistics.median(r[2] for r in rows)
            print(f"{video}: {name}: {rows[0][0]} frames, CPU {cpu:.3f} s, wall {wall:.3f} s")


if __name__ == "__main__":
    main()
