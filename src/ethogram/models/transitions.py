"""Initial-state distribution and transition matrix with Dirichlet priors (MoSeq stickiness).

The initial distribution has a symmetric Dirichlet(``alpha``) prior. Row ``k`` of the
transition matrix has a Dirichlet prior with concentration ``alpha`` on every entry plus
``kappa`` extra on the self-transition ``k -> k``: ``kappa`` is MoSeq's stickiness, a prior
number of extra self-transitions per state that lengthens the expected syllable duration.
The M-step is the closed-form MAP (``counts + alpha - 1 + kappa * I``, normalised), so
``alpha = 1, kappa = 0`` is maximum likelihood. Either part can be held fixed.
"""

from __future__ import annotations

import numpy as np

from ..inference import check_initial_probs, check_transition_matrix


def _check_concentration(value, name: str) -> float:
    v = float(value)
    if not np.isfinite(v) or v < 1.0:
        raise ValueError(
            f"{name} must be a finite number >= 1 (a Dirichlet concentration for which the MAP "
            f"estimate exists; 1 means no prior), got {value!r}"
        )
    return v


class InitialDistribution:
    """Initial state distribution ``initial_probs`` (K,) with a Dirichlet(alpha) prior.

    Parameters
    ----------
    num_states : int
        Number of states K.
    alpha : float, default 1.0
        Dirichlet concentration (>= 1; 1 = maximum likelihood).
    learn : bool, default True
        Whether the M-step updates ``initial_probs``.
    initial_probs : array_like, shape (K,), optional
        Starting value (uniform by default).
    """

    def __init__(self, num_states: int, alpha: float = 1.0, learn: bool = True, initial_probs=None):
        self.num_states = int(num_states)
        self.alpha = _check_concentration(alpha, "initial_alpha")
        self.learn = bool(learn)
        if initial_probs is None:
            initial_probs = np.full(self.num_states, 1.0 / self.num_states)
        self.initial_probs = check_initial_probs(initial_probs, self.num_states)

    def m_step(self, expected_initial: np.ndarray) -> None:
        """MAP update from ``expected_initial`` (K,), the summed ``p(z_0 = k | x)`` over
        sequences."""
        if not self.learn:
            return
        w = np.asarray(expected_initial, dtype=np.float64) + (self.alpha - 1.0)
        self.initial_probs = w / w.sum()

    def log_prior(self) -> float:
        """Dirichlet log density of ``initial_probs`` (up to a constant); 0 when not learned."""
        if not self.learn or self.alpha == 1.0:
            return 0.0
        with np.errstate(divide="ignore"):
            return float((self.alpha - 1.0) * np.log(self.initial_probs).sum())

    def num_parameters(self) -> int:
        """Free parameters: K - 1 when learned, else 0."""
        return self.num_states - 1 if self.learn else 0


