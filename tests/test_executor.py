"""The executor seam: statistics that add with +, a per-sequence E-step that is a top-level
function of plain data, models rebuilt from their description, and EM on any executor.

- ``SufficientStats`` add field by field (checked against the sums computed by hand), in
  input order, and refuse statistics of another model;
- ``HMM.describe()`` is plain data (it survives a JSON round trip) and
  ``HMM.from_description(describe(), get_params())`` rebuilds a model that scores and fits
  exactly like the original, for every observation model and the course's classes;
- the per-sequence E-step equals the forward-backward posterior and the observation
  statistics computed directly;
- a fit on a ``ProcessPoolExecutor(2)`` gives bit-identical parameters and objectives to
  the serial fit and to the default thread pool (several sequences of different lengths);
- the fitting floor imports no model, and no module of the floor (inference, models,
  fitting) imports another package's private module.
"""

import ast
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from ethogram import (
    HMM,
    AutoregressiveHMM,
    CategoricalHMM,
    GaussianHMM,
    PoissonHMM,
    forward_backward,
)
from ethogram.fitting import (
    SerialExecutor,
    SufficientStats,
    ThreadExecutor,
    e_step,
    sum_sufficient_stats,
)
from ethogram.models.examples import course_spiral_arhmm
from ethogram.models.portable import sequence_stats

SRC = Path(__file__).resolve().parents[1] / "src" / "ethogram"

MODELS = [
    ("gaussian", dict(data_dim=3, covariance_type="full")),
    ("gaussian", dict(data_dim=3, covariance_type="diag", prior=None)),
    ("poisson", dict(data_dim=3)),
    ("categorical", dict(num_classes=4)),
    ("autoregressive", dict(data_dim=2, num_lags=2, covariance_type="diag")),
    ("robust_autoregressive", dict(data_dim=2, num_lags=1, nu=6.0)),
]


def _data(obs, kwargs, T, seed):
    rng = np.random.default_rng(seed)
    if obs == "poisson":
        return rng.poisson(
            rng.choice([1.0, 6.0], size=(T, 1)), size=(T, kwargs["data_dim"])
        ).astype(float)
    if obs == "categorical":
        return rng.integers(0, kwargs["num_classes"], T)
    D = kwargs["data_dim"]
    x = np.cumsum(rng.normal(size=(T, D)), axis=0) * 0.1 + rng.normal(size=(T, D))
    return x


def _stats(seed, keys=("a", "b")):
    rng = np.random.default_rng(seed)
    return SufficientStats(
        float(rng.normal()),
        rng.random(3),
        rng.random((3, 3)),
        {k: rng.random((3, 2)) for k in keys},
        1,
        int(rng.integers(1, 100)),
    )


def test_stats_add_field_by_field_in_order():
    a, b, c = _stats(0), _stats(1), _stats(2)
    total = a + b + c
    assert total.marginal_ll == (a.marginal_ll + b.marginal_ll) + c.marginal_ll
    np.testing.assert_array_equal(
        total.expected_initial, (a.expected_initial + b.expected_initial) + c.expected_initial
    )
    np.testing.assert_array_equal(
        total.expected_transitions,
        (a.expected_transitions + b.expected_transitions) + c.expected_transitions,
    )
    for k in ("a", "b"):
        np.testing.assert_array_equal(
            total.observations[k], (a.observations[k] + b.observations[k]) + c.observations[k]
        )
    assert (
        total.num_sequences == 3 and total.num_frames == a.num_frames + b.num_frames + c.num_frames
    )
    # sum_sufficient_stats and the built-in sum reduce in the same order; operands are untouched
    for other in (sum_sufficient_stats([a, b, c]), sum([a, b, c])):
        np.testing.assert_array_equal(other.observations["a"], total.observations["a"])
        assert other.marginal_ll == total.marginal_ll
    np.testing.assert_array_equal(a.observations["a"], _stats(0).observations["a"])
    with pytest.raises(ValueError, match="different observation models"):
        a + _stats(3, keys=("a", "c"))
    with pytest.raises(ValueError, match="at least one"):
        sum_sufficient_stats([])


@pytest.mark.parametrize(
    "obs,kwargs", MODELS, ids=[m[0] + "-" + str(i) for i, m in enumerate(MODELS)]
)
def test_description_round_trip_rebuilds_the_same_model(obs, kwargs):
    data = _data(obs, kwargs, 400, seed=1)
    model = HMM(3, obs, kwargs, kappa=3.0, transition_alpha=1.5, learn_initial=False)
    model.fit(data, num_iters=3, tol=0.0, seed=0)
    desc = model.describe()
    assert json.loads(json.dumps(desc)) == desc  # plain data only
    clone = HMM.from_description(json.loads(json.dumps(desc)), model.get_params())
    assert type(clone) is HMM and clone.describe() == desc
    assert clone.score(data) == model.score(data)
    assert clone.log_prior() == model.log_prior()
    np.testing.assert_array_equal(clone.predict(data), model.predict(data))
    # the rebuilt model keeps fitting exactly like the original
    a = model.fit(data, num_iters=2, tol=0.0, init="params")
    b = clone.fit(data, num_iters=2, tol=0.0, init="params")
    np.testing.assert_array_equal(a.objectives, b.objectives)


