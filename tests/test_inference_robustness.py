"""Robustness of the inference kernels: extreme but valid inputs give finite, exact answers.

Checks that no output is ever NaN or inf, and that the answers are the right ones, for:
log-likelihoods offset by +1e5 and -1e5 (the whole array, one offset per frame, and one
offset per state), -inf entries (impossible states), transition matrices and initial
distributions with zeros, combinations of these (a state that is the only one allowed by
the transition structure but 1e5 nats less likely than a forbidden one), K = 1, T = 1, and
T = 10^6. Whole-array and per-frame offsets must leave every posterior quantity unchanged
and shift ``marginal_ll`` (and the Viterbi score) by the sum of the offsets. Everything else
is compared with an independent reference: forward-backward written in log space with
``scipy.special.logsumexp`` (exact with -inf and any offset), or, for T = 10^6, an HMM whose
transition rows all equal the initial distribution so that the frames are independent and
the answers have a closed form. Inputs must not be modified, and array-likes of other
dtypes and memory layouts (and CPU torch tensors, when torch is installed) give the same
float64 results as float64 C-contiguous arrays.
"""

import numpy as np
import pytest
from scipy.special import logsumexp

import ethogram as eg

RTOL = 1e-12


def _log(x):
    with np.errstate(divide="ignore"):
        return np.log(x)


# The reference runs in 80-bit extended precision (x86 long double, 64-bit mantissa) so that
# adding O(1) log-probabilities to log-likelihoods of size 1e5 loses only ~1e-14 relative,
# well below the 1e-12 tolerance; in float64 the reference itself would be off by ~1e-11.
LD = np.longdouble
needs_extended = pytest.mark.skipif(
    np.finfo(LD).eps > 1e-18, reason="the log-space reference needs 80-bit long double"
)


def _lse(x, axis=None):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out.reshape(()) if axis is None else np.squeeze(out, axis)


def log_space_reference(pi, A, ll):
    """Exact forward-backward in log space, extended precision, normalised every frame.

    Returns the marginal log-likelihood, filtered messages, normalised backward messages,
    posterior marginals and summed two-slice marginals (float64)."""
    ll = np.asarray(ll, dtype=LD)
    T, K = ll.shape
    log_pi, log_A = _log(np.asarray(pi, dtype=LD)), _log(np.asarray(A, dtype=LD))
    la = np.empty((T, K), dtype=LD)
    total = LD(0)
    for t in range(T):
        x = (log_pi if t == 0 else _lse(la[t - 1][:, None] + log_A, axis=0)) + ll[t]
        n = _lse(x)
        la[t] = x - n
        total += n
    lb = np.full((T, K), -np.log(LD(K)), dtype=LD)
    for t in range(T - 2, -1, -1):
        b = _lse(log_A + (ll[t + 1] + lb[t + 1])[None, :], axis=1)
        lb[t] = b - _lse(b)
    g = la + lb
    g = g - _lse(g, axis=1)[:, None]
    xi = np.zeros((K, K), dtype=LD)
    for t in range(T - 1):
        lx = la[t][:, None] + log_A + (ll[t + 1] + lb[t + 1])[None, :]
        xi += np.exp(lx - _lse(lx))
    f = lambda x: np.asarray(np.exp(x), dtype=np.float64)  # noqa: E731
    return dict(
        marginal_ll=float(total),
        alphas=f(la),
        betas=f(lb),
        expected_states=f(g),
        expected_transitions=np.asarray(xi, dtype=np.float64),
    )


def log_space_viterbi(pi, A, ll):
    """Max-product in extended precision, re-centred every frame; returns (path, score)."""
    ll = np.asarray(ll, dtype=LD)
    T, K = ll.shape
    log_A = _log(np.asarray(A, dtype=LD))
    delta = _log(np.asarray(pi, dtype=LD)) + ll[0]
    score = np.max(delta)
    delta = delta - score
    back = np.zeros((T, K), dtype=int)
    for t in range(1, T):
        cand = delta[:, None] + log_A
        back[t] = np.argmax(cand, axis=0)
        delta = cand[back[t], np.arange(K)] + ll[t]
        m = np.max(delta)
        score += m
        delta = delta - m
    path = np.empty(T, dtype=int)
    path[-1] = np.argmax(delta)
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path, float(score)


