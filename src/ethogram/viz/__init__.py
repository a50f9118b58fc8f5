"""Seeing the syllables: plots (PNG), and the HTML report of a fit.

Every plot function takes plain NumPy arrays, draws with matplotlib on a headless
:class:`~matplotlib.figure.Figure` (or on axes you pass), optionally writes a PNG (``path=``)
and returns the figure; syllable ``k`` has the same colour everywhere
(:func:`syllable_colors`). :func:`ethogram.viz.report.write_report` turns a results file into
a folder with ``index.html``. Movies live in ``ethogram.viz.movies``. matplotlib, networkx
and Jinja2 are imported only when a function needs them, so importing this package is cheap.
"""

from ._common import NO_SYLLABLE_COLOR, save_figure, syllable_colors
from .dynamics import ar_vector_field, plot_ar_dynamics
from .plots import (
    plot_durations,
    plot_log_likelihood,
    plot_state_probabilities,
    plot_syllables_and_data,
    plot_usage,
    syllable_durations_seconds,
)
from .report import write_report
from .trajectories import plot_trajectories, plot_trajectory, skeleton_edges, syllable_trajectories
from .transitions import off_diagonal_probabilities, plot_transition_graph, plot_transition_matrix

__all__ = [
    "NO_SYLLABLE_COLOR",
    "save_figure",
    "syllable_colors",
    "ar_vector_field",
    "plot_ar_dynamics",
    "plot_durations",
    "plot_log_likelihood",
    "plot_state_probabilities",
    "plot_syllables_and_data",
    "plot_usage",
    "syllable_durations_seconds",
    "plot_trajectories",
    "write_report",
    "plot_trajectory",
    "skeleton_edges",
    "syllable_trajectories",
    "off_diagonal_probabilities",
    "plot_transition_graph",
    "plot_transition_matrix",
]
