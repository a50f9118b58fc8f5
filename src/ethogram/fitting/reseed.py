"""Re-seeding dead states: a state EM stopped using is given the data the model explains worst.

With ``HMM.fit(..., reseed_dead=True)`` (``ethogram fit --reseed-dead``) the EM loop
(:func:`ethogram.fitting.em.run_em`) calls :func:`reseed_dead_states` after every E-step: a
state whose expected frames fell below :data:`DEAD_FRAMES` gets observation parameters fitted
(the model's own M-step) to the frames nearest a seeded draw among the worst-explained frames,
and a transition row like an average state's; a fit in which no state dies is bit for bit the
fit without re-seeding. The rule in full, why, and what other libraries do:
``docs/reseeding.md``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np

from .._deprecation import renamed_keywords

__all__ = [
    "DEAD_FRAMES",
    "MAX_FIT_PASSES",
    "MAX_RESEEDS_PER_STATE",
    "MIN_QUIET_ITERS",
    "QUIET_FRACTION",
    "ReseedEvent",
    "Reseeding",
    "expected_frames",
    "reseed_dead_states",
]

#: a state with fewer expected frames than this (summed over sequences) is dead
DEAD_FRAMES = 1.0
#: re-seeds allowed per state in one run
MAX_RESEEDS_PER_STATE = 3
#: no re-seeding in this last fraction of a run's iterations ...
QUIET_FRACTION = 0.2
#: ... and at least in this many last iterations
MIN_QUIET_ITERS = 2
#: M-steps on the seed frames while their statistics still change (robust models)
MAX_FIT_PASSES = 10


@dataclass(frozen=True)
class ReseedEvent:
    """One dead state re-seeded.

    Attributes
    ----------
    iteration : int
        EM iteration (M-steps done) at which it happened: ``objectives[iteration]`` of the
        run is the objective *after* the re-seed.
    state : int
        The state re-seeded.
    expected_frames : float
        Its expected number of frames before (below :data:`DEAD_FRAMES`).
    objective_before : float
        The MAP objective at that iteration before the re-seed.
    sequence, frame : int
        The seed frame (index of the sequence in the fit's input, frame in it).
    num_frames : int
        Frames the state's parameters were set from.
    """

    iteration: int
    state: int
    expected_frames: float
    objective_before: float
    sequence: int
    frame: int
    num_frames: int

    def to_dict(self) -> dict:
        """Plain dict (JSON-able) of the fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ReseedEvent":
        """Inverse of :meth:`to_dict`."""
        return cls(
            int(d["iteration"]),
            int(d["state"]),
            float(d["expected_frames"]),
            float(d["objective_before"]),
            int(d["sequence"]),
            int(d["frame"]),
            int(d["num_frames"]),
        )


@dataclass(frozen=True)
class Reseeding:
    """The re-seeding settings of one EM run (one restart).

    Parameters
    ----------
    num_iters : int
        The run's budget of EM iterations (short starts included), which sets the quiet end.
    seed : int
        Entropy of the fit (:func:`ethogram.fitting.checkpoint.resolve_seed` of its seed).
    restart : int, default 0
        Index of the restart (each restart draws its own seed frames).
    min_frames : float, default :data:`DEAD_FRAMES`
    max_per_state : int, default :data:`MAX_RESEEDS_PER_STATE`
    """

    num_iters: int
    seed: int
    restart: int = 0
    min_frames: float = DEAD_FRAMES
    max_per_state: int = MAX_RESEEDS_PER_STATE

    def last_iteration(self) -> int:
        """The last iteration at which a state may be re-seeded (negative: none)."""
        quiet = max(MIN_QUIET_ITERS, math.ceil(QUIET_FRACTION * self.num_iters))
        return int(self.num_iters) - quiet

    def rng(self, iteration: int, state: int) -> np.random.Generator:
        """The generator of one re-seed, a function of (seed, restart, iteration, state) only."""
        return np.random.default_rng(
            [int(self.seed), int(self.restart), int(iteration), int(state)]
        )


def expected_frames(stats) -> np.ndarray:
    """Expected number of frames per state in summed statistics, shape (K,).

    Parameters
    ----------
    stats : SufficientStats

    Returns
    -------
    ndarray, shape (K,)
        The observation statistics' ``n`` (frames the observation model scores, weighted by
        the posterior) when they have one of shape (K,); otherwise ``expected_initial`` plus
        the column sums of ``expected_transitions`` (every frame, ``sum_t p(z_t = k)``).
    """
    K = np.shape(stats.expected_initial)[0]
    n = stats.observations.get("n") if isinstance(stats.observations, dict) else None
    if n is not None and np.shape(n) == (K,):
        return np.asarray(n, dtype=np.float64)
    return np.asarray(stats.expected_initial, dtype=np.float64) + np.asarray(
        stats.expected_transitions, dtype=np.float64
    ).sum(axis=0)


def _read(d) -> np.ndarray:
    """A sequence in memory (on-disk handles are read)."""
    read = getattr(d, "read_sequence", None)
    return read() if callable(read) else d


def _scored(mask, T: int) -> np.ndarray:
    """Indices of the scored frames."""
    return np.arange(T) if mask is None else np.flatnonzero(mask)


def _features(obs, x: np.ndarray, frames: np.ndarray, mean, sd) -> np.ndarray:
    """The frames as the model sees them (frame and lags), standardised; one-hot labels."""
    if getattr(obs, "sequence_ndim", 2) == 1:
        C = int(getattr(obs, "num_classes"))
        return np.eye(C)[np.asarray(x, dtype=np.float64)[frames].astype(np.intp)]
    x2 = np.asarray(x, dtype=np.float64).reshape(x.shape[0], -1)
    L = int(getattr(obs, "num_lags", 0))
    cols = [(x2[np.maximum(frames - lag, 0)] - mean) / sd for lag in range(L + 1)]
    return np.concatenate(cols, axis=1)


def _moments(obs, sequences, masks):
    """Mean and standard deviation (constant dimensions: 1) of the scored frames."""
    if getattr(obs, "sequence_ndim", 2) == 1:
        return None, None
    total, sq, count = 0.0, 0.0, 0
    for d, m in zip(sequences, masks):
        x = _read(d)
        rows = np.asarray(x, dtype=np.float64).reshape(x.shape[0], -1)[_scored(m, x.shape[0])]
        total = total + rows.sum(axis=0)
        sq = sq + (rows * rows).sum(axis=0)
        count += rows.shape[0]
    mean = total / count
    var = np.maximum(sq / count - mean * mean, 0.0)
    sd = np.sqrt(var)
    return mean, np.where(sd > 1e-12 * (np.abs(mean) + 1e-300), sd, 1.0)


def _revive_transitions(model, k: int, live: list) -> None:
    """Give state ``k`` the row and column of the module docstring (learned parts only)."""
    K = model.num_states
    if K > 1 and getattr(model.transitions, "learn", False):
        P = np.array(model.transition_matrix, dtype=np.float64, copy=True)
        for i in range(K):
            if i == k:
                continue
            new = (1.0 - P[i, i]) / (K - 1)
            others = [j for j in range(K) if j not in (i, k)]
            rest = 1.0 - P[i, i] - new
            mass = P[i, others].sum()
            P[i, others] = P[i, others] * (rest / mass) if mass > 0 else rest / max(len(others), 1)
            P[i, k] = new
        stay = float(np.mean([P[i, i] for i in live])) if live else float(P[k, k])
        P[k] = (1.0 - stay) / (K - 1)
        P[k, k] = stay
        model.transition_matrix = P / P.sum(axis=1, keepdims=True)
    if getattr(model.initial, "learn", False):
        pi = np.array(model.initial_probs, dtype=np.float64, copy=True)
        rest = pi.sum() - pi[k]
        pi = pi * ((1.0 - 1.0 / K) / rest) if rest > 0 else np.full(K, 1.0 / K)
        pi[k] = 1.0 / K
        model.initial_probs = pi / pi.sum()


def _fit_state(model, k: int, donor: int, sequences, masks, chosen: dict) -> None:
    """Set state ``k``'s observation parameters by the model's M-step on the chosen frames.

    ``chosen`` maps a sequence index to the frames (indices) of state ``k``. A copy of the
    model (rebuilt from its description) starts state ``k`` at the donor's parameters and
    runs M-steps on statistics that weigh the chosen frames 1 for state ``k`` and every other
    (state, frame) 0, until the statistics stop changing; state ``k``'s per-state
    parameters are then copied over. Raises ValueError when the M-step refuses the frames.
    """
    obs = model.observations
    copy = type(model).from_description(model.describe(), model.get_params()).observations
    names = obs.state_param_names()
    for name in names:
        value = np.array(getattr(copy, name), dtype=np.float64, copy=True)
        value[k] = value[donor]
        setattr(copy, name, value)
    K = model.num_states
    previous = None
    for _ in range(MAX_FIT_PASSES):
        total = None
        for i in sorted(chosen):
            x = _read(sequences[i])
            w = np.zeros((x.shape[0], K))
            w[chosen[i], k] = 1.0
            s = copy.sufficient_stats(x, w, masks[i])
            total = (
                s
                if total is None
                else {key: np.add(v, s[key], dtype=np.float64) for key, v in total.items()}
            )
        if previous is not None and all(np.array_equal(total[key], previous[key]) for key in total):
            break
        copy.m_step(total)
        previous = total
    for name in names:
        value = np.array(getattr(obs, name), dtype=np.float64, copy=True)
        value[k] = np.asarray(getattr(copy, name))[k]
        setattr(obs, name, value)


@renamed_keywords(datas="sequences")
def reseed_dead_states(
    model, sequences, masks, stats, policy: Reseeding, iteration: int, objective: float, history=()
) -> list:
    """Re-seed the dead states of ``model`` in place (see the module docstring for the rule).

    Parameters
    ----------
    model : HMM
        Its ``observations`` (``log_likelihoods``, ``sufficient_stats``, ``m_step``,
        ``state_param_names``, ``num_parameters``), ``transition_matrix``,
        ``initial_probs``, ``transitions.learn``, ``initial.learn``, ``describe`` and
        ``from_description`` are used.
    sequences, masks : list
        The validated sequences (or on-disk handles, read one at a time) and their
        effective masks.
    stats : SufficientStats
        Summed statistics at the model's current parameters.
    policy : Reseeding
    iteration : int
        EM iterations done (the index of ``objective`` in the run's history).
    objective : float
        The MAP objective at the current parameters (recorded in the events).
    history : sequence of ReseedEvent
        The run's earlier re-seeds (for the limit per state).

    Returns
    -------
    list of ReseedEvent
        One per state re-seeded (empty: the model is unchanged). The caller must compute the
        E-step again.
    """
    if iteration > policy.last_iteration():
        return []
    n = expected_frames(stats)
    K = model.num_states
    done = Counter(e.state for e in history)
    dead = [k for k in range(K) if n[k] < policy.min_frames and done[k] < policy.max_per_state]
    if not dead or len(dead) == K:
        return []
    obs = model.observations
    live = [k for k in range(K) if n[k] >= policy.min_frames]
    mean, sd = _moments(obs, sequences, masks)
    events = []
    for k in dead:
        # the best live state's log-likelihood of every scored frame, and which state it is
        best, who, where = [], [], []
        for i, (d, m) in enumerate(zip(sequences, masks)):
            x = _read(d)
            frames = _scored(m, x.shape[0])
            ll = obs.log_likelihoods(x, m)[frames][:, live]
            best.append(ll.max(axis=1) if ll.size else np.empty(0))
            who.append(np.asarray(live)[ll.argmax(axis=1)] if ll.size else np.empty(0, np.intp))
            where.append(np.stack([np.full(frames.size, i), frames], axis=1))
        best, who, where = np.concatenate(best), np.concatenate(who), np.concatenate(where)
        N = best.size
        if N == 0:
            break
        per_state = max(int(obs.num_parameters()) // K, 0)
        m_frames = min(N, max(math.ceil(N / K), per_state + 1))
        worst = (
            np.sort(np.argpartition(best, m_frames - 1)[:m_frames])
            if m_frames < N
            else np.arange(N)
        )
        pick = int(worst[policy.rng(iteration, k).integers(worst.size)])
        seq, frame = int(where[pick, 0]), int(where[pick, 1])
        x = _read(sequences[seq])
        target = _features(obs, x, np.array([frame]), mean, sd)[0]
        dist = []
        for d, m in zip(sequences, masks):
            x = _read(d)
            f = _features(obs, x, _scored(m, x.shape[0]), mean, sd)
            dist.append(((f - target) ** 2).sum(axis=1))
        dist = np.concatenate(dist)
        near = np.argpartition(dist, m_frames - 1)[:m_frames] if m_frames < N else np.arange(N)
        near = np.unique(np.append(near, pick))
        chosen = {}
        for s, t in where[near]:
            chosen.setdefault(int(s), []).append(int(t))
        try:
            _fit_state(
                model,
                k,
                int(who[pick]),
                sequences,
                masks,
                {s: np.asarray(t) for s, t in chosen.items()},
            )
        except (
            ValueError
        ):  # the M-step refused these frames (e.g. maximum likelihood, degenerate): try later
            continue
        _revive_transitions(model, k, live)
        events.append(
            ReseedEvent(
                int(iteration), int(k), float(n[k]), float(objective), seq, frame, int(near.size)
            )
        )
        live = sorted(live + [k])
    return events
