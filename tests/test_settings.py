"""The settings objects: each field checked where it is made (the error names it), frozen, built
from the old keyword arguments with the same result bit for bit, and one restart driver."""

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from _same_fit import assert_same_fit
from ethogram import HMM, AutoregressiveHMM
from ethogram.fitting import (
    CheckpointSettings,
    EMSettings,
    ExecutionSettings,
    SerialExecutor,
    ThreadExecutor,
    fit_restarts,
)
from ethogram.fitting.settings import KEYWORDS, settings_from_options


def _sequences(seed=0, n=3, T=150):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        z = (np.arange(T) // 25) % 2
        x = np.zeros((T, 2))
        for t in range(1, T):
            x[t] = 0.6 * x[t - 1] + 2.0 * z[t] + 0.3 * rng.normal(size=2)
        out.append(x)
    return out


# --------------------------------------------------------------------------- checks
@pytest.mark.parametrize(
    "cls, kwargs, kind, match",
    [
        (EMSettings, dict(num_iters=-1), ValueError, r"^num_iters must be a non-negative integer"),
        (EMSettings, dict(num_iters=2.5), ValueError, r"^num_iters must be a non-negative integer"),
        (EMSettings, dict(num_iters=True), ValueError, r"^num_iters must be"),
        (EMSettings, dict(tol=-1e-3), ValueError, r"^tol must be a non-negative number"),
        (EMSettings, dict(tol=float("nan")), ValueError, r"^tol must be"),
        (EMSettings, dict(tol="small"), ValueError, r"^tol must be"),
        (EMSettings, dict(num_restarts=0), ValueError, r"^num_restarts must be a positive integer"),
        (
            EMSettings,
            dict(init="kmeans++"),
            ValueError,
            r"^init must be 'kmeans', 'random' or 'params'",
        ),
        (EMSettings, dict(num_starts=0), ValueError, r"^num_starts must be a positive integer"),
        (
            EMSettings,
            dict(start_iters=-2),
            ValueError,
            r"^start_iters must be a non-negative integer",
        ),
        (EMSettings, dict(accelerate=1), TypeError, r"^accelerate must be True or False"),
        (EMSettings, dict(reseed_dead="yes"), TypeError, r"^reseed_dead must be True or False"),
        (EMSettings, dict(init="params", num_restarts=2), ValueError, r"use num_restarts=1"),
        (EMSettings, dict(init="params", num_starts=3), ValueError, r"use num_starts=1"),
        (
            ExecutionSettings,
            dict(num_threads=0),
            ValueError,
            r"^num_threads must be a positive integer",
        ),
        (
            ExecutionSettings,
            dict(num_workers=0),
            ValueError,
            r"^num_workers must be a positive integer",
        ),
        (ExecutionSettings, dict(executor=object()), TypeError, r"^executor must have a map"),
        (
            ExecutionSettings,
            dict(executor=SerialExecutor(), num_threads=2),
            ValueError,
            r"^give either executor or num_threads",
        ),
        (
            ExecutionSettings,
            dict(executor=SerialExecutor(), client=object()),
            ValueError,
            r"^give either client or executor",
        ),
        (
            CheckpointSettings,
            dict(path="c.h5", every=0),
            ValueError,
            r"^every must be a positive integer",
        ),
        (CheckpointSettings, dict(path=3), TypeError, r"^path must be a file path"),
        (
            CheckpointSettings,
            dict(path="c.h5", resume="no"),
            TypeError,
            r"^resume must be True or False",
        ),
        (CheckpointSettings, dict(resume=True), ValueError, r"^resume=True needs path="),
    ],
)
def test_each_field_is_checked_where_it_is_made(cls, kwargs, kind, match):
    with pytest.raises(kind, match=match) as info:
        cls(**kwargs)
    assert info.value.arguments[0] in kwargs or info.value.arguments == ("path",)


def test_settings_are_frozen_and_normalised():
    em = EMSettings(num_iters=np.int64(7), tol=np.float32(0.5))
    assert type(em.num_iters) is int and em.num_iters == 7 and type(em.tol) is float
    with pytest.raises(dataclasses.FrozenInstanceError):
        em.num_iters = 3
    assert EMSettings().starts == 2 and EMSettings(init="params").starts == 1
    assert EMSettings(num_starts=5).starts == 5
    assert CheckpointSettings("a/b.h5").path.name == "b.h5"
    assert ExecutionSettings(num_workers=None).num_workers is None
    assert ExecutionSettings(num_workers=-1).num_workers == -1


def test_executors_of_the_execution_settings():
    ex = ThreadExecutor(1)
    assert ExecutionSettings(executor=ex).sequence_executor() is ex
    default = ExecutionSettings(num_threads=3).sequence_executor()
    assert isinstance(default, ThreadExecutor) and default.num_threads == 3
    assert ExecutionSettings().job_executor() is None


# --------------------------------------------------------------------------- the old keywords
def test_old_keywords_become_settings():
    s = settings_from_options(
        dict(num_iters=5, tol=None, num_threads=2, checkpoint_every=3, resume=True),
        checkpoint="fit.h5",
    )
    assert s.em == EMSettings(num_iters=5)  # None: the default
    assert s.execution == ExecutionSettings(num_threads=2)
    assert s.checkpoint == CheckpointSettings("fit.h5", every=3, resume=True)
    # on top of the settings given
    s = settings_from_options(dict(num_restarts=4), em=EMSettings(tol=1e-3, num_iters=9))
    assert s.em == EMSettings(tol=1e-3, num_iters=9, num_restarts=4)
    assert settings_from_options(dict(num_workers=None)).execution.num_workers is None
    assert set(KEYWORDS) >= {
        "num_iters",
        "tol",
        "num_restarts",
        "init",
        "num_starts",
        "start_iters",
        "accelerate",
        "reseed_dead",
        "num_threads",
        "executor",
        "client",
        "checkpoint",
        "checkpoint_every",
        "resume",
    }


def test_errors_name_the_keyword_as_given():
    with pytest.raises(ValueError, match=r"^checkpoint_every must be a positive integer") as info:
        settings_from_options(dict(checkpoint="c.h5", checkpoint_every=0))
    assert info.value.arguments == ("checkpoint_every",)
    with pytest.raises(ValueError, match=r"^resume=True needs checkpoint="):
        settings_from_options(dict(resume=True))
    with pytest.raises(TypeError, match=r"fit\(\) got an unexpected keyword argument 'num_iter'"):
        settings_from_options(dict(num_iter=5))
    with pytest.raises(TypeError, match=r"^em must be an ethogram.fitting.EMSettings, got dict"):
        settings_from_options({}, em={"num_iters": 5})
    x = _sequences()[0]
    with pytest.raises(
        TypeError, match=r"HMM.fit\(\) got an unexpected keyword argument 'num_workers'"
    ):
        HMM(2, "gaussian", dict(data_dim=2)).fit(x, num_workers=2)


def _ar():
    return HMM(3, "autoregressive", dict(data_dim=2, num_lags=1), kappa=10.0)


def test_old_calls_and_settings_give_the_same_fit_bit_for_bit(tmp_path):
    sequences = _sequences()
    a, b = _ar(), _ar()
    ra = a.fit(
        sequences,
        num_iters=25,
        tol=1e-6,
        num_restarts=3,
        num_starts=3,
        start_iters=1,
        seed=0,
        progress=False,
        num_threads=1,
        accelerate=False,
    )
    rb = b.fit(
        sequences,
        em=EMSettings(
            num_iters=25, tol=1e-6, num_restarts=3, num_starts=3, start_iters=1, accelerate=False
        ),
        execution=ExecutionSettings(num_threads=1),
        seed=0,
        progress=False,
    )
    assert_same_fit(a, ra, b, rb)
    # checkpoints: a path and its keywords, or the settings
    c, d = _ar(), _ar()
    rc = c.fit(
        sequences,
        num_iters=12,
        seed=1,
        progress=False,
        checkpoint=str(tmp_path / "c.h5"),
        checkpoint_every=4,
        reseed_dead=True,
    )
    rd = d.fit(
        sequences,
        em=EMSettings(num_iters=12, reseed_dead=True),
        seed=1,
        progress=False,
        checkpoint=CheckpointSettings(tmp_path / "d.h5", every=4),
    )
    assert_same_fit(c, rc, d, rd)
    # a keyword on top of the settings replaces that field
    e, f = _ar(), _ar()
    re_ = e.fit(
        sequences, em=EMSettings(num_iters=40, tol=1e-3), num_iters=6, seed=2, progress=False
    )
    rf = f.fit(sequences, em=EMSettings(num_iters=6, tol=1e-3), seed=2, progress=False)
    assert_same_fit(e, re_, f, rf)
    assert re_.num_iters <= 6


def test_the_course_calls_keep_working():
    x = _sequences(n=1)[0]
    a = AutoregressiveHMM(2, 2, seed=0)
    lls, posterior = a.fit(x, 15, seed=3)  # the course's positional num_iters
    b = AutoregressiveHMM(2, 2, seed=0)
    rb = b.fit(x, em=EMSettings(num_iters=15), seed=3)
    np.testing.assert_array_equal(lls, rb.lls)
    np.testing.assert_array_equal(posterior.expected_states, rb.posterior.expected_states)


def test_the_driver_is_the_fit():
    sequences = _sequences(seed=4)
    a, b = _ar(), _ar()
    ra = a.fit(sequences, num_iters=10, num_restarts=2, seed=5, progress=False, num_threads=1)
    datas_b, masks_b, _ = b._prepare(sequences)
    out = fit_restarts(
        b,
        datas_b,
        masks_b,
        lambda g, r: b._initialize(datas_b, masks_b, "kmeans", g, r),
        EMSettings(num_iters=10, num_restarts=2),
        seed=5,
        executor=ThreadExecutor(1),
    )
    for k, v in a.get_params().items():
        np.testing.assert_array_equal(v, b.get_params()[k])
    np.testing.assert_array_equal(ra.objectives, out.run.objectives)
    np.testing.assert_array_equal(ra.restart_objectives, out.finals)
    assert ra.chosen_restart == out.restart


def test_an_executor_in_the_settings_gives_the_same_fit():
    sequences = _sequences(seed=6)
    a, b = _ar(), _ar()
    ra = a.fit(sequences, num_iters=8, seed=0, progress=False, num_threads=1)
    with ThreadPoolExecutor(2) as pool:
        rb = b.fit(
            sequences,
            num_iters=8,
            seed=0,
            progress=False,
            execution=ExecutionSettings(executor=pool),
        )
    assert_same_fit(a, ra, b, rb)


# --------------------------------------------------------------------------- the pipeline
def _recordings():
    from ethogram.io import Recording

    return [
        Recording(name=f"r{i}", data=x, kind="features", fps=30.0)
        for i, x in enumerate(_sequences(seed=7, n=2, T=200))
    ]


def test_fit_recordings_takes_the_settings_and_its_old_keywords_alike(tmp_path):
    from ethogram.pipeline import FIT_EM, fit_recordings

    recs = _recordings()
    old = fit_recordings(
        recs,
        num_states=3,
        num_lags=1,
        kappa=5.0,
        num_iters=8,
        num_restarts=2,
        tol=1e-4,
        num_threads=1,
        seed=3,
        progress=False,
    )
    new = fit_recordings(
        recs,
        num_states=3,
        num_lags=1,
        kappa=5.0,
        seed=3,
        progress=False,
        em=dataclasses.replace(FIT_EM, num_iters=8, num_restarts=2, tol=1e-4),
        execution=ExecutionSettings(num_threads=1),
    )
    for a, b in zip(old.recordings, new.recordings):
        np.testing.assert_array_equal(a.syllables, b.syllables)
    np.testing.assert_array_equal(old.fit["objectives"], new.fit["objectives"])
    assert old.config == new.config and new.config["num_restarts"] == 2
    # a field fit_recordings had no keyword for enters the configuration when not the default
    plain = fit_recordings(
        recs,
        num_states=3,
        num_lags=1,
        kappa=5.0,
        seed=3,
        progress=False,
        em=dataclasses.replace(FIT_EM, num_iters=4, accelerate=False),
    )
    assert plain.config["accelerate"] is False and "accelerate" not in new.config
    with pytest.raises(
        TypeError, match=r"fit_recordings\(\) got an unexpected keyword argument 'num_starts'"
    ):
        fit_recordings(recs, num_states=3, kappa=1.0, num_starts=3)


def test_selection_functions_take_the_settings_and_their_old_keywords_alike():
    from ethogram.selection import cross_validate, find_kappa, stability

    sequences = _sequences(seed=8, n=2, T=120)
    kw = dict(observation_kwargs={"num_lags": 1}, seed=1)
    a = cross_validate(sequences, [2], num_restarts=1, num_iters=6, tol=1e-4, **kw)
    b = cross_validate(sequences, [2], num_restarts=1, em=EMSettings(num_iters=6, tol=1e-4), **kw)
    np.testing.assert_array_equal(a.table["heldout_ll_per_frame"], b.table["heldout_ll_per_frame"])
    a = find_kappa(sequences, 2, target_frames=20, num_iters=6, max_rounds=1, **kw)
    b = find_kappa(
        sequences,
        2,
        target_frames=20,
        em=EMSettings(num_iters=6),
        max_rounds=1,
        execution=ExecutionSettings(executor=SerialExecutor()),
        **kw,
    )
    np.testing.assert_array_equal(a.curve["objective"], b.curve["objective"])
    a = stability(sequences, 2, num_fits=2, num_iters=5, **kw)
    b = stability(sequences, 2, num_fits=2, em=EMSettings(num_iters=5), **kw)
    np.testing.assert_array_equal(a.objectives, b.objectives)


def test_the_gibbs_loop_shares_the_checkpoint_settings():
    from ethogram.fitting import Checkpointing

    assert Checkpointing is CheckpointSettings


def test_fit_and_select_take_the_same_preparation_options():
    from ethogram.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command" or a.choices)

    def preparation(command):
        group = next(g for g in sub.choices[command]._action_groups if g.title == "preparation")
        return {(a.dest, a.help) for a in group._group_actions if a.dest != "quiet"}

    assert preparation("fit") == preparation("select")
    assert {d for d, _ in preparation("select")} == {
        "variance",
        "pcs",
        "bodyparts",
        "anterior",
        "posterior",
        "confidence",
    }
