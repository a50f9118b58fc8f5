"""Checkpoints of a running fit: the file that lets it resume exactly where it stopped.

:func:`ethogram.fitting.restarts.fit_restarts` runs a fit in chunks of
``CheckpointSettings.every`` EM iterations and, after each chunk, after the short starts and
after each restart, writes the state needed to continue to one HDF5 file (format
``"ethogram-checkpoint"``, :data:`FORMAT_VERSION`, no pickle) with a fingerprint of the settings,
the model and the data, written beside the path and renamed into place so that a fit killed at
any moment leaves the previous checkpoint intact; a resumed fit ends with the same bits as an
uninterrupted one. What the file holds: docs/design-notes.md, "fitting/checkpoint.py".
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from .._deprecation import renamed_keywords
from .._hdf5 import open_checked, write_atomically
from .em import EMRun
from .reseed import ReseedEvent
from .stats import SufficientStats

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "data_fingerprint",
    "get_arrays",
    "load_checkpoint",
    "open_checked",
    "put_arrays",
    "resolve_seed",
    "save_checkpoint",
    "write_atomically",
]

#: the value of the root attribute ``format``
FORMAT = "ethogram-checkpoint"
#: the layout version this code writes and reads
FORMAT_VERSION = 1


def resolve_seed(seed) -> int:
    """The integer entropy from which a fit derives all its random generators.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        As given to :meth:`ethogram.HMM.fit`. A generator is drawn from exactly as
        :func:`~ethogram.fitting.em.spawn_seeds` does; None draws fresh entropy.

    Returns
    -------
    int
        ``spawn_seeds(resolve_seed(seed), n)`` yields the generators ``spawn_seeds(seed, n)``
        would.

    Raises
    ------
    TypeError
        For any other type.
    """
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63))
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    raise TypeError(
        "seed must be a non-negative int, a numpy Generator or None to fit with checkpoints, "
        f"got {seed!r}"
    )


@renamed_keywords(datas="sequences")
def data_fingerprint(sequences, masks) -> str:
    """A hash (BLAKE2b, 128 bits, hex) of the sequences and masks: shapes, dtypes and bytes.

    Parameters
    ----------
    sequences : list of array_like
    masks : list of (array_like of bool or None)

    Returns
    -------
    str
    """
    h = hashlib.blake2b(digest_size=16)
    for d, m in zip(sequences, masks):
        d = np.ascontiguousarray(np.asarray(d))
        h.update(f"{d.shape}{d.dtype.str}".encode())
        h.update(d.view(np.uint8).reshape(-1) if d.size else b"")
        h.update(b"none" if m is None else np.packbits(np.asarray(m, dtype=bool)).tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------- the file
def put_arrays(group, arrays: dict) -> None:
    """Write a dict of arrays as datasets of an HDF5 group (one dataset per key)."""
    for k, v in arrays.items():
        group.create_dataset(k, data=np.asarray(v))


def get_arrays(group) -> dict:
    """Read every dataset of an HDF5 group into a dict of arrays (keys sorted)."""
    return {k: group[k][()] for k in group}


def _put_run(group, run: EMRun) -> None:
    group.create_dataset("objectives", data=np.asarray(run.objectives, dtype=np.float64))
    group.create_dataset("marginal_lls", data=np.asarray(run.marginal_lls, dtype=np.float64))
    group.attrs["num_iters"] = int(run.num_iters)
    group.attrs["converged"] = bool(run.converged)
    group.attrs["num_e_steps"] = int(run.num_e_steps)
    group.attrs["cycle_step"] = int(run.cycle_step)
    if run.anchor is not None:
        put_arrays(group.create_group("anchor"), run.anchor)
    if run.reseeds:
        group.attrs["reseeds"] = json.dumps([e.to_dict() for e in run.reseeds])
    s = run.last_stats
    if s is not None:
        g = group.create_group("last_stats")
        g.attrs["marginal_ll"] = float(s.marginal_ll)
        g.attrs["num_sequences"] = int(s.num_sequences)
        g.attrs["num_frames"] = int(s.num_frames)
        g.create_dataset("expected_initial", data=s.expected_initial)
        g.create_dataset("expected_transitions", data=s.expected_transitions)
        put_arrays(g.create_group("observations"), s.observations)


def _get_run(group) -> EMRun:
    stats = None
    if "last_stats" in group:
        g = group["last_stats"]
        stats = SufficientStats(
            float(g.attrs["marginal_ll"]),
            g["expected_initial"][()],
            g["expected_transitions"][()],
            get_arrays(g["observations"]),
            int(g.attrs["num_sequences"]),
            int(g.attrs["num_frames"]),
        )
    reseeds = (
        [ReseedEvent.from_dict(d) for d in json.loads(group.attrs["reseeds"])]
        if "reseeds" in group.attrs
        else []
    )
    return EMRun(
        [float(x) for x in group["objectives"][()]],
        [float(x) for x in group["marginal_lls"][()]],
        bool(group.attrs["converged"]),
        int(group.attrs["num_iters"]),
        stats,
        reseeds,
        get_arrays(group["anchor"]) if "anchor" in group else None,
        int(group.attrs.get("num_e_steps", 0)),
        int(group.attrs.get("cycle_step", 0)),
    )


def save_checkpoint(path, state: dict) -> Path:
    """Write a checkpoint atomically (``<path>.tmp-<pid>``, fsync, ``os.replace``).

    Parameters
    ----------
    path : str or Path
    state : dict
        Keys ``fingerprint`` (dict, JSON-able), ``description`` (dict), ``restart`` (int),
        ``phase`` (``"running"`` or ``"done"``), ``params`` (dict of arrays), ``run``
        (EMRun), ``finals`` (list of float), ``best`` (None or ``(restart, EMRun, params)``).

    Returns
    -------
    Path
    """

    def fill(f):
        f.attrs["fingerprint"] = json.dumps(state["fingerprint"], sort_keys=True)
        f.attrs["description"] = json.dumps(state["description"], sort_keys=True)
        f.attrs["restart"] = int(state["restart"])
        f.attrs["phase"] = str(state["phase"])
        put_arrays(f.create_group("params"), state["params"])
        _put_run(f.create_group("run"), state["run"])
        f.create_dataset("finals", data=np.asarray(state["finals"], dtype=np.float64))
        if state["best"] is not None:
            r, run, params = state["best"]
            g = f.create_group("best")
            g.attrs["restart"] = int(r)
            put_arrays(g.create_group("params"), params)
            _put_run(g.create_group("run"), run)

    return write_atomically(path, FORMAT, FORMAT_VERSION, fill)


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns
    -------
    dict
        The keys of :func:`save_checkpoint`'s ``state``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not an ethogram checkpoint or has another format version.
    """
    with open_checked(path, FORMAT, FORMAT_VERSION) as f:
        best = None
        if "best" in f:
            g = f["best"]
            best = (int(g.attrs["restart"]), _get_run(g["run"]), get_arrays(g["params"]))
        return {
            "fingerprint": json.loads(f.attrs["fingerprint"]),
            "description": json.loads(f.attrs["description"]),
            "restart": int(f.attrs["restart"]),
            "phase": str(f.attrs["phase"]),
            "params": get_arrays(f["params"]),
            "run": _get_run(f["run"]),
            "finals": [float(x) for x in f["finals"][()]],
            "best": best,
        }


