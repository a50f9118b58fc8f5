"""Batched inference: lists of sequences, masks and threads.

A list of sequences of different lengths (1 to 3000 frames, with masks, -inf entries and a
transition matrix with zeros) must give exactly the results of one call per sequence, for
every public function, in input order; ``sample_posterior`` on a batch must equal one-by-one
calls that share the same ``numpy.random.Generator``. A masked frame must be exactly a
frame whose log-likelihoods are all zero (also when the masked frame holds -inf), and a
fully masked sequence gives the prior marginals of the chain. Results must be bitwise
identical (``np.array_equal``) for 1 and 2 threads, whether the thread count comes from the
``num_threads`` argument, :func:`ethogram.set_num_threads` or the ``ETHOGRAM_NUM_THREADS``
environment variable, whose precedence and validation are checked along with the number of
workers actually started.
"""

import numpy as np
import pytest

import ethogram as eg
from ethogram.inference import _threads

LENGTHS = [1, 7, 3000, 2, 1200, 45]
K = 5


@pytest.fixture(autouse=True)
def _reset_thread_setting():
    eg.set_num_threads(None)
    yield
    eg.set_num_threads(None)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    pi = rng.dirichlet(np.ones(K))
    A = rng.dirichlet(np.ones(K), size=K)
    A[0, 3] = A[2, 1] = A[4, 0] = 0.0
    A /= A.sum(axis=1, keepdims=True)
    seqs, masks = [], []
    for i, T in enumerate(LENGTHS):
        ll = rng.normal(size=(T, K)) * 4.0
        ll[rng.random((T, K)) < 0.1] = -np.inf
        ll[np.arange(T), rng.integers(K, size=T)] = rng.normal(size=T)  # a finite state per frame
        m = rng.random(T) > 0.2
        if i == 1:
            m = None  # a batch may mix masked and unmasked sequences
        seqs.append(ll)
        masks.append(m)
    return pi, A, seqs, masks


def _assert_posteriors_equal(a, b):
    assert isinstance(a, eg.HMMPosterior) and isinstance(b, eg.HMMPosterior)
    assert np.array_equal(a.expected_states, b.expected_states)
    assert np.array_equal(a.expected_transitions, b.expected_transitions)
    assert a.marginal_ll == b.marginal_ll


def _assert_same(a, b):
    """Bitwise equality of whatever a public function returns."""
    if isinstance(a, eg.HMMPosterior):
        _assert_posteriors_equal(a, b)
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, float):
        assert a == b
    else:
        assert np.array_equal(a, b)
        assert a.dtype == b.dtype


CALLS = {
    "forward_pass": lambda pi, A, ll, m, **kw: eg.forward_pass(pi, A, ll, mask=m, **kw),
    "backward_pass": lambda pi, A, ll, m, **kw: eg.backward_pass(A, ll, mask=m, **kw),
    "predictive_log_likes": lambda pi, A, ll, m, **kw: eg.predictive_log_likes(
        pi, A, ll, mask=m, **kw
    ),
    "forward_backward": lambda pi, A, ll, m, **kw: eg.forward_backward(pi, A, ll, mask=m, **kw),
    "viterbi": lambda pi, A, ll, m, **kw: eg.viterbi(pi, A, ll, mask=m, **kw),
    "viterbi_score": lambda pi, A, ll, m, **kw: eg.viterbi(
        pi, A, ll, mask=m, return_score=True, **kw
    ),
}
calls = pytest.mark.parametrize("call", list(CALLS.values()), ids=list(CALLS))


# ----------------------------------------------------------------------------- batch == one by one


@calls
@pytest.mark.parametrize("num_threads", [1, 2])
def test_batch_equals_one_by_one(batch, call, num_threads):
    pi, A, seqs, masks = batch
    together = call(pi, A, seqs, masks, num_threads=num_threads)
    assert isinstance(together, list) and len(together) == len(seqs)
    for ll, m, res in zip(seqs, masks, together):
        _assert_same(res, call(pi, A, ll, m))


@pytest.mark.parametrize("num_threads", [1, 2])
def test_batch_sampling_equals_one_by_one_with_a_shared_generator(batch, num_threads):
    pi, A, seqs, masks = batch
    together = eg.sample_posterior(
        pi, A, seqs, num_samples=3, seed=42, mask=masks, num_threads=num_threads
    )
    rng = np.random.default_rng(42)
    for ll, m, res in zip(seqs, masks, together):
        assert res.shape == (3, ll.shape[0])
        _assert_same(res, eg.sample_posterior(pi, A, ll, num_samples=3, seed=rng, mask=m))
    # the first sequence alone with the same integer seed gives the same paths
    _assert_same(
        together[0], eg.sample_posterior(pi, A, seqs[0], num_samples=3, seed=42, mask=masks[0])
    )


