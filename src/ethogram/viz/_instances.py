"""Syllable instances for the movies: where each syllable starts and stops, and a seeded sample.

An instance is ``(recording, start, stop)``: the frames ``start .. stop - 1`` of one recording
carry the syllable, with a different label (or a masked frame, -1) on either side. Sampling
is reproducible and independent per syllable (the generator is seeded with ``(seed,
syllable)``), so the movie of syllable 3 shows the same animals whether it is made alone or
with the 24 others, serially or in parallel (as keypoint-moseq's ``sample_instances`` with a
fixed seed, without its dependence on the other syllables).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._runs import label_runs
from ..errors import ArgumentError

__all__ = ["syllable_instances", "sample_instances", "parse_syllables"]


def syllable_instances(
    syllables: Mapping,
    *,
    pre: int = 0,
    post: int = 0,
    min_duration: int = 1,
    require_window: bool = True,
) -> dict[int, list[tuple[str, int, int]]]:
    """Every instance of every syllable.

    Parameters
    ----------
    syllables : mapping of str to array_like of int, shape (T,)
        Syllable labels per recording (-1 = no syllable; those runs are skipped).
    pre, post : int, default 0
        Frames wanted before the onset and after the end of each instance; with
        ``require_window`` an instance is kept only when ``start - pre >= 0`` and
        ``stop + post <= T``.
    min_duration : int, default 1
        Shortest instance kept, in frames.
    require_window : bool, default True

    Returns
    -------
    dict of int to list of (str, int, int)
        Syllable -> instances ``(recording, start, stop)`` in recording order, then time.
    """
    if not isinstance(syllables, Mapping):
        raise TypeError(
            "syllables must be a mapping of recording name to labels, "
            f"got {type(syllables).__name__}"
        )
    out: dict[int, list] = {}
    for name, labels in syllables.items():
        labels = np.asarray(labels)
        if labels.ndim != 1:
            raise ValueError(f"syllables[{name!r}] must be 1-D, got shape {labels.shape}")
        T = labels.size
        starts, stops, values = label_runs(labels)
        keep = (values >= 0) & (stops - starts >= int(min_duration))
        if require_window:
            keep &= (starts - int(pre) >= 0) & (stops + int(post) <= T)
        for a, b, v in zip(starts[keep], stops[keep], values[keep]):
            out.setdefault(int(v), []).append((name, int(a), int(b)))
    return out


def sample_instances(
    instances, num: int, seed: int = 0, syllable: int = 0
) -> list[tuple[str, int, int]]:
    """A reproducible sample of at most ``num`` instances, in time order.

    Parameters
    ----------
    instances : list of (str, int, int)
        Instances of one syllable.
    num : int
        How many to keep (all of them when there are fewer).
    seed : int, default 0
    syllable : int, default 0
        Mixed into the seed so that each syllable has its own stream.

    Returns
    -------
    list of (str, int, int)
    """
    if num < 1:
        raise ValueError(f"the number of instances must be at least 1, got {num}")
    instances = list(instances)
    if len(instances) <= num:
        return instances
    rng = np.random.default_rng([int(seed), int(syllable)])
    pick = np.sort(rng.choice(len(instances), size=int(num), replace=False))
    return [instances[i] for i in pick]


def parse_syllables(text: str, num_states: int | None = None) -> list[int]:
    """Parse a syllable selection such as ``"0-9"``, ``"1,4,7"`` or ``"0-3,8"``.

    Parameters
    ----------
    text : str
        Comma-separated integers and inclusive ranges ``a-b``; ``"all"`` for every syllable.
    num_states : int, optional
        Number of syllables of the model; selections beyond it are a ValueError.

    Returns
    -------
    list of int
        Sorted, without duplicates.
    """
    text = str(text).strip()
    if text.lower() == "all":
        if num_states is None:
            raise ArgumentError(
                "{syllables} all needs the number of syllables of the model", "syllables"
            )
        return list(range(int(num_states)))
    out = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            if "-" in part[1:]:
                a, b = part.split("-", 1) if not part.startswith("-") else (part, "")
                a, b = int(a), int(b)
                if b < a:
                    raise ValueError
                out.update(range(a, b + 1))
            else:
                out.add(int(part))
        except ValueError:
            raise ArgumentError(
                f"{{syllables}}: cannot read {part!r}; give a range like 0-9 or a list like 1,4,7",
                "syllables",
            ) from None
    if not out:
        raise ArgumentError(
            f"{{syllables}}: no syllable in {text!r}; give a range like 0-9 or a list like 1,4,7",
            "syllables",
        )
    if min(out) < 0:
        raise ArgumentError(
            f"{{syllables}}: syllables are numbered from 0, got {min(out)}", "syllables"
        )
    if num_states is not None and max(out) >= num_states:
        raise ArgumentError(
            f"{{syllables}}: the model has syllables 0-{num_states - 1}, got {max(out)}",
            "syllables",
        )
    return sorted(out)
