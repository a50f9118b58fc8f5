"""Progress on a terminal and in a log (ethogram._progress): a bar on a terminal; on any other
stream, when shown, one plain line per interval and nothing for short work; the command shows it
unless --quiet, the library only on a terminal unless asked."""

import io
import time

import pytest

from ethogram import _progress
from ethogram._progress import progress_bar
from ethogram.cli import main

OPENFIELD = "tests/fixtures/openfield/keypoints.csv"


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _count(stream, progress, steps=8, pause=0.0, **kwargs):
    with progress_bar(steps, "sweeps", progress, stream=stream, **kwargs) as bar:
        for i in range(steps):
            time.sleep(pause)
            bar.update(1)
            bar.set_postfix(log_joint=-i)  # as the fits do after each step
    return stream.getvalue()


def test_a_log_gets_one_plain_line_per_interval(monkeypatch):
    monkeypatch.setattr(_progress, "LOG_INTERVAL_S", 0.05)
    log = io.StringIO()
    t0 = time.perf_counter()
    text = _count(log, True, steps=12, pause=0.02)
    elapsed = time.perf_counter() - t0
    lines = text.splitlines()
    assert "\r" not in text and text.endswith("\n")
    assert lines and all(line.startswith("sweeps:") for line in lines)
    # the first after one interval, then at most one per interval, and the end's state
    assert len(lines) <= elapsed / 0.05 + 1
    assert lines[-1].startswith("sweeps: 100%") and "12/12" in lines[-1]


def test_short_work_writes_nothing_to_a_log():
    assert _progress.LOG_INTERVAL_S >= 10  # a line no more than every ten seconds by default
    assert _count(io.StringIO(), True) == ""


@pytest.mark.parametrize("progress", [None, False])
def test_not_asked_for_nothing_on_a_log(progress, monkeypatch):
    monkeypatch.setattr(_progress, "LOG_INTERVAL_S", 0.0)
    assert _count(io.StringIO(), progress, pause=0.01) == ""


def test_a_terminal_gets_tqdms_bar():
    text = _count(_Terminal(), None)
    assert "\r" in text and "8/8" in text
    assert _count(_Terminal(), False) == ""


def test_a_cleared_bar_leaves_no_blank_line(monkeypatch):
    monkeypatch.setattr(_progress, "LOG_INTERVAL_S", 0.0)
    text = _count(io.StringIO(), True, pause=0.005, leave=False)
    assert text and all(line.strip() for line in text.splitlines())


def test_the_command_writes_progress_lines_to_a_log_unless_quiet(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_progress, "LOG_INTERVAL_S", 0.0)
    fit = ["fit", OPENFIELD, "--fps", "30", "--states", "4", "--iters", "5", "--kappa", "1000"]
    assert main([*fit, "-o", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err
    assert any(line.startswith("EM") and "/5" in line for line in err.splitlines()), err
    assert main([*fit, "-o", str(tmp_path / "b"), "--quiet"]) == 0
    quiet = capsys.readouterr().err.splitlines()
    # what is wrong with the fit is said under --quiet too (5 iterations do not converge)
    assert quiet and all(line.startswith("ethogram: warning: ") for line in quiet), quiet
