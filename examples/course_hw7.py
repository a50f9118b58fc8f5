"""The course's assignment 7 (STATS305C, "Segmenting behavioral videos with autoregressive HMMs")
on ethogram, parts 1 to 4, ending on a real MoSeq2 recording.

Run: ``python examples/course_hw7.py`` (about a minute on one core). Part 4 reads
``../shared/data/moseq2/proc/results_00.h5`` beside the repository (the course's own NWB files
are not available here; this is a real moseq2 extraction of one mouse, 908 frames at 30 fps)
and is skipped with a message when it is absent. Pass ``--out DIR`` to keep part 4's results
file (open it with ``ethogram info DIR/results.h5``).

The course wrote every piece by hand in PyTorch; here each piece is one call:

- part 1, forward-backward: :func:`ethogram.forward_backward` (exact, numba), timed at the
  course's size T = 36000, K = 50 (the course's target: about 3 s; its solution took 6 s);
- part 2, Gaussian HMM: :class:`ethogram.GaussianHMM` sampled, fitted by EM, and K chosen by
  held-out log-likelihood with restarts (the course's problem 2b);
- part 3, autoregressive HMM: the course's spiral, fitted by EM; states matched to the truth;
- part 4, real mouse: :func:`ethogram.pipeline.fit_recordings` (10 standardized PCs, sticky
  ARHMM) and the syllable tables of :mod:`ethogram.analysis`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import ethogram as eg
from ethogram.analysis import match_states, syllable_summary
from ethogram.models.examples import course_gaussian_hmm, course_spiral_arhmm

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SEED = 305 + ord("c")  # the course's seed


def part1_forward_backward() -> None:
    """Forward-backward on random inputs of the course's size, and its exactness on a tiny case."""
    print("Part 1: forward-backward")
    rng = np.random.default_rng(SEED)
    K = 3
    pi0 = rng.dirichlet(np.ones(K))
    P = rng.dirichlet(np.ones(K), size=K)
    ll = rng.normal(size=(4, K))
    post = eg.forward_backward(pi0, P, ll)
    # brute force over all K^T paths
    import itertools

    joint = {}
    for z in itertools.product(range(K), repeat=4):
        joint[z] = np.log(pi0[z[0]]) + sum(np.log(P[a, b]) for a, b in zip(z[:-1], z[1:])) + sum(ll[t, k] for t, k in enumerate(z))
    logs = np.array(list(joint.values()))
    marginal = np.log(np.exp(logs - logs.max()).sum()) + logs.max()
    print(f"  tiny case (T=4, K=3): log p(x) {post.marginal_ll:.12f}, brute force {marginal:.12f}")

    T, K = 36000, 50
    pi0 = np.full(K, 1.0 / K)
    P = rng.dirichlet(np.ones(K), size=K)
    ll = rng.normal(size=(T, K))
    eg.forward_backward(pi0, P, ll[:100])  # compile once
    t0 = time.perf_counter()
    post = eg.forward_backward(pi0, P, ll)
    print(f"  T={T}, K={K}: {time.perf_counter() - t0:.3f} s (the course's target: about 3 s)")


def part2_gaussian_hmm() -> None:
    """Sample the course's Gaussian HMM, fit it, and choose K by held-out likelihood."""
    print("Part 2: Gaussian HMM")
    true_hmm = course_gaussian_hmm(5)
    states, emissions = true_hmm.sample(200, seed=SEED)
    hmm = eg.GaussianHMM(5, 2, seed=0)
    lls, posterior = hmm.fit(emissions, num_iters=100)
    acc, _ = match_states(states, posterior.expected_states.argmax(axis=1), 5)
    print(f"  200 frames: EM log p(x) {lls[0]:.1f} -> {lls[-1]:.1f} in {len(lls) - 1} iterations; matched accuracy {acc:.3f}")

    # problem 2b: held-out log-likelihood per frame of the dev frames, best of 5 restarts per K
    _, x = true_hmm.sample(400, seed=SEED)
    train_cut, dev_cut = 300, 350
    print("  cross-validation (train 300 frames, dev 50):")
    for K in range(2, 10):
        model = eg.GaussianHMM(K, 2)
        model.fit(x[:train_cut], num_iters=100, num_restarts=5, seed=K)
        dev = (model.score(x[:dev_cut]) - model.score(x[:train_cut])) / (dev_cut - train_cut)
        print(f"    K={K}: dev log-likelihood per frame {dev:8.4f}")