def test_tuples_and_nested_lists_are_batches(batch):
    pi, A, seqs, _ = batch
    short = [s[:3] for s in seqs[2:5]]
    as_tuple = eg.forward_backward(pi, A, tuple(short))
    as_lists = eg.forward_backward(pi, A, [s.tolist() for s in short])
    for a, b, s in zip(as_tuple, as_lists, short):
        _assert_posteriors_equal(a, b)
        _assert_posteriors_equal(a, eg.forward_backward(pi, A, s))
    # a nested list of numbers (each item 1-D) is one sequence, not a batch
    one = eg.forward_backward(pi, A, short[0].tolist())
    assert isinstance(one, eg.HMMPosterior)
    _assert_posteriors_equal(one, eg.forward_backward(pi, A, short[0]))


def test_batch_of_one(batch):
    pi, A, seqs, masks = batch
    (res,) = eg.forward_backward(pi, A, [seqs[2]], mask=[masks[2]])
    _assert_posteriors_equal(res, eg.forward_backward(pi, A, seqs[2], mask=masks[2]))


def test_unpacking_gives_the_course_pair(batch):
    pi, A, seqs, _ = batch
    post = eg.forward_backward(pi, A, seqs[4])
    expected_states, marginal_ll = post
    assert expected_states is post.expected_states and marginal_ll == post.marginal_ll


# ----------------------------------------------------------------------------- masks


@calls
def test_masked_frame_equals_zero_log_likes(batch, call):
    pi, A, seqs, masks = batch
    for ll, m in zip(seqs, masks):
        if m is None or m.all():
            continue
        zeroed = ll.copy()
        zeroed[~m] = 0.0
        _assert_same(call(pi, A, ll, m), call(pi, A, zeroed, None))
        # the values under the mask do not matter, not even -inf in every state
        junk = ll.copy()
        junk[~m] = -np.inf
        _assert_same(call(pi, A, junk, m), call(pi, A, zeroed, None))


def test_masked_frame_sampling_equals_zero_log_likes(batch):
    pi, A, seqs, masks = batch
    ll, m = seqs[4], masks[4]
    zeroed = np.where(m[:, None], ll, 0.0)
    a = eg.sample_posterior(pi, A, ll, num_samples=4, seed=3, mask=m)
    b = eg.sample_posterior(pi, A, zeroed, num_samples=4, seed=3)
    assert np.array_equal(a, b)


def test_masked_frames_contribute_nothing_to_the_likelihood(batch):
    pi, A, seqs, masks = batch
    ll, m = seqs[4], masks[4]
    pll = eg.predictive_log_likes(pi, A, ll, mask=m)
    # log p(x_t | x_{1:t-1}) of an unobserved frame is log(sum of predicted probabilities) = 0
    np.testing.assert_allclose(pll[~m], 0.0, rtol=0, atol=1e-14)
    assert np.all(pll[m] != 0.0)


def test_fully_masked_sequence_gives_the_prior_marginals(batch):
    pi, A, _, _ = batch
    T = 30
    ll = np.random.default_rng(1).normal(size=(T, K))
    post = eg.forward_backward(pi, A, ll, mask=np.zeros(T, dtype=bool))
    prior = eg.propagate(pi, A, T - 1, return_path=True)
    np.testing.assert_allclose(post.expected_states, prior, rtol=1e-12, atol=0)
    np.testing.assert_allclose(post.marginal_ll, 0.0, rtol=0, atol=1e-12)
    # the expected transitions are sum_t p(z_t = i) A[i, j]
    np.testing.assert_allclose(
        post.expected_transitions, prior[:-1].sum(axis=0)[:, None] * A, rtol=1e-12, atol=0
    )


# ----------------------------------------------------------------------------- threads


def _everything(pi, A, seqs, masks, **kw):
    return [
        eg.forward_pass(pi, A, seqs, mask=masks, **kw),
        eg.backward_pass(A, seqs, mask=masks, **kw),
        eg.predictive_log_likes(pi, A, seqs, mask=masks, **kw),
        eg.forward_backward(pi, A, seqs, mask=masks, **kw),
        eg.viterbi(pi, A, seqs, mask=masks, return_score=True, **kw),
        eg.sample_posterior(pi, A, seqs, num_samples=5, seed=9, mask=masks, **kw),
    ]


