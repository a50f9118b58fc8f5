"""Inference on a fitted HMM: posteriors, most likely states, scores and information criteria.

:class:`HMMInferenceMixin` holds the methods of :class:`~ethogram.models.hmm.HMM` that only
read its parameters: ``posterior``, ``predict``, ``score`` (and the course's
``compute_marginal_ll``), ``log_joint``, ``log_likelihoods``, ``aic`` and ``bic``. They
validate data with the model's ``_prepare``, compute the observation log-likelihoods with BLAS
on one thread (:func:`ethogram.inference.one_blas_thread`) and run the numba kernels of
:mod:`ethogram.inference`; the parameters,
the data checks and EM stay in :mod:`ethogram.models.hmm`, which mixes this in.
"""

from __future__ import annotations

import numpy as np

from .._deprecation import renamed_keywords
from ..inference import forward_backward, one_blas_thread, predictive_log_likes, viterbi
from .short_sequences import expand, long_enough, no_posterior, warn_short

__all__ = ["HMMInferenceMixin"]


class HMMInferenceMixin:
    """``posterior``, ``predict``, ``score``, ``compute_marginal_ll``, ``log_joint``, ``aic``
    and ``bic`` of :class:`~ethogram.models.hmm.HMM`."""

    def _scored(self, data, mask, consequence: str):
        """The log-likelihoods and effective masks of the sequences long enough to score,
        which those are (bool per sequence), every length, and whether the input was a
        batch; one warning names the others (:mod:`.short_sequences`)."""
        sequences, ms, batch = self._prepare(data, mask)
        lengths = [d.shape[0] for d in sequences]
        keep = long_enough(self.observations, lengths)
        warn_short(self.observations, lengths, ~keep, consequence, stacklevel=4)
        ms = [m for m, k in zip(ms, keep) if k]
        kept = (d for d, k in zip(sequences, keep) if k)
        return self._log_likes(kept, ms), ms, keep, lengths, batch

    def _log_likes(self, sequences, masks) -> list:
        """The observation log-likelihoods of validated sequences, BLAS on one thread: their
        many small solves gain nothing from its threads, which only wait (BENCHMARKS.md)."""
        with one_blas_thread():
            return [self.observations.log_likelihoods(d, m) for d, m in zip(sequences, masks)]

    def log_likelihoods(self, data, mask=None) -> np.ndarray:
        """Observation log-likelihoods of one sequence, shape (T, K) (zero rows where masked)."""
        (d,), (m,), _ = self._prepare(data, mask)
        return self._log_likes([d], [m])[0]

    @renamed_keywords(masks="mask")
    def posterior(self, data, mask=None, num_threads=None):
        """Posterior state marginals and expected transitions.

        Parameters
        ----------
        data : array_like, shape (T, ...), or list of such arrays
        mask : array_like of bool, shape (T,), or list, optional
            True where a frame is observed (``masks=`` is its deprecated former name).
        num_threads : int, optional

        Returns
        -------
        HMMPosterior or list of HMMPosterior
            For a sequence shorter than the observation model's ``min_frames`` (no frame
            to score), NaN probabilities and ``marginal_ll``.
        """
        lls, _, keep, lengths, batch = self._scored(data, mask, "its posterior is NaN")
        pi, A = self.initial_probs, self.transition_matrix
        posts = forward_backward(pi, A, lls, num_threads=num_threads) if lls else []
        posts = expand(posts, keep, lambda i: no_posterior(lengths[i], self.num_states))
        return posts if batch else posts[0]

    @renamed_keywords(masks="mask")
    def predict(self, data, method: str = "viterbi", mask=None, num_threads=None):
        """Most likely states.

        Parameters
        ----------
        data : array_like, shape (T, ...), or list of such arrays
        method : {"viterbi", "marginal"}
            Jointly most likely path, or the most likely state frame by frame.
        mask : array_like of bool, shape (T,), or list, optional
            True where a frame is observed (``masks=`` is its deprecated former name).
        num_threads : int, optional

        Returns
        -------
        ndarray of int, shape (T,), or a list of them
            -1 at every frame of a sequence shorter than the observation model's
            ``min_frames`` (no frame to score).
        """
        if method not in ("viterbi", "marginal"):
            raise ValueError(f"method must be 'viterbi' or 'marginal', got {method!r}")
        lls, _, keep, lengths, batch = self._scored(data, mask, "its frames get the label -1")
        if not lls:
            out = []
        elif method == "viterbi":
            out = viterbi(self.initial_probs, self.transition_matrix, lls, num_threads=num_threads)
        else:
            posts = forward_backward(
                self.initial_probs, self.transition_matrix, lls, num_threads=num_threads
            )
            out = [np.argmax(p.expected_states, axis=1) for p in posts]
        out = expand(list(out), keep, lambda i: np.full(lengths[i], -1, dtype=np.int64))
        return out if batch else out[0]

    @renamed_keywords(masks="mask")
    def score(self, data, mask=None, per_frame: bool = False, num_threads=None):
        """Marginal log-likelihood ``log p(x)`` summed over sequences.

        Parameters
        ----------
        data : array_like, shape (T, ...), or list of such arrays
        mask : array_like of bool, shape (T,), or list, optional
            True where a frame is observed (``masks=`` is its deprecated former name).
        per_frame : bool, default False
            Instead return ``log p(x_t | x_{1:t-1})`` per frame, shape (T,) (a list for a
            list input); they sum to the total. Masked frames contribute 0.
        num_threads : int, optional

        Returns
        -------
        float, or ndarray of shape (T,) / list of them when ``per_frame``
            A sequence shorter than the observation model's ``min_frames`` (no frame to
            score) adds nothing to the total; its per-frame scores are NaN.
        """
        consequence = "it adds nothing to the score (NaN per frame)"
        lls, ms, keep, lengths, batch = self._scored(data, mask, consequence)
        pi, A = self.initial_probs, self.transition_matrix
        frames = predictive_log_likes(pi, A, lls, num_threads=num_threads) if lls else []
        for f, m in zip(frames, ms):  # log of the predicted probabilities' sum: 0, not round-off
            if m is not None:
                f[~m] = 0.0
        if per_frame:
            frames = expand(list(frames), keep, lambda i: np.full(lengths[i], np.nan))
            return frames if batch else frames[0]
        return float(sum(float(f.sum()) for f in frames))

    @renamed_keywords(masks="mask")
    def compute_marginal_ll(self, data, mask=None) -> float:
        """The course's name for :meth:`score`: ``log p(x)``."""
        return self.score(data, mask)

    def log_joint(self, states, data) -> float:
        """``log p(z, x)`` of a given state path and data (the worksheet's joint probability).

        Parameters
        ----------
        states : array_like of int, shape (T,)
        data : array_like, shape (T, ...)

        Returns
        -------
        float
        """
        (d,), (m,), _ = self._prepare(data)
        z = np.asarray(states)
        if (
            z.shape != (d.shape[0],)
            or not np.issubdtype(z.dtype, np.integer)
            or z.min() < 0
            or z.max() >= self.num_states
        ):
            raise ValueError(
                f"states must be integers in [0, {self.num_states}) of shape ({d.shape[0]},)"
            )
        (ll,) = self._log_likes([d], [m])
        with np.errstate(divide="ignore"):
            out = (
                np.log(self.initial_probs[z[0]])
                + np.log(self.transition_matrix[z[:-1], z[1:]]).sum()
            )
        return float(out + ll[np.arange(len(z)), z].sum())

    def _num_scored_frames(self, data, mask=None) -> int:
        sequences, ms, _ = self._prepare(data, mask)
        return int(sum(d.shape[0] if m is None else int(m.sum()) for d, m in zip(sequences, ms)))

    @renamed_keywords(masks="mask")
    def aic(self, data, mask=None) -> float:
        """Akaike information criterion ``-2 log p(x) + 2 p`` (lower is better)."""
        return -2.0 * self.score(data, mask) + 2.0 * self.num_parameters()

    @renamed_keywords(masks="mask")
    def bic(self, data, mask=None) -> float:
        """Bayesian information criterion ``-2 log p(x) + p log N`` with N scored frames."""
        n = self._num_scored_frames(data, mask)
        return -2.0 * self.score(data, mask) + self.num_parameters() * np.log(n)
