"""The course's synthetic demo (``ethogram demo --course``).

The course's two experiments: sample a Gaussian HMM and the spiral autoregressive HMM, fit
both by EM from k-means, decode and print a summary (matched accuracy, fixed points).
"""

from __future__ import annotations

import time

import numpy as np


def _demo_gaussian(seed: int, out) -> None:
    from ..analysis import match_states
    from ..models import GaussianHMM
    from ..models.examples import course_gaussian_hmm

    K, D, T = 5, 2, 2000
    truth = course_gaussian_hmm(K)
    states, data = truth.sample(T, seed=seed)
    model = GaussianHMM(K, D, seed=seed)
    t0 = time.perf_counter()
    result = model.fit(data, num_iters=100, seed=seed)
    elapsed = time.perf_counter() - t0
    acc, order = match_states(states, model.predict(data), K)
    print(
        "Gaussian HMM (the course's experiment 1): K=5, D=2, T=2000, means on the unit circle",
        file=out,
    )
    print(f"  EM iterations      {result.num_iters:>10d}   converged: {result.converged}", file=out)
    print(f"  fit time           {elapsed:>10.2f} s", file=out)
    print(
        f"  log p(x) fitted    {result.marginal_lls[-1]:>10.1f}   (true parameters: "
        f"{truth.score(data):.1f})",
        file=out,
    )
    print(f"  matched accuracy   {acc:>10.3f}   (Viterbi states vs. the sampled truth)", file=out)


def _demo_spiral(seed: int, out) -> None:
    from ..analysis import match_states
    from ..models import AutoregressiveHMM
    from ..models.examples import course_spiral_arhmm

    K, D, T = 5, 2, 10000
    truth = course_spiral_arhmm(K)
    dynamics, bias, P = truth.emission_dynamics, truth.emission_bias, truth.transition_matrix
    states, data = truth.sample(T, seed=seed)
    model = AutoregressiveHMM(K, D, num_lags=1, transition_matrix=P, seed=seed)
    t0 = time.perf_counter()
    result = model.fit(data, num_iters=100, num_restarts=8, seed=seed)
    elapsed = time.perf_counter() - t0
    acc, order = match_states(states, model.predict(data), K)
    model.permute(order)
    eye = np.eye(D)
    fixed_true = np.array([np.linalg.solve(eye - dynamics[k], bias[k]) for k in range(K)])
    fixed_fit = np.array(
        [
            np.linalg.solve(eye - model.emission_dynamics[k][:, :D], model.emission_bias[k])
            for k in range(K)
        ]
    )
    err = np.linalg.norm(fixed_true - fixed_fit, axis=1).max()
    print("Autoregressive HMM (the course's spiral): K=5, D=2, L=1, T=10000", file=out)
    print(
        f"  restarts           {len(result.restart_objectives):>10d}   best: "
        f"#{result.chosen_restart}",
        file=out,
    )
    print(f"  EM iterations      {result.num_iters:>10d}   converged: {result.converged}", file=out)
    print(f"  fit time           {elapsed:>10.2f} s", file=out)
    print(
        f"  log p(x) fitted    {result.marginal_lls[-1]:>10.1f}   (true parameters: "
        f"{truth.score(data):.1f})",
        file=out,
    )
    print(f"  matched accuracy   {acc:>10.3f}", file=out)
    print(
        f"  fixed points       max error {err:.4f} (each (I - A_k)^-1 b_k vs. the truth)", file=out
    )


def run_course_demo(seed: int, out) -> int:
    """Run both course experiments with ``seed`` and print their summaries to ``out``."""
    print(f"ethogram demo --course (seed {seed})\n", file=out)
    _demo_gaussian(seed, out)
    print(file=out)
    _demo_spiral(seed, out)
    return 0
