"""The blocked FFBS draw (ethogram.inference.ffbs.ffbs_blocked) is the one-pass draw, bit for bit.

- on random problems, masked rows and MoSeq's sticky 100-state matrices, for block sizes from
  1 frame to more than the sequence (T a multiple of the block or not), the blocked draw's
  states, ``log p(x)`` and per-frame path log-likelihoods equal :func:`ffbs`'s exactly;
- where the fused kernel hands over to the exact general path (in the first block or a later
  one) the blocked draw makes the same draw;
- the ARHMM's and the keypoint SLDS's local steps and whole fits give the same bits drawn by
  blocks (budget 0, blocks of 128-384 frames over sequences of several blocks with masked
  frames) as in one pass, also when the general path takes over;
- the budget switch: one pass below the budget, blocks above it;
- memory: a blocked draw of T = 200,000 frames and K = 100 states peaks under a bound made of
  its O(T) vectors and O((T / B + B) K) blocks, far below the one pass's 2 T K float64.
"""

from __future__ import annotations

import threading
import tracemalloc

import numpy as np
import pytest

from _arhmm_data import draw_sequences, small_model
from ethogram.fitting.gibbs import GibbsSettings
from ethogram.inference import ffbs as ffbs_module
from ethogram.inference.ffbs import ffbs, ffbs_blocked, use_blocks
from ethogram.models.gibbs import arhmm as ar
from ethogram.models.gibbs import init_hdp_transitions
from ethogram.models.gibbs import keypoint_slds as kslds


def _problem(rng, T, K, scale=5.0):
    A = rng.dirichlet(np.ones(K) * 0.5, size=K) + 3 * np.eye(K)
    A /= A.sum(axis=1, keepdims=True)
    return rng.dirichlet(np.ones(K)), A, rng.normal(size=(T, K)) * scale


def _rows_of(L):
    def rows(start, stop, out):
        out[:] = L[start:stop]

    return rows


def _same(pi, A, L, seed, block):
    states, mll = ffbs(pi, A, L, seed)
    b_states, b_mll, path = ffbs_blocked(pi, A, _rows_of(L), L.shape[0], seed, block=block)
    np.testing.assert_array_equal(b_states, states)
    assert b_mll == mll
    np.testing.assert_array_equal(path, L[np.arange(len(states)), states])
    return states


@pytest.mark.parametrize("block", [1, 7, 128, 300, 1000, 5000])
def test_blocked_draw_equals_the_one_pass_draw(block):
    rng = np.random.default_rng(block)
    for T, K in [(1000, 9), (1280, 23), (997, 8)]:
        pi, A, L = _problem(rng, T, K)
        L[100:140] = 0.0  # masked frames, across the boundaries of small blocks
        for seed in range(3):
            _same(pi, A, L, seed, block)


def test_blocked_draw_equals_the_one_pass_draw_on_moseq_matrices():
    rng = np.random.default_rng(0)
    A = init_hdp_transitions(rng, 100, 5.7, 1e6, 1e3).transition_matrix
    L = rng.normal(size=(2000, 100)) * 30
    L[500:530] = 0.0
    for block, seed in [(128, 0), (256, 1), (384, 2), (1024, 3)]:
        _same(np.full(100, 0.01), A, L, seed, block)


def _fast_path_status(pi, A, L):
    T, K = L.shape
    kernel = ffbs_module._ffbs_kernels.ffbs_forward_kernel
    return kernel(pi, True, A, L, np.empty((T, K)), np.empty(T), np.empty(T))


def test_hands_over_to_the_exact_path_as_the_one_pass_draw_does():
    rng = np.random.default_rng(3)
    K, T = 4, 700
    pi, A, L = _problem(rng, T, K)
    A0 = A.copy()  # a state can vanish from the prediction: hands over at frame 1
    A0[:, 2] = 0.0
    A0[2] = [0.5, 0.5, 0.0, 0.0]
    A0 /= A0.sum(axis=1, keepdims=True)
    Atiny = np.full((K, K), 1e-160)  # a priori negligible best state at frame 450
    np.fill_diagonal(Atiny, 1.0)
    Atiny /= Atiny.sum(axis=1, keepdims=True)
    Ltiny = np.zeros((T, K))
    Ltiny[450:, 3] = 800.0
    cases = [(pi, A0, L), (np.array([1.0, 0, 0, 0]), Atiny, Ltiny)]
    assert _fast_path_status(*cases[0]) == 1 and _fast_path_status(*cases[1]) == 450
    for p, M, LL in cases:
        for block, seed in [(128, 0), (100, 1), (1, 2)]:
            _same(p, M, LL, seed, block)
    assert _same(*cases[1], 0, 128)[460] == 3  # the evidence wins, after the hand-over


