"""The Gibbs loop (ethogram.fitting.gibbs): the same bits everywhere, checkpoints, marginals.

- a seed gives the same bits (parameters, syllables, statistics, log joint, marginals) run
  serially, on 1 or 2 threads and on a process pool;
- a run stopped right after each of its checkpoints and resumed in a fresh model ends with
  the bits of the uninterrupted run; so does a run continued with ``start=``;
- the checkpoint holds what it says (no object data), and refuses other data, settings, seeds
  and format versions with named errors;
- marginals: counts of sampled syllables average to probabilities over exactly the last N
  iterations; with fixed parameters (states only) averaged smoother marginals are the exact
  posterior;
- settings are checked.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

import h5py
import numpy as np
import pytest

from _arhmm_data import draw_sequences, small_model
from ethogram.fitting import gibbs_checkpoint as gc
from ethogram.fitting.executors import SerialExecutor, ThreadExecutor
from ethogram.fitting.gibbs import GibbsRun, GibbsSettings
from ethogram.fitting.gibbs_checkpoint import Checkpointing

SETTINGS = GibbsSettings(num_iters=8, marginals_from_last=3)


def _fit(executor=None, settings=SETTINGS, seed=5, **kw):
    sequences, masks, _ = draw_sequences()
    model = small_model()
    fit = model.fit(sequences, masks, settings, seed=seed, executor=executor, progress=False, **kw)
    return model, fit


def assert_same_run(a: GibbsRun, b: GibbsRun):
    assert a.iteration == b.iteration and a.seed_entropy == b.seed_entropy
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k], err_msg=k)
    for k in a.stats:
        np.testing.assert_array_equal(a.stats[k], b.stats[k], err_msg=k)
    for sa, sb in zip(a.local_states, b.local_states, strict=True):
        np.testing.assert_array_equal(sa["syllables"], sb["syllables"])
    assert a.log_joint == b.log_joint
    assert a.marginal_count == b.marginal_count
    for ma, mb in zip(a.marginal_sums or [], b.marginal_sums or [], strict=True):
        np.testing.assert_array_equal(ma, mb)


def test_same_bits_serial_threads_processes():
    _, ref = _fit(SerialExecutor())
    for ex in (ThreadExecutor(1), ThreadExecutor(2)):
        assert_same_run(ref.run, _fit(ex)[1].run)
    with ProcessPoolExecutor(2) as pool:
        assert_same_run(ref.run, _fit(pool)[1].run)
    assert len(ref.log_joint["z"]) == SETTINGS.num_iters + 1


def test_another_seed_gives_another_run():
    a, b = _fit(seed=5)[1], _fit(seed=6)[1]
    assert not np.array_equal(a.run.params["ar_weights"], b.run.params["ar_weights"])


class _Stop(Exception):
    pass


@pytest.mark.parametrize("every", [1, 3])
def test_resume_after_each_checkpoint_is_bit_identical(every, tmp_path, monkeypatch):
    _, ref = _fit(SerialExecutor())
    real = gc.save_run
    written = [0]
    for stop_after in range(1, SETTINGS.num_iters // every + 2):
        path = tmp_path / f"c{every}_{stop_after}.h5"
        written[0] = 0

        def stopping(*a, **k):
            out = real(*a, **k)
            written[0] += 1
            if written[0] == stop_after:
                raise _Stop
            return out

        monkeypatch.setattr(gc, "save_run", stopping)
        ck = Checkpointing(path, every=every, resume=True)
        try:
            _fit(SerialExecutor(), checkpoint=ck)
        except _Stop:
            pass
        monkeypatch.setattr(gc, "save_run", real)
        model, resumed = _fit(SerialExecutor(), checkpoint=ck)
        assert_same_run(ref.run, resumed.run)
        for a, b in zip(ref.syllables, resumed.syllables, strict=True):
            np.testing.assert_array_equal(a, b)


def test_start_continues_a_run_exactly():
    _, ref = _fit(SerialExecutor())
    sequences, masks, _ = draw_sequences()
    model = small_model()
    first = model.fit(
        sequences, masks, GibbsSettings(num_iters=3, marginals_from_last=0), seed=5, progress=False
    )
    # the marginal window depends on num_iters: continue with the final settings
    again = small_model()
    part = again.fit(
        sequences, masks, GibbsSettings(num_iters=3, marginals_from_last=0), seed=5, progress=False
    )
    assert_same_run(first.run, part.run)
    done = again.fit(sequences, masks, SETTINGS, start=part.run, progress=False)
    assert_same_run(ref.run, done.run)


def test_checkpoint_file_content_and_refusals(tmp_path):
    path = tmp_path / "c.h5"
    model, fit = _fit(checkpoint=Checkpointing(path, every=4))
    with h5py.File(path, "r") as f:
        assert f.attrs["format"] == gc.FORMAT and f.attrs["format_version"] == gc.FORMAT_VERSION
        assert int(f.attrs["iteration"]) == SETTINGS.num_iters
        assert json.loads(f.attrs["description"]) == model.describe()
        np.testing.assert_array_equal(f["params/ar_weights"][()], model.ar_weights)
        np.testing.assert_array_equal(
            f["local_states/2/syllables"][()], fit.run.local_states[2]["syllables"]
        )
        np.testing.assert_array_equal(f["log_joint/x"][()], fit.log_joint["x"])

        def no_objects(name, obj):
            assert not (isinstance(obj, h5py.Dataset) and obj.dtype.kind == "O"), name

        f.visititems(no_objects)
    sequences, masks, _ = draw_sequences()
    resume = Checkpointing(path, resume=True)
    with pytest.raises(ValueError, match="its data differ from"):
        small_model().fit(
            [d * 2 for d in sequences], masks, SETTINGS, seed=5, checkpoint=resume, progress=False
        )
    with pytest.raises(
        ValueError,
        match=r"its fitting settings \(.*\) differ from",
    ):
        small_model().fit(
            sequences, masks, GibbsSettings(num_iters=9), seed=5, checkpoint=resume, progress=False
        )
    with pytest.raises(ValueError, match="its seed differs from"):
        small_model().fit(sequences, masks, SETTINGS, seed=6, checkpoint=resume, progress=False)
    with pytest.raises(ValueError, match=r"its model \(states, lags, kappa, priors\) differs"):
        small_model(num_states=7).fit(
            sequences, masks, SETTINGS, seed=5, checkpoint=resume, progress=False
        )
    with pytest.raises(
        ValueError, match="its method or stage differs from"
    ):  # another start: not this run
        small_model().fit(sequences, masks, SETTINGS, seed=5, init="kmeans", checkpoint=resume)
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = 99
    with pytest.raises(ValueError, match="format version 99"):
        gc.load_run(path)
    with pytest.raises(ValueError, match="every must be a positive integer"):
        Checkpointing(path, every=0)


def test_marginals_are_averages_over_the_last_iterations():
    model, fit = _fit()
    assert fit.run.marginal_count == 3
    for m, s in zip(fit.marginals, fit.syllables, strict=True):
        assert m.shape == (len(s), model.num_states)
        np.testing.assert_allclose(m.sum(axis=1), 1.0, rtol=0, atol=1e-12)
        assert set(np.unique(np.round(m * 3, 12))) <= {0.0, 1.0, 2.0, 3.0}
        assert np.all(m[np.arange(len(s)), s] >= 1 / 3 - 1e-12)  # the last sample counts


def test_states_only_smoother_marginals_are_the_exact_posterior():
    model, _ = _fit()
    sequences, masks, _ = draw_sequences()
    before = model.get_params()
    settings = GibbsSettings(
        num_iters=2, marginals_from_last=3, marginals="smoother", states_only=True
    )
    xs, ms = model.clean(sequences, masks)
    from ethogram.fitting.gibbs import run_gibbs

    run = run_gibbs(model, xs, ms, settings, seed=1, progress=False)
    for k, v in before.items():
        np.testing.assert_array_equal(model.get_params()[k], v)  # parameters fixed
    exact = model.predict(sequences, masks, method="marginals")
    for a, b in zip(run.marginals(), exact, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(num_iters=-1), "num_iters"),
        (dict(num_iters=2, marginals_from_last=4), "marginals_from_last"),
        (dict(marginals="mean"), "marginals must be one of"),
        (dict(num_iters=True), "num_iters"),
    ],
)
def test_settings_are_checked(kw, match):
    with pytest.raises(ValueError, match=match):
        GibbsSettings(**kw)


def test_loop_arguments_are_checked():
    from ethogram.fitting.gibbs import run_gibbs

    model = small_model()
    with pytest.raises(ValueError, match="sequences must be a non-empty list"):
        run_gibbs(model, [], [], SETTINGS)
    with pytest.raises(ValueError, match="one mask"):
        run_gibbs(model, [np.zeros((5, 2))], [None, None], SETTINGS)
    with pytest.raises(TypeError, match="settings must be a GibbsSettings"):
        run_gibbs(model, [np.zeros((5, 2))], [None], {"num_iters": 3})
