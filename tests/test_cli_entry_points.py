"""How the command is started: ``python -m ethogram`` (an environment whose scripts folder is
not on the PATH) and ``ethogram --version``."""

import subprocess
import sys

import pytest

from ethogram.cli import main


def test_python_dash_m_ethogram_is_the_command():
    """``python -m ethogram`` (an environment whose scripts folder is not on the PATH) runs the
    command, as ``python -m ethogram.cli`` does; it failed with "'ethogram' is a package and
    cannot be directly executed"."""
    proc = subprocess.run(
        [sys.executable, "-m", "ethogram", "fit", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: ethogram fit") and "--states" in proc.stdout


def test_version_is_said(capsys):
    """``ethogram --version`` failed with "the following arguments are required: COMMAND"."""
    from ethogram import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"ethogram {__version__}\n"
