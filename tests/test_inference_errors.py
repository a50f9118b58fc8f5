"""Input validation of the inference functions: every bad input raises a clear error.

Each case checks the exception type and, with ``pytest.raises(..., match=...)``, that the
message names the offending argument and says what is wrong: transition-matrix rows or
initial probabilities not summing to 1, negative, NaN or infinite probabilities, non-square
or mis-sized arrays, log-likelihoods with the wrong number of columns, no frames, NaN or
+inf, a frame where every state has log-likelihood -inf, observations that are impossible
under the initial distribution or the transition structure (a chain that can never leave
its state, forced into state 0 at t = 0 and into state 1 at t = 3), bad masks (wrong shape,
non-boolean values, wrong list length in a batch), ``num_samples`` <= 0 or not an integer,
bad thread counts, and non-numeric input (``TypeError``). Every public function that takes
the argument is checked, and a batch error names the index of the bad sequence.
"""

import numpy as np
import pytest

import ethogram as eg

PI = np.array([0.5, 0.5])
A = np.array([[0.9, 0.1], [0.2, 0.8]])
LL = np.zeros((4, 2))


def _with_pi(fn):
    return lambda pi=PI, A=A, ll=LL, **kw: fn(pi, A, ll, **kw)


# every function that takes (initial_probs, transition_matrix, log_likes)
FULL = {
    "forward_pass": _with_pi(eg.forward_pass),
    "forward_backward": _with_pi(eg.forward_backward),
    "predictive_log_likes": _with_pi(eg.predictive_log_likes),
    "viterbi": _with_pi(eg.viterbi),
    "sample_posterior": _with_pi(eg.sample_posterior),
}
# ... plus backward_pass, which takes (transition_matrix, log_likes)
ALL = dict(FULL, backward_pass=lambda pi=PI, A=A, ll=LL, **kw: eg.backward_pass(A, ll, **kw))

full_fns = pytest.mark.parametrize("fn", list(FULL.values()), ids=list(FULL))
all_fns = pytest.mark.parametrize("fn", list(ALL.values()), ids=list(ALL))


# ----------------------------------------------------------------------------- probabilities


@all_fns
@pytest.mark.parametrize(
    "bad, match",
    [
        ([[0.9, 0.2], [0.2, 0.8]], r"each row of transition_matrix must sum to 1.*1\.1.*row 0"),
        ([[0.9, 0.1], [0.2, 0.7]], r"each row of transition_matrix must sum to 1.*row 1"),
        ([[1.2, -0.2], [0.2, 0.8]], r"transition_matrix has a negative probability"),
        ([[0.9, 0.1], [np.nan, 0.8]], r"transition_matrix contains NaN"),
        ([[np.inf, 0.1], [0.2, 0.8]], r"transition_matrix contains NaN or inf"),
        ([[0.5, 0.5, 0.0], [0.2, 0.8, 0.0]], r"transition_matrix must be square"),
        ([0.5, 0.5], r"transition_matrix must have 2 dimension"),
        (np.zeros((0, 0)), r"transition_matrix must be square"),
    ],
)
def test_bad_transition_matrix(fn, bad, match):
    with pytest.raises(ValueError, match=match):
        fn(A=bad)


@full_fns
@pytest.mark.parametrize(
    "bad, match",
    [
        ([0.5, 0.6], r"initial_probs must sum to 1.*1\.1"),
        ([0.3, 0.3], r"initial_probs must sum to 1"),
        ([1.5, -0.5], r"initial_probs has a negative probability"),
        ([np.nan, 1.0], r"initial_probs contains NaN"),
        ([0.2, 0.3, 0.5], r"initial_probs has 3 entries but transition_matrix has 2 states"),
        ([1.0], r"initial_probs has 1 entries but transition_matrix has 2 states"),
        ([[0.5, 0.5]], r"initial_probs must have 1 dimension"),
        ([], r"initial_probs is empty"),
    ],
)
def test_bad_initial_probs(fn, bad, match):
    with pytest.raises(ValueError, match=match):
        fn(pi=bad)


def test_probability_tolerance_is_tight():
    """Rows within 1e-9 of summing to 1 are accepted (float32 round-off); 1e-3 off is not."""
    eg.forward_pass(PI + [1e-9, 0.0], A + [[1e-9, 0.0], [0.0, 0.0]], LL)
    with pytest.raises(ValueError, match="initial_probs"):
        eg.forward_pass(PI + [1e-3, 0.0], A, LL)
    with pytest.raises(ValueError, match="transition_matrix"):
        eg.forward_pass(PI, A + [[1e-3, 0.0], [0.0, 0.0]], LL)


