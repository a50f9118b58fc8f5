"""Gibbs conditionals of MoSeq's models: the sticky HDP-ARHMM and keypoint-MoSeq's keypoint SLDS.

Pure functions, arrays in and arrays out, randomness from a ``numpy.random.Generator``:
the matrix-normal inverse-Wishart update of the AR dynamics (:mod:`.mniw`), the weak-limit
sticky HDP transitions (:mod:`.hdp`), the keypoint geometry and the heading, noise and centroid
conditionals (:mod:`.keypoints`), and the log joint group by group (:mod:`.log_joint`). The
latent pose and centroid samplers are in :mod:`ethogram.inference.kalman`. The sweep that
chains them (section 3 of ../shared/models/keypoint_moseq_model.md) belongs to ``fitting``.
"""

from .hdp import (
    HDPDraw,
    dirichlet_rows,
    init_hdp_transitions,
    override_tables,
    sample_global_weights,
    sample_hdp_transitions,
    sample_table_counts,
    sample_transition_matrix,
    transition_counts,
)
from .keypoints import (
    aligned_pose,
    centering_matrix,
    centroid_pseudo_observations,
    egocentric,
    estimate_keypoints,
    heading_concentrations,
    noise_prior_from_confidence,
    rotate,
    sample_heading,
    sample_noise_scales,
    sample_noise_variances,
    slds_emission,
    squared_errors,
)
from .log_joint import (
    ar_log_likes,
    log_joint_arhmm,
    log_joint_keypoint_slds,
    log_prob_centroid,
    log_prob_keypoints,
    log_prob_latents,
    log_prob_noise_scales,
    log_prob_syllables,
)
from .mniw import (
    ARStats,
    MNIWPosterior,
    ar_regression_stats,
    mniw_posterior,
    moseq_ar_prior,
    sample_ar_params,
    sample_invwishart,
    sample_matrix_normal,
)

__all__ = [
    "ARStats",
    "HDPDraw",
    "MNIWPosterior",
    "aligned_pose",
    "ar_log_likes",
    "ar_regression_stats",
    "centering_matrix",
    "centroid_pseudo_observations",
    "dirichlet_rows",
    "egocentric",
    "estimate_keypoints",
    "heading_concentrations",
    "init_hdp_transitions",
    "log_joint_arhmm",
    "log_joint_keypoint_slds",
    "log_prob_centroid",
    "log_prob_keypoints",
    "log_prob_latents",
    "log_prob_noise_scales",
    "log_prob_syllables",
    "mniw_posterior",
    "moseq_ar_prior",
    "noise_prior_from_confidence",
    "override_tables",
    "rotate",
    "sample_ar_params",
    "sample_global_weights",
    "sample_hdp_transitions",
    "sample_heading",
    "sample_invwishart",
    "sample_matrix_normal",
    "sample_noise_scales",
    "sample_noise_variances",
    "sample_table_counts",
    "sample_transition_matrix",
    "slds_emission",
    "squared_errors",
    "transition_counts",
]
