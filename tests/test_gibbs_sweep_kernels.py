"""What the Gibbs sweep's faster paths must keep: the keypoint geometry's numba kernels give the
numpy expressions' bits (rotation, egocentric view, centring, squared errors in 2-D and 3-D,
the heading's concentrations, numpy's row-sum order), and the pose sampler without its log
normaliser draws the same latent."""

import numpy as np
import pytest

from ethogram.inference.kalman import sample_ar_lds
from ethogram.models.gibbs import keypoints as kp


def _data(rng, T, K, D):
    scale = 10.0 ** rng.uniform(-2, 3)
    Y = rng.normal(size=(T, K, D)) * scale
    P = rng.normal(size=(T, K, D)) * scale
    v = rng.normal(size=(T, D)) * scale
    h = rng.uniform(-4, 4, T)
    return Y, P, v, h


def _numpy_rotate(P, h):
    c, s = np.cos(h)[:, None], np.sin(h)[:, None]
    out = P.copy()
    out[..., 0] = c * P[..., 0] - s * P[..., 1]
    out[..., 1] = s * P[..., 0] + c * P[..., 1]
    return out


@pytest.mark.parametrize("D", [2, 3])
def test_geometry_kernels_give_numpys_bits(D):
    rng = np.random.default_rng(D)
    for T, K in [(1, 2), (57, 4), (400, 13)]:
        Y, P, v, h = _data(rng, T, K, D)
        assert kp.rotate(P, h).tobytes() == _numpy_rotate(P, h).tobytes()
        ego = _numpy_rotate(Y - v[:, None, :], -h)
        assert kp.egocentric(Y, v, h).tobytes() == ego.tobytes()
        assert kp.centred(Y, v).tobytes() == (Y - v[:, None, :]).tobytes()
        r = Y - P
        assert kp.squared_errors(Y, P).tobytes() == np.sum(r * r, axis=-1).tobytes()
        r = Y - (P + v[:, None, :])
        assert kp.squared_errors(Y, P, v).tobytes() == np.sum(r * r, axis=-1).tobytes()
        var = rng.uniform(0.1, 3.0, (T, K))
        w = 1.0 / var
        kc = np.sum(w * (P[..., 0] * Y[..., 0] + P[..., 1] * Y[..., 1]), axis=-1)
        ks = np.sum(w * (P[..., 0] * Y[..., 1] - P[..., 1] * Y[..., 0]), axis=-1)
        got = kp.heading_concentrations(P, Y, var)
        assert got[0].tobytes() == kc.tobytes() and got[1].tobytes() == ks.tobytes()


def test_row_sums_follow_numpys_order():
    rng = np.random.default_rng(0)
    for K in range(1, 129):
        q = rng.normal(size=(30, K)) * 10.0 ** rng.uniform(-6, 6, size=(1, K))
        assert kp._row_sums(q).tobytes() == np.sum(q, axis=-1).tobytes()


def test_aligned_pose_is_frames_first_and_unchanged():
    rng = np.random.default_rng(1)
    T, K, D, M = 200, 6, 2, 4
    x, C, d = (
        rng.normal(size=(T, M)),
        rng.normal(size=((K - 1) * D, M)),
        rng.normal(size=(K - 1) * D),
    )
    flat = x @ C.T + d
    ref = np.tensordot(kp.centering_matrix(K), flat.reshape(T, K - 1, D), (1, 1)).transpose(1, 0, 2)
    got = kp.aligned_pose(x, C, d, K)
    assert got.flags.c_contiguous and got.tobytes() == np.ascontiguousarray(ref).tobytes()


@pytest.mark.parametrize("lag_noise", [0.0, 1e-2])
def test_pose_draw_without_log_normalizer_is_the_same_draw(lag_noise):
    rng = np.random.default_rng(2)
    T, p, M, L, S = 120, 6, 3, 2, 4
    Ab = 0.3 * rng.normal(size=(S, M, M * L + 1))
    Q = np.broadcast_to(np.eye(M), (S, M, M)) * rng.uniform(0.5, 2.0, size=(S, 1, 1))
    args = (rng.normal(size=(T, p)), rng.uniform(0.5, 2.0, (T, p)), rng.normal(size=(p, M)),
            rng.normal(size=p), Ab, Q, rng.integers(0, S, T - L))  # fmt: skip
    full = sample_ar_lds(np.random.default_rng(5), *args, lag_noise=lag_noise)
    fast = sample_ar_lds(np.random.default_rng(5), *args, lag_noise=lag_noise, log_normalizer=False)
    assert fast.states.tobytes() == full.states.tobytes()
    assert np.isfinite(full.log_normalizer) and np.isnan(fast.log_normalizer)
