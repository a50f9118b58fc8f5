"""Old names kept after the renames of issue 16 ("one word per concept"): each still works, gives
the same result as the new name bit for bit, and warns with a DeprecationWarning naming the new
name. One test per alias."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

from ethogram import HMM
from ethogram.models.observations import get_observation_class

RNG = np.random.default_rng


def _ar_data(T=300, D=2, seed=0):
    rng = RNG(seed)
    return [
        np.cumsum(rng.standard_normal((T, D)), axis=0) * 0.3 + 4.0,
        rng.standard_normal((120, D)),
    ]


def _fit_params(model, data, **kw):
    model.fit(data, num_iters=8, seed=3, progress=False, **kw)
    return model.get_params()


def _same_params(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], dict):
            _same_params(a[key], b[key])
        elif a[key] is None:
            assert b[key] is None
        else:
            assert np.array_equal(a[key], b[key]), key


@pytest.mark.parametrize("name", ["autoregressive", "robust_autoregressive"])
def test_ar_noise_keyword_is_covariance_type(name):
    data = _ar_data()
    new = HMM(3, name, dict(data_dim=2, num_lags=2, covariance_type="diag"))
    with pytest.warns(DeprecationWarning, match="covariance_type"):
        old = HMM(3, name, dict(data_dim=2, num_lags=2, noise="diag"))
    assert old.observations.covariance_type == "diag"
    _same_params(_fit_params(new, data), _fit_params(old, data))


def test_ar_noise_and_covariance_type_together_is_an_error():
    cls = get_observation_class("autoregressive")
    with pytest.raises(TypeError, match="covariance_type"):
        cls(2, data_dim=2, noise="diag", covariance_type="full")


def test_ar_noise_attribute_reads_covariance_type():
    m = get_observation_class("autoregressive")(2, data_dim=2, covariance_type="tied")
    with pytest.warns(DeprecationWarning, match="covariance_type"):
        assert m.noise == "tied"


def test_course_autoregressive_hmm_noise_keyword():
    from ethogram import AutoregressiveHMM

    data = _ar_data(seed=1)
    new = AutoregressiveHMM(3, 2, 1, covariance_type="tied", seed=0)
    with pytest.warns(DeprecationWarning, match="covariance_type"):
        old = AutoregressiveHMM(3, 2, 1, noise="tied", seed=0)
    _same_params(_fit_params(new, data), _fit_params(old, data))


def test_description_written_with_noise_rebuilds_silently():
    """A results file or checkpoint written before the rename holds ``noise``: reading it back
    is not the user's call, so it gives the same model without a warning."""
    import warnings

    model = HMM(3, "autoregressive", dict(data_dim=2, num_lags=1, covariance_type="diag"))
    model.fit(_ar_data(seed=2), num_iters=4, seed=0, progress=False)
    description = model.describe()
    kwargs = dict(description["observation_kwargs"])
    kwargs["noise"] = kwargs.pop("covariance_type")
    old = dict(description, observation_kwargs=kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        rebuilt = HMM.from_description(old, model.get_params())
    assert rebuilt.describe() == description
    _same_params(rebuilt.get_params(), model.get_params())


def test_models_course_module_is_models_families():
    from ethogram.models import families

    sys.modules.pop("ethogram.models.course", None)
    course = importlib.import_module("ethogram.models.course")
    for name in ("GaussianHMM", "AutoregressiveHMM", "CategoricalHMM", "PoissonHMM"):
        with pytest.warns(DeprecationWarning, match="ethogram.models.families"):
            assert getattr(course, name) is getattr(families, name)
    with pytest.warns(DeprecationWarning, match="ethogram.models.families"):
        from ethogram.models.course import GaussianHMM  # noqa: F401
    with pytest.raises(AttributeError):
        course.no_such_name


def test_fitting_sum_stats_is_sum_sufficient_stats():
    from ethogram.fitting import SufficientStats, sum_stats, sum_sufficient_stats

    rng = RNG(4)
    parts = [
        SufficientStats(
            float(rng.normal()), rng.random(3), rng.random((3, 3)), {"x": rng.random((3, 2))}
        )
        for _ in range(3)
    ]
    new = sum_sufficient_stats(parts)
    with pytest.warns(DeprecationWarning, match="sum_sufficient_stats"):
        old = sum_stats(parts)
    assert old.marginal_ll == new.marginal_ll
    assert np.array_equal(old.expected_transitions, new.expected_transitions)
    assert np.array_equal(old.observations["x"], new.observations["x"])


def test_observations_sum_stats_is_sum_observation_stats():
    from ethogram.models.observations import sum_observation_stats, sum_stats

    m = get_observation_class("gaussian")(2, data_dim=2)
    x = _ar_data(seed=5)
    w = [RNG(i).dirichlet([1, 1], size=len(d)) for i, d in enumerate(x)]
    parts = [m.sufficient_stats(d, p) for d, p in zip(x, w)]
    new = sum_observation_stats(parts)
    with pytest.warns(DeprecationWarning, match="sum_observation_stats"):
        old = sum_stats(parts)
    assert old.keys() == new.keys()
    for key in new:
        assert np.array_equal(old[key], new[key]), key


# ---------------------------------------------------------------- masks= -> mask= (HMM methods)
def _fitted_gaussian():
    model = HMM(3, "gaussian", dict(data_dim=2))
    data = _ar_data(seed=6)
    mask = [np.arange(len(d)) % 7 != 0 for d in data]
    model.fit(data, num_iters=5, seed=0, progress=False)
    return model, data, mask


def _same(a, b):
    if isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif hasattr(a, "expected_states"):
        assert np.array_equal(a.expected_states, b.expected_states)
        assert np.array_equal(a.expected_transitions, b.expected_transitions)
    else:
        assert np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize(
    "method", ["posterior", "predict", "score", "compute_marginal_ll", "aic", "bic"]
)
def test_hmm_inference_masks_keyword_is_mask(method):
    model, data, mask = _fitted_gaussian()
    new = getattr(model, method)(data, mask=mask)
    with pytest.warns(DeprecationWarning, match="mask="):
        old = getattr(model, method)(data, masks=mask)
    _same(new, old)


def test_hmm_fit_masks_keyword_is_mask():
    data = _ar_data(seed=7)
    mask = [np.arange(len(d)) % 5 != 0 for d in data]
    new = HMM(3, "autoregressive", dict(data_dim=2))
    old = HMM(3, "autoregressive", dict(data_dim=2))
    a = new.fit(data, mask=mask, num_iters=6, seed=1, progress=False)
    with pytest.warns(DeprecationWarning, match="mask="):
        b = old.fit(data, masks=mask, num_iters=6, seed=1, progress=False)
    assert np.array_equal(a.objectives, b.objectives)
    _same_params(new.get_params(), old.get_params())


def test_hmm_initialize_masks_keyword_is_mask():
    data = _ar_data(seed=8)
    mask = [np.arange(len(d)) % 3 != 0 for d in data]
    new, old = HMM(3, "gaussian", dict(data_dim=2)), HMM(3, "gaussian", dict(data_dim=2))
    new.initialize(data, mask=mask, seed=2)
    with pytest.warns(DeprecationWarning, match="mask="):
        old.initialize(data, masks=mask, seed=2)
    _same_params(new.get_params(), old.get_params())


# ---------------------------------------------------------------- selection: datas=, masks=
def _selection_call(name, **keywords):
    import ethogram.selection as sel

    model, _, _ = _fitted_gaussian()
    common = dict(num_iters=3, seed=0)
    calls = {
        "median_duration": lambda: sel.median_duration(model, **keywords),
        "changepoint_durations": lambda: sel.changepoint_durations(**keywords),
        "prune_states": lambda: (
            sel.prune_states(model, **keywords, min_usage=0.3, num_iters=3).kept
        ),
        "merge_states": lambda: sel.merge_states(
            model, **keywords, groups=[0, 0, 1], num_iters=3
        ).get_params()["transition_matrix"],
        "stability": lambda: (
            sel.stability(**keywords, num_states=2, model="hmm", num_fits=2, **common).agreement
        ),
        "cross_validate": lambda: (
            sel.cross_validate(
                **keywords, num_states_list=[2], model="hmm", num_restarts=1, **common
            )
            .table["heldout_ll_per_frame"]
            .to_numpy()
        ),
        "find_kappa": lambda: (
            sel.find_kappa(
                **keywords, num_states=2, model="hmm", target_frames=5, max_rounds=1, **common
            ).kappa
        ),
    }
    return calls[name]()


SELECTION = [
    "median_duration",
    "changepoint_durations",
    "prune_states",
    "merge_states",
    "stability",
    "cross_validate",
    "find_kappa",
]


@pytest.mark.parametrize("name", SELECTION)
def test_selection_datas_and_masks_keywords_are_data_and_mask(name):
    data = _ar_data(seed=9)
    mask = [np.arange(len(d)) % 11 != 0 for d in data]
    new = _selection_call(name, data=data, mask=mask)
    with pytest.warns(DeprecationWarning) as caught:
        old = _selection_call(name, datas=data, masks=mask)
    said = " ".join(str(w.message) for w in caught)
    assert "data=" in said and "mask=" in said
    _same(new, old)


def test_whitening_fit_datas_and_masks_keywords():
    from ethogram.prep.whitening import Whitening

    data = _ar_data(seed=10)
    mask = [np.arange(len(d)) % 4 != 0 for d in data]
    new = Whitening.fit(data=data, mask=mask)
    with pytest.warns(DeprecationWarning) as caught:
        old = Whitening.fit(datas=data, masks=mask)
    said = " ".join(str(w.message) for w in caught)
    assert "data=" in said and "mask=" in said
    assert np.array_equal(new.mean, old.mean) and np.array_equal(new.chol, old.chol)


# ---------------------------------------------------------------- fitting: datas= -> sequences=
def _em_inputs():
    model = HMM(3, "gaussian", dict(data_dim=2))
    sequences, masks, _ = model._prepare(_ar_data(seed=11))
    model.initialize(sequences, seed=0)
    return model, sequences, masks


def test_e_step_datas_keyword_is_sequences():
    from ethogram.fitting import e_step

    model, sequences, masks = _em_inputs()
    new = e_step(model, sequences=sequences, masks=masks)
    with pytest.warns(DeprecationWarning, match="sequences="):
        old = e_step(model, datas=sequences, masks=masks)
    assert new.marginal_ll == old.marginal_ll
    assert np.array_equal(new.expected_transitions, old.expected_transitions)


def test_run_em_datas_keyword_is_sequences():
    import copy

    from ethogram.fitting import run_em

    model, sequences, masks = _em_inputs()
    twin = copy.deepcopy(model)
    new = run_em(model, sequences=sequences, masks=masks, num_iters=4, progress=False)
    with pytest.warns(DeprecationWarning, match="sequences="):
        old = run_em(twin, datas=sequences, masks=masks, num_iters=4, progress=False)
    assert np.array_equal(new.objectives, old.objectives)
    _same_params(model.get_params(), twin.get_params())


def test_best_start_datas_keyword_is_sequences():
    import copy

    from ethogram.fitting import best_start

    model, sequences, masks = _em_inputs()
    twin = copy.deepcopy(model)

    def run(m, **kw):
        rngs = [RNG(0), RNG(1)]
        return best_start(
            m,
            **kw,
            masks=masks,
            initialize=lambda r: m.initialize(sequences, seed=r),
            rngs=rngs,
            start_iters=2,
            progress=False,
        )

    new = run(model, sequences=sequences)
    with pytest.warns(DeprecationWarning, match="sequences="):
        old = run(twin, datas=sequences)
    assert np.array_equal(new.objectives, old.objectives)


def test_data_fingerprint_datas_keyword_is_sequences():
    from ethogram.fitting.checkpoint import data_fingerprint

    _, sequences, masks = _em_inputs()
    new = data_fingerprint(sequences=sequences, masks=masks)
    with pytest.warns(DeprecationWarning, match="sequences="):
        assert data_fingerprint(datas=sequences, masks=masks) == new


def test_reseed_dead_states_datas_keyword_is_sequences():
    import copy

    from ethogram.fitting import e_step
    from ethogram.fitting.reseed import Reseeding, reseed_dead_states

    model, sequences, masks = _em_inputs()
    stats = e_step(model, sequences, masks)
    n = np.sort(stats.expected_initial * 0 + stats.expected_transitions.sum(axis=1))
    policy = Reseeding(num_iters=10, seed=0, min_frames=float(n[0] + n[1]) / 2)  # one is "dead"
    twin = copy.deepcopy(model)
    new = reseed_dead_states(
        model,
        sequences=sequences,
        masks=masks,
        stats=stats,
        policy=policy,
        iteration=0,
        objective=0.0,
    )
    with pytest.warns(DeprecationWarning, match="sequences="):
        old = reseed_dead_states(
            twin,
            datas=sequences,
            masks=masks,
            stats=stats,
            policy=policy,
            iteration=0,
            objective=0.0,
        )
    assert len(new) == len(old) == 1
    _same_params(model.get_params(), twin.get_params())


def test_checkpoint_written_with_noise_resumes(tmp_path):
    """A checkpoint written before the rename holds ``noise`` in its model description: resuming
    it is the same fit (not "another fit"), with the same bits."""
    import json

    import h5py

    data = _ar_data(seed=12)
    path = tmp_path / "fit.h5"

    def model():
        return HMM(2, "autoregressive", dict(data_dim=2, covariance_type="diag"))

    first = model()
    kw = dict(num_iters=4, seed=0, progress=False, checkpoint_every=1)
    a = first.fit(data, checkpoint=path, **kw)
    with h5py.File(path, "r+") as f:
        fingerprint = json.loads(f.attrs["fingerprint"])
        kwargs = fingerprint["description"]["observation_kwargs"]
        kwargs["noise"] = kwargs.pop("covariance_type")
        f.attrs["fingerprint"] = json.dumps(fingerprint, sort_keys=True)
    again = model()
    b = again.fit(data, checkpoint=path, resume=True, **kw)
    assert np.array_equal(a.objectives, b.objectives)
    _same_params(first.get_params(), again.get_params())


def test_run_gibbs_datas_keyword_is_sequences():
    """run_gibbs(datas=...) is run_gibbs(sequences=...), with a DeprecationWarning."""
    from ethogram.fitting import GibbsSettings
    from ethogram.fitting.gibbs import run_gibbs
    from ethogram.models import StickyHDPARHMM

    rng = np.random.default_rng(0)
    settings = GibbsSettings(num_iters=3)

    def run(**data):
        model = StickyHDPARHMM(data_dim=2, num_states=4)
        xs, ms = model.clean([rng_data], None)
        init = lambda r: model.initialize(xs, ms, r, "prior")  # noqa: E731
        key = "sequences" if "sequences" in data else "datas"
        return run_gibbs(model, masks=ms, settings=settings, seed=1, initialize=init,
                         progress=False, **{key: xs})  # fmt: skip

    rng_data = rng.standard_normal((60, 2))
    new = run(sequences=True)
    with pytest.warns(DeprecationWarning, match="sequences"):
        old = run(datas=True)
    assert np.array_equal(new.log_joint, old.log_joint)
    for a, b in zip(new.local_states, old.local_states):
        assert np.array_equal(a["syllables"], b["syllables"])
