"""Shared test fixtures: the recordings the tests read, shipped with them or written here.

``DATA`` (tests/fixtures) holds excerpts of the real recordings whose licences allow a copy
(openfield, jabs, flies; licences and provenance beside them, ``fixtures/PROVENANCE.txt``); its
``openfield/keypoints.csv`` and ``video.mp4`` link to the copies shipped in the package. The
moseq2 files may not be copied: ``moseq2_dir`` writes a synthetic project in moseq2's layout
(tests/_moseq_files.py). The full recordings in ../shared/data are read only by the few tests
marked ``needs_shared``, which compare with what moseq2 itself computed on its real recording.
"""

import os
from pathlib import Path

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs one worker per core: each worker computes on one thread (ethogram's pool,
    # OpenBLAS, OpenMP), set before numpy loads, else the workers' threads fight for the cores
    # (3x slower on 2 cores). Tests of threading pass num_threads themselves.
    for _name in (
        "ETHOGRAM_NUM_THREADS",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
    ):
        os.environ.setdefault(_name, "1")

import pytest

#: the recordings every test can read (excerpts; see fixtures/PROVENANCE.txt)
DATA = Path(__file__).resolve().parent / "fixtures"

#: ../shared/data beside the repository (absent on a fresh machine)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

needs_shared = pytest.mark.skipif(
    not SHARED.exists(), reason=f"compares with moseq2's real files, not found at {SHARED}"
)


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory):
    """The bad-input catalogue's files (tests/_bad_inputs.py), written once per session."""
    from _bad_inputs import write_inputs

    return write_inputs(tmp_path_factory)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder of shipped recordings (openfield, jabs, flies)."""
    return DATA


@pytest.fixture(scope="session")
def moseq2_dir(tmp_path_factory) -> Path:
    """A synthetic moseq2 project in moseq2's layout, written once per session (read only)."""
    from _moseq_files import write_moseq2_project

    return write_moseq2_project(tmp_path_factory.mktemp("data") / "moseq2")


def undrawn_report_plots(monkeypatch) -> None:
    """Reports written with ``monkeypatch`` in force draw none of their plots: for tests of the
    page's text (its warnings, tables, captions, configuration). The page is built from the list
    of plot jobs, not from the drawn files, so its HTML is the same; the drawing (about 2 s of
    CPU per report) and the plots' links are checked in test_report.py."""
    from ethogram.viz import report

    monkeypatch.setattr(report, "run_plot_jobs", lambda *args, **kwargs: None)


@pytest.fixture()
def no_report_plots(monkeypatch) -> None:
    """The reports this test writes draw no plots (:func:`undrawn_report_plots`)."""
    undrawn_report_plots(monkeypatch)