# ----------------------------------------------------------------------------- log-likelihoods


@all_fns
@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((4, 3)), r"log_likes has 3 columns but the model has 2 states"),
        (np.zeros((4, 1)), r"log_likes has 1 columns but the model has 2 states"),
        (np.zeros(4), r"log_likes must have 2 dimension"),
        (np.zeros((2, 4, 2)), r"log_likes must have 2 dimension"),
        (np.zeros((0, 2)), r"log_likes has no frames"),
        (
            np.array([[0.0, 0.0], [0.0, np.nan], [0.0, 0.0]]),
            r"log_likes contains NaN \(first at frame 1\)",
        ),
        (
            np.array([[0.0, 0.0], [0.0, 0.0], [np.inf, 0.0]]),
            r"log_likes contains \+inf \(first at frame 2\)",
        ),
        (
            np.array([[0.0, 0.0], [0.0, 0.0], [-np.inf, -np.inf]]),
            r"log_likes is -inf for every state at frame 2",
        ),
    ],
)
def test_bad_log_likes(fn, bad, match):
    with pytest.raises(ValueError, match=match):
        fn(ll=bad)


@full_fns
def test_first_frame_impossible_under_initial_probs(fn):
    ll = np.zeros((3, 2))
    ll[0, 0] = -np.inf
    with pytest.raises(ValueError, match=r"first observation is impossible under initial_probs"):
        fn(pi=[1.0, 0.0], ll=ll)
    fn(pi=[0.0, 1.0], ll=ll)  # state 1 is possible: fine


@full_fns
def test_impossible_under_the_transition_structure(fn):
    """A = identity: the chain never moves, but frame 0 forces state 0 and frame 3 state 1."""
    ll = np.zeros((5, 2))
    ll[0, 1] = -np.inf
    ll[3, 0] = -np.inf
    with pytest.raises(ValueError, match=r"impossible under transition_matrix.*frame 3"):
        fn(A=np.eye(2), ll=ll)
    # the same observations are fine once the frame is masked, or the chain can move
    mask = np.ones(5, dtype=bool)
    mask[3] = False
    fn(A=np.eye(2), ll=ll, mask=mask)
    fn(A=[[0.5, 0.5], [0.0, 1.0]], ll=ll)


def test_backward_pass_impossible_under_the_transition_structure():
    ll = np.zeros((4, 2))
    ll[1, 0] = -np.inf
    ll[2, 1] = -np.inf
    with pytest.raises(ValueError, match=r"impossible under transition_matrix.*backward pass"):
        eg.backward_pass(np.eye(2), ll)


# ----------------------------------------------------------------------------- masks


@all_fns
@pytest.mark.parametrize(
    "mask, exc, match",
    [
        (np.ones(3, dtype=bool), ValueError, r"mask must have shape \(4,\)"),
        (np.ones(5, dtype=bool), ValueError, r"mask must have shape \(4,\)"),
        (np.ones((4, 1), dtype=bool), ValueError, r"mask must have shape \(4,\)"),
        (np.ones((4, 2), dtype=bool), ValueError, r"mask must have shape \(4,\)"),
        (np.array([1.0, 0.5, 1.0, 1.0]), TypeError, r"mask must be boolean"),
        (np.array([0, 1, 2, 1]), TypeError, r"mask must be boolean"),
        (np.array(["a", "b", "c", "d"]), TypeError, r"mask must be boolean"),
    ],
)
def test_bad_mask(fn, mask, exc, match):
    with pytest.raises(exc, match=match):
        fn(mask=mask)


@all_fns
def test_zero_one_integer_masks_are_accepted_as_boolean(fn):
    def first_array(result):
        if isinstance(result, eg.HMMPosterior):
            return result.expected_states
        return result[0] if isinstance(result, tuple) else result

    kw = {"seed": 0, "num_samples": 200} if fn is ALL["sample_posterior"] else {}
    ll = np.array([[0.0, 1.0], [5.0, -5.0], [0.0, 2.0], [1.0, 0.0]])
    a = first_array(fn(ll=ll, mask=np.array([1, 0, 1, 1]), **kw))
    b = first_array(fn(ll=ll, mask=np.array([True, False, True, True]), **kw))
    c = first_array(fn(ll=ll, **kw))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)  # the mask did something


