"""Helpers for the resume-after-every-checkpoint tests (test_checkpoint.py, test_reseed.py): one
checkpointed fit whose every checkpoint is copied aside as it is written, so that each can be
resumed without re-running the fit up to it, and a fit stopped for real right after a checkpoint.
A copy taken right after the k-th write holds the bits a fit stopped there leaves: the fit is
deterministic and a checkpoint names neither its path nor the moment it was written.
"""

from __future__ import annotations

import shutil

import numpy as np

from ethogram.fitting import checkpoint as ckpt


class Stop(Exception):
    """Raised right after a chosen checkpoint is written."""


def fit_copying_each_checkpoint(monkeypatch, folder, fit):
    """Run ``fit(folder / "whole.h5")`` with each checkpoint copied as it is written.

    Returns
    -------
    result
        What ``fit`` returned.
    list of (str, Path)
        Each checkpoint's phase (``"running"`` or ``"done"``) and its copy
        ``folder / "after<k>.h5"``, in the order written (k from 1).
    """
    real_save = ckpt.save_checkpoint
    copies = []

    def save_and_copy(path, state):
        written = real_save(path, state)
        copy = folder / f"after{len(copies) + 1}.h5"
        shutil.copyfile(path, copy)
        copies.append((state["phase"], copy))
        return written

    monkeypatch.setattr(ckpt, "save_checkpoint", save_and_copy)
    try:
        result = fit(folder / "whole.h5")
    finally:
        monkeypatch.setattr(ckpt, "save_checkpoint", real_save)
    return result, copies


def stop_after(monkeypatch, k, fit, path):
    """Run ``fit(path)`` and stop it (:class:`Stop`) right after its ``k``-th checkpoint."""
    real_save = ckpt.save_checkpoint
    count = [0]

    def save_then_stop(p, state):
        real_save(p, state)
        count[0] += 1
        if count[0] == k:
            raise Stop

    monkeypatch.setattr(ckpt, "save_checkpoint", save_then_stop)
    try:
        try:
            fit(path)
        except Stop:
            return
        raise AssertionError(f"the fit wrote fewer than {k} checkpoints")
    finally:
        monkeypatch.setattr(ckpt, "save_checkpoint", real_save)


def phases_written(monkeypatch, fit):
    """Run ``fit()`` and return it and the phases of the checkpoints it wrote, in order."""
    real_save = ckpt.save_checkpoint
    phases = []
    monkeypatch.setattr(
        ckpt,
        "save_checkpoint",
        lambda p, state: phases.append(state["phase"]) or real_save(p, state),
    )
    try:
        return fit(), phases
    finally:
        monkeypatch.setattr(ckpt, "save_checkpoint", real_save)


def assert_same_checkpoint(a, b):
    """The checkpoint files ``a`` and ``b`` hold the same state: fit (fingerprint, seed),
    model, phase, restart, parameters and EM history."""
    a, b = ckpt.load_checkpoint(a), ckpt.load_checkpoint(b)
    for key in ("fingerprint", "description", "phase", "restart", "finals"):
        assert a[key] == b[key], key
    assert a["params"].keys() == b["params"].keys()
    for k in a["params"]:
        np.testing.assert_array_equal(a["params"][k], b["params"][k], err_msg=k)
    np.testing.assert_array_equal(a["run"].objectives, b["run"].objectives)
