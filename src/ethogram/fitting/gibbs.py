"""The Gibbs sampling loop: a global step here, then one local step per sequence on an executor.

:func:`run_gibbs` knows no model class: a model takes part through a small protocol
(``describe``, ``get_params``/``set_params``, ``global_step``, ``local_step_function``,
optionally ``local_params``, and ``num_states``), and every draw has its own generator derived
from the seed, the stream, the iteration and the sequence, so a seed gives the same bits whatever
the executor, the number of threads or workers, and across an interruption and resume. The
protocol's signatures, the iterations and the seeding: docs/design-notes.md,
"fitting/gibbs.py"; checkpoints: :mod:`.gibbs_checkpoint`.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import numpy as np

from .._deprecation import renamed_keywords
from .._progress import progress_bar
from ..inference import one_blas_thread
from .executors import resolve_executor, run_job
from .gibbs_run import GibbsRun

__all__ = ["GibbsRun", "GibbsSettings", "run_gibbs", "stream_seed", "sum_arrays"]

#: ``spawn_key`` streams of the seed
GLOBAL_STREAM, LOCAL_STREAM, INIT_STREAM = 0, 1, 2
MARGINAL_KINDS = ("samples", "smoother")


@dataclass(frozen=True)
class GibbsSettings:
    """What a Gibbs run does (all of it enters a checkpoint's fingerprint).

    Attributes
    ----------
    num_iters : int, default 50
        Sweeps after the initial local step (keypoint-moseq's ``fit_model(num_iters=n)``
        makes n + 1).
    marginals_from_last : int, default 0
        Average per-frame state marginals over the last this many iterations (0: none;
        at most ``num_iters + 1``, which includes the initial step).
    marginals : {"samples", "smoother"}, default "samples"
        Average the sampled states (counts) or the local steps' posterior marginals
        (jax-moseq's ``estimate_syllable_marginals`` averages the latter).
    states_only : bool, default False
        Skip the global step: local steps only, with fixed parameters (jax-moseq's
        ``states_only``, as in keypoint-moseq's ``apply_model``).
    """

    num_iters: int = 50
    marginals_from_last: int = 0
    marginals: str = "samples"
    states_only: bool = False

    def __post_init__(self):
        for name in ("num_iters", "marginals_from_last"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
        if self.marginals_from_last > self.num_iters + 1:
            raise ValueError(
                f"marginals_from_last ({self.marginals_from_last}) must be at most num_iters + 1 "
                f"({self.num_iters + 1}): there are no more samples to average"
            )
        if self.marginals not in MARGINAL_KINDS:
            raise ValueError(f"marginals must be one of {MARGINAL_KINDS}, got {self.marginals!r}")

    def collects(self, iteration: int) -> bool:
        """Whether iteration ``iteration`` adds to the marginals."""
        return iteration > self.num_iters - self.marginals_from_last

    def to_dict(self) -> dict:
        """Plain values (for fingerprints)."""
        return asdict(self)


def stream_seed(entropy: int, stream: int, *key: int) -> np.random.SeedSequence:
    """The seed of one draw: ``SeedSequence(entropy, spawn_key=(stream, *key))``."""
    return np.random.SeedSequence(int(entropy), spawn_key=(int(stream),) + tuple(map(int, key)))


def stream_rng(entropy: int, stream: int, *key: int) -> np.random.Generator:
    """A generator seeded by :func:`stream_seed`."""
    return np.random.default_rng(stream_seed(entropy, stream, *key))


def sum_arrays(parts) -> dict:
    """Add dicts of arrays key by key, left to right in the order given (deterministic)."""
    parts = list(parts)
    if not parts:
        raise ValueError("sum_arrays needs at least one dict of statistics (no sequences given)")
    keys = parts[0].keys()
    total = {k: np.array(v, copy=True) for k, v in parts[0].items()}
    for p in parts[1:]:
        if p.keys() != keys:
            raise ValueError(f"statistics with different keys: {sorted(keys)} vs {sorted(p)}")
        for k in keys:
            total[k] = total[k] + p[k]
    return total


def _local_steps(model, sequences, masks, run, iteration, collect, executor):
    """Run the local step of every sequence as one job each; results in input order."""
    params = model.local_params() if hasattr(model, "local_params") else model.get_params()
    description = model.describe()
    fn = model.local_step_function
    states = run.local_states if run is not None else [None] * len(sequences)
    entropy = run.seed_entropy
    jobs = [
        (
            fn,
            params,
            description,
            d,
            m,
            s,
            stream_seed(entropy, LOCAL_STREAM, iteration, n),
            collect,
        )
        for n, (d, m, s) in enumerate(zip(sequences, masks, states))
    ]
    return list(executor.map(run_job, jobs))


def _add_marginals(run, model, results) -> None:
    """Add the iteration's marginals (paths as counts, or probabilities) to the run's sums."""
    if run.marginal_sums is None:
        run.marginal_sums = [None] * len(results)
    for n, (*_, marg) in enumerate(results):
        marg = np.asarray(marg)
        if marg.ndim == 1:  # a sampled path: count it
            hot = np.zeros((marg.shape[0], int(model.num_states)))
            hot[np.arange(marg.shape[0]), marg] = 1.0
            marg = hot
        prev = run.marginal_sums[n]
        run.marginal_sums[n] = marg.astype(np.float64) if prev is None else prev + marg
    run.marginal_count += 1


def _absorb(run, model, results, iteration: int, collected: bool) -> None:
    """Store one iteration's local states, summed statistics and log joint in ``run``."""
    run.local_states = [r[0] for r in results]
    run.stats = sum_arrays(r[1] for r in results)
    for group in results[0][2]:
        total = 0.0
        for r in results:
            total += float(r[2][group])
        run.log_joint.setdefault(group, []).append(total)
    run.iteration = iteration
    run.params = model.get_params()
    if collected:
        _add_marginals(run, model, results)


def _check_sequences(sequences, masks) -> None:
    if not isinstance(sequences, (list, tuple)) or not sequences:
        raise ValueError("sequences must be a non-empty list of arrays")
    if not isinstance(masks, (list, tuple)) or len(masks) != len(sequences):
        raise ValueError(
            f"masks must be a list with one mask (or None) per sequence: got {len(sequences)} "
            f"sequences and {len(masks) if isinstance(masks, (list, tuple)) else masks!r} masks"
        )


def _start(model, sequences, masks, settings, entropy, initialize, ex):
    """Iteration 0: starting parameters (``initialize``), then the first local steps."""
    if initialize is not None:
        initialize(stream_rng(entropy, INIT_STREAM, 0))
    run = GibbsRun(model.get_params(), [None] * len(sequences), {}, seed_entropy=entropy)
    collect = settings.marginals if settings.collects(0) else None
    results = _local_steps(model, sequences, masks, run, 0, collect, ex)
    _absorb(run, model, results, 0, collect is not None)
    return run


def _sweep(model, sequences, masks, settings, run, iteration, ex) -> None:
    """One iteration: the global step (unless states only), then the local steps."""
    if not settings.states_only:
        model.global_step(run.stats, stream_rng(run.seed_entropy, GLOBAL_STREAM, iteration))
    collect = settings.marginals if settings.collects(iteration) else None
    results = _local_steps(model, sequences, masks, run, iteration, collect, ex)
    _absorb(run, model, results, iteration, collect is not None)


@renamed_keywords(datas="sequences")
def run_gibbs(
    model,
    sequences,
    masks,
    settings: GibbsSettings = GibbsSettings(),
    *,
    seed=None,
    initialize=None,
    executor=None,
    num_threads=None,
    checkpoint=None,
    progress=None,
    start: GibbsRun | None = None,
    desc: str = "Gibbs",
    fingerprint_extra: dict | None = None,
) -> GibbsRun:
    """Run the Gibbs sampler (see the module docstring for the model's protocol).

    Parameters
    ----------
    model : object
        Follows the protocol of the module docstring; its parameters are updated in place
        and end as those of the returned run.
    sequences : list of array_like
        Sequences (anything the model's local step takes), in a fixed order.
    masks : list of (array_like of bool or None)
        One per sequence.
    settings : GibbsSettings
    seed : int, numpy.random.Generator or None
        Entropy of every draw (:func:`ethogram.fitting.checkpoint.resolve_seed`).
    initialize : callable, optional
        ``initialize(rng)`` sets the starting parameters (not called when resuming); None:
        start from the model's current parameters.
    executor : object with ``map``, optional
        Where the local steps run (see :mod:`.executors`); default a thread pool.
    num_threads : int, optional
        Threads of the default executor.
    checkpoint : Checkpointing (CheckpointSettings), optional
        Write the run's state every ``checkpoint.every`` iterations (and resume from it
        with ``checkpoint.resume``); see :mod:`.gibbs_checkpoint`.
    progress : bool or None
        A tqdm bar (None: only on an interactive terminal;
        True: also in a log file, as a line every 30 s).
    start : GibbsRun, optional
        Continue this run (from its iteration, with its seed) instead of starting; it is
        copied, not changed.
    desc : str
        Label of the progress bar.
    fingerprint_extra : dict, optional
        JSON-able values a checkpoint must match to be resumed, besides the settings, the
        description, the data and the seed (e.g. how the starting parameters were chosen).

    Returns
    -------
    GibbsRun
        After ``settings.num_iters`` iterations.

    Raises
    ------
    ValueError
        On inconsistent inputs or a checkpoint of another run.
    """
    from .checkpoint import resolve_seed
    from .gibbs_checkpoint import open_or_start, save_run

    _check_sequences(sequences, masks)
    if not isinstance(settings, GibbsSettings):
        raise TypeError(f"settings must be a GibbsSettings, got {type(settings).__name__}")
    with one_blas_thread():  # many small BLAS calls: threads only cost (see one_blas_thread)
        ex = resolve_executor(executor, num_threads)
        run, fingerprint = (None if start is None else copy.deepcopy(start)), None
        if checkpoint is not None and checkpoint.path is None:  # CheckpointSettings(): none
            checkpoint = None
        if checkpoint is not None:
            run, fingerprint = open_or_start(
                checkpoint, model, sequences, masks, settings, seed, run, fingerprint_extra
            )
        if run is None:
            entropy = int(fingerprint["seed_entropy"]) if fingerprint else resolve_seed(seed)
            run = _start(model, sequences, masks, settings, entropy, initialize, ex)
            if checkpoint is not None:
                save_run(checkpoint.path, run, fingerprint, model.describe())
        else:
            model.set_params(run.params)
        bar = progress_bar(settings.num_iters, desc, progress, initial=run.iteration, leave=False)
        try:
            for it in range(run.iteration + 1, settings.num_iters + 1):
                _sweep(model, sequences, masks, settings, run, it, ex)
                bar.update(1)
                bar.set_postfix(log_joint=f"{run.log_joint_total[-1]:.6g}")
                if checkpoint is not None and (
                    it % checkpoint.every == 0 or it == settings.num_iters
                ):
                    save_run(checkpoint.path, run, fingerprint, model.describe())
        finally:
            bar.close()
    return run