def test_course_classes_are_rebuilt_as_themselves():
    for model in (
        GaussianHMM(3, 2, seed=0),
        AutoregressiveHMM(2, 2, num_lags=2, seed=0),
        CategoricalHMM(2, 3, seed=0),
        PoissonHMM(2, 2, seed=0, learn_transitions=False),
    ):
        clone = HMM.from_description(model.describe(), model.get_params())
        assert type(clone) is type(model)
        assert clone.describe() == model.describe()
        for k, v in model.get_params().items():
            np.testing.assert_array_equal(clone.get_params()[k], v)


def test_description_errors():
    with pytest.raises(ValueError, match="lacks"):
        HMM.from_description({"num_states": 2})
    desc = HMM(2, "gaussian", dict(data_dim=2)).describe()
    with pytest.raises(ValueError, match="model_class"):
        HMM.from_description(dict(desc, model_class="Spline"))
    with pytest.raises(ValueError, match="format"):
        HMM.from_description(dict(desc, format=99))


def test_sequence_e_step_equals_forward_backward_and_model_statistics():
    model = HMM(3, "gaussian", dict(data_dim=2))
    x = np.random.default_rng(2).normal(size=(300, 2))
    mask = np.ones(300, bool)
    mask[40:60] = False
    model.initialize(x, seed=0)
    d, m, _ = model._prepare(x, mask)
    got = sequence_stats(model.get_params(), model.describe(), d[0], m[0])
    ll = model.observations.log_likelihoods(d[0], m[0])
    post = forward_backward(model.initial_probs, model.transition_matrix, ll)
    assert got.marginal_ll == post.marginal_ll
    np.testing.assert_array_equal(got.expected_initial, post.expected_states[0])
    np.testing.assert_array_equal(got.expected_transitions, post.expected_transitions)
    want = model.observations.sufficient_stats(d[0], post.expected_states, m[0])
    for k in want:
        np.testing.assert_array_equal(got.observations[k], want[k])
    assert got.num_frames == 280 and got.num_sequences == 1


def _spiral_sequences():
    _, x = course_spiral_arhmm(3).sample(1500, seed=4)
    return [x[:700], x[700:1000], x[1000:]]


def test_process_pool_fit_is_bit_identical_to_serial_and_threads():
    seqs = _spiral_sequences()
    fits = {}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        for name, kwargs in (
            ("serial", dict(executor=SerialExecutor())),
            ("threads", dict(num_threads=2)),
            ("processes", dict(executor=pool)),
        ):
            model = HMM(3, "autoregressive", dict(data_dim=2, num_lags=1), kappa=10.0)
            result = model.fit(seqs, num_iters=15, seed=3, **kwargs)
            fits[name] = (model.get_params(), result.objectives)
    params, objectives = fits["serial"]
    assert len(objectives) > 2
    for name in ("threads", "processes"):
        other_params, other_objectives = fits[name]
        np.testing.assert_array_equal(other_objectives, objectives)
        assert other_params.keys() == params.keys()
        for k in params:
            np.testing.assert_array_equal(other_params[k], params[k], err_msg=f"{name}: {k}")


def test_e_step_accepts_any_object_with_map():
    class Recording:
        def __init__(self):
            self.calls = 0

        def map(self, fn, iterable):
            items = list(iterable)
            self.calls += len(items)
            return [fn(x) for x in reversed(items)][
                ::-1
            ]  # computed out of order, returned in order

    seqs = _spiral_sequences()
    model = HMM(3, "autoregressive", dict(data_dim=2))
    model.initialize(seqs, seed=0)
    d, m, _ = model._prepare(seqs)
    ex = Recording()
    got = e_step(model, d, m, executor=ex)
    want = e_step(model, d, m, executor=ThreadExecutor(1))
    assert ex.calls == 3 and got.num_sequences == 3
    assert got.marginal_ll == want.marginal_ll
    for k in want.observations:
        np.testing.assert_array_equal(got.observations[k], want.observations[k])


def test_executor_argument_errors():
    x = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(TypeError, match="executor must have a map"):
        HMM(2, "gaussian", dict(data_dim=2)).fit(x, executor=object())
    with pytest.raises(ValueError, match="either executor or num_threads"):
        HMM(2, "gaussian", dict(data_dim=2)).fit(x, executor=SerialExecutor(), num_threads=2)


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [a.name for a in node.names]


def test_fitting_imports_no_model_and_packages_no_private_modules():
    for path in (SRC / "fitting").glob("*.py"):
        for level, module, _ in _imports(path):
            assert not (level >= 2 and module.startswith("models")), f"{path.name} imports {module}"
            assert not (level == 0 and module.startswith("ethogram.models")), (
                f"{path.name} imports {module}"
            )
    offenders = []
    floor = [p for pkg in ("inference", "models", "fitting") for p in (SRC / pkg).rglob("*.py")]
    for path in floor:
        for level, module, _ in _imports(path):
            # from ..pkg._private import x, or from .._private import x: another package's private
            # module (the shared utilities at the bottom of the floors, ethogram._files,
            # _version, _hdf5, _runs, _deprecation and _progress, excepted)
            if module in ("_files", "_version", "_hdf5", "_runs", "_deprecation", "_progress"):
                continue
            if level >= 2 and any(part.startswith("_") for part in module.split(".") if part):
                offenders.append(f"{path.relative_to(SRC)}: from {'.' * level}{module}")
    assert not offenders, offenders
