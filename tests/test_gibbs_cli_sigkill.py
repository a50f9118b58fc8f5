"""SIGKILL: ``ethogram fit --method keypoint-slds`` killed in its full stage (real processes)
and re-run with ``--resume`` writes the results of an uninterrupted fit, bit for bit.

The in-process interruptions of every stage are in ``test_gibbs_cli.py``; this one kills a
real process at an arbitrary moment (the checkpoint is written atomically), so it costs three
interpreter starts and is marked ``slow``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from test_gibbs_cli import OPENFIELD, assert_same_results

AR_ITERS = 5


def _cli(out, *extra):
    return [
        sys.executable, "-m", "ethogram.cli", "fit", OPENFIELD, "--fps", "30", "--method",
        "keypoint-slds", "--kappa", "1000", "--ar-iters", str(AR_ITERS), "--gibbs-iters", "150",
        "--states", "8", "--quiet", "--checkpoint-every", "1", "-o", str(out), *extra,
    ]  # fmt: skip


def _env():
    return dict(os.environ, OMP_NUM_THREADS="1")


def _in_full_stage(ck) -> bool:
    from ethogram.fitting.gibbs_checkpoint import load_run

    try:
        run, fingerprint = load_run(ck)
    except (FileNotFoundError, ValueError, OSError, KeyError):
        return False
    return fingerprint["extra"].get("stage") == 1 and run.iteration >= AR_ITERS + 3


@pytest.mark.slow
def test_sigkill_in_the_full_stage_then_resume_matches_an_uninterrupted_fit(tmp_path):
    whole = subprocess.run(
        _cli(tmp_path / "whole"), env=_env(), capture_output=True, text=True, timeout=600
    )
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "killed"
    ck = out / "results.checkpoint.h5"
    proc = subprocess.Popen(
        _cli(out), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None and not _in_full_stage(ck):
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
    resumed = subprocess.run(
        _cli(out, "--resume"), env=_env(), capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {ck}" in resumed.stderr
    assert_same_results(out / "results.h5", tmp_path / "whole" / "results.h5")
    assert not ck.exists()