def test_budget_switch():
    assert not use_blocks(1000, 100, budget=2 * 8 * 1000 * 100)
    assert use_blocks(1001, 100, budget=2 * 8 * 1000 * 100)
    default = ffbs_module.MEMORY_BUDGET
    assert default == 256 * 2**20 and ffbs_module.BLOCK_FRAMES % ar.SCORE_ROWS == 0
    assert not use_blocks(default // 1600, 100) and use_blocks(default // 1600 + 1, 100)


def test_rejects_bad_blocks():
    with pytest.raises(ValueError, match="at least 1"):
        ffbs_blocked(np.ones(2) / 2, np.eye(2), _rows_of(np.zeros((5, 2))), 5, block=0)
    with pytest.raises(ValueError, match="multiple of 128"):
        ar.masked_ar_log_likes(
            np.zeros((300, 1)), np.ones(300, bool), np.zeros((3, 2)), np.zeros(2), 1, rows=(5, 9)
        )


# --------------------------------------------------------------------------- local steps


def _long_arhmm():
    """Sequences of 1000, 700 and 300 frames, NaN rows and a mask across block boundaries."""
    sequences, masks, _ = draw_sequences(lengths=(1000, 700, 300), seed=4)
    sequences[0][250:270] = np.nan
    masks[1] = np.ones(700, bool)
    masks[1][380:400] = False
    model = small_model()
    return model, sequences, masks


def _compare_outputs(one, blocked):
    (s1, st1, lj1, m1), (s2, st2, lj2, m2) = one, blocked
    for k in s1:
        np.testing.assert_array_equal(s2[k], s1[k], err_msg=k)
    for k in st1:
        np.testing.assert_array_equal(st2[k], st1[k], err_msg=k)
    assert lj2 == lj1
    if m1 is not None:
        np.testing.assert_array_equal(m2, m1)


@pytest.mark.parametrize("block", [128, 256, 384])
def test_arhmm_local_step_same_bits_by_blocks(monkeypatch, block):
    model, raw, raw_masks = _long_arhmm()
    sequences, masks = model.clean(raw, raw_masks)
    model.initialize(sequences, masks, np.random.default_rng(0))
    lp, desc = model.local_params(), model.describe()
    zero_col = lp["transition_matrix"].copy()  # the general path takes over at frame 1
    zero_col[:, 2] = 0.0
    zero_col /= zero_col.sum(axis=1, keepdims=True)
    general = dict(lp, transition_matrix=zero_col, transition_T=np.ascontiguousarray(zero_col.T))
    monkeypatch.setattr(ar, "BLOCK_FRAMES", block)
    cases = [(lp, desc), (general, desc), (lp, dict(desc, score_dtype="float32"))]
    for params, d in cases:
        for x, m in zip(sequences, masks, strict=True):
            for collect in (None, "samples", "smoother"):
                seed = np.random.SeedSequence(7)
                one = ar.arhmm_local_step(params, d, x, m, None, seed, collect)
                blocked = ar.arhmm_local_step(params, d, x, m, None, seed, collect, budget=0)
                _compare_outputs(one, blocked)


def _counting_blocks(monkeypatch):
    calls = []
    real = ar.ffbs_blocked

    def counted(*args, **kw):
        calls.append(args[3])
        return real(*args, **kw)

    monkeypatch.setattr(ar, "ffbs_blocked", counted)
    return calls


def test_arhmm_fit_same_bits_by_blocks(monkeypatch):
    model, sequences, masks = _long_arhmm()
    settings = GibbsSettings(num_iters=3, marginals_from_last=2)
    one = small_model().fit(sequences, masks, settings, seed=2, progress=False)
    calls = _counting_blocks(monkeypatch)
    monkeypatch.setattr(ffbs_module, "MEMORY_BUDGET", 0)
    monkeypatch.setattr(ar, "BLOCK_FRAMES", 128)
    blocked = small_model().fit(sequences, masks, settings, seed=2, progress=False)
    assert len(calls) == 4 * len(sequences)  # every draw by blocks
    _same_dicts(blocked.log_joint, one.log_joint)
    for a, b in zip(one.run.local_states, blocked.run.local_states, strict=True):
        np.testing.assert_array_equal(b["syllables"], a["syllables"])
    for a, b in zip(one.marginals, blocked.marginals, strict=True):
        np.testing.assert_array_equal(b, a)


def _same_dicts(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _slds_fit(seed=3):
    from test_keypoint_slds import planted, small_slds

    Ys, confs, _ = planted(lengths=(700, 330))
    model = small_slds()
    fit = model.fit(Ys, confs, num_ar_iters=2, num_full_iters=3, seed=seed, progress=False)
    return model, fit


@pytest.fixture(scope="module")
def slds_one_pass():
    return _slds_fit()


def test_keypoint_slds_fit_same_bits_by_blocks(monkeypatch, slds_one_pass):
    model, one = slds_one_pass
    calls = _counting_blocks(monkeypatch)
    monkeypatch.setattr(ffbs_module, "MEMORY_BUDGET", 0)
    monkeypatch.setattr(ar, "BLOCK_FRAMES", 128)
    model_b, blocked = _slds_fit()
    assert len(calls) == 2 * (1 + 2 + 3)  # the start, 2 AR-only and 3 full sweeps, 2 recordings
    _same_dicts(blocked.log_joint, one.log_joint)
    for a, b in zip(one.run.local_states, blocked.run.local_states, strict=True):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(b[k], a[k], err_msg=k)
    for k, v in model.get_params().items():
        np.testing.assert_array_equal(model_b.get_params()[k], v, err_msg=k)


def test_keypoint_local_step_same_bits_by_blocks(monkeypatch, slds_one_pass):
    model, fit = slds_one_pass
    from test_keypoint_slds import planted

    sequences, _ = model.prepare(*planted(lengths=(700, 330))[:2])
    lp, desc = model.local_params(), model.describe()
    monkeypatch.setattr(ar, "BLOCK_FRAMES", 256)
    for data, st in zip(sequences, fit.run.local_states, strict=True):
        mask = np.ones(data.shape[0], bool)
        mask[300:320] = False
        for ar_only in (True, False):
            d = dict(desc, ar_only=ar_only)
            for collect in (None, "smoother"):
                seed = np.random.SeedSequence(11)
                one = kslds.keypoint_local_step(lp, d, data, mask, st, seed, collect)
                blocked = kslds.keypoint_local_step(lp, d, data, mask, st, seed, collect, budget=0)
                _compare_outputs(one, blocked)


# --------------------------------------------------------------------------- memory


def test_blocked_draw_memory_is_bounded_by_its_blocks():
    T, K, D, L = 200_000, 100, 2, 1
    rng = np.random.default_rng(0)
    A = init_hdp_transitions(rng, K, 5.7, 1e6, 1e3).transition_matrix
    Ab = rng.normal(size=(K, D, D * L + 1)) * 0.3
    Q = np.broadcast_to(np.eye(D), (K, D, D)).copy()
    lp = ar.local_params(dict(transition_matrix=A, ar_weights=Ab, ar_covs=Q), L)
    x, mask = rng.normal(size=(T + L, D)), np.ones(T + L, bool)
    mask[1000:1100] = False
    result = {}
    ar.draw_syllables(lp, x[:3000], mask[:3000], L, 0, budget=0)  # loads the kernels: not counted

    def draw():  # on a new thread: its reused work arrays are allocated, and counted, here
        tracemalloc.start()
        z, path, ll = ar.draw_syllables(lp, x, mask, L, np.random.SeedSequence(0), budget=0)
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        result["blocked"] = ll is None and z.shape == path.shape == (T,)

    worker = threading.Thread(target=draw)
    worker.start()
    worker.join()
    B, W = ar.BLOCK_FRAMES, D * (L + 1) + 1
    bound = (
        8
        * (
            6 * T  # uniforms, offsets, norms, states, path log-likelihoods; log(norms) at the end
            + K * (-(-T // B) + 2 * B)  # a vector per block; a block's log-likelihoods and messages
            + ar.SCORE_ROWS * (W + D * K)  # one scoring product's windows and result
            + 3 * B  # per block: its mask, the gathered path values and their indices
            + 4 * K  # the initial distribution, the offsets per syllable
        )
        + 64 * 1024
    )  # Python objects: the blocks' bounds, closures, numpy scalars
    assert result["blocked"]
    assert result["peak"] <= bound, (result["peak"], bound)
    assert bound < 0.05 * 2 * 8 * T * K  # far below the one pass's two (T, K) arrays