def part3_arhmm() -> None:
    """The course's spiral ARHMM: sample, fit by EM, compare states and fixed points."""
    print("Part 3: autoregressive HMM (the spiral)")
    truth = course_spiral_arhmm(5)
    states, data = truth.sample(10000, seed=SEED)
    arhmm = eg.AutoregressiveHMM(5, 2, num_lags=1, seed=0)
    t0 = time.perf_counter()
    lls, posterior = arhmm.fit(data, num_iters=25, seed=SEED)  # seeded: the example gives the same numbers every run
    elapsed = time.perf_counter() - t0
    acc, order = match_states(states, arhmm.predict(data), 5)
    arhmm.permute(order)
    eye = np.eye(2)
    fixed_true = np.array([np.linalg.solve(eye - truth.emission_dynamics[k], truth.emission_bias[k]) for k in range(5)])
    fixed_fit = np.array([np.linalg.solve(eye - arhmm.emission_dynamics[k][:, :2], arhmm.emission_bias[k]) for k in range(5)])
    print(f"  10000 frames, 25 EM iterations in {elapsed:.2f} s: matched accuracy {acc:.3f}, "
          f"fixed points within {np.linalg.norm(fixed_true - fixed_fit, axis=1).max():.4f} of the truth")


def part4_mouse(out: Path | None) -> None:
    """A sticky ARHMM on the real moseq2 recording: 10 standardized PCs, syllables and their table."""
    print("Part 4: the ARHMM on a real mouse (moseq2 extraction)")
    path = DATA / "moseq2" / "proc" / "results_00.h5"
    if not path.exists():
        print(f"  skipped: {path} is absent (the shared real-data folder is not on this machine)")
        return
    from ethogram.io import read_recordings
    from ethogram.pipeline import fit_recordings
    from ethogram.prep import Preparation

    recordings = read_recordings([str(path)])
    rec = recordings[0]
    dropped = int(np.isnan(rec.data).any(axis=1).sum())
    print(f"  {rec.name}: {rec.num_frames} frames at {rec.fps:g} fps, {rec.data.shape[1]} PCs stored, {dropped} dropped frames (masked)")
    # the course: 25 states on 36000 frames; this recording has 908 frames, so fewer states
    t0 = time.perf_counter()
    results = fit_recordings(recordings, num_states=8, num_lags=3, prep=Preparation(num_pcs=10), num_iters=50, num_restarts=3, seed=0)
    fit = results.fit
    print(f"  K=8, 3 lags, kappa {results.config['kappa_used']:.4g}: {fit['num_iters']} EM iterations, "
          f"best of 3 restarts, {time.perf_counter() - t0:.2f} s")
    r = results.recordings[0]
    table = syllable_summary(results.syllables(), fps=results.fps(), centroid={r.name: r.centroid}, num_states=results.num_states)
    print(table[["instances", "frequency", "frame_fraction", "median_duration_s", "mean_speed_px_s"]].round(3).to_string())
    if out is not None:
        from ethogram.results import write_results

        out.mkdir(parents=True, exist_ok=True)
        write_results(out / "results.h5", results, overwrite=True)
        print(f"  results: {out / 'results.h5'}")


def main(argv=None) -> int:
    """Run the four parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep part 4's results in this folder")
    args = parser.parse_args(argv)
    part1_forward_backward()
    print()
    part2_gaussian_hmm()
    print()
    part3_arhmm()
    print()
    part4_mouse(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
