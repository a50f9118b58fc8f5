"""The ``ethogram`` command line: thin wrappers that parse arguments and call the library.

Sub-commands so far: ``demo`` (the course's two synthetic experiments: sample a Gaussian HMM
and the spiral autoregressive HMM, fit both by EM from k-means, decode and print a summary)
and ``info`` (versions and thread settings). Reading real recordings, reports and movies
come with the application floor.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def _demo_gaussian(seed: int, out) -> None:
    from .behavior import match_states
    from .models import GaussianHMM
    from .models.examples import course_gaussian_hmm

    K, D, T = 5, 2, 2000
    truth = course_gaussian_hmm(K)
    states, data = truth.sample(T, seed=seed)
    model = GaussianHMM(K, D, seed=seed)
    t0 = time.perf_counter()
    result = model.fit(data, num_iters=100, seed=seed)
    elapsed = time.perf_counter() - t0
    acc, order = match_states(states, model.predict(data), K)
    print("Gaussian HMM (the course's experiment 1): K=5, D=2, T=2000, means on the unit circle", file=out)
    print(f"  EM iterations      {result.num_iters:>10d}   converged: {result.converged}", file=out)
    print(f"  fit time           {elapsed:>10.2f} s", file=out)
    print(f"  log p(x) fitted    {result.marginal_lls[-1]:>10.1f}   (true parameters: {truth.score(data):.1f})", file=out)
    print(f"  matched accuracy   {acc:>10.3f}   (Viterbi states vs. the sampled truth)", file=out)


def _demo_spiral(seed: int, out) -> None:
    from .behavior import match_states
    from .models import AutoregressiveHMM
    from .models.examples import course_spiral_arhmm

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
    fixed_fit = np.array([np.linalg.solve(eye - model.emission_dynamics[k][:, :D], model.emission_bias[k]) for k in range(K)])
    err = np.linalg.norm(fixed_true - fixed_fit, axis=1).max()
    print("Autoregressive HMM (the course's spiral): K=5, D=2, L=1, T=10000", file=out)
    print(f"  restarts           {len(result.restart_objectives):>10d}   best: #{result.chosen_restart}", file=out)
    print(f"  EM iterations      {result.num_iters:>10d}   converged: {result.converged}", file=out)
    print(f"  fit time           {elapsed:>10.2f} s", file=out)
    print(f"  log p(x) fitted    {result.marginal_lls[-1]:>10.1f}   (true parameters: {truth.score(data):.1f})", file=out)
    print(f"  matched accuracy   {acc:>10.3f}", file=out)
    print(f"  fixed points       max error {err:.4f} (each (I - A_k)^-1 b_k vs. the truth)", file=out)


def cmd_demo(args) -> int:
    """Run the synthetic demo."""
    out = sys.stdout
    print(f"ethogram demo (seed {args.seed})\n", file=out)
    _demo_gaussian(args.seed, out)
    print(file=out)
    _demo_spiral(args.seed, out)
    return 0


def cmd_info(args) -> int:
    """Print versions and thread settings."""
    import numba
    import scipy

    from . import __version__
    from .inference import get_num_threads

    print(f"ethogram {__version__}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, scipy {scipy.__version__}, numba {numba.__version__}")
    print(f"threads for batches: {get_num_threads()} (set ETHOGRAM_NUM_THREADS or ethogram.set_num_threads)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ethogram`` command."""
    parser = argparse.ArgumentParser(prog="ethogram", description="HMMs and ARHMMs for animal behavior.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="sample the course's HMM and ARHMM, fit them by EM, decode, summarise")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=cmd_demo)
    info = sub.add_parser("info", help="versions and thread settings")
    info.set_defaults(func=cmd_info)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``ethogram`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