def _assert_all_same(xs, ys):
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys):
        assert len(x) == len(y)
        for a, b in zip(x, y):
            _assert_same(a, b)


class _RecordingPool(_threads.ThreadPoolExecutor):
    """The executor used by the batch code, recording how many workers it was given."""

    workers: list = []

    def __init__(self, max_workers=None, **kw):
        _RecordingPool.workers.append(max_workers)
        super().__init__(max_workers=max_workers, **kw)


@pytest.fixture
def pool_sizes(monkeypatch):
    _RecordingPool.workers = []
    monkeypatch.setattr(_threads, "ThreadPoolExecutor", _RecordingPool)
    return _RecordingPool.workers


def test_results_are_bitwise_identical_for_one_and_two_threads(batch, pool_sizes):
    pi, A, seqs, masks = batch
    one = _everything(pi, A, seqs, masks, num_threads=1)
    assert pool_sizes == []  # one thread: no pool at all
    two = _everything(pi, A, seqs, masks, num_threads=2)
    assert pool_sizes == [2] * 6
    _assert_all_same(one, two)


def test_set_num_threads_is_used_and_gives_identical_results(batch, pool_sizes):
    pi, A, seqs, masks = batch
    eg.set_num_threads(1)
    assert eg.get_num_threads() == 1
    one = _everything(pi, A, seqs, masks)
    assert pool_sizes == []
    eg.set_num_threads(2)
    assert eg.get_num_threads() == 2
    two = _everything(pi, A, seqs, masks)
    assert pool_sizes == [2] * 6
    _assert_all_same(one, two)
    # the argument wins over the setting
    _everything(pi, A, seqs, masks, num_threads=1)
    assert pool_sizes == [2] * 6


def test_environment_variable_is_used_and_gives_identical_results(batch, pool_sizes, monkeypatch):
    pi, A, seqs, masks = batch
    monkeypatch.setenv("ETHOGRAM_NUM_THREADS", "1")
    assert eg.get_num_threads() == 1
    one = _everything(pi, A, seqs, masks)
    assert pool_sizes == []
    monkeypatch.setenv("ETHOGRAM_NUM_THREADS", "2")
    assert eg.get_num_threads() == 2
    two = _everything(pi, A, seqs, masks)
    assert pool_sizes == [2] * 6
    _assert_all_same(one, two)


def test_thread_count_precedence(monkeypatch):
    monkeypatch.setenv("ETHOGRAM_NUM_THREADS", "3")
    assert eg.get_num_threads() == 3
    eg.set_num_threads(5)  # set_num_threads beats the environment
    assert eg.get_num_threads() == 5
    eg.set_num_threads(None)  # back to the environment
    assert eg.get_num_threads() == 3
    monkeypatch.delenv("ETHOGRAM_NUM_THREADS")
    assert eg.get_num_threads() == _threads._available_cpus() >= 1
    monkeypatch.setenv("ETHOGRAM_NUM_THREADS", "")  # empty means unset
    assert eg.get_num_threads() == _threads._available_cpus()


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_bad_environment_variable(monkeypatch, value):
    monkeypatch.setenv("ETHOGRAM_NUM_THREADS", value)
    with pytest.raises(ValueError, match=r"ETHOGRAM_NUM_THREADS=.* is not a positive integer"):
        eg.get_num_threads()
    with pytest.raises(ValueError, match=r"ETHOGRAM_NUM_THREADS"):
        eg.forward_backward([0.5, 0.5], np.eye(2), [np.zeros((3, 2))] * 2)
    eg.set_num_threads(2)  # an explicit setting does not read the environment
    assert eg.get_num_threads() == 2


def test_pool_never_larger_than_the_batch(batch, pool_sizes):
    pi, A, seqs, _ = batch
    eg.forward_backward(pi, A, seqs[:2], num_threads=8)
    eg.forward_backward(pi, A, seqs[:1], num_threads=8)
    assert pool_sizes == [2]


def test_exported_names_are_the_same_objects():
    import ethogram.inference as inf

    assert eg.set_num_threads is inf.set_num_threads is _threads.set_num_threads
    assert eg.get_num_threads is inf.get_num_threads
