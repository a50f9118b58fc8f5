"""study_ar_prior.py's protocol and fits: the ridges, kappas and folds, and one fit per cell.

:func:`study` prepares one data set as ``ethogram fit`` does, cuts every recording into
``NUM_FOLDS`` time folds and fits the pipeline's sticky AR-HMM for every ridge in ``RIDGES``,
kappa factor and seed (and, with ``noise``, every noise prior of ``NOISE_PRIORS`` at kappa x1);
:func:`one_fit` scores one fit on the held-out block and measures its syllable durations.
"""

from __future__ import annotations

import _one_thread  # noqa: F401  (pins threads before numpy is imported)

# isort: split

import time

import numpy as np

#: ridges on standardized inputs; 1e-4 is today's default (DEFAULT_RELATIVE_PRIOR x variance 1)
RIDGES = (1e-4, 1e-2, 0.1, 1.0, 10.0, 100.0)
KAPPA_FACTORS = (1, 10, 100)
NUM_FOLDS = 4
NUM_LAGS = 3
MAX_FRAMES = 100_000
USED_FRACTION = 0.005
DEFAULT_K = 20  # ethogram.pipeline.DEFAULT_NUM_STATES, checked in main()
#: side measurement (kappa x1 only): the inverse-Wishart prior on the noise covariances, which
#: the ridge study showed to matter as much; label -> observation kwargs (absolute on
#: standardized inputs; n0 = prior_count pseudo-frames pulling Q_k towards s0 I)
NOISE_PRIORS = {
    "n0=1, s0=1e-4 (today)": {},
    "n0=1, s0=0.01 (keypoint-moseq S_0)": {"prior_scale": 0.01},
    "n0=1, s0=0.1": {"prior_scale": 0.1},
    "n0=10, s0=0.01": {"prior_count": 10.0, "prior_scale": 0.01},
}
NOISE_RIDGES = (1e-4, 0.1, 1.0, 10.0)


def prepare(loader):
    """Standardized model inputs (NaN where masked), masks, fps and the input dimension."""
    from ethogram.prep import Preparation, model_inputs

    recs, prep_kwargs = loader()
    prepared = Preparation(**prep_kwargs).fit_transform(recs)
    sequences, masks, fps_values = model_inputs(prepared)
    out_d, out_m, total = [], [], 0
    for d, m in zip(sequences, masks):  # at most MAX_FRAMES frames in all
        n = min(d.shape[0], MAX_FRAMES - total)
        if n <= 4 * NUM_LAGS or m[:n].sum() <= 4 * NUM_LAGS:
            continue
        out_d.append(d[:n])
        out_m.append(m[:n])
        total += n
    return out_d, out_m, float(np.median(fps_values)), sequences[0].shape[1], [r.name for r in recs]


def split(masks, fold: int):
    """Training masks and held-out indicators of one fold: block ``fold`` of ``NUM_FOLDS``
    contiguous blocks of every recording is held out (fold NUM_FOLDS - 1: the last 25%)."""
    train, held = [], []
    for m in masks:
        T = m.shape[0]
        edges = np.linspace(0, T, NUM_FOLDS + 1).round().astype(int)
        h = np.zeros(T, dtype=bool)
        h[edges[fold] : edges[fold + 1]] = True
        train.append(m & ~h)
        held.append(h)
    return train, held


def run_lengths_by_state(labels, K):
    """All run lengths (frames) and each state's median run length (NaN for unused states)."""
    from ethogram.selection import run_lengths

    runs, states = [], []
    for z in labels:
        z = np.asarray(z)
        starts = np.r_[0, np.flatnonzero(z[1:] != z[:-1]) + 1]
        lengths = np.diff(np.r_[starts, z.size])
        keep = z[starts] >= 0
        runs.append(lengths[keep])
        states.append(z[starts][keep])
    runs, states = np.concatenate(runs), np.concatenate(states)
    assert np.array_equal(np.sort(runs), np.sort(run_lengths(list(labels))))
    med = np.array(
        [np.median(runs[states == k]) if (states == k).any() else np.nan for k in range(K)]
    )
    return runs, med


