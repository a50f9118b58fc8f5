"""Which video goes with which recording: ``--video`` values read, folders matched by name.

Pose files rarely name their video (DeepLabCut's never do), so grid movies of many sessions
need the videos found by name. A folder is searched (with its sub-folders) for video files
whose name, without extension, begins the recording's file name: ``video.mp4`` goes with
``videoDLC_resnet50_openfieldOct30shuffle1_1030000.csv`` and ``session1.avi`` with
``session1.predictions.slp``; the longest such name wins, and a name followed by a digit is
no match (``mouse1`` does not begin ``mouse10_DLC``). This is keypoint-moseq's rule
(``util.find_matching_videos``: the video name is a prefix of the recording name), made
case-insensitive and given that digit boundary. The animals of a multi-animal file
(recordings ``<file>/<animal>``) share its video. ``NAME=PATH`` names one recording's video
(or, with a file name, the video of all its animals); one video file alone serves a single
recording or the animals of a single file. Nothing here opens a video except
:func:`check_video`, which says in one line when a file is not one.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "VIDEO_EXTENSIONS",
    "find_matching_videos",
    "parse_video_args",
    "resolve_videos",
    "check_video",
    "recording_keys",
]

#: file extensions searched for in a video folder (FFmpeg reads them all)
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm")


def _is_prefix(video_stem: str, key: str) -> bool:
    """Whether ``video_stem`` begins ``key`` (case-insensitively) and is not followed by a digit."""
    v, k = video_stem.casefold(), key.casefold()
    if not v or not k.startswith(v):
        return False
    return len(k) == len(v) or not k[len(v)].isdigit()


def list_videos(folder, recursive: bool = True) -> list[Path]:
    """Video files in ``folder`` (and its sub-folders), sorted; hidden ones left out."""
    folder = Path(folder)
    found = folder.rglob("*") if recursive else folder.iterdir()
    out = []
    for p in found:
        rel = p.relative_to(folder).parts
        if (
            p.suffix.lower() in VIDEO_EXTENSIONS
            and not any(s.startswith(".") for s in rel)
            and p.is_file()
        ):
            out.append(p)
    return sorted(out)


def find_matching_videos(keys, video_dir, recursive: bool = True) -> dict:
    """Match recordings to the videos of a folder by name.

    Parameters
    ----------
    keys : mapping of str to sequence of str, or sequence of str
        Per recording, the names to match (tried in order: e.g. the recording's name up to
        its ``/`` and its file's name without extension); a plain sequence of recording names
        uses each name up to its first ``/``.
    video_dir : str or Path
        Folder searched for files with an extension of :data:`VIDEO_EXTENSIONS`.
    recursive : bool, default True
        Search sub-folders too.

    Returns
    -------
    dict of str to Path or None
        The video of each recording, None where no video name begins any of its names.

    Raises
    ------
    NotADirectoryError
        If ``video_dir`` is not a folder.
    ValueError
        If a recording's best match is ambiguous (two files of the same name, e.g. ``a.mp4``
        and ``a.avi``): give that recording's video by ``NAME=PATH``.

    Notes
    -----
    After keypoint-moseq's ``find_matching_videos`` (a video's name must be a prefix of the
    recording name; the longest prefix wins), rewritten: case-insensitive, a prefix followed
    by a digit is no match, ties are refused rather than settled by listing order.
    """
    video_dir = Path(video_dir).expanduser()
    if not video_dir.is_dir():
        raise NotADirectoryError(f"video folder {str(video_dir)!r} is not a folder")
    if not hasattr(keys, "items"):
        keys = {str(k): [str(k).split("/")[0]] for k in keys}
    videos = list_videos(video_dir, recursive)
    out = {}
    for name, names in keys.items():
        out[name] = None
        for key in names:
            hits = [v for v in videos if _is_prefix(v.stem, key)]
            if not hits:
                continue
            longest = max(len(v.stem) for v in hits)
            best = [v for v in hits if len(v.stem) == longest]
            if len(best) > 1:
                listed = ", ".join(str(v.relative_to(video_dir)) for v in best)
                raise ValueError(
                    f"recording {name!r} matches {len(best)} videos in {str(video_dir)!r} "
                    f"({listed}); "
                    f"give its video with --video {name.split('/')[0]}=PATH"
                )
            out[name] = best[0]
            break
    return out


def parse_video_args(values) -> list:
    """Read ``--video`` values: a video file, a folder of videos, or ``NAME=PATH``.

    Parameters
    ----------
    values : str, Path, mapping, or a list of them
        Strings are paths, or ``NAME=PATH`` when they are no existing path and hold ``=``;
        a mapping gives ``{name: path}`` directly.

    Returns
    -------
    list of tuple
        ``("file", Path)``, ``("folder", Path)`` or ``("named", name, Path)``, in order.

    Raises
    ------
    ValueError
        For ``NAME=PATH`` with an empty name or path.
    FileNotFoundError
        For a path (alone or after ``NAME=``) that does not exist.
    """
    if values is None:
        return []
    if isinstance(values, (str, Path)) or hasattr(values, "items"):
        values = [values]
    items = []
    for v in values:
        if hasattr(v, "items"):
            for name, path in v.items():
                items.append(
                    ("named", str(name), _existing(Path(path).expanduser(), f"--video {name}=PATH"))
                )
            continue
        text = str(v)
        p = Path(text).expanduser()
        if p.exists():
            items.append(("folder" if p.is_dir() else "file", p))
        elif "=" in text and not isinstance(v, Path):
            name, path = text.split("=", 1)
            name, path = name.strip(), path.strip()
            if not name or not path:
                raise ValueError(
                    f"--video {text!r}: give NAME=PATH, the recording's name and its video"
                )
            items.append(
                ("named", name, _existing(Path(path).expanduser(), f"--video {name}=PATH"))
            )
        else:
            raise FileNotFoundError(
                f"--video {text!r} not found: give a video file, a folder of videos, or "
                "NAME=PATH for one recording"
            )
    return items


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{what}: video {str(path)!r} not found")
    if path.is_dir():
        raise IsADirectoryError(
            f"{what}: {str(path)!r} is a folder; after NAME= give the video file"
        )
    return path


def recording_keys(rec) -> list[str]:
    """Names a recording's video may be found by: its name up to ``/``, its file's stem."""
    keys = [str(rec.name).split("/")[0]]
    if getattr(rec, "source", None):
        stem = Path(str(rec.source)).stem
        if stem not in keys:
            keys.append(stem)
    return keys


def resolve_videos(recordings, video) -> dict:
    """The video of each recording, from ``video`` and what the readers found.

    Parameters
    ----------
    recordings : list of objects with ``name``, ``source`` and ``video_path``
        :class:`ethogram.results.RecordingResult` or :class:`ethogram.io.Recording`.
    video : None, str, Path, mapping, or a list of them
        As :func:`parse_video_args` reads them. ``NAME=PATH`` wins, then a single file, then
        folders (in order), then the video the recording's reader found (``video_path``).

    Returns
    -------
    dict of str to Path or None
        Per recording name (in order), its video; None where none was found.

    Raises
    ------
    ValueError
        For a NAME matching no recording (the names are listed), one video file given for
        recordings of several files, several files without names, or an ambiguous match.
    """
    recs = list(recordings)
    items = parse_video_args(video)
    out = {r.name: None for r in recs}
    files = [it[1] for it in items if it[0] == "file"]
    if len(files) > 1:
        raise ValueError(
            f"--video names {len(files)} video files without saying whose; give a folder of "
            "videos named "
            "like the recordings, or NAME=PATH for each"
        )
    if files:
        sources = {str(r.name).split("/")[0] for r in recs}
        if len(sources) > 1:
            listed = ", ".join(sorted(sources)[:4]) + (" ..." if len(sources) > 4 else "")
            raise ValueError(
                f"--video names one video but the results hold {len(recs)} recordings of "
                f"{len(sources)} "
                f"files ({listed}); give a folder of videos named like them, or NAME=PATH for each"
            )
        out = {r.name: files[0] for r in recs}
    for folder in [it[1] for it in items if it[0] == "folder"]:
        todo = {r.name: recording_keys(r) for r in recs if out[r.name] is None}
        for name, path in find_matching_videos(todo, folder).items():
            out[name] = path
    named = [it for it in items if it[0] == "named"]
    for _, name, path in named:
        hit = [r.name for r in recs if r.name == name] or [
            r.name for r in recs if name in recording_keys(r)
        ]
        if not hit:
            shown = ", ".join(r.name for r in recs[:6]) + (
                f" and {len(recs) - 6} more" if len(recs) > 6 else ""
            )
            raise ValueError(
                f"--video {name}=PATH: no recording is named {name!r}; the recordings are {shown} "
                "(a file name gives the video of all its animals)"
            )
        for n in hit:
            out[n] = path
    for r in recs:
        if out[r.name] is None and getattr(r, "video_path", None) and Path(r.video_path).is_file():
            out[r.name] = Path(r.video_path)
    return out


def check_video(path, recording: str | None = None):
    """Open a video file and read its first frame, or say in one line why it is not a video.

    Parameters
    ----------
    path : str or Path
    recording : str, optional
        Named in the message.

    Returns
    -------
    (int, int, float or None)
        Width and height in pixels, and the frame rate the file states (None when it states none).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        When FFmpeg (through OpenCV) reads no frame from it (a CSV, a truncated file).
    """
    import cv2

    path = Path(path).expanduser()
    whose = f" for recording {recording!r}" if recording else ""
    if not path.is_file():
        raise FileNotFoundError(
            f"video {str(path)!r}{whose} not found; give an existing file with --video"
        )
    cap = cv2.VideoCapture(str(path))
    try:
        ok = cap.isOpened() and cap.read()[0]
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        fps = float(cap.get(cv2.CAP_PROP_FPS)) if ok else 0.0
    finally:
        cap.release()
    if not ok or min(size) < 1:
        raise ValueError(
            f"{str(path)!r}{whose} is not a video FFmpeg can read (no frame could be decoded); "
            "give the "
            "video the keypoints were tracked on with --video"
        )
    return size[0], size[1], (fps if fps > 0 else None)
