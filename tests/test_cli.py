"""The ``ethogram`` command end to end: ``demo`` fits the course's two experiments and prints
a summary whose accuracies meet the course's bars; ``info`` reports versions; bad usage exits
with argparse's error code."""

import subprocess
import sys

import pytest

from ethogram.cli import main


def test_demo_runs_and_reports_accuracy():
    proc = subprocess.run([sys.executable, "-m", "ethogram.cli", "demo", "--seed", "0"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "matched accuracy" in line]
    assert len(lines) == 2
    accuracies = [float(line.split()[2]) for line in lines]
    assert accuracies[0] >= 0.9 and accuracies[1] >= 0.95
    assert "fixed points" in proc.stdout


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "ethogram" in out and "numba" in out


def test_bad_usage_exits_with_error():
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