def one_fit(sequences, masks, train, held, fps, K, ridge, kappa, seed, noise=None) -> dict:
    """Fit on the training frames at (ridge, kappa, seed) and noise prior ``noise`` (observation
    kwargs, today's default when None); score and label (see study_ar_prior.py --help)."""
    from ethogram.models import HMM
    from ethogram.pipeline import DEFAULT_NUM_ITERS

    D = sequences[0].shape[1]
    model = HMM(
        K,
        "autoregressive",
        dict(data_dim=D, num_lags=NUM_LAGS, prior_ridge=ridge, **(noise or {})),
        kappa=kappa,
    )
    t0 = time.perf_counter()
    fit = model.fit(
        sequences,
        mask=train,
        num_iters=DEFAULT_NUM_ITERS,
        seed=seed,
        progress=False,
        posterior=False,
    )
    seconds = time.perf_counter() - t0
    obs = model.observations
    scored_train = [obs.effective_mask(d, m) for d, m in zip(sequences, train)]
    n_train = sum(
        int(s.sum()) if s is not None else d.shape[0] for s, d in zip(scored_train, sequences)
    )
    train_ll = model.score(sequences, mask=train) / n_train
    frames = model.score(sequences, mask=masks, per_frame=True)
    ll, n_held = 0.0, 0
    for f, d, m, h in zip(frames, sequences, masks, held):
        eff = obs.effective_mask(d, m)
        use = h & (np.ones(d.shape[0], bool) if eff is None else eff)
        ll += float(f[use].sum())
        n_held += int(use.sum())
    labels = model.predict(sequences, mask=train)
    labels = [np.where(m, np.asarray(z, dtype=np.int64), -1) for z, m in zip(labels, train)]
    runs, med_state = run_lengths_by_state(labels, K)
    lab = np.concatenate(labels)
    usage = np.bincount(lab[lab >= 0], minlength=K) / max(1, int((lab >= 0).sum()))
    med = float(np.median(runs))
    return {
        "ridge": ridge,
        "kappa": kappa,
        "seed": seed,
        "heldout_ll_per_frame": ll / n_held,
        "train_ll_per_frame": float(train_ll),
        "num_heldout_frames": n_held,
        "num_train_frames": n_train,
        "median_duration_frames": med,
        "median_duration_ms": 1000.0 * med / fps,
        "one_frame_syllables": int(np.sum(med_state == 1)),
        "used_syllables": int(np.sum(usage > USED_FRACTION)),
        "syllables_with_runs": int(np.sum(np.isfinite(med_state))),
        "fit_seconds": seconds,
        "num_iters": int(fit.num_iters),
        "converged": bool(fit.converged),
        "objective": float(fit.objectives[-1]),
    }


def study(name, loader, K, seeds, log, noise=True) -> dict:
    """Every (ridge, kappa factor, fold, seed) fit of one data set, and with ``noise`` every
    (noise prior, ridge in NOISE_RIDGES, fold, seed) fit at kappa x1 (``noise_rows``)."""
    from ethogram.stickiness import reference_kappa

    sequences, masks, fps, D, names = prepare(loader)
    rows, kappas, noise_rows = [], [], []
    for fold in range(NUM_FOLDS):
        train, held = split(masks, fold)
        usable = int(sum(int(m.sum()) for m in train))
        kappa0 = reference_kappa(usable, K, 0.4 * fps)  # the default kappa when this study ran
        kappas.append(kappa0)
        for ridge in RIDGES:
            for factor in KAPPA_FACTORS:
                for seed in range(seeds):
                    row = one_fit(
                        sequences, masks, train, held, fps, K, ridge, kappa0 * factor, seed
                    )
                    row.update(kappa_factor=factor, fold=fold)
                    rows.append(row)
            r = [
                x
                for x in rows
                if x["fold"] == fold and x["ridge"] == ridge and x["kappa_factor"] == 1
            ]
            log(
                f"{name} fold {fold} r={ridge:g} (kappa x1, {seeds} seeds): held-out "
                f"{np.mean([x['heldout_ll_per_frame'] for x in r]):.3f} train "
                f"{np.mean([x['train_ll_per_frame'] for x in r]):.3f} "
                f"median {np.mean([x['median_duration_frames'] for x in r]):.1f} fr, "
                f"used {np.mean([x['used_syllables'] for x in r]):.1f}, "
                f"{np.mean([x['fit_seconds'] for x in r]):.2f} s/fit"
            )
        for label, kw in (
            list(NOISE_PRIORS.items())[1:] if noise else []
        ):  # today's prior: the rows above
            for ridge in NOISE_RIDGES:
                for seed in range(seeds):
                    row = one_fit(
                        sequences, masks, train, held, fps, K, ridge, kappa0, seed, noise=kw
                    )
                    row.update(kappa_factor=1, fold=fold, noise=label)
                    noise_rows.append(row)
            log(f"{name} fold {fold} noise prior {label}: done")
    return {
        "name": name,
        "fps": fps,
        "input_dim": D,
        "recordings": names,
        "frames": [int(d.shape[0]) for d in sequences],
        "usable_frames": int(sum(int(m.sum()) for m in masks)),
        "kappa_default_per_fold": kappas,
        "rows": rows,
        "noise_rows": noise_rows,
    }
