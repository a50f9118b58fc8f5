"""The held-out data of cross-validation: the arguments of :func:`.crossval.cross_validate`
checked, and its folds, either a contiguous block of frames of every recording
(``split="time"``) or whole recordings (``split="recordings"``). Each fold is a dict of the
sequences and masks to train on and to score, and (time split) the held-out frames.
"""

from __future__ import annotations

import numpy as np


def _time_blocks(T: int, heldout_fraction: float, num_folds: int) -> list[tuple[int, int]]:
    """Held-out block [start, stop) of each fold: fold 0 is the last block of the recording,
    later folds are spread evenly towards its start."""
    n = max(1, int(round(heldout_fraction * T)))
    starts = np.linspace(T - n, 0, num_folds) if num_folds > 1 else np.array([T - n])
    return [(int(round(s)), int(round(s)) + n) for s in starts]


def _check_cv_arguments(num_states_list, split, heldout_fraction, num_restarts, num_folds) -> list:
    """The Ks of :func:`cross_validate`, its other arguments checked."""
    Ks = [int(k) for k in np.atleast_1d(num_states_list)]
    if not Ks or min(Ks) < 1 or len(set(Ks)) != len(Ks):
        raise ValueError(
            f"num_states_list must hold distinct positive integers, got {num_states_list!r}"
        )
    if split not in ("time", "recordings"):
        raise ValueError(f"split must be 'time' or 'recordings', got {split!r}")
    if not 0 < heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must be in (0, 1), got {heldout_fraction!r}")
    if isinstance(num_restarts, bool) or int(num_restarts) != num_restarts or num_restarts < 1:
        raise ValueError(f"num_restarts must be a positive integer, got {num_restarts!r}")
    if isinstance(num_folds, bool) or int(num_folds) != num_folds or num_folds < 1:
        raise ValueError(f"num_folds must be a positive integer, got {num_folds!r}")
    return Ks


def _folds(sequences, masks, split: str, heldout_fraction: float, num_folds: int, seed) -> list:
    """One dict per fold: training and scored sequences and masks, and (time split) the
    held-out frames of every recording."""
    if split == "time":
        return _time_folds(sequences, masks, heldout_fraction, num_folds)
    N = len(sequences)
    if N < 2:
        raise ValueError(
            "split='recordings' needs at least two recordings; use split='time' for one"
        )
    n = min(N - 1, max(1, int(round(heldout_fraction * N))))
    order = np.random.default_rng(
        np.random.SeedSequence(int(seed), spawn_key=(2**31,))
    ).permutation(N)
    folds = []
    for f in range(num_folds):
        out = {int(order[(f * n + j) % N]) for j in range(n)}
        tr = [i for i in range(N) if i not in out]
        te = sorted(out)
        folds.append(
            {
                "train": [sequences[i] for i in tr],
                "train_masks": [masks[i] for i in tr],
                "score": [sequences[i] for i in te],
                "score_masks": [masks[i] for i in te],
                "heldout": None,
            }
        )
    return folds


def _time_folds(sequences, masks, heldout_fraction: float, num_folds: int) -> list:
    """The folds of ``split="time"``: a block of frames of every recording held out."""
    blocks = [_time_blocks(d.shape[0], heldout_fraction, num_folds) for d in sequences]
    folds = []
    for f in range(num_folds):
        train_masks, held = [], []
        for d, m, bl in zip(sequences, masks, blocks):
            h = np.zeros(d.shape[0], dtype=bool)
            h[bl[f][0] : bl[f][1]] = True
            base = np.ones(d.shape[0], dtype=bool) if m is None else m
            train_masks.append(base & ~h)
            held.append(h)
        folds.append(
            {
                "train": sequences,
                "train_masks": train_masks,
                "score": sequences,
                "score_masks": masks,
                "heldout": held,
            }
        )
    return folds
