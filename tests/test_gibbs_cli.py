"""``ethogram fit --method gibbs-arhmm | keypoint-slds`` from the command line: checkpoints and
``--resume``, the kappa search, and the options' errors.

On the open-field mouse (2330 frames) with a few sweeps: a fit interrupted right after the n-th
checkpoint says where its work is kept and how to carry it on, a plain re-run refuses that
checkpoint, and ``--resume`` then writes the results of an uninterrupted fit bit for bit (for the
ARHMM, for the keypoint SLDS in its AR-only stage, at the boundary and in its full stage, and for
the ARHMM's kappa search), leaving no checkpoint behind; without ``--kappa`` the ARHMM's kappa
is searched as the EM path's and the fit equals a fit given that kappa; bad options are refused
naming the option.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from ethogram.cli import main
from ethogram.results import load_results

OPENFIELD = "tests/fixtures/openfield/keypoints.csv"


def _fit(out, *extra, quiet=True):
    return [
        "fit", OPENFIELD, "--fps", "30", "--states", "8", "--gibbs-iters", "4", "-o", str(out),
        "--checkpoint-every", "1", *extra, *(["--quiet"] if quiet else []),
    ]  # fmt: skip


def _run(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _model(path):
    with h5py.File(path, "r") as f:
        return {k: f["model"][k][()] for k in f["model"] if isinstance(f["model"][k], h5py.Dataset)}


def assert_same_results(a_path, b_path):
    a, b = load_results(a_path), load_results(b_path)
    for ra, rb in zip(a.recordings, b.recordings, strict=True):
        np.testing.assert_array_equal(ra.syllables, rb.syllables)
    np.testing.assert_array_equal(a.fit["log_joint"], b.fit["log_joint"])
    pa, pb = _model(a_path), _model(b_path)
    assert pa.keys() == pb.keys() and pa
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k], err_msg=k)
    assert a.config["kappa_used"] == b.config["kappa_used"]


def _interrupt_after(monkeypatch, n):
    """Raise KeyboardInterrupt right after the ``n``-th Gibbs checkpoint is written."""
    import ethogram.fitting.gibbs_checkpoint as gc

    real, count = gc.save_run, [0]

    def save_then_interrupt(*args, **kwargs):
        out = real(*args, **kwargs)
        count[0] += 1
        if count[0] == n:
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(gc, "save_run", save_then_interrupt)
    return lambda: monkeypatch.setattr(gc, "save_run", real)


CASES = {  # method options, checkpoint written before the stop, stop after that many saves
    "arhmm": (("--method", "gibbs-arhmm", "--kappa", "1000"), "results.checkpoint.h5", 3),
    # saves: iteration 0, 1, 2, 3 (end of the AR-only stage), then 4, 5, 6, 7 (full stage)
    "slds-ar-only": (
        ("--method", "keypoint-slds", "--kappa", "1000", "--ar-iters", "3"),
        "results.checkpoint.h5",
        2,
    ),
    "slds-boundary": (
        ("--method", "keypoint-slds", "--kappa", "1000", "--ar-iters", "3"),
        "results.checkpoint.h5",
        4,
    ),
    "slds-full": (
        ("--method", "keypoint-slds", "--kappa", "1000", "--ar-iters", "3"),
        "results.checkpoint.h5",
        6,
    ),
    # the search's fits: 4 sweeps, 5 saves each; stop in the second
    "arhmm-search": (("--method", "gibbs-arhmm"), "results.checkpoint.kappa-1.h5", 7),
}


@pytest.mark.parametrize("case", list(CASES))
def test_interrupted_fit_resumes_to_the_uninterrupted_bits(case, tmp_path, capsys, monkeypatch):
    options, kept, stop = CASES[case]
    whole = tmp_path / "whole"
    code, _, err = _run(_fit(whole, *options), capsys)
    assert code == 0, err
    out = tmp_path / "out"
    restore = _interrupt_after(monkeypatch, stop)
    code, _, err = _run(_fit(out, *options), capsys)
    restore()
    assert code == 130 and not (out / "results.h5").exists()
    what = "the kappa search" if "kappa" in kept else "the fit"
    found = sorted(out.glob("results.checkpoint*.h5")) if "kappa" in kept else [out / kept]
    assert (out / kept).is_file()
    assert err.strip().splitlines()[-1] == (
        f"ethogram: interrupted; {what} so far is kept in {', '.join(map(str, found))}: run the "
        "same command with --resume to carry it on (or with --overwrite to start over)"
    )
    code, _, err = _run(_fit(out, *options), capsys)  # a plain re-run keeps the work
    assert code == 2 and "--resume" in err and (out / kept).is_file()
    code, _, err = _run(_fit(out, *options, "--resume"), capsys)
    assert code == 0, err
    assert f"resuming from {found[0]}" in err
    assert_same_results(out / "results.h5", whole / "results.h5")
    assert sorted(out.glob("*checkpoint*")) == []  # removed once the results are written


def test_kappa_search_from_the_command_line(tmp_path, capsys):
    argv = _fit(tmp_path / "auto", "--method", "gibbs-arhmm", "--kappa", "auto", quiet=False)
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    res = load_results(tmp_path / "auto" / "results.h5")
    cfg = res.config
    assert cfg["kappa"] is None and cfg["kappa_search_reached"] and cfg["target_duration"] == 0.4
    curve = cfg["kappa_search"]
    assert curve[0]["kappa"] == 0 and all(row["sweeps"] == 4 for row in curve)
    assert cfg["kappa_used"] in [row["kappa"] for row in curve]
    assert f"kappa search: {cfg['kappa_search_message']}" in out
    assert "the smallest kappa tried that reaches 90%" in cfg["kappa_search_message"]
    # the search's run at the chosen kappa, continued, is the fit at that kappa
    given = tmp_path / "given"
    code, _, err = _run(
        _fit(given, "--method", "gibbs-arhmm", "--kappa", repr(cfg["kappa_used"])), capsys
    )
    assert code == 0, err
    assert_same_results(tmp_path / "auto" / "results.h5", given / "results.h5")
    # no --kappa means the same search
    code, _, err = _run(_fit(tmp_path / "none", "--method", "gibbs-arhmm"), capsys)
    assert code == 0, err
    assert_same_results(tmp_path / "auto" / "results.h5", tmp_path / "none" / "results.h5")


def test_a_search_that_misses_names_the_gibbs_remedy():
    from ethogram.pipeline_gibbs import GIBBS_REMEDY
    from ethogram.stickiness import smallest_kappa

    search = smallest_kappa(lambda k: {"median_duration": 2.0}, 12.0, 1e4, remedy=GIBBS_REMEDY)
    assert not search.reached and search.message.endswith(GIBBS_REMEDY)
    assert "prior_ridge tenfold" not in search.message  # EM's remedy, not the Gibbs methods'
    # the library says the arguments in Python's words; the command in its options
    assert "set kappa yourself" in GIBBS_REMEDY and "method=em" in GIBBS_REMEDY
    assert "--" not in GIBBS_REMEDY
    from ethogram.analysis.diagnostics import _target_missed
    from ethogram.cli._errors import command_words

    said = command_words(_target_missed(search.message), "fit")
    assert said.startswith("kappa search: median duration 2 frames at kappa 0")
    assert said.endswith(
        "set --kappa yourself, fit fewer states (--states), or fit with --method em, whose AR "
        "prior lets kappa act (--prior-ridge)"
    )


@pytest.mark.parametrize(
    "extra, words",
    [
        (("--method", "gibbs-arhmm", "--gibbs-iters", "0"), "--gibbs-iters: must be a whole"),
        (("--method", "keypoint-slds", "--ar-iters", "-1"), "--ar-iters: must be a whole"),
        (("--method", "gibbs-arhmm", "--kappa", "-3"), "--kappa: must be a number >= 0 or 'auto'"),
        (("--method", "gibbs-arhmm", "--kappa", "sticky"), "--kappa: expected a number >= 0"),
    ],
)
def test_bad_values_are_refused_by_the_parser(extra, words, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", OPENFIELD, "--fps", "30", "-o", str(tmp_path / "o"), *extra])
    assert exc.value.code == 2 and words in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, words",
    [
        (("--method", "gibbs-arhmm", "--ar-iters", "5"), "--ar-iters sets the AR-only sweeps"),
        (("--gibbs-iters", "5",), "--gibbs-iters sets the Gibbs sweeps"),
        (("--method", "gibbs-arhmm", "--resume", "--checkpoint-every", "0"), "--resume continues"),
    ],
)  # fmt: skip
def test_options_of_another_method_are_refused(extra, words, tmp_path, capsys):
    code, _, err = _run(["fit", OPENFIELD, "--fps", "30", "-o", str(tmp_path / "o"), *extra],
                        capsys)  # fmt: skip
    assert code == 2 and words in err and not (tmp_path / "o" / "results.h5").exists()


@pytest.mark.parametrize(
    "options",
    [("--method", "gibbs-arhmm", "--kappa", "1000"), ("--method", "keypoint-slds", "--kappa",
                                                       "1000", "--ar-iters", "2")],
    ids=["gibbs-arhmm", "keypoint-slds"],
)  # fmt: skip
def test_scheduler_gives_the_local_bits(options, tmp_path, capsys, monkeypatch):
    """``--scheduler`` runs the local sweeps on a Dask cluster (here in-process): same results."""
    distributed = pytest.importorskip("distributed")
    from ethogram.fitting.distributed import DaskExecutor

    real, calls = DaskExecutor.map, []
    monkeypatch.setattr(DaskExecutor, "map", lambda self, *a: calls.append(1) or real(self, *a))
    code, _, err = _run(_fit(tmp_path / "local", *options), capsys)
    assert code == 0, err
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    ) as cluster:
        argv = _fit(tmp_path / "dask", *options, "--scheduler", cluster.scheduler_address)
        code, _, err = _run(argv, capsys)
    assert code == 0, err
    assert len(calls) >= 5  # every sweep's local steps went to the cluster
    assert_same_results(tmp_path / "dask" / "results.h5", tmp_path / "local" / "results.h5")


def test_the_staged_keypoint_slds_is_the_models_own_fit():
    """The pipeline runs the keypoint SLDS's two stages itself (to checkpoint both in one
    file): the same bits as :meth:`KeypointSLDS.fit` with the same seed and sweeps."""
    from dataclasses import replace

    from ethogram.fitting.settings import CheckpointSettings, ExecutionSettings
    from ethogram.io import read_recordings
    from ethogram.pipeline_gibbs import _keypoint_arrays, _slds_fitter, _slds_model
    from ethogram.prep import Preparation

    rec = read_recordings(OPENFIELD, fps=30)[0]
    rec = replace(rec, data=rec.data[:300], confidence=rec.confidence[:300], timestamps=None)
    prep = Preparation().fit([rec])
    Ys, confs = _keypoint_arrays([rec], prep)
    kw = dict(num_states=6, num_lags=3, fps=30.0, seed=3, progress=False,
              execution=ExecutionSettings())  # fmt: skip
    own = _slds_model(prep, kw, 2000.0)
    ref = own.fit(Ys, confs, num_ar_iters=2, num_full_iters=3, kappa_full=20.0, seed=3,
                  progress=False, marginals_from_last=2)  # fmt: skip
    unseen = [np.zeros(300, bool)]  # no stretch without a point seen: every frame labelled
    got = _slds_fitter(Ys, confs, prep, kw, unseen)(20.0, (2, 3), CheckpointSettings(), last=2)
    run = got["run"]
    assert run.iteration == ref.run.iteration == 5
    assert run.log_joint == ref.run.log_joint
    for k, v in ref.run.params.items():
        np.testing.assert_array_equal(run.params[k], v, err_msg=k)
    for a, b in zip(run.marginals(), ref.marginals, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(got["labels"][0], ref.syllables[0])
    assert got["model"].fit_kappas == own.fit_kappas == (2000.0, 20.0)