def all_outputs(pi, A, ll, seed=0):
    """Every public function on one problem."""
    alphas, fwd_ll = eg.forward_pass(pi, A, ll)
    post = eg.forward_backward(pi, A, ll)
    states, score = eg.viterbi(pi, A, ll, return_score=True)
    return dict(
        alphas=alphas,
        forward_ll=fwd_ll,
        betas=eg.backward_pass(A, ll),
        predictive=eg.predictive_log_likes(pi, A, ll),
        expected_states=post.expected_states,
        marginal_ll=post.marginal_ll,
        expected_transitions=post.expected_transitions,
        states=states,
        score=score,
        samples=eg.sample_posterior(pi, A, ll, num_samples=50, seed=seed),
    )


def assert_all_finite(out, K):
    for name, value in out.items():
        assert np.all(np.isfinite(value)), name
    T = out["alphas"].shape[0]
    for name in ("alphas", "betas", "expected_states"):
        np.testing.assert_allclose(out[name].sum(axis=1), 1.0, rtol=1e-12, err_msg=name)
        assert np.all(out[name] >= 0), name
    np.testing.assert_allclose(out["expected_transitions"].sum(), T - 1, rtol=1e-12)
    assert np.all((out["states"] >= 0) & (out["states"] < K))
    assert np.all((out["samples"] >= 0) & (out["samples"] < K))


def assert_matches_reference(out, pi, A, ll):
    ref = log_space_reference(pi, A, ll)
    for name in ("marginal_ll", "forward_ll"):
        np.testing.assert_allclose(
            out[name], ref["marginal_ll"], rtol=RTOL, atol=1e-12, err_msg=name
        )
    for name in ("alphas", "betas", "expected_states"):
        np.testing.assert_allclose(out[name], ref[name], rtol=RTOL, atol=0, err_msg=name)
    np.testing.assert_allclose(
        out["expected_transitions"], ref["expected_transitions"], rtol=RTOL, atol=0
    )
    path, score = log_space_viterbi(pi, A, ll)
    np.testing.assert_array_equal(out["states"], path)
    np.testing.assert_allclose(out["score"], score, rtol=RTOL, atol=1e-12)
    # samples only use possible paths
    s = out["samples"]
    assert np.all(pi[s[:, 0]] > 0)
    assert np.all(A[s[:, :-1], s[:, 1:]] > 0)
    assert np.all(np.isfinite(ll[np.arange(ll.shape[0]), s]))


def make_problem(T, K, seed, zeros=False):
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(K))
    A = rng.dirichlet(np.ones(K), size=K)
    if zeros:  # a band of impossible transitions; the diagonal stays
        A[(rng.random((K, K)) < 0.4) & ~np.eye(K, dtype=bool)] = 0.0
        A /= A.sum(axis=1, keepdims=True)
    ll = rng.normal(size=(T, K)) * 3.0
    return pi, A, ll


# ----------------------------------------------------------------------------- offsets


@pytest.mark.parametrize("offset", [1e5, -1e5])
@pytest.mark.parametrize("zeros", [False, True])
def test_whole_array_offset_shifts_only_the_marginal(offset, zeros):
    T, K = 500, 4
    pi, A, ll = make_problem(T, K, 1, zeros)
    # (ll + c) - c is exact (Sterbenz), so base + c reproduces the offset array exactly and
    # the only difference between the two problems is the offset itself
    base = (ll + offset) - offset
    shifted = base + offset
    assert np.array_equal(shifted - offset, base)
    a = all_outputs(pi, A, base)
    b = all_outputs(pi, A, shifted)
    assert_all_finite(a, K)
    assert_all_finite(b, K)
    for name in ("marginal_ll", "forward_ll", "score"):
        np.testing.assert_allclose(b[name], a[name] + T * offset, rtol=RTOL, err_msg=name)
    np.testing.assert_allclose(b["predictive"], a["predictive"] + offset, rtol=RTOL)
    for name in ("alphas", "betas", "expected_states", "expected_transitions"):
        np.testing.assert_allclose(b[name], a[name], rtol=RTOL, atol=0, err_msg=name)
    np.testing.assert_array_equal(b["states"], a["states"])