@all_fns
@pytest.mark.parametrize(
    "mask, match",
    [
        (np.ones(4, dtype=bool), r"mask must be a list with one mask \(or None\) per sequence"),
        (
            [np.ones(4, dtype=bool)],
            r"mask must be a list with one mask \(or None\) per sequence.*2 sequences",
        ),
        ([None, None, None], r"mask must be a list with one mask"),
        ([None, np.ones(5, dtype=bool)], r"mask must have shape \(6,\)"),
    ],
)
def test_bad_batch_masks(fn, mask, match):
    with pytest.raises(ValueError, match=match):
        fn(ll=[np.zeros((4, 2)), np.zeros((6, 2))], mask=mask)


# ----------------------------------------------------------------------------- batches


@pytest.mark.parametrize("num_threads", [1, 2])
@all_fns
def test_batch_errors_name_the_sequence(fn, num_threads):
    bad = np.zeros((5, 2))
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"log_likes\[1\] contains NaN \(first at frame 2\)"):
        fn(ll=[np.zeros((3, 2)), bad, np.zeros((4, 2))], num_threads=num_threads)
    dead = np.zeros((5, 2))
    dead[4] = -np.inf
    with pytest.raises(ValueError, match=r"log_likes\[2\] is -inf for every state at frame 4"):
        fn(ll=[np.zeros((3, 2)), np.zeros((4, 2)), dead], num_threads=num_threads)


@pytest.mark.parametrize("num_threads", [1, 2])
@all_fns
def test_batch_errors_raise_from_worker_threads(fn, num_threads):
    bad = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"has 3 columns but the model has 2 states"):
        fn(ll=[np.zeros((3, 2)), bad], num_threads=num_threads)
    impossible = np.zeros((5, 2))
    impossible[1, 0] = impossible[3, 1] = -np.inf
    with pytest.raises(ValueError, match=r"impossible under transition_matrix"):
        fn(A=np.eye(2), ll=[np.zeros((3, 2)), impossible], num_threads=num_threads)


# ----------------------------------------------------------------------------- other arguments


@pytest.mark.parametrize("num_samples", [0, -1, 2.5, True, "3"])
def test_bad_num_samples(num_samples):
    with pytest.raises(ValueError, match=r"num_samples must be a positive integer"):
        eg.sample_posterior(PI, A, LL, num_samples=num_samples)
    with pytest.raises(ValueError, match=r"num_samples must be a positive integer"):
        eg.sample_posterior(PI, A, [LL, LL], num_samples=num_samples)


def test_integral_float_num_samples_is_accepted():
    assert eg.sample_posterior(PI, A, LL, num_samples=3.0, seed=0).shape == (3, 4)


@all_fns
@pytest.mark.parametrize("num_threads", [0, -2, 1.5, True])
def test_bad_num_threads(fn, num_threads):
    with pytest.raises(ValueError, match=r"num_threads must be a positive integer"):
        fn(ll=[LL, LL], num_threads=num_threads)


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_bad_set_num_threads(n):
    before = eg.get_num_threads()
    with pytest.raises(ValueError, match=r"num_threads must be a positive integer"):
        eg.set_num_threads(n)
    assert eg.get_num_threads() == before


# ----------------------------------------------------------------------------- types


@all_fns
@pytest.mark.parametrize(
    "where, value, match",
    [
        ("ll", [["a", "b"], ["c", "d"]], r"log_likes must be a numeric array"),
        ("ll", np.array([[object(), 1.0]], dtype=object), r"log_likes must be a numeric array"),
        ("ll", np.zeros((4, 2), dtype=complex), r"log_likes must be real-valued"),
        ("ll", "log likes", r"log_likes must be a numeric array"),
        ("A", [["0.9", "0.1"], ["0.2", "0.8"]], r"transition_matrix must be a numeric array"),
        ("A", None, r"transition_matrix must be a numeric array"),
    ],
)
def test_non_numeric_input_is_a_type_error(fn, where, value, match):
    with pytest.raises(TypeError, match=match):
        fn(**{where: value})


@full_fns
@pytest.mark.parametrize(
    "value, match",
    [
        (["0.5", "0.5"], r"initial_probs must be a numeric array"),
        ({"a": 1}, r"initial_probs must be a numeric array"),
    ],
)
def test_non_numeric_initial_probs_is_a_type_error(fn, value, match):
    with pytest.raises(TypeError, match=match):
        fn(pi=value)


@all_fns
def test_non_numeric_sequence_in_a_batch_is_named(fn):
    with pytest.raises(TypeError, match=r"log_likes\[1\] must be a numeric array"):
        fn(ll=[LL, np.array([["a", "b"]])])