class Transitions:
    """Transition matrix (K, K) with a sticky Dirichlet prior on each row.

    Parameters
    ----------
    num_states : int
        Number of states K.
    alpha : float, default 1.0
        Concentration on every entry of a row (>= 1; 1 = flat).
    kappa : float, default 0.0
        Extra concentration on the self-transition (MoSeq stickiness, >= 0).
    learn : bool, default True
        Whether the M-step updates ``transition_matrix``.
    transition_matrix : array_like, shape (K, K), optional
        Starting value (default: ``0.9 I + 0.1 / K``, a sticky start suited to behavior).
    """

    def __init__(
        self,
        num_states: int,
        alpha: float = 1.0,
        kappa: float = 0.0,
        learn: bool = True,
        transition_matrix=None,
    ):
        self.num_states = int(num_states)
        self.alpha = _check_concentration(alpha, "transition_alpha")
        kappa = float(kappa)
        if not np.isfinite(kappa) or kappa < 0:
            raise ValueError(f"kappa (stickiness) must be a finite number >= 0, got {kappa!r}")
        self.kappa = kappa
        self.learn = bool(learn)
        if transition_matrix is None:
            transition_matrix = self.default_matrix(self.num_states)
        self.transition_matrix = check_transition_matrix(transition_matrix)
        if self.transition_matrix.shape[0] != self.num_states:
            raise ValueError(
                f"transition_matrix has {self.transition_matrix.shape[0]} states, expected "
                f"{self.num_states}"
            )

    @staticmethod
    def default_matrix(num_states: int, stay: float = 0.9) -> np.ndarray:
        """``stay * I + (1 - stay) / K``: the starting matrix used before EM."""
        K = int(num_states)
        return stay * np.eye(K) + (1.0 - stay) / K

    def concentration(self) -> np.ndarray:
        """Dirichlet concentration of every row, shape (K, K)."""
        return np.full((self.num_states, self.num_states), self.alpha) + self.kappa * np.eye(
            self.num_states
        )

    def m_step(self, expected_transitions: np.ndarray) -> None:
        """MAP update from ``expected_transitions`` (K, K), summed over sequences."""
        if not self.learn:
            return
        w = np.asarray(expected_transitions, dtype=np.float64) + self.concentration() - 1.0
        sums = w.sum(axis=1, keepdims=True)
        # a state never visited (and no prior mass) keeps its current row
        empty = sums[:, 0] <= 0
        w[empty] = self.transition_matrix[empty]
        sums[empty] = 1.0
        self.transition_matrix = w / sums

    def log_prior(self) -> float:
        """Dirichlet log density of the rows (up to a constant); 0 when not learned."""
        if not self.learn:
            return 0.0
        c = self.concentration() - 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(c != 0, c * np.log(self.transition_matrix), 0.0)
        return float(terms.sum())

    def num_parameters(self) -> int:
        """Free parameters: K (K - 1) when learned, else 0."""
        return self.num_states * (self.num_states - 1) if self.learn else 0

    def permute(self, order) -> None:
        """Reorder states: new state ``i`` is old state ``order[i]``."""
        order = np.asarray(order)
        self.transition_matrix = self.transition_matrix[np.ix_(order, order)]


def fixed_transitions_order(log_likes: list, transition_matrix: np.ndarray) -> np.ndarray:
    """The order of freshly initialised states that suits a fixed transition matrix.

    Initial clusters come in arbitrary order, but a transition matrix held fixed (as in the
    course) is not symmetric under relabeling: a wrong order forces the data through
    improbable transitions and EM stalls in a poor optimum. Expected transition counts C
    under a generic sticky chain (0.9 I + 0.1 / K) and the initial emissions are computed;
    the relabeling maximising ``sum_ij C[i, j] log P[order_i, order_j]`` is found by
    :func:`best_relabeling`.

    Parameters
    ----------
    log_likes : list of ndarray, shape (T_i, K)
        The initial emissions' log-likelihoods of every sequence.
    transition_matrix : ndarray, shape (K, K)
        The fixed matrix.

    Returns
    -------
    ndarray of int, shape (K,)
        ``order`` for ``permute``: new state j is old cluster ``order[j]``.
    """
    from ..inference import forward_backward

    K = transition_matrix.shape[0]
    posts = forward_backward(np.full(K, 1.0 / K), Transitions.default_matrix(K), log_likes)
    C = sum(p.expected_transitions for p in posts)
    with np.errstate(divide="ignore"):
        logP = np.maximum(np.log(transition_matrix), -1e3)
    best = best_relabeling(C, logP)
    # cluster i takes label best[i]: new label j holds old cluster argsort(best)[j]
    return np.argsort(best)


def best_relabeling(C: np.ndarray, logP: np.ndarray) -> np.ndarray:
    """Relabeling of states that best fits counts ``C`` to a log transition matrix ``logP``.

    Parameters
    ----------
    C : ndarray, shape (K, K)
        Expected transition counts between (unlabelled) clusters.
    logP : ndarray, shape (K, K)
        Log transition matrix (finite; clip -inf first).

    Returns
    -------
    ndarray of int, shape (K,)
        The permutation ``p`` maximising ``sum_ij C[i, j] logP[p_i, p_j]``: exact by
        enumeration for K <= 8, else by pairwise swaps until no swap improves.
    """
    import itertools

    K = C.shape[0]

    def score(p):
        return float((C * logP[np.ix_(p, p)]).sum())

    if K <= 8:
        perms = np.array(list(itertools.permutations(range(K))))
        scores = np.einsum("ij,nij->n", C, logP[perms[:, :, None], perms[:, None, :]])
        return perms[int(np.argmax(scores))]
    p = np.arange(K)
    current = score(p)
    improved = True
    while improved:
        improved = False
        for i in range(K):
            for j in range(i + 1, K):
                q = p.copy()
                q[i], q[j] = q[j], q[i]
                s = score(q)
                if s > current + 1e-12:
                    p, current, improved = q, s, True
    return p