@pytest.mark.parametrize("zeros", [False, True])
def test_per_frame_offsets_shift_only_the_marginal(zeros):
    T, K = 400, 5
    pi, A, ll = make_problem(T, K, 2, zeros)
    rng = np.random.default_rng(3)
    c = rng.choice([1e5, -1e5], size=T) * rng.uniform(0.5, 1.0, size=T)
    base = (ll + c[:, None]) - c[:, None]
    shifted = base + c[:, None]
    a = all_outputs(pi, A, base)
    b = all_outputs(pi, A, shifted)
    assert_all_finite(b, K)
    np.testing.assert_allclose(
        b["marginal_ll"], a["marginal_ll"] + c.sum(), rtol=RTOL, atol=1e-12 * np.abs(c).sum()
    )
    np.testing.assert_allclose(
        b["score"], a["score"] + c.sum(), rtol=RTOL, atol=1e-12 * np.abs(c).sum()
    )
    np.testing.assert_allclose(b["predictive"], a["predictive"] + c, rtol=RTOL)
    for name in ("alphas", "betas", "expected_states", "expected_transitions"):
        np.testing.assert_allclose(b[name], a[name], rtol=RTOL, atol=0, err_msg=name)
    np.testing.assert_array_equal(b["states"], a["states"])


@needs_extended
@pytest.mark.parametrize(
    "offsets",
    [(1e5, 0.0, 0.0, 0.0), (-1e5, 0.0, 0.0, 0.0), (1e5, -1e5, 0.0, 1e5), (0.0, 1e5, 1e5, -1e5)],
)
@pytest.mark.parametrize("zeros", [False, True])
def test_per_state_offsets_match_the_log_space_reference(offsets, zeros):
    T, K = 200, 4
    pi, A, ll = make_problem(T, K, 4, zeros)
    shifted = ll + np.array(offsets)[None, :]
    out = all_outputs(pi, A, shifted)
    assert_all_finite(out, K)
    assert_matches_reference(out, pi, A, shifted)


@needs_extended
@pytest.mark.parametrize("gap", [800.0, 1e5])
def test_only_allowed_start_state_much_less_likely_than_a_forbidden_one(gap):
    """pi = (1, 0): frame 0 must be state 0 even though state 1 explains it `gap` nats better.

    log p(x) is finite (about -gap), so this is not an impossible observation; a scaling of
    the likelihoods by the row maximum underflows state 0 to exactly zero and must not be
    reported as impossible.
    """
    pi = np.array([1.0, 0.0])
    A = np.array([[0.5, 0.5], [0.5, 0.5]])
    ll = np.array([[-gap, 0.0], [0.0, -1.0], [-2.0, 0.0]])
    out = all_outputs(pi, A, ll)
    assert_all_finite(out, 2)
    assert_matches_reference(out, pi, A, ll)
    np.testing.assert_allclose(
        out["marginal_ll"],
        -gap + np.log(0.5 * (1 + np.exp(-1))) + np.log(0.5 * (np.exp(-2) + 1)),
        rtol=RTOL,
    )


