"""Stickiness to a target duration: the kappa that makes the median syllable last as long as asked.
The search runs over log kappa: a first fit at ``kappa_start`` (default: the number of frames
per state, where the prior starts to matter), then brackets of ``candidates_per_round`` kappas,
each ``factor`` times the previous, until the target median Viterbi run is crossed (or
``kappa_min``/``kappa_max`` passed), then rounds of points spaced evenly in log kappa inside the
bracket (a multisection that runs in parallel) until a median lands within ``rel_tol`` of the
target. Every fit starts cold from k-means with the same seed, so the curve is a function of
kappa alone, the pipeline's fit at the chosen kappa reproduces the chosen fit, and the result
does not depend on the number of workers; ``message`` says when kappa exceeds a thousand times
the number of frames (the emissions rather than the prior then set the durations). Why kappa
acts on the log scale, why over-fitted AR states outweigh it, why warm starts are off, and the
measurements behind them: ``docs/kappa_search.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._deprecation import renamed_keywords
from ._common import (
    build_model,
    check_sequences,
    fit_model,
    model_spec,
    run_lengths,
    selection_settings,
    viterbi_labels,
)
from ._parallel import run_tasks


@dataclass
class KappaSearch:
    """Outcome of :func:`find_kappa`.

    Attributes
    ----------
    kappa : float
        Chosen stickiness (the evaluated kappa whose median duration is closest to the target).
    median_duration : float
        Median Viterbi run length at ``kappa``, in frames.
    target_frames : float
        Target median duration in frames.
    reached : bool
        Whether ``median_duration`` is within ``rel_tol`` of the target.
    curve : pandas.DataFrame
        Every evaluated fit, by increasing kappa: ``kappa, median_duration`` (frames),
        ``median_duration_s`` (when fps is known), ``mean_duration``, ``num_runs``,
        ``states_used``, ``objective``, ``num_iters``, ``round``, ``kappa_per_frame``.
    params : dict
        Parameters of the fit at ``kappa`` (``HMM.get_params()``).
    spec : dict
        How to rebuild the model (:meth:`model`).
    message : str
        What happened, in one or two sentences.
    """

    kappa: float
    median_duration: float
    target_frames: float
    reached: bool
    curve: object
    params: dict = field(repr=False)
    spec: dict = field(repr=False)
    message: str = ""

    def model(self):
        """The fitted :class:`ethogram.HMM` at the chosen kappa."""
        m = build_model(dict(self.spec, kappa=self.kappa))
        m.set_params(self.params)
        return m


@renamed_keywords(datas="data", masks="mask")
def median_duration(model, data, mask=None) -> float:
    """Median length (frames) of the Viterbi runs of ``model`` on ``data`` (NaN if none).

    Runs are split at unobserved frames and at the ends of recordings.
    """
    sequences, masks = check_sequences(data, mask)
    d = run_lengths(viterbi_labels(model, sequences, masks))
    return float(np.median(d)) if d.size else np.nan


def _kappa_task(task: dict) -> dict:
    spec = dict(task["spec"], kappa=task["kappa"])
    rng = (
        task["seed"] if task["params"] is None else None
    )  # the seed as HMM.fit and the pipeline take it
    model, objective, iters = fit_model(
        spec,
        task["sequences"],
        task["masks"],
        task["em"],
        rng=rng,
        params=task["params"],
        num_threads=task["num_threads"],
    )
    labels = viterbi_labels(model, task["sequences"], task["masks"])
    d = run_lengths(labels)
    used = np.unique(np.concatenate(labels))
    return {
        "kappa": task["kappa"],
        "median_duration": float(np.median(d)) if d.size else np.nan,
        "mean_duration": float(d.mean()) if d.size else np.nan,
        "num_runs": int(d.size),
        "states_used": int((used >= 0).sum()),
        "objective": objective,
        "num_iters": iters,
        "params": model.get_params(),
    }


@renamed_keywords(datas="data", masks="mask")
def find_kappa(
    data,
    num_states,
    target_duration=0.4,
    fps=None,
    target_frames=None,
    model="autoregressive",
    observation_kwargs=None,
    mask=None,
    kappa_start=None,
    kappa_min=1e-2,
    kappa_max=1e12,
    factor=10.0,
    rel_tol=0.1,
    max_rounds=12,
    candidates_per_round=2,
    num_iters=None,
    tol=None,
    seed=0,
    num_workers=1,
    executor=None,
    progress=None,
    hmm_kwargs=None,
    warm_start: bool = False,
    *,
    em=None,
    execution=None,
) -> KappaSearch:
    """Search log kappa for the stickiness whose median syllable duration hits a target.

    Parameters
    ----------
    data : array_like (T, D) or list of them
        Model inputs, one array per recording (NaN rows masked).
    num_states : int
        K.
    target_duration : float, default 0.4
        Target median duration in seconds (MoSeq's syllables last about 400 ms).
    fps : float, optional
        Frame rate, frames per second; needed unless ``target_frames`` is given.
    target_frames : float, optional
        Target in frames (overrides ``target_duration`` and ``fps``).
    model, observation_kwargs, masks, hmm_kwargs
        As in :func:`ethogram.selection.cross_validate`.
    kappa_start : float, optional
        First kappa (default: frames per state, ``sum_i T_i / K``).
    kappa_min, kappa_max : float, default 1e-2 and 1e12
        The bracket never leaves these bounds.
    factor : float, default 10
        Ratio between successive kappas while bracketing.
    rel_tol : float, default 0.1
        Stop when ``|median - target| <= rel_tol * target``.
    max_rounds : int, default 12
        Rounds of fits after the first, bracketing and refining together.
    candidates_per_round : int, default 2
        Kappas fitted per round (in parallel); fixed, so results do not depend on workers.
    num_iters, tol
        EM settings of every fit (warm-started fits usually need few iterations): as
        ``em``'s fields, which they replace when given.
    seed : int, default 0
        Seed of the first (k-means) fit.
    num_workers, executor, progress, em, execution
        As in :func:`ethogram.selection.cross_validate`.
    warm_start : bool, default False
        Start every fit from a previous fit (faster) instead of from k-means with ``seed``.
        Off by default: warm starts keep EM in the short-syllable optimum of smaller kappas
        (see the module docstring). Cold fits with ``seed`` are exactly what
        ``HMM.fit(seed=seed)`` and the pipeline compute at the chosen kappa.

    Returns
    -------
    KappaSearch

    Raises
    ------
    ValueError
        Without ``fps`` or ``target_frames``, or with a non-positive target or bounds.
    """
    em, execution = selection_settings(em, execution, num_iters, tol, num_workers, executor)
    target = _target(target_duration, fps, target_frames)
    if not (0 < kappa_min < kappa_max and np.isfinite(kappa_max)) or factor <= 1:
        raise ValueError("need 0 < kappa_min < kappa_max < inf and factor > 1")
    sequences, masks = check_sequences(data, mask)
    spec = model_spec(num_states, model, observation_kwargs, sequences[0].shape[1], 0.0, hmm_kwargs)
    total = sum(d.shape[0] for d in sequences)
    k0 = float(kappa_start) if kappa_start is not None else total / int(num_states)
    k0 = float(np.clip(k0, kappa_min, kappa_max))
    m = int(candidates_per_round)
    if m < 1:
        raise ValueError(
            f"candidates_per_round must be a positive integer, got {candidates_per_round!r}"
        )
    rounds = _Rounds(
        dict(
            spec=spec,
            seed=seed,
            sequences=sequences,
            masks=masks,
            em=em,
            num_threads=execution.num_threads,
        ),
        execution,
        progress,
        target,
        rel_tol,
        m,
        warm_start,
    )
    first = rounds.run([k0], None)[0]
    direction = 1 if first["median_duration"] < target else -1
    limit_hit = rounds.bracket(first, direction, factor, kappa_min, kappa_max, max_rounds)
    if not limit_hit:
        rounds.refine(max_rounds)
    return rounds.outcome(spec, total, fps, direction, limit_hit)


def _target(target_duration, fps, target_frames) -> float:
    """The target median duration of :func:`find_kappa`, in frames (more than one)."""
    if target_frames is None:
        if fps is None:
            raise ValueError(
                "find_kappa needs fps (frames per second) to turn target_duration into frames, or "
                "give target_frames"
            )
        if not (
            np.isfinite(fps) and fps > 0 and np.isfinite(target_duration) and target_duration > 0
        ):
            raise ValueError(
                f"fps and target_duration must be positive, got {fps!r} and {target_duration!r}"
            )
        target_frames = float(target_duration) * float(fps)
    target = float(target_frames)
    if not (np.isfinite(target) and target > 1):
        raise ValueError(
            f"the target median duration must be more than one frame, got {target!r} frames"
        )
    return target


class _Rounds:
    """The rounds of fits of one :func:`find_kappa` call: every fit evaluated so far, the
    bracketing and the refinement of the kappas to fit next, and the outcome."""

    def __init__(
        self,
        common: dict,
        execution,
        progress,
        target: float,
        rel_tol: float,
        per_round: int,
        warm_start: bool,
    ):
        self.common, self.progress = common, progress
        self.num_workers, self.executor = execution.num_workers, execution.job_executor()
        self.target, self.rel_tol = target, rel_tol
        self.per_round, self.warm_start = per_round, warm_start
        self.evaluated: list[dict] = []
        self.round = 0

    def run(self, kappas, params) -> list:
        """Fit ``kappas`` (from ``params``: one for all, or one each) as this round."""
        params = params if isinstance(params, list) else [params] * len(kappas)
        tasks = [dict(self.common, kappa=float(k), params=p) for k, p in zip(kappas, params)]
        res = run_tasks(
            _kappa_task,
            tasks,
            self.num_workers,
            self.executor,
            self.progress,
            desc=f"kappa round {self.round}",
        )
        for r in res:
            r["round"] = self.round
        self.evaluated.extend(res)
        return res

    def close(self, r) -> bool:
        return (
            np.isfinite(r["median_duration"])
            and abs(r["median_duration"] - self.target) <= self.rel_tol * self.target
        )

    def _crossed(self, r, direction: int) -> bool:
        if direction > 0:
            return r["median_duration"] >= self.target
        return r["median_duration"] < self.target

    def bracket(
        self,
        first,
        direction: int,
        factor: float,
        kappa_min: float,
        kappa_max: float,
        max_rounds: int,
    ) -> bool:
        """Step kappa by ``factor`` from ``first`` towards the target until a fit crosses it;
        returns whether a bound of kappa stopped the steps first."""
        last, bracketed, m = first, False, self.per_round
        while not self.close(last) and not bracketed and self.round < max_rounds:
            self.round += 1
            ks = [last["kappa"] * factor ** (direction * (j + 1)) for j in range(m)]
            ks = [k for k in ks if kappa_min <= k <= kappa_max]
            if not ks:
                return True
            res = self.run(ks, last["params"] if self.warm_start else None)
            bracketed = any(self.close(r) or self._crossed(r, direction) for r in res)
            last = res[-1]
            if len(ks) < m:
                return not bracketed
        return False

    def refine(self, max_rounds: int) -> None:
        """Multisection in log kappa of the bracket around the target."""
        m = self.per_round
        while self.round < max_rounds and not any(self.close(r) for r in self.evaluated):
            srt = sorted(self.evaluated, key=lambda r: r["kappa"])
            hi_i = next((i for i, r in enumerate(srt) if r["median_duration"] >= self.target), None)
            if hi_i is None or hi_i == 0:
                break
            lo, hi = srt[hi_i - 1], srt[hi_i]
            if hi["kappa"] / lo["kappa"] < 1.02:
                break
            self.round += 1
            ks = np.exp(np.linspace(np.log(lo["kappa"]), np.log(hi["kappa"]), m + 2)[1:-1])
            # each point starts from the nearer end of the bracket: EM has several optima and the
            # median can jump between them; starting from both sides finds the in-between fits
            mid = np.sqrt(lo["kappa"] * hi["kappa"])
            self.run(
                list(ks),
                [
                    (lo["params"] if k <= mid else hi["params"]) if self.warm_start else None
                    for k in ks
                ],
            )

    def outcome(self, spec: dict, total: int, fps, direction: int, limit_hit: bool) -> KappaSearch:
        """The evaluated kappa closest to the target, the curve of every fit, and the message."""
        import pandas as pd

        target = self.target

        def distance(r):
            md = r["median_duration"]
            return (abs(md - target) if np.isfinite(md) else np.inf, r["kappa"])

        best = min(self.evaluated, key=distance)
        curve = (
            pd.DataFrame([{k: v for k, v in r.items() if k != "params"} for r in self.evaluated])
            .sort_values("kappa", kind="stable")
            .reset_index(drop=True)
        )
        curve["kappa_per_frame"] = curve["kappa"] / total
        if fps is not None:
            curve["median_duration_s"] = curve["median_duration"] / float(fps)
        reached = bool(self.close(best))
        msg = (
            f"median duration {best['median_duration']:g} frames at kappa {best['kappa']:.4g} for "
            f"a target of {target:g} frames"
        )
        if not reached:
            where = "kappa_max" if direction > 0 else "kappa_min"
            msg += f"; not within {self.rel_tol:.0%} after {self.round} rounds" + (
                f" (stopped at {where})" if limit_hit else ""
            )
        if best["kappa"] > 1e3 * total:
            from ..stickiness import REMEDY  # Python's words; `ethogram select` says its flags

            msg += (
                f"; kappa is {best['kappa'] / total:.3g} times the number of frames: {REMEDY} "
                "(see ethogram.selection.kappa)"
            )
        return KappaSearch(
            float(best["kappa"]),
            float(best["median_duration"]),
            target,
            reached,
            curve,
            best["params"],
            spec,
            msg,
        )
