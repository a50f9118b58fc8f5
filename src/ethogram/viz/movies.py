"""Movies of syllables: the public face of :mod:`~ethogram.viz.movie_render` (crowd, grid and
skeleton movies from arrays) and :mod:`~ethogram.viz.movie_files` (:func:`make_movies`, from a
results file to ``OUT/movies/``), so ``from ethogram.viz.movies import ...`` finds them all."""

from .movie_files import make_movies
from .movie_render import (
    crowd_movie,
    grid_movie,
    guess_skeleton,
    render_movies,
    skeleton_movie,
    tile_transform,
    tile_window,
)

__all__ = [
    "crowd_movie",
    "grid_movie",
    "skeleton_movie",
    "guess_skeleton",
    "tile_window",
    "tile_transform",
    "render_movies",
    "make_movies",
]
