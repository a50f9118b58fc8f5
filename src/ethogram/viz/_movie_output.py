"""Writing a call's movies: rendered in a hidden folder, moved in whole, manifests merged.

Kept apart from choosing and rendering (:mod:`ethogram.viz.movie_files`,
:mod:`ethogram.viz._movie_plan`): the movies are rendered in parallel threads (grid movies in
batches that share a decoding pass) in a hidden folder beside the destination and moved in only when
all are done, so a failure leaves the folder as it was; movies already there are refused unless
``overwrite``; the manifests ``movies.csv`` (one row per movie, :data:`MANIFEST_COLUMNS`),
``instances.csv`` (:data:`INSTANCE_COLUMNS`) and ``skipped.csv`` keep the rows of earlier runs for
other syllables and kinds.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._files import built_beside, written_atomically
from ..errors import OutputExistsError

#: columns of ``movies.csv``, one row per movie
MANIFEST_COLUMNS = [
    "syllable",
    "kind",
    "file",
    "num_instances",
    "usable_instances",
    "all_instances",
    "num_frames",
    "height",
    "width",
    "fps",
    "window",
]


#: columns of ``instances.csv``, one row per instance shown (``video``: its file, grid movies)
INSTANCE_COLUMNS = ["syllable", "kind", "instance", "recording", "start", "stop", "video"]


def write_movies(plan, chosen, counts, names, out_dir, why, num_workers, progress):
    """Render the movies in a hidden folder beside ``out_dir``, then move them in and merge the
    manifests (``movies.csv``, ``instances.csv``, ``skipped.csv``); on failure nothing is left
    behind. Returns the manifest of the movies written."""
    import pandas as pd

    from ._movie_plan import GridBatches
    from .movie_render import render_movies

    kind = plan.kind
    with built_beside(out_dir) as build:
        if plan.kind == "grid":  # the movies of a batch share one pass over each video
            batches = GridBatches(plan, chosen)
            jobs = [
                lambda k=k: plan.write(k, chosen[k], build / names[k], counts[k], batches.take(k))
                for k in sorted(chosen)
            ]
        else:
            jobs = [
                lambda k=k: plan.write(k, chosen[k], build / names[k], counts[k])
                for k in sorted(chosen)
            ]
        rows_out = render_movies(
            jobs, num_workers=num_workers, progress=progress, desc=f"{kind} movies"
        )
        manifest = pd.DataFrame(rows_out, columns=MANIFEST_COLUMNS)
        inst_rows = [
            (k, kind, i, n, a, b, plan.videos.get(n, "") if kind == "grid" else "")
            for k in sorted(chosen)
            for i, (n, a, b) in enumerate(chosen[k])
        ]
        instances = pd.DataFrame(inst_rows, columns=INSTANCE_COLUMNS)
        out_dir.mkdir(exist_ok=True)
        for k in sorted(chosen):  # every movie is complete: move them in, then the manifests
            os.replace(build / names[k], out_dir / names[k])
        _merge_csv(out_dir / "movies.csv", manifest, kind)
        _merge_csv(out_dir / "instances.csv", instances, kind)
        _merge_csv(out_dir / "skipped.csv", why, kind, drop={(k, kind) for k in chosen})
    return manifest


def refuse_existing(out_dir: Path, names, overwrite: bool) -> None:
    """FileExistsError naming the movies of ``names`` already in ``out_dir`` (unless
    ``overwrite``)."""
    if overwrite:
        return
    existing = [n for n in names if (out_dir / n).exists()]
    if existing:
        listed = ", ".join(existing[:3]) + (
            f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        )
        raise OutputExistsError(
            f"{str(out_dir)!r} already holds {listed} from an earlier run; "
            "pass {overwrite:True} to replace "
            "them, or write elsewhere with {out_dir}",
            ("overwrite", "out_dir"),
        )


def _merge_csv(path: Path, new, kind: str, drop=()) -> None:
    """Write ``new`` to ``path``, keeping the rows of earlier runs for other (syllable, kind) pairs
    (and not in ``drop``); an empty table removes the file."""
    import pandas as pd

    table = new
    drop = set(drop)
    if path.is_file():
        try:
            old = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError):
            old = None
        if (
            old is not None
            and {"syllable", "kind"} <= set(old.columns)
            and set(old.columns) <= set(new.columns)
        ):
            old = old.reindex(
                columns=new.columns
            )  # a manifest of an earlier version: its rows kept, new columns empty
            done = set(zip(new["syllable"], new["kind"])) | drop
            keep = [(s, k) not in done for s, k in zip(old["syllable"], old["kind"])]
            table = pd.concat([old[keep], new], ignore_index=True).sort_values(
                ["kind", "syllable"], kind="stable"
            )
    if table.empty:
        if path.is_file():
            path.unlink()
        return
    with written_atomically(path) as tmp:
        table.to_csv(tmp, index=False)
