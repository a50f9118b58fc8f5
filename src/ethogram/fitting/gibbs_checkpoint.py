"""Checkpoints of a Gibbs run, and resuming it exactly where it stopped.

:func:`~ethogram.fitting.gibbs.run_gibbs` with a :class:`Checkpointing` (EM's
:class:`~.settings.CheckpointSettings`) writes the whole
state of the run after the initial step, every ``every`` iterations and at the end: the
global parameters, every sequence's local state, the summed statistics, the log joint so far,
the marginals collected so far, the iteration and the seed's entropy. Every draw of iteration
i derives from ``(entropy, i)`` alone, so a run resumed from any checkpoint ends with the same
bits as an uninterrupted one. A fingerprint (settings, model description, a hash of the data
and masks, the seed) is stored and compared on resume, so a checkpoint is never continued on
other data or settings. One HDF5 file (format ``"ethogram-gibbs-checkpoint"``,
:data:`FORMAT_VERSION`), written atomically with the helpers of :mod:`.checkpoint`; no pickle.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .checkpoint import (
    another_run_error,
    data_fingerprint,
    get_arrays,
    open_checked,
    put_arrays,
    resolve_seed,
    write_atomically,
)
from .gibbs_run import GibbsRun
from .settings import CheckpointSettings

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Checkpointing",
    "load_run",
    "open_or_start",
    "read_fingerprint",
    "save_run",
]

#: the value of the root attribute ``format``
FORMAT = "ethogram-gibbs-checkpoint"
#: the layout version this code writes and reads
FORMAT_VERSION = 1


#: where and how often a Gibbs run is checkpointed: EM's :class:`~.settings.CheckpointSettings`
#: (``path``, ``every``, ``resume``; a ``path`` of None means no checkpoints), one class for both
Checkpointing = CheckpointSettings


def _sorted_groups(group) -> list:
    return [group[k] for k in sorted(group, key=int)]


def save_run(path, run: GibbsRun, fingerprint: dict, description: dict) -> Path:
    """Write ``run`` atomically to ``path`` (see the module docstring).

    Returns
    -------
    Path
    """

    def fill(f):
        f.attrs["fingerprint"] = json.dumps(fingerprint, sort_keys=True)
        f.attrs["description"] = json.dumps(description, sort_keys=True)
        f.attrs["iteration"] = int(run.iteration)
        f.attrs["seed_entropy"] = str(run.seed_entropy)
        f.attrs["marginal_count"] = int(run.marginal_count)
        # HDF5 lists groups by name: keep the log joint's order, in which its groups are added
        f.attrs["log_joint_groups"] = json.dumps(list(run.log_joint))
        put_arrays(f.create_group("params"), run.params)
        put_arrays(f.create_group("stats"), run.stats)
        g = f.create_group("local_states")
        for n, state in enumerate(run.local_states):
            put_arrays(g.create_group(str(n)), state)
        put_arrays(
            f.create_group("log_joint"),
            {k: np.asarray(v, np.float64) for k, v in run.log_joint.items()},
        )
        if run.marginal_sums is not None:
            put_arrays(
                f.create_group("marginal_sums"),
                {str(n): s for n, s in enumerate(run.marginal_sums)},
            )

    return write_atomically(path, FORMAT, FORMAT_VERSION, fill)


def _log_joint(f) -> dict:
    """The log joint per group, in the order the run had them (their total is added in it)."""
    groups = get_arrays(f["log_joint"])
    order = json.loads(f.attrs.get("log_joint_groups", "[]")) or sorted(groups)
    return {k: [float(x) for x in groups[k]] for k in order}


def load_run(path) -> tuple[GibbsRun, dict]:
    """Read a checkpoint written by :func:`save_run`.

    Returns
    -------
    run : GibbsRun
    fingerprint : dict

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If it is not a Gibbs checkpoint of this format version.
    """
    with open_checked(path, FORMAT, FORMAT_VERSION, "Gibbs checkpoint") as f:
        sums = None
        if "marginal_sums" in f:
            m = f["marginal_sums"]
            sums = [m[k][()] for k in sorted(m, key=int)]
        run = GibbsRun(
            params=get_arrays(f["params"]),
            local_states=[get_arrays(g) for g in _sorted_groups(f["local_states"])],
            stats=get_arrays(f["stats"]),
            log_joint=_log_joint(f),
            iteration=int(f.attrs["iteration"]),
            seed_entropy=int(f.attrs["seed_entropy"]),
            marginal_sums=sums,
            marginal_count=int(f.attrs["marginal_count"]),
        )
        return run, json.loads(f.attrs["fingerprint"])


def read_fingerprint(path) -> dict:
    """The fingerprint of a checkpoint written by :func:`save_run`, without reading its arrays
    (e.g. the stage of a run in stages, :mod:`.gibbs_stages`).

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`load_run`.
    """
    with open_checked(path, FORMAT, FORMAT_VERSION, "Gibbs checkpoint") as f:
        return json.loads(f.attrs["fingerprint"])


def _differences(saved: dict, fingerprint: dict, seed) -> list:
    differ = [
        k
        for k in ("settings", "data", "description", "extra")
        if json.dumps(saved.get(k), sort_keys=True) != json.dumps(fingerprint[k], sort_keys=True)
    ]
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if str(int(seed)) != saved["seed_entropy"]:
            differ.append("seed")
    return differ


def open_or_start(
    checkpoint: Checkpointing, model, sequences, masks, settings, seed, start, extra=None
):
    """The run to continue (from the checkpoint, or ``start``) and the run's fingerprint.

    Returns
    -------
    run : GibbsRun or None
        The checkpoint's run when resuming, else ``start`` (None: start afresh).
    fingerprint : dict
        Settings, data hash, description, ``extra`` (the caller's, e.g. the starting method)
        and ``seed_entropy`` of the run.

    Raises
    ------
    ValueError
        If the checkpoint belongs to another run (other data, settings, model, extra values
        or seed).
    """
    fingerprint = dict(
        settings=settings.to_dict(),
        data=data_fingerprint(sequences, masks),
        description=model.describe(),
        extra=extra or {},
    )
    path = Path(checkpoint.path)
    if checkpoint.resume and path.exists():
        run, saved = load_run(path)
        differ = _differences(saved, fingerprint, seed)
        if differ:
            raise another_run_error(path, differ)
        return run, saved
    entropy = start.seed_entropy if start is not None else resolve_seed(seed)
    fingerprint["seed_entropy"] = str(entropy)
    return start, fingerprint
