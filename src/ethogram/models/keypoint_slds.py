"""keypoint-MoSeq's keypoint SLDS by Gibbs sampling: syllables from noisy keypoints.

The model (Weinreb et al. 2024, Nature Methods 21; jax-moseq 0.3.7 ``models/keypoint_slds``):
keypoints ``Y_tk = R(h_t) ybar_tk + v_t + N(0, s_tk sigmasq_k I_D)``, the aligned pose a linear
map of a latent pose ``x`` that follows the sticky HDP-ARHMM of :mod:`.moseq_arhmm`, the centroid
``v`` a random walk, the heading ``h`` uniform, the noise scales ``s`` from the tracker's
confidence. :class:`KeypointSLDS` follows the protocol of :func:`ethogram.fitting.gibbs.run_gibbs`;
the sweep is :mod:`.gibbs.keypoint_slds`. The full statement and where ethogram differs from
keypoint-moseq 0.8.1: docs/keypoint_slds.md and docs/design-notes.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from types import SimpleNamespace

import numpy as np

from .._deprecation import renamed_keywords
from ..fitting.gibbs import GibbsRun, GibbsSettings, run_gibbs
from .gibbs import arhmm as ar
from .gibbs import keypoint_slds as sweep
from .gibbs import keypoint_start as start
from .gibbs.hdp import init_hdp_transitions
from .gibbs.keypoint_start import APPLY_TEMPER, KeypointPrior, estimate_sigmasq_loc
from .gibbs.keypoints import estimate_keypoints
from .gibbs.mniw import moseq_ar_prior
from .moseq_arhmm import MoseqPrior, _kmeans_ar_params

__all__ = ["KeypointPrior", "KeypointSLDS", "KeypointSLDSFit", "estimate_sigmasq_loc"]

DESCRIPTION_KIND = "keypoint_slds"
PARAM_NAMES = (
    "global_weights",
    "transition_matrix",
    "ar_weights",
    "ar_covs",
    "S_0",
    "sigmasq",
    "loadings",
    "offset",
)
SAMPLERS = ("exact", "moseq")
INITS = ("prior", "kmeans")


@dataclass
class KeypointSLDSFit:
    """The last sample of a keypoint-SLDS run, per recording, and the run's history.

    Attributes
    ----------
    syllables : list of ndarray of int (T,)
        The first L frames take frame L's syllable (keypoint-moseq's ``extract_results``).
    latent : list of ndarray (T, M)
        Latent pose ``x`` (whitened PCA coordinates).
    centroid : list of ndarray (T, D)
    heading : list of ndarray (T,)
        Radians in (-pi, pi], not unwrapped.
    keypoints : list of ndarray (T, K, D)
        Estimated keypoints ``R(h) ybar + v``.
    noise_variance : list of ndarray (T, K)
        ``s_tk sigmasq_k``, squared keypoint units.
    sigmasq : ndarray (K,)
    log_joint : dict of str to ndarray
        Groups ``z, x, Y, s, v`` (jax-moseq's ``model_likelihood``) after each iteration.
    marginals : list of ndarray (T, S) or None
    run : GibbsRun
    """

    syllables: list
    latent: list
    centroid: list
    heading: list
    keypoints: list
    noise_variance: list
    sigmasq: np.ndarray
    log_joint: dict
    marginals: list | None
    run: GibbsRun


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class KeypointSLDS:
    """keypoint-MoSeq's keypoint SLDS, fitted by Gibbs sampling.

    Parameters
    ----------
    num_states : int, default 100
        S, the weak-limit truncation.
    num_lags : int, default 3
    latent_dim : int or None, default None
        M; None: the fewest PCs explaining 90% of the aligned keypoints' variance, at most 10.
    prior : MoseqPrior
        The ARHMM's hyperparameters (``kappa`` is the AR-only stage's).
    keypoint_prior : KeypointPrior
    anterior, posterior : sequence of int, default (0,), (-1,)
        Keypoints whose means define the starting heading (keypoint-moseq's
        ``anterior_bodyparts``, ``posterior_bodyparts``).
    fps : float, default 30
        Frame rate, for the median filter of :func:`estimate_sigmasq_loc`.
    latent_sampler : {"exact", "moseq"}
    latent_initial_var : float, default 10
        Prior variance of ``x_0 .. x_{L-1}`` (jax-moseq: 10).
    """

    local_step_function = staticmethod(sweep.keypoint_local_step)

    def __init__(
        self,
        num_states: int = 100,
        num_lags: int = 3,
        latent_dim: int | None = None,
        prior: MoseqPrior | None = None,
        keypoint_prior: KeypointPrior | None = None,
        anterior=(0,),
        posterior=(-1,),
        fps: float = 30.0,
        latent_sampler: str = "exact",
        latent_initial_var: float = 10.0,
    ):
        for name, v in (("num_states", num_states), ("num_lags", num_lags)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if latent_sampler not in SAMPLERS:
            raise ValueError(f"latent_sampler must be one of {SAMPLERS}, got {latent_sampler!r}")
        self.num_states, self.num_lags = int(num_states), int(num_lags)
        self.latent_dim = None if latent_dim is None else int(latent_dim)
        prior = MoseqPrior() if prior is None else prior
        keypoint_prior = KeypointPrior() if keypoint_prior is None else keypoint_prior
        self.prior, self.keypoint_prior = prior, keypoint_prior
        self.anterior, self.posterior = [int(i) for i in anterior], [int(i) for i in posterior]
        self.fps, self.latent_sampler = float(fps), latent_sampler
        self.latent_initial_var = float(latent_initial_var)
        self.num_keypoints = self.num_dims = None
        self.ar_only = False
        self.sigmasq_loc = keypoint_prior.sigmasq_loc
        self._temperature = 1.0  # of Q in the local steps: > 1 only in apply's tempered start
        for k in PARAM_NAMES:
            setattr(self, k, None)

    # ------------------------------------------------------------------ description, params
    @property
    def kappa(self) -> float:
        return self.prior.kappa

    @kappa.setter
    def kappa(self, value: float) -> None:
        self.prior = replace(self.prior, kappa=float(value))

    def ar_prior(self) -> dict:
        """``M_0, K_0, S_0, nu_0`` of the MNIW prior over the latent dimension."""
        M = self.latent_dim
        p = moseq_ar_prior(M, self.num_lags, self.prior.S_0_scale, self.prior.K_0_scale)
        nu_0 = M + 2 if self.prior.nu_0 is None else self.prior.nu_0
        return dict(p, S_0=self.S_0, nu_0=float(nu_0))

    def describe(self) -> dict:
        """A plain description; with :meth:`get_params`, enough to rebuild the model."""
        kp = asdict(self.keypoint_prior)
        kp["sigmasq_loc"] = self.sigmasq_loc
        return {
            "kind": DESCRIPTION_KIND,
            "num_states": self.num_states,
            "num_lags": self.num_lags,
            "latent_dim": self.latent_dim,
            "num_keypoints": self.num_keypoints,
            "num_dims": self.num_dims,
            "prior": asdict(self.prior),
            "keypoint_prior": kp,
            "anterior": list(self.anterior),
            "posterior": list(self.posterior),
            "conf_threshold": self.keypoint_prior.conf_threshold,
            "fps": self.fps,
            "latent_sampler": self.latent_sampler,
            "latent_initial_var": self.latent_initial_var,
            "ar_only": bool(self.ar_only),
        }

    @classmethod
    def from_description(cls, description: dict, params: dict | None = None) -> KeypointSLDS:
        """Rebuild a model from :meth:`describe` (and :meth:`get_params`)."""
        if not isinstance(description, dict) or description.get("kind") != DESCRIPTION_KIND:
            raise ValueError(
                f"description must come from KeypointSLDS.describe(), got {description!r}"
            )
        d = description
        model = cls(
            d["num_states"],
            d["num_lags"],
            d["latent_dim"],
            MoseqPrior(**d["prior"]),
            KeypointPrior(**d["keypoint_prior"]),
            d["anterior"],
            d["posterior"],
            d["fps"],
            d["latent_sampler"],
            d["latent_initial_var"],
        )
        model.num_keypoints, model.num_dims = d["num_keypoints"], d["num_dims"]
        model.ar_only = bool(d["ar_only"])
        if params is not None:
            model.set_params(params)
        return model

    def get_params(self) -> dict:
        """Parameters as a dict of array copies (keys :data:`PARAM_NAMES`).

        Raises
        ------
        ValueError
            Before :meth:`initialize`.
        """
        if self.transition_matrix is None:
            raise ValueError("the model has no parameters yet: call fit or initialize first")
        return {k: np.array(getattr(self, k), dtype=np.float64) for k in PARAM_NAMES}

    def set_params(self, params: dict) -> None:
        """Set the parameters from :meth:`get_params`'s dict (shapes checked)."""
        missing = [k for k in PARAM_NAMES if k not in params]
        if missing:
            raise ValueError(f"params is missing {missing} (give every key of get_params())")
        M = np.shape(params["ar_covs"])[-1]
        if np.shape(params["loadings"])[1] != M:
            raise ValueError("params['loadings'] must have one column per latent dimension")
        for k in PARAM_NAMES:
            setattr(self, k, np.array(params[k], dtype=np.float64))
        self.latent_dim = int(M)

    # ------------------------------------------------------------------ the loop's protocol
    def local_params(self) -> dict:
        params = self.get_params()
        if self._temperature != 1.0:
            params["ar_covs"] = params["ar_covs"] * self._temperature
        return sweep.keypoint_local_params(params, self.num_lags, self.num_keypoints, self.num_dims)

    def global_step(self, stats: dict, rng: np.random.Generator) -> None:
        """``(beta, pi)``, ``(Ab, Q)``, then ``sigmasq`` (full stage, when resampled)."""
        hyper = {"alpha": self.prior.alpha, "kappa": self.prior.kappa, "gamma": self.prior.gamma}
        kp = dict(asdict(self.keypoint_prior))
        kp["resample_sigmasq"] = kp["resample_sigmasq"] and not self.ar_only
        new = sweep.keypoint_global_step(
            rng, stats, self.get_params(), hyper, self.ar_prior(), kp, self.num_dims
        )
        for k, v in new.items():
            setattr(self, k, v)

    # ------------------------------------------------------------------ data, start
    def prepare(self, keypoints, confidences=None) -> tuple[list, list]:
        """Recordings as the sweep reads them (:func:`.gibbs.keypoint_slds.pack_recording`)
        and their masks (every frame).

        Parameters
        ----------
        keypoints : array_like (T, K, D) or list of such
            NaN = missing.
        confidences : array_like (T, K), list of such, or None

        Raises
        ------
        ValueError
            Other K or D than the model's, too few frames, shapes.
        """
        Ys = _as_list(keypoints)
        confs = [None] * len(Ys) if confidences is None else _as_list(confidences)
        if len(confs) != len(Ys):
            raise ValueError(f"give one confidence array per recording ({len(Ys)})")
        kp = self.keypoint_prior
        sequences = [
            start.pack_recording(Y, c, kp.slope, kp.intercept, kp.conf_pseudocount)
            for Y, c in zip(Ys, confs)
        ]
        for n, d in enumerate(sequences):
            known = self.num_keypoints is not None
            if known and d.shape[1:] != (self.num_keypoints, self.num_dims + 2):
                raise ValueError(
                    f"keypoints[{n}] has {d.shape[1]} keypoints in {d.shape[2] - 2}-D; the model "
                    f"has {self.num_keypoints} in {self.num_dims}-D"
                )
            if d.shape[0] <= self.num_lags + 1:
                raise ValueError(f"keypoints[{n}] has {d.shape[0]} frames; need > num_lags + 1")
        return sequences, [np.ones(d.shape[0], dtype=bool) for d in sequences]

    @renamed_keywords(datas="sequences")
    def fit_pca(self, sequences, max_frames: int = 1_000_000) -> np.ndarray:
        """PCA of the aligned keypoints, whitening, ``loadings`` and ``offset``.

        Returns
        -------
        ndarray
            Fraction of variance explained by each PC.
        """
        K, D = sequences[0].shape[1], sequences[0].shape[2] - 2
        self.num_keypoints, self.num_dims = K, D
        th = self.keypoint_prior.conf_threshold
        flat = np.concatenate(
            [
                start.align_recording(Y, c, th, self.anterior, self.posterior)[0]
                for Y, _, c in (start.unpack_recording(d, D) for d in sequences)
            ]
        )
        self.loadings, self.offset, explained = start.fit_pca(flat, self.latent_dim, max_frames)
        self.latent_dim = self.loadings.shape[1]
        return explained

    @renamed_keywords(datas="sequences")
    def initialize(self, rng: np.random.Generator, sequences=None, method: str = "prior") -> None:
        """``(beta, pi)`` from the prior, ``(Ab, Q)`` from the prior (``method="prior"``,
        jax-moseq's ``init_params``) or from ethogram's k-means AR start on the starting latent
        poses of ``sequences`` (``"kmeans"``), ``sigmasq = 1``. The PCA comes first
        (:meth:`fit_pca`)."""
        if method not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {method!r}")
        p, M = self.prior, self.latent_dim
        self.S_0 = p.S_0_scale * np.eye(M)
        draw = init_hdp_transitions(rng, self.num_states, p.alpha, p.kappa, p.gamma)
        self.global_weights, self.transition_matrix = draw.global_weights, draw.transition_matrix
        if method == "prior":
            self.ar_weights, self.ar_covs = ar.prior_ar_params(
                rng, self.ar_prior(), self.num_states
            )
        else:
            desc = self.describe()
            xs = [
                sweep.initial_pose(self.loadings, self.offset, desc, Y, c)["latent"]
                for Y, _, c in (start.unpack_recording(d, self.num_dims) for d in sequences)
            ]
            shape = SimpleNamespace(num_states=self.num_states, data_dim=M, num_lags=self.num_lags)
            masks = [np.ones(len(x), dtype=bool) for x in xs]
            self.ar_weights, self.ar_covs = _kmeans_ar_params(shape, xs, masks, rng)
        self.sigmasq = np.ones(self.num_keypoints)

    # ------------------------------------------------------------------ fit, apply
    def fit(
        self,
        keypoints,
        confidences=None,
        *,
        num_ar_iters: int = 50,
        num_full_iters: int = 500,
        kappa_full: float | None = 1e4,
        init: str = "prior",
        seed=None,
        executor=None,
        num_threads=None,
        progress=None,
        marginals_from_last: int = 0,
    ) -> KeypointSLDSFit:
        """Fit as keypoint-moseq recommends: AR-only sweeps, then full-model sweeps.

        Parameters
        ----------
        keypoints, confidences
            As :meth:`prepare`.
        num_ar_iters : int, default 50
            AR-only sweeps after the start (keypoint-moseq: ``fit_model(ar_only=True,
            num_iters=50)``), at ``prior.kappa`` (1e6 by default).
        num_full_iters : int, default 500
            Full sweeps (keypoint-moseq's tutorial: 500 more), at ``kappa_full``.
        kappa_full : float or None, default 1e4
            keypoint-moseq's tutorial lowers kappa to 1e4 by hand; None keeps ``prior.kappa``.
        init : {"prior", "kmeans"}
            Starting ``(Ab, Q)`` (:meth:`initialize`): keypoint-moseq's prior draw, or
            ethogram's k-means AR start (escapes merged syllables in fewer sweeps).
        seed : int, Generator or None
        executor, num_threads : optional
            Where the per-recording steps run; the same bits on any.
        progress : bool or None
        marginals_from_last : int, default 0
            Average sampled syllables over the last this many full sweeps.

        Returns
        -------
        KeypointSLDSFit
        """
        sequences, masks = self.prepare(keypoints, confidences)
        self.fit_pca(sequences)
        if self.sigmasq_loc is None:
            Ys = [start.unpack_recording(d, self.num_dims)[0] for d in sequences]
            self.sigmasq_loc = estimate_sigmasq_loc(Ys, round(self.fps))
        kappa_ar = self.kappa
        self.ar_only = True
        common = {"executor": executor, "num_threads": num_threads, "progress": progress}
        run = run_gibbs(
            self,
            sequences,
            masks,
            GibbsSettings(num_iters=int(num_ar_iters)),
            seed=seed,
            initialize=lambda rng: self.initialize(rng, sequences, init),
            fingerprint_extra={"init": init},
            desc="AR-only",
            **common,
        )
        self.ar_only = False
        if kappa_full is not None:
            self.kappa = kappa_full
        total = int(num_ar_iters) + int(num_full_iters)
        settings = GibbsSettings(num_iters=total, marginals_from_last=int(marginals_from_last))
        if num_full_iters > 0:
            run = run_gibbs(
                self, sequences, masks, settings, start=run, desc="keypoint SLDS", **common
            )
        self.fit_kappas = (kappa_ar, self.kappa)
        return self.result(run, sequences)

    def apply(
        self,
        keypoints,
        confidences=None,
        *,
        num_iters: int = 50,
        seed=None,
        executor=None,
        num_threads=None,
        progress=None,
        marginals_from_last: int = 0,
        temper: float = APPLY_TEMPER,
    ) -> KeypointSLDSFit:
        """Label new recordings with the parameters fixed (keypoint-moseq's ``apply_model``).

        The recordings start as in :meth:`fit` (trained PCA; the latent pose is the keypoints'
        projection, tracking noise included), then ``num_iters`` states-only sweeps; the last
        sample is returned. Unlike keypoint-moseq, the first half of the sweeps multiply the AR
        noise covariances ``Q`` by a temperature falling from ``temper`` to 1
        (:func:`.gibbs.keypoint_start.apply_schedule`; their log joint is the tempered model's):
        untempered, the fitted small ``Q`` explains the projection's noise by short bouts of the
        noisiest syllables, often ones the fit never used, for hundreds of sweeps
        (docs/keypoint_slds.md, "apply").

        Parameters
        ----------
        keypoints, confidences
            As :meth:`prepare`.
        num_iters : int, default 50
        seed, executor, num_threads, progress
            As :meth:`fit`.
        marginals_from_last : int, default 0
            Count the sampled syllables of the last this many untempered sweeps.
        temper : float, default 100
            Starting temperature, >= 1; 1: keypoint-moseq's untempered sweeps.

        Raises
        ------
        ValueError
            Other keypoints than the model's, ``temper`` < 1, or ``marginals_from_last`` above
            the untempered sweeps (with the start when ``temper`` is 1).
        """
        stages, most = (
            start.apply_schedule(num_iters, temper),
            start.untempered_sweeps(num_iters, temper),
        )
        if marginals_from_last > most:
            raise ValueError(
                f"marginals_from_last ({marginals_from_last}) exceeds the {most} untempered sweeps"
            )
        sequences, masks = self.prepare(keypoints, confidences)
        common = {"executor": executor, "num_threads": num_threads, "progress": progress}
        was, self.ar_only, run = self.ar_only, False, None
        try:
            for last, temperature in stages:
                self._temperature = temperature
                n = marginals_from_last if temperature == 1.0 else 0
                settings = GibbsSettings(num_iters=last, states_only=True, marginals_from_last=n)
                run = run_gibbs(
                    self, sequences, masks, settings, seed=seed, start=run, desc="apply", **common
                )
        finally:
            self.ar_only, self._temperature = was, 1.0
        return self.result(run, sequences)

    @renamed_keywords(datas="sequences")
    def result(self, run: GibbsRun, sequences) -> KeypointSLDSFit:
        """The outputs of the run's last sample (:class:`KeypointSLDSFit`)."""
        L = self.num_lags
        keys = ("syllables", "latent", "centroid", "heading", "keypoints", "noise_variance")
        out = {k: [] for k in keys}
        for st in run.local_states:
            out["syllables"].append(ar.frame_syllables(st["syllables"], L))
            out["latent"].append(st["latent"])
            out["centroid"].append(st["centroid"])
            out["heading"].append(st["heading"])
            out["keypoints"].append(
                estimate_keypoints(
                    st["latent"], st["centroid"], st["heading"], self.loadings, self.offset
                )
            )
            out["noise_variance"].append(st["scales"] * self.sigmasq[None, :])
        log_joint = {k: np.asarray(v) for k, v in run.log_joint.items()}
        return KeypointSLDSFit(
            **out,
            sigmasq=self.sigmasq.copy(),
            log_joint=log_joint,
            marginals=run.marginals(),
            run=run,
        )