@needs_extended
def test_only_reachable_state_much_less_likely_mid_sequence():
    """A left-to-right chain: after frame 0 only states 0 and 1 are reachable, and at
    frames 3..5 they are 1e5 nats less likely than state 2, which is unreachable (A[:, 2] = 0
    except A[2, 2]). The answer is finite and the posterior stays on states 0 and 1."""
    pi = np.array([1.0, 0.0, 0.0])
    A = np.array([[0.6, 0.4, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    rng = np.random.default_rng(5)
    ll = rng.normal(size=(8, 3))
    ll[3:6, :2] -= 1e5
    out = all_outputs(pi, A, ll)
    assert_all_finite(out, 3)
    assert_matches_reference(out, pi, A, ll)
    assert np.all(out["expected_states"][:, 2] == 0.0)


def test_an_unused_state_with_good_likelihoods_over_a_long_sequence():
    """State 2 can never be entered (initial probability 0, no incoming transitions), as
    EM can leave a dead state, yet it explains every frame as well as state 0 does. Frames
    are i.i.d. among states 0 and 1 (uniform rows), so the answer has a closed form. A
    backward pass that lets the unreachable state carry the normalisation of the backward
    messages underflows on the reachable states after ~1800 frames."""
    T = 3000
    pi = np.array([0.5, 0.5, 0.0])
    A = np.array([[0.5, 0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    ll = np.tile([0.0, -1.0, 0.0], (T, 1))
    post = eg.forward_backward(pi, A, ll)
    p0 = 1.0 / (1.0 + np.exp(-1.0))
    np.testing.assert_allclose(post.marginal_ll, T * np.log(0.5 * (1.0 + np.exp(-1.0))), rtol=RTOL)
    np.testing.assert_allclose(
        post.expected_states, np.tile([p0, 1 - p0, 0.0], (T, 1)), rtol=RTOL, atol=0
    )
    xi = (T - 1) * np.outer([p0, 1 - p0, 0.0], [p0, 1 - p0, 0.0])
    np.testing.assert_allclose(post.expected_transitions, xi, rtol=RTOL, atol=0)
    assert np.all(eg.sample_posterior(pi, A, ll, num_samples=3, seed=0) < 2)


def test_backward_pass_when_the_only_continuation_is_much_less_likely():
    """The backward message at frame 0 depends only on a state 1000 nats below the row
    maximum (the other state is ruled out by the -inf at frame 2 and the identity A)."""
    A = np.eye(2)
    ll = np.array([[0.0, 0.0], [0.0, -1000.0], [-np.inf, 0.0]])
    betas = eg.backward_pass(A, ll)
    np.testing.assert_allclose(betas, [[0.0, 1.0], [0.0, 1.0], [0.5, 0.5]], rtol=RTOL, atol=0)


# ----------------------------------------------------------------------------- -inf and zeros


@needs_extended
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("zeros", [False, True])
def test_impossible_states_match_the_log_space_reference(seed, zeros):
    T, K = 300, 5
    pi, A, ll = make_problem(T, K, 10 + seed, zeros)
    rng = np.random.default_rng(20 + seed)
    # a witness path that uses only allowed transitions keeps the problem feasible
    witness = np.empty(T, dtype=int)
    witness[0] = rng.choice(K, p=pi)
    for t in range(1, T):
        witness[t] = rng.choice(K, p=A[witness[t - 1]])
    dead = rng.random((T, K)) < 0.5
    dead[np.arange(T), witness] = False
    ll[dead] = -np.inf
    out = all_outputs(pi, A, ll)
    assert_all_finite(out, K)
    assert_matches_reference(out, pi, A, ll)
    # an impossible state has posterior exactly zero and is never decoded or sampled
    assert np.all(out["expected_states"][dead] == 0.0)
    assert np.all(out["alphas"][dead] == 0.0)
    assert not dead[np.arange(T), out["states"]].any()


@needs_extended
def test_impossible_states_with_offsets():
    T, K = 200, 3
    pi, A, ll = make_problem(T, K, 30, zeros=True)
    ll[::3, 1] = -np.inf
    ll[1::3, 0] = -np.inf
    for c in (1e5, -1e5):
        out = all_outputs(pi, A, ll + c)
        assert_all_finite(out, K)
        assert_matches_reference(out, pi, A, ll + c)


# ----------------------------------------------------------------------------- K = 1, T = 1


@pytest.mark.parametrize("offset", [0.0, 1e5, -1e5])
def test_single_state(offset):
    T = 50
    ll = np.random.default_rng(6).normal(size=(T, 1)) + offset
    out = all_outputs([1.0], [[1.0]], ll)
    assert_all_finite(out, 1)
    np.testing.assert_allclose(out["marginal_ll"], ll.sum(), rtol=RTOL)
    np.testing.assert_allclose(out["predictive"], ll[:, 0], rtol=RTOL)
    np.testing.assert_allclose(out["score"], ll.sum(), rtol=RTOL)
    assert np.array_equal(out["expected_states"], np.ones((T, 1)))
    assert np.array_equal(out["expected_transitions"], [[T - 1.0]])
    assert np.array_equal(out["states"], np.zeros(T))
    assert np.array_equal(out["samples"], np.zeros((50, T)))


@needs_extended
@pytest.mark.parametrize("offset", [0.0, 1e5, -1e5])
def test_single_frame(offset):
    pi = np.array([0.2, 0.0, 0.8])
    A = np.full((3, 3), 1 / 3)
    ll = np.array([[0.5, 3.0, -1.0]]) + offset
    out = all_outputs(pi, A, ll)
    assert_all_finite(out, 3)
    assert_matches_reference(out, pi, A, ll)
    lj = _log(pi) + ll[0]
    np.testing.assert_allclose(out["marginal_ll"], logsumexp(lj), rtol=RTOL)
    assert np.array_equal(out["expected_transitions"], np.zeros((3, 3)))
    np.testing.assert_allclose(out["betas"], np.full((1, 3), 1 / 3), rtol=RTOL)
    assert out["states"].tolist() == [0]
    np.testing.assert_allclose(out["score"], lj[0], rtol=RTOL)


def test_single_state_single_frame():
    out = all_outputs([1.0], [[1.0]], [[-1e5]])
    assert_all_finite(out, 1)
    assert out["marginal_ll"] == -1e5 and out["score"] == -1e5


# ----------------------------------------------------------------------------- T = 10^6


@pytest.fixture(scope="module")
def million():
    T, K = 10**6, 3
    rng = np.random.default_rng(7)
    pi = np.array([0.5, 0.3, 0.2])
    ll = rng.normal(size=(T, K)) * 2.0
    return pi, ll


def test_a_million_independent_frames_have_the_closed_form(million):
    """With every transition row equal to pi the states are i.i.d.: log p(x) is a sum of
    per-frame logsumexps, p(z_t | x) is a per-frame softmax, and sum_t xi_t = g^T g'."""
    pi, ll = million
    T, K = ll.shape
    A = np.tile(pi, (K, 1))
    lj = np.log(pi) + ll
    per_frame = logsumexp(lj, axis=1)
    gamma = np.exp(lj - per_frame[:, None])

    post = eg.forward_backward(pi, A, ll)
    np.testing.assert_allclose(post.marginal_ll, per_frame.sum(), rtol=RTOL)
    np.testing.assert_allclose(post.expected_states, gamma, rtol=1e-12, atol=0)
    np.testing.assert_allclose(post.expected_transitions, gamma[:-1].T @ gamma[1:], rtol=1e-12)
    np.testing.assert_allclose(
        eg.predictive_log_likes(pi, A, ll), per_frame, rtol=1e-12, atol=1e-14
    )
    states, score = eg.viterbi(pi, A, ll, return_score=True)
    np.testing.assert_array_equal(states, np.argmax(lj, axis=1))
    np.testing.assert_allclose(score, lj.max(axis=1).sum(), rtol=RTOL)


def test_a_million_frames_of_a_sticky_chain_with_offsets(million):
    pi, ll = million
    T, K = ll.shape
    A = np.array([[0.98, 0.02, 0.0], [0.01, 0.98, 0.01], [0.0, 0.03, 0.97]])
    base = (ll + 1e5) - 1e5  # a new array: the module-scoped fixture is left alone
    base[::1000, 0] = -np.inf  # also some impossible states (state 1 is always possible)
    a = eg.forward_backward(pi, A, base)
    b = eg.forward_backward(pi, A, base + 1e5)
    for post in (a, b):
        assert np.isfinite(post.marginal_ll)
        assert np.all(np.isfinite(post.expected_states))
        assert np.all(np.isfinite(post.expected_transitions))
        np.testing.assert_allclose(post.expected_states.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(b.marginal_ll, a.marginal_ll + T * 1e5, rtol=RTOL)
    np.testing.assert_allclose(b.expected_states, a.expected_states, rtol=RTOL, atol=0)
    np.testing.assert_allclose(b.expected_transitions, a.expected_transitions, rtol=RTOL)
    _, fwd_ll = eg.forward_pass(pi, A, base)
    np.testing.assert_allclose(fwd_ll, a.marginal_ll, rtol=RTOL)
    states = eg.viterbi(pi, A, base + 1e5)
    assert states.shape == (T,)
    assert np.all(A[states[:-1], states[1:]] > 0)
    assert not np.any(states[::1000] == 0)
    samples = eg.sample_posterior(pi, A, base - 1e5, num_samples=2, seed=0)
    assert samples.shape == (2, T)
    assert np.all(A[samples[:, :-1], samples[:, 1:]] > 0)


# ----------------------------------------------------------------------------- inputs


def test_inputs_are_not_modified():
    pi, A, ll = make_problem(100, 4, 8, zeros=True)
    ll[5, 1] = -np.inf
    mask = np.ones(100, dtype=bool)
    mask[10:20] = False
    copies = [x.copy() for x in (pi, A, ll, mask)]
    eg.forward_pass(pi, A, ll, mask=mask)
    eg.backward_pass(A, ll, mask=mask)
    eg.forward_backward(pi, A, ll, mask=mask)
    eg.predictive_log_likes(pi, A, ll, mask=mask)
    eg.viterbi(pi, A, ll, mask=mask, return_score=True)
    eg.sample_posterior(pi, A, ll, num_samples=3, seed=0, mask=mask)
    eg.forward_backward(pi, A, [ll, ll[:50]], mask=[mask, None], num_threads=2)
    for original, now in zip(copies, (pi, A, ll, mask)):
        assert np.array_equal(original, now)


def test_array_likes_dtypes_and_layouts_give_the_same_results():
    pi, A, ll = make_problem(60, 3, 9)
    ref = all_outputs(pi, A, ll)
    ll_int = np.round(ll).astype(np.int64)
    f32 = [x.astype(np.float32) for x in (pi, A, ll)]
    variants = [  # (inputs as given, the float64 arrays they should be equivalent to)
        ((pi.tolist(), A.tolist(), ll.tolist()), (pi, A, ll)),
        ((pi, np.asfortranarray(A), np.asfortranarray(ll)), (pi, A, ll)),
        ((pi, A, ll_int), (pi, A, ll_int.astype(np.float64))),
        (tuple(f32), tuple(x.astype(np.float64) for x in f32)),
    ]
    for given, as64 in variants:
        out = all_outputs(*given)
        exp = all_outputs(*as64)
        for name in exp:
            np.testing.assert_array_equal(out[name], exp[name], err_msg=name)
        # float32 (or integer) inputs still give float64 answers
        for name in ("alphas", "betas", "predictive", "expected_states", "expected_transitions"):
            assert out[name].dtype == np.float64, name
    # a strided (non-contiguous) view gives the same as its contiguous copy
    wide = np.repeat(ll, 2, axis=1)
    view = wide[:, ::2]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(
        all_outputs(pi, A, view)["expected_states"], ref["expected_states"]
    )


def test_cpu_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    pi, A, ll = make_problem(300, 4, 0)
    ref = eg.forward_backward(pi, A, ll)
    post = eg.forward_backward(torch.tensor(pi), torch.tensor(A), torch.tensor(ll))
    np.testing.assert_array_equal(post.expected_states, ref.expected_states)
