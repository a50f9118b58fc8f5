"""`ethogram ... | head`: a reader that goes away early is not an error.

Python raises BrokenPipeError when the reader of standard output has gone; the command's work
(the results) is done by then, so it exits quietly (code 1, nothing on stderr) as Python's
documentation advises, instead of "ethogram: error: Broken pipe; check the path and the disk".
A broken pipe elsewhere (not standard output) is still a one-line error.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from ethogram.cli import main


def test_fit_into_a_closed_pipe_exits_quietly_with_its_results_written(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", np.cumsum(rng.normal(size=(300, 3)), axis=0))
    out = tmp_path / "fit"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ethogram.cli",
            "fit",
            str(tmp_path / "x.npy"),
            "--fps",
            "30",
            "-o",
            str(out),
            "--states",
            "2",
            "--iters",
            "2",
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # the reader is gone before the summary is printed (as `| head` after its lines)
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=600) == 1
    assert err == b""
    assert (out / "results.h5").is_file() and (out / "results_csv" / "x.csv").is_file()


def test_a_broken_pipe_elsewhere_is_still_an_error(monkeypatch, capfd):
    import ethogram.cli.info as info

    def broken(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(info, "run", broken)
    assert main(["info"]) == 2
    cap = capfd.readouterr()
    assert cap.err == "ethogram: error: Broken pipe; check the path and the disk\n"
