"""A planted animal for tests and benchmarks of the plots and the report.

Each syllable has its own forward speed and turning rate; syllables follow a sticky Markov
chain; the centroid and heading integrate the movement; four body parts (snout, two ears,
tail base) are drawn around the centroid at the heading. The inputs are (speed, turning,
noise) features. :func:`synthetic_results` wraps it all as an
:class:`ethogram.results.Results` (a real, briefly fitted AR-HMM as the model) without
going through files, so the report can be built anywhere in a second.
"""

from __future__ import annotations

import numpy as np

#: body template in the animal's frame (facing +x), pixels: snout, left ear, right ear, tail base
BODY = np.array([[20.0, 0.0], [8.0, -6.0], [8.0, 6.0], [-20.0, 0.0]])
BODYPARTS = ("snout", "leftear", "rightear", "tailbase")


def planted_animal(
    num_frames: int, num_states: int, seed: int = 0, stay: float = 0.93, fps: float = 30.0
):
    """Labels, centroid (T, 2), heading (T,), keypoints (T, 4, 2) and inputs (T, 3) of a planted
    animal.

    Syllable k moves forward at ``2 + 6 * (k % 4) / 3`` px/frame and turns at
    ``0.12 * ((k % 5) - 2)`` rad/frame (y down: positive turns clockwise on screen).
    """
    rng = np.random.default_rng(seed)
    K = int(num_states)
    P = np.full((K, K), (1 - stay) / max(K - 1, 1))
    np.fill_diagonal(P, stay if K > 1 else 1.0)
    z = np.empty(num_frames, dtype=np.int64)
    z[0] = 0
    cum = np.cumsum(P, axis=1)
    u = rng.random(num_frames)
    for t in range(1, num_frames):
        z[t] = min(int(np.searchsorted(cum[z[t - 1]], u[t])), K - 1)
    speed = 2.0 + 6.0 * (z % 4) / 3.0
    turn = 0.12 * ((z % 5) - 2)
    heading = np.cumsum(turn)
    step = speed[:, None] * np.column_stack([np.cos(heading), np.sin(heading)])
    centroid = 320.0 + np.cumsum(step, axis=0)
    c, s = np.cos(heading)[:, None], np.sin(heading)[:, None]
    kp = np.empty((num_frames, len(BODY), 2))
    kp[..., 0] = centroid[:, :1] + c * BODY[:, 0] - s * BODY[:, 1]
    kp[..., 1] = centroid[:, 1:] + s * BODY[:, 0] + c * BODY[:, 1]
    inputs = np.column_stack([(speed - 4.0) / 2.0, turn / 0.12, rng.normal(0, 0.3, num_frames)])
    inputs[:, :2] += rng.normal(0, 0.1, (num_frames, 2))
    return z, centroid, heading, kp, inputs


def synthetic_results(
    num_states: int = 6,
    num_recordings: int = 2,
    num_frames: int = 1500,
    fps: float = 30.0,
    seed: int = 0,
    expected_states: bool = True,
    fit_iters: int = 3,
    mask_every: int = 0,
):
    """A :class:`~ethogram.results.Results` of planted recordings labelled with their true
    syllables.

    The model is an AR-HMM (1 lag) fitted for ``fit_iters`` EM iterations on the inputs;
    labels are the planted ones (so tests know them), with every ``mask_every``-th block
    of 10 frames masked (-1) when ``mask_every`` > 0.
    """
    from ..models import HMM
    from ..results import RecordingResult, Results

    recs, sequences = [], []
    for i in range(num_recordings):
        z, cen, head, kp, x = planted_animal(num_frames, num_states, seed=seed + i, fps=fps)
        mask = np.ones(num_frames, dtype=bool)
        if mask_every:
            for a in range(0, num_frames, 10 * mask_every):
                mask[a : a + 10] = False
        z = np.where(mask, z, -1)
        xin = np.where(mask[:, None], x, np.nan)
        p = np.zeros((num_frames, num_states), dtype=np.float32)
        p[np.arange(num_frames), np.maximum(z, 0)] = 0.9
        p += 0.1 / num_states
        p[~mask] = np.nan
        recs.append(
            RecordingResult(
                name=f"mouse{i}",
                syllables=z,
                mask=mask,
                inputs=xin,
                fps=fps,
                centroid=cen,
                heading=head,
                timestamps=np.arange(num_frames) / fps,
                expected_states=p if expected_states else None,
                keypoints=kp,
                bodyparts=BODYPARTS,
                source=f"/data/mouse{i}.csv",
                format="dlc",
            )
        )
        sequences.append(xin)
    model = HMM(num_states, "autoregressive", dict(data_dim=3, num_lags=1), kappa=100.0)
    fit = model.fit(sequences, num_iters=fit_iters, seed=seed)
    return Results(
        model=model,
        preparation=None,
        recordings=recs,
        config={
            "command": "fit",
            "num_states": num_states,
            "num_lags": 1,
            "kappa": 100.0,
            "seed": seed,
            "recordings": [{"name": r.name} for r in recs],
        },
        fit={
            "objectives": np.asarray(fit.objectives),
            "marginal_lls": np.asarray(fit.marginal_lls),
            "restart_objectives": np.asarray(fit.restart_objectives),
            "converged": bool(fit.converged),
            "num_iters": int(fit.num_iters),
            "chosen_restart": int(fit.chosen_restart),
        },
        versions={"ethogram": "test", "numpy": np.__version__},
        created="2026-01-01T00:00:00Z",
    )
