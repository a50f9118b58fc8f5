"""Checkpoints and resume: a resumed fit ends with the bits of an uninterrupted one.

- a checkpointed fit equals the plain fit (parameters, objectives, restart objectives: ``==``);
- a fit stopped right after *each* of its checkpoints (after the short starts, inside EM,
  after a restart; for the ARHMM some inside an acceleration cycle, whose anchor the
  checkpoint keeps) and resumed in a fresh model ends with the same bits as the
  uninterrupted fit, for an ARHMM with two restarts and a Gaussian HMM that converges (each
  stop is the uninterrupted fit's checkpoint copied as written; one is a real stop, whose file
  holds the same state);
- the file holds what it says (read back with h5py directly: format, version, parameters
  equal to the model's at that moment, history), has no pickled or object data, refuses
  other data, settings or format versions with a named error, and a failure while writing
  leaves the previous checkpoint intact;
- SIGKILL: ``ethogram fit`` killed in the middle of EM and re-run with ``--resume``
  writes the same model as an uninterrupted ``ethogram fit`` (a real subprocess).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from _fit_fixtures import (
    assert_same_checkpoint,
    fit_copying_each_checkpoint,
    phases_written,
    stop_after,
)
from _same_fit import assert_same_fit
from ethogram import HMM
from ethogram.fitting import checkpoint as ckpt


def _sequences(seed=0, lengths=(300, 420, 180), D=2):
    rng = np.random.default_rng(seed)
    out = []
    for T in lengths:
        z = np.repeat(rng.integers(0, 3, T // 20 + 1), 20)[:T]
        x = np.zeros((T, D))
        for t in range(1, T):
            x[t] = 0.7 * x[t - 1] + (z[t] - 1.0) + 0.4 * rng.normal(size=D)
        out.append(x)
    return out


CASES = {
    "arhmm": (
        lambda: HMM(4, "autoregressive", dict(data_dim=2, num_lags=1), kappa=20.0),
        dict(num_iters=14, num_restarts=2, seed=1, tol=0.0),
    ),
    "gaussian": (
        lambda: HMM(3, "gaussian", dict(data_dim=2)),
        dict(num_iters=60, num_restarts=1, seed=2, tol=1e-4),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_resume_after_every_checkpoint_is_bit_identical(case, tmp_path, monkeypatch):
    make, kw = CASES[case]
    sequences = _sequences()
    plain = make()
    r_plain = plain.fit(sequences, progress=False, **kw)
    if case == "gaussian":
        assert r_plain.converged and r_plain.num_iters < kw["num_iters"]  # stops by tolerance

    def fit(path, resume=False, model=None):
        return (model or make()).fit(
            sequences, progress=False, checkpoint=path, checkpoint_every=3, resume=resume, **kw
        )

    # an uninterrupted checkpointed fit is the plain fit; each of its checkpoints is copied as
    # it is written: the file a fit stopped right there leaves (checked for one real stop below),
    # so each stop is resumed without fitting up to it again
    whole = make()
    r_whole, copies = fit_copying_each_checkpoint(
        monkeypatch, tmp_path, lambda path: fit(path, model=whole)
    )
    assert_same_fit(plain, r_plain, whole, r_whole)
    saves = [phase for phase, _ in copies]
    n = len(saves)
    assert n >= 4 and saves.count("done") == kw["num_restarts"]
    real_stop = (n + 1) // 2  # inside EM: stopped for real, by an exception after the write
    mid_cycle = []
    for stop_after_k, (_, copy) in enumerate(copies, start=1):
        path = copy
        if stop_after_k == real_stop:
            path = tmp_path / "stopped.h5"
            stop_after(monkeypatch, real_stop, fit, path)
            assert_same_checkpoint(path, copy)
        with h5py.File(path, "r") as f:
            mid_cycle.append("anchor" in f["run"])
        resumed = make()
        r_resumed, later = phases_written(
            monkeypatch, lambda p=path, m=resumed: fit(p, resume=True, model=m)
        )
        assert_same_fit(plain, r_plain, resumed, r_resumed)
        assert later == saves[stop_after_k:]  # it went on from the checkpoint, not from the start
    if case == "arhmm":  # some stops fell inside an acceleration cycle (its anchor saved)
        assert any(mid_cycle) and not all(mid_cycle)


def test_generator_seed_gives_the_same_fit(tmp_path):
    sequences = _sequences(seed=3)
    make, kw = CASES["arhmm"]
    kw = dict(kw, seed=None)
    a, b = make(), make()
    ra = a.fit(
        sequences,
        progress=False,
        seed=np.random.default_rng(7),
        **{k: v for k, v in kw.items() if k != "seed"},
    )
    rb = b.fit(
        sequences,
        progress=False,
        seed=np.random.default_rng(7),
        checkpoint=tmp_path / "c.h5",
        **{k: v for k, v in kw.items() if k != "seed"},
    )
    assert_same_fit(a, ra, b, rb)


def _walk(group, out):
    for k, v in group.items():
        out.append(v)
        if isinstance(v, h5py.Group):
            _walk(v, out)
    return out


def test_file_contents_and_refusals(tmp_path):
    sequences = _sequences(seed=4)
    make, kw = CASES["arhmm"]
    path = tmp_path / "c.h5"
    model = make()
    res = model.fit(sequences, progress=False, checkpoint=path, checkpoint_every=5, **kw)
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == "ethogram-checkpoint" and f.attrs["format_version"] == 1
        assert f.attrs["phase"] == "done" and f.attrs["restart"] == kw["num_restarts"] - 1
        assert json.loads(f.attrs["description"]) == model.describe()
        np.testing.assert_array_equal(f["finals"][()], res.restart_objectives)
        best = f["best"]
        assert best.attrs["restart"] == res.chosen_restart
        for k, v in model.get_params().items():
            np.testing.assert_array_equal(best["params"][k][()], v)
        np.testing.assert_array_equal(best["run/objectives"][()], res.objectives)
        assert best["run"].attrs["num_iters"] == res.num_iters
        for node in _walk(f, []):  # plain numbers only: nothing pickled, no object arrays
            if isinstance(node, h5py.Dataset):
                assert node.dtype.kind in "fiub", node.name
    # resuming a finished fit does no EM and gives the result again
    again = make()
    r_again = again.fit(sequences, progress=False, checkpoint=path, resume=True, **kw)
    assert_same_fit(model, res, again, r_again)
    # another fit's checkpoint is refused, naming what differs
    with pytest.raises(ValueError, match="its data differ from"):
        make().fit(_sequences(seed=5), progress=False, checkpoint=path, resume=True, **kw)
    with pytest.raises(
        ValueError,
        match=r"its fitting settings \(.*\) differ from",
    ):
        make().fit(
            sequences, progress=False, checkpoint=path, resume=True, **dict(kw, num_iters=15)
        )
    with pytest.raises(ValueError, match="its seed differs from"):
        make().fit(
            sequences, progress=False, checkpoint=path, resume=True, **dict(kw, seed=kw["seed"] + 1)
        )
    with pytest.raises(ValueError, match=r"its model \(states, lags, kappa, priors\) differs"):
        HMM(4, "autoregressive", dict(data_dim=2, num_lags=1), kappa=21.0).fit(
            sequences, progress=False, checkpoint=path, resume=True, **kw
        )
    with pytest.raises(ValueError, match="resume=True needs checkpoint"):
        make().fit(sequences, progress=False, resume=True, **kw)
    with pytest.raises(ValueError, match="checkpoint_every must be a positive integer"):
        make().fit(
            sequences, progress=False, checkpoint=tmp_path / "x.h5", checkpoint_every=0, **kw
        )
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(ValueError, match="format version 99"):
        ckpt.load_checkpoint(path)
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.attrs["format"] = "ethogram-results"
    with pytest.raises(ValueError, match="not an ethogram checkpoint"):
        ckpt.load_checkpoint(tmp_path / "other.h5")
    with pytest.raises(FileNotFoundError):
        ckpt.load_checkpoint(tmp_path / "missing.h5")


def test_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    sequences = _sequences(seed=6)
    make, kw = CASES["arhmm"]
    path = tmp_path / "c.h5"
    make().fit(sequences, progress=False, checkpoint=path, **kw)
    before = ckpt.load_checkpoint(path)
    calls = [0]
    real = ckpt._put_run

    def failing(group, run):
        calls[0] += 1
        raise OSError("disk full")

    monkeypatch.setattr(ckpt, "_put_run", failing)
    state = dict(before, params={k: v + 1.0 for k, v in before["params"].items()})
    with pytest.raises(OSError, match="disk full"):
        ckpt.save_checkpoint(path, state)
    monkeypatch.setattr(ckpt, "_put_run", real)
    assert calls[0] == 1
    after = ckpt.load_checkpoint(path)
    for k in before["params"]:
        np.testing.assert_array_equal(after["params"][k], before["params"][k])
    assert after["run"].objectives == before["run"].objectives


# ---------------------------------------------------------------------- SIGKILL, real processes
def _write_recordings(folder: Path, n=3, T=5000, D=4, seed=0):
    # 3 x 5000 frames: 2 restarts of up to 40 iterations leave the poll below a long window to
    # kill the fit in the middle of EM (3 x 20000 frames took 4x longer for the same check)
    rng = np.random.default_rng(seed)
    folder.mkdir()
    for i in range(n):
        z = np.repeat(rng.integers(0, 5, T // 30 + 1), 30)[:T]
        x = np.zeros((T, D))
        for t in range(1, T):
            x[t] = 0.9 * x[t - 1] + 0.3 * (z[t] - 2.0) + 0.2 * rng.normal(size=D)
        np.save(folder / f"mouse{i}.npy", x)


def _cli(*args):
    return [sys.executable, "-m", "ethogram.cli", *map(str, args)]


def _env():
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _model_params(path):
    with h5py.File(path, "r") as f:
        objectives = np.concatenate([f["fit/objectives"][()], f["fit/restart_objectives"][()]])
        return {
            k: f["model"][k][()] for k in f["model"] if isinstance(f["model"][k], h5py.Dataset)
        }, objectives


def test_sigkill_then_resume_matches_an_uninterrupted_cli_fit(tmp_path, capsys):
    inputs = tmp_path / "in"
    _write_recordings(inputs)
    common = [
        inputs,
        "--format",
        "npy",
        "--fps",
        "30",
        "--states",
        "8",
        "--lags",
        "1",
        # kappa given: what is killed is EM; a kappa search's checkpoints and their resume are
        # test_default_kappa.py's (test_the_search_is_checkpointed_and_resumed), and the search
        # would double the three fits' time here (kappa 0 is what it finds on these data)
        "--kappa",
        "0",
        "--iters",
        "40",
        "--restarts",
        "2",
        "--quiet",
    ]
    from ethogram.cli import main

    # the uninterrupted fit and the resume run in this process, as `ethogram fit` runs them
    # (cli.main); what must be a process of its own is the one killed. The uninterrupted fit
    # is the default `ethogram fit` (a checkpoint every 10 iterations, not the killed fit's
    # every 1: same model, 0.8 s less CPU); the killed one checkpoints every iteration
    assert main([str(a) for a in ("fit", *common, "-o", tmp_path / "whole")]) == 0
    common += ["--checkpoint-every", "1"]
    out = tmp_path / "killed"
    ck = out / "results.checkpoint.h5"
    proc = subprocess.Popen(
        _cli("fit", *common, "-o", out),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                state = ckpt.load_checkpoint(ck)
            except (FileNotFoundError, ValueError, OSError):
                state = None
            if (
                state is not None
                and state["phase"] == "running"
                and (state["restart"] > 0 or state["run"].num_iters >= 2)
            ):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the fit ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "results.h5").exists() and ck.exists()
    killed = ckpt.load_checkpoint(ck)
    assert killed["phase"] == "running"  # work was left: EM had not finished this restart
    capsys.readouterr()
    assert main([str(a) for a in ("fit", *common, "-o", out, "--resume")]) == 0
    assert f"resuming from {ck}" in capsys.readouterr().err
    p_whole, obj_whole = _model_params(tmp_path / "whole" / "results.h5")
    p_res, obj_res = _model_params(out / "results.h5")
    np.testing.assert_array_equal(obj_res, obj_whole)
    assert p_whole.keys() == p_res.keys()
    for k in p_whole:
        np.testing.assert_array_equal(p_res[k], p_whole[k], err_msg=k)
    assert not ck.exists()  # removed once the results are written


def test_another_fit_s_checkpoint_is_refused_in_words():
    """Which parts of a checkpoint differ, in a user's words, with the verb agreeing, and how to
    go on: --overwrite on the command line, resume=False in Python."""
    from ethogram.cli._errors import OPTIONS
    from ethogram.fitting.checkpoint import another_run_error

    one = another_run_error("fit.ckpt.h5", ["description"])
    assert str(one) == (
        "checkpoint 'fit.ckpt.h5' belongs to another fit: its model (states, lags, kappa, "
        "priors) differs from this one's; resume with the same data and settings, or delete the "
        "checkpoint (or resume=False) to start over"
    )
    assert "(or run with --overwrite instead of --resume)" in one.worded(OPTIONS)
    two = another_run_error("fit.ckpt.h5", ["settings", "data", "extra"])
    assert "its fitting settings (iterations, sweeps, tolerance, restarts), data and method or " \
        "stage differ from this one's" in str(two)  # fmt: skip
