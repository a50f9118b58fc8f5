"""Where a fit of ``ethogram fit`` runs and how it survives a stop: its checkpoint beside the
results (``<stem>.checkpoint.h5``, and the kappa search's), refused when one is found unless
``--resume`` or ``--overwrite`` says what to do with it, and the Dask client of
``--scheduler``; :func:`scale_options` turns these options into the library's
``ExecutionSettings`` and ``CheckpointSettings``.
"""

from __future__ import annotations

import sys


def checkpoint_path(path):
    """The checkpoint of a fit writing ``path``: ``<stem>.checkpoint.h5`` beside it."""
    return path.with_name(path.stem + ".checkpoint.h5")


def check_checkpoint(args, path) -> None:
    """Refuse to start a fit over the checkpoint of an interrupted one unless ``--resume`` (carry
    it on) or ``--overwrite`` (start over) says what to do with it: a plain re-run would
    silently replace hours of EM."""
    from ..pipeline import kappa_checkpoints

    ck = checkpoint_path(path)
    found = [p for p in (ck, *kappa_checkpoints(ck)) if p.is_file()]  # the kappa search's too
    if (
        getattr(args, "checkpoint_every", 0)
        and found
        and not getattr(args, "resume", False)
        and not getattr(args, "overwrite", False)
    ):
        raise FileExistsError(
            f"{str(found[0])!r} holds the checkpoint of an interrupted fit: pass --resume to carry "
            "it on (same inputs and options), or --overwrite to start over and replace it"
        )


def scale_options(args, path) -> dict:
    """Where EM runs and how it survives a stop, from ``--scheduler``, ``--checkpoint-every``,
    ``--resume``: ``{"execution": ExecutionSettings, "checkpoint": CheckpointSettings}``
    (``checkpoint.path`` None under ``--checkpoint-every 0``)."""
    from ..fitting import CheckpointSettings, ExecutionSettings

    every, resume, scheduler = (
        getattr(args, "checkpoint_every", 0),
        getattr(args, "resume", False),
        getattr(args, "scheduler", None),
    )
    if every < 0:
        raise ValueError(
            "--checkpoint-every must be 0 (no checkpoints) or a positive number of iterations, "
            f"got {every}"
        )
    if resume and every == 0:
        raise ValueError("--resume continues from a checkpoint: drop --checkpoint-every 0")
    check_checkpoint(args, path)
    ck = checkpoint_path(path) if every else None
    args.checkpoint_file = ck  # named by the message of an interrupted fit (ethogram.cli.main)
    if ck is not None:
        ck.parent.mkdir(parents=True, exist_ok=True)
        if resume:
            _say_resuming(ck)
    client = None
    if scheduler:
        from ..fitting.distributed import connect

        client = connect(scheduler)
    return dict(
        execution=ExecutionSettings(client=client),
        checkpoint=CheckpointSettings(ck, every=max(every, 1), resume=bool(resume)),
    )


def _say_resuming(ck) -> None:
    """Say which checkpoint a ``--resume`` continues: the fit's, else its kappa search's."""
    from ..pipeline import resumable_checkpoints

    found = resumable_checkpoints(ck)
    print(
        f"resuming from {', '.join(map(str, found))}"
        if found
        else f"no checkpoint at {ck}: starting from the beginning",
        file=sys.stderr,
    )