#: what each part of a checkpoint's fingerprint is, in a user's words
_FINGERPRINT_WORDS = {
    "settings": "fitting settings (iterations, sweeps, tolerance, restarts)",
    "data": "data",
    "description": "model (states, lags, kappa, priors)",
    "extra": "method or stage",
    "seed": "seed",
}


def another_run_error(path, differ) -> Exception:
    """The error for a checkpoint written by another fit: which parts differ, in words, and the
    two ways on (resume with the same data and settings, or start over).

    Parameters
    ----------
    path : str or Path
        The checkpoint.
    differ : list of str
        Parts of its fingerprint that differ: "settings", "data", "description", "extra",
        "seed".

    Returns
    -------
    ethogram.errors.ArgumentError
        Naming ``resume`` (the command says ``--overwrite`` for ``resume=False``).
    """
    from ..errors import ArgumentError

    words = [_FINGERPRINT_WORDS.get(k, k) for k in differ]
    parts = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    verb = (
        "differs"
        if len(differ) == 1 and differ[0] in ("description", "extra", "seed")
        else "differ"
    )
    return ArgumentError(
        f"checkpoint {str(path)!r} belongs to another fit: its {parts} {verb} from this one's; "
        "resume with the same data and settings, or delete the checkpoint (or {resume:False}) "
        "to start over",
        "resume",
    )
